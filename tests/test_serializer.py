"""PlannedSerializer gives exactly what ask-sdk's DefaultSerializer gives, only sooner."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope, ResponseEnvelope
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.alexa.dispatch import BadEnvelope, dispatch, parse_envelope
from skill.alexa.handlers import build_skill
from skill.alexa.serializer import PlannedSerializer
from skill.local.envelopes import Session, slot

DEFAULT = DefaultSerializer()
PLANNED = PlannedSerializer()

# An envelope shaped like one from an Echo Show, with the context Alexa adds.
RICH = {
    "version": "1.0",
    "session": {
        "new": False,
        "sessionId": "amzn1.echo-api.session.abc",
        "application": {"applicationId": "amzn1.ask.skill.123"},
        "attributes": {"yoga": {"v": 1, "pose": "pigeon"}, "last": "[]"},
        "user": {"userId": "amzn1.ask.account.XYZ", "accessToken": "tok"},
    },
    "context": {
        "Viewports": [{"type": "APL", "id": "main", "shape": "RECTANGLE", "dpi": 213}],
        "Viewport": {
            "experiences": [{"arcMinuteWidth": 246, "arcMinuteHeight": 144, "canRotate": False}],
            "mode": "HUB",
            "shape": "RECTANGLE",
            "pixelWidth": 1280,
            "pixelHeight": 800,
            "dpi": 160,
            "currentPixelWidth": 1280,
            "currentPixelHeight": 800,
            "touch": ["SINGLE"],
            "keyboard": ["DIRECTION"],
        },
        "AudioPlayer": {"playerActivity": "IDLE"},
        "System": {
            "application": {"applicationId": "amzn1.ask.skill.123"},
            "user": {"userId": "amzn1.ask.account.XYZ"},
            "device": {
                "deviceId": "amzn1.ask.device.1",
                "supportedInterfaces": {"AudioPlayer": {}, "Display": {"templateVersion": "1.0"}},
            },
            "apiEndpoint": "https://api.eu.amazonalexa.com",
            "apiAccessToken": "token",
            "unit": {"unitId": "amzn1.ask.unit.1"},
        },
    },
    "request": {
        "type": "IntentRequest",
        "requestId": "amzn1.echo-api.request.1",
        "locale": "en-GB",
        "timestamp": "2026-11-24T10:00:00Z",
        "dialogState": "COMPLETED",
        "intent": {
            "name": "GoToPoseIntent",
            "confirmationStatus": "NONE",
            "slots": {
                "pose": {
                    "name": "pose",
                    "value": "pigeon",
                    "confirmationStatus": "NONE",
                    "source": "USER",
                    "slotValue": {"type": "Simple", "value": "pigeon"},
                    "resolutions": {
                        "resolutionsPerAuthority": [
                            {
                                "authority": "amzn1.er-authority.echo-sdk.x.PoseType",
                                "status": {"code": "ER_SUCCESS_MATCH"},
                                "values": [{"value": {"name": "Pigeon pose", "id": "pigeon"}}],
                            }
                        ]
                    },
                }
            },
        },
        "unknownFutureField": {"nested": [1, 2, 3]},
    },
}


def _both(data: dict[str, Any]) -> tuple[Any, Any]:
    expected = DEFAULT.serialize(DEFAULT.deserialize(json.dumps(data), RequestEnvelope))
    actual = PLANNED.serialize(PLANNED.from_data(copy.deepcopy(data), RequestEnvelope))
    return expected, actual


def _session_envelopes() -> list[dict[str, Any]]:
    session = Session()
    skill = build_skill()
    out = []
    for envelope in [
        session.launch(),
        session.intent("AMAZON.NextIntent"),
        session.intent("RepeatStepIntent", {"step_number": slot("step_number", "3")}),
        session.intent(
            "SetModeIntent",
            {"mode": slot("mode", "flow", resolved_id="flow", slot_type="ModeType")},
        ),
        session.intent(
            "GoToPoseIntent",
            {"pose": slot("pose", "headstand", slot_type="PoseType", matched=False)},
        ),
        session.session_ended("ERROR"),
    ]:
        out.append(copy.deepcopy(envelope))
        session.absorb(dispatch(skill, envelope))
    return out


@pytest.mark.parametrize("data", [RICH, *_session_envelopes()], ids=lambda d: d["request"]["type"])
def test_requests_deserialise_as_the_sdk_does(data: dict[str, Any]) -> None:
    expected, actual = _both(data)
    assert actual == expected
    assert (
        PLANNED.from_data(data, RequestEnvelope).request.timestamp
        == DEFAULT.deserialize(json.dumps(data), RequestEnvelope).request.timestamp
    )


def test_unknown_fields_are_kept_as_the_sdk_keeps_them() -> None:
    planned = PLANNED.from_data(copy.deepcopy(RICH), RequestEnvelope)
    default = DEFAULT.deserialize(json.dumps(RICH), RequestEnvelope)
    assert planned.request.unknownFutureField == default.request.unknownFutureField


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=8,
    ),
    st.sampled_from(["attributes", "intent", "timestamp", "locale", "dialogState", "slots"]),
)
def test_odd_values_give_the_same_result_or_an_error_in_both(value: Any, field: str) -> None:
    data = copy.deepcopy(RICH)
    if field == "attributes":
        data["session"]["attributes"] = value
    elif field == "slots":
        data["request"]["intent"]["slots"] = value
    else:
        data["request"][field] = value
    try:
        expected = DEFAULT.serialize(DEFAULT.deserialize(json.dumps(data), RequestEnvelope))
    except Exception:
        with pytest.raises(Exception):  # noqa: B017 - which one the SDK raises varies
            PLANNED.serialize(PLANNED.from_data(data, RequestEnvelope))
        return
    if field == "timestamp" and isinstance(value, str):
        return  # dateutil accepts some strings fromisoformat does not, and we use it for those
    assert PLANNED.serialize(PLANNED.from_data(data, RequestEnvelope)) == expected


def test_responses_serialise_as_the_sdk_does() -> None:
    skill = build_skill()
    session = Session()
    for envelope in (session.launch(), session.intent("AMAZON.HelpIntent")):
        response = skill.invoke(request_envelope=parse_envelope(envelope), context=None)
        assert PLANNED.serialize(response) == DEFAULT.serialize(response)
        assert isinstance(response, ResponseEnvelope)


def test_bad_shapes_are_serialization_errors_and_bad_envelopes() -> None:
    data = copy.deepcopy(RICH)
    data["request"]["timestamp"] = "not a time"
    with pytest.raises(SerializationException):
        PLANNED.from_data(data, RequestEnvelope)
    with pytest.raises(BadEnvelope):
        parse_envelope(data)
    data["request"] = {"type": "Not.A.Request"}
    with pytest.raises(BadEnvelope):
        parse_envelope(data)
    with pytest.raises(SerializationException):
        PLANNED.deserialize("{not json", RequestEnvelope)
