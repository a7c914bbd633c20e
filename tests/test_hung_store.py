"""A store that hangs costs a request a few seconds, not minutes, and the runner still hears
the answer (progress is best effort); the log says what happened.

DynamoDB is a loopback TCP server that accepts connections and never answers (botocore's
defaults held a request for over 200 s); SQLite is a file another connection holds locked.
Every request runs in a thread joined with a bound, so a regression fails instead of hanging.
No timing is asserted.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException
from botocore.exceptions import ReadTimeoutError
from conftest import ssml

from skill.alexa import lambda_function
from skill.alexa.dispatch import dispatch
from skill.alexa.handlers import build_skill
from skill.alexa.persistence import (
    DYNAMODB_BACKOFF_SECONDS,
    PlainDynamoDbAdapter,
    SqliteAdapter,
    dynamodb_adapter,
)
from skill.alexa.progress import STATE_KEY
from skill.local.envelopes import Session
from skill.settings import Settings
from skill.web.webhook import create_app

BOUND = 60.0
"""Seconds any one request here may take before the test fails (it takes a few)."""


def _bounded(call: Callable[[], Any]) -> Any:
    """``call()`` in a thread, failing the test if it has not returned within :data:`BOUND`."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(BOUND)
    assert not thread.is_alive(), f"still waiting on the store after {BOUND:.0f} s"
    if errors:
        raise errors[0]
    return result[0]


@pytest.fixture
def hung_endpoint() -> Iterator[str]:
    """A DynamoDB endpoint that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
        for conn in accepted:
            conn.close()


@pytest.fixture
def hung_dynamodb(
    hung_endpoint: str, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The environment of a deployment whose DynamoDB endpoint hangs."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", hung_endpoint)
    monkeypatch.setenv("YOGA_PERSISTENCE", "dynamodb")
    monkeypatch.setenv("YOGA_DYNAMODB_TABLE", "progress")
    monkeypatch.setenv("YOGA_VERIFY", "off")
    lambda_function.reset_skill()
    yield hung_endpoint
    adapter = getattr(lambda_function._skill, "persistence_adapter", None)
    if adapter is not None:
        adapter.close()
    lambda_function.reset_skill()


def _messages(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == logger]


def test_a_launch_is_answered_through_the_webhook_when_dynamodb_hangs(
    hung_dynamodb: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = create_app(Settings.from_env()).test_client()
    with caplog.at_level(logging.INFO):
        reply = _bounded(lambda: client.post("/alexa", json=Session().launch()))
        again = _bounded(lambda: client.post("/alexa", json=Session().launch()))
    for response in (reply, again):
        assert response.status_code == 200
        assert ssml(response.json).startswith("<speak>Welcome to post run yoga")
    # What happened, in the log: the read timed out, and the calls after it were skipped; with
    # the progress unread, nothing was saved over it.
    store = _messages(caplog, "skill.alexa.persistence")
    assert any("DynamoDB read failed" in m and "ReadTimeoutError" in m for m in store), store
    progress = _messages(caplog, "skill.alexa.progress")
    assert any(m.startswith("could not read saved progress: ") for m in progress), progress
    assert not any(m.startswith("could not save progress: ") for m in progress), progress
    # a store that is down is one warning line each, without a traceback
    assert not [r for r in caplog.records if r.name == "skill.alexa.progress" and r.exc_info]
    assert any("skipped" in m for m in progress), "the calls after the timeout fail at once"


def test_a_launch_is_answered_by_the_lambda_when_dynamodb_hangs(
    hung_dynamodb: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = _bounded(lambda: lambda_function.handler(Session().launch(), None))
    assert ssml(response).startswith("<speak>Welcome to post run yoga")
    assert response["response"]["shouldEndSession"] is False
    store = _messages(caplog, "skill.alexa.persistence")
    assert any("DynamoDB read failed" in m for m in store), store


def test_dynamodb_calls_have_short_timeouts_and_one_retry(
    hung_endpoint: str, aws_env: dict[str, str]
) -> None:
    adapter = dynamodb_adapter("progress", endpoint_url=hung_endpoint, region="us-east-1")
    try:
        config = adapter.adapter.dynamodb.meta.client.meta.config  # type: ignore[attr-defined]
        assert config.connect_timeout == 1.0
        assert config.read_timeout == 1.0
        assert config.retries["total_max_attempts"] == 2
        with pytest.raises(PersistenceException, match="ReadTimeoutError"):
            _bounded(lambda: adapter.get_attributes(_envelope()))
    finally:
        adapter.close()


def _envelope() -> Any:
    from skill.alexa.dispatch import parse_envelope

    return parse_envelope(Session().launch())


class _Flaky:
    """An official adapter stand-in whose calls time out while ``hung`` is set."""

    def __init__(self) -> None:
        self.hung = True
        self.calls = 0

    def _call(self) -> dict[str, Any]:
        self.calls += 1
        if self.hung:
            try:
                raise ReadTimeoutError(endpoint_url="http://dynamodb")
            except ReadTimeoutError as exc:
                raise PersistenceException(f"Exception of type {type(exc).__name__}") from None
        return {"yoga": {"pose": "pigeon"}}

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        return self._call()

    def save_attributes(self, request_envelope: Any, attributes: Any) -> None:
        self._call()

    def delete_attributes(self, request_envelope: Any) -> None:
        self._call()


def test_after_a_timeout_calls_fail_at_once_for_a_while(caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    flaky = _Flaky()
    adapter = PlainDynamoDbAdapter(flaky, clock=lambda: now[0])  # type: ignore[arg-type]
    envelope = _envelope()
    with (
        caplog.at_level(logging.WARNING, logger="skill.alexa.persistence"),
        pytest.raises(PersistenceException),
    ):
        adapter.get_attributes(envelope)
    assert flaky.calls == 1
    assert "calls fail at once" in caplog.text
    for call in (
        lambda: adapter.save_attributes(envelope, {"a": 1}),
        lambda: adapter.get_attributes(envelope),
        lambda: adapter.delete_attributes(envelope),
    ):
        with pytest.raises(PersistenceException, match="skipped"):
            call()
    assert flaky.calls == 1  # not tried while the store is known not to answer
    flaky.hung = False
    now[0] += DYNAMODB_BACKOFF_SECONDS
    assert adapter.get_attributes(envelope) == {"yoga": {"pose": "pigeon"}}
    assert flaky.calls == 2


def test_other_dynamodb_failures_do_not_hold_back_the_next_call() -> None:
    class Broken(_Flaky):
        def _call(self) -> dict[str, Any]:
            self.calls += 1
            raise PersistenceException("ResourceNotExistsError: no such table")

    broken = Broken()
    adapter = PlainDynamoDbAdapter(broken)  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(PersistenceException, match="no such table"):
            adapter.get_attributes(_envelope())
    assert broken.calls == 2


def test_a_launch_is_answered_when_sqlite_is_locked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "progress.sqlite3"
    with SqliteAdapter(db) as adapter:
        adapter.get_attributes(_envelope())  # the file, in WAL mode, with its table
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
        settings = Settings(verify=False, persistence="sqlite", db_path=db)
        client = create_app(settings).test_client()
        with caplog.at_level(logging.INFO):
            reply = _bounded(lambda: client.post("/alexa", json=Session().launch()))
    finally:
        holder.close()
    assert reply.status_code == 200
    assert ssml(reply.json).startswith("<speak>Welcome to post run yoga")
    failed = [r.getMessage() for r in caplog.records if r.name == "skill.alexa.progress"]
    assert failed, "the log says the save failed"
    assert "locked" in failed[-1]


class _OnceUnreadable(AbstractPersistenceAdapter):
    """A store whose first read fails (a throttled call, a lock, a blip) and then answers."""

    def __init__(self) -> None:
        self.record: dict[str, Any] = {}
        self.failing_reads = 0

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        if self.failing_reads:
            self.failing_reads -= 1
            raise PersistenceException("ProvisionedThroughputExceededException")
        return dict(self.record)

    def save_attributes(self, request_envelope: Any, attributes: Any) -> None:
        self.record = dict(attributes)

    def delete_attributes(self, request_envelope: Any) -> None:
        self.record = {}


@pytest.mark.parametrize(
    "first", ["launch", "AMAZON.NextIntent", "StartRoutineIntent", "AMAZON.StartOverIntent"]
)
def test_a_read_that_fails_saves_no_fresh_start_over_the_progress(first: str) -> None:
    """The launch after a failed read was a fresh start, saved over the runner's progress."""
    store = _OnceUnreadable()
    skill = build_skill(persistence=store)
    runner = Session()
    for envelope in (runner.launch(), runner.intent("AMAZON.NextIntent")):
        runner.absorb(dispatch(skill, envelope))
    saved = store.record[STATE_KEY]
    store.failing_reads = 1
    later = Session()
    envelope = later.launch() if first == "launch" else later.intent(first)
    response = dispatch(skill, envelope)
    assert ssml(response).startswith("<speak>")  # the runner still hears an answer
    assert store.record[STATE_KEY] == saved
