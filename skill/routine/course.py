"""The course through a routine: its segments in order, and how to move between them.

Navigation only: which segment comes before or after another for a runner who has said yes or
no to the variations, where a flow began, what is on offer next. The operations that use it are
in :mod:`skill.routine.coach`.
"""

from __future__ import annotations

from functools import cache

from skill.routine.content import Part, Pose, Routine
from skill.routine.names import fold
from skill.routine.state import FLOW_SEGMENTS_PER_TURN, FULL, Plan, Segment, State


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


class Course:
    """One routine's segments, and the lookups and moves over them."""

    def __init__(self, routine: Routine) -> None:
        self.routine = routine
        self.segments = segments_of(routine)
        self.variation_ids = frozenset(v.id for p in routine.poses for v in p.variations)
        self.area_ids = frozenset(a.id for a in routine.focus_areas)
        self._plans: dict[Plan, frozenset[str]] = {}

    # ------------------------------------------------------------------ plans

    def plan_parts(self, plan: Plan) -> frozenset[str]:
        """The ids of the poses and variations a plan has; the relaxation is always in."""
        found = self._plans.get(plan)
        if found is None:
            found = self._plans[plan] = self._select(plan)
        return found

    def _select(self, plan: Plan) -> frozenset[str]:
        poses = self.routine.poses
        everything = {part.id for pose in poses for part in pose.parts}
        if plan.kind == "full":
            return frozenset(everything)
        chosen = {pose.id for pose in poses if pose.relaxation}
        if plan.kind == "quick":
            chosen |= set(self.routine.quick)
        else:
            area = next((a for a in self.routine.focus_areas if a.id == plan.area), None)
            if area is None:
                return frozenset(everything)
            wanted = {fold(t) for t in area.target_areas}
            for pose in poses:
                for part in pose.parts:
                    if part.id in area.poses or wanted & {fold(t) for t in part.target_areas}:
                        chosen |= {pose.id, part.id}
        return frozenset(chosen)

    def plan_poses(self, state: State) -> list[Pose]:
        """The poses of the runner's plan, in routine order."""
        parts = self.plan_parts(state.plan)
        return [pose for pose in self.routine.poses if pose.id in parts]

    def first_index(self, state: State) -> int:
        """The first segment of the runner's plan."""
        return next((i for i in range(len(self.segments)) if self.included(i, state)), 0)

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
        """Whether a segment is in the runner's session: its part is in the plan, and a
        variation has been said yes to."""
        seg = self.segments[index]
        part_id = self.part(seg).id
        if state.plan != FULL and part_id not in self.plan_parts(state.plan):
            return False
        return seg.variation is None or part_id in state.accepted

    def progress(self, state: State) -> tuple[int, int]:
        """(segments done, segments in the routine as the runner is doing it)."""
        shown = [i for i in range(len(self.segments)) if self.included(i, state)]
        done = sum(1 for i in shown if i < state.segment or (i == state.segment and state.heard))
        return done, len(shown)

    def next_index(self, index: int, state: State) -> int | None:
        for i in range(index + 1, len(self.segments)):
            if self.included(i, state):
                return i
        return None

    def prev_index(self, index: int, state: State) -> int | None:
        for i in range(index - 1, -1, -1):
            if self.included(i, state):
                return i
        return None

    def next_pose_index(self, index: int, state: State) -> int | None:
        """The first segment of the next pose in the runner's session."""
        pose = self.segments[index].pose
        for i in range(index + 1, len(self.segments)):
            if self.segments[i].pose != pose and self.included(i, state):
                return i
        return None

    def offer_after(self, state: State) -> str | None:
        """The variation to offer after the current segment, if it is due and undecided."""
        seg = self.segments[state.segment]
        if seg.variation is not None or state.mode != "hold":
            return None
        pose = self.routine.poses[seg.pose]
        in_plan = self.plan_parts(state.plan)
        for var in pose.variations:
            if var.id in state.accepted or var.id in state.declined or var.id not in in_plan:
                continue
            due = seg.side == 0 if var.each_side else seg.side == len(pose.sides) - 1
            if due:
                return var.id
        return None

    def find_part_id(self, words: str) -> str | None:
        """The pose or variation a runner named, by its name, id or one of its synonyms."""
        wanted = fold(words)
        for pose in self.routine.poses:
            variations_first: tuple[Part, ...] = (*pose.variations, pose)
            for part in variations_first:
                names = [part.name, part.id.replace("_", " ")]
                if part is pose:
                    names += list(pose.synonyms)
                if any(fold(name) == wanted for name in names):
                    return part.id
        return None

    def chunk_start(self, state: State) -> int:
        """Where the flow that ended at the current segment began (flows are a fixed length)."""
        index = state.segment
        for _ in range(FLOW_SEGMENTS_PER_TURN - 1):
            earlier = self.prev_index(index, state)
            if earlier is None:
                break
            index = earlier
        return index

    def replay_start(self, state: State) -> int:
        """The segment to narrate again: this pose and side, or in flow the start of this flow,
        so that saying it again ends where the runner already is."""
        return self.chunk_start(state) if state.mode == "flow" and state.heard else state.segment

    def find_segment(self, pose_id: object, variation_id: object, side: object) -> int | None:
        """The segment of a pose (or its variation) on a side; the pose's first if the rest
        does not match; ``None`` for an unknown pose."""
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
