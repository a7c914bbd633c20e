"""Hands-free play-through: the whole routine on Alexa's audio player, from one request.

"Play the whole routine" (``PlayThroughIntent``) starts the runner's session, with their mode,
hold length, plan and instruction level, as a queue of streams (:mod:`skill.audio.queue`: the
clips of ``yoga-skill play``'s timeline and silent streams for its pauses). The response plays
the first stream (``REPLACE_ALL``) and ends the session, as Alexa requires of a response that
starts the audio player; each ``PlaybackNearlyFinished`` enqueues the next stream, with the
current one's token as ``expectedPreviousToken``.

- Every token names the stream it plays (settings and place); it comes back in each audio player
  request and in the context (``context.AudioPlayer``), and is read back by
  :meth:`~skill.audio.queue.Queues.find`: anything not ours, out of range or stale is ignored.
- ``PlaybackStarted`` and ``PlaybackStopped`` save the place as progress (the state at that pose
  side, and ``playback``: the token and the offset), since audio player requests have no session;
  ``PlaybackFinished`` of the last stream saves the routine as finished.
- "Alexa, pause" / "Alexa, resume" (AMAZON.PauseIntent and ResumeIntent) and the device's own
  buttons (``PlaybackController.*CommandIssued``) stop the stream and play it again at the offset
  where it stopped; next, previous and start over move by pose side. These built-in intents are
  taken here only when the audio player holds one of our streams and the runner is not in a
  spoken session (whose state is in the session attributes): then they are the coach's.
- Opening the skill after a stop offers to carry on ("Welcome back..."); yes (or resume) plays
  on from the saved stream and offset.
- ``PlaybackFailed`` is logged and the queue carries on with the next stream.
- Without ``YOGA_AUDIO_BASE_URL`` (the clips over HTTPS), or on a device without an audio
  player, the skill says so and carries on turn by turn.

Responses to audio player and playback controller requests carry no speech, card or reprompt:
Alexa refuses them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_locale, get_request_type
from ask_sdk_model import Response

from skill.alexa.progress import STATE_KEY, saved_playback, session_attributes
from skill.resources import AUDIO_DIR
from skill.routine.codec import encode
from skill.routine.operations import PLAY_THROUGH_INTENT
from skill.routine.says import Key, Say
from skill.routine.state import State, Turn

if TYPE_CHECKING:
    from pathlib import Path

    from skill.alexa.handlers import SkillContext
    from skill.audio.player.timeline import Clip
    from skill.audio.queue import Choice, Item, PlayQueue, Queues

# The timeline and the queues (skill.audio.player.timeline, skill.audio.queue), and ask-sdk's
# audio player models, are imported when a play-through first needs them: a spoken session never
# does, and they are a tenth of a cold start.

log = logging.getLogger(__name__)

AUDIO_PLAYER = "AudioPlayer."
PLAYBACK_CONTROLLER = "PlaybackController."
EXCEPTION_ENCOUNTERED = "System.ExceptionEncountered"
PAUSE, RESUME = "AMAZON.PauseIntent", "AMAZON.ResumeIntent"
NEXT, PREVIOUS, START_OVER = "AMAZON.NextIntent", "AMAZON.PreviousIntent", "AMAZON.StartOverIntent"
STOP, CANCEL, YES = "AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.YesIntent"
COMMANDS = frozenset({PAUSE, RESUME, NEXT, PREVIOUS, START_OVER, STOP, CANCEL})
"""Built-in intents that control a play-through while the audio player holds one of ours."""
HOLDING = frozenset({"PLAYING", "PAUSED", "STOPPED", "BUFFER_UNDERRUN"})
"""Audio player activities in which it holds a stream it can play on from."""
MAX_OFFSET_SLACK_MS = 5_000
"""A saved offset may run a little past a stream's measured length; beyond that it is bogus."""


class PlayThrough:
    """What the play-through handlers share: the queues, and where the streams are served."""

    def __init__(
        self, ctx: SkillContext, base_url: str | None, audio_dir: Path = AUDIO_DIR
    ) -> None:
        self.ctx = ctx
        parts = urlsplit(base_url or "")
        self.base_url = base_url if parts.scheme == "https" and parts.netloc else None
        self._audio_dir = audio_dir
        self._clips: Mapping[str, Clip] | None = None
        self._queues: Queues | None = None

    @property
    def queues(self) -> Queues:
        """The play-through's queues, made when first needed."""
        if self._queues is None:
            from skill.audio.queue import Queues

            self._queues = Queues(self.ctx.routine, self._load_clips, self._audio_dir)
        return self._queues

    @property
    def available(self) -> bool:
        return self.base_url is not None

    def _load_clips(self) -> Mapping[str, Clip]:
        if self._clips is None:
            self._clips = load_clips(self._audio_dir)
        return self._clips

    # ------------------------------------------------------------------ reading requests

    def holding(self, handler_input: HandlerInput) -> tuple[PlayQueue, Item, int] | None:
        """The play-through stream the audio player holds (from the context), with its
        offset; ``None`` if it holds nothing of ours."""
        context = handler_input.request_envelope.context
        player = getattr(context, "audio_player", None)
        activity = getattr(getattr(player, "player_activity", None), "value", None)
        if player is None or activity not in HOLDING:
            return None
        found = self.queues.find(player.token)
        if found is None:
            return None
        queue, item = found
        return queue, item, _offset(player.offset_in_milliseconds, item)

    def requested(self, handler_input: HandlerInput) -> tuple[PlayQueue, Item] | None:
        """The stream an audio player request is about (its token)."""
        token = getattr(handler_input.request_envelope.request, "token", None)
        found = self.queues.find(token)
        if found is None:
            log.info("audio player request for a stream that is not ours (or stale)")
        return found

    def carry_on(self, handler_input: HandlerInput) -> tuple[PlayQueue, Item, int] | None:
        """The stopped play-through the skill has just offered to carry on, if it can play."""
        playback = saved_playback(handler_input)
        if playback is None or not _supports_audio(handler_input):
            return None
        if not self.ctx.progress.load(handler_input).resume_offered:
            return None
        found = self.queues.find(playback.get("token"))
        if found is None:
            return None
        queue, item = found
        return queue, item, _offset(playback.get("offset_ms"), item)

    # ------------------------------------------------------------------ progress

    def state_at(self, queue: PlayQueue, item: Item) -> State:
        """The coach's state for a runner at ``item``: paused at its pose side (heard once
        past the side's first stream), idle in the welcome, finished in the closing."""
        from skill.audio.player.timeline import CLOSING, WELCOME

        choice = queue.choice
        variations = tuple(sorted(self.ctx.coach.variation_ids)) if choice.variations else ()
        settings = State(
            mode=choice.mode,
            breaths=choice.breaths,
            plan=choice.plan,
            brief=choice.brief,
            accepted=variations,
        )
        if item.section == WELCOME:
            return settings
        if item.section == CLOSING or not isinstance(item.section, int):
            return replace(settings, status="finished", heard=True)
        first = queue.first_of(item.section)
        heard = first is not None and item.index > first.index
        return replace(settings, segment=item.section, status="paused", heard=heard)

    def save(
        self, handler_input: HandlerInput, queue: PlayQueue, item: Item, offset_ms: int
    ) -> None:
        """Save the place as progress, with the stream and offset to play on from."""
        state = self.state_at(queue, item)
        playback = None
        if state.status != "finished":
            playback = {"token": queue.token(item), "offset_ms": offset_ms}
        self.ctx.progress.save(handler_input, encode(self.ctx.coach, state), playback)

    def choice_for(self, state: State) -> Choice:
        """The session the runner has chosen: their mode, hold length, plan and instruction
        level; the tougher variations unless they turned one down and took none."""
        from skill.audio.queue import Choice

        variations = bool(state.accepted) or not state.declined
        return Choice(state.mode, state.breaths, state.plan, state.brief, variations)

    # ------------------------------------------------------------------ responses

    def play(
        self,
        handler_input: HandlerInput,
        queue: PlayQueue,
        item: Item,
        *,
        offset_ms: int = 0,
        enqueue_after: str | None = None,
    ) -> Response:
        """Play ``item`` now (replacing the queue), or after the stream ``enqueue_after``."""
        from ask_sdk_model.interfaces.audioplayer import (
            AudioItem,
            AudioItemMetadata,
            PlayBehavior,
            PlayDirective,
            Stream,
        )

        assert self.base_url is not None
        stream = Stream(
            token=queue.token(item),
            url=queue.url(self.base_url, item),
            offset_in_milliseconds=offset_ms,
            expected_previous_token=enqueue_after,
        )
        metadata = AudioItemMetadata(title=item.title, subtitle=item.subtitle or None)
        behavior = PlayBehavior.ENQUEUE if enqueue_after else PlayBehavior.REPLACE_ALL
        directive = PlayDirective(
            play_behavior=behavior, audio_item=AudioItem(stream=stream, metadata=metadata)
        )
        return handler_input.response_builder.add_directive(directive).response

    def stop(self, handler_input: HandlerInput) -> Response:
        from ask_sdk_model.interfaces.audioplayer import StopDirective

        return handler_input.response_builder.add_directive(StopDirective()).response

    def start(
        self, handler_input: HandlerInput, queue: PlayQueue, item: Item, offset_ms: int = 0
    ) -> Response:
        """The answer to a spoken request that starts the audio: the stream, and the session
        ends (Alexa requires it)."""
        self.save(handler_input, queue, item, offset_ms)
        handler_input.response_builder.set_should_end_session(True)
        return self.play(handler_input, queue, item, offset_ms=offset_ms)


def load_clips(audio_dir: Path) -> Mapping[str, Clip]:
    """The clips of the timeline (:func:`skill.audio.player.timeline.load_clips`)."""
    from skill.audio.player.timeline import load_clips as load

    return load(audio_dir)


def _offset(value: Any, item: Item) -> int:
    """An offset into ``item`` from a request or the store (untrusted): 0 if it is not one."""
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    limit = int(item.duration * 1000) + MAX_OFFSET_SLACK_MS
    return value if 0 <= value <= limit else 0


def _request_type(handler_input: HandlerInput) -> str:
    found = get_request_type(handler_input)
    return found if isinstance(found, str) else ""


def _intent_name(handler_input: HandlerInput) -> str | None:
    intent = getattr(handler_input.request_envelope.request, "intent", None)
    name = getattr(intent, "name", None)
    return name if isinstance(name, str) else None


def _in_conversation(handler_input: HandlerInput) -> bool:
    """Whether the runner is in a spoken session with the coach (its state in the session)."""
    return STATE_KEY in session_attributes(handler_input)


def _supports_audio(handler_input: HandlerInput) -> bool:
    system = getattr(handler_input.request_envelope.context, "system", None)
    interfaces = getattr(getattr(system, "device", None), "supported_interfaces", None)
    return getattr(interfaces, "audio_player", None) is not None


def _locale(handler_input: HandlerInput) -> str | None:
    locale = get_locale(handler_input)
    return locale if isinstance(locale, str) else None


# ---------------------------------------------------------------------- handlers


class _Handler(AbstractRequestHandler):
    def __init__(self, play: PlayThrough) -> None:
        self.play = play
        self.ctx = play.ctx


class PlayThroughHandler(_Handler):
    """ "Play the whole routine": the runner's session on the audio player, from where they are
    (mid-routine; where the audio stopped, when the skill has just offered to carry on) or from
    the top; or, where it can't play, why not, and on turn by turn."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return _intent_name(handler_input) == PLAY_THROUGH_INTENT

    def handle(self, handler_input: HandlerInput) -> Response:
        from skill.audio.player.timeline import PlayerError

        coach = self.ctx.coach
        state = self.ctx.progress.load(handler_input)
        if not self.play.available:
            return self._cannot(handler_input, state, Key.PLAY_THROUGH_UNAVAILABLE)
        if not _supports_audio(handler_input):
            return self._cannot(handler_input, state, Key.PLAY_THROUGH_NO_DEVICE)
        carry_on = self.play.carry_on(handler_input)  # offered to carry on: from where it stopped
        if carry_on is not None:
            queue, item, offset = carry_on
        else:
            try:
                queue = self.play.queues.queue(self.play.choice_for(state))
            except PlayerError as exc:
                log.error("play-through is not available: %s", exc)
                return self._cannot(handler_input, state, Key.PLAY_THROUGH_UNAVAILABLE)
            item = queue.start_at(coach.replay_start(state) if state.started else None)
            offset = 0
        narrator = self.ctx.narrator(_locale(handler_input))
        speech, _ = self.ctx.spoken(narrator, (Say(Key.PLAY_THROUGH),))
        handler_input.response_builder.speak(speech)
        return self.play.start(handler_input, queue, item, offset)

    def _cannot(self, handler_input: HandlerInput, state: State, key: Key) -> Response:
        turn = Turn(state, (Say(key),), self.ctx.coach.reprompt(state))
        return self.ctx.respond(handler_input, turn)


class CommandHandler(_Handler):
    """Pause, resume, next, previous, start over and stop, said to a play-through: while the
    audio player holds one of our streams and the runner is not in a spoken session. And yes
    (or resume) to the offer to carry on a play-through that stopped."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        name = _intent_name(handler_input)
        if name is None or not self.play.available:
            return False
        if name in (YES, RESUME) and self.play.carry_on(handler_input) is not None:
            return True
        return (
            name in COMMANDS
            and not _in_conversation(handler_input)
            and self.play.holding(handler_input) is not None
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        name = _intent_name(handler_input)
        carry_on = self.play.carry_on(handler_input) if name in (YES, RESUME) else None
        if carry_on is not None:
            queue, item, offset = carry_on
            return self.play.start(handler_input, queue, item, offset)
        held = self.play.holding(handler_input)
        assert held is not None
        queue, item, offset = held
        handler_input.response_builder.set_should_end_session(True)
        if name in (PAUSE, STOP, CANCEL):
            return self.play.stop(handler_input)
        if name == RESUME:
            return self.play.start(handler_input, queue, item, offset)
        target = _moved(queue, item, offset, name)
        if target is None:  # next from the closing: the routine is over
            self.play.save(handler_input, queue, queue.items[-1], 0)
            return self.play.stop(handler_input)
        return self.play.start(handler_input, queue, target)


def _moved(queue: PlayQueue, item: Item, offset: int, command: str | None) -> Item | None:
    """Where next, previous and start over go from ``item`` (by pose side)."""
    if command == START_OVER:
        return queue.items[0]
    if command in (PREVIOUS, "PreviousCommandIssued"):
        return queue.previous_section(item, offset)
    return queue.next_section(item)


class PlaybackHandler(_Handler):
    """The audio player's reports (``AudioPlayer.*``): save the place, queue the next stream,
    recover from a failure."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return _request_type(handler_input).startswith(AUDIO_PLAYER)

    def handle(self, handler_input: HandlerInput) -> Response:
        kind = _request_type(handler_input).removeprefix(AUDIO_PLAYER)
        request = handler_input.request_envelope.request
        empty = handler_input.response_builder.response
        if kind == "PlaybackFailed":
            error = getattr(request, "error", None)
            log.error(
                "audio player failed: %s: %s (token %.80s)",
                getattr(getattr(error, "object_type", None), "value", None),
                str(getattr(error, "message", ""))[:200],
                getattr(request, "token", None),
            )
        found = self.play.requested(handler_input)
        if found is None:
            return empty
        queue, item = found
        offset = _offset(getattr(request, "offset_in_milliseconds", 0), item)
        if kind in ("PlaybackStarted", "PlaybackStopped"):
            self.play.save(handler_input, queue, item, offset)
        elif kind == "PlaybackFinished" and queue.after(item) is None:
            self.play.save(handler_input, queue, item, 0)  # the closing: finished
        elif kind == "PlaybackNearlyFinished" and self.play.available:
            following = queue.after(item)
            if following is not None:
                return self.play.play(
                    handler_input, queue, following, enqueue_after=queue.token(item)
                )
        elif kind == "PlaybackFailed" and self.play.available:
            following = queue.after(item)  # skip what failed: a retry would fail again
            if following is not None:
                return self.play.play(handler_input, queue, following)
        return empty


class ControllerHandler(_Handler):
    """The device's own play, pause, next and previous buttons (``PlaybackController.*``)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return _request_type(handler_input).startswith(PLAYBACK_CONTROLLER)

    def handle(self, handler_input: HandlerInput) -> Response:
        command = _request_type(handler_input).removeprefix(PLAYBACK_CONTROLLER)
        held = self.play.holding(handler_input) if self.play.available else None
        if held is None:
            log.info("%s with no play-through of ours to control", command)
            return handler_input.response_builder.response
        queue, item, offset = held
        if command == "PauseCommandIssued":
            return self.play.stop(handler_input)
        if command == "PlayCommandIssued":
            return self.play.play(handler_input, queue, item, offset_ms=offset)
        target = _moved(queue, item, offset, command)
        if target is None:
            return self.play.stop(handler_input)
        return self.play.play(handler_input, queue, target)


class ExceptionEncounteredHandler(_Handler):
    """Alexa reports that a response of ours was refused: log it; it expects no answer."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return _request_type(handler_input) == EXCEPTION_ENCOUNTERED

    def handle(self, handler_input: HandlerInput) -> Response:
        error = getattr(handler_input.request_envelope.request, "error", None)
        log.error(
            "Alexa refused a response: %s: %s",
            getattr(getattr(error, "object_type", None), "value", None),
            str(getattr(error, "message", ""))[:200],
        )
        return handler_input.response_builder.response


class SilentExceptionHandler(AbstractExceptionHandler):
    """A failure while answering the audio player: log it and answer nothing (speech would be
    refused)."""

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        kind = _request_type(handler_input)
        return kind.startswith((AUDIO_PLAYER, PLAYBACK_CONTROLLER)) or kind == EXCEPTION_ENCOUNTERED

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        log.error("audio player request failed", exc_info=exception)
        return handler_input.response_builder.response


def audio_handlers(play: PlayThrough) -> list[AbstractRequestHandler]:
    """The play-through's handlers, to be registered before the coach's intents."""
    return [
        PlayThroughHandler(play),
        CommandHandler(play),
        PlaybackHandler(play),
        ControllerHandler(play),
        ExceptionEncounteredHandler(play),
    ]
