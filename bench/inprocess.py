"""In-process figures: the recorded 40-turn session replayed through WSGI apps in this process.

Every side of a comparison runs through the same harness (:class:`wsgi_call.Caller`: a prepared
environ, the app called directly, the body read and closed) with the same request bodies, in
interleaved rounds (one whole session per side per round, the order rotating), after warm-up
rounds that are not kept. Each request is timed twice: wall time, and the thread's CPU time
(which leaves out waiting for a core on a shared machine). Responses are checked after each
session, outside the clock: every status must be 200, and where the app has no persistence the
speech must be the live pass's.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import json
import logging
import os
import pstats
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hello_skill
from flask import Flask, Response, request
from workload import Recorded, SignedEnv, record_session, restamp, speech_of
from wsgi_call import Caller, environ_template

from skill.settings import Settings
from skill.web import logs
from skill.web.webhook import create_app

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
    """The webhook as ``yoga-skill serve`` builds it: create_app(Settings.from_env(env))."""
    return create_app(Settings.from_env(environ))


@dataclass
class Side:
    name: str
    app: Any
    check_speech: bool = True
    """Compare each answer's speech with the live pass (not with persistence: launch differs)."""


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


@dataclass
class Rounds:
    """Per side, per turn index: the nanosecond samples of the timed rounds."""

    wall: dict[str, list[list[int]]]
    cpu: dict[str, list[list[int]]]

    def __getitem__(self, side: str) -> list[list[int]]:
        return self.wall[side]


def run_rounds(
    sides: list[Side],
    bodies: Bodies,
    *,
    rounds: int,
    warmup: int,
    progress: Callable[[str], None] | None = None,
) -> Rounds:
    """Every side replays the session once a round, in an order that rotates each round."""
    expected = bodies.recorded.speeches()
    samples = Rounds(
        wall={s.name: [[] for _ in expected] for s in sides},
        cpu={s.name: [[] for _ in expected] for s in sides},
    )
    callers = {s.name: Caller(s.app) for s in sides}
    for r in range(warmup + rounds):
        templates, request_bodies = bodies.get()
        shift = r % len(sides)
        order = sides[shift:] + sides[:shift]
        if (r // len(sides)) % 2:
            order.reverse()
        for side in order:
            caller = callers[side.name]
            caller.statuses.clear()
            results = []
            cpu = []
            for t, b in zip(templates, request_bodies, strict=True):
                results.append(caller.call(t, b))
                cpu.append(caller.last_cpu_ns)
            bad = [s for s in caller.statuses if not s.startswith("200")]
            if bad or len(caller.statuses) != len(results):
                raise RuntimeError(
                    f"{side.name}: non-200 answers {bad[:3]}: {results[0][1][:200]!r}"
                )
            if side.check_speech and r in (0, warmup + rounds - 1):
                for i, (_, out) in enumerate(results):
                    got = speech_of(json.loads(out))
                    if got != expected[i]:
                        raise RuntimeError(f"{side.name} turn {i + 1}: speech differs: {got[:80]}")
            if r >= warmup:
                for i, (elapsed, _) in enumerate(results):
                    samples.wall[side.name][i].append(elapsed)
                    samples.cpu[side.name][i].append(cpu[i])
        if progress and (r + 1) % 50 == 0:
            progress(f"  round {r + 1}/{warmup + rounds}")
    return samples


def flat(per_turn: list[list[int]]) -> list[int]:
    return [s for turn in per_turn for s in turn]


@dataclass
class Apps:
    """The apps the in-process figures compare, all built as production builds them."""

    bare: Flask
    hello: Flask
    """ask-sdk's hello world (bench/hello_world.py) on the same Flask (bench/hello_skill.py)."""
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
        hello=hello_skill.build_app(),
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


class production_logging:
    """The server's logging (skill.web.logs.configure: JSON lines at INFO), written to /dev/null."""

    def __enter__(self) -> None:
        root = logging.getLogger()
        self.saved = (root.handlers[:], root.level)
        logs.configure()
        self.devnull = open(os.devnull, "w")
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


# ---------------------------------------------------------------------- where the time goes


class Stages:
    """Wraps functions and methods to add up the time spent in them (and how often they ran)."""

    def __init__(self) -> None:
        self.total_ns: dict[str, int] = {}
        self.calls: dict[str, int] = {}
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        self.total_ns.setdefault(label, 0)
        self.calls.setdefault(label, 0)
        original = getattr(owner, attr, None)
        if original is None:  # renamed since: the stage reads 0 rather than stopping the bench
            return
        own = attr in vars(owner)
        total, calls = self.total_ns, self.calls

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter_ns()
            try:
                return original(*args, **kwargs)
            finally:
                total[label] += time.perf_counter_ns() - t0
                calls[label] += 1

        setattr(owner, attr, timed)
        if own:
            self._undo.append(lambda: setattr(owner, attr, original))
        else:
            self._undo.append(lambda: delattr(owner, attr))

    def undo(self) -> None:
        for step in reversed(self._undo):
            step()
        self._undo.clear()


def breakdown(app: Flask, bodies: Bodies, rounds: int) -> list[dict[str, Any]]:
    """Mean time per turn in each stage of the webhook's request path, with every stage
    instrumented (so the means add up; the wrappers cost well under a microsecond each).

    ``rest`` rows are what is left of their parent: for the webhook, Flask's request handling,
    JSON parsing and encoding, the summary for the access log.
    """
    import ask_sdk_core.attributes_manager as attributes_manager

    import skill.alexa.dispatch as dispatch_module
    import skill.alexa.habits as habits
    import skill.alexa.handlers as handlers
    import skill.alexa.persistence as persistence
    import skill.alexa.progress as progress
    import skill.alexa.screens as screens
    import skill.web.verification as verification
    import skill.web.webhook as webhook

    stages = Stages()
    skill = app.extensions["yoga_skill"]
    # The webhook's own JSON work: its module's ``orjson`` seen through a timing namespace.
    saved_json = webhook.orjson
    timed_json = types.SimpleNamespace(
        loads=saved_json.loads, dumps=saved_json.dumps, JSONDecodeError=saved_json.JSONDecodeError
    )
    webhook.orjson = timed_json  # type: ignore[assignment]
    stages._undo.append(lambda: setattr(webhook, "orjson", saved_json))
    plan = [
        (timed_json, "loads", "json_loads"),
        (webhook, "_json", "response"),
        (webhook, "_summary", "summary"),
        (webhook, "dispatch", "dispatch"),
        (dispatch_module, "parse_envelope", "parse"),
        (skill, "invoke", "invoke"),
        (attributes_manager.AttributesManager, "__init__", "attributes"),
        (progress.Progress, "load", "load"),
        (handlers.SkillContext, "respond", "respond"),
        (progress.Progress, "save", "save"),
        (screens.Screens, "show", "screens"),
        (habits.Habits, "after_turn", "habits"),
        (persistence.SqliteAdapter, "get_attributes", "sqlite_get"),
        (persistence.SqliteAdapter, "save_attributes", "sqlite_save"),
        (verification.RequestVerifier, "verify", "verify"),
        (verification, "_check_signature", "signature"),
        (verification, "validate_cert_url", "cert_url"),
        (verification.CertificateStore, "signing_certificate", "chain"),
        (verification, "verify_timestamp", "timestamp"),
        (webhook.access_log, "info", "access_log"),
    ]
    caller = Caller(app)
    totals: list[int] = []
    try:
        for owner, attr, label in plan:
            stages.wrap(owner, attr, label)
        for r in range(rounds + 2):
            templates, request_bodies = bodies.get()
            for t, b in zip(templates, request_bodies, strict=True):
                elapsed, _ = caller.call(t, b)
                if r >= 2:
                    totals.append(elapsed)
                else:  # warm-up: not counted
                    for key in stages.total_ns:
                        stages.total_ns[key] = 0
                        stages.calls[key] = 0
    finally:
        stages.undo()
    turns = len(totals)
    us = {k: v / turns / 1000 for k, v in stages.total_ns.items()}
    total = sum(totals) / turns / 1000
    rows = [
        ("WSGI call, total", total, 0),
        ("verification (RequestVerifier.verify)", us["verify"], 1),
        ("signature: base64 + RSA PKCS#1 v1.5 SHA-256", us["signature"], 2),
        ("certificate URL checks (all calls)", us["cert_url"], 2),
        ("cached chain lookup (incl. one URL check)", us["chain"], 2),
        ("timestamp", us["timestamp"], 2),
        ("dispatch (skill.alexa.dispatch.dispatch)", us["dispatch"], 1),
        ("parse envelope (PlannedSerializer.from_data)", us["parse"], 2),
        ("CustomSkill.invoke", us["invoke"], 2),
        ("AttributesManager() (deep-copies session attributes)", us["attributes"], 3),
        ("Progress.load (the session's state, else the saved progress)", us["load"], 3),
        ("SkillContext.respond (narration, SSML, progress, screen or card)", us["respond"], 3),
        ("Progress.save (read the record, keep its history, write)", us["save"], 4),
        ("SqliteAdapter.get_attributes (all reads)", us["sqlite_get"], 5),
        ("SqliteAdapter.save_attributes", us["sqlite_save"], 5),
        ("Screens.show (the card, or the APL document)", us["screens"], 4),
        ("Habits.after_turn (history, streaks)", us["habits"], 4),
        (
            "rest of invoke: SDK handler chain, response builder",
            us["invoke"] - us["attributes"] - us["load"] - us["respond"],
            3,
        ),
        ("serialize response + rest", us["dispatch"] - us["parse"] - us["invoke"], 2),
        ("json.loads of the request body", us["json_loads"], 1),
        ("response: orjson.dumps + flask.Response (webhook._json)", us["response"], 1),
        ("access log summary (webhook._summary)", us["summary"], 1),
        ("access log record (JSON line)", us["access_log"], 1),
        (
            "rest: Flask and Werkzeug request handling, hooks, the view's own code",
            total
            - us["verify"]
            - us["dispatch"]
            - us["json_loads"]
            - us["response"]
            - us["summary"]
            - us["access_log"],
            1,
        ),
    ]
    return [
        {"stage": name, "mean_us": value, "depth": depth, "share": value / total}
        for name, value, depth in rows
        if depth == 0 or value >= 0.05
    ]


def history_entries(db_path: Path) -> int:
    """How many finished sessions the runner's saved record holds (its history): the record
    every save reads and writes, which grows with the runner's sessions (at most 100)."""
    import sqlite3

    if not db_path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute("SELECT attributes FROM progress").fetchall()
    return max((len(json.loads(text).get("history") or []) for (text,) in rows), default=0)
