"""In-process figures: the recorded 40-turn session replayed through WSGI apps in this process.

Every side of a comparison runs through the same harness (:class:`wsgi_call.Caller`: a prepared
environ, the app called directly, the body read and closed) with the same request bodies, in
interleaved rounds (one whole session per side per round, the order alternating), after warm-up
rounds that are not kept. Responses are checked after each session, outside the clock: every
status must be 200, and where the app has no persistence the speech must be the live pass's.
"""

from __future__ import annotations

import cProfile
import io
import json
import logging
import os
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from workload import Recorded, SignedEnv, record_session, restamp, speech_of
from wsgi_call import Caller, environ_template

from skill import logs
from skill.webhook import WebhookConfig, create_app

RESTAMP_AFTER_S = 60.0
"""Re-stamp and re-sign bodies once their timestamp is this old (verification allows 150 s)."""


def bare_app() -> Flask:
    """The baseline: a Flask route that parses a JSON body and returns a small JSON body."""
    app = Flask("bare")

    @app.post("/alexa")
    def alexa() -> Response:
        envelope = json.loads(request.get_data())
        body = {"version": "1.0", "response": {"type": envelope["request"]["type"]}}
        return Response(json.dumps(body, separators=(",", ":")), mimetype="application/json")

    return app


def skill_app(environ: dict[str, str]) -> Flask:
    """The webhook as ``yoga-skill serve`` builds it: create_app(WebhookConfig.from_env(env))."""
    return create_app(WebhookConfig.from_env(environ))


@dataclass
class Side:
    name: str
    app: Any
    check_speech: bool = True
    """Compare each answer's speech with the live pass (not with persistence: the launch differs)."""


Prepared = tuple[list[dict[str, Any]], list[bytes]]


class Bodies:
    """The recorded bodies with their environs; signed and re-stamped as needed."""

    def __init__(self, recorded: Recorded, signer: SignedEnv | None = None) -> None:
        self.recorded = recorded
        self.signer = signer
        self.stamped_at = 0.0
        self.prepared: Prepared = ([], [])
        self.refresh()

    def refresh(self) -> None:
        if self.signer is None:
            bodies = list(self.recorded.bodies)
            templates = [environ_template(len(b)) for b in bodies]
        else:
            bodies = restamp(self.recorded.bodies, datetime.now(UTC))
            templates = [environ_template(len(b), self.signer.headers(b)) for b in bodies]
        self.stamped_at = time.monotonic()
        self.prepared = (templates, bodies)

    def get(self) -> Prepared:
        if self.signer is not None and time.monotonic() - self.stamped_at > RESTAMP_AFTER_S:
            self.refresh()
        return self.prepared


def run_rounds(
    sides: list[Side],
    bodies: Bodies,
    *,
    rounds: int,
    warmup: int,
    progress: Callable[[str], None] | None = None,
) -> dict[str, list[list[int]]]:
    """Per side, per turn index: the nanosecond samples of the timed rounds."""
    expected = bodies.recorded.speeches()
    samples: dict[str, list[list[int]]] = {s.name: [[] for _ in expected] for s in sides}
    callers = {s.name: Caller(s.app) for s in sides}
    for r in range(warmup + rounds):
        templates, request_bodies = bodies.get()
        order = sides if r % 2 == 0 else sides[::-1]
        for side in order:
            caller = callers[side.name]
            caller.statuses.clear()
            results = [caller.call(t, b) for t, b in zip(templates, request_bodies, strict=True)]
            bad = [s for s in caller.statuses if not s.startswith("200")]
            if bad or len(caller.statuses) != len(results):
                raise RuntimeError(f"{side.name}: non-200 answers {bad[:3]}: {results[0][1][:200]!r}")
            if side.check_speech and r in (0, warmup + rounds - 1):
                for i, (_, out) in enumerate(results):
                    got = speech_of(json.loads(out))
                    if got != expected[i]:
                        raise RuntimeError(f"{side.name} turn {i + 1}: speech differs: {got[:80]}")
            if r >= warmup:
                for i, (elapsed, _) in enumerate(results):
                    samples[side.name][i].append(elapsed)
        if progress and (r + 1) % 50 == 0:
            progress(f"  round {r + 1}/{warmup + rounds}")
    return samples


def flat(per_turn: list[list[int]]) -> list[int]:
    return [s for turn in per_turn for s in turn]


@dataclass
class Apps:
    """The apps the in-process figures compare, all built as production builds them."""

    bare: Flask
    skill: Flask
    verify_off: Flask
    verify_on: Flask
    sqlite: Flask
    production: Flask


def build_apps(tmp: Path, signed: SignedEnv) -> Apps:
    none = {"YOGA_VERIFY": "off", "YOGA_PERSISTENCE": "none"}
    signed_none = {**signed.env, "YOGA_PERSISTENCE": "none"}
    sqlite = {"YOGA_PERSISTENCE": "sqlite", "YOGA_DB": str(tmp / "inprocess.sqlite3")}
    return Apps(
        bare=bare_app(),
        skill=skill_app(none),
        # (b): the same configuration but for verification; YOGA_SKILL_ID is set on both, so
        # "off" still checks the application id, as production with YOGA_VERIFY=off would.
        verify_off=skill_app({**signed_none, "YOGA_VERIFY": "off"}),
        verify_on=skill_app(signed_none),
        sqlite=skill_app({**none, **sqlite}),
        production=skill_app(
            {**signed.env, "YOGA_PERSISTENCE": "sqlite", "YOGA_DB": str(tmp / "prod.sqlite3")}
        ),
    )


def record(apps: Apps) -> Recorded:
    """The one live pass, through the skill app with no persistence and no verification."""
    return record_session(apps.skill)


class production_logging:  # noqa: N801 (a context manager used like a function)
    """The server's logging (skill.logs.configure: JSON lines at INFO), written to /dev/null."""

    def __enter__(self) -> None:
        root = logging.getLogger()
        self.saved = (root.handlers[:], root.level)
        logs.configure()
        self.devnull = open(os.devnull, "w")  # noqa: SIM115
        for handler in root.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(self.devnull)

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.handlers[:], level = self.saved
        root.setLevel(level)
        self.devnull.close()


def profile_session(app: Any, bodies: Bodies, rounds: int, top: int = 25) -> str:
    """cProfile of ``rounds`` replays of the session through ``app``: top functions by tottime
    and by cumulative time. Not used for any timed figure."""
    caller = Caller(app)
    templates, request_bodies = bodies.get()
    for t, b in zip(templates, request_bodies, strict=True):  # warm
        caller.call(t, b)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        templates, request_bodies = bodies.get()
        for t, b in zip(templates, request_bodies, strict=True):
            caller.call(t, b)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    turns = rounds * len(request_bodies)
    out.write(f"{turns} turns profiled\n")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()
