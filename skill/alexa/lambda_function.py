"""AWS Lambda entry point: ``skill.alexa.lambda_function.handler`` (see template.yaml).

Alexa invokes the function directly with the request envelope as the event; AWS checks the
caller (the trigger's ``EventSourceToken`` is the skill id), so there is no signature to
verify here. The skill is built once per container from the environment (the template sets
``YOGA_PERSISTENCE=dynamodb`` and ``YOGA_DYNAMODB_TABLE``) and every event goes through
:func:`skill.alexa.dispatch.dispatch`, like the webhook's requests.
"""

from __future__ import annotations

import logging
from typing import Any

from ask_sdk_core.skill import CustomSkill

from skill.alexa.builder import skill_for
from skill.alexa.dispatch import BadEnvelope, dispatch, for_other_skill
from skill.settings import Settings

__all__ = ["get_skill", "handler", "reset_skill"]

log = logging.getLogger(__name__)

_settings: Settings | None = None
_skill: CustomSkill | None = None


def get_settings() -> Settings:
    """The container's settings, read from the environment on first use."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def get_skill() -> CustomSkill:
    """The container's skill object, built on first use (the cold start)."""
    global _skill
    if _skill is None:
        _skill = skill_for(get_settings())
    return _skill


def reset_skill() -> None:
    """Forget the settings and the skill, so the next event rebuilds them from the environment."""
    global _settings, _skill
    _settings = _skill = None


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Answer one Alexa request envelope with a response envelope."""
    if isinstance(event, dict) and for_other_skill(event, get_settings().skill_id):
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
