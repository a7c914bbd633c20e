"""Slow and stubborn clients against a real ``yoga-skill serve`` on loopback.

gunicorn's threaded worker gave a connection to a thread at its first byte: 8 connections that
dripped a header held every thread of two workers, and 0 of 3 probes were answered with 64 of
them. The worker in skill/web/worker.py reads each request whole in its event loop first. These
tests run the real server (gunicorn, two workers, verification off, no persistence) in a
subprocess; every loop is bounded and every socket closed. Timing is never asserted: a probe
only has to be answered within a generous socket timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO

from skill.local.envelopes import Session
from skill.web.worker import RequestScan, Verdict, request_verdict

PROBE_TIMEOUT = 20.0
"""Seconds a probe may wait for its answer: generous, so a slow machine does not fail it."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _serve(tmp_path: Path, worker_settings: str = "") -> Iterator[int]:
    """``yoga-skill serve`` with two workers on a free loopback port; ``worker_settings`` is
    Python run first in the master (to shorten the worker's deadlines)."""
    port = _free_port()
    code = (
        "import sys\n"
        "from skill.web.worker import BufferingWorker\n"
        f"{worker_settings}\n"
        "from skill.cli import main\n"
        f"sys.exit(main(['serve', '--host', '127.0.0.1', '--port', '{port}', '--workers', '2']))\n"
    )
    env = {
        **os.environ,
        "YOGA_VERIFY": "off",
        "YOGA_PERSISTENCE": "none",
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _exchange(port, HEALTHZ, timeout=2).startswith(b"HTTP/1.1 200"):
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text(errors="replace"))
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _exchange(port: int, raw: bytes, timeout: float = PROBE_TIMEOUT) -> bytes:
    """Send one request and read the whole answer (the server closes after it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        return _read_all(sock)


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    for _ in range(10_000):
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _post(body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"POST /alexa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


def _chunked(body: bytes, size: int = 8192) -> bytes:
    out = [
        b"POST /alexa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    ]
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
    out.append(b"0\r\n\r\n")
    return b"".join(out)


HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
LAUNCH = json.dumps(Session().launch()).encode()


def _assert_probes_answered(port: int) -> None:
    health = _exchange(port, HEALTHZ)
    assert health.startswith(b"HTTP/1.1 200"), health[:200]
    assert b'"status":"ok"' in health
    launch = _exchange(port, _post(LAUNCH))
    assert launch.startswith(b"HTTP/1.1 200"), launch[:200]
    assert b"Welcome to post run yoga" in launch


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with _serve(tmp_path_factory.mktemp("serve")) as port:
        yield port


# ---------------------------------------------------------------------- slow clients


def test_64_connections_dripping_a_header_do_not_stall_the_server(server: int) -> None:
    header = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100
    drippers: list[socket.socket] = []
    stop = threading.Event()

    def drip() -> None:
        for index in range(1, 30):  # a byte a second each, for 30 s at most
            if stop.wait(1.0):
                return
            for sock in drippers:
                with contextlib.suppress(OSError):
                    sock.send(header[index : index + 1])

    dripping = threading.Thread(target=drip, daemon=True)
    try:
        for _ in range(64):
            sock = socket.create_connection(("127.0.0.1", server), timeout=PROBE_TIMEOUT)
            drippers.append(sock)
            sock.sendall(header[:1])
        dripping.start()
        time.sleep(2.5)  # every dripper has sent a few bytes of its header
        for _ in range(3):
            _assert_probes_answered(server)
    finally:
        stop.set()
        if dripping.is_alive():
            dripping.join(timeout=5)
        for sock in drippers:
            sock.close()


def test_clients_that_never_hang_up_do_not_stall_the_server(server: int) -> None:
    """gunicorn's lingering close waited up to 2 s a connection in the worker's event loop:
    40 clients that read their answer and stayed connected held both workers 40 s (100 here
    would hold them close to two minutes)."""
    stubborn: list[socket.socket] = []
    try:
        for _ in range(100):
            sock = socket.create_connection(("127.0.0.1", server), timeout=PROBE_TIMEOUT)
            stubborn.append(sock)
            sock.sendall(HEALTHZ)
        for sock in stubborn:
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        for _ in range(3):
            _assert_probes_answered(server)
    finally:
        for sock in stubborn:
            sock.close()


def test_a_slow_body_does_not_stall_the_server(server: int) -> None:
    raw = _post(LAUNCH)
    head, _, body = raw.partition(b"\r\n\r\n")
    slow: list[socket.socket] = []
    try:
        for _ in range(16):
            sock = socket.create_connection(("127.0.0.1", server), timeout=PROBE_TIMEOUT)
            slow.append(sock)
            sock.sendall(head + b"\r\n\r\n" + body[:10])  # headers whole, the body not
        _assert_probes_answered(server)
    finally:
        for sock in slow:
            sock.close()


def test_a_request_that_expects_100_continue_is_answered(server: int) -> None:
    head, _, body = _post(LAUNCH, b"Expect: 100-continue\r\n").partition(b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server), timeout=PROBE_TIMEOUT) as sock:
        sock.sendall(head + b"\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        answer = _read_all(sock)
    assert b"HTTP/1.1 200" in answer
    assert b"Welcome to post run yoga" in answer


# ---------------------------------------------------------------------- chunked bodies


def test_a_chunked_request_is_answered(server: int) -> None:
    answer = _exchange(server, _chunked(LAUNCH, size=100))
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert b"Welcome to post run yoga" in answer


def test_an_oversized_chunked_body_is_refused_like_an_oversized_length(server: int) -> None:
    """It used to be cut to 128 KiB and processed: a launch with 200 KiB of spaces after it
    was answered."""
    body = LAUNCH + b" " * (200 * 1024)
    for raw in (_chunked(body), _post(body)):
        answer = _exchange(server, raw)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert answer.endswith(b'{"error":"request body too large"}')


MALFORMED_CHUNKS = [
    b"-5\r\nhello\r\n0\r\n\r\n",  # a negative size
    b"0x5\r\nhello\r\n0\r\n\r\n",  # a size with a prefix
    b" 5\r\nhello\r\n0\r\n\r\n",  # a size after a space
    b"zz\r\nhello\r\n0\r\n\r\n",  # not hex
    b"5;\x01\r\nhello\r\n0\r\n\r\n",  # a control character in an extension
    b"5\r\nhelloXX0\r\n\r\n",  # no line end after the data
    b"5\r\nhello\r\n0\r\nnot a trailer\r\n\r\n",  # a trailer that is no header
]


@pytest.mark.parametrize("framing", MALFORMED_CHUNKS, ids=range(len(MALFORMED_CHUNKS)))
def test_malformed_chunk_framing_is_a_bad_request(server: int, framing: bytes) -> None:
    """The worker hands such a body on whole, and gunicorn's parser raises as the webhook
    reads it: that was the catch-all's "request could not be handled", with a traceback."""
    head = _chunked(b"").removesuffix(b"0\r\n\r\n")
    answer = _exchange(server, head + framing)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert answer.endswith(b'{"error":"request body could not be read"}')


# ---------------------------------------------------------------------- deadlines and limits


@pytest.fixture(scope="module")
def impatient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The same server with a one-second deadline for a request to come whole."""
    with _serve(
        tmp_path_factory.mktemp("impatient"), "BufferingWorker.request_seconds = 1.0"
    ) as port:
        yield port


def test_a_request_that_does_not_come_whole_in_time_gets_408(impatient_server: int) -> None:
    with socket.create_connection(("127.0.0.1", impatient_server), timeout=PROBE_TIMEOUT) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answer = _read_all(sock)  # the server answers and closes after its deadline
    assert answer.startswith(b"HTTP/1.1 408")
    _assert_probes_answered(impatient_server)


def test_headers_over_the_limit_get_431(impatient_server: int) -> None:
    raw = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Big: " + b"a" * (40 * 1024)
    with socket.create_connection(("127.0.0.1", impatient_server), timeout=PROBE_TIMEOUT) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(raw)
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431")


def test_a_chunked_body_of_mostly_framing_is_refused(impatient_server: int) -> None:
    body = b"1\r\na\r\n" * (100 * 1024)  # 600 KiB on the wire for 100 KiB of body
    raw = b"POST /alexa HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" + body
    with socket.create_connection(("127.0.0.1", impatient_server), timeout=PROBE_TIMEOUT) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(raw)
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400")
    assert answer.endswith(b'{"error":"request body too large"}')


# ---------------------------------------------------------------------- when a request is whole


def _request(head: bytes, body: bytes = b"") -> bytes:
    return head.replace(b"\n", b"\r\n") + b"\r\n\r\n" + body


REQUESTS = [
    (b"", Verdict.INCOMPLETE),
    (b"GET / HTTP/1.1\r\nHost: x\r\n", Verdict.INCOMPLETE),
    (_request(b"GET / HTTP/1.1\nHost: x"), Verdict.COMPLETE),
    (b"\r\n" + _request(b"GET / HTTP/1.1\nHost: x"), Verdict.COMPLETE),
    (b"GET / HTTP/1.1\nHost: x\n\n", Verdict.COMPLETE),
    (_request(b"POST / HTTP/1.1\nContent-Length: 5", b"abc"), Verdict.INCOMPLETE),
    (_request(b"POST / HTTP/1.1\ncontent-length: 5", b"abcde"), Verdict.COMPLETE),
    (_request(b"POST / HTTP/1.1\nContent-Length: 5", b"abcdeGET"), Verdict.COMPLETE),
    (_request(b"POST / HTTP/1.1\nContent-Length: 5\nExpect: 100-continue"), Verdict.CONTINUE),
    (
        _request(b"POST / HTTP/1.1\nContent-Length: 5\nExpect: 100-continue", b"a"),
        Verdict.INCOMPLETE,
    ),
    (_request(b"POST / HTTP/1.1\nContent-Length: 999999999"), Verdict.COMPLETE),
    (_request(b"POST / HTTP/1.1\nContent-Length: 5\nContent-Length: 6"), Verdict.COMPLETE),
    (_request(b"POST / HTTP/1.1\nContent-Length: -5"), Verdict.COMPLETE),
    (_request(b"POST / HTTP/1.1\nTransfer-Encoding: gzip"), Verdict.COMPLETE),
    (_request(b"POST / HTTP/1.1\nTransfer-Encoding: chunked\nContent-Length: 3"), Verdict.COMPLETE),
    (_request(b"POST / HTTP/1.1\nTransfer-Encoding: chunked"), Verdict.INCOMPLETE),
    (_request(b"POST / HTTP/1.1\nTransfer-Encoding: chunked", b"5\r\nab"), Verdict.INCOMPLETE),
    (
        _request(b"POST / HTTP/1.1\nTransfer-Encoding: chunked", b"5\r\nabcde\r\n"),
        Verdict.INCOMPLETE,
    ),
    (
        _request(b"POST / HTTP/1.1\nTransfer-Encoding: chunked", b"5;x=y\r\nabcde\r\n0\r\n"),
        Verdict.INCOMPLETE,
    ),
    (
        _request(b"POST / HTTP/1.1\nTransfer-Encoding: chunked", b"5\r\nabcde\r\n0\r\n\r\n"),
        Verdict.COMPLETE,
    ),
    (
        _request(b"POST / HTTP/1.1\nTransfer-Encoding: chunked", b"0\r\nX-T: 1\r\n"),
        Verdict.INCOMPLETE,
    ),
    (
        _request(b"POST / HTTP/1.1\nTransfer-Encoding: chunked", b"0\r\nX-T: 1\r\n\r\n"),
        Verdict.COMPLETE,
    ),
    (_request(b"POST / HTTP/1.1\nTransfer-Encoding: chunked", b"zz\r\n"), Verdict.COMPLETE),
    (_request(b"POST / HTTP/1.1\nTransfer-Encoding: chunked", b"5\r\nabcdeXY"), Verdict.COMPLETE),
    (_request(b"POST / HTTP/1.1\nTransfer-Encoding: chunked", b"5" * 2000), Verdict.COMPLETE),
    (_request(b"GET / HTTP/1.1\nX-Big: " + b"a" * 40_000), Verdict.HEADERS_TOO_LARGE),
    (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 40_000, Verdict.HEADERS_TOO_LARGE),
]


@pytest.mark.parametrize(("raw", "verdict"), REQUESTS)
def test_request_verdict(raw: bytes, verdict: Verdict) -> None:
    assert request_verdict(raw) is verdict


@pytest.mark.parametrize("piece", [1, 3, 1000])
def test_a_request_read_in_pieces_gets_the_verdict_it_would_get_whole(piece: int) -> None:
    """The worker scans each connection's buffer as it grows, resuming where it stopped."""
    requests = [raw for raw, _ in REQUESTS] + [_chunked(LAUNCH, size=7), _post(LAUNCH)]
    for raw in requests:
        if len(raw) > 200 * piece:
            raw = raw[: 200 * piece]  # each prefix is also scanned whole: keep it quadratic-small
        scan = RequestScan()
        for end in range(piece, len(raw) + piece, piece):
            prefix = raw[:end]
            verdict = scan.verdict(prefix)
            assert verdict is request_verdict(prefix), (raw[:60], end)
            if verdict not in (Verdict.INCOMPLETE, Verdict.CONTINUE):
                break


def test_a_chunked_body_past_the_limit_is_handed_on_for_the_app_to_refuse() -> None:
    head = _request(b"POST / HTTP/1.1\nTransfer-Encoding: chunked")
    body = b"%x\r\n" % (64 * 1024) + b"a" * (64 * 1024) + b"\r\n"
    assert request_verdict(head + body, body_limit=100 * 1024) is Verdict.INCOMPLETE
    assert request_verdict(head + body * 2, body_limit=100 * 1024) is Verdict.COMPLETE
    framing = b"1\r\na\r\n" * 50_000
    assert request_verdict(head + framing, body_limit=100 * 1024) is Verdict.BODY_TOO_LARGE
