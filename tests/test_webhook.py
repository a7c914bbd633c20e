"""The Flask webhook: verified requests, bad input, logs, and resume across sessions."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from certs import CERT_URL, make_chain
from conftest import REPO
from flask.testing import FlaskClient

from skill.alexa.handlers import build_skill
from skill.alexa.persistence import SqliteAdapter
from skill.local.envelopes import Session, slot
from skill.settings import Settings
from skill.web import logs
from skill.web.verification import cache_file_name
from skill.web.webhook import create_app

SKILL_ID = "amzn1.ask.skill.11111111-2222-3333-4444-555555555555"


@pytest.fixture
def signed_env(tmp_path: Path) -> dict[str, Any]:
    """Trust store and certificate cache for a throwaway CA, as an operator would set them."""
    chain = make_chain()
    trust = tmp_path / "roots.pem"
    trust.write_bytes(chain.root_pem)
    cache = tmp_path / "certs"
    cache.mkdir()
    (cache / cache_file_name(CERT_URL)).write_bytes(chain.chain_pem)
    env = {
        "ALEXA_TRUST_STORE": str(trust),
        "ALEXA_CERT_CACHE_DIR": str(cache),
        "YOGA_SKILL_ID": SKILL_ID,
        "YOGA_PERSISTENCE": "sqlite",
        "YOGA_DB": str(tmp_path / "progress.sqlite3"),
    }
    return {"env": env, "chain": chain}


@pytest.fixture
def verified_client(signed_env: dict[str, Any]) -> FlaskClient:
    app = create_app(Settings.from_env(signed_env["env"]))
    return app.test_client()


def _post_signed(client: FlaskClient, chain: Any, envelope: dict[str, Any]) -> Any:
    body = json.dumps(envelope).encode()
    return client.post("/alexa", data=body, headers=chain.headers(body))


def test_signed_request_is_answered(verified_client: FlaskClient, signed_env: dict) -> None:
    session = Session(skill_id=SKILL_ID)
    response = _post_signed(verified_client, signed_env["chain"], session.launch())
    assert response.status_code == 200
    assert "Spinal roll into forward fold" in response.json["response"]["outputSpeech"]["ssml"]


@pytest.mark.parametrize(
    "tamper",
    ["unsigned", "body_changed", "wrong_skill", "stale", "bad_url", "signature_garbage"],
)
def test_unverified_requests_get_400_and_are_not_dispatched(
    tamper: str, signed_env: dict[str, Any], tmp_path: Path
) -> None:
    chain = signed_env["chain"]
    app = create_app(Settings.from_env(signed_env["env"]))
    client = app.test_client()
    session = Session(skill_id="amzn1.ask.skill.other" if tamper == "wrong_skill" else SKILL_ID)
    envelope = session.launch()
    if tamper == "stale":
        envelope["request"]["timestamp"] = (datetime.now(UTC) - timedelta(seconds=200)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    body = json.dumps(envelope).encode()
    headers = chain.headers(body)
    if tamper == "unsigned":
        headers = {}
    elif tamper == "body_changed":
        body = body.replace(b"LaunchRequest", b"LaunchRequest ")
    elif tamper == "bad_url":
        headers = chain.headers(body, cert_url="https://s3.amazonaws.com/EcHo.aPi/cert.pem")
    elif tamper == "signature_garbage":
        headers["Signature-256"] = "not-base64!"
    response = client.post("/alexa", data=body, headers=headers)
    assert response.status_code == 400
    assert response.json["error"].startswith("request not verified")
    # Not dispatched: nothing was saved for this runner.
    db = Path(signed_env["env"]["YOGA_DB"])
    if db.exists():
        with SqliteAdapter(db) as adapter:
            assert adapter.get_attributes(_envelope_object(envelope)) == {}


def _envelope_object(envelope: dict[str, Any]) -> Any:
    from skill.alexa.dispatch import parse_envelope

    return parse_envelope(envelope)


@pytest.fixture
def dev_client() -> FlaskClient:
    app = create_app(Settings(verify=False), skill=build_skill())
    return app.test_client()


BAD_BODIES = [
    b"",
    b"not json",
    b'{"request": ',
    b"[1, 2, 3]",
    b'"just a string"',
    b"{}",
    b'{"request": {}}',
    b'{"request": {"type": "NoSuchRequest"}}',
    b'{"request": {"type": "IntentRequest", "timestamp": 12}}',
    b"\xff\xfe\x00garbage",
    b"{" * 5000,
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_bodies_get_400_with_a_reason(dev_client: FlaskClient, body: bytes) -> None:
    response = dev_client.post("/alexa", data=body)
    assert response.status_code == 400
    assert response.json["error"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_odd_shapes_in_the_logged_fields_are_a_bad_request_not_a_failure(
    dev_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    # The access log's summary reads request.intent and context.System.user.userId first.
    body = {
        "version": "1.0",
        "context": {"System": {"user": "not an object"}},
        "request": {"type": "LaunchRequest", "intent": ["not an object"]},
    }
    with caplog.at_level(logging.ERROR):
        response = dev_client.post("/alexa", json=body)
    assert response.status_code == 400
    assert response.json["error"] == "malformed envelope"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_oversized_body_is_refused(dev_client: FlaskClient) -> None:
    response = dev_client.post("/alexa", data=b" " * (200 * 1024))
    assert response.status_code == 400
    assert "too large" in response.json["error"]


@pytest.mark.parametrize(
    ("intent", "slots"),
    [
        ("NoSuchIntent", {}),
        ("SetHoldLengthIntent", {"breaths": slot("breaths", "99999999999999999999999")}),
        ("SetHoldLengthIntent", {"breaths": slot("breaths", "-3")}),
        ("RepeatStepIntent", {"step_number": slot("step_number", "1e9")}),
        ("GoToPoseIntent", {"pose": slot("pose", "x" * 3000)}),
        ("SetModeIntent", {"mode": slot("mode", "<speak>&")}),
    ],
)
def test_odd_intents_and_slots_get_a_spoken_answer(
    dev_client: FlaskClient, intent: str, slots: dict[str, Any]
) -> None:
    session = Session()
    dev_client.post("/alexa", json=session.launch())
    response = dev_client.post("/alexa", json=session.intent(intent, slots))
    assert response.status_code == 200
    body = response.json["response"]
    assert body["outputSpeech"]["ssml"].startswith("<speak>")
    assert body["shouldEndSession"] is False
    assert body["reprompt"]["outputSpeech"]["ssml"]


def test_healthz(dev_client: FlaskClient) -> None:
    response = dev_client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"


def test_urls_are_built_though_their_builders_are_compiled_late() -> None:
    """The routes compile their URL builders when first asked (skill.web.webhook.LazyBuildRule):
    url_for gives what werkzeug's own rules give, query strings and escapes included."""
    from flask import url_for

    app = create_app(Settings(verify=False, persistence="none"))
    with app.test_request_context():
        assert url_for("healthz") == "/healthz"
        assert url_for("healthz", x="1 2") == "/healthz?x=1+2"
        assert url_for("audio", name="clips/a b.mp3") == "/audio/clips/a%20b.mp3"
        assert url_for("page_terms") == "/terms"
        assert url_for("healthz", _external=True) == "http://localhost/healthz"


def test_access_log_is_one_json_line_without_the_user_id(
    dev_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    session = Session(user_id="amzn1.ask.account.SECRET-RUNNER")
    with caplog.at_level(logging.INFO, logger="skill.access"):
        dev_client.post("/alexa", json=session.launch())
        dev_client.post("/alexa", data=b"nope")
    formatter = logs.JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records if r.name == "skill.access"]
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["type"] == "LaunchRequest"
    assert first["status"] == 200
    assert first["request_id"].startswith("amzn1.echo-api.request.")
    assert isinstance(first["latency_ms"], float)
    assert second["status"] == 400
    assert all("SECRET-RUNNER" not in line for line in lines)
    assert first["user"] == hashlib.sha256(session.user_id.encode()).hexdigest()[:12]


def test_dev_config_turns_verification_off_and_env_can_too() -> None:
    assert Settings.from_env({}, dev=True).verify is False
    assert Settings.from_env({}).verify is True
    assert Settings.from_env({"YOGA_VERIFY": "off"}).verify is False


def test_runner_is_offered_to_carry_on_in_a_new_session(tmp_path: Path) -> None:
    """Progress saved in SQLite through the webhook is offered back the next time."""
    env = {"YOGA_PERSISTENCE": "sqlite", "YOGA_DB": str(tmp_path / "p.sqlite3")}
    client = create_app(Settings.from_env({**env, "YOGA_VERIFY": "off"})).test_client()
    first = Session()
    client.post("/alexa", json=first.launch())
    reply = client.post(
        "/alexa",
        json=first.intent(
            "GoToPoseIntent",
            {"pose": slot("pose", "pigeon", resolved_id="pigeon", slot_type="PoseType")},
        ),
    )
    first.absorb(reply.json)
    reply = client.post("/alexa", json=first.intent("AMAZON.NextIntent"))
    first.absorb(reply.json)
    assert reply.json["sessionAttributes"]["yoga"]["side"] == "left"
    client.post("/alexa", json=first.session_ended("EXCEEDED_MAX_REPROMPTS"))

    later = Session(user_id=first.user_id)
    reply = client.post("/alexa", json=later.launch()).json
    speech = reply["response"]["outputSpeech"]["ssml"]
    assert "Welcome back" in speech
    assert "Pigeon pose on the left side" in speech
    later.absorb(reply)
    reply = client.post("/alexa", json=later.intent("AMAZON.YesIntent")).json
    assert reply["sessionAttributes"]["yoga"]["pose"] == "pigeon"
    assert reply["sessionAttributes"]["yoga"]["side"] == "left"
    assert "Pigeon pose" in reply["response"]["outputSpeech"]["ssml"]


def test_stale_progress_starts_fresh(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite3"
    clock = [1_000_000.0]
    skill = build_skill(persistence=SqliteAdapter(db), clock=lambda: clock[0])
    client = create_app(Settings(verify=False), skill=skill).test_client()
    first = Session()
    client.post("/alexa", json=first.launch())
    first_reply = client.post("/alexa", json=first.intent("SkipPoseIntent")).json
    assert first_reply["sessionAttributes"]["yoga"]["pose"] == "downward_dog"
    clock[0] += 13 * 3600
    reply = client.post("/alexa", json=Session(user_id=first.user_id).launch()).json
    speech = reply["response"]["outputSpeech"]["ssml"]
    assert "Welcome back" not in speech
    assert "Spinal roll into forward fold" in speech


# ---------------------------------------------------------------------- a real server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(signed_env: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """``yoga-skill serve`` as an operator runs it, with two gunicorn workers on loopback."""
    port = _free_port()
    env = {**os.environ, **signed_env["env"]}
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
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "") from None
                time.sleep(0.1)
        yield base, signed_env["chain"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        finally:
            if proc.stderr:
                proc.stderr.close()


def _http_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_served_skill_answers_signed_requests_over_http(served: tuple[str, Any]) -> None:
    base, chain = served
    session = Session(skill_id=SKILL_ID)
    body = json.dumps(session.launch()).encode()
    status, reply = _http_post(base + "/alexa", body, chain.headers(body))
    assert status == 200
    assert "Spinal roll" in reply["response"]["outputSpeech"]["ssml"]
    session.absorb(reply)
    body = json.dumps(session.intent("AMAZON.NextIntent")).encode()
    status, reply = _http_post(base + "/alexa", body, {"Content-Type": "application/json"})
    assert status == 400
    assert "not verified" in reply["error"]
    status, reply = _http_post(base + "/alexa", body, chain.headers(body))
    assert status == 200
    assert reply["sessionAttributes"]["yoga"]["pose"] == "downward_dog"


def test_try_page_talks_to_the_skill_in_dev_mode_only() -> None:
    dev = create_app(Settings(verify=False, dev=True), skill=build_skill()).test_client()
    page = dev.get("/try")
    assert page.status_code == 200
    assert b"<form" in page.data
    turn = dev.post("/say", json={"utterance": "start post run yoga"}).json
    assert turn["intent"] == "LaunchRequest"
    assert "Spinal roll into forward fold" in turn["speech"]
    turn = dev.post("/say", json={"utterance": "next", "session": turn["session"]}).json
    assert turn["intent"] == "AMAZON.NextIntent"
    assert turn["sessionAttributes"]["yoga"]["pose"] == "downward_dog"
    turn = dev.post("/say", json={"utterance": "stop", "session": turn["session"]}).json
    assert turn["shouldEndSession"] is True
    assert turn["session"] is None
    assert dev.post("/say", data=b"nope").status_code == 400

    production = create_app(Settings(verify=False), skill=build_skill()).test_client()
    assert production.get("/try").status_code == 404
    assert production.post("/say", json={"utterance": "next"}).status_code == 404


class _CountingAdapter(SqliteAdapter):
    """The real SQLite adapter, counting its writes."""

    saves = 0

    def save_attributes(self, request_envelope: Any, attributes: dict[str, Any]) -> None:
        type(self).saves += 1
        super().save_attributes(request_envelope, attributes)


def test_progress_is_written_only_when_the_runner_moves(tmp_path: Path) -> None:
    adapter = _CountingAdapter(tmp_path / "p.sqlite3")
    client = create_app(
        Settings(verify=False), skill=build_skill(persistence=adapter)
    ).test_client()
    session = Session()
    writes = []
    for envelope_of in (
        lambda: session.launch(),
        lambda: session.intent("WhichSideIntent"),
        lambda: session.intent("TopTipIntent"),
        lambda: session.intent("AMAZON.NextIntent"),
    ):
        session.absorb(client.post("/alexa", json=envelope_of()).json)
        writes.append(_CountingAdapter.saves)
    assert writes == [1, 1, 1, 2]
    saved = adapter.get_attributes(_envelope_object(session.launch()))
    assert saved["yoga"]["pose"] == "downward_dog"
    adapter.close()


# ---------------------------------------------------------------------- odd bodies, long fields

ODD_SHAPES: list[Any] = [
    {"request": {"type": "LaunchRequest", "requestId": ["a", "list"]}},
    {"request": {"type": {"an": "object"}, "requestId": {"an": "object"}}},
    {"request": {"type": 12, "requestId": 12.5}},
    {"request": {"type": None, "requestId": None}},
    {"request": {"type": "IntentRequest", "intent": {"name": ["AMAZON.NextIntent"]}}},
    {"request": {"type": "IntentRequest", "intent": "AMAZON.NextIntent"}},
    {"request": ["LaunchRequest"]},
    {"request": "LaunchRequest"},
    {"context": [], "request": {"type": "LaunchRequest"}},
    {"context": {"System": "not an object"}, "request": {"type": "LaunchRequest"}},
    {
        "context": {"System": {"user": ["not", "an", "object"]}},
        "request": {"type": "LaunchRequest"},
    },
    {"context": {"System": {"user": {"userId": {"an": ["object"]}}}}, "request": {"type": "x"}},
    {"request": {"type": "LaunchRequest", "requestId": {"a": {"b": {"c": {"d": [[[[]]]]}}}}}},
]


@pytest.mark.parametrize("body", ODD_SHAPES, ids=range(len(ODD_SHAPES)))
def test_the_access_log_takes_any_shape_of_body(
    dev_client: FlaskClient, caplog: pytest.LogCaptureFixture, body: Any
) -> None:
    with caplog.at_level(logging.INFO):
        response = dev_client.post("/alexa", json=body)
    assert response.status_code in (200, 400)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    (record,) = [r for r in caplog.records if r.name == "skill.access"]
    line = json.loads(logs.JsonFormatter().format(record))
    for field in ("request_id", "type", "intent"):
        assert line[field] is None or isinstance(line[field], str)


def test_logged_request_fields_are_capped(
    dev_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    envelope = Session().intent("X" * 30_000)
    envelope["request"]["requestId"] = "amzn1.echo-api.request." + "r" * 60_000
    with caplog.at_level(logging.INFO, logger="skill.access"):
        response = dev_client.post("/alexa", json=envelope)
    assert response.status_code == 200  # an unknown intent gets a spoken recovery
    (record,) = [r for r in caplog.records if r.name == "skill.access"]
    line = logs.JsonFormatter().format(record)
    assert len(line) < 1000  # one log line was 120 KB
    logged = json.loads(line)
    assert logged["request_id"] == ("amzn1.echo-api.request." + "r" * 60_000)[:128]
    assert logged["intent"] == "X" * 128
    assert logged["type"] == "IntentRequest"


def _post_chunked(client: FlaskClient, body: bytes) -> tuple[int, Any]:
    """POST ``body`` as a server passes on a chunked request: no Content-Length, the stream
    terminated by the server (Flask's test client would add a Content-Length)."""
    import io

    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(
        path="/alexa",
        method="POST",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
    ).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input_terminated"] = True
    app_iter, status, _ = run_wsgi_app(client.application.wsgi_app, environ, buffered=True)
    return int(status.split()[0]), json.loads(b"".join(app_iter))


def test_an_oversized_chunked_body_is_refused(dev_client: FlaskClient) -> None:
    """It was cut to 128 KiB and processed; with a Content-Length it was refused."""
    launch = json.dumps(Session().launch()).encode()
    status, reply = _post_chunked(dev_client, launch + b" " * (200 * 1024))
    assert (status, reply) == (400, {"error": "request body too large"})
    status, reply = _post_chunked(dev_client, launch + b" " * (128 * 1024 - len(launch)))
    assert status == 200  # exactly at the limit
    status, reply = _post_chunked(dev_client, launch)
    assert status == 200
    assert reply["response"]["outputSpeech"]["ssml"].startswith("<speak>Welcome")
