"""The state as it travels in session attributes and saved progress, and back.

What comes back is untrusted: another version of the skill, a changed routine, DynamoDB's
Decimals or a tampered request. :func:`decode` never raises; it falls back sensibly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skill.routine.course import Course
from skill.routine.state import (
    DEFAULT_BREATHS,
    FULL,
    MAX_BREATHS,
    MIN_BREATHS,
    Mode,
    Pending,
    Plan,
    State,
    Status,
)

STATE_VERSION = 1
_STATUSES: tuple[Status, ...] = ("idle", "active", "paused", "finished")


def encode(course: Course, state: State) -> dict[str, Any]:
    """A small versioned dict for session attributes, naming the position by ids."""
    seg = course.segments[state.segment]
    pose = course.routine.poses[seg.pose]
    part = course.part(seg)
    return {
        "v": STATE_VERSION,
        "routine": course.routine.id,
        "pose": pose.id,
        "variation": part.id if seg.variation is not None else None,
        "side": part.sides[seg.side],
        "step": state.step,
        "mode": state.mode,
        "breaths": state.breaths,
        "status": state.status,
        "heard": state.heard,
        "pending": state.pending.encode() if state.pending else None,
        "accepted": list(state.accepted),
        "declined": list(state.declined),
        "plan": state.plan.encode(),
        "brief": state.brief,
    }


def decode(course: Course, data: Any) -> State:
    """Rebuild a state; anything stale, tampered or out of range falls back sensibly."""
    if not isinstance(data, Mapping) or _int(data.get("v"), 0) != STATE_VERSION:
        return State()
    variation_ids = course.variation_ids
    accepted = _ids(data.get("accepted"), variation_ids)
    mode: Mode = "flow" if data.get("mode") == "flow" else "hold"
    breaths = _int(data.get("breaths"), DEFAULT_BREATHS)
    if not MIN_BREATHS <= breaths <= MAX_BREATHS:
        breaths = DEFAULT_BREATHS
    status: Status = next((s for s in _STATUSES if s == data.get("status")), "idle")
    plan = Plan.decode(data.get("plan"), course.area_ids)
    brief = data.get("brief") is True
    settings = State(mode=mode, breaths=breaths, plan=plan, brief=brief)
    if data.get("routine") != course.routine.id:
        return settings
    segment = course.find_segment(data.get("pose"), data.get("variation"), data.get("side"))
    if segment is None:
        return settings
    seg = course.segments[segment]
    if seg.variation is not None and course.part(seg).id not in accepted:
        accepted = (*accepted, course.part(seg).id)
    declined = tuple(i for i in _ids(data.get("declined"), variation_ids) if i not in accepted)
    steps = len(course.part(seg).steps)
    step = _int(data.get("step"), 0)
    heard = data.get("heard") is True
    if not 0 <= step < steps:
        step, heard = 0, False
    state = State(
        segment=segment,
        step=step,
        mode=mode,
        breaths=breaths,
        status=status,
        heard=heard,
        pending=Pending.decode(data.get("pending"), variation_ids),
        accepted=accepted,
        declined=declined,
        plan=plan,
        brief=brief,
    )
    # A place the plan leaves out (a changed routine, tampering) belongs to the full routine.
    return state if course.included(segment, state) else state._replace(plan=FULL)


def _int(value: Any, default: int) -> int:
    """An int from session JSON (DynamoDB gives Decimal, tampering gives anything)."""
    if isinstance(value, bool):
        return default
    try:
        number = int(value)
        return number if number == value else default
    except (TypeError, ValueError, ArithmeticError):  # Decimal("sNaN") raises on compare too
        return default


def _ids(value: Any, allowed: frozenset[str]) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(v for v in value if isinstance(v, str) and v in allowed))
