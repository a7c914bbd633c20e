"""Call a WSGI app directly with a prepared environ: the one harness every in-process figure uses.

Standard library only, so the cold-start scripts can use it without importing anything the
skill would not import anyway.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Mapping
from time import perf_counter_ns, thread_time_ns
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def environ_template(
    body_length: int,
    headers: Mapping[str, str] | None = None,
    *,
    path: str = "/alexa",
    method: str = "POST",
) -> dict[str, Any]:
    """The environ a WSGI server would build for a JSON POST, without its body stream."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "Apache-HttpClient/UNAVAILABLE (Java/1.8.0_271)",
        "HTTP_ACCEPT": "application/json",
        "CONTENT_TYPE": "application/json; charset=utf-8",
        "CONTENT_LENGTH": str(body_length),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


class Caller:
    """Times ``app(environ, start_response)`` plus reading and closing the response body.

    The environ is copied and given a fresh body stream before the clock starts; what is timed
    is exactly what a WSGI server would wait for: wall time, and this thread's CPU time
    (:attr:`last_cpu_ns`), which on a shared machine leaves out the time spent waiting for a core.
    """

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.statuses: list[str] = []
        self.last_cpu_ns = 0

    def _start_response(self, status: str, headers: Any, exc_info: Any = None) -> None:
        self.statuses.append(status)

    def call(self, template: Mapping[str, Any], body: bytes) -> tuple[int, bytes]:
        """One request: (elapsed nanoseconds, response body)."""
        environ = dict(template)
        environ["wsgi.input"] = io.BytesIO(body)
        start_response = self._start_response
        app = self.app
        c0 = thread_time_ns()
        t0 = perf_counter_ns()
        result = app(environ, start_response)
        try:
            out = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        t1 = perf_counter_ns()
        self.last_cpu_ns = thread_time_ns() - c0
        return t1 - t0, out

    def last_status(self) -> str:
        return self.statuses[-1] if self.statuses else ""
