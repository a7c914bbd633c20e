"""A loopback stand-in for the Alexa APIs the habits call: the Settings API's time zone and the
Reminders API. It answers as the documented APIs do, records every request it receives, and can
be told to refuse (401, 403, 400, 500) or to answer slowly.

A request envelope points at it through ``context.System.apiEndpoint`` (:func:`point_at`), as
Alexa points a skill at ``https://api.amazonalexa.com``; the skill is built with an
:class:`~skill.alexa.alexa_api.AlexaApi` that allows loopback.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "stub-api-access-token"
PERMISSION = "alexa::alerts:reminders:skill:readwrite"
TIME_ZONE_PATH = "/v2/devices/{device}/settings/System.timeZone"
REMINDERS_PATH = "/v1/alerts/reminders"
SLOW_SECONDS = 3.0
"""How long a slow answer takes (the skill's deadlines in the tests are far shorter)."""


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class AlexaApiStub:
    """What the stub answers, and what it received."""

    time_zone: str | None = None
    """The device's time zone (the tests set it, or leave it to their clock's)."""
    time_zone_status: int = 200
    create_status: int = 201
    list_status: int = 200
    delete_status: int = 200
    slow: set[str] = field(default_factory=set)
    """Which calls answer after :data:`SLOW_SECONDS`: ``"time_zone"``, ``"create"``, ..."""
    reminders: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _release: threading.Event = field(default_factory=threading.Event)

    def calls(self, method: str, path_start: str) -> list[Received]:
        return [r for r in self.received if r.method == method and r.path.startswith(path_start)]

    def add_reminder(self, scheduled: str, status: str = "ON") -> str:
        token = str(uuid.uuid4())
        self.reminders[token] = _reminder(token, scheduled, None, status)
        return token

    # ------------------------------------------------------------------ answering

    def answer(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        self.received.append(Received(method, path, headers, body))
        settings = path.endswith("/settings/System.timeZone") and method == "GET"
        if headers.get("authorization") != f"Bearer {TOKEN}":
            code = "INVALID_TOKEN" if settings else "UNAUTHORIZED"
            return 401, {"code": code, "message": "The token is invalid."}
        if settings:
            self._wait("time_zone")
            if self.time_zone_status == 403:
                return 403, {"code": "INVALID_TOKEN", "message": "No access to the setting."}
            if self.time_zone_status == 204:
                return 204, None
            if self.time_zone_status != 200:
                return self.time_zone_status, {"code": "UNKNOWN_ERROR", "message": "Failed."}
            return 200, self.time_zone
        if path == REMINDERS_PATH and method == "POST":
            self._wait("create")
            if self.create_status != 201:
                return self.create_status, _error(self.create_status)
            token = str(uuid.uuid4())
            trigger = body.get("trigger", {})
            self.reminders[token] = _reminder(
                token, trigger.get("scheduledTime"), trigger.get("timeZoneId"), "ON"
            )
            return 201, {
                "alertToken": token,
                "createdTime": "2025-01-01T00:00:00.000Z",
                "updatedTime": "2025-01-01T00:00:00.000Z",
                "status": "ON",
                "version": "1",
                "href": f"{REMINDERS_PATH}/{token}",
            }
        if path == REMINDERS_PATH and method == "GET":
            self._wait("list")
            if self.list_status != 200:
                return self.list_status, _error(self.list_status)
            alerts = list(self.reminders.values())
            return 200, {"totalCount": str(len(alerts)), "alerts": alerts, "links": None}
        if path.startswith(REMINDERS_PATH + "/") and method == "DELETE":
            self._wait("delete")
            if self.delete_status != 200:
                return self.delete_status, _error(self.delete_status)
            found = self.reminders.pop(path.rsplit("/", 1)[-1], None)
            return (200, None) if found else (404, _error(404))
        return 404, {"code": "NOT_FOUND", "message": path}

    def _wait(self, what: str) -> None:
        if what in self.slow:
            self._release.wait(SLOW_SECONDS)


def _reminder(token: str, scheduled: Any, zone: Any, status: str) -> dict[str, Any]:
    return {
        "alertToken": token,
        "createdTime": "2025-01-01T00:00:00.000Z",
        "updatedTime": "2025-01-01T00:00:00.000Z",
        "trigger": {"type": "SCHEDULED_ABSOLUTE", "scheduledTime": scheduled, "timeZoneId": zone},
        "status": status,
        "alertInfo": {"spokenInfo": {"content": [{"locale": "en-GB", "text": "stretch"}]}},
        "pushNotification": {"status": "ENABLED"},
        "version": "1",
    }


def _error(status: int) -> dict[str, str]:
    codes = {
        400: ("INVALID_REQUESTED_TIME", "The requested time is in the past."),
        401: ("UNAUTHORIZED", "The user has not granted the reminders permission."),
        403: ("FORBIDDEN", "The user has not granted the reminders permission."),
        404: ("NOT_FOUND", "No such reminder."),
        429: ("RATE_EXCEEDED", "Too many requests."),
        500: ("INTERNAL_ERROR", "Internal error."),
        503: ("SERVICE_UNAVAILABLE", "Try again later."),
    }
    code, message = codes.get(status, ("ERROR", "Error."))
    return {"code": code, "message": message}


class _Handler(BaseHTTPRequestHandler):
    stub: AlexaApiStub

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = self.stub.answer(self.command, self.path, headers, body)
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)
        except OSError:  # the skill gave up on a slow answer and closed the connection
            pass

    do_GET = do_POST = do_DELETE = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def running_stub(stub: AlexaApiStub | None = None) -> Iterator[AlexaApiStub]:
    """The stub serving on 127.0.0.1 on a free port, in a thread, until the block ends."""
    stub = stub or AlexaApiStub()
    handler = type("Handler", (_Handler,), {"stub": stub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stub._release.set()  # slow answers end now
        server.shutdown()
        server.server_close()
        thread.join(5)


def point_at(
    envelope: dict[str, Any], stub: AlexaApiStub, *, permitted: bool | None = None
) -> dict[str, Any]:
    """``envelope`` with its API endpoint and token the stub's; with ``permitted``, the
    reminders permission granted (True) or denied (False) as Alexa says it in the request."""
    system = envelope["context"]["System"]
    system["apiEndpoint"] = stub.url
    system["apiAccessToken"] = TOKEN
    if permitted is not None:
        status = "GRANTED" if permitted else "DENIED"
        user = system.setdefault("user", {})
        user["permissions"] = {
            "consentToken": TOKEN if permitted else None,
            "scopes": {PERMISSION: {"status": status}},
        }
        if not permitted:
            del user["permissions"]["consentToken"]
    return envelope
