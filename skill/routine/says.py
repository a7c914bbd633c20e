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
    STEP = "step"
    HOLD = "hold"
    RELAX = "relax"
    RELAX_END = "relax_end"
    TIP = "tip"
    TARGETS = "targets"
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
    FALLBACK = "fallback"
    ERROR = "error"
    # reprompts
    OFFER_REPROMPT = "offer_reprompt"
    RESUME_REPROMPT = "resume_reprompt"
    PAUSED_REPROMPT = "paused_reprompt"
    IDLE_REPROMPT = "idle_reprompt"
    STEP_REPROMPT = "step_reprompt"
    NEXT_REPROMPT = "next_reprompt"
    # goodbyes
    GOODBYE = "goodbye"
    GOODBYE_SHORT = "goodbye_short"
    GOODBYE_FINISHED = "goodbye_finished"


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
        if not isinstance(raw, dict):
            return None
        try:
            key = Key(raw.get("k"))
        except ValueError:
            return None
        params = raw.get("p")
        return cls(key, params if isinstance(params, dict) else {})
