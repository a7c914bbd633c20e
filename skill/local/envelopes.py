"""Genuine Alexa request envelopes (the JSON Alexa POSTs to a skill), for the local dialog,
tests and benchmarks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from skill.settings import DEFAULT_LOCALE

DEFAULT_SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
DEFAULT_USER_ID = "amzn1.ask.account.LOCAL-RUNNER"
DEFAULT_DEVICE_ID = "amzn1.ask.device.LOCAL-SPEAKER"


def _id(prefix: str) -> str:
    return f"amzn1.echo-api.{prefix}.{uuid.uuid4()}"


def timestamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


class Session:
    """One Alexa session: its id, whether it is new, and the attributes carried between turns."""

    def __init__(
        self,
        *,
        skill_id: str = DEFAULT_SKILL_ID,
        user_id: str = DEFAULT_USER_ID,
        locale: str = DEFAULT_LOCALE,
    ) -> None:
        self.skill_id = skill_id
        self.user_id = user_id
        self.locale = locale
        self.session_id = _id("session")
        self.new = True
        self.attributes: dict[str, Any] = {}

    def envelope(self, request: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """Wrap a request in an envelope, as Alexa would send it for this session."""
        application = {"applicationId": self.skill_id}
        user = {"userId": self.user_id}
        request = {
            "requestId": _id("request"),
            "timestamp": timestamp(now),
            "locale": self.locale,
            **request,
        }
        envelope = {
            "version": "1.0",
            "session": {
                "new": self.new,
                "sessionId": self.session_id,
                "application": application,
                "attributes": self.attributes,
                "user": user,
            },
            "context": {
                "System": {
                    "application": application,
                    "user": user,
                    "device": {
                        "deviceId": DEFAULT_DEVICE_ID,
                        "supportedInterfaces": {},
                    },
                    # No access token: a local conversation never calls Alexa's APIs (the
                    # habits take the runner's days in UTC); tests point these at a stub.
                    "apiEndpoint": "https://api.eu.amazonalexa.com",
                }
            },
            "request": request,
        }
        self.new = False
        return envelope

    def absorb(self, response: dict[str, Any]) -> None:
        """Carry the response's session attributes into the next turn; a closed session restarts."""
        self.attributes = dict(response.get("sessionAttributes") or {})
        if (response.get("response") or {}).get("shouldEndSession"):
            self.session_id = _id("session")
            self.new = True
            self.attributes = {}

    def launch(self) -> dict[str, Any]:
        return self.envelope({"type": "LaunchRequest"})

    def intent(self, name: str, slots: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.envelope(
            {
                "type": "IntentRequest",
                "dialogState": "COMPLETED",
                "intent": {
                    "name": name,
                    "confirmationStatus": "NONE",
                    "slots": slots or {},
                },
            }
        )

    def session_ended(self, reason: str = "USER_INITIATED") -> dict[str, Any]:
        return self.envelope({"type": "SessionEndedRequest", "reason": reason})

    def skill_disabled(self, now: datetime | None = None) -> dict[str, Any]:
        """The skill event Alexa sends when this runner disables the skill: no session, the
        user in the context, and the event's own times."""
        when = timestamp(now)
        return {
            "version": "1.0",
            "context": {
                "System": {
                    "application": {"applicationId": self.skill_id},
                    "user": {"userId": self.user_id},
                    # No access token: a local conversation never calls Alexa's APIs (the
                    # habits take the runner's days in UTC); tests point these at a stub.
                    "apiEndpoint": "https://api.eu.amazonalexa.com",
                }
            },
            "request": {
                "type": "AlexaSkillEvent.SkillDisabled",
                "requestId": _id("request"),
                "timestamp": when,
                "eventCreationTime": when,
                "eventPublishingTime": when,
                "body": {"userInformationPersistenceStatus": "PERSISTED"},
            },
        }


def slot(
    name: str,
    value: str,
    *,
    resolved_id: str | None = None,
    slot_type: str | None = None,
    matched: bool = True,
    skill_id: str = DEFAULT_SKILL_ID,
) -> dict[str, Any]:
    """A slot as Alexa sends it; custom slot types carry entity resolutions."""
    out: dict[str, Any] = {"name": name, "value": value, "confirmationStatus": "NONE"}
    if slot_type is not None:
        authority = f"amzn1.er-authority.echo-sdk.{skill_id}.{slot_type}"
        if matched and resolved_id is not None:
            resolution = {
                "authority": authority,
                "status": {"code": "ER_SUCCESS_MATCH"},
                "values": [{"value": {"name": value, "id": resolved_id}}],
            }
        else:
            resolution = {"authority": authority, "status": {"code": "ER_SUCCESS_NO_MATCH"}}
        out["resolutions"] = {"resolutionsPerAuthority": [resolution]}
    return out
