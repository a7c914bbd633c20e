"""``make bench``: every performance figure of the skill, measured in one run on this machine.

    .venv/bin/python bench/run.py [--quick] [--skip-server] [--skip-cold] [--no-profile]
                                  [--no-valgrind]

Prints the machine, then a table (each figure with its baseline, target and PASS/MISS), and
writes bench/results/latest.md (the table), latest.json (the numbers), samples.json (every
in-process sample), latency.png (latency distributions), profile.txt (cProfile of the per-turn
path) and imports.txt (``-X importtime`` of both cold starts). Figures, the baselines being
ask-sdk's own hello world (bench/hello_world.py, Amazon's sample) on the same Flask and as a
Lambda:

a. per turn, progress on (SQLite): the skill vs the hello world on the same Flask, in-process,
   the same 40 request bodies (target: ratio <= 1.0; a bare Flask JSON route beside them)
b. request verification on vs off (target: ratio <= 1.10)
c. cold start to the first answer: the webhook vs the hello world on Flask (target: <= 1.2x);
   the webhook as production runs it (verification on), reported
l. cold start of the Lambda handler template.yaml names, imported fresh answering one launch,
   vs ask-sdk's hello-world Lambda (target: <= 1.2x); with DynamoDB (moto on loopback), reported
d. the production server under 1, 8 and 32 clients: p50 and p99 (target at 32: p99 < 50 ms,
   no errors)
e. peak resident memory per gunicorn worker (target: < 80 MB)
f. the cost per turn of SQLite persistence (reported)
g. the production path in-process (reported)

Per-turn verdicts compare medians of CPU time (the thread's, per request, over thousands of
interleaved requests); cold-start verdicts compare instructions counted by valgrind (callgrind),
or without valgrind the fastest of the CPU times: on a shared machine every clock moves with the
load (wall time counts waiting for a core, CPU time slows when a core's other thread is busy).
Medians of CPU and wall time are shown beside them. Nothing is timed inside a test; request
bodies are built before the clock starts; warm-up rounds are not kept.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"

TARGETS = {
    "a_ratio": 1.0,
    "b_ratio": 1.10,
    "c_ratio": 1.2,
    "l_ratio": 1.2,
    "d_p99_ms": 50,
    "e_mb": 80,
}

SERVER_USERS = 8
"""Distinct runners in the server's request mix (each the recorded session's 40 turns)."""
SERVER_LEVELS = ((1, 2000), (8, 6000), (32, 20000))
SERVER_WARMUP = 400
SIGNATURE_WINDOW_S = 150


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the samples (try-out)")
    parser.add_argument("--skip-server", action="store_true", help="no d and e")
    parser.add_argument("--skip-cold", action="store_true", help="no c")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--no-valgrind", action="store_true", help="no instruction counts (cold starts by CPU time)"
    )
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="d's load generator: wrk if installed (auto), or bench/loadclient.py",
    )
    args = parser.parse_args(argv)
    scale = 0.2 if args.quick else 1.0

    import inprocess
    import report
    from stats import machine, summary_ms
    from workload import TURNS, make_signed_env

    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "machine": machine(),
        "targets": TARGETS,
        "notes": [],
    }
    m = results["machine"]
    print(f"post-run-yoga bench, {results['date']}")
    print(f"CPU: {m['cpu']}, {m['cores']} cores ({m['cores_usable']} usable)")
    print(f"Python {m['python']} ({m['implementation']}), {m['platform']}")
    print(", ".join(f"{k} {v}" for k, v in m["versions"].items()), flush=True)

    samples_out: dict[str, list[float]] = {}
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="yoga-bench-") as tmp_name:
        tmp = Path(tmp_name)
        signed = make_signed_env(tmp)
        apps = inprocess.build_apps(tmp, signed)
        recorded = inprocess.record(apps)
        plain = inprocess.Bodies(recorded)
        signed_bodies = inprocess.Bodies(recorded, signed)
        Side = inprocess.Side

        # a. the skill with progress on (SQLite) vs ask-sdk's hello world, both on Flask
        rounds = max(20, int(250 * scale))
        log(f"a. skill (SQLite) vs hello world vs bare Flask: {rounds} sessions each, interleaved")
        a = inprocess.run_rounds(
            [
                Side("skill", apps.sqlite, check_speech=False),  # a saved launch differs
                Side("hello", apps.hello, check_speech=False),
                Side("bare", apps.bare, check_speech=False),
            ],
            plain,
            rounds=rounds,
            warmup=10,
            progress=log,
        )
        a_out: dict[str, Any] = {"samples_per_side": len(inprocess.flat(a["skill"]))}
        for side in ("skill", "hello", "bare"):
            a_out[side] = summary_ms(inprocess.flat(a.wall[side]))
            a_out[side + "_cpu"] = summary_ms(inprocess.flat(a.cpu[side]))
        a_out["ratio"] = a_out["skill_cpu"]["median_ms"] / a_out["hello_cpu"]["median_ms"]
        a_out["wall_ratio"] = a_out["skill"]["median_ms"] / a_out["hello"]["median_ms"]
        a_out["hello_to_bare"] = a_out["hello_cpu"]["median_ms"] / a_out["bare_cpu"]["median_ms"]
        a_out["history_entries"] = inprocess.history_entries(tmp / "inprocess.sqlite3")
        a_out["per_turn"] = [
            {"turn": i + 1, "said": TURNS[i][0], **summary_ms(turn)}
            for i, turn in enumerate(a.cpu["skill"])
        ]
        results["a"] = a_out

        # b. verification on vs off
        log(f"b. verification on vs off: {rounds} sessions each, interleaved")
        b = inprocess.run_rounds(
            [Side("on", apps.verify_on), Side("off", apps.verify_off)],
            signed_bodies,
            rounds=rounds,
            warmup=10,
            progress=log,
        )
        on_s, off_s = summary_ms(inprocess.flat(b["on"])), summary_ms(inprocess.flat(b["off"]))
        on_c, off_c = (
            summary_ms(inprocess.flat(b.cpu["on"])),
            summary_ms(inprocess.flat(b.cpu["off"])),
        )
        results["b"] = {
            "on": on_s,
            "off": off_s,
            "on_cpu": on_c,
            "off_cpu": off_c,
            "ratio": on_c["median_ms"] / off_c["median_ms"],
            "wall_ratio": on_s["median_ms"] / off_s["median_ms"],
            "added_ms": on_c["median_ms"] - off_c["median_ms"],
        }

        # f. SQLite persistence vs none
        f_rounds = max(20, int(200 * scale))
        log(f"f. SQLite vs no persistence: {f_rounds} sessions each, interleaved")
        f = inprocess.run_rounds(
            [Side("sqlite", apps.sqlite, check_speech=False), Side("none", apps.skill)],
            plain,
            rounds=f_rounds,
            warmup=10,
            progress=log,
        )
        sq_c, none_c = (
            summary_ms(inprocess.flat(f.cpu["sqlite"])),
            summary_ms(inprocess.flat(f.cpu["none"])),
        )
        results["f"] = {
            "sqlite": sq_c,
            "none": none_c,
            "sqlite_wall": summary_ms(inprocess.flat(f["sqlite"])),
            "none_wall": summary_ms(inprocess.flat(f["none"])),
            "added_ms": sq_c["median_ms"] - none_c["median_ms"],
            "ratio": sq_c["median_ms"] / none_c["median_ms"],
            "history_entries": inprocess.history_entries(tmp / "inprocess.sqlite3"),
            "db_dir_note": f"SQLite file under {tmp} (WAL, synchronous=NORMAL)",
        }

        # g. the whole production path in-process, with the server's JSON logging to /dev/null
        g_rounds = max(20, int(150 * scale))
        log(f"g. production path in-process: {g_rounds} sessions")
        with inprocess.production_logging():
            g = inprocess.run_rounds(
                [Side("production", apps.production, check_speech=False)],
                signed_bodies,
                rounds=g_rounds,
                warmup=10,
            )
        prod_s = summary_ms(inprocess.flat(g["production"]))
        prod_c = summary_ms(inprocess.flat(g.cpu["production"]))
        results["g"] = {
            "production": prod_s,
            "production_cpu": prod_c,
            "ratio_to_hello": prod_c["median_ms"] / a_out["hello_cpu"]["median_ms"],
            "ratio_to_bare": prod_c["median_ms"] / a_out["bare_cpu"]["median_ms"],
        }

        # where the time goes: every stage of the request path instrumented (not a figure)
        b_rounds = max(10, int(100 * scale))
        log(f"breakdown of the request path by stage: {b_rounds} sessions each")
        results["breakdown"] = {
            "skill": inprocess.breakdown(apps.sqlite, plain, b_rounds),
        }
        with inprocess.production_logging():
            results["breakdown"]["production"] = inprocess.breakdown(
                apps.production, signed_bodies, b_rounds
            )

        for name, per_turn in (  # CPU time per request, as the verdicts go
            ("bare Flask", a.cpu["bare"]),
            ("ask-sdk hello world", a.cpu["hello"]),
            ("skill, SQLite", a.cpu["skill"]),
            ("skill, no persistence", f.cpu["none"]),
            ("skill, verify on", b.cpu["on"]),
            ("production path", g.cpu["production"]),
        ):
            samples_out[name] = [s / 1e6 for s in inprocess.flat(per_turn)]

        # c and l. cold starts: the webhook and the Lambda, each against its hello world
        if not args.skip_cold:
            import cold

            reps = 9 if not args.quick else 3
            log(f"c, l. cold starts: {reps} runs of each variant, interleaved")
            with cold.local_dynamodb(tmp) as dynamodb:
                if dynamodb is None:
                    results["notes"].append("moto is not installed: no Lambda-with-DynamoDB run")
                runs = cold.measure(tmp, signed, reps, dynamodb)
            c: dict[str, Any] = {"reps": reps}
            for name, values in runs.items():
                c[name] = {
                    "cpu": summary_ms([r.cpu_ns for r in values]),
                    "wall": summary_ms([r.wall_ns for r in values]),
                    "runs_cpu_ms": [r.cpu_ns / 1e6 for r in values],
                    "runs_wall_ms": [r.wall_ns / 1e6 for r in values],
                }

            def ratio(name: str, base: str, kind: str = "cpu", stat: str = "median_ms") -> float:
                return float(c[name][kind][stat] / c[base][kind][stat])

            counted = None
            if not args.no_valgrind:
                log("c, l. instructions of each cold start (valgrind --tool=callgrind, 1 run each)")
                counted = cold.instructions(tmp, signed)
            if counted is None:
                results["notes"].append("valgrind is not installed: cold starts go by CPU time")
            c["instructions"] = counted
            # The verdict: instructions where valgrind counts them (the load moves every clock
            # here, CPU time too: a core's sibling thread is busy), else the fastest CPU time.
            c["verdict_by"] = "instructions" if counted else "minimum CPU time"
            for key, name, base in (
                ("", "skill", "hello"),
                ("production_", "skill_production", "hello"),
                ("lambda_", "lambda", "hello_lambda"),
            ):
                c[key + "cpu_ratio"] = ratio(name, base)
                c[key + "cpu_min_ratio"] = ratio(name, base, stat="min_ms")
                c[key + "wall_ratio"] = ratio(name, base, "wall")
                c[key + "instructions_ratio"] = (
                    counted[name] / counted[base] if counted and name in counted else None
                )
                c[key + "ratio"] = c[key + "instructions_ratio"] or c[key + "cpu_min_ratio"]
            if "lambda_dynamodb" in c:
                c["lambda_dynamodb_ratio"] = ratio("lambda_dynamodb", "hello_lambda")
            results["c"] = c
            log("import profiles of the cold starts (-X importtime)")
            (RESULTS / "imports.txt").write_text(cold.import_profiles(tmp, signed))

        # d and e. the production server under load
        server_levels: list[dict[str, Any]] = []
        if not args.skip_server:
            import load

            results["load_generator"] = load.load_generator(args.loadgen)
            server_levels = run_server(tmp, signed, recorded, results, scale, args.loadgen)

        # the per-turn path, profiled (not timed)
        if not args.no_profile:
            log("profiling the per-turn path (cProfile)")
            profile_rounds = max(10, int(100 * scale))
            text = "== a. skill, in-process (verify off, SQLite)\n"
            text += inprocess.profile_session(apps.sqlite, plain, profile_rounds)
            text += "\n== a. ask-sdk hello world on Flask\n"
            text += inprocess.profile_session(apps.hello, plain, profile_rounds)
            text += "\n== b. skill, verify on (no persistence)\n"
            text += inprocess.profile_session(apps.verify_on, signed_bodies, profile_rounds)
            with inprocess.production_logging():
                text += "\n== g. production path (verify on, SQLite, JSON access log)\n"
                text += inprocess.profile_session(apps.production, signed_bodies, profile_rounds)
            (RESULTS / "profile.txt").write_text(text)

    results["elapsed_s"] = time.perf_counter() - started
    results["notes"] += [
        "In-process figures call the Flask app's WSGI callable with a prepared environ "
        "(bench/wsgi_call.py), the same harness for every side; logging is not configured "
        "there except in g (as in production: JSON lines, here to /dev/null).",
        "a, b and f replay the exact bodies of one live 40-turn pass (bench/workload.py); "
        "b re-stamps and re-signs them with the throwaway CA every 60 s. The same runner "
        "replays every round: the record every save reads and writes holds their history of "
        "finished sessions, which grows as the rounds go (its size at the end is given; the "
        "history keeps 100 at most).",
        "The hello world is Amazon's sample skill (bench/hello_world.py) with the SDK's own "
        "serializer, on the same Flask (bench/hello_skill.py) or as the SDK's lambda_handler "
        "(bench/hello_lambda.py); it answers every turn of the session (its intent reflector "
        "takes the intents it does not know).",
        "Per-turn verdicts compare medians of CPU time (the thread's, per request). Cold-start "
        "verdicts compare the instructions valgrind counts in one run of each (user space, "
        "interpreter start-up included), or without valgrind the fastest CPU time of the child "
        "process. On this shared machine every clock moves with the load: wall time counts "
        "waiting for a core, and CPU time slows when a core's other thread is busy; medians of "
        "both are shown beside the verdicts.",
    ]
    table = report.rows(results)
    results["table"] = report.table_dicts(table)
    text = report.markdown(results, table)
    print()
    print(text)
    (RESULTS / "latest.md").write_text(text)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=1) + "\n")
    (RESULTS / "samples.json").write_text(
        json.dumps({k: [round(v, 4) for v in vs] for k, vs in samples_out.items()}) + "\n"
    )
    report.plot(RESULTS / "latency.png", samples_out, server_levels)
    log(f"wrote {RESULTS}/latest.md, latest.json, samples.json, latency.png, profile.txt")
    return 0


def run_server(
    tmp: Path, signed: Any, recorded: Any, results: dict[str, Any], scale: float, loadgen: str
) -> list[dict[str, Any]]:
    import load
    from workload import restamp

    env = {
        **signed.env,
        "YOGA_PERSISTENCE": "sqlite",
        "YOGA_DB": str(tmp / "server" / "progress.sqlite3"),
    }
    log_path = tmp / "server.log"
    log("d. starting yoga-skill serve (gunicorn, 2 workers, verify on, SQLite)")
    server = load.start_server(env, log_path)
    levels: list[dict[str, Any]] = []
    try:
        for connections, requested in SERVER_LEVELS:
            requested = max(connections * 50, int(requested * scale))
            # Fresh timestamps (verification allows 150 s): stamp and sign just before the level.
            signed_at = time.monotonic()
            now = datetime.now(UTC)
            mix: list[tuple[str, bytes]] = []
            for user in range(SERVER_USERS):
                bodies = restamp(
                    recorded.bodies,
                    now,
                    user_id=f"amzn1.ask.account.BENCH-RUNNER-{user}",
                    session_suffix=f"-{user}",
                )
                mix += [(signed.headers(b)["Signature-256"], b) for b in bodies]
            bodies_file = tmp / f"bodies-{connections}.txt"
            load.write_bodies_file(bodies_file, signed.cert_url, mix)
            log(f"d. {connections} client(s): warm-up {SERVER_WARMUP}, then {requested} requests")
            warm = load.run_load(server.port, bodies_file, connections, SERVER_WARMUP, 30, loadgen)
            if warm["error_count"]:
                results["notes"].append(
                    f"warm-up at {connections} clients had errors: {warm['errors']}"
                )
            budget = SIGNATURE_WINDOW_S - 10 - (time.monotonic() - signed_at)
            spread: list[dict[int, int]] = []
            sampler = threading.Thread(
                target=sample_spread, args=(server, spread, budget), daemon=True
            )
            sampler.start()
            level = load.run_load(server.port, bodies_file, connections, requested, budget, loadgen)
            sampler.join()
            level["requested"] = requested
            # Keep-alive connections stay with the worker that accepted them; how they were
            # spread over the workers decides much of the latency at 32 clients.
            level["connections_per_worker"] = (
                sorted(max(spread, key=lambda s: sum(s.values())).values(), reverse=True)
                if spread
                else []
            )
            level["time_budget_s"] = budget
            levels.append(level)
            spread = level["connections_per_worker"]
            if connections > 1 and spread and spread[-1] * 2 < spread[0]:
                results["notes"].append(
                    f"at {connections} clients the workers held {'/'.join(map(str, spread))} of "
                    "the keep-alive connections (each stays with the worker that accepted it), "
                    "so one worker's single core served most of the load"
                )
            log(
                f"   {level['responses']} responses in {level['duration_s']:.1f} s: "
                f"{level['rps']:.0f} req/s, p50 {level['p50_ms']:.2f} ms, "
                f"p99 {level['p99_ms']:.2f} ms, errors {level['errors']}, "
                f"connections per worker {level['connections_per_worker']}"
            )
        master = server.proc.pid
        workers = load.worker_pids(master)
        worker_status = [{"pid": pid, **load.proc_status_kb(pid)} for pid in workers]
        results["e"] = {
            "workers": worker_status,
            "master": {"pid": master, **load.proc_status_kb(master)},
            "max_vmhwm_mb": max(w["VmHWM"] for w in worker_status) / 1024,
        }
    finally:
        server.stop()
    results["d"] = {"levels": levels, "users_in_mix": SERVER_USERS}
    problems = [line for line in server.log_tail(2000).splitlines() if '"level":"error"' in line]
    if problems:
        results["notes"].append(f"server logged {len(problems)} errors, e.g. {problems[0][:300]}")
    return levels


def sample_spread(server: Any, out: list[dict[int, int]], limit_s: float) -> None:
    """Every 0.5 s while the load runs: established connections per worker."""
    import load

    workers = load.worker_pids(server.proc.pid)
    deadline = time.monotonic() + limit_s
    time.sleep(0.5)
    while time.monotonic() < deadline:
        counts = load.connections_per_worker(server.port, workers)
        if not any(counts.values()):
            return
        out.append(counts)
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
