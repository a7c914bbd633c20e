"""Session attributes nested hundreds deep get a spoken answer from every entry point.

The SDK copies session attributes recursively on every request, and the response carries them
back: attributes nested ~900 deep raised RecursionError in the Lambda handler, and ~300 deep
gave the webhook a JSON encoding error. The shared dispatch path drops attributes nested deeper
than :data:`skill.alexa.dispatch.MAX_ATTRIBUTES_DEPTH`, as if the session had none (the skill's
own are three deep), and turns any RecursionError left into a clear bad request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from ask_sdk_core.skill import CustomSkill
from conftest import check_response, ssml

from skill.alexa import lambda_function
from skill.alexa.dispatch import MAX_ATTRIBUTES_DEPTH, BadEnvelope, dispatch, nested_deeper_than
from skill.alexa.handlers import build_skill
from skill.local.dialog import Dialog
from skill.local.envelopes import Session
from skill.settings import Settings
from skill.web.webhook import create_app

DEPTHS = [300, 900, 5000]


def nested(depth: int, *, lists: bool = False) -> Any:
    value: Any = {}
    for _ in range(depth - 1):
        value = [value] if lists else {"a": value}
    return value


def _with_deep_x(envelope: dict[str, Any], depth: int) -> bytes:
    """``envelope`` as JSON text whose ``"x"`` (an empty object in it) is nested ``depth``
    deep (json.dumps itself recurses)."""
    text = json.dumps(envelope)
    deep = '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)
    assert text.count('"x": {}') == 1
    return text.replace('"x": {}', '"x": ' + deep).encode()


def _next_with(attributes: dict[str, Any]) -> dict[str, Any]:
    session = Session()
    session.attributes = attributes
    session.new = False
    return session.intent("AMAZON.NextIntent")


def _spoken(response: dict[str, Any]) -> None:
    check_response(response)
    assert ssml(response).startswith("<speak>")
    assert response["response"]["shouldEndSession"] is False
    assert "sessionAttributes" not in response or not nested_deeper_than(
        response["sessionAttributes"], MAX_ATTRIBUTES_DEPTH
    )


def test_nesting_depth_is_measured_without_recursion() -> None:
    assert not nested_deeper_than({}, 1)
    assert not nested_deeper_than({"a": [1, {"b": 2}]}, 3)
    assert nested_deeper_than({"a": [1, {"b": 2}]}, 2)
    assert nested_deeper_than(nested(100_000), 32)
    assert nested_deeper_than(nested(100_000, lists=True), 32)
    assert not nested_deeper_than(nested(32), 32)


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("lists", [False, True], ids=["objects", "arrays"])
def test_the_skill_answers_and_drops_the_attributes(
    skill: CustomSkill, depth: int, lists: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="skill.alexa.dispatch"):
        response = dispatch(skill, _next_with({"x": nested(depth, lists=lists)}))
    _spoken(response)
    assert "dropped session attributes nested over 32 deep" in caplog.text


def test_attributes_within_the_limit_are_kept(skill: CustomSkill) -> None:
    response = dispatch(skill, _next_with({"x": nested(MAX_ATTRIBUTES_DEPTH - 1)}))
    _spoken(response)
    assert response["sessionAttributes"]["x"] == nested(MAX_ATTRIBUTES_DEPTH - 1)


def test_the_caller_s_envelope_is_left_as_it_was(skill: CustomSkill) -> None:
    envelope = _next_with({"x": nested(900)})
    dispatch(skill, envelope)
    assert nested_deeper_than(envelope["session"]["attributes"], 800)


@pytest.mark.parametrize("depth", DEPTHS)
def test_the_webhook_answers(depth: int) -> None:
    client = create_app(Settings(verify=False), skill=build_skill()).test_client()
    body = _with_deep_x(_next_with({"x": {}}), depth)
    reply = client.post("/alexa", data=body, content_type="application/json")
    if depth > 1000:  # deeper than orjson reads: not JSON to us
        assert reply.status_code == 400
        assert reply.json == {"error": "request body is not JSON"}
        return
    assert reply.status_code == 200
    _spoken(reply.json)


@pytest.fixture
def cold_lambda(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("YOGA_PERSISTENCE", "none")
    lambda_function.reset_skill()
    yield
    lambda_function.reset_skill()


@pytest.mark.parametrize("depth", DEPTHS)
def test_the_lambda_answers(cold_lambda: None, depth: int) -> None:
    _spoken(lambda_function.handler(_next_with({"x": nested(depth)}), None))


@pytest.mark.parametrize("depth", DEPTHS)
def test_the_local_dialog_answers(skill: CustomSkill, depth: int) -> None:
    session = Session()
    session.new = False
    session.attributes = {"x": nested(depth)}
    turn = Dialog(skill, session=session).say("next")
    assert turn.speech
    assert not turn.should_end_session
    assert not nested_deeper_than(turn.session_attributes, MAX_ATTRIBUTES_DEPTH)


@pytest.mark.parametrize("depth", DEPTHS)
def test_the_try_page_answers(depth: int) -> None:
    client = create_app(Settings(verify=False, dev=True), skill=build_skill()).test_client()
    saved = {"id": "amzn1.echo-api.session.deep", "attributes": {"x": {}}}
    body = _with_deep_x({"utterance": "next", "session": saved}, depth)
    reply = client.post("/say", data=body, content_type="application/json")
    if depth > 1000:  # deeper than orjson reads: not JSON to us
        assert reply.status_code == 400
        return
    assert reply.status_code == 200
    assert reply.json["speech"]


def test_recursion_anywhere_else_is_a_bad_envelope(
    skill: CustomSkill, monkeypatch: pytest.MonkeyPatch
) -> None:
    def too_deep(**kwargs: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(skill, "invoke", too_deep)
    with pytest.raises(BadEnvelope, match="nested too deep"):
        dispatch(skill, Session().launch())
