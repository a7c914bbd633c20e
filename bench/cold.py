"""Cold starts: a fresh Python process from ``subprocess.Popen`` to its first answer.

Each variant is a fresh interpreter that imports what it needs, builds its app (or, for a Lambda
handler, is called once and builds its skill), answers one LaunchRequest and prints a line with
its own CPU time at that moment (``time.process_time_ns``: interpreter start-up included). Two
figures per run: the wall time, from just before Popen to the moment that line is read in this
process, and the child's CPU time. On a shared machine the wall time also counts the time the
child waited for a core; the CPU time does not, so verdicts go by CPU time and both are shown.

Variants are interleaved, in a rotating order, after one untimed warm-up run each (so bytecode
caches and the skill's data file caches exist, as they would on a server or a built Lambda).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter_ns
from typing import Any

from workload import SignedEnv, restamp

from skill.local.envelopes import Session

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

LAMBDA_AUDIO_BASE_URL = "https://d111111abcdef8.cloudfront.net/audio"
"""The function's YOGA_AUDIO_BASE_URL (template.yaml sets the CloudFront address)."""
DYNAMODB_TABLE = "bench-progress"


@dataclass
class Variant:
    name: str
    argv: list[str]
    env: dict[str, str]
    expect: str
    prepare: Callable[[], None] | None = None


@dataclass
class Run:
    wall_ns: int
    cpu_ns: int


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without YOGA_*/ALEXA_*/AWS_* settings, and allowed to write bytecode
    caches (PYTHONDONTWRITEBYTECODE would make every run compile the skill's modules afresh,
    which a deployed server does not do; the untimed warm-up run writes them)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("YOGA_", "ALEXA_", "AWS_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(extra)
    return env


def variants(tmp: Path, signed: SignedEnv, dynamodb: dict[str, str] | None = None) -> list[Variant]:
    """The cold starts: the webhook configured as the hello world is (no store, no verification:
    the like-for-like figure, as issue 10 took it) and ask-sdk's hello world on Flask; the webhook
    as production runs it (verification, SQLite); the Lambda handler of template.yaml and
    ask-sdk's hello-world Lambda; with ``dynamodb`` (the environment of a DynamoDB on loopback)
    the Lambda as template.yaml configures it; and ``python -c print()``."""
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
    lambda_env = {
        "YOGA_SKILL_ID": signed.env["YOGA_SKILL_ID"],
        "YOGA_AUDIO_BASE_URL": LAMBDA_AUDIO_BASE_URL,
    }
    chosen = [
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
        Variant(
            "lambda",
            [python, str(BENCH / "cold_lambda.py"), str(launch)],
            _clean_env(**lambda_env, YOGA_PERSISTENCE="none"),
            "answered",
        ),
        Variant(
            "hello_lambda",
            [python, str(BENCH / "hello_lambda.py"), str(launch)],
            _clean_env(),
            "answered",
        ),
    ]
    if dynamodb is not None:
        chosen.append(
            Variant(
                "lambda_dynamodb",
                [python, str(BENCH / "cold_lambda.py"), str(launch)],
                _clean_env(
                    **lambda_env,
                    **dynamodb,
                    YOGA_PERSISTENCE="dynamodb",
                    YOGA_DYNAMODB_TABLE=DYNAMODB_TABLE,
                ),
                "answered",
            )
        )
    chosen.append(
        Variant(
            "python",
            [python, "-c", "import time; print(f'answered cpu={time.process_time_ns()}')"],
            _clean_env(),
            "answered",
        )
    )
    return chosen


def run_once(variant: Variant) -> Run:
    if variant.prepare is not None:
        variant.prepare()
    t0 = perf_counter_ns()
    proc = subprocess.Popen(variant.argv, stdout=subprocess.PIPE, env=variant.env, cwd=REPO)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    t1 = perf_counter_ns()
    proc.stdout.close()
    code = proc.wait(timeout=60)
    text = line.decode()
    if code != 0 or not text.startswith(variant.expect):
        raise RuntimeError(f"cold start {variant.name} failed ({code}): {line!r}")
    cpu = next(int(word[4:]) for word in text.split() if word.startswith("cpu="))
    return Run(wall_ns=t1 - t0, cpu_ns=cpu)


def measure(
    tmp: Path, signed: SignedEnv, reps: int, dynamodb: dict[str, str] | None = None
) -> dict[str, list[Run]]:
    chosen = variants(tmp, signed, dynamodb)
    for variant in chosen:  # warm-up: bytecode caches, data file caches, page cache
        run_once(variant)
    out: dict[str, list[Run]] = {v.name: [] for v in chosen}
    for rep in range(reps):
        shift = rep % len(chosen)
        for variant in chosen[shift:] + chosen[:shift]:
            out[variant.name].append(run_once(variant))
    return out


@contextlib.contextmanager
def local_dynamodb(tmp: Path) -> Iterator[dict[str, str] | None]:
    """A DynamoDB on loopback (moto's server, from the dev dependencies) with the progress table,
    and the environment that points boto3 at it; None where moto is not installed."""
    tests_dir = str(REPO / "tests")
    if tests_dir not in sys.path:
        sys.path.insert(0, tests_dir)
    try:
        import boto3
        from moto_server import aws_test_env, running_moto_server
    except ImportError:
        yield None
        return
    with running_moto_server() as endpoint:
        env = {**aws_test_env(tmp), "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
        client: Any = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        client.create_table(
            TableName=DYNAMODB_TABLE,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.close()
        yield env


def import_profiles(tmp: Path, signed: SignedEnv, threshold_ms: float = 2.0) -> str:
    """``python -X importtime`` of each cold start (one run each): every import that took at
    least ``threshold_ms`` with what it imported, as a tree. Wall time on this machine, so only
    the shape is to be trusted; the cold-start figures themselves are medians of many runs."""
    out = []
    for variant in variants(tmp, signed):
        if variant.name == "python":
            continue
        if variant.prepare is not None:
            variant.prepare()
        argv = [variant.argv[0], "-X", "importtime", *variant.argv[1:]]
        result = subprocess.run(
            argv, env=variant.env, cwd=REPO, capture_output=True, text=True, timeout=60
        )
        rows = []
        for line in result.stderr.splitlines():
            head, _, name = line.rpartition("|")
            if not line.startswith("import time:") or not name.strip() or "self" in head:
                continue
            self_us, cumulative_us = (int(x) for x in head[len("import time:") :].split("|"))
            depth = (len(name) - len(name.lstrip())) // 2
            rows.append((depth, self_us, cumulative_us, name.strip()))
        total = sum(row[1] for row in rows)
        out.append(f"== {variant.name}: {len(rows)} modules, {total / 1000:.1f} ms importing")
        out.append("cumulative ms  self ms  module")
        for depth, self_us, cumulative_us, name in rows:
            if cumulative_us >= threshold_ms * 1000:
                out.append(
                    f"{cumulative_us / 1000:13.1f} {self_us / 1000:8.1f}  {'  ' * depth}{name}"
                )
        out.append("")
    return "\n".join(out)


INSTRUCTION_VARIANTS = ("skill", "hello", "lambda", "hello_lambda", "skill_production")
"""The cold starts also counted in instructions (the targets' four, and production's)."""


def instructions(
    tmp: Path, signed: SignedEnv, names: tuple[str, ...] = INSTRUCTION_VARIANTS
) -> dict[str, int] | None:
    """Instructions each cold start executes in user space, counted by valgrind's callgrind (one
    run each, after the timed runs: bytecode and data caches exist). Unlike any clock on a
    shared machine this does not move with the load, so the cold-start verdicts go by it.
    None where valgrind is not installed."""
    import shutil

    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    out: dict[str, int] = {}
    for variant in variants(tmp, signed):
        if variant.name not in names:
            continue
        if variant.prepare is not None:
            variant.prepare()
        result = subprocess.run(
            [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *variant.argv],
            env={**variant.env, "PYTHONHASHSEED": "0"},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        counted = [line for line in result.stderr.splitlines() if "Collected :" in line]
        if result.returncode != 0 or not counted or not result.stdout.startswith(variant.expect):
            raise RuntimeError(f"callgrind run of {variant.name} failed: {result.stderr[-500:]}")
        out[variant.name] = int(counted[-1].rsplit(":", 1)[1])
    return out


def main(argv: list[str] | None = None) -> int:
    """``python bench/cold.py [VARIANT ...]``: the instructions of the named cold starts (default
    ``lambda hello_lambda``) and each one's ratio to its baseline, without the rest of the bench:
    one figure to re-measure while working on it."""
    import argparse
    import tempfile

    from workload import make_signed_env

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("names", nargs="*", metavar="VARIANT", help=", ".join(INSTRUCTION_VARIANTS))
    names = tuple(parser.parse_args(argv).names) or ("lambda", "hello_lambda")
    if unknown := set(names) - set(INSTRUCTION_VARIANTS):
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    baseline = {"skill": "hello", "skill_production": "hello", "lambda": "hello_lambda"}
    with tempfile.TemporaryDirectory(prefix="yoga-cold-") as tmp_name:
        tmp = Path(tmp_name)
        signed = make_signed_env(tmp)
        for variant in variants(tmp, signed):  # warm-up: bytecode and data file caches
            if variant.name in names:
                run_once(variant)
        counted = instructions(tmp, signed, names)
    if counted is None:
        print("valgrind is not installed", file=sys.stderr)
        return 1
    for name, count in counted.items():
        base = baseline.get(name)
        ratio = f"  {count / counted[base]:.3f}x {base}" if base in counted else ""
        print(f"{name:18} {count / 1e6:8.1f} M instructions{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
