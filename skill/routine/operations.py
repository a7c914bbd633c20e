"""The registry of operations: which request calls which coach operation, with what.

One table serves everything that needs to know the operations: the Alexa handlers dispatch
through it, the interaction models are checked against its intents, and the audio catalogue
runs every entry over every state to find every line the skill can say.

A request's slots arrive as plain :data:`Slots` (slot name to the resolved id and the words
heard), so this module stays free of any SDK.
"""

# No `from __future__ import annotations` here: NamedTuple would compile each string annotation
# at every cold start (README, "Performance").

from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from skill.habits import HABIT_INTENTS
from skill.routine.coach import Coach
from skill.routine.names import fold_words, read_number, read_ordinal
from skill.routine.state import MAX_BREATHS, MIN_BREATHS, MODES, State, Turn

Slot = tuple[str | None, str | None]
"""A filled slot: (the resolved value id or ``None``, the words heard or ``None``)."""
Slots = Mapping[str, Slot]
Act = Callable[[Coach, State, Slots], Turn]
Variants = Callable[[Coach, State], Iterable[Slots]]


def _plain(method: Callable[[Coach, State], Turn]) -> Act:
    return lambda coach, state, slots: method(coach, state)


def _no_slots(coach: Coach, state: State) -> Iterable[Slots]:
    return ({},)


class Operation(NamedTuple):
    """One request the skill answers: the intent, how it acts, and the slot fillings worth
    trying (every value that changes what is said) for the catalogue and the tests."""

    intent: str
    act: Act
    variants: Variants = _no_slots


# ---------------------------------------------------------------- reading slots


def slot_id(slots: Slots, name: str) -> str | None:
    """The value id of a slot, or else its words folded ("Flow" -> "flow")."""
    ident, heard = slots.get(name, (None, None))
    if ident:
        return ident
    return " ".join(fold_words(heard)) or None if heard else None


def slot_number(slots: Slots, name: str) -> int | None:
    """A number slot, whether the client sent "8" or "eight"."""
    ident, heard = slots.get(name, (None, None))
    for text in (ident, heard):
        if text:
            number = read_number(text)
            if number is None:
                number = read_ordinal(text)
            if number is not None:
                return number
    return None


def _step_number(slots: Slots) -> int | None:
    number = slot_number(slots, "step_number")
    return number if number is not None else slot_number(slots, "step_ordinal")


def _pose(coach: Coach, slots: Slots) -> str | None:
    ident, heard = slots.get("pose", (None, None))
    return ident or (coach.find_part_id(heard) if heard else None)


def _go_to(coach: Coach, state: State, slots: Slots) -> Turn:
    """A pose by name, or a place by description ("the very first pose")."""
    pose = _pose(coach, slots)
    if pose is None and "place" in slots:
        return coach.go_to_place(state, slot_id(slots, "place"))
    return coach.go_to(state, pose)


def _side(slots: Slots) -> str | None:
    side = slot_id(slots, "side")
    return side.split()[0] if side else None


# ---------------------------------------------------------------- variants


def _steps(coach: Coach, state: State) -> Iterable[Slots]:
    yield {}
    steps = len(coach.current_part(state).steps) if state.started else 0
    for number in range(steps + 2):
        yield {"step_number": (None, str(number))}


def _modes(coach: Coach, state: State) -> Iterable[Slots]:
    yield {}
    for mode in MODES:
        yield {"mode": (mode, mode)}


def _poses(coach: Coach, state: State) -> Iterable[Slots]:
    yield {"pose": (None, "headstand")}
    yield {"place": ("first", "first")}
    yield {"place": ("last", "last")}
    for pose in coach.routine.poses:
        for part in pose.parts:
            yield {"pose": (part.id, part.name)}


def _sides(coach: Coach, state: State) -> Iterable[Slots]:
    yield {}
    for side in ("right", "left"):
        yield {"side": (side, side)}


def _breaths(coach: Coach, state: State) -> Iterable[Slots]:
    yield {}
    for breaths in (MIN_BREATHS - 1, *range(MIN_BREATHS, MAX_BREATHS + 1), MAX_BREATHS + 1):
        yield {"breaths": (None, str(breaths))}


def _values(slot: str, *values: str) -> Variants:
    def variants(coach: Coach, state: State) -> Iterable[Slots]:
        yield {}
        for value in values:
            yield {slot: (value, value)}

    return variants


def _areas(coach: Coach, state: State) -> Iterable[Slots]:
    yield {"area": (None, "elbows")}
    for area in coach.routine.focus_areas:
        yield {"area": (area.id, area.name)}


def _numbers(coach: Coach, state: State) -> Iterable[Slots]:
    yield {}
    for number in range(MAX_BREATHS + 2):
        yield {"number": (None, str(number))}


def _body_parts(coach: Coach, state: State) -> Iterable[Slots]:
    yield {}
    bodies = ("legs", "arms", "hands", "feet", "knees", "hips", "head", "back", "shoulders", "core")
    for body in bodies:
        yield {"body_part": (body, body)}


OPERATIONS: tuple[Operation, ...] = (
    Operation("StartRoutineIntent", _plain(lambda c, s: c.start(s))),
    Operation("AMAZON.NextIntent", _plain(Coach.next)),
    Operation("AMAZON.PreviousIntent", _plain(Coach.previous)),
    Operation("AMAZON.StartOverIntent", _plain(Coach.start_over)),
    Operation("AMAZON.PauseIntent", _plain(Coach.pause)),
    Operation("AMAZON.ResumeIntent", _plain(Coach.resume)),
    Operation("AMAZON.YesIntent", _plain(Coach.yes)),
    Operation("AMAZON.NoIntent", _plain(Coach.no)),
    Operation("AMAZON.HelpIntent", _plain(Coach.help)),
    Operation("AMAZON.StopIntent", _plain(Coach.stop)),
    Operation("AMAZON.CancelIntent", _plain(Coach.stop)),
    Operation("AMAZON.NavigateHomeIntent", _plain(Coach.stop)),
    Operation("AMAZON.FallbackIntent", _plain(Coach.fallback)),
    Operation("RepeatPoseIntent", _plain(Coach.repeat_pose)),
    Operation("SkipPoseIntent", _plain(Coach.skip_pose)),
    Operation("TopTipIntent", _plain(Coach.tip)),
    Operation("TargetAreasIntent", _plain(Coach.targets)),
    Operation("WhichSideIntent", _plain(Coach.which_side)),
    Operation("WhereAmIIntent", _plain(Coach.where_am_i)),
    Operation("RepeatStepIntent", lambda c, s, x: c.repeat_step(s, _step_number(x)), _steps),
    Operation("SetModeIntent", lambda c, s, x: c.set_mode(s, slot_id(x, "mode")), _modes),
    Operation("GoToPoseIntent", _go_to, _poses),
    Operation("SwitchSideIntent", lambda c, s, x: c.switch_side(s, _side(x)), _sides),
    Operation(
        "SetHoldLengthIntent",
        lambda c, s, x: c.set_breaths(s, slot_number(x, "breaths")),
        _breaths,
    ),
    Operation(
        "ChangeHoldIntent",
        # "add two breaths", "five more breaths": no direction word to resolve, and longer
        lambda c, s, x: c.change_hold(s, slot_id(x, "direction") or "longer"),
        _values("direction", "longer", "shorter"),
    ),
    Operation(
        "NumberAnswerIntent",
        lambda c, s, x: c.answer_number(s, slot_number(x, "number")),
        _numbers,
    ),
    Operation("TakeBreakIntent", _plain(Coach.take_break)),
    Operation(
        "SessionLengthIntent",
        lambda c, s, x: c.set_length(s, slot_id(x, "length")),
        _values("length", "quick", "full"),
    ),
    Operation("FocusIntent", lambda c, s, x: c.set_focus(s, slot_id(x, "area")), _areas),
    Operation(
        "InstructionLevelIntent",
        # "I know the poses", "I've done this before": the samples without a level mean brief
        lambda c, s, x: c.set_brief(s, slot_id(x, "level") or "brief"),
        _values("level", "brief", "full"),
    ),
    Operation("HowLongIntent", _plain(Coach.how_long)),
    Operation("ListPosesIntent", _plain(Coach.list_poses)),
    Operation("PosesLeftIntent", _plain(Coach.poses_left)),
    Operation("WhatsNextIntent", _plain(Coach.whats_next)),
    Operation("PoseNameIntent", _plain(Coach.pose_name)),
    Operation("HowToIntent", lambda c, s, x: c.how_to(s, slot_id(x, "body_part")), _body_parts),
    Operation("FrontLegIntent", _plain(Coach.front_leg)),
)
BY_INTENT: Mapping[str, Operation] = {op.intent: op for op in OPERATIONS}

LAUNCH = Operation("LaunchRequest", _plain(Coach.launch))
"""Opening the skill: not an intent, but an operation like the others."""

REPEAT_INTENT = "AMAZON.RepeatIntent"
"""Says the last answer again: the one intent answered from memory, not by an operation."""

PLAY_THROUGH_INTENT = "PlayThroughIntent"
"""Plays the whole routine hands-free on Alexa's audio player: answered by
:mod:`skill.alexa.audioplayer`, not by an operation."""

HANDLED_INTENTS: frozenset[str] = (
    frozenset(BY_INTENT) | {REPEAT_INTENT, PLAY_THROUGH_INTENT} | HABIT_INTENTS
)
"""Every intent the skill handles; the interaction models must declare exactly these. The habit
intents (history, streaks, reminders) are answered by :mod:`skill.alexa.habits`."""


def all_turns(coach: Coach, states: Iterable[State]) -> Iterable[Turn]:
    """Every operation with each of its variants, over the given states."""
    for state in states:
        for operation in (LAUNCH, *OPERATIONS):
            for slots in operation.variants(coach, state):
                yield operation.act(coach, state, slots)
