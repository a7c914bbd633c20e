"""What the state machine asks to be said: a :class:`Key` and its parameters.

The keys are the vocabulary between the state machine and the narration: each one is a prompt
in ``skill/speech/prompts/`` or a kind of routine line (a step, a tip, a hold) that the narrator
renders from the routine itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final


class Key(str):
    """Every kind of thing the skill says: a ``str``, its name in lower case, which names its
    prompt (``Key.WELCOME == "welcome"``).

    Not an ``Enum``: making an enum of a hundred members costs about 11 M instructions at every
    cold start, and keys are only ever compared, hashed and formatted as their text. The members
    are made below from the names declared here; :func:`key_named` reads one back."""

    __slots__ = ()

    # the routine's own words
    WELCOME: ClassVar[Key]
    INTRO: ClassVar[Key]
    INTRO_SIDE: ClassVar[Key]
    INTRO_VARIATION: ClassVar[Key]
    INTRO_PLAIN: ClassVar[Key]
    INTRO_BRIEF: ClassVar[Key]
    STEP: ClassVar[Key]
    HOLD: ClassVar[Key]
    RELAX: ClassVar[Key]
    RELAX_END: ClassVar[Key]
    TIP: ClassVar[Key]
    TARGETS: ClassVar[Key]
    SWITCH: ClassVar[Key]
    OFFER: ClassVar[Key]
    FLOW_POSE: ClassVar[Key]
    FLOW: ClassVar[Key]
    CLOSING: ClassVar[Key]
    # where the runner is
    WELCOME_BACK: ClassVar[Key]
    PAUSED: ClassVar[Key]
    WHICH_SIDE: ClassVar[Key]
    ALREADY_ON_SIDE: ClassVar[Key]
    WHERE: ClassVar[Key]
    AT_START: ClassVar[Key]
    NEXT_HINT: ClassVar[Key]
    FLOW_NEXT: ClassVar[Key]
    LAST_POSE_DONE: ClassVar[Key]
    # settings
    MODE_SET: ClassVar[Key]
    MODE_ALREADY: ClassVar[Key]
    WHICH_MODE: ClassVar[Key]
    BREATHS_SET: ClassVar[Key]
    BREATHS_RANGE: ClassVar[Key]
    BREATHS_LIMIT: ClassVar[Key]
    NUMBER_UNASKED: ClassVar[Key]
    PLAN_SET: ClassVar[Key]
    WHICH_LENGTH: ClassVar[Key]
    UNKNOWN_AREA: ClassVar[Key]
    LEVEL_SET: ClassVar[Key]
    WHICH_LEVEL: ClassVar[Key]
    # questions about the routine and the pose
    HOW_LONG: ClassVar[Key]
    HOW_LONG_UNKNOWN: ClassVar[Key]
    LIST_POSES: ClassVar[Key]
    POSES_LEFT: ClassVar[Key]
    FIRST_UP: ClassVar[Key]
    UP_NEXT: ClassVar[Key]
    NOTHING_NEXT: ClassVar[Key]
    POSE_NAME: ClassVar[Key]
    HOW_TO: ClassVar[Key]
    FRONT_LEG: ClassVar[Key]
    # a breather
    BREAK: ClassVar[Key]
    BREAK_IDLE: ClassVar[Key]
    BREAK_DECLINED: ClassVar[Key]
    # answers that change nothing
    NOTHING_YET: ClassVar[Key]
    NO_SUCH_STEP: ClassVar[Key]
    UNKNOWN_POSE: ClassVar[Key]
    ONE_SIDED: ClassVar[Key]
    NO_TIP: ClassVar[Key]
    TAKE_YOUR_TIME: ClassVar[Key]
    START_OVER: ClassVar[Key]
    FRESH_START: ClassVar[Key]
    HELP_HOLD: ClassVar[Key]
    HELP_FLOW: ClassVar[Key]
    HELP_OFFER: ClassVar[Key]
    HELP_RESUME: ClassVar[Key]
    HELP_IDLE: ClassVar[Key]
    HELP_BREAK: ClassVar[Key]
    FALLBACK: ClassVar[Key]
    ERROR: ClassVar[Key]
    # reprompts
    OFFER_REPROMPT: ClassVar[Key]
    RESUME_REPROMPT: ClassVar[Key]
    PAUSED_REPROMPT: ClassVar[Key]
    IDLE_REPROMPT: ClassVar[Key]
    BREAK_REPROMPT: ClassVar[Key]
    BREATHS_REPROMPT: ClassVar[Key]
    STEP_NUMBER_REPROMPT: ClassVar[Key]
    STEP_REPROMPT: ClassVar[Key]
    NEXT_REPROMPT: ClassVar[Key]
    # habits: history, streaks and reminders (skill/habits/; rendered by skill/habits/spoken.py)
    FIRST_SESSION: ClassVar[Key]
    STREAK_CLOSE: ClassVar[Key]
    HISTORY: ClassVar[Key]
    HISTORY_NONE: ClassVar[Key]
    STREAK: ClassVar[Key]
    FORGET_ASK: ClassVar[Key]
    FORGET_REPROMPT: ClassVar[Key]
    HELP_FORGET: ClassVar[Key]
    HISTORY_FORGOTTEN: ClassVar[Key]
    FORGET_KEPT: ClassVar[Key]
    FORGET_NOTHING: ClassVar[Key]
    FORGET_FAILED: ClassVar[Key]
    REMINDER_SET: ClassVar[Key]
    REMINDER_WHEN: ClassVar[Key]
    REMINDER_PAST: ClassVar[Key]
    REMINDER_PERMISSION: ClassVar[Key]
    REMINDER_DENIED: ClassVar[Key]
    REMINDER_NEEDS_APP: ClassVar[Key]
    REMINDER_FAILED: ClassVar[Key]
    REMINDERS: ClassVar[Key]
    REMINDERS_CANCELLED: ClassVar[Key]
    # goodbyes
    GOODBYE: ClassVar[Key]
    GOODBYE_SHORT: ClassVar[Key]
    GOODBYE_FINISHED: ClassVar[Key]
    # hands-free play-through on Alexa's audio player
    PLAY_THROUGH: ClassVar[Key]
    PLAY_THROUGH_UNAVAILABLE: ClassVar[Key]
    PLAY_THROUGH_NO_DEVICE: ClassVar[Key]


_KEYS = {name.lower(): Key(name.lower()) for name in Key.__annotations__}
for _key in _KEYS.values():
    setattr(Key, _key.upper(), _key)


def key_named(value: str) -> Key | None:
    """The key whose text is ``value``; ``None`` if there is none."""
    return _KEYS.get(value)


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


class Say:
    """One thing to say: a key and its parameters.

    A plain class with its few methods written out: a dataclass's generated methods would be
    compiled at every cold start, and a ``NamedTuple`` cannot turn the parameters into
    :class:`Params` as it is made."""

    __slots__ = ("key", "params")

    def __init__(self, key: Key, params: Mapping[str, Any] | None = None) -> None:
        self.key: Final = key
        self.params: Final[Mapping[str, Any]] = (
            params if isinstance(params, Params) else Params(params or ())
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Say):
            return NotImplemented
        return self.key == other.key and self.params == other.params

    def __hash__(self) -> int:
        return hash((self.key, self.params))

    def __repr__(self) -> str:
        return f"Say(key={self.key!r}, params={self.params!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"k": str(self.key), "p": dict(self.params)}

    @classmethod
    def from_dict(cls, raw: Any) -> Say | None:
        """A say kept in the session ("repeat that"); ``None`` for anything not one."""
        if not isinstance(raw, dict) or not isinstance(value := raw.get("k"), str):
            return None
        key = key_named(value)
        if key is None:
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
