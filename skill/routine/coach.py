"""The routine's state machine: pure logic, no SDK imports.

A routine is walked as a flat list of *segments*: one part (a pose or one of its variations) on
one side. Every operation takes a :class:`State` and returns a :class:`Turn`: the new state and
what to say, as :class:`Say` keys and parameters that the narration turns into speech.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Literal

from skill.routine.content import Part, Pose, Routine

STATE_VERSION = 1
DEFAULT_BREATHS = 5
MIN_BREATHS, MAX_BREATHS = 1, 15
RELAX_SECONDS_PER_BREATH = 12
"""The closing relaxation rests in silence, a slow breath's length for each breath of a hold."""
FLOW_SEGMENTS_PER_TURN = 4
"""Flow mode threads this many segments into one response before asking to carry on."""

OFFER = "offer:"
Mode = Literal["hold", "flow"]
Status = Literal["idle", "active", "paused", "finished"]


@dataclass(frozen=True)
class Segment:
    pose: int
    variation: int | None
    side: int


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
    """One thing to say: a key (a prompt, or a kind of routine line) and its parameters."""

    key: str
    params: Mapping[str, Any] = field(default_factory=Params)

    def __post_init__(self) -> None:
        if not isinstance(self.params, Params):
            object.__setattr__(self, "params", Params(self.params))

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.key, "p": dict(self.params)}


@dataclass(frozen=True)
class State:
    segment: int = 0
    step: int = 0
    mode: Mode = "hold"
    breaths: int = DEFAULT_BREATHS
    status: Status = "idle"
    heard: bool = False
    """Whether the runner has heard the current segment through to its hold."""
    pending: str | None = None
    """A yes/no question awaiting an answer: "offer:<variation id>" or "resume"."""
    accepted: tuple[str, ...] = ()
    declined: tuple[str, ...] = ()

    @property
    def started(self) -> bool:
        """Whether a routine is under way (not before the start, nor after the end)."""
        return self.status in ("active", "paused")

    @property
    def offered(self) -> str | None:
        """The variation on offer, waiting for yes or no."""
        if self.pending and self.pending.startswith(OFFER):
            return self.pending[len(OFFER) :]
        return None


@dataclass(frozen=True)
class Turn:
    state: State
    says: tuple[Say, ...]
    reprompt: tuple[Say, ...] = ()
    end_session: bool = False


@cache
def segments_of(routine: Routine) -> tuple[Segment, ...]:
    """Every segment the routine can have, variations included, in the order they are done."""
    out: list[Segment] = []
    for p, pose in enumerate(routine.poses):
        sides = range(len(pose.sides))
        each = [(v, var) for v, var in enumerate(pose.variations) if var.each_side]
        after = [(v, var) for v, var in enumerate(pose.variations) if not var.each_side]
        for s in sides:
            out.append(Segment(p, None, s))
            out.extend(Segment(p, v, s) for v, var in each if s < len(var.sides))
        for v, var in after:
            out.extend(Segment(p, v, s) for s in range(len(var.sides)))
    return tuple(out)


class Coach:
    """The operations of the routine over one :class:`Routine`."""

    def __init__(self, routine: Routine) -> None:
        self.routine = routine
        self.segments = segments_of(routine)

    # ------------------------------------------------------------------ lookups

    def part(self, seg: Segment) -> Part:
        pose = self.routine.poses[seg.pose]
        return pose if seg.variation is None else pose.variations[seg.variation]

    def pose_of(self, state: State) -> Pose:
        return self.routine.poses[self.segments[state.segment].pose]

    def current_part(self, state: State) -> Part:
        return self.part(self.segments[state.segment])

    def side_label(self, state: State) -> str:
        seg = self.segments[state.segment]
        return self.part(seg).sides[seg.side]

    def included(self, index: int, state: State) -> bool:
        seg = self.segments[index]
        return seg.variation is None or self.part(seg).id in state.accepted

    def progress(self, state: State) -> tuple[int, int]:
        """(segments done, segments in the routine as the runner is doing it)."""
        shown = [i for i in range(len(self.segments)) if self.included(i, state)]
        done = sum(1 for i in shown if i < state.segment or (i == state.segment and state.heard))
        return done, len(shown)

    def _next_index(self, index: int, state: State) -> int | None:
        for i in range(index + 1, len(self.segments)):
            if self.included(i, state):
                return i
        return None

    def _prev_index(self, index: int, state: State) -> int | None:
        for i in range(index - 1, -1, -1):
            if self.included(i, state):
                return i
        return None

    def _first_of_pose(self, pose: int) -> int:
        return next(i for i, s in enumerate(self.segments) if s.pose == pose)

    def _offer_after(self, state: State) -> str | None:
        """The variation to offer after the current segment, if it is due and undecided."""
        seg = self.segments[state.segment]
        if seg.variation is not None or state.mode != "hold":
            return None
        pose = self.routine.poses[seg.pose]
        for var in pose.variations:
            if var.id in state.accepted or var.id in state.declined:
                continue
            due = seg.side == 0 if var.each_side else seg.side == len(pose.sides) - 1
            if due:
                return var.id
        return None

    def find_part_id(self, words: str) -> str | None:
        """The pose or variation a runner named, by its name or one of its synonyms."""
        wanted = " ".join(words.lower().replace("'", "").replace("-", " ").split())
        for pose in self.routine.poses:
            for part in (*pose.variations, pose):
                names = [part.name, part.id.replace("_", " ")]
                if part is pose:
                    names += list(pose.synonyms)
                for name in names:
                    if " ".join(name.lower().replace("'", "").replace("-", " ").split()) == wanted:
                        return part.id
        return None

    # ------------------------------------------------------------------ narration plans

    def _segment_says(self, state: State, from_step: int = 0) -> tuple[State, list[Say]]:
        """Narrate the current segment (hold mode) from a step, through the hold and tip."""
        seg = self.segments[state.segment]
        part = self.part(seg)
        pose = self.routine.poses[seg.pose]
        ident = {"part": part.id, "side": part.sides[seg.side]}
        says: list[Say] = []
        if from_step == 0:
            intro_key = "intro" if seg.side == 0 else "intro_side"
            says.append(Say(intro_key, {**ident, "number": seg.pose + 1}))
        last_side = seg.side == len(part.sides) - 1
        steps = len(part.steps)
        # A closing step that changes on the last side ("switch sides when ready") is the cue
        # to move on, so before the last side it comes after the hold, not before it.
        switch_cue = not last_side and part.steps[-1].last_side is not None
        for step in range(from_step, steps - 1 if switch_cue else steps):
            says.append(Say("step", {**ident, "step": step + 1, "last": last_side}))
        if pose.relaxation:
            seconds = state.breaths * RELAX_SECONDS_PER_BREATH
            says += [Say("relax", {"seconds": seconds}), Say("relax_end")]
        else:
            says.append(Say("hold", {"breaths": state.breaths}))
        tip_part = part if part.tip else pose
        if tip_part.tip and seg.side == 0:
            says.append(Say("tip", {"part": tip_part.id}))
        if switch_cue and from_step < steps:
            says.append(Say("step", {**ident, "step": steps, "last": False}))
        new = replace(state, step=len(part.steps) - 1, heard=True, status="active", pending=None)
        offer = self._offer_after(new)
        if offer:
            new = replace(new, pending=f"{OFFER}{offer}")
            says.append(Say("offer", {"part": offer}))
        elif self._next_index(new.segment, new) is None:
            says.append(Say("last_pose_done"))
        else:
            says.append(Say("next_hint"))
        return new, says

    def _flow_says(self, state: State) -> tuple[State, list[Say]]:
        """Thread the current and following segments into one breath-linked flow."""
        says: list[Say] = []
        index: int | None = state.segment
        last = state.segment
        for _ in range(FLOW_SEGMENTS_PER_TURN):
            if index is None:
                break
            seg = self.segments[index]
            part = self.part(seg)
            says.append(Say("flow_pose", {"part": part.id, "side": part.sides[seg.side]}))
            for cue in range(len(part.flow)):
                says.append(
                    Say("flow", {"part": part.id, "cue": cue + 1, "side": part.sides[seg.side]})
                )
            last = index
            index = self._next_index(index, state)
        part = self.part(self.segments[last])
        new = replace(
            state, segment=last, step=len(part.steps) - 1, heard=True, status="active", pending=None
        )
        says.append(Say("flow_next" if index is not None else "last_pose_done"))
        return new, says

    def _narrate(self, state: State, lead: list[Say] | None = None, from_step: int = 0) -> Turn:
        if state.mode == "flow" and from_step == 0:
            new, says = self._flow_says(state)
        else:
            new, says = self._segment_says(state, from_step)
        return Turn(new, tuple((lead or []) + says), self.reprompt(new))

    def reprompt(self, state: State) -> tuple[Say, ...]:
        """What to ask if the runner says nothing: it depends on the question in the air."""
        if state.offered:
            return (Say("offer_reprompt", {"part": state.offered}),)
        if state.pending == "resume":
            return (Say("resume_reprompt"),)
        if state.status == "paused":
            return (Say("paused_reprompt"),)
        if state.status == "idle":
            return (Say("idle_reprompt"),)
        if not state.heard:
            return (Say("step_reprompt"),)
        return (Say("next_reprompt"),)

    def _chunk_start(self, state: State) -> int:
        """Where the flow that ended at the current segment began (flows are a fixed length)."""
        index = state.segment
        for _ in range(FLOW_SEGMENTS_PER_TURN - 1):
            earlier = self._prev_index(index, state)
            if earlier is None:
                break
            index = earlier
        return index

    def _replay_start(self, state: State) -> int:
        """The segment to narrate again: this pose and side, or in flow the start of this flow,
        so that saying it again ends where the runner already is."""
        return self._chunk_start(state) if state.mode == "flow" and state.heard else state.segment

    def _stay(self, state: State, *says: Say) -> Turn:
        return Turn(state, says, self.reprompt(state))

    def _where(self, state: State) -> dict[str, Any]:
        seg = self.segments[state.segment]
        part = self.part(seg)
        return {"part": part.id, "side": part.sides[seg.side], "step": state.step + 1}

    # ------------------------------------------------------------------ operations

    def launch(self, state: State) -> Turn:
        """Open the skill: offer to carry on where the runner was, or start from the top."""
        if state.status in ("active", "paused") and (state.segment > 0 or state.heard):
            new = replace(state, pending="resume", status="paused")
            return Turn(new, (Say("welcome_back", self._where(state)),), self.reprompt(new))
        return self.start(State(mode=state.mode, breaths=state.breaths), welcome=True)

    def start(self, state: State, welcome: bool = False) -> Turn:
        """Begin the routine; mid-routine, "start" takes up the current pose again rather than
        throwing the runner's progress away ("start over" does that)."""
        if state.status == "paused" and not welcome:
            return self.resume(state)
        if state.status == "active" and not welcome:
            return self.repeat_pose(state)
        fresh = State(mode=state.mode, breaths=state.breaths, status="active")
        lead = [Say("welcome", {"mode": fresh.mode, "breaths": fresh.breaths})]
        return self._narrate(fresh, lead)

    def next(self, state: State) -> Turn:
        """Move on. With a variation on offer, "next" means no thanks; after a single step
        was repeated, the pose carries on from the step after it."""
        if not state.started:
            return self.start(state, welcome=True)
        if state.pending == "resume":
            return self.yes(state)
        if state.offered:
            return self.no(state)
        if state.status == "paused":
            state = replace(state, status="active")
        if not state.heard:
            return self._narrate(state, from_step=state.step + 1)
        following = self._next_index(state.segment, state)
        if following is None:
            return self.finish(state)
        return self._narrate(replace(state, segment=following, step=0, heard=False))

    def previous(self, state: State) -> Turn:
        if not state.started:
            return self.start(state, welcome=True)
        state = replace(state, status="active", pending=None)
        start = self._replay_start(state)
        earlier = self._prev_index(start, state)
        if earlier is None:
            return self._narrate(
                replace(state, segment=start, step=0, heard=False), [Say("at_start")]
            )
        if state.mode == "flow":  # the flow before this one, ending just before it began
            earlier = self._chunk_start(replace(state, segment=earlier))
        return self._narrate(replace(state, segment=earlier, step=0, heard=False))

    def repeat_step(self, state: State, number: int | None = None) -> Turn:
        """Say one step again: the given one (1-based) or the current one."""
        if not state.started:
            return self._stay(state, Say("nothing_yet"))
        part = self.current_part(state)
        index = state.step if number is None else number - 1
        if not 0 <= index < len(part.steps):
            return self._stay(
                state,
                Say("no_such_step", {"part": part.id, "count": len(part.steps), "asked": number}),
            )
        seg = self.segments[state.segment]
        # In hold mode "next" then carries on from the following step; a flow just moves on.
        heard = state.heard and state.mode == "flow"
        new = replace(state, step=index, heard=heard, pending=None, status="active")
        last_side = seg.side == len(part.sides) - 1
        say = Say(
            "step",
            {"part": part.id, "side": part.sides[seg.side], "step": index + 1, "last": last_side},
        )
        return Turn(new, (say,), self.reprompt(new))

    def repeat_pose(self, state: State) -> Turn:
        if not state.started:
            return self.start(state, welcome=True)
        start = self._replay_start(state)
        return self._narrate(
            replace(state, segment=start, step=0, heard=False, pending=None, status="active")
        )

    def skip_pose(self, state: State) -> Turn:
        if not state.started:
            return self.start(state, welcome=True)
        pose = self.segments[state.segment].pose
        if pose + 1 >= len(self.routine.poses):
            return self.finish(state)
        target = self._first_of_pose(pose + 1)
        return self._narrate(
            replace(state, segment=target, step=0, heard=False, pending=None, status="active")
        )

    def go_to(self, state: State, part_id: str | None) -> Turn:
        """Jump to a pose, or a variation (which counts as saying yes to it)."""
        for index, seg in enumerate(self.segments):
            if seg.side == 0 and self.part(seg).id == part_id:
                accepted = state.accepted
                if seg.variation is not None and part_id not in accepted:
                    accepted = (*accepted, part_id)
                declined = tuple(d for d in state.declined if d != part_id)
                new = replace(
                    state,
                    segment=index,
                    step=0,
                    heard=False,
                    pending=None,
                    status="active",
                    accepted=accepted,
                    declined=declined,
                )
                return self._narrate(new)
        return self._stay(state, Say("unknown_pose"))

    def switch_side(self, state: State, side: str | None = None) -> Turn:
        """The other side of this pose; with ``side``, that side (if not already on it)."""
        if not state.started:
            return self._stay(state, Say("nothing_yet"))
        seg = self.segments[state.segment]
        part = self.part(seg)
        if not part.two_sided:
            return self._stay(state, Say("one_sided", {"part": part.id}))
        if side == part.sides[seg.side]:
            return self._stay(state, Say("already_on_side", self._where(state)))
        other = replace(seg, side=1 - seg.side)
        target = self.segments.index(other)
        return self._narrate(
            replace(state, segment=target, step=0, heard=False, pending=None, status="active")
        )

    def which_side(self, state: State) -> Turn:
        if not state.started:
            return self._stay(state, Say("nothing_yet"))
        part = self.current_part(state)
        if not part.two_sided:
            return self._stay(state, Say("one_sided", {"part": part.id}))
        return self._stay(state, Say("which_side", self._where(state)))

    def where_am_i(self, state: State) -> Turn:
        if not state.started:
            return self._stay(state, Say("nothing_yet"))
        done, total = self.progress(state)
        number = self.segments[state.segment].pose + 1
        params = {
            **self._where(state),
            "number": number,
            "poses": len(self.routine.poses),
            "done": done,
            "total": total,
        }
        return self._stay(state, Say("where", params))

    def tip(self, state: State) -> Turn:
        if not state.started:
            return self._stay(state, Say("nothing_yet"))
        part = self.current_part(state)
        tip_part = part if part.tip else self.pose_of(state)
        if not tip_part.tip:
            return self._stay(state, Say("no_tip", {"part": part.id}))
        return self._stay(state, Say("tip", {"part": tip_part.id}))

    def targets(self, state: State) -> Turn:
        if not state.started:
            return self._stay(state, Say("nothing_yet"))
        return self._stay(state, Say("targets", {"part": self.current_part(state).id}))

    def set_mode(self, state: State, mode: str | None) -> Turn:
        if mode not in ("hold", "flow"):
            return self._stay(state, Say("which_mode"))
        if state.started and mode == state.mode:  # "slower, please" while already holding
            return self._stay(state, Say("mode_already", {"mode": mode}))
        new = replace(state, mode=mode, pending=None)
        lead = [Say("mode_set", {"mode": mode, "breaths": state.breaths})]
        if not state.started:
            new = State(mode=mode, breaths=state.breaths, status="active")
        return self._narrate(replace(new, step=0, heard=False, status="active"), lead)

    def set_breaths(self, state: State, breaths: int | None) -> Turn:
        if breaths is None or not MIN_BREATHS <= breaths <= MAX_BREATHS:
            return self._stay(
                state,
                Say("breaths_range", {"low": MIN_BREATHS, "high": MAX_BREATHS, "asked": breaths}),
            )
        new = replace(state, breaths=breaths)
        return self._stay(new, Say("breaths_set", {"breaths": breaths}))

    def start_over(self, state: State) -> Turn:
        fresh = State(mode=state.mode, breaths=state.breaths, status="active")
        return self._narrate(fresh, [Say("start_over")])

    def pause(self, state: State) -> Turn:
        if not state.started:
            return self._stay(state, Say("nothing_yet"))
        new = replace(state, status="paused", pending=None)
        return Turn(new, (Say("paused", self._where(state)),), self.reprompt(new))

    def resume(self, state: State) -> Turn:
        """After a pause (or "yes, carry on" after a break), the interrupted pose again;
        when nothing was paused, "carry on" just means next."""
        if not state.started:
            return self.start(state, welcome=True)
        if state.status == "active" and state.pending is None:
            return self.next(state)
        start = self._replay_start(state)
        new = replace(state, segment=start, status="active", pending=None, step=0, heard=False)
        return self._narrate(new)

    def yes(self, state: State) -> Turn:
        if state.pending == "resume":
            return self.resume(state)
        if state.offered:
            variation = state.offered
            return self.go_to(replace(state, pending=None), variation)
        return self.next(state)

    def no(self, state: State) -> Turn:
        if state.pending == "resume":
            fresh = State(mode=state.mode, breaths=state.breaths, status="active")
            return self._narrate(fresh, [Say("fresh_start")])
        if state.offered:
            variation = state.offered
            new = replace(state, pending=None, declined=(*state.declined, variation))
            following = self._next_index(new.segment, new)
            if following is None:
                return self.finish(new)
            return self._narrate(replace(new, segment=following, step=0, heard=False))
        return self._stay(state, Say("take_your_time"))

    def help(self, state: State) -> Turn:
        if state.offered:
            key = "help_offer"
        elif state.pending == "resume":
            key = "help_resume"
        elif not state.started:
            key = "help_idle"
        else:
            key = f"help_{state.mode}"
        return self._stay(state, Say(key, {"breaths": state.breaths}))

    def fallback(self, state: State) -> Turn:
        return self._stay(state, Say("fallback"))

    def finish(self, state: State) -> Turn:
        new = replace(state, status="finished", pending=None, heard=True)
        return Turn(new, (Say("closing"), Say("goodbye_finished")), (), end_session=True)

    def stop(self, state: State) -> Turn:
        key = "goodbye" if state.status in ("active", "paused") else "goodbye_short"
        return Turn(state, (Say(key),), (), end_session=True)

    # ------------------------------------------------------------------ serialisation

    def to_dict(self, state: State) -> dict[str, Any]:
        """A small versioned dict for session attributes, naming the position by ids."""
        seg = self.segments[state.segment]
        pose = self.routine.poses[seg.pose]
        part = self.part(seg)
        return {
            "v": STATE_VERSION,
            "routine": self.routine.id,
            "pose": pose.id,
            "variation": part.id if seg.variation is not None else None,
            "side": part.sides[seg.side],
            "step": state.step,
            "mode": state.mode,
            "breaths": state.breaths,
            "status": state.status,
            "heard": state.heard,
            "pending": state.pending,
            "accepted": list(state.accepted),
            "declined": list(state.declined),
        }

    def from_dict(self, data: Any) -> State:
        """Rebuild a state; anything stale, tampered or out of range falls back sensibly."""
        if not isinstance(data, Mapping) or _int(data.get("v"), 0) != STATE_VERSION:
            return State()
        variation_ids = {v.id for p in self.routine.poses for v in p.variations}
        accepted = _ids(data.get("accepted"), variation_ids)
        mode: Mode = "flow" if data.get("mode") == "flow" else "hold"
        breaths = _int(data.get("breaths"), DEFAULT_BREATHS)
        if not MIN_BREATHS <= breaths <= MAX_BREATHS:
            breaths = DEFAULT_BREATHS
        status = data.get("status")
        if status not in ("idle", "active", "paused", "finished"):
            status = "idle"
        if data.get("routine") != self.routine.id:
            return State(mode=mode, breaths=breaths)
        segment = self._find_segment(data.get("pose"), data.get("variation"), data.get("side"))
        if segment is None:
            return State(mode=mode, breaths=breaths)
        seg = self.segments[segment]
        if seg.variation is not None and self.part(seg).id not in accepted:
            accepted = (*accepted, self.part(seg).id)
        declined = tuple(i for i in _ids(data.get("declined"), variation_ids) if i not in accepted)
        steps = len(self.part(seg).steps)
        step = _int(data.get("step"), 0)
        heard = data.get("heard") is True
        if not 0 <= step < steps:
            step, heard = 0, False
        pending = data.get("pending")
        if pending == "resume":
            pass
        elif isinstance(pending, str) and pending.startswith(OFFER):
            if pending[len(OFFER) :] not in variation_ids:
                pending = None
        else:
            pending = None
        return State(
            segment=segment,
            step=step,
            mode=mode,
            breaths=breaths,
            status=status,
            heard=heard,
            pending=pending,
            accepted=accepted,
            declined=declined,
        )

    def _find_segment(self, pose_id: Any, variation_id: Any, side: Any) -> int | None:
        pose_index = self.routine.index_of(pose_id) if isinstance(pose_id, str) else None
        if pose_index is None:
            return None
        first = None
        for index, seg in enumerate(self.segments):
            if seg.pose != pose_index:
                continue
            part = self.part(seg)
            wanted = part.id == variation_id if seg.variation is not None else variation_id is None
            if first is None:
                first = index
            if wanted and part.sides[seg.side] == side:
                return index
        return first


def _int(value: Any, default: int) -> int:
    """An int from session JSON (DynamoDB gives Decimal, tampering gives anything)."""
    if isinstance(value, bool):
        return default
    try:
        number = int(value)
        return number if number == value else default
    except (TypeError, ValueError, ArithmeticError):  # Decimal("sNaN") raises on compare too
        return default


def _ids(value: Any, allowed: set[str]) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(v for v in value if isinstance(v, str) and v in allowed))
