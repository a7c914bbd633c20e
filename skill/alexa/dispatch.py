"""Run one Alexa request envelope through the skill: the path every entry point shares."""

from __future__ import annotations

import copy
import logging
from typing import Any

from ask_sdk_core.skill import CustomSkill
from ask_sdk_model import RequestEnvelope

from skill.alexa.serializer import PlannedSerializer

log = logging.getLogger(__name__)
_serializer = PlannedSerializer()


MAX_ATTRIBUTES_DEPTH = 32
"""How deep session attributes may nest. The skill's own are three deep; the SDK copies them
recursively on every request, so attributes nested a few hundred deep (a tampered or forged
request) would exhaust Python's stack. Deeper ones are dropped, as if the session had none."""


class BadEnvelope(ValueError):
    """The body is not an Alexa request envelope the skill can read."""


_SCALARS = (str, int, float, bool, type(None))


class SessionAttributes(dict[str, Any]):
    """A request's session attributes. ask-sdk copies them with ``copy.deepcopy`` on every
    request; what a request brings is JSON, which copies four times faster as JSON (anything
    else in it still goes through ``copy.deepcopy``)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return _copy_json(self)


def _copy_json(value: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, item in value.items():
        kind = type(item)
        if kind is dict:
            item = _copy_json(item)
        elif kind is list:
            item = [
                _copy_json(x) if type(x) is dict else x if type(x) in _SCALARS else copy.deepcopy(x)
                for x in item
            ]
        elif kind not in _SCALARS:
            item = copy.deepcopy(item)
        out[key] = item
    return out


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether JSON ``value`` has objects or arrays nested more than ``limit`` deep (walked
    without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def for_other_skill(envelope: Any, skill_id: str | None) -> bool:
    """Whether a request envelope (as parsed JSON) is not for ``skill_id``: it names another
    skill, or none at all. With no skill id configured, every skill's requests are taken."""
    if not skill_id:
        return False
    for path in (("context", "System", "application"), ("session", "application")):
        node: Any = envelope
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get("applicationId"):
            return bool(node["applicationId"] != skill_id)
    return True


def parse_envelope(data: dict[str, Any]) -> RequestEnvelope:
    if not isinstance(data, dict) or not isinstance(data.get("request"), dict):
        raise BadEnvelope("not an Alexa request envelope")
    if not isinstance(data["request"].get("type"), str):
        raise BadEnvelope("request type is missing")
    if data["request"]["type"] == "IntentRequest" and not isinstance(
        data["request"].get("intent"), dict
    ):
        raise BadEnvelope("intent is missing")  # the SDK's predicates read intent.name
    session = data.get("session")
    if isinstance(session, dict):
        attributes = session.get("attributes")
        if isinstance(attributes, dict | list) and nested_deeper_than(
            attributes, MAX_ATTRIBUTES_DEPTH
        ):
            log.warning("dropped session attributes nested over %d deep", MAX_ATTRIBUTES_DEPTH)
            data = {**data, "session": {**session, "attributes": {}}}
    try:
        envelope: RequestEnvelope = _serializer.from_data(data, RequestEnvelope)
    except Exception as exc:  # the SDK raises bare exceptions on shape errors
        # The SDK's message quotes the request's values: keep them out of the answer and logs.
        log.info("malformed envelope (%s)", type(exc.__cause__ or exc).__name__)
        raise BadEnvelope("malformed envelope") from exc
    if envelope.request is None:
        raise BadEnvelope("unknown request type")
    session = envelope.session
    if session is not None and type(session.attributes) is dict:
        session.attributes = SessionAttributes(session.attributes)
    return envelope


def dispatch(skill: CustomSkill, data: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The serialised response envelope for one request envelope (as parsed JSON)."""
    try:
        response = skill.invoke(request_envelope=parse_envelope(data), context=context)
        body: dict[str, Any] = _serializer.serialize(response)
    except RecursionError:  # nesting the SDK walks recursively, wherever it is
        log.warning("request nested too deep for the SDK")
        raise BadEnvelope("request nested too deep") from None
    return body
