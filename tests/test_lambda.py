"""The Lambda entry point with genuine envelopes: no persistence, and DynamoDB on a moto server."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from conftest import ssml
from moto_server import reset_moto_server

from skill.alexa import lambda_function
from skill.alexa.lambda_function import handler
from skill.local.envelopes import DEFAULT_SKILL_ID, DEFAULT_USER_ID, Session


@pytest.fixture(autouse=True)
def fresh_container(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts as a cold Lambda container with no persistence configured (and no
    other YOGA_* variable: see conftest.py)."""
    monkeypatch.setenv("YOGA_PERSISTENCE", "none")
    lambda_function.reset_skill()
    yield
    close = getattr(getattr(lambda_function._skill, "persistence_adapter", None), "close", None)
    if close is not None:
        close()
    lambda_function.reset_skill()


# --------------------------------------------------------------------------- no persistence


def test_launch_request_gets_speech() -> None:
    response = handler(Session().launch(), None)
    assert response["version"] == "1.0"
    assert ssml(response).startswith("<speak>Welcome")
    assert response["response"]["shouldEndSession"] is False
    assert response["response"]["reprompt"]["outputSpeech"]["ssml"].startswith("<speak>")


def test_a_conversation_carries_session_attributes() -> None:
    session = Session()
    session.absorb(handler(session.launch(), None))
    response = handler(session.intent("AMAZON.NextIntent"), None)
    assert "Pose 2" in ssml(response)
    assert response["sessionAttributes"]["yoga"]["status"] == "active"


def test_skill_is_built_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    builds = []
    real = lambda_function.skill_for

    def counting(*args: Any, **kwargs: Any) -> Any:
        builds.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(lambda_function, "skill_for", counting)
    session = Session()
    session.absorb(handler(session.launch(), None))
    handler(session.intent("AMAZON.HelpIntent"), None)
    assert len(builds) == 1
    lambda_function.reset_skill()
    handler(Session().launch(), None)
    assert len(builds) == 2


@pytest.mark.parametrize(
    "event",
    [
        None,
        "LaunchRequest",
        [],
        {},
        {"version": "1.0"},
        {"request": {"type": 7}},
    ],
    ids=["none", "string", "list", "empty", "no-request", "bad-type"],
)
def test_malformed_event_raises_value_error(event: Any, caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="skill.alexa.lambda_function"),
        pytest.raises(ValueError, match="not a valid Alexa request envelope"),
    ):
        handler(event, None)
    assert "rejected a malformed Alexa event" in caplog.text


@pytest.mark.parametrize("field", ["timestamp", "reason"])
def test_malformed_envelope_keeps_event_data_out_of_logs_and_traceback(
    field: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The SDK's deserializer quotes the offending value ("Failed to parse <value> into
    # 'datetime' object", "<value> is not a valid SessionEndedReason").
    secret = f"SECRET-{uuid.uuid4()}"
    event = Session().session_ended()
    event["request"][field] = secret
    with caplog.at_level(logging.DEBUG), pytest.raises(ValueError) as info:
        handler(event, None)
    assert "rejected a malformed Alexa event" in caplog.text
    assert secret not in caplog.text
    assert secret not in str(info.value)
    assert DEFAULT_USER_ID not in caplog.text
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__  # the SDK's exception is not chained


def test_event_for_another_skill_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOGA_SKILL_ID", "amzn1.ask.skill.11111111-2222-3333-4444-555555555555")
    with pytest.raises(ValueError, match="another skill"):
        handler(Session().launch(), None)


def test_event_for_the_configured_skill_is_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOGA_SKILL_ID", DEFAULT_SKILL_ID)
    assert ssml(handler(Session().launch(), None)).startswith("<speak>Welcome")


# --------------------------------------------------------------------------- DynamoDB (moto)


@pytest.fixture
def dynamodb_table(
    moto_endpoint: str, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The environment template.yaml gives the function, with a table shaped like ProgressTable."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint)
    table = f"progress-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("YOGA_PERSISTENCE", "dynamodb")
    monkeypatch.setenv("YOGA_DYNAMODB_TABLE", table)
    monkeypatch.setenv("YOGA_SKILL_ID", DEFAULT_SKILL_ID)
    client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    try:
        client.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )
        yield table
    finally:
        client.close()
        reset_moto_server(moto_endpoint)


@pytest.mark.parametrize("cold_start", [False, True], ids=["same-container", "new-container"])
def test_progress_saved_in_dynamodb_is_offered_back(
    dynamodb_table: str, moto_endpoint: str, cold_start: bool
) -> None:
    first = Session()
    first.absorb(handler(first.launch(), None))
    response = handler(first.intent("AMAZON.NextIntent"), None)
    assert "Downward facing dog" in ssml(response)
    first.absorb(response)
    handler(first.session_ended("EXCEEDED_MAX_REPROMPTS"), None)

    client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    try:
        items = client.scan(TableName=dynamodb_table)["Items"]
    finally:
        client.close()
    # One item, keyed by the SHA-256 of the user id (the raw id is never stored).
    assert [item["id"]["S"] for item in items] == [
        hashlib.sha256(DEFAULT_USER_ID.encode()).hexdigest()
    ]
    assert DEFAULT_USER_ID not in str(items)

    if cold_start:
        lambda_function._skill.persistence_adapter.close()
        lambda_function.reset_skill()
    second = Session()
    assert second.session_id != first.session_id
    response = handler(second.launch(), None)
    assert ssml(response).startswith("<speak>Welcome back. You were in Downward facing dog.")
