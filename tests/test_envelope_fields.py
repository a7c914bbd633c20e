"""Every field of a real request envelope holding a value of any JSON kind, or missing: the skill
answers, or refuses the envelope as malformed, and logs no failure.

The envelopes are the ones a session really sends (a launch, intents with slots and the session
attributes the skill gave back, a touch on the screen, the session's end, the skill disabled),
dispatched with a real SQLite store. An ``IntentRequest`` with no intent once failed a handler's
predicate (a traceback in the log), and a disable event with no user id raised out of the skill.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import check_response

from skill.alexa import lambda_function
from skill.alexa.dispatch import BadEnvelope, dispatch, parse_envelope
from skill.alexa.handlers import build_skill
from skill.alexa.persistence import SqliteAdapter
from skill.local.envelopes import Session, slot
from skill.settings import Settings
from skill.web.webhook import create_app

KINDS: list[object] = [None, True, 0, -1, 1.5, "", "x", [], ["next"], {}, {"a": {}}]
"""A value of every JSON kind (and a few shapes a handler might index into)."""
MISSING = object()


def _sessions() -> list[dict[str, Any]]:
    """A session's envelopes, each with the attributes the skill gave back the turn before."""
    skill = build_skill()
    session = Session()
    out: list[dict[str, Any]] = []

    def turn(envelope: dict[str, Any]) -> None:
        out.append(copy.deepcopy(envelope))
        session.absorb(dispatch(skill, envelope))

    turn(session.launch())
    turn(session.intent("AMAZON.NextIntent"))
    turn(session.intent("GoToPoseIntent", {"pose": slot("pose", "pigeon", slot_type="Pose")}))
    turn(session.intent("SetHoldLengthIntent", {"breaths": slot("breaths", "8")}))
    turn(session.intent("AMAZON.RepeatIntent"))
    turn(session.envelope({"type": "Alexa.Presentation.APL.UserEvent", "arguments": ["next"]}))
    turn(session.session_ended())
    out.append(Session().skill_disabled())
    return out


ENVELOPES = _sessions()


def _paths(node: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if path:
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _with(envelope: dict[str, Any], path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    out = copy.deepcopy(envelope)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    if value is MISSING:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def _failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.exc_info or record.levelno >= logging.ERROR
    ]


@pytest.mark.parametrize("base", ENVELOPES, ids=[e["request"]["type"] for e in ENVELOPES])
def test_any_value_in_any_field_is_answered_or_refused(
    base: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with SqliteAdapter(tmp_path / "progress.sqlite3") as store:
        skill = build_skill(persistence=store)
        for path in list(_paths(base)):
            for value in [*KINDS, MISSING]:
                envelope = _with(base, path, value)
                caplog.clear()
                try:
                    response = dispatch(skill, envelope)
                except BadEnvelope:
                    continue
                where = f"{'.'.join(map(str, path))} = {value!r}"
                assert not _failures(caplog), where
                json.dumps(response)  # JSON all through
                if response.get("response", {}).get("outputSpeech"):
                    check_response(response)


def _no_intent() -> dict[str, Any]:
    envelope = Session().intent("AMAZON.RepeatIntent")
    del envelope["request"]["intent"]
    return envelope


def test_an_intent_request_without_an_intent_is_a_bad_envelope() -> None:
    with pytest.raises(BadEnvelope, match="intent is missing"):
        dispatch(build_skill(), _no_intent())


def test_an_intent_request_without_an_intent_gets_a_400(caplog: pytest.LogCaptureFixture) -> None:
    client = create_app(Settings(verify=False), skill=build_skill()).test_client()
    reply = client.post("/alexa", json=_no_intent())
    assert reply.status_code == 400
    assert reply.json == {"error": "intent is missing"}
    assert not _failures(caplog)


def test_the_lambda_refuses_an_intent_request_without_an_intent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("YOGA_PERSISTENCE", "none")
    lambda_function.reset_skill()
    try:
        with pytest.raises(ValueError, match="intent is missing"):
            lambda_function.handler(_no_intent(), None)
    finally:
        lambda_function.reset_skill()


def test_a_disable_event_with_no_user_deletes_nothing_and_is_answered(tmp_path: Path) -> None:
    runner = Session()
    with SqliteAdapter(tmp_path / "progress.sqlite3") as store:
        skill = build_skill(persistence=store)
        dispatch(skill, runner.launch())
        event = runner.skill_disabled()
        del event["context"]["System"]["user"]
        assert dispatch(skill, event)["response"] == {}
        assert store.get_attributes(parse_envelope(runner.launch())) != {}
