"""Thin ask-sdk handlers around the state machine, and :func:`build_skill` that registers them.

Each handler loads the runner's state (:mod:`skill.alexa.progress`), calls one operation from
the registry (:mod:`skill.routine.operations`) and renders its turn. The Flask webhook, the
Lambda entry point and ``yoga-skill dialog`` all dispatch through the skill object built here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_core.utils import get_locale, get_request_type, is_intent_name, is_request_type
from ask_sdk_model import Response

from skill.alexa.alexa_api import AlexaApi
from skill.alexa.audioplayer import PlayThrough, SilentExceptionHandler, audio_handlers
from skill.alexa.habits import Habits, habit_handlers
from skill.alexa.progress import (
    STATE_KEY,
    Progress,
    last_said,
    remembered,
    session_attributes,
)
from skill.alexa.screens import Screens, clip_durations
from skill.resources import AUDIO_DIR
from skill.routine.coach import Coach
from skill.routine.content import Routine, load_routine
from skill.routine.operations import BY_INTENT, LAUNCH, REPEAT_INTENT, Slot, Slots
from skill.routine.says import Key, Say, prompted
from skill.routine.state import Mode, Turn
from skill.routine.timing import Timing, TimingSource
from skill.settings import DEFAULT_LOCALE, supported_locale
from skill.speech.narration import Narrator
from skill.speech.ssml import ClipLookup, to_ssml

log = logging.getLogger(__name__)

SSML_CACHE_SIZE = 4096
ER_SUCCESS_MATCH = "ER_SUCCESS_MATCH"
"""The entity resolution status of a slot value the interaction model resolved (ask-sdk's
``StatusCode.ER_SUCCESS_MATCH``, whose models are not imported for it)."""
SKILL_EVENT_PREFIX = "AlexaSkillEvent."
SKILL_DISABLED = SKILL_EVENT_PREFIX + "SkillDisabled"
USER_EVENT = "Alexa.Presentation.APL.UserEvent"
TOUCH = {
    "next": "AMAZON.NextIntent",
    "previous": "AMAZON.PreviousIntent",
    "repeat": "RepeatPoseIntent",
    "pause": "AMAZON.PauseIntent",
    "resume": "AMAZON.ResumeIntent",
}
"""The screen's buttons (the UserEvent's argument) and the intents they act as."""


class SkillContext:
    """What the handlers share: the routine's coach, progress, and narrators per locale.

    A plain class, not a dataclass: made once, never compared, and a dataclass's generated
    methods are compiled at every cold start."""

    def __init__(
        self,
        routine: Routine,
        persistence: AbstractPersistenceAdapter | None = None,
        clips: ClipLookup | None = None,
        clock: Callable[[], float] = time.time,
        timing: TimingSource | None = None,
        api: AlexaApi | None = None,
    ) -> None:
        self.routine = routine
        self.persistence = persistence
        self.clips = clips
        self.clock = clock
        self.timing = timing
        self.api = AlexaApi() if api is None else api
        self.coach = Coach(routine, timing)
        self.progress = Progress(self.coach, persistence, clock)
        self.screens = Screens(self.coach, clip_durations(AUDIO_DIR))
        self.habits = Habits(self.coach, clock, self.api, persistence)
        self._narrators: dict[str, Narrator] = {}
        self._spoken: dict[tuple[str, tuple[Say, ...]], tuple[str, str]] = {}

    def narrator(self, locale: str | None) -> Narrator:
        """The narrator for a request's locale as :func:`supported_locale` maps it: at most one
        per supported locale, whatever the requests say."""
        supported = supported_locale(locale)
        found = self._narrators.get(supported)
        if found is None:
            try:
                found = Narrator(self.routine, supported)
            except KeyError:
                if supported == DEFAULT_LOCALE:
                    raise
                found = self.narrator(DEFAULT_LOCALE)
            self._narrators[supported] = found
        return found

    def respond(
        self, handler_input: HandlerInput, turn: Turn, *, remember: bool = True
    ) -> Response:
        """Keep the new state and build the spoken response, with its screen or card."""
        turn = self.habits.after_turn(handler_input, turn)  # a finished session, a streak
        narrator = self.narrator(_locale(handler_input))
        speech, last = self.spoken(narrator, turn.says)
        reprompt = None
        if turn.reprompt and not turn.end_session:
            reprompt, _ = self.spoken(narrator, turn.reprompt)
            says = prompted(turn.says, turn.reprompt)  # an open session always asks
            if says is not turn.says:
                speech, _ = self.spoken(narrator, says)
        # Only once the answer is ready does the runner move on.
        moved = self.progress.keep(
            handler_input, turn.state, last if remember and turn.says else None
        )
        builder = handler_input.response_builder
        builder.speak(speech)
        if reprompt:
            builder.ask(reprompt)
        builder.set_should_end_session(turn.end_session)
        self.screens.show(handler_input, turn, narrator, moved)
        return builder.response

    def spoken(self, narrator: Narrator, says: tuple[Say, ...]) -> tuple[str, str]:
        """The SSML for what to say, and what to say as it is kept for "repeat that".
        Remembered: a routine has only so many things to say."""
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
        return to_ssml(narrator.blocks(says), self.clips), remembered(says)


def slots_of(handler_input: HandlerInput) -> Slots:
    """The request's filled slots as plain values: (resolved id or None, words heard)."""
    intent = getattr(handler_input.request_envelope.request, "intent", None)
    out: dict[str, Slot] = {}
    for name, slot in (getattr(intent, "slots", None) or {}).items():
        if slot is None or not slot.value:
            continue
        resolved = None
        resolutions = getattr(slot, "resolutions", None)
        for authority in getattr(resolutions, "resolutions_per_authority", None) or []:
            status = getattr(getattr(authority, "status", None), "code", None)
            if getattr(status, "value", None) == ER_SUCCESS_MATCH and authority.values:
                resolved = authority.values[0].value.id
                break
        out[name] = (resolved, slot.value)
    return out


# ---------------------------------------------------------------------- handlers


class _Base(AbstractRequestHandler):
    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx


class LaunchHandler(_Base):
    matches = staticmethod(is_request_type("LaunchRequest"))

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return self.matches(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.progress.load(handler_input)
        return self.ctx.respond(handler_input, LAUNCH.act(self.ctx.coach, state, {}))


class IntentHandler(_Base):
    """Every intent in the operations registry: its operation, with the request's slots."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return _intent_name(handler_input) in BY_INTENT

    def handle(self, handler_input: HandlerInput) -> Response:
        operation = BY_INTENT[_intent_name(handler_input) or ""]
        state = self.ctx.progress.load(handler_input)
        turn = operation.act(self.ctx.coach, state, slots_of(handler_input))
        return self.ctx.respond(handler_input, turn)


class RepeatHandler(_Base):
    """ "Repeat that": say the last answer again, without changing the position."""

    matches = staticmethod(is_intent_name(REPEAT_INTENT))

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return self.matches(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        coach = self.ctx.coach
        state = self.ctx.progress.load(handler_input)
        says = last_said(handler_input)
        if not says:
            return self.ctx.respond(handler_input, coach.repeat_pose(state))
        return self.ctx.respond(handler_input, Turn(state, says, coach.reprompt(state)))


class TouchHandler(_Base):
    """A button on the screen (``Alexa.Presentation.APL.UserEvent``): the same operation as the
    spoken intent in :data:`TOUCH`. The screen's "repeat" takes the pose on the screen again
    (RepeatPoseIntent), not the last answer (AMAZON.RepeatIntent): the button sits under the
    pose, and the last answer may be one the screen never showed ("which side am I on?")."""

    matches = staticmethod(is_request_type(USER_EVENT))

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return self.matches(handler_input) and _touched(handler_input) in TOUCH

    def handle(self, handler_input: HandlerInput) -> Response:
        operation = BY_INTENT[TOUCH[_touched(handler_input) or ""]]
        state = self.ctx.progress.load(handler_input)
        return self.ctx.respond(handler_input, operation.act(self.ctx.coach, state, {}))


class SessionEndedHandler(_Base):
    """Alexa closed the session (timeout, error or user exit): keep the progress, say nothing."""

    matches = staticmethod(is_request_type("SessionEndedRequest"))

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return self.matches(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        log.info("session ended: %s", getattr(request, "reason", None))
        if STATE_KEY in session_attributes(handler_input):
            self.ctx.habits.at_session_end(handler_input, self.ctx.progress.load(handler_input))
        self.ctx.progress.save_session(handler_input)
        return handler_input.response_builder.response


class SkillDisabledHandler(_Base):
    """The runner disabled the skill (the manifest subscribes to the event): delete what was kept
    for them, and answer with the empty response a skill event expects."""

    matches = staticmethod(is_request_type(SKILL_DISABLED))

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return self.matches(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        self.ctx.progress.forget(handler_input)
        log.info("skill disabled: the runner's saved progress is deleted")
        return handler_input.response_builder.response


class UnhandledRequestHandler(_Base):
    """Any request type or intent this skill does not know: a spoken recovery."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.progress.load(handler_input)
        return self.ctx.respond(handler_input, self.ctx.coach.fallback(state), remember=False)


class CatchAllExceptionHandler(AbstractExceptionHandler):
    """Apologise, reprompt and log; never let a traceback reach the runner."""

    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        # A skill event has nobody to apologise to: it fails (HTTP error, Lambda error), so
        # that Alexa delivers it again.
        return not _is_skill_event(handler_input)

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        log.error("handler failed", exc_info=exception)
        narrator = self.ctx.narrator(_safe_locale(handler_input))
        speech = to_ssml(narrator.blocks([Say(Key.ERROR)]))
        builder = handler_input.response_builder
        builder.speak(speech).ask(to_ssml(narrator.blocks([Say(Key.FALLBACK)])))
        builder.set_should_end_session(False)
        return builder.response


def _intent_name(handler_input: HandlerInput) -> str | None:
    intent = getattr(handler_input.request_envelope.request, "intent", None)
    name = getattr(intent, "name", None)
    return name if isinstance(name, str) else None


def _touched(handler_input: HandlerInput) -> str | None:
    """The button a UserEvent says was touched: its first argument."""
    arguments = getattr(handler_input.request_envelope.request, "arguments", None)
    if isinstance(arguments, list) and arguments and isinstance(arguments[0], str):
        return arguments[0]
    return None


def _is_skill_event(handler_input: HandlerInput) -> bool:
    try:
        request_type = get_request_type(handler_input)
    except Exception:
        return False
    return isinstance(request_type, str) and request_type.startswith(SKILL_EVENT_PREFIX)


def _locale(handler_input: HandlerInput) -> str | None:
    # ask-sdk types get_locale as AnyStr; the request's locale is an optional str.
    locale = get_locale(handler_input)
    return locale if isinstance(locale, str) else None


def _safe_locale(handler_input: HandlerInput) -> str | None:
    try:
        return _locale(handler_input)
    except Exception:
        return None


# ---------------------------------------------------------------------- the skill


def _clip_timing(routine: Routine) -> TimingSource:
    """:func:`skill.audio.player.timeline.clip_timing` over the committed clips, its module
    imported when a duration is first asked for (a launch asks none; the timeline is a tenth of
    a cold start)."""
    source: list[TimingSource] = []

    def timing(mode: Mode, breaths: int) -> Timing | None:
        if not source:
            from skill.audio.player.timeline import clip_timing

            source.append(clip_timing(routine, AUDIO_DIR))
        return source[0](mode, breaths)

    return timing


def build_skill(
    routine: Routine | None = None,
    *,
    persistence: AbstractPersistenceAdapter | None = None,
    clips: ClipLookup | None = None,
    clock: Callable[[], float] = time.time,
    timing: TimingSource | None = None,
    audio_base_url: str | None = None,
    api: AlexaApi | None = None,
) -> CustomSkill:
    """The one skill object that every entry point dispatches through. Durations come from
    ``timing``, by default the timeline of the committed clips; with ``audio_base_url`` (the
    clips over HTTPS) the routine also plays hands-free on Alexa's audio player. The Alexa APIs
    (time zone, reminders) are called through ``api``, by default within short deadlines."""
    routine = routine or load_routine()
    if timing is None:
        timing = _clip_timing(routine)
    ctx = SkillContext(routine, persistence, clips, clock, timing, api or AlexaApi())
    # ask-sdk types persistence_adapter as required, though None (its default) means no store.
    builder = CustomSkillBuilder(persistence_adapter=persistence)  # type: ignore[arg-type]
    builder.add_request_handler(LaunchHandler(ctx))
    for handler in audio_handlers(PlayThrough(ctx, audio_base_url)):  # before the coach's intents
        builder.add_request_handler(handler)
    builder.add_request_handler(RepeatHandler(ctx))
    builder.add_request_handler(IntentHandler(ctx))
    for habit in habit_handlers(ctx):
        builder.add_request_handler(habit)
    builder.add_request_handler(TouchHandler(ctx))
    builder.add_request_handler(SessionEndedHandler(ctx))
    builder.add_request_handler(SkillDisabledHandler(ctx))
    builder.add_request_handler(UnhandledRequestHandler(ctx))
    builder.add_exception_handler(SilentExceptionHandler())
    builder.add_exception_handler(CatchAllExceptionHandler(ctx))
    return builder.create()
