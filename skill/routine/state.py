"""Where a runner is in the routine, and what one operation gives back.

A routine is walked as a flat list of *segments*: one part (a pose or one of its variations) on
one side. :class:`State` names a segment by its index in that list; :class:`Turn` is an
operation's result: the new state and what to say, as :class:`~skill.routine.says.Say` keys.
"""

# No `from __future__ import annotations` here: NamedTuple would compile each string annotation
# at every cold start (README, "Performance").

from enum import StrEnum
from typing import Literal, NamedTuple

from skill.routine.says import Say

DEFAULT_BREATHS = 5
MIN_BREATHS, MAX_BREATHS = 1, 15
RELAX_SECONDS_PER_BREATH = 12
"""The closing relaxation rests in silence, a slow breath's length for each breath of a hold."""
FLOW_SEGMENTS_PER_TURN = 4
"""Flow mode threads this many segments into one response before asking to carry on."""

Mode = Literal["hold", "flow"]
Status = Literal["idle", "active", "paused", "finished"]
MODES: tuple[Mode, ...] = ("hold", "flow")


class Question(StrEnum):
    """A question the skill asked and is waiting to have answered."""

    RESUME = "resume"
    """Carry on where you were?"""
    OFFER = "offer"
    """Try this variation? (the variation is the question's subject)"""
    BREATHS = "breaths"
    """How many breaths would you like?"""
    STEP = "step"
    """Which step would you like to hear?"""
    BREAK = "break"
    """(On a breather) a shorter finish, straight to the closing relaxation?"""
    FORGET = "forget"
    """Forget the sessions kept for the runner (skill/habits/)?"""


class Pending(NamedTuple):
    """The question in the air, and what it is about."""

    question: Question
    subject: str | None = None

    def encode(self) -> str:
        """As kept in the session: ``resume`` or ``offer:<variation id>``."""
        return self.question.value if self.subject is None else f"{self.question}:{self.subject}"

    @classmethod
    def decode(cls, raw: object, variations: frozenset[str]) -> "Pending | None":
        """The question kept in the session; ``None`` for anything stale or tampered."""
        if not isinstance(raw, str):
            return None
        name, _, subject = raw.partition(":")
        if name == Question.OFFER:
            return offer(subject) if subject in variations else None
        for question in (
            Question.RESUME,
            Question.BREATHS,
            Question.STEP,
            Question.BREAK,
            Question.FORGET,
        ):
            if name == question and not subject:
                return Pending(question)
        return None


RESUME = Pending(Question.RESUME)
ASK_BREATHS = Pending(Question.BREATHS)
ASK_STEP = Pending(Question.STEP)
ON_BREAK = Pending(Question.BREAK)
ASK_FORGET = Pending(Question.FORGET)


def offer(variation: str) -> Pending:
    return Pending(Question.OFFER, variation)


PlanKind = Literal["full", "quick", "focus"]


class Plan(NamedTuple):
    """Which poses the session has: the full routine, the quick session, or the poses that
    work one focus area (an id of the routine's ``focus_areas``)."""

    kind: PlanKind = "full"
    area: str | None = None

    def encode(self) -> str:
        return self.kind if self.area is None else f"{self.kind}:{self.area}"

    @classmethod
    def decode(cls, raw: object, areas: frozenset[str]) -> "Plan":
        """The plan kept in the session; the full routine for anything stale or tampered."""
        if raw == "quick":
            return QUICK
        if isinstance(raw, str) and raw.startswith("focus:") and raw[6:] in areas:
            return focus(raw[6:])
        return FULL


FULL = Plan()
QUICK = Plan("quick")


def focus(area: str) -> Plan:
    return Plan("focus", area)


class Segment(NamedTuple):
    """A stretch of the routine: a pose (by index), its variation (None for the pose itself)
    and the side."""

    pose: int
    variation: int | None
    side: int


class State(NamedTuple):
    """Where the runner is in the routine and what they chose: all the state machine keeps
    between turns (in the session, as :mod:`skill.routine.codec` encodes it)."""

    segment: int = 0
    step: int = 0
    mode: Mode = "hold"
    breaths: int = DEFAULT_BREATHS
    status: Status = "idle"
    heard: bool = False
    """Whether the runner has heard the current segment through to its hold."""
    pending: Pending | None = None
    accepted: tuple[str, ...] = ()
    declined: tuple[str, ...] = ()
    plan: Plan = FULL
    brief: bool = False
    """Brief instructions: the pose's name, side and breath cues, for a runner who knows them."""

    def fresh(self, status: Status = "idle") -> "State":
        """A new start that keeps the runner's choices (mode, breaths, plan, brevity), not
        their place."""
        return State(
            mode=self.mode, breaths=self.breaths, status=status, plan=self.plan, brief=self.brief
        )

    @property
    def started(self) -> bool:
        """Whether a routine is under way (not before the start, nor after the end)."""
        return self.status in ("active", "paused")

    @property
    def offered(self) -> str | None:
        """The variation on offer, waiting for yes or no."""
        if self.pending is not None and self.pending.question is Question.OFFER:
            return self.pending.subject
        return None

    @property
    def resume_offered(self) -> bool:
        return self.pending == RESUME


class Turn(NamedTuple):
    """One answer: the state it leaves, what to say, what to ask again if the runner says
    nothing, and whether the session ends."""

    state: State
    says: tuple[Say, ...]
    reprompt: tuple[Say, ...] = ()
    end_session: bool = False
