"""AWS Lambda entry point: ``skill.alexa.lambda_function.handler`` (see template.yaml).

Alexa invokes the function directly with the request envelope as the event; AWS checks the
caller (the trigger's ``EventSourceToken`` is the skill id), so there is no signature to
verify here. The skill is built once per container from the environment (the template sets
``YOGA_PERSISTENCE=dynamodb`` and ``YOGA_DYNAMODB_TABLE``) and every event goes through
:func:`skill.alexa.dispatch.dispatch`, like the webhook's requests.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ask_sdk_core.skill import CustomSkill

from skill.alexa.builder import skill_from_env
from skill.alexa.dispatch import BadEnvelope, dispatch

__all__ = ["get_skill", "handler", "reset_skill"]

log = logging.getLogger(__name__)

_skill: CustomSkill | None = None


def get_skill() -> CustomSkill:
    """The container's skill object, built on first use (the cold start)."""
    global _skill
    if _skill is None:
        _skill = skill_from_env()
    return _skill


def reset_skill() -> None:
    """Forget the cached skill, so the next event rebuilds it from the environment."""
    global _skill
    _skill = None


def _application_id(event: dict[str, Any]) -> Any:
    for path in (("context", "System", "application"), ("session", "application")):
        node: Any = event
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get("applicationId"):
            return node["applicationId"]
    return None


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Answer one Alexa request envelope with a response envelope."""
    skill_id = os.environ.get("YOGA_SKILL_ID")
    if skill_id and isinstance(event, dict) and _application_id(event) != skill_id:
        # The trigger already restricts the caller; this catches a misconfigured trigger.
        log.error("rejected an event for another skill")
        raise ValueError("event is for another skill")
    try:
        return dispatch(get_skill(), event, context)
    except BadEnvelope as exc:
        # Log why, not the event: it carries user and device ids. `from None` keeps the
        # serializer's exception (which may quote the event) out of the traceback Lambda logs.
        reason = str(exc).partition(":")[0][:80]
        log.error("rejected a malformed Alexa event: %s", reason)
        raise ValueError(f"not a valid Alexa request envelope ({reason})") from None
