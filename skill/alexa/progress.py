"""The runner's progress across turns and sessions: what is kept, when, and for how long.

- The state travels in the session attributes from turn to turn (:data:`STATE_KEY`).
- It is saved to the persistence adapter only when the runner moved: "which side?" saves
  nothing. A store that fails never stops the answer (progress is best effort).
- Saved progress older than :data:`RESUME_WINDOW_SECONDS` keeps only the runner's settings.
- The last answer is remembered for "repeat that" (:data:`LAST_KEY`), as a string: the SDK
  deep-copies session attributes on every request.
- When the runner disables the skill, everything kept for them is deleted (:meth:`Progress.forget`).
- A hands-free play-through saves where its audio stopped (:data:`PLAYBACK_KEY`: the stream's
  token and the offset in it) beside the state. Loaded with fresh progress, it rides in the
  session while the offer to carry on stands, so that "yes" plays on from there; any other move
  drops it (:mod:`skill.alexa.audioplayer`).
- The runner's finished sessions (:data:`~skill.habits.history.HISTORY_KEY`, kept by
  :mod:`skill.alexa.habits`) share the record: saving the progress keeps them, as they are, less
  any older than the history keeps.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_core.handler_input import HandlerInput

from skill.alexa.persistence import user_id_from_envelope
from skill.habits.history import HISTORY_KEY, expire
from skill.routine.codec import decode, encode
from skill.routine.course import Course
from skill.routine.says import Say
from skill.routine.state import State

log = logging.getLogger(__name__)

STATE_KEY = "yoga"
LAST_KEY = "last"
SAVED_AT_KEY = "saved_at"
PLAYBACK_KEY = "playback"
LOADED_KEY = "loaded"
"""Request attribute: the state :meth:`Progress.load` gave this request (what a turn began from)."""
UNREAD_KEY = "unread"
"""Request attribute: reading the saved progress failed, so this request saves nothing over it."""
MAX_LAST_CHARS = 4096
"""The longest remembered answer taken back from the session (the skill's own are far shorter)."""
RESUME_WINDOW_SECONDS = 12 * 3600
"""Progress older than this starts the routine afresh."""
DECODED_CACHE_SIZE = 4096
"""Distinct session states kept decoded (a session goes through a few dozen)."""


def session_attributes(handler_input: HandlerInput) -> dict[str, Any]:
    """The session attributes; a throwaway dict for a request that has no session."""
    if handler_input.request_envelope.session is None:
        return {}
    attributes = handler_input.attributes_manager.session_attributes
    return attributes if isinstance(attributes, dict) else {}


class Progress:
    """Loads and keeps one runner's state for the handlers."""

    def __init__(
        self,
        course: Course,
        persistence: AbstractPersistenceAdapter | None,
        clock: Callable[[], float],
    ) -> None:
        self.course = course
        self.persistence = persistence
        self.clock = clock
        self._decoded: dict[tuple[Any, ...], State] = {}

    def _stores(self, handler_input: HandlerInput) -> bool:
        """Whether the request's runner can have a record: a store, and a user id to key it by."""
        envelope = handler_input.request_envelope
        if self.persistence is None or envelope.context is None:
            return False
        try:
            user_id_from_envelope(envelope)
        except PersistenceException:
            return False
        return True

    def load(self, handler_input: HandlerInput) -> State:
        """This session's state, else the saved progress, else a fresh start (and remembered
        for the request as :data:`LOADED_KEY`)."""
        state = self._load(handler_input)
        handler_input.attributes_manager.request_attributes[LOADED_KEY] = state
        return state

    def _decode(self, data: Any) -> State:
        """The session's state, decoded once per distinct state (a session goes through a few
        dozen; decoding checks each field against the course): states are immutable."""
        try:
            key = tuple(
                (name, list, tuple((type(x), x) for x in value))
                if type(value) is list
                else (name, type(value), value)
                for name, value in data.items()
            )
            found = self._decoded.get(key)
        except (AttributeError, TypeError):  # not a mapping, or values that can't be a key
            return decode(self.course, data)
        if found is None:
            if len(self._decoded) >= DECODED_CACHE_SIZE:
                self._decoded.clear()
            found = self._decoded[key] = decode(self.course, data)
        return found

    def _load(self, handler_input: HandlerInput) -> State:
        session = session_attributes(handler_input)
        if STATE_KEY in session:
            return self._decode(session[STATE_KEY])
        if not self._stores(handler_input):
            return State()
        try:
            saved = handler_input.attributes_manager.persistent_attributes
        except Exception:  # a broken store must not stop the runner's session
            _log_store_failure("could not read saved progress")
            # A fresh start saved now would overwrite the progress that could not be read.
            handler_input.attributes_manager.request_attributes[UNREAD_KEY] = True
            return State()
        progress = saved.get(STATE_KEY) if isinstance(saved, dict) else None
        if not isinstance(progress, dict):
            return State()
        saved_at = saved.get(SAVED_AT_KEY)
        fresh = (
            isinstance(saved_at, int | float)
            and not isinstance(saved_at, bool)
            and self.clock() - saved_at <= RESUME_WINDOW_SECONDS
        )
        if not fresh:
            # Too old to carry on from; keep only the runner's settings (mode, breaths).
            return decode(self.course, {**progress, "status": "idle"})
        if isinstance(saved.get(PLAYBACK_KEY), dict):
            session[PLAYBACK_KEY] = saved[PLAYBACK_KEY]
        return decode(self.course, progress)

    def keep(self, handler_input: HandlerInput, state: State, said: str | None) -> bool:
        """Put the new state in the session, remember what was said, and save if it moved.
        Whether it moved (the screens show a card only then)."""
        state_dict = encode(self.course, state)
        session = session_attributes(handler_input)
        moved = session.get(STATE_KEY) != state_dict
        session[STATE_KEY] = state_dict
        if said is not None:
            session[LAST_KEY] = said
        if moved and not state.resume_offered:
            session.pop(PLAYBACK_KEY, None)  # moved on: no longer where the audio stopped
        if moved:
            self.save(handler_input, state_dict, session.get(PLAYBACK_KEY))
        return moved

    def save(
        self,
        handler_input: HandlerInput,
        state_dict: dict[str, Any],
        playback: dict[str, Any] | None = None,
    ) -> None:
        """Save the state, and where a play-through's audio stopped (see :data:`PLAYBACK_KEY`)."""
        manager = handler_input.attributes_manager
        if not self._stores(handler_input) or manager.request_attributes.get(UNREAD_KEY):
            return
        try:
            attributes = {STATE_KEY: state_dict, SAVED_AT_KEY: int(self.clock())}
            if isinstance(playback, dict):
                attributes[PLAYBACK_KEY] = playback
            saved = manager.persistent_attributes  # read first: the history must not be lost
            if isinstance(saved, dict) and HISTORY_KEY in saved:
                attributes[HISTORY_KEY] = expire(saved[HISTORY_KEY], self.clock())
            manager.persistent_attributes = attributes
            manager.save_persistent_attributes()
        except Exception:  # progress is best effort; the spoken answer must still go out
            _log_store_failure("could not save progress")

    def save_session(self, handler_input: HandlerInput) -> None:
        """At the session's end: save the session's state, if it had one."""
        session = session_attributes(handler_input)
        if STATE_KEY in session:
            state_dict = encode(self.course, self.load(handler_input))
            self.save(handler_input, state_dict, session.get(PLAYBACK_KEY))

    def forget(self, handler_input: HandlerInput) -> None:
        """The runner disabled the skill: delete everything kept for them (their saved
        progress and settings). Unlike saving, a store that fails here raises: the caller
        decides what the failure means."""
        if self._stores(handler_input):
            handler_input.attributes_manager.delete_persistent_attributes()


def saved_playback(handler_input: HandlerInput) -> dict[str, Any] | None:
    """Where a play-through's audio stopped, while the offer to carry on from it stands."""
    playback = session_attributes(handler_input).get(PLAYBACK_KEY)
    return playback if isinstance(playback, dict) else None


def _log_store_failure(what: str) -> None:
    """A store that is down (the adapter says why, once) is a warning; anything else a bug."""
    error = sys.exc_info()[1]
    if isinstance(error, PersistenceException):
        log.warning("%s: %s", what, str(error)[:200])
    else:
        log.exception(what)


def remembered(says: tuple[Say, ...]) -> str:
    """What was said, as kept for "repeat that"."""
    return json.dumps([say.to_dict() for say in says], separators=(",", ":"))


def last_said(handler_input: HandlerInput) -> tuple[Say, ...]:
    """The last answer kept in the session; nothing for anything tampered."""
    raw = session_attributes(handler_input).get(LAST_KEY)
    if isinstance(raw, str) and len(raw) > MAX_LAST_CHARS:
        return ()  # far more than the skill ever says in one turn: tampered
    try:
        items = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return ()
    if not isinstance(items, list):
        return ()
    return tuple(say for say in map(Say.from_dict, items) if say is not None)
