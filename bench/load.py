"""The production server under load: ``yoga-skill serve`` on gunicorn, driven over loopback.

The server is started exactly as tests/test_webhook.py's ``served`` fixture starts it
(``python -m skill.cli serve --host 127.0.0.1 --port P --workers 2``, verification on with a
throwaway CA through ALEXA_TRUST_STORE / ALEXA_CERT_CACHE_DIR, SQLite in a temp dir). The load
comes from ``wrk`` when it is installed (C, one thread, so it leaves the 2 cores to the server),
else from bench/loadclient.py in its own process.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stats import percentile

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_server(env: dict[str, str], log_path: Path, workers: int = 2) -> Server:
    port = free_port()
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skill.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=log,
        cwd=REPO,
    )
    log.close()
    server = Server(proc, port, log_path)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(server.base + "/healthz", timeout=2) as response:
                if response.status == 200 and len(worker_pids(proc.pid)) >= workers:
                    return server
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("server did not start:\n" + server.log_tail())
        time.sleep(0.1)


def worker_pids(master: int) -> list[int]:
    """The children of the gunicorn master: its workers."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ")".
        ppid = int(stat.rpartition(")")[2].split()[1])
        if ppid == master:
            out.append(int(entry.name))
    return sorted(out)


def proc_status_kb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"):
            out[name] = int(value.split()[0])
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                out["Pss"] = int(line.split()[1])
    except OSError:
        pass
    return out


def connections_per_worker(port: int, workers: list[int]) -> dict[int, int]:
    """Established TCP connections to ``port`` held by each worker (from /proc, no ss needed)."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rpartition(":")[2], 16)
            if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
                established.add(fields[9])
    out = {}
    for pid in workers:
        count = 0
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in established:
                    count += 1
        except OSError:
            pass
        out[pid] = count
    return out


def write_bodies_file(path: Path, cert_url: str, signed: list[tuple[str, bytes]]) -> None:
    """The format bench/wrk_post.lua and bench/loadclient.py read."""
    with path.open("wb") as f:
        f.write(cert_url.encode() + b"\n")
        for signature, body in signed:
            f.write(signature.encode() + b"\n" + str(len(body)).encode() + b"\n" + body + b"\n")


def load_generator(choice: str = "auto") -> str:
    """``wrk`` if asked for or (``auto``) installed, else ``python``."""
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    return choice


def run_load(
    port: int,
    bodies_file: Path,
    connections: int,
    requests: int,
    max_seconds: float,
    generator: str = "auto",
) -> dict[str, Any]:
    """Drive the server with ``connections`` keep-alive clients until ``requests`` responses or
    ``max_seconds``; latency in ms, errors counted (non-200 and connection errors)."""
    if load_generator(generator) == "wrk":
        return _run_wrk(port, bodies_file, connections, requests, max_seconds)
    return _run_python(port, bodies_file, connections, requests, max_seconds)


def _parse_bench_json(stdout: str, what: str) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            parsed: dict[str, Any] = json.loads(line[len("BENCH_JSON ") :])
            return parsed
    raise RuntimeError(f"{what} printed no result:\n{stdout[-2000:]}")


def _run_wrk(
    port: int, bodies_file: Path, connections: int, requests: int, max_seconds: float
) -> dict[str, Any]:
    seconds = max(1, int(max_seconds))
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "wrk_post.lua"),
        f"http://127.0.0.1:{port}",
        "--",
        str(bodies_file),
        str(requests),
        "1",
    ]
    # wrk's main thread sleeps for all of -d whatever its threads do; SIGINT makes it stop the
    # threads and report at once. The script prints BENCH_STOP when it has its responses.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("BENCH_STOP"):
            while proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=0.05)
    stderr = proc.stderr.read()
    proc.wait(timeout=seconds + 30)
    raw = _parse_bench_json("".join(lines) + stderr, "wrk")
    errors = {
        "non200": raw["non200"],
        "connect": raw["connect"],
        "read": raw["read"],
        "write": raw["write"],
        "timeout": raw["timeout"],
    }
    percentiles = [(float(p), us / 1000) for p, us in raw["percentiles_us"]]
    percentiles.append((100.0, raw["max_us"] / 1000))
    lookup = dict(percentiles)
    return {
        "generator": "wrk -t1",
        "connections": connections,
        "responses": raw["responses"],
        "duration_s": raw["duration_us"] / 1e6,
        "rps": raw["responses"] / (raw["duration_us"] / 1e6),
        "p50_ms": lookup[50.0],
        "p99_ms": lookup[99.0],
        "max_ms": raw["max_us"] / 1000,
        "errors": errors,
        "error_count": sum(errors.values()),
        "percentiles_ms": percentiles,
    }


def _run_python(
    port: int, bodies_file: Path, connections: int, requests: int, max_seconds: float
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(BENCH / "loadclient.py"),
        "--port",
        str(port),
        "--connections",
        str(connections),
        "--requests",
        str(requests),
        "--seconds",
        str(max_seconds),
        "--bodies",
        str(bodies_file),
    ]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=max_seconds + 30, check=False
    )
    raw = _parse_bench_json(done.stdout, "loadclient")
    latencies = sorted(us / 1000 for us in raw["latencies_us"])
    errors = {"non200": raw["non200"], "connection": raw["connection_errors"]}
    points = [*range(1, 100), 99.5, 99.9, 99.99, 100]
    return {
        "generator": "python asyncio (bench/loadclient.py)",
        "connections": connections,
        "responses": raw["responses"],
        "duration_s": raw["duration_us"] / 1e6,
        "rps": raw["responses"] / (raw["duration_us"] / 1e6),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else float("nan"),
        "errors": errors,
        "error_count": sum(errors.values()),
        "percentiles_ms": [(float(p), percentile(latencies, p)) for p in points],
    }
