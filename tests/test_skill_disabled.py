"""A runner who disables the skill leaves no progress behind (AlexaSkillEvent.SkillDisabled).

The event goes through the two ways Alexa reaches the skill, the webhook (signed with a throwaway
CA and verified like every request, with the hour's tolerance skill events have) and the Lambda
handler, against both stores: a SQLite file and DynamoDB on a moto server over HTTP.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from certs import CERT_URL, make_chain
from moto_server import reset_moto_server

from skill.alexa import lambda_function
from skill.alexa.dispatch import dispatch
from skill.alexa.handlers import build_skill
from skill.local.envelopes import Session
from skill.settings import Settings
from skill.web.verification import cache_file_name
from skill.web.webhook import create_app

SKILL_ID = "amzn1.ask.skill.11111111-2222-3333-4444-555555555555"


def user_key(session: Session) -> str:
    return hashlib.sha256(session.user_id.encode()).hexdigest()


@dataclass
class Store:
    """One progress store, as the environment names it, and what it holds right now."""

    env: dict[str, str]
    keys: Callable[[], set[str]]


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        db = tmp_path / "progress.sqlite3"

        def sqlite_keys() -> set[str]:
            if not db.exists():
                return set()
            with sqlite3.connect(db) as conn:
                return {row[0] for row in conn.execute("SELECT user_key FROM progress")}

        yield Store({"YOGA_PERSISTENCE": "sqlite", "YOGA_DB": str(db)}, sqlite_keys)
        return
    endpoint: str = request.getfixturevalue("moto_endpoint")
    aws_env: dict[str, str] = request.getfixturevalue("aws_env")
    table = f"progress-{uuid.uuid4().hex[:8]}"
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    client.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )

    def dynamodb_keys() -> set[str]:
        return {item["id"]["S"] for item in client.scan(TableName=table)["Items"]}

    try:
        yield Store(
            {
                **aws_env,
                "YOGA_PERSISTENCE": "dynamodb",
                "YOGA_DYNAMODB_TABLE": table,
                "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            },
            dynamodb_keys,
        )
    finally:
        client.close()
        reset_moto_server(endpoint)


def a_little_way_in(send: Callable[[dict[str, Any]], dict[str, Any]], session: Session) -> None:
    """Launch and move on a pose: the skill saves this runner's progress."""
    session.absorb(send(session.launch()))
    session.absorb(send(session.intent("AMAZON.NextIntent")))


# --------------------------------------------------------------------------- the webhook


@pytest.fixture
def signed(tmp_path: Path) -> dict[str, Any]:
    """A throwaway signing chain, trusted and cached as an operator would set it up."""
    chain = make_chain()
    trust = tmp_path / "roots.pem"
    trust.write_bytes(chain.root_pem)
    cache = tmp_path / "certs"
    cache.mkdir()
    (cache / cache_file_name(CERT_URL)).write_bytes(chain.chain_pem)
    env = {"ALEXA_TRUST_STORE": str(trust), "ALEXA_CERT_CACHE_DIR": str(cache)}
    return {"env": {**env, "YOGA_SKILL_ID": SKILL_ID}, "chain": chain}


class Webhook:
    def __init__(self, env: dict[str, str], chain: Any) -> None:
        self.settings = Settings.from_env(env)
        self.client = create_app(self.settings).test_client()
        self.chain = chain

    def post(self, envelope: dict[str, Any]) -> Any:
        body = json.dumps(envelope).encode()
        return self.client.post("/alexa", data=body, headers=self.chain.headers(body))

    def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        response = self.post(envelope)
        assert response.status_code == 200, response.json
        body: dict[str, Any] = response.json
        return body


@pytest.fixture
def webhook(store: Store, signed: dict[str, Any]) -> Webhook:
    assert Settings.from_env({**store.env, **signed["env"]}).verify
    return Webhook({**store.env, **signed["env"]}, signed["chain"])


def test_disabling_through_the_webhook_deletes_the_runners_progress(
    webhook: Webhook, store: Store
) -> None:
    runner, other = Session(skill_id=SKILL_ID), Session(skill_id=SKILL_ID, user_id="amzn1.x.B")
    a_little_way_in(webhook.send, runner)
    a_little_way_in(webhook.send, other)
    assert store.keys() == {user_key(runner), user_key(other)}

    answer = webhook.send(runner.skill_disabled())
    assert answer["response"] == {}  # a skill event gets an empty response: nothing is said
    assert store.keys() == {user_key(other)}

    # Enabled again later, the skill starts them afresh.
    again = Session(skill_id=SKILL_ID, user_id=runner.user_id)
    launch = webhook.send(again.launch())
    assert "Welcome back" not in launch["response"]["outputSpeech"]["ssml"]


def test_skill_events_are_verified_with_the_hours_tolerance(webhook: Webhook, store: Store) -> None:
    runner = Session(skill_id=SKILL_ID)
    a_little_way_in(webhook.send, runner)
    now = datetime.now(UTC)

    # An ordinary request 50 minutes old is refused (150 s); the skill event is not.
    stale_launch = Session(skill_id=SKILL_ID).envelope(
        {"type": "LaunchRequest"}, now - timedelta(minutes=50)
    )
    assert webhook.post(stale_launch).status_code == 400
    too_old = webhook.post(runner.skill_disabled(now - timedelta(minutes=61)))
    assert too_old.status_code == 400
    assert too_old.json["error"] == "request not verified: timestamp too old"
    assert store.keys() == {user_key(runner)}

    assert webhook.post(runner.skill_disabled(now - timedelta(minutes=50))).status_code == 200
    assert store.keys() == set()


def test_an_unsigned_or_foreign_disable_event_deletes_nothing(
    webhook: Webhook, store: Store
) -> None:
    runner = Session(skill_id=SKILL_ID)
    a_little_way_in(webhook.send, runner)
    unsigned = webhook.client.post("/alexa", json=runner.skill_disabled())
    assert unsigned.status_code == 400
    foreign = Session(skill_id="amzn1.ask.skill.other", user_id=runner.user_id)
    assert webhook.post(foreign.skill_disabled()).status_code == 400
    assert store.keys() == {user_key(runner)}


# --------------------------------------------------------------------------- the Lambda


@pytest.fixture
def lambda_store(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """The Lambda container's environment pointing at the store, as template.yaml sets it."""
    for name, value in store.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("YOGA_SKILL_ID", SKILL_ID)
    lambda_function.reset_skill()
    yield store
    close = getattr(getattr(lambda_function._skill, "persistence_adapter", None), "close", None)
    if close is not None:
        close()
    lambda_function.reset_skill()


def test_disabling_through_the_lambda_deletes_the_runners_progress(lambda_store: Store) -> None:
    runner, other = Session(skill_id=SKILL_ID), Session(skill_id=SKILL_ID, user_id="amzn1.x.B")
    a_little_way_in(lambda event: lambda_function.handler(event, None), runner)
    a_little_way_in(lambda event: lambda_function.handler(event, None), other)
    assert lambda_store.keys() == {user_key(runner), user_key(other)}
    answer = lambda_function.handler(runner.skill_disabled(), None)
    assert answer["response"] == {}
    assert lambda_store.keys() == {user_key(other)}
    # Disabling twice (Alexa delivers an event again when unsure) is no error.
    assert lambda_function.handler(runner.skill_disabled(), None)["response"] == {}


# --------------------------------------------------------------------------- failures


class BrokenStore:
    """A store whose delete fails, as a table that is unreachable would."""

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        return {}

    def save_attributes(self, request_envelope: Any, attributes: Any) -> None:
        pass

    def delete_attributes(self, request_envelope: Any) -> None:
        raise RuntimeError("the table is unreachable")


def test_a_failed_delete_fails_the_event_so_alexa_sends_it_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    skill = build_skill(persistence=BrokenStore())  # type: ignore[arg-type]
    event = Session().skill_disabled()
    with pytest.raises(RuntimeError, match="unreachable"):
        dispatch(skill, event)  # the Lambda handler raises it too: an invocation error
    app = create_app(Settings(verify=False), skill=skill)
    response = app.test_client().post("/alexa", json=event)
    assert response.status_code != 200


def test_with_no_store_the_event_is_answered_empty() -> None:
    answer = dispatch(build_skill(), Session().skill_disabled())
    assert answer["response"] == {}
