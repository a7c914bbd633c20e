"""gunicorn's threaded worker, reading each request whole before a thread serves it.

gunicorn's ``gthread`` worker gives a connection to a thread as soon as its first byte arrives,
and the thread then blocks until the rest of the request has come: eight connections sending a
header a byte a second held all the threads of two workers, and nothing else was answered.
:class:`BufferingWorker` reads requests in the worker's event loop instead, without blocking,
as a buffering proxy in front would, and hands a connection to a thread only once its request
is complete. It also bounds what a client can hold:

- the request line, headers and body must all arrive within :data:`REQUEST_SECONDS` of the
  connection (or of its previous request), or the connection gets a 408 and is closed;
- headers over :data:`HEADER_LIMIT` get a 431; a body is read to one byte past the body limit
  at most (the webhook refuses it by its ``Content-Length``, or by reading past the limit when
  it is chunked), and a chunked body with more framing than data is refused here;
- at most :data:`MAX_READING` connections are read at once and :data:`BUFFER_BUDGET` bytes are
  held for them; past that, the oldest (the slowest) is closed to make room for a new one;
- in a thread, every socket call times out after :data:`IO_SECONDS` (a client that stops
  reading its answer);
- the lingering close after an answer (half-close, read what the client still sends, so the
  answer is not cut by a reset) runs in the event loop too: gunicorn's blocks the loop for up
  to 2 s a connection, and 40 clients that never hung up stalled both workers for 40 s.

TLS, HTTP/2 and uWSGI connections are left to gunicorn's own worker: the skill is served as
plain HTTP/1.1 behind a TLS proxy.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import time
from enum import Enum
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.config import Config
from gunicorn.http import RequestParser
from gunicorn.workers.gthread import TConn, ThreadWorker

from skill.settings import MAX_BODY_BYTES

__all__ = ["BufferingWorker", "RequestScan", "Verdict", "request_verdict"]

REQUEST_SECONDS = 10.0
"""How long a client has to send a whole request (Alexa sends one in a single write)."""
IO_SECONDS = 10.0
"""How long a thread waits on any one socket call."""
HEADER_LIMIT = 32 * 1024
"""The request line and headers; an Alexa request's are under 2 KiB."""
MAX_READING = 512
"""Connections being read at once, per worker."""
BUFFER_BUDGET = 16 * 1024 * 1024
"""Bytes held for requests being read, per worker."""
LINGER_SECONDS = 2.0
LINGER_DRAIN = 64 * 1024
MAX_LINGERING = 1024

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_HEX = frozenset(b"0123456789abcdefABCDEF")


def _response(status: str, body: bytes = b"") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
        + ("Content-Type: application/json\r\n" if body else "")
        + "\r\n"
    )
    return head.encode() + body


TIMED_OUT = _response("408 Request Timeout")
HEADERS_TOO_LARGE = _response("431 Request Header Fields Too Large")
BODY_TOO_LARGE = _response("400 Bad Request", b'{"error":"request body too large"}')


class Verdict(Enum):
    INCOMPLETE = "incomplete"
    """Wait for more."""
    COMPLETE = "complete"
    """Hand it to a thread: whole, or malformed in a way gunicorn's parser or the app answers
    without reading more."""
    CONTINUE = "continue"
    """Incomplete, headers in, and the client waits for "100 Continue" before its body."""
    HEADERS_TOO_LARGE = "headers too large"
    BODY_TOO_LARGE = "body too large"


def _head_end(buf: bytes | bytearray, start: int) -> int | None:
    """Where the headers that ``start`` is in end (after their blank line), or None."""
    ends = [i + 4 for i in (buf.find(b"\r\n\r\n", start),) if i >= 0]
    ends += [i + 2 for i in (buf.find(b"\n\n", start),) if i >= 0]
    return min(ends) if ends else None


class RequestScan:
    """How far the HTTP/1.1 request at the start of a growing buffer has come.

    Call :meth:`verdict` with the whole buffer each time more has arrived: it resumes where it
    stopped, so a request in many small pieces costs time in proportion to its size. It reads
    only what framing needs (``Content-Length``, ``Transfer-Encoding``, ``Expect``); anything
    malformed is handed on whole for gunicorn's parser or the app to answer.
    """

    def __init__(self, header_limit: int = HEADER_LIMIT, body_limit: int = MAX_BODY_BYTES):
        self.header_limit = header_limit
        self.body_limit = body_limit
        self._start: int | None = None  # the request line, after any leading blank lines
        self._searched = 0  # how far the end of the headers (or trailers) was looked for
        self._end: int | None = None  # where the body starts
        self._decided: Verdict | None = None  # a verdict the headers alone give
        self._chunked = False
        self._length = 0
        self._expects = False
        self._pos = 0  # chunked: the next chunk's size line
        self._decoded = 0
        self._trailers = False

    def verdict(self, buf: bytes | bytearray) -> Verdict:
        if self._end is None:
            if self._start is None:
                self._start = len(buf) - len(buf.lstrip(b"\r\n"))
                if self._start == len(buf):
                    self._start = None
                    return self._incomplete_head(buf)
                self._searched = self._start
            end = _head_end(buf, max(self._start, self._searched - 3))
            self._searched = len(buf)
            if end is None:
                return self._incomplete_head(buf)
            if end > self.header_limit:
                return Verdict.HEADERS_TOO_LARGE
            self._end = self._pos = end
            self._read_headers(bytes(buf[self._start : end]))
        if self._decided is not None:
            return self._decided
        if self._chunked:
            verdict = self._scan_chunks(buf)
        elif len(buf) - self._end >= self._length:
            verdict = Verdict.COMPLETE
        else:
            verdict = Verdict.INCOMPLETE
        if verdict is Verdict.INCOMPLETE:
            continues = self._expects and len(buf) == self._end
            return Verdict.CONTINUE if continues else Verdict.INCOMPLETE
        return verdict

    def _incomplete_head(self, buf: bytes | bytearray) -> Verdict:
        return Verdict.INCOMPLETE if len(buf) <= self.header_limit else Verdict.HEADERS_TOO_LARGE

    def _read_headers(self, head: bytes) -> None:
        lengths: list[bytes] = []
        encodings: list[bytes] = []
        for line in head.split(b"\n")[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                continue
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                lengths.append(value)
            elif name == b"transfer-encoding":
                encodings.extend(part.strip().lower() for part in value.split(b","))
            elif name == b"expect":
                self._expects = value.lower() == b"100-continue"
        if encodings:
            if encodings[-1] != b"chunked" or lengths:
                self._decided = Verdict.COMPLETE  # the parser answers 400
            self._chunked = True
        elif lengths:
            if len(set(lengths)) != 1 or not lengths[0].isdigit() or len(lengths[0]) > 18:
                self._decided = Verdict.COMPLETE  # the parser answers 400
            elif int(lengths[0]) > self.body_limit:
                self._decided = Verdict.COMPLETE  # the app refuses it by its Content-Length
            else:
                self._length = int(lengths[0])
        else:
            self._decided = Verdict.COMPLETE  # no body

    def _scan_chunks(self, buf: bytes | bytearray) -> Verdict:
        """Whether a chunked body has come whole (RFC 9112 section 7.1). Malformed framing is
        handed on: gunicorn's parser raises as the app reads the body, and the app answers 400."""
        assert self._end is not None
        if len(buf) - self._end > 2 * self.body_limit + self.header_limit:
            return Verdict.BODY_TOO_LARGE  # mostly framing: no Alexa request looks like this
        while not self._trailers:
            eol = buf.find(b"\n", self._pos)
            if eol < 0:
                return Verdict.INCOMPLETE if len(buf) - self._pos <= 1024 else Verdict.COMPLETE
            field = bytes(buf[self._pos : eol]).rstrip(b"\r").split(b";", 1)[0].strip()
            if not field or not _HEX.issuperset(field) or len(field) > 16:
                return Verdict.COMPLETE  # the app's read fails: a 400
            size = int(field, 16)
            data = eol + 1
            if size == 0:  # the last chunk; then trailers and a blank line
                self._pos = self._searched = data
                self._trailers = True
                break
            if self._decoded + min(size, len(buf) - data) > self.body_limit:
                return Verdict.COMPLETE  # what the app reads is here; it refuses the body
            after = data + size
            if buf.startswith(b"\r\n", after):
                self._pos = after + 2
            elif buf.startswith(b"\n", after):
                self._pos = after + 1
            elif len(buf) - after >= 2 or (len(buf) - after == 1 and buf[after] != 13):
                return Verdict.COMPLETE  # no line end after the data: the app's read fails: a 400
            else:
                return Verdict.INCOMPLETE
            self._decoded += size
        if buf.startswith(b"\r\n", self._pos) or buf.startswith(b"\n", self._pos):
            return Verdict.COMPLETE
        if _head_end(buf, max(self._pos, self._searched - 3)) is not None:
            return Verdict.COMPLETE
        self._searched = len(buf)
        if len(buf) - self._pos > self.header_limit:
            return Verdict.COMPLETE  # trailers too long: the app's read fails: a 400
        return Verdict.INCOMPLETE


def request_verdict(
    buf: bytes | bytearray, header_limit: int = HEADER_LIMIT, body_limit: int = MAX_BODY_BYTES
) -> Verdict:
    """How far the HTTP/1.1 request at the start of ``buf`` has come (:class:`RequestScan`)."""
    return RequestScan(header_limit, body_limit).verdict(buf)


class _TimedSocket(socket.socket):
    """A socket whose "blocking" mode has a timeout: a thread waits at most ``io_timeout`` on
    any one call (gunicorn sets a connection blocking before a thread reads and answers)."""

    io_timeout: float = IO_SECONDS

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(self.io_timeout)
        else:
            super().setblocking(False)


class _Conn(TConn):
    """A connection read by the event loop, then served by a thread."""

    def __init__(
        self, cfg: Config, sock: socket.socket, client: Any, server: Any, worker: BufferingWorker
    ) -> None:
        super().__init__(cfg, sock, client, server)
        self.worker = worker
        self.buffer = bytearray()
        self.scan = RequestScan()
        self.deadline = 0.0
        self.continued = False

    def close(self, graceful: bool = False) -> None:
        if graceful:
            self.worker.linger(self.sock)
        else:
            util.close(self.sock)


class BufferingWorker(ThreadWorker):
    """gunicorn's ``gthread`` worker that reads each request whole before a thread takes it."""

    request_seconds = REQUEST_SECONDS
    io_seconds = IO_SECONDS
    header_limit = HEADER_LIMIT
    body_limit = MAX_BODY_BYTES
    max_reading = MAX_READING
    buffer_budget = BUFFER_BUDGET

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Insertion-ordered, so the first is the oldest (deadlines are a fixed time after it).
        self.reading: dict[_Conn, None] = {}
        self.buffered = 0
        self.lingering: dict[socket.socket, float] = {}

    def _buffers(self) -> bool:
        cfg = self.cfg
        return (
            not cfg.is_ssl
            and cfg.protocol == "http"
            and cfg.http2_cleartext not in ("prior-knowledge", "both")
        )

    # ------------------------------------------------------------------ reading requests

    def accept(self, listener: socket.socket) -> None:
        if not self._buffers():
            super().accept(listener)
            return
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        sock = _TimedSocket(client.family, client.type, client.proto, fileno=client.detach())
        sock.io_timeout = self.io_seconds
        self.nr_conns += 1
        conn = _Conn(self.cfg, sock, address, listener.getsockname(), self)
        self._read_request(conn)

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """A kept-alive connection's next request is read whole too (keep-alive is off in
        ``yoga-skill serve``; this is for a configuration that turns it on)."""
        if not isinstance(conn, _Conn):
            super().on_client_socket_readable(conn, client)
            return
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read_request(conn)

    def _read_request(self, conn: _Conn) -> None:
        # Room for a new connection even when every other one is slow: gunicorn stops
        # accepting at worker_connections, so the oldest (slowest) goes first.
        most = min(self.max_reading, max(1, self.worker_connections - self.cfg.threads))
        while len(self.reading) >= most:
            self._drop(next(iter(self.reading)), TIMED_OUT)
        conn.deadline = time.monotonic() + self.request_seconds
        conn.continued = False
        conn.scan = RequestScan(self.header_limit, self.body_limit)
        self.reading[conn] = None
        try:
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))
        except (KeyError, ValueError, OSError):
            self._drop(conn)
            return
        self._on_readable(conn, conn.sock)  # a request is often there already

    def _on_readable(self, conn: _Conn, _sock: object) -> None:
        if conn not in self.reading:
            return
        try:
            data = conn.sock.recv(64 * 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(conn)
            return
        if not data:  # the client went away
            self._drop(conn)
            return
        conn.buffer += data
        self.buffered += len(data)
        verdict = conn.scan.verdict(conn.buffer)
        if verdict is Verdict.COMPLETE:
            self._hand_over(conn)
        elif verdict is Verdict.HEADERS_TOO_LARGE:
            self._drop(conn, HEADERS_TOO_LARGE)
        elif verdict is Verdict.BODY_TOO_LARGE:
            self._drop(conn, BODY_TOO_LARGE)
        else:
            if verdict is Verdict.CONTINUE and not conn.continued:
                conn.continued = True
                _send_now(conn.sock, _CONTINUE)
            while self.buffered > self.buffer_budget and len(self.reading) > 1:
                self._drop(next(iter(self.reading)), TIMED_OUT)

    def _stop_reading(self, conn: _Conn) -> None:
        del self.reading[conn]
        self.buffered -= len(conn.buffer)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    def _hand_over(self, conn: _Conn) -> None:
        """Give a whole request to a thread, with the bytes read so far in front of the
        socket's."""
        self._stop_reading(conn)
        try:
            conn.init()  # plain HTTP/1.1: makes the parser, reads nothing
        except Exception:
            self.nr_conns -= 1
            util.close(conn.sock)
            return
        parser = conn.parser
        if not isinstance(parser, RequestParser):  # pragma: no cover - plain HTTP/1.1 only
            self.nr_conns -= 1
            util.close(conn.sock)
            return
        parser.unreader.unread(bytes(conn.buffer))
        conn.buffer = bytearray()
        conn.data_ready = True
        self.enqueue_req(conn)

    def _drop(self, conn: _Conn, answer: bytes | None = None) -> None:
        """Stop reading a connection, with a short answer if it still listens."""
        self._stop_reading(conn)
        self.nr_conns -= 1
        if answer is None:
            util.close(conn.sock)
            return
        _send_now(conn.sock, answer)
        self.linger(conn.sock)

    # ------------------------------------------------------------------ closing

    def linger(self, sock: socket.socket) -> None:
        """Close after an answer without blocking: half-close, then read (and drop) what the
        client still sends, until it hangs up or :data:`LINGER_SECONDS` pass."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(0.0)
        except OSError:
            util.close(sock)
            return
        while len(self.lingering) >= MAX_LINGERING:
            self._stop_lingering(next(iter(self.lingering)))
        self.lingering[sock] = time.monotonic() + LINGER_SECONDS
        try:
            self.poller.register(sock, selectors.EVENT_READ, self._on_lingering_readable)
        except (KeyError, ValueError, OSError):
            self._stop_lingering(sock)

    def _on_lingering_readable(self, sock: socket.socket) -> None:
        drained = 0
        while drained < LINGER_DRAIN:
            try:
                data = sock.recv(16 * 1024)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                break
            if not data:
                break
            drained += len(data)
        self._stop_lingering(sock)

    def _stop_lingering(self, sock: socket.socket) -> None:
        self.lingering.pop(sock, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(sock)
        util.close(sock)

    # ------------------------------------------------------------------ deadlines

    def murder_pending(self) -> None:
        """gunicorn calls this on every turn of the event loop (at least once a second)."""
        super().murder_pending()
        now = time.monotonic()
        while self.reading:
            conn = next(iter(self.reading))
            if conn.deadline > now:
                break
            self._drop(conn, TIMED_OUT)
        while self.lingering:
            sock, deadline = next(iter(self.lingering.items()))
            if deadline > now:
                break
            self._stop_lingering(sock)


def _send_now(sock: socket.socket, data: bytes) -> None:
    """Send what fits without waiting (a short answer to a client that may not listen)."""
    with contextlib.suppress(OSError):
        sock.send(data, socket.MSG_DONTWAIT)
