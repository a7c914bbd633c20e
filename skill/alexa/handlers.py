"""Thin ask-sdk handlers around the state machine, and :func:`build_skill` that registers them.

Each handler reads the state from the session, calls one ``Coach`` operation
and renders its :class:`~skill.routine.coach.Turn`. The Flask webhook, the Lambda entry point and
``yoga-skill dialog`` all dispatch through the skill object built here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_core.utils import get_locale, is_intent_name, is_request_type
from ask_sdk_model import Response
from ask_sdk_model.slu.entityresolution import StatusCode

from skill.routine.coach import Coach, Say, State, Turn
from skill.routine.content import Routine, load_routine
from skill.speech.narration import Narrator
from skill.speech.ssml import ClipLookup, to_ssml

log = logging.getLogger(__name__)

STATE_KEY = "yoga"
LAST_KEY = "last"
SAVED_AT_KEY = "saved_at"
RESUME_WINDOW_SECONDS = 12 * 3600
"""Progress older than this starts the routine afresh."""
DEFAULT_LOCALE = "en-GB"
SSML_CACHE_SIZE = 4096

Operation = Callable[[Coach, State], Turn]


@dataclass
class SkillContext:
    """What the handlers share: the routine, its state machine, and narrators per locale."""

    routine: Routine
    persistence: AbstractPersistenceAdapter | None = None
    clips: ClipLookup | None = None
    clock: Callable[[], float] = time.time
    coach: Coach = field(init=False)
    _narrators: dict[str, Narrator] = field(init=False, default_factory=dict)
    _spoken: dict[tuple[str, tuple[Say, ...]], tuple[str, str]] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self.coach = Coach(self.routine)

    def narrator(self, locale: str | None) -> Narrator:
        locale = locale or DEFAULT_LOCALE
        if locale not in self._narrators:
            try:
                self._narrators[locale] = Narrator(self.routine, locale)
            except KeyError:
                self._narrators[locale] = self.narrator(DEFAULT_LOCALE)
        return self._narrators[locale]

    # ------------------------------------------------------------------ state in and out

    def load(self, handler_input: HandlerInput) -> State:
        session = _session(handler_input)
        if STATE_KEY in session:
            return self.coach.from_dict(session[STATE_KEY])
        if self.persistence is None or handler_input.request_envelope.context is None:
            return State()
        try:
            saved = handler_input.attributes_manager.persistent_attributes
        except Exception:  # a broken store must not stop the runner's session
            log.exception("could not read saved progress")
            return State()
        progress = saved.get(STATE_KEY) if isinstance(saved, dict) else None
        if not isinstance(progress, dict):
            return State()
        saved_at = saved.get(SAVED_AT_KEY)
        fresh = isinstance(saved_at, int | float) and not isinstance(saved_at, bool)
        if not fresh or self.clock() - float(saved_at) > RESUME_WINDOW_SECONDS:
            # Too old to carry on from; keep only the runner's settings (mode, breaths).
            return self.coach.from_dict({**progress, "status": "idle"})
        return self.coach.from_dict(progress)

    def respond(
        self, handler_input: HandlerInput, turn: Turn, *, remember: bool = True
    ) -> Response:
        """Store the new state, save progress, and build the spoken response."""
        narrator = self.narrator(get_locale(handler_input))
        speech, last = self.spoken(narrator, turn.says)
        reprompt = None
        if turn.reprompt and not turn.end_session:
            reprompt, _ = self.spoken(narrator, turn.reprompt)
        # Only once the answer is ready does the runner move on.
        state_dict = self.coach.to_dict(turn.state)
        session = _session(handler_input)
        moved = session.get(STATE_KEY) != state_dict  # "which side?" changes nothing to save
        session[STATE_KEY] = state_dict
        if remember and turn.says:
            session[LAST_KEY] = last
        if moved:
            self.save(handler_input, state_dict)
        builder = handler_input.response_builder
        builder.speak(speech)
        if reprompt:
            builder.ask(reprompt)
        builder.set_should_end_session(turn.end_session)
        return builder.response

    def spoken(self, narrator: Narrator, says: tuple[Say, ...]) -> tuple[str, str]:
        """The SSML for what to say, and what to say as it is kept for "repeat that" (a string:
        the SDK deep-copies session attributes on every request). Remembered: a routine has
        only so many things to say."""
        key = (narrator.locale, says)
        try:
            found = self._spoken.get(key)
        except TypeError:  # parameters from tampered session attributes
            return self._speak(narrator, says)
        if found is None:
            if len(self._spoken) >= SSML_CACHE_SIZE:
                self._spoken.clear()
            found = self._spoken[key] = self._speak(narrator, says)
        return found

    def _speak(self, narrator: Narrator, says: tuple[Say, ...]) -> tuple[str, str]:
        last = json.dumps([say.to_dict() for say in says], separators=(",", ":"))
        return to_ssml(narrator.blocks(says), self.clips), last

    def save(self, handler_input: HandlerInput, state_dict: dict[str, Any]) -> None:
        if self.persistence is None or handler_input.request_envelope.context is None:
            return
        manager = handler_input.attributes_manager
        try:
            manager.persistent_attributes = {STATE_KEY: state_dict, SAVED_AT_KEY: int(self.clock())}
            manager.save_persistent_attributes()
        except Exception:  # progress is best effort; the spoken answer must still go out
            log.exception("could not save progress")


def _session(handler_input: HandlerInput) -> dict[str, Any]:
    """The session attributes; a throwaway dict for a request that has no session."""
    if handler_input.request_envelope.session is None:
        return {}
    attributes = handler_input.attributes_manager.session_attributes
    return attributes if isinstance(attributes, dict) else {}


def slot_value(handler_input: HandlerInput, name: str) -> tuple[str | None, str | None]:
    """(resolved id or None, heard words or None) for a slot of the current intent."""
    request = handler_input.request_envelope.request
    intent = getattr(request, "intent", None)
    slots = getattr(intent, "slots", None) or {}
    slot = slots.get(name)
    if slot is None or not slot.value:
        return None, None
    resolutions = getattr(slot, "resolutions", None)
    for authority in getattr(resolutions, "resolutions_per_authority", None) or []:
        status = getattr(getattr(authority, "status", None), "code", None)
        if status == StatusCode.ER_SUCCESS_MATCH and authority.values:
            return authority.values[0].value.id, slot.value
    return None, slot.value


def slot_number(handler_input: HandlerInput, name: str) -> int | None:
    _, value = slot_value(handler_input, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


# ---------------------------------------------------------------------- handlers


class _Base(AbstractRequestHandler):
    matches: Callable[[HandlerInput], bool]
    """The SDK predicate for what this handler takes, built once."""

    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return self.matches(handler_input)


class LaunchHandler(_Base):
    matches = staticmethod(is_request_type("LaunchRequest"))

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.load(handler_input)
        return self.ctx.respond(handler_input, self.ctx.coach.launch(state))


class IntentHandler(_Base):
    """An intent that maps straight onto one state machine operation."""

    def __init__(self, ctx: SkillContext, intent: str, operation: Operation) -> None:
        super().__init__(ctx)
        self.intent = intent
        self.operation = operation
        self.matches = is_intent_name(intent)

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.load(handler_input)
        return self.ctx.respond(handler_input, self.operation(self.ctx.coach, state))


class RepeatHandler(_Base):
    """ "Repeat that": say the last answer again, without changing the position."""

    matches = staticmethod(is_intent_name("AMAZON.RepeatIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        coach = self.ctx.coach
        state = self.ctx.load(handler_input)
        last = _session(handler_input).get(LAST_KEY)
        says = _says_from(last)
        if not says:
            return self.ctx.respond(handler_input, coach.repeat_pose(state))
        turn = Turn(state, says, coach.reprompt(state))
        return self.ctx.respond(handler_input, turn)


class RepeatStepHandler(_Base):
    matches = staticmethod(is_intent_name("RepeatStepIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.load(handler_input)
        number = slot_number(handler_input, "step_number")
        if number is None:
            number = slot_number(handler_input, "step_ordinal")
        return self.ctx.respond(handler_input, self.ctx.coach.repeat_step(state, number))


class SetModeHandler(_Base):
    matches = staticmethod(is_intent_name("SetModeIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.load(handler_input)
        mode_id, heard = slot_value(handler_input, "mode")
        mode = mode_id or (heard.lower().strip() if heard else None)
        return self.ctx.respond(handler_input, self.ctx.coach.set_mode(state, mode))


class GoToPoseHandler(_Base):
    matches = staticmethod(is_intent_name("GoToPoseIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.load(handler_input)
        pose_id, heard = slot_value(handler_input, "pose")
        if pose_id is None and heard:
            pose_id = self.ctx.coach.find_part_id(heard)
        return self.ctx.respond(handler_input, self.ctx.coach.go_to(state, pose_id))


class SwitchSideHandler(_Base):
    matches = staticmethod(is_intent_name("SwitchSideIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.load(handler_input)
        side_id, heard = slot_value(handler_input, "side")
        side = side_id or (heard.lower().split()[0] if heard else None)
        return self.ctx.respond(handler_input, self.ctx.coach.switch_side(state, side))


class SetHoldLengthHandler(_Base):
    matches = staticmethod(is_intent_name("SetHoldLengthIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.load(handler_input)
        breaths = slot_number(handler_input, "breaths")
        return self.ctx.respond(handler_input, self.ctx.coach.set_breaths(state, breaths))


class SessionEndedHandler(_Base):
    """Alexa closed the session (timeout, error or user exit): keep the progress, say nothing."""

    matches = staticmethod(is_request_type("SessionEndedRequest"))

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        log.info("session ended: %s", getattr(request, "reason", None))
        if STATE_KEY in _session(handler_input):
            self.ctx.save(handler_input, self.ctx.coach.to_dict(self.ctx.load(handler_input)))
        return handler_input.response_builder.response


class UnhandledRequestHandler(_Base):
    """Any request type or intent this skill does not know: a spoken recovery."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.load(handler_input)
        return self.ctx.respond(handler_input, self.ctx.coach.fallback(state), remember=False)


class CatchAllExceptionHandler(AbstractExceptionHandler):
    """Apologise, reprompt and log; never let a traceback reach the runner."""

    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        log.error("handler failed", exc_info=exception)
        narrator = self.ctx.narrator(_safe_locale(handler_input))
        speech = to_ssml(narrator.blocks([Say("error")]))
        builder = handler_input.response_builder
        builder.speak(speech).ask(to_ssml(narrator.blocks([Say("fallback")])))
        builder.set_should_end_session(False)
        return builder.response


def _safe_locale(handler_input: HandlerInput) -> str | None:
    try:
        return get_locale(handler_input)
    except Exception:
        return None


def _says_from(raw: Any) -> tuple[Say, ...]:
    try:
        raw = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return ()
    if not isinstance(raw, list):
        return ()
    says = []
    for item in raw:
        if isinstance(item, dict) and isinstance(item.get("k"), str):
            params = item.get("p") if isinstance(item.get("p"), dict) else {}
            says.append(Say(item["k"], params))
    return tuple(says)


# ---------------------------------------------------------------------- the skill

SIMPLE_INTENTS: dict[str, Operation] = {
    "StartRoutineIntent": lambda c, s: c.start(s),
    "AMAZON.NextIntent": Coach.next,
    "AMAZON.PreviousIntent": Coach.previous,
    "AMAZON.StartOverIntent": Coach.start_over,
    "AMAZON.PauseIntent": Coach.pause,
    "AMAZON.ResumeIntent": Coach.resume,
    "AMAZON.YesIntent": Coach.yes,
    "AMAZON.NoIntent": Coach.no,
    "AMAZON.HelpIntent": Coach.help,
    "AMAZON.StopIntent": Coach.stop,
    "AMAZON.CancelIntent": Coach.stop,
    "AMAZON.NavigateHomeIntent": Coach.stop,
    "AMAZON.FallbackIntent": Coach.fallback,
    "RepeatPoseIntent": Coach.repeat_pose,
    "SkipPoseIntent": Coach.skip_pose,
    "TopTipIntent": Coach.tip,
    "TargetAreasIntent": Coach.targets,
    "WhichSideIntent": Coach.which_side,
    "WhereAmIIntent": Coach.where_am_i,
}
SLOT_INTENTS = frozenset(
    {
        "AMAZON.RepeatIntent",
        "RepeatStepIntent",
        "SetModeIntent",
        "GoToPoseIntent",
        "SetHoldLengthIntent",
        "SwitchSideIntent",
    }
)
HANDLED_INTENTS: frozenset[str] = frozenset(SIMPLE_INTENTS) | SLOT_INTENTS
"""Every intent the skill handles; the interaction models must declare exactly these."""


def build_skill(
    routine: Routine | None = None,
    *,
    persistence: AbstractPersistenceAdapter | None = None,
    clips: ClipLookup | None = None,
    clock: Callable[[], float] = time.time,
) -> CustomSkill:
    """The one skill object that every entry point dispatches through."""
    ctx = SkillContext(routine or load_routine(), persistence, clips, clock)
    builder = CustomSkillBuilder(persistence_adapter=persistence)
    builder.add_request_handler(LaunchHandler(ctx))
    builder.add_request_handler(RepeatHandler(ctx))
    builder.add_request_handler(RepeatStepHandler(ctx))
    builder.add_request_handler(SetModeHandler(ctx))
    builder.add_request_handler(GoToPoseHandler(ctx))
    builder.add_request_handler(SetHoldLengthHandler(ctx))
    builder.add_request_handler(SwitchSideHandler(ctx))
    for intent, operation in SIMPLE_INTENTS.items():
        builder.add_request_handler(IntentHandler(ctx, intent, operation))
    builder.add_request_handler(SessionEndedHandler(ctx))
    builder.add_request_handler(UnhandledRequestHandler(ctx))
    builder.add_exception_handler(CatchAllExceptionHandler(ctx))
    return builder.create()
