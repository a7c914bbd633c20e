"""Cold start: wall time from ``subprocess.Popen`` of a Python process to its first answer.

Each variant is a fresh interpreter that imports what it needs, builds its app, answers one
LaunchRequest through the app's WSGI callable and prints a line; the clock runs in this process,
from just before Popen to the moment that line is read. Variants are interleaved, in a rotating
order, after one untimed warm-up run each (so bytecode caches exist, as they would on a server).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter_ns

from workload import SignedEnv, restamp

from skill.local.envelopes import Session

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


@dataclass
class Variant:
    name: str
    argv: list[str]
    env: dict[str, str]
    expect: str
    prepare: Callable[[], None] | None = None


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without YOGA_*/ALEXA_* settings, and allowed to write bytecode caches
    (PYTHONDONTWRITEBYTECODE would make every run compile the skill's modules afresh, which a
    deployed server or a warm Lambda image does not do; the untimed warm-up run writes them)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("YOGA_", "ALEXA_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(extra)
    return env


def variants(tmp: Path, signed: SignedEnv) -> list[Variant]:
    launch = tmp / "launch.json"
    session = Session(skill_id=signed.env["YOGA_SKILL_ID"])
    launch_body = json.dumps(session.launch()).encode()
    launch.write_bytes(launch_body)
    signed_launch = tmp / "signed-launch.json"

    def sign_fresh() -> None:
        body = restamp([launch_body], datetime.now(UTC))[0]
        signed_launch.write_bytes(body)
        headers_file = signed_launch.with_name(signed_launch.name + ".headers.json")
        headers_file.write_text(json.dumps(signed.headers(body)))

    python = sys.executable
    return [
        Variant(
            "skill",
            [python, str(BENCH / "cold_skill.py"), str(launch)],
            _clean_env(YOGA_VERIFY="off", YOGA_PERSISTENCE="none"),
            "answered 200",
        ),
        Variant(
            "hello",
            [python, str(BENCH / "hello_skill.py"), str(launch)],
            _clean_env(),
            "answered 200",
        ),
        Variant(
            "skill_production",
            [python, str(BENCH / "cold_skill.py"), str(signed_launch)],
            _clean_env(**signed.env, YOGA_PERSISTENCE="sqlite", YOGA_DB=str(tmp / "cold.sqlite3")),
            "answered 200",
            prepare=sign_fresh,
        ),
        Variant("python", [python, "-c", "print('answered')"], _clean_env(), "answered"),
    ]


def run_once(variant: Variant) -> int:
    if variant.prepare is not None:
        variant.prepare()
    t0 = perf_counter_ns()
    proc = subprocess.Popen(variant.argv, stdout=subprocess.PIPE, env=variant.env, cwd=REPO)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    t1 = perf_counter_ns()
    proc.stdout.close()
    code = proc.wait(timeout=60)
    if code != 0 or not line.decode().startswith(variant.expect):
        raise RuntimeError(f"cold start {variant.name} failed ({code}): {line!r}")
    return t1 - t0


def measure(tmp: Path, signed: SignedEnv, reps: int) -> dict[str, list[int]]:
    chosen = variants(tmp, signed)
    for variant in chosen:  # warm-up: bytecode caches, page cache
        run_once(variant)
    out: dict[str, list[int]] = {v.name: [] for v in chosen}
    for rep in range(reps):
        shift = rep % len(chosen)
        for variant in chosen[shift:] + chosen[:shift]:
            out[variant.name].append(run_once(variant))
    return out
