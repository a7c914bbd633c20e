"""The table (stdout and bench/results/latest.md) and the latency plot (latency.png)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class Row:
    key: str
    figure: str
    measured: str
    baseline: str
    value: str
    target: str
    result: str  # PASS, MISS or info


def _ms(x: float) -> str:
    return f"{x:.3f} ms" if x < 10 else f"{x:.1f} ms"


def _dist(s: dict[str, float]) -> str:
    return f"median {_ms(s['median_ms'])}, p99 {_ms(s['p99_ms'])}"


def _both(cpu: dict[str, float], wall: dict[str, float]) -> str:
    """A figure by its CPU time (as the verdict goes), with its wall time."""
    return (
        f"median {_ms(cpu['median_ms'])}, p99 {_ms(cpu['p99_ms'])} CPU "
        f"(wall: median {_ms(wall['median_ms'])}, p99 {_ms(wall['p99_ms'])})"
    )


def _cold(c: dict[str, Any], name: str) -> str:
    run = c[name]
    cpu, wall = run["cpu"], run["wall"]
    counted = (c.get("instructions") or {}).get(name)
    text = f"{counted / 1e6:.0f} M instructions; " if counted else ""
    return text + (
        f"CPU min {_ms(cpu['min_ms'])}, median {_ms(cpu['median_ms'])}; "
        f"wall median {_ms(wall['median_ms'])}"
    )


def _ratios(c: dict[str, Any], key: str) -> str:
    """The verdict's ratio first (instructions, else the fastest CPU time), then the others."""
    parts = []
    if c.get(key + "instructions_ratio"):
        parts.append(f"{c[key + 'instructions_ratio']:.2f}x instructions")
    parts.append(f"{c[key + 'cpu_min_ratio']:.2f}x CPU min")
    parts.append(f"{c[key + 'cpu_ratio']:.2f}x CPU median")
    parts.append(f"{c[key + 'wall_ratio']:.2f}x wall median")
    return parts[0] + " (" + ", ".join(parts[1:]) + ")"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def rows(r: dict[str, Any]) -> list[Row]:
    out: list[Row] = []
    t = r["targets"]
    if "a" in r:
        a = r["a"]
        out.append(
            Row(
                "a",
                f"a. per turn, progress on (SQLite), in-process: 40-turn session "
                f"({a['samples_per_side']} turns a side; the runner's history "
                f"{a.get('history_entries', '?')} sessions)",
                "skill: " + _both(a["skill_cpu"], a["skill"]),
                "ask-sdk hello world on the same Flask: "
                + _both(a["hello_cpu"], a["hello"])
                + f" (bare Flask JSON route: {_ms(a['bare_cpu']['median_ms'])}; "
                f"hello world {a['hello_to_bare']:.2f}x bare)",
                f"{a['ratio']:.2f}x (wall {a['wall_ratio']:.2f}x)",
                f"<= {t['a_ratio']}x",
                _verdict(a["ratio"] <= t["a_ratio"]),
            )
        )
    if "b" in r:
        b = r["b"]
        out.append(
            Row(
                "b",
                "b. request verification on vs off (warm cert cache)",
                "on: " + _both(b["on_cpu"], b["on"]),
                "off: " + _both(b["off_cpu"], b["off"]),
                f"{b['ratio']:.3f}x (+{b['added_ms']:.3f} ms/turn; wall {b['wall_ratio']:.3f}x)",
                f"<= {t['b_ratio']}x",
                _verdict(b["ratio"] <= t["b_ratio"]),
            )
        )
    if "c" in r:
        c = r["c"]
        n = c["reps"]
        out.append(
            Row(
                "c",
                "c. cold start, Popen to first answer: the webhook as the hello world is (no "
                f"store, verify off; {n} runs)",
                "skill: " + _cold(c, "skill"),
                "ask-sdk hello world on Flask: " + _cold(c, "hello"),
                _ratios(c, ""),
                f"<= {t['c_ratio']}x",
                _verdict(c["ratio"] <= t["c_ratio"]),
            )
        )
        out.append(
            Row(
                "c+",
                "c+. cold start, webhook as production runs it (verify on, SQLite)",
                "skill: " + _cold(c, "skill_production"),
                f"python -c print(): {_ms(c['python']['cpu']['min_ms'])} CPU",
                _ratios(c, "production_"),
                "-",
                "info",
            )
        )
        out.append(
            Row(
                "l",
                "l. Lambda cold start: template.yaml's handler imported fresh, answering one "
                f"launch (no store; {n} runs)",
                "skill: " + _cold(c, "lambda"),
                "ask-sdk hello-world Lambda: " + _cold(c, "hello_lambda"),
                _ratios(c, "lambda_"),
                f"<= {t['l_ratio']}x",
                _verdict(c["lambda_ratio"] <= t["l_ratio"]),
            )
        )
        if "lambda_dynamodb" in c:
            out.append(
                Row(
                    "l+",
                    "l+. Lambda cold start as template.yaml configures it (DynamoDB: moto on "
                    "loopback; boto3 and its client included)",
                    "skill: " + _cold(c, "lambda_dynamodb"),
                    "ask-sdk hello-world Lambda (no store)",
                    f"{c['lambda_dynamodb_ratio']:.2f}x hello world (median CPU)",
                    "-",
                    "info",
                )
            )
    if "d" in r:
        d = r["d"]
        for level in d["levels"]:
            n = level["connections"]
            errors = level["error_count"]
            measured = (
                f"{level['rps']:.0f} req/s, p50 {_ms(level['p50_ms'])}, p99 {_ms(level['p99_ms'])}"
            )
            detail = f"{errors} errors in {level['responses']} responses"
            if level.get("connections_per_worker"):
                spread = "/".join(str(c) for c in level["connections_per_worker"])
                detail += f"; connections per worker {spread}"
            if n == 32:
                out.append(
                    Row(
                        "d32",
                        f"d. gunicorn 2 workers, verify on, SQLite: {n} clients",
                        measured,
                        detail,
                        f"p99 {_ms(level['p99_ms'])}",
                        f"p99 < {t['d_p99_ms']} ms",
                        _verdict(level["p99_ms"] < t["d_p99_ms"]),
                    )
                )
                complete = level["responses"] >= level["requested"]
                out.append(
                    Row(
                        "d32-errors",
                        f"d. errors at {n} clients",
                        f"{errors} errors ({_fmt_errors(level['errors'])})",
                        f"{level['responses']} of {level['requested']} requests answered",
                        f"{errors}",
                        f"0 in {level['requested']}",
                        _verdict(errors == 0 and complete),
                    )
                )
            else:
                out.append(
                    Row(
                        f"d{n}",
                        f"d. gunicorn 2 workers, verify on, SQLite: {n} client{'s' * (n > 1)}",
                        measured,
                        detail,
                        f"p99 {_ms(level['p99_ms'])}",
                        "-",
                        "info",
                    )
                )
    if "e" in r:
        e = r["e"]
        workers = ", ".join(f"{w['VmHWM'] / 1024:.1f}" for w in e["workers"])
        out.append(
            Row(
                "e",
                "e. peak RSS per gunicorn worker (VmHWM, after the load)",
                f"max {e['max_vmhwm_mb']:.1f} MB (workers: {workers} MB)",
                f"master {e['master']['VmHWM'] / 1024:.1f} MB; worker PSS "
                + ", ".join(f"{w.get('Pss', 0) / 1024:.1f}" for w in e["workers"])
                + " MB",
                f"{e['max_vmhwm_mb']:.1f} MB",
                f"< {t['e_mb']} MB",
                _verdict(e["max_vmhwm_mb"] < t["e_mb"]),
            )
        )
    if "f" in r:
        f = r["f"]
        out.append(
            Row(
                "f",
                "f. SQLite persistence per turn (in-process; the runner's history "
                f"{f.get('history_entries', '?')} sessions)",
                "sqlite: " + _dist(f["sqlite"]) + " CPU",
                "none: " + _dist(f["none"]) + " CPU",
                f"+{f['added_ms']:.3f} ms/turn, ratio {f['ratio']:.2f}x",
                "report",
                "info",
            )
        )
    if "g" in r:
        g = r["g"]
        out.append(
            Row(
                "g",
                "g. production path in-process (verify on, SQLite, JSON access log)",
                _both(g["production_cpu"], g["production"]),
                "hello world: " + _ms(r["a"]["hello_cpu"]["median_ms"]) if "a" in r else "-",
                f"{g['ratio_to_hello']:.2f}x hello world, {g['ratio_to_bare']:.2f}x bare",
                "-",
                "info",
            )
        )
    return out


def _fmt_errors(errors: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in errors.items())


def markdown(r: dict[str, Any], table: list[Row]) -> str:
    m = r["machine"]
    lines = [
        f"# post-run-yoga bench, {r['date']}",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores ({m['cores_usable']} usable)",
        f"- Python {m['python']} ({m['implementation']}), {m['platform']}",
        "- " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- load generator: {r.get('load_generator', '-')}; total bench time "
        f"{r.get('elapsed_s', 0):.0f} s",
        "",
        "| figure | measured | baseline | value | target | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in table:
        lines.append(
            f"| {row.figure} | {row.measured} | {row.baseline} | {row.value} | "
            f"{row.target} | {row.result} |"
        )
    misses = [row for row in table if row.result == "MISS"]
    lines.append("")
    lines.append("Misses: " + (", ".join(row.key for row in misses) if misses else "none") + ".")
    if r.get("notes"):
        lines.append("")
        lines.extend(f"- {note}" for note in r["notes"])
    titles = {
        "skill": "a's skill app (verify off, SQLite)",
        "production": "g's production path (verify on, SQLite, JSON access log)",
    }
    for key, stages in r.get("breakdown", {}).items():
        lines += [
            "",
            f"Where the time goes, {titles.get(key, key)}: mean wall time per turn, every "
            "stage instrumented (for comparison, wall medians: "
            + (
                f"hello world {_ms(r['a']['hello']['median_ms'])}, "
                f"bare Flask JSON route {_ms(r['a']['bare']['median_ms'])})"
                if "a" in r
                else "-)"
            ),
            "",
            "| stage | mean per turn | share |",
            "| --- | --- | --- |",
        ]
        for stage in stages:
            indent = ". " * stage["depth"]
            lines.append(
                f"| {indent}{stage['stage']} | {stage['mean_us']:.1f} us | "
                f"{stage['share'] * 100:.1f}% |"
            )
    if "a" in r and "per_turn" in r["a"]:
        lines += ["", "Slowest turns (skill with SQLite, in-process, median CPU time):", ""]
        slow = sorted(r["a"]["per_turn"], key=lambda t: -t["median_ms"])[:6]
        lines += [f'- turn {t["turn"]} "{t["said"]}": {_ms(t["median_ms"])}' for t in slow]
    return "\n".join(lines) + "\n"


def table_dicts(table: list[Row]) -> list[dict[str, str]]:
    return [asdict(row) for row in table]


def plot(
    path: Path,
    inprocess: dict[str, list[float]],
    server_levels: list[dict[str, Any]],
) -> None:
    """Left: ECDF of in-process per-turn latency per side. Right: server latency percentiles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    for name, values_ms in inprocess.items():
        values = sorted(values_ms)
        if not values:
            continue
        n = len(values)
        left.plot(values, [(i + 1) / n for i in range(n)], label=f"{name} (n={n})")
    left.set_xscale("log")
    left.set_xlabel("CPU time per turn, ms (log)")
    left.set_ylabel("fraction of turns")
    left.set_title("In-process, per turn (40-turn session replayed, CPU time)")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)
    for level in server_levels:
        points = level["percentiles_ms"]
        right.plot(
            [ms for _, ms in points],
            [p / 100 for p, _ in points],
            label=f"{level['connections']} client{'s' * (level['connections'] > 1)}: "
            f"{level['rps']:.0f} req/s",
        )
    if server_levels:
        right.axvline(50, color="red", linestyle="--", linewidth=1, label="50 ms target (p99)")
        right.axhline(0.99, color="grey", linestyle=":", linewidth=1)
    right.set_xscale("log")
    right.set_xlabel("latency per request, ms (log)")
    right.set_ylabel("fraction of requests")
    right.set_title("gunicorn, 2 workers, verify on, SQLite (loopback)")
    right.grid(True, which="both", alpha=0.3)
    if server_levels:
        right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
