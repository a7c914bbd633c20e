"""Fallback load generator when ``wrk`` is not installed: asyncio raw sockets, one process.

    python bench/loadclient.py --port P --connections C --requests N --seconds S --bodies FILE

Keeps C keep-alive connections busy on 127.0.0.1, each sending the prepared requests of FILE
(the format bench/wrk_post.lua reads) in turn until N responses have arrived or S seconds have
passed. Prints one JSON line: the latency of every response in microseconds, the non-200
responses and the connection errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from time import perf_counter_ns


def read_requests(path: str, port: int) -> list[bytes]:
    out = []
    with open(path, "rb") as f:
        cert_url = f.readline().rstrip(b"\n")
        while True:
            signature = f.readline().rstrip(b"\n")
            if not signature:
                break
            length = int(f.readline())
            body = f.read(length)
            f.readline()
            head = (
                b"POST /alexa HTTP/1.1\r\n"
                b"Host: 127.0.0.1:" + str(port).encode() + b"\r\n"
                b"Content-Type: application/json; charset=utf-8\r\n"
                b"SignatureCertChainUrl: " + cert_url + b"\r\n"
                b"Signature-256: " + signature + b"\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
            )
            out.append(head + body)
    return out


class Load:
    def __init__(self, requests: list[bytes], total: int, deadline_ns: int) -> None:
        self.requests = requests
        self.total = total
        self.deadline_ns = deadline_ns
        self.sent = 0
        self.latencies_us: list[int] = []
        self.non200 = 0
        self.connection_errors = 0

    def take(self) -> bytes | None:
        if self.sent >= self.total or perf_counter_ns() > self.deadline_ns:
            return None
        request = self.requests[self.sent % len(self.requests)]
        self.sent += 1
        return request

    async def connection(self, port: int) -> None:
        reader = writer = None
        while True:
            request = self.take()
            if request is None:
                break
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                assert reader is not None
                t0 = perf_counter_ns()
                writer.write(request)
                status_line = await asyncio.wait_for(reader.readline(), 10)
                if not status_line:
                    raise ConnectionError("closed")
                length = 0
                close = False
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"connection" and value.strip().lower() == b"close":
                        close = True
                await reader.readexactly(length)
                t1 = perf_counter_ns()
                self.latencies_us.append((t1 - t0) // 1000)
                if status_line.split()[1] != b"200":
                    self.non200 += 1
                if close:
                    writer.close()
                    reader = writer = None
            except (OSError, ConnectionError, asyncio.IncompleteReadError, TimeoutError):
                self.connection_errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    load = Load(
        read_requests(args.bodies, args.port),
        args.requests,
        perf_counter_ns() + int(args.seconds * 1e9),
    )
    t0 = perf_counter_ns()
    await asyncio.gather(*(load.connection(args.port) for _ in range(args.connections)))
    elapsed = perf_counter_ns() - t0
    return {
        "responses": len(load.latencies_us),
        "duration_us": elapsed // 1000,
        "non200": load.non200,
        "connection_errors": load.connection_errors,
        "latencies_us": load.latencies_us,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--bodies", required=True)
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    sys.stdout.write("BENCH_JSON " + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
