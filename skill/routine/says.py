"""What the state machine asks to be said: a :class:`Key` and its parameters.

The keys are the vocabulary between the state machine and the narration: each one is a prompt
in ``skill/speech/prompts/`` or a kind of routine line (a step, a tip, a hold) that the narrator
renders from the routine itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Key(StrEnum):
    """Every kind of thing the skill says."""

    # the routine's own words
    WELCOME = "welcome"
    INTRO = "intro"
    INTRO_SIDE = "intro_side"
    INTRO_VARIATION = "intro_variation"
    INTRO_PLAIN = "intro_plain"
    INTRO_BRIEF = "intro_brief"
    STEP = "step"
    HOLD = "hold"
    RELAX = "relax"
    RELAX_END = "relax_end"
    TIP = "tip"
    TARGETS = "targets"
    SWITCH = "switch"
    OFFER = "offer"
    FLOW_POSE = "flow_pose"
    FLOW = "flow"
    CLOSING = "closing"
    # where the runner is
    WELCOME_BACK = "welcome_back"
    PAUSED = "paused"
    WHICH_SIDE = "which_side"
    ALREADY_ON_SIDE = "already_on_side"
    WHERE = "where"
    AT_START = "at_start"
    NEXT_HINT = "next_hint"
    FLOW_NEXT = "flow_next"
    LAST_POSE_DONE = "last_pose_done"
    # settings
    MODE_SET = "mode_set"
    MODE_ALREADY = "mode_already"
    WHICH_MODE = "which_mode"
    BREATHS_SET = "breaths_set"
    BREATHS_RANGE = "breaths_range"
    BREATHS_LIMIT = "breaths_limit"
    NUMBER_UNASKED = "number_unasked"
    PLAN_SET = "plan_set"
    WHICH_LENGTH = "which_length"
    UNKNOWN_AREA = "unknown_area"
    LEVEL_SET = "level_set"
    WHICH_LEVEL = "which_level"
    # questions about the routine and the pose
    HOW_LONG = "how_long"
    HOW_LONG_UNKNOWN = "how_long_unknown"
    LIST_POSES = "list_poses"
    POSES_LEFT = "poses_left"
    FIRST_UP = "first_up"
    UP_NEXT = "up_next"
    NOTHING_NEXT = "nothing_next"
    POSE_NAME = "pose_name"
    HOW_TO = "how_to"
    FRONT_LEG = "front_leg"
    # a breather
    BREAK = "break"
    BREAK_IDLE = "break_idle"
    BREAK_DECLINED = "break_declined"
    # answers that change nothing
    NOTHING_YET = "nothing_yet"
    NO_SUCH_STEP = "no_such_step"
    UNKNOWN_POSE = "unknown_pose"
    ONE_SIDED = "one_sided"
    NO_TIP = "no_tip"
    TAKE_YOUR_TIME = "take_your_time"
    START_OVER = "start_over"
    FRESH_START = "fresh_start"
    HELP_HOLD = "help_hold"
    HELP_FLOW = "help_flow"
    HELP_OFFER = "help_offer"
    HELP_RESUME = "help_resume"
    HELP_IDLE = "help_idle"
    HELP_BREAK = "help_break"
    FALLBACK = "fallback"
    ERROR = "error"
    # reprompts
    OFFER_REPROMPT = "offer_reprompt"
    RESUME_REPROMPT = "resume_reprompt"
    PAUSED_REPROMPT = "paused_reprompt"
    IDLE_REPROMPT = "idle_reprompt"
    BREAK_REPROMPT = "break_reprompt"
    BREATHS_REPROMPT = "breaths_reprompt"
    STEP_NUMBER_REPROMPT = "step_number_reprompt"
    STEP_REPROMPT = "step_reprompt"
    NEXT_REPROMPT = "next_reprompt"
    # habits: history, streaks and reminders (skill/habits/; rendered by skill/habits/spoken.py)
    FIRST_SESSION = "first_session"
    STREAK_CLOSE = "streak_close"
    HISTORY = "history"
    HISTORY_NONE = "history_none"
    STREAK = "streak"
    FORGET_ASK = "forget_ask"
    FORGET_REPROMPT = "forget_reprompt"
    HELP_FORGET = "help_forget"
    HISTORY_FORGOTTEN = "history_forgotten"
    FORGET_KEPT = "forget_kept"
    FORGET_NOTHING = "forget_nothing"
    FORGET_FAILED = "forget_failed"
    REMINDER_SET = "reminder_set"
    REMINDER_WHEN = "reminder_when"
    REMINDER_PAST = "reminder_past"
    REMINDER_PERMISSION = "reminder_permission"
    REMINDER_DENIED = "reminder_denied"
    REMINDER_NEEDS_APP = "reminder_needs_app"
    REMINDER_FAILED = "reminder_failed"
    REMINDERS = "reminders"
    REMINDERS_CANCELLED = "reminders_cancelled"
    # goodbyes
    GOODBYE = "goodbye"
    GOODBYE_SHORT = "goodbye_short"
    GOODBYE_FINISHED = "goodbye_finished"
    # hands-free play-through on Alexa's audio player
    PLAY_THROUGH = "play_through"
    PLAY_THROUGH_UNAVAILABLE = "play_through_unavailable"
    PLAY_THROUGH_NO_DEVICE = "play_through_no_device"


class Params(dict[str, Any]):
    """A say's parameters: a dict of plain values that can be hashed, so that what is said can
    be remembered by what was asked for. Never changed once made."""

    __slots__ = ("_hash",)

    def __hash__(self) -> int:  # type: ignore[override]
        try:
            return self._hash
        except AttributeError:
            self._hash: int = hash(tuple(sorted(self.items())))
            return self._hash


@dataclass(frozen=True)
class Say:
    """One thing to say: a key and its parameters."""

    key: Key
    params: Mapping[str, Any] = field(default_factory=Params)

    def __post_init__(self) -> None:
        if not isinstance(self.params, Params):
            object.__setattr__(self, "params", Params(self.params))

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.key.value, "p": dict(self.params)}

    @classmethod
    def from_dict(cls, raw: Any) -> Say | None:
        """A say kept in the session ("repeat that"); ``None`` for anything not one."""
        if not isinstance(raw, dict) or not isinstance(value := raw.get("k"), str):
            return None
        try:
            key = Key(value)
        except ValueError:
            return None
        params = raw.get("p")
        if not isinstance(params, dict):
            return cls(key)
        plain: dict[str, Any] = {}
        for name, value in params.items():
            if not isinstance(name, str) or len(name) > _MAX_NAME:
                return None
            # JSON made the tuples lists; make them tuples again so the say can be remembered.
            value = tuple(value) if isinstance(value, list) else value
            if not _plain(value):
                return None  # tampered: never remembered, never a cache key of any size
            plain[name] = value
        return cls(key, plain)


_MAX_NAME, _MAX_TEXT, _MAX_ITEMS = 16, 64, 16


def _plain(value: Any) -> bool:
    """A parameter value the skill itself would have said: short text, a number, a flag, or a
    short tuple of short texts."""
    if value is None or isinstance(value, bool | int | float):
        return True
    if isinstance(value, str):
        return len(value) <= _MAX_TEXT
    if isinstance(value, tuple):
        return len(value) <= _MAX_ITEMS and all(
            isinstance(item, str) and len(item) <= _MAX_TEXT for item in value
        )
    return False


PROMPTING: frozenset[Key] = frozenset(
    {
        Key.NEXT_HINT,
        Key.FLOW_NEXT,
        Key.LAST_POSE_DONE,
        Key.OFFER,
        Key.WELCOME_BACK,
        Key.NOTHING_YET,
        Key.NO_SUCH_STEP,
        Key.UNKNOWN_POSE,
        Key.WHICH_MODE,
        Key.MODE_ALREADY,
        Key.BREATHS_RANGE,
        Key.NUMBER_UNASKED,
        Key.WHICH_LENGTH,
        Key.UNKNOWN_AREA,
        Key.WHICH_LEVEL,
        Key.BREAK,
        Key.BREAK_IDLE,
        Key.BREAK_DECLINED,
        Key.PAUSED,
        Key.TAKE_YOUR_TIME,
        Key.HELP_HOLD,
        Key.HELP_FLOW,
        Key.HELP_OFFER,
        Key.HELP_RESUME,
        Key.HELP_IDLE,
        Key.HELP_BREAK,
        Key.FALLBACK,
        Key.ERROR,
        Key.OFFER_REPROMPT,
        Key.RESUME_REPROMPT,
        Key.PAUSED_REPROMPT,
        Key.IDLE_REPROMPT,
        Key.STEP_REPROMPT,
        Key.NEXT_REPROMPT,
        Key.BREAK_REPROMPT,
        Key.BREATHS_REPROMPT,
        Key.STEP_NUMBER_REPROMPT,
        Key.FORGET_ASK,
        Key.FORGET_REPROMPT,
        Key.HELP_FORGET,
        Key.REMINDER_WHEN,
        Key.REMINDER_PAST,
    }
)
"""Keys whose words ask the runner something or tell them what to say. An answer that keeps
the session open and ends with none of these is followed by its reprompt, as Alexa requires."""


def prompted(says: tuple[Say, ...], reprompt: tuple[Say, ...]) -> tuple[Say, ...]:
    """What to say in an open session: the answer, and its reprompt if the answer asks nothing."""
    if says and says[-1].key not in PROMPTING:
        return (*says, *reprompt)
    return says
