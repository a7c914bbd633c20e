"""``yoga-skill dialog``: talk to the skill with no device.

Each utterance is resolved against the locale's interaction model, wrapped in a genuine Alexa
request envelope and dispatched through the same skill object the webhook uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from ask_sdk_core.skill import CustomSkill

from skill.alexa.dispatch import dispatch
from skill.local.envelopes import Session, slot
from skill.local.resolver import Resolution, Resolver
from skill.settings import DEFAULT_LOCALE
from skill.speech.ssml import plain_text


@dataclass
class TurnResult:
    utterance: str | None
    intent: str
    slots: dict[str, str | None]
    speech: str
    reprompt: str | None
    should_end_session: bool
    session_attributes: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "utterance": self.utterance,
            "intent": self.intent,
            "slots": self.slots,
            "speech": self.speech,
            "reprompt": self.reprompt,
            "shouldEndSession": self.should_end_session,
            "sessionAttributes": self.session_attributes,
        }


class Dialog:
    """A conversation with the skill; one :class:`Session` at a time, as Alexa keeps them."""

    def __init__(
        self,
        skill: CustomSkill,
        locale: str = DEFAULT_LOCALE,
        *,
        resolver: Resolver | None = None,
        session: Session | None = None,
    ) -> None:
        self.skill = skill
        self.resolver = resolver or Resolver.for_locale(locale)
        self.session = session or Session(locale=locale)
        self.open = not self.session.new

    def say(self, utterance: str) -> TurnResult:
        resolution = self.resolver.resolve(utterance)
        if resolution.kind == "launch":
            return self._send(utterance, "LaunchRequest", {}, self.session.launch())
        intent = resolution.intent or "AMAZON.FallbackIntent"
        slots = self._slots(resolution)
        envelope = self.session.intent(intent, slots)
        values = {name: s.get("value") for name, s in slots.items()}
        return self._send(utterance, intent, values, envelope)

    def end(self) -> TurnResult | None:
        """Close an open session as Alexa does when the runner walks away."""
        if not self.open:
            return None
        return self._send(None, "SessionEndedRequest", {}, self.session.session_ended())

    def _slots(self, resolution: Resolution) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, found in resolution.slots.items():
            slot_type = self.resolver.slot_type(resolution.intent or "", name)
            if slot_type and not slot_type.startswith("AMAZON."):
                out[name] = slot(
                    name,
                    found.value,
                    resolved_id=found.id,
                    slot_type=slot_type,
                    matched=found.matched,
                    skill_id=self.session.skill_id,
                )
            else:
                out[name] = slot(name, found.id or found.value)
        return out

    def _send(
        self, utterance: str | None, intent: str, slots: dict[str, Any], envelope: dict[str, Any]
    ) -> TurnResult:
        response = dispatch(self.skill, envelope)
        self.session.absorb(response)
        body = response.get("response") or {}
        end = bool(body.get("shouldEndSession"))
        self.open = not end and intent != "SessionEndedRequest"
        reprompt = ((body.get("reprompt") or {}).get("outputSpeech") or {}).get("ssml")
        return TurnResult(
            utterance=utterance,
            intent=intent,
            slots=slots,
            speech=plain_text((body.get("outputSpeech") or {}).get("ssml", "")),
            reprompt=plain_text(reprompt) if reprompt else None,
            should_end_session=end,
            session_attributes=response.get("sessionAttributes") or {},
        )

    def run(self, utterances: Iterable[str]) -> Iterator[TurnResult]:
        for line in utterances:
            utterance = line.strip()
            if utterance and not utterance.startswith("#"):
                yield self.say(utterance)
        last = self.end()
        if last is not None:
            yield last


def print_turn(turn: TurnResult, out: TextIO, as_json: bool) -> None:
    if as_json:
        out.write(json.dumps(turn.to_json(), ensure_ascii=False) + "\n")
        return
    if turn.utterance is None:
        out.write("(session ended)\n")
        return
    if turn.speech:
        out.write(f"Alexa: {turn.speech}\n")
    if turn.should_end_session:
        out.write("(session closed)\n")
    out.flush()
