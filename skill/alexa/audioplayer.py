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
- The runner's history (:mod:`skill.alexa.habits`) counts a play-through as it counts a session
  done turn by turn: ``PlaybackFinished`` of the last stream (or "next" from the closing) records
  it as closed, once however often the report comes; a ``PlaybackStopped`` after most of the
  routine records it as stopped, and carrying on later replaces that entry. Its minutes are the
  time the audio played (:class:`Ledger`, kept with ``playback``), and the spoken part of the
  session it was asked for in.
- "Alexa, pause" / "Alexa, resume" (AMAZON.PauseIntent and ResumeIntent) and the device's own
  buttons (``PlaybackController.*CommandIssued``) stop the stream and play it again at the offset
  where it stopped; next, previous and start over move by pose side, and repeat takes the pose
  side again; loop and shuffle change nothing (a routine plays in order). These built-in intents are
  taken here only when the audio player holds one of our streams and the runner is not in a
  spoken session (whose state is in the session attributes): then they are the coach's.
- Opening the skill after a stop offers to carry on ("Welcome back..."); yes (or resume) plays
  on from the saved stream and offset.
- ``PlaybackFailed`` is logged and the queue carries on with the next stream (after the stream
  still playing, if the one that failed was only queued).
- A token of ours made before the clips changed (a new release while the runner was paused) no
  longer names a stream; resume, the buttons, the offer to carry on and the queue's next stream
  then play from the start of the pose side the runner saved, rather than dropping the
  play-through.
- Without ``YOGA_AUDIO_BASE_URL`` (the clips over HTTPS), or on a device without an audio
  player, the skill says so and carries on turn by turn.

Responses to audio player and playback controller requests carry no speech, card or reprompt:
Alexa refuses them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeGuard
from urllib.parse import urlsplit

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_locale, get_request_type
from ask_sdk_model import Response

from skill.alexa.habits import BEGAN_KEY, CARRIED_KEY
from skill.alexa.progress import (
    LOADED_KEY,
    PLAYBACK_KEY,
    STATE_KEY,
    saved_playback,
    session_attributes,
)
from skill.habits.history import MAX_MINUTES, counts
from skill.resources import AUDIO_DIR
from skill.routine.codec import encode
from skill.routine.operations import PLAY_THROUGH_INTENT
from skill.routine.says import Key, Say
from skill.routine.state import State, Turn

if TYPE_CHECKING:
    from pathlib import Path

    from skill.alexa.handlers import SkillContext
    from skill.audio.choice import Choice
    from skill.audio.player.timeline import Clip
    from skill.audio.queue import Item, PlayQueue, Queues

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
REPEAT = "AMAZON.RepeatIntent"
PLAYBACK_MODES = frozenset(
    {
        "AMAZON.LoopOnIntent",
        "AMAZON.LoopOffIntent",
        "AMAZON.ShuffleOnIntent",
        "AMAZON.ShuffleOffIntent",
    }
)
"""Sent to a skill whose audio is playing, model or not; a routine plays in order, so they
change nothing (and open no spoken session, which would hold the audio)."""
COMMANDS = (
    frozenset({PAUSE, RESUME, NEXT, PREVIOUS, START_OVER, STOP, CANCEL, REPEAT}) | PLAYBACK_MODES
)
"""Built-in intents that control a play-through while the audio player holds one of ours."""
HOLDING = frozenset({"PLAYING", "PAUSED", "STOPPED", "BUFFER_UNDERRUN"})
"""Audio player activities in which it holds a stream it can play on from."""
MAX_OFFSET_SLACK_MS = 5_000
"""A saved offset may run a little past a stream's measured length; beyond that it is bogus."""
MAX_PLAYED_SECONDS = MAX_MINUTES * 60
"""The most a play-through's ledger counts (the history's longest session)."""
LATEST_TIME = 2**40
"""Unix seconds beyond any real clock: a later time in the ledger is not one."""


class Ledger(NamedTuple):
    """What a play-through has played, for the runner's history: kept with ``playback`` in the
    store (audio player requests have no session), and read back as untrusted."""

    began: int | None = None
    """When the audio last started to play (Unix seconds); ``None`` while it is stopped."""
    played: int = 0
    """Seconds played before that (and in the spoken session it was asked for in), not yet in
    the history."""
    carried: bool = False
    """It carries on a session saved earlier (or already recorded as stopped): the history
    replaces that session's entry rather than adding one."""

    def playing(self, now: float) -> Ledger:
        return self if self.began is not None else self._replace(began=int(now))

    def stopped(self, now: float, longest: float) -> Ledger:
        """The stretch that was playing added in, at most ``longest`` seconds (a stop that was
        never reported must not count the hours since)."""
        if self.began is None:
            return self
        stretch = int(min(max(0.0, now - self.began), longest))
        return Ledger(None, min(self.played + stretch, MAX_PLAYED_SECONDS), self.carried)

    @property
    def minutes(self) -> int:
        return max(1, round(self.played / 60))

    def recorded(self) -> Ledger:
        """Once in the history: what plays on carries that entry on."""
        return Ledger(self.began, 0, True)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"played": self.played, "carried": self.carried}
        if self.began is not None:
            out["began"] = self.began
        return out

    @classmethod
    def from_dict(cls, raw: Any) -> Ledger:
        if not isinstance(raw, dict):
            return cls()
        began, played = raw.get("began"), raw.get("played")
        return cls(
            began if _whole(began) and began <= LATEST_TIME else None,
            played if _whole(played) and played <= MAX_PLAYED_SECONDS else 0,
            raw.get("carried") is True,
        )


def _whole(value: Any) -> TypeGuard[int]:
    """A whole number of zero or more (JSON's ``true`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


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
        offset; ``None`` if it holds nothing of ours. A token of ours gone stale (the clips
        changed) holds the start of the pose side the runner saved."""
        context = handler_input.request_envelope.context
        player = getattr(context, "audio_player", None)
        activity = getattr(getattr(player, "player_activity", None), "value", None)
        if player is None or activity not in HOLDING:
            return None
        token = player.token
        found = self.queues.find(token)
        if found is None:
            return self.relocated(handler_input, token)
        queue, item = found
        return queue, item, _offset(player.offset_in_milliseconds, item)

    def requested(
        self, handler_input: HandlerInput, *, relocate: bool = False
    ) -> tuple[PlayQueue, Item] | None:
        """The stream an audio player request is about (its token); with ``relocate``, a
        token of ours gone stale is the start of the pose side the runner saved."""
        token = getattr(handler_input.request_envelope.request, "token", None)
        found = self.queues.find(token)
        if found is None and relocate:
            moved = self.relocated(handler_input, token)
            if moved is not None:
                return moved[0], moved[1]
        if found is None:
            log.info("audio player request for a stream that is not ours (or stale)")
        return found

    def relocated(
        self, handler_input: HandlerInput, token: object
    ) -> tuple[PlayQueue, Item, int] | None:
        """For a token of ours that no longer names a stream (the clips changed since): the
        start of the pose side the runner's saved progress is at, in the session the token
        names; ``None`` for a token not ours, or a routine already over."""
        from skill.audio.player.timeline import PlayerError

        choice = self.queues.choice_of(token)
        if choice is None:
            return None
        state = self.ctx.progress.load(handler_input)
        if not state.started or state.status == "finished":
            return None  # no place saved to go back to
        try:
            queue = self.queues.queue(choice)
        except PlayerError:
            return None
        log.info("a stale play-through token: on from the saved pose side")
        return queue, queue.start_at(self.ctx.coach.replay_start(state)), 0

    def carry_on(self, handler_input: HandlerInput) -> tuple[PlayQueue, Item, int] | None:
        """The stopped play-through the skill has just offered to carry on, if it can play."""
        playback = saved_playback(handler_input)
        if playback is None or not _supports_audio(handler_input):
            return None
        if not self.ctx.progress.load(handler_input).resume_offered:
            return None
        token = playback.get("token")
        found = self.queues.find(token)
        if found is None:
            return self.relocated(handler_input, token)
        queue, item = found
        return queue, item, _offset(playback.get("offset_ms"), item)

    def _stored(self, handler_input: HandlerInput) -> dict[str, Any]:
        """The play-through's record in the store (its place and :class:`Ledger`); empty if
        there is none, or no store, or it can't be read."""
        if self.ctx.persistence is None or handler_input.request_envelope.context is None:
            return {}
        try:
            saved = handler_input.attributes_manager.persistent_attributes
        except Exception:  # progress says what is wrong with the store when it saves
            return {}
        playback = saved.get(PLAYBACK_KEY) if isinstance(saved, dict) else None
        return playback if isinstance(playback, dict) else {}

    def ledger(self, handler_input: HandlerInput) -> Ledger:
        """What the play-through in the store has played so far."""
        return Ledger.from_dict(self._stored(handler_input))

    # ------------------------------------------------------------------ progress

    def state_at(self, queue: PlayQueue, item: Item) -> State:
        """The coach's state for a runner at ``item``: paused at its pose side (heard once
        past the side's first stream), idle in the welcome; in the closing, paused at the
        last side (the relaxation), heard, until the last stream has played."""
        from skill.audio.player.timeline import WELCOME

        if item.section == WELCOME:
            return self._settings(queue)
        side = item.section if isinstance(item.section, int) else queue.last_side
        if side is None:
            return self.finished_state(queue)
        first = queue.first_of(side)
        heard = first is not None and item.index > first.index
        return self._settings(queue)._replace(segment=side, status="paused", heard=heard)

    def finished_state(self, queue: PlayQueue) -> State:
        return self._settings(queue)._replace(status="finished", heard=True)

    def _settings(self, queue: PlayQueue) -> State:
        choice = queue.choice
        variations = tuple(sorted(self.ctx.coach.variation_ids)) if choice.variations else ()
        return State(
            mode=choice.mode,
            breaths=choice.breaths,
            plan=choice.plan,
            brief=choice.brief,
            accepted=variations,
        )

    def save(
        self,
        handler_input: HandlerInput,
        queue: PlayQueue,
        item: Item,
        offset_ms: int,
        ledger: Ledger,
    ) -> None:
        """Save the place as progress, with the stream and offset to play on from."""
        state = self.state_at(queue, item)
        playback = {"token": queue.token(item), "offset_ms": offset_ms, **ledger.to_dict()}
        self.ctx.progress.save(handler_input, encode(self.ctx.coach, state), playback)

    def started(
        self, handler_input: HandlerInput, queue: PlayQueue, item: Item, offset: int
    ) -> None:
        """The audio plays ``item``: the place, and the stretch of playing begun."""
        if self._over(handler_input):
            return
        ledger = self.ledger(handler_input).playing(self.ctx.clock())
        self.save(handler_input, queue, item, offset, ledger)

    def stopped(
        self, handler_input: HandlerInput, queue: PlayQueue, item: Item, offset: int
    ) -> None:
        """The audio stopped in ``item``: the place, and a session that counts by now in the
        history (as a stop turn by turn is), once for each stretch of playing."""
        if self._over(handler_input):
            return
        before = self.ledger(handler_input)
        ledger = before.stopped(self.ctx.clock(), queue.duration)
        state = self.state_at(queue, item)
        if before.began is not None and counts(self.ctx.coach, state):
            self.ctx.habits.at_session_end(
                handler_input, state, minutes=ledger.minutes, carried=ledger.carried
            )
            ledger = ledger.recorded()
        self.save(handler_input, queue, item, offset, ledger)

    def _over(self, handler_input: HandlerInput) -> bool:
        """Whether the play-through is over: the routine saved as done, with no stream to play
        on from. What the audio player reports after that (the closing stopped by "next", a
        report that comes late) must not make it unfinished again; a new play-through saves
        its place before its audio starts."""
        if self._stored(handler_input):
            return False
        return self.ctx.progress.load(handler_input).status == "finished"

    def finished(
        self, handler_input: HandlerInput, queue: PlayQueue, *, asked: bool = False
    ) -> None:
        """The play-through reached its end (or the runner ``asked`` to go past it): the
        routine is done, and in the history. A report of the end only counts if the place saved
        is this play-through's end: one that comes again, or late, after another play-through
        began, changes nothing. Asked, it counts unless the routine is done already."""
        stored = self._stored(handler_input)
        found = self.queues.find(stored.get("token"))
        at_end = (
            found is not None and found[0].choice == queue.choice and queue.near_the_end(found[1])
        )
        if not at_end and (not asked or self.ctx.progress.load(handler_input).status == "finished"):
            log.info("the end of a play-through that is not the runner's now: nothing to record")
            return
        ledger = Ledger.from_dict(stored).stopped(self.ctx.clock(), queue.duration)
        state = self.finished_state(queue)
        self.ctx.habits.at_session_end(
            handler_input, state, minutes=ledger.minutes, carried=ledger.carried
        )
        self.ctx.progress.save(handler_input, encode(self.ctx.coach, state))

    def choice_for(self, state: State) -> Choice:
        """The session the runner has chosen: their mode, hold length, plan and instruction
        level; the tougher variations unless they turned one down and took none."""
        from skill.audio.choice import Choice

        variations = bool(state.accepted) or not state.declined
        return Choice(state.mode, state.breaths, state.plan, state.brief, variations)

    def spoken_ledger(self, handler_input: HandlerInput, state: State) -> Ledger:
        """A play-through asked for in a spoken session: what that session has done so far
        counts with it (its minutes, and whether it carries on a routine saved earlier)."""
        if not state.started:
            return Ledger()
        session = session_attributes(handler_input)
        began = session.get(BEGAN_KEY)
        spoken = int(self.ctx.clock() - began) if _whole(began) else 0
        loaded = handler_input.attributes_manager.request_attributes.get(LOADED_KEY)
        from_store = STATE_KEY not in session and isinstance(loaded, State) and loaded.started
        carried = session.get(CARRIED_KEY) is True or from_store
        return Ledger(None, min(max(0, spoken), MAX_PLAYED_SECONDS), carried)

    # ------------------------------------------------------------------ responses

    def play(
        self,
        handler_input: HandlerInput,
        queue: PlayQueue,
        item: Item,
        *,
        offset_ms: int = 0,
        enqueue_after: str | None = None,
        behavior: str | None = None,
    ) -> Response:
        """Play ``item`` now (replacing the queue), or after the stream ``enqueue_after``, or
        with another ``behavior`` (``REPLACE_ENQUEUED``: after the stream playing)."""
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
        if behavior is not None:
            how = PlayBehavior(behavior)
        else:
            how = PlayBehavior.ENQUEUE if enqueue_after else PlayBehavior.REPLACE_ALL
        directive = PlayDirective(
            play_behavior=how, audio_item=AudioItem(stream=stream, metadata=metadata)
        )
        return handler_input.response_builder.add_directive(directive).response

    def stop(self, handler_input: HandlerInput) -> Response:
        from ask_sdk_model.interfaces.audioplayer import StopDirective

        return handler_input.response_builder.add_directive(StopDirective()).response

    def start(
        self,
        handler_input: HandlerInput,
        queue: PlayQueue,
        item: Item,
        offset_ms: int = 0,
        *,
        ledger: Ledger | None = None,
    ) -> Response:
        """The answer to a spoken request that starts the audio: the stream, and the session
        ends (Alexa requires it). The play-through's ``ledger`` goes on as stored unless a
        new one is given."""
        if ledger is None:
            ledger = self.ledger(handler_input)
        self.save(handler_input, queue, item, offset_ms, ledger)
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
        ledger = None  # the stored play-through's, carried on
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
            ledger = self.play.spoken_ledger(handler_input, state)
        narrator = self.ctx.narrator(_locale(handler_input))
        speech, _ = self.ctx.spoken(narrator, (Say(Key.PLAY_THROUGH),))
        handler_input.response_builder.speak(speech)
        return self.play.start(handler_input, queue, item, offset, ledger=ledger)

    def _cannot(self, handler_input: HandlerInput, state: State, key: Key) -> Response:
        turn = Turn(state, (Say(key),), self.ctx.coach.reprompt(state))
        return self.ctx.respond(handler_input, turn)


class CommandHandler(_Handler):
    """Pause, resume, next, previous, start over, repeat and stop (and loop and shuffle, which
    change nothing), said to a play-through: while the audio player holds one of our streams
    and the runner is not in a spoken session. And yes (or resume) to the offer to carry on a
    play-through that stopped."""

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
        builder = handler_input.response_builder
        builder.set_should_end_session(True)
        if name in PLAYBACK_MODES:
            return builder.response  # the audio carries on as it was
        if name in (PAUSE, STOP, CANCEL):
            return self.play.stop(handler_input)
        if name == RESUME:
            return self.play.start(handler_input, queue, item, offset)
        target = _moved(queue, item, offset, name)
        if target is None:  # next from the closing: the routine is over
            self.play.finished(handler_input, queue, asked=True)
            return self.play.stop(handler_input)
        if name == START_OVER:  # a new session, as "start over" is turn by turn
            return self.play.start(handler_input, queue, target, ledger=Ledger())
        return self.play.start(handler_input, queue, target)


def _moved(queue: PlayQueue, item: Item, offset: int, command: str | None) -> Item | None:
    """Where next, previous, start over and repeat go from ``item`` (by pose side)."""
    if command == START_OVER:
        return queue.items[0]
    if command == REPEAT:
        return queue.first_of(item.section) or item
    if command in (PREVIOUS, "PreviousCommandIssued"):
        return queue.previous_section(item, offset)
    return queue.next_section(item)


class PlaybackHandler(_Handler):
    """The audio player's reports (``AudioPlayer.*``): save the place, queue the next stream,
    recover from a failure, and keep the history."""

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
        # A stale token in the queue's next stream is relocated, so that playing goes on.
        found = self.play.requested(handler_input, relocate=kind == "PlaybackNearlyFinished")
        if found is None:
            return empty
        queue, item = found
        offset = _offset(getattr(request, "offset_in_milliseconds", 0), item)
        if kind == "PlaybackStarted":
            self.play.started(handler_input, queue, item, offset)
        elif kind == "PlaybackStopped":
            self.play.stopped(handler_input, queue, item, offset)
        elif kind == "PlaybackFinished" and queue.after(item) is None:
            self.play.finished(handler_input, queue)
        elif kind == "PlaybackNearlyFinished" and self.play.available:
            token = getattr(request, "token", None)
            following = item if self.play.queues.find(token) is None else queue.after(item)
            if following is not None and isinstance(token, str):
                return self.play.play(handler_input, queue, following, enqueue_after=token)
        elif kind == "PlaybackFailed" and self.play.available:
            following = queue.after(item)  # skip what failed: a retry would fail again
            if following is not None:
                behavior = "REPLACE_ENQUEUED" if self._other_playing(request, item) else None
                return self.play.play(handler_input, queue, following, behavior=behavior)
        return empty

    def _other_playing(self, request: Any, failed: Item) -> bool:
        """Whether another stream of ours still plays (the one that failed was only queued):
        then what follows is queued after it, rather than cutting it short."""
        current = getattr(request, "current_playback_state", None)
        activity = getattr(getattr(current, "player_activity", None), "value", None)
        playing = self.play.queues.find(getattr(current, "token", None))
        return activity == "PLAYING" and playing is not None and playing[1] != failed


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
        if target is None:  # next from the closing: the routine is over
            self.play.finished(handler_input, queue, asked=True)
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
