"""The Flask webhook Alexa calls: ``POST /alexa``, ``GET /healthz``, the clips under ``/audio/``,
and the privacy policy and terms of use at ``/privacy`` and ``/terms`` (:mod:`skill.web.pages`);
the phone player at ``/`` (:mod:`skill.web.player_site`).

Every request to ``/alexa`` is verified as Alexa requires (unless verification is turned off for
local development), parsed, and dispatched through the one skill object. Bad input gets a 400
with a short reason; nothing the caller sends can produce a traceback in the response.
"""

from __future__ import annotations

import hashlib
import logging
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from ask_sdk_core.skill import CustomSkill
from flask import Flask, Response, request, send_from_directory
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import Rule

from skill.alexa.dispatch import BadEnvelope, dispatch, for_other_skill
from skill.settings import DEFAULT_LOCALE, Settings
from skill.web import page_routes
from skill.web.player_routes import add_player

if TYPE_CHECKING:
    from werkzeug.datastructures import Headers

    from skill.web.verification import RequestVerifier

# skill.web.verification (and with it cryptography, a sixth of a cold start) is imported only
# where requests are verified.

Check = Callable[["Headers", bytes, dict[str, Any]], "str | None"]
"""Why a request is not taken (``None``: it is): verification, or the application id alone."""

log = logging.getLogger(__name__)
access_log = logging.getLogger("skill.access")

AUDIO_MAX_AGE = 7 * 24 * 3600
LOGGED_FIELD_CHARS = 128
"""The longest request id, type or intent name the access log holds (Alexa's are under 100)."""


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def _member(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """``parent[key]`` when it is a JSON object, else an empty one."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _capped(value: Any) -> str | None:
    """A request's string field as the log may hold it: at most :data:`LOGGED_FIELD_CHARS`."""
    return value[:LOGGED_FIELD_CHARS] if isinstance(value, str) else None


def _summary(envelope: Any) -> dict[str, Any]:
    """What the access log may say about a request: its id, type and intent as strings of at
    most :data:`LOGGED_FIELD_CHARS` (anything else is left out), and a hash of the user id,
    never the id itself. Whatever the shape of the body, this never raises."""
    try:
        if not isinstance(envelope, dict):
            return {}
        req = _member(envelope, "request")
        intent = _member(req, "intent")
        user = _member(_member(_member(envelope, "context"), "System"), "user").get("userId")
        out: dict[str, Any] = {
            "request_id": _capped(req.get("requestId")),
            "type": _capped(req.get("type")),
            "intent": _capped(intent.get("name")),
        }
        if isinstance(user, str):
            digest = hashlib.sha256(user.encode("utf-8", "surrogatepass")).hexdigest()
            out["user"] = digest[:12]
        return out
    except Exception:  # pragma: no cover - a log line must never fail a request
        return {}


def _body(limit: int) -> bytes:
    """The request body. Over ``limit`` bytes (by its Content-Length, or, for a chunked body
    with no Content-Length, by reading one byte past the limit), or unreadable (chunk framing
    the server cannot decode, a client gone), it is a 400 with the reason."""
    try:
        data = _read_body(limit)
    except Exception as exc:  # the server's own error for a body it cannot read
        log.info("request body could not be read (%s)", type(exc).__name__)
        raise BadRequest("request body could not be read") from None
    if data is None:
        raise BadRequest("request body too large")
    return data


def _read_body(limit: int) -> bytes | None:
    """The request body, or None when it is over ``limit`` bytes."""
    length = request.content_length
    stream = request.environ.get("wsgi.input")
    if length is not None:
        if length > limit:
            return None
        if stream is None:
            return b""
        # Read as WSGI gives it: werkzeug's request.get_data wraps the stream for the same read
        # and cost as much again (a short read is a body that is not JSON: a 400 all the same).
        data: bytes = stream.read(length)
        return data
    if stream is None or not request.environ.get("wsgi.input_terminated"):
        return request.get_data(cache=False)  # no length and no framing: no body
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = stream.read(min(64 * 1024, limit + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return None if size > limit else b"".join(parts)


class LazyBuildRule(Rule):
    """A route whose URL builders are compiled when first used. werkzeug compiles two Python
    functions per route to build its URLs (``url_for``), which the webhook never does for most
    of them: for its nine routes that was a fortieth of the cold start."""

    def _compile_builder(self, *args: Any, **kwargs: Any) -> Callable[..., tuple[str, str]]:
        compile_now = super()._compile_builder
        compiled: list[Callable[..., tuple[str, str]]] = []

        def build(rule: Rule, *values: Any, **named: Any) -> tuple[str, str]:
            if not compiled:
                compiled.append(types.MethodType(compile_now(*args, **kwargs), rule))
            return compiled[0](*values, **named)

        return build


def create_app(
    settings: Settings | None = None,
    *,
    skill: CustomSkill | None = None,
    verifier: RequestVerifier | None = None,
) -> Flask:
    """The webhook application. ``skill`` and ``verifier`` default to the settings' own."""
    config = settings or Settings.from_env()
    if skill is None:
        from skill.alexa.builder import skill_for

        skill = skill_for(config)
    if config.verify and verifier is None:
        from skill.web.verification import RequestVerifier

        verifier = RequestVerifier.from_settings(config)
    check = _check(verifier, config.skill_id)
    # No /static/ route: nothing is served from skill/web/static/ as it is (each route is a rule
    # werkzeug compiles at start-up).
    app = Flask(__name__, static_folder=None)
    app.url_rule_class = LazyBuildRule
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.extensions["yoga_skill"] = skill

    def reject(reason: str, status: int = 400) -> Response:
        return _json({"error": reason}, status)

    @app.post("/alexa")
    def alexa() -> Response:
        raw = _body(config.max_body_bytes)
        try:
            envelope = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return reject("request body is not JSON")
        request.environ["yoga.envelope"] = envelope  # summarised for the log, if it is kept
        if not isinstance(envelope, dict):
            return reject("request body is not an Alexa request envelope")
        refused = check(request.headers, raw, envelope)
        if refused is not None:
            return reject(f"request not verified: {refused}")
        try:
            return _json(dispatch(skill, envelope))
        except BadEnvelope as exc:
            return reject(str(exc))

    @app.get("/healthz")
    def healthz() -> Response:
        return _json({"status": "ok", "verify": config.verify})

    if config.audio_dir is not None:
        audio_dir = config.audio_dir

        @app.get("/audio/<path:name>")
        def audio(name: str) -> Response:
            response = send_from_directory(audio_dir, name, max_age=AUDIO_MAX_AGE)
            response.headers["Cache-Control"] = f"public, max-age={AUDIO_MAX_AGE}, immutable"
            response.headers["Access-Control-Allow-Origin"] = "*"
            return response

    page_routes.init_app(app)  # /privacy and /terms

    if config.audio_dir is not None:  # the phone player at /: the clips, offline
        add_player(app, config.audio_dir)

    if config.dev:
        _add_try_page(app, skill)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 400
        if status == 413:
            status = 400
        return reject(exc.description or exc.name, status)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.error("request failed", exc_info=exc)
        return reject("request could not be handled", 400)

    @app.before_request
    def start_timer() -> None:
        request.environ["yoga.start"] = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        if request.path == "/alexa" and access_log.isEnabledFor(logging.INFO):
            started = request.environ.get("yoga.start", time.perf_counter())
            record = {
                **_summary(request.environ.get("yoga.envelope")),
                "status": response.status_code,
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            }
            access_log.info("request", extra={"fields": record})
        return response

    return app


def _check(verifier: RequestVerifier | None, skill_id: str | None) -> Check:
    """The check every request to ``/alexa`` passes: the verifier's (which checks the
    application id too), or without one the application id alone (when one is configured)."""
    if verifier is None:

        def application_id(headers: Headers, raw: bytes, envelope: dict[str, Any]) -> str | None:
            # What skill.web.verification.verify_application_id says, without importing it.
            return "application id does not match" if for_other_skill(envelope, skill_id) else None

        return application_id

    from skill.web.verification import VerificationError

    def verified(headers: Headers, raw: bytes, envelope: dict[str, Any]) -> str | None:
        try:
            verifier.verify(headers, raw, envelope)
        except VerificationError as exc:
            return str(exc)
        return None

    return verified


def _add_try_page(app: Flask, skill: CustomSkill) -> None:
    """A page at ``/try`` (development only) for a person to talk to the skill by typing,
    through the same skill object.

    The browser holds the session (id and attributes) and sends it back each turn, as Alexa does.
    """
    from skill.local.dialog import Dialog
    from skill.local.envelopes import Session
    from skill.local.resolver import Resolver

    resolver = Resolver.for_locale(DEFAULT_LOCALE)
    page = (Path(__file__).parent / "static" / "try.html").read_bytes()

    @app.get("/try")
    def try_page() -> Response:
        return Response(page, mimetype="text/html")

    @app.post("/say")
    def say() -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("utterance"), str):
            return _json({"error": "send {utterance, session}"}, 400)
        session = Session(locale=DEFAULT_LOCALE)
        saved = body.get("session")
        if isinstance(saved, dict) and isinstance(saved.get("id"), str):
            session.session_id = saved["id"]
            session.new = False
            attributes = saved.get("attributes")
            session.attributes = attributes if isinstance(attributes, dict) else {}
        dialog = Dialog(skill, resolver=resolver, session=session)
        turn = dialog.say(body["utterance"][:500])
        state = None
        if not turn.should_end_session:
            state = {"id": dialog.session.session_id, "attributes": dialog.session.attributes}
        return _json({**turn.to_json(), "session": state})
