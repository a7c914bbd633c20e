"""The coach's operations: every move and question of the routine, as pure functions.

Each operation takes a :class:`~skill.routine.state.State` and returns a
:class:`~skill.routine.state.Turn`: the new state and what to say, as keys and parameters that
the narration turns into speech. No SDK imports: the Alexa handlers, the audio catalogue and
the offline player all drive the routine through this class.
"""

from __future__ import annotations

from typing import Any

from skill.routine.content import Routine
from skill.routine.course import Course
from skill.routine.says import Key, Say
from skill.routine.state import (
    ASK_BREATHS,
    ASK_FORGET,
    ASK_STEP,
    FLOW_SEGMENTS_PER_TURN,
    FULL,
    MAX_BREATHS,
    MIN_BREATHS,
    MODES,
    ON_BREAK,
    QUICK,
    RELAX_SECONDS_PER_BREATH,
    RESUME,
    Plan,
    Question,
    State,
    Turn,
    focus,
    offer,
)
from skill.routine.timing import TimingSource, minutes

HOLD_STEP = 2
"""How many breaths "longer holds" or "shorter holds" adds or takes away."""


class Coach(Course):
    """The operations of the routine over one :class:`~skill.routine.content.Routine`."""

    def __init__(self, routine: Routine, timing: TimingSource | None = None) -> None:
        super().__init__(routine)
        self.timing = timing

    # ------------------------------------------------------------------ narration plans

    def _intro(self, state: State) -> Say:
        seg = self.segments[state.segment]
        part = self.part(seg)
        side = part.sides[seg.side]
        if state.brief:
            return Say(Key.INTRO_BRIEF, {"part": part.id, "side": side})
        if seg.side > 0:
            return Say(Key.INTRO_SIDE, {"part": part.id, "side": side})
        if seg.variation is not None:
            pose = self.routine.poses[seg.pose]
            return Say(Key.INTRO_VARIATION, {"part": part.id, "side": side, "pose": pose.id})
        if state.plan != FULL:  # numbers belong to the full routine's order
            return Say(Key.INTRO_PLAIN, {"part": part.id, "side": side})
        return Say(Key.INTRO, {"part": part.id, "side": side, "number": seg.pose + 1})

    def _segment_says(self, state: State, from_step: int = 0) -> tuple[State, list[Say]]:
        """Narrate the current segment (hold mode) from a step: its steps, the hold, the tip,
        and after the hold the cue to change sides."""
        seg = self.segments[state.segment]
        part = self.part(seg)
        pose = self.routine.poses[seg.pose]
        side = part.sides[seg.side]
        says: list[Say] = []
        if from_step == 0:
            says.append(self._intro(state))
        if not state.brief:
            for step in range(from_step, len(part.steps)):
                says.append(Say(Key.STEP, {"part": part.id, "side": side, "step": step + 1}))
        if pose.relaxation:
            seconds = state.breaths * RELAX_SECONDS_PER_BREATH
            says += [Say(Key.RELAX, {"seconds": seconds}), Say(Key.RELAX_END)]
        else:
            says.append(Say(Key.HOLD, {"breaths": state.breaths}))
        tip_part = part if part.tip else pose
        if tip_part.tip and seg.side == 0 and not state.brief:
            says.append(Say(Key.TIP, {"part": tip_part.id}))
        last_side = seg.side == len(part.sides) - 1
        if part.switch is not None and part.switch.for_side(last_side) is not None:
            says.append(Say(Key.SWITCH, {"part": part.id, "side": side, "last": last_side}))
        new = state._replace(step=len(part.steps) - 1, heard=True, status="active", pending=None)
        offer_id = self.offer_after(new)
        if offer_id:
            new = new._replace(pending=offer(offer_id))
            says.append(Say(Key.OFFER, {"part": offer_id}))
        elif self.next_index(new.segment, new) is None:
            says.append(Say(Key.LAST_POSE_DONE))
        else:
            says.append(Say(Key.NEXT_HINT))
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
            says.append(Say(Key.FLOW_POSE, {"part": part.id, "side": part.sides[seg.side]}))
            for cue in range(len(part.flow)):
                says.append(
                    Say(Key.FLOW, {"part": part.id, "cue": cue + 1, "side": part.sides[seg.side]})
                )
            last = index
            index = self.next_index(index, state)
        part = self.part(self.segments[last])
        new = state._replace(
            segment=last, step=len(part.steps) - 1, heard=True, status="active", pending=None
        )
        says.append(Say(Key.FLOW_NEXT if index is not None else Key.LAST_POSE_DONE))
        return new, says

    def _narrate(self, state: State, lead: list[Say] | None = None, from_step: int = 0) -> Turn:
        if state.mode == "flow" and from_step == 0:
            new, says = self._flow_says(state)
        else:
            new, says = self._segment_says(state, from_step)
        return Turn(new, tuple((lead or []) + says), self.reprompt(new))

    def _begin(self, state: State, lead: list[Say]) -> Turn:
        """A fresh start of the runner's plan, keeping their choices."""
        fresh = state.fresh(status="active")
        return self._narrate(fresh._replace(segment=self.first_index(fresh)), lead)

    def reprompt(self, state: State) -> tuple[Say, ...]:
        """What to ask if the runner says nothing: it depends on the question in the air."""
        if state.offered:
            return (Say(Key.OFFER_REPROMPT, {"part": state.offered}),)
        question = state.pending.question if state.pending else None
        if question is Question.RESUME:
            return (Say(Key.RESUME_REPROMPT),)
        if question is Question.BREAK:
            return (Say(Key.BREAK_REPROMPT),)
        if question is Question.FORGET:
            return (Say(Key.FORGET_REPROMPT),)
        if question is Question.BREATHS:
            return (Say(Key.BREATHS_REPROMPT, {"low": MIN_BREATHS, "high": MAX_BREATHS}),)
        if question is Question.STEP:
            return (Say(Key.STEP_NUMBER_REPROMPT),)
        if state.status == "paused":
            return (Say(Key.PAUSED_REPROMPT),)
        if state.status == "idle":
            return (Say(Key.IDLE_REPROMPT),)
        if not state.heard:
            return (Say(Key.STEP_REPROMPT),)
        return (Say(Key.NEXT_REPROMPT),)

    def _stay(self, state: State, *says: Say) -> Turn:
        return Turn(state, says, self.reprompt(state))

    def _ask(self, asking: State, *says: Say) -> Turn:
        """Ask a question (``asking`` has it pending) and wait where the runner is."""
        return Turn(asking, says, self.reprompt(asking))

    def _where(self, state: State, segment: int | None = None) -> dict[str, Any]:
        seg = self.segments[state.segment if segment is None else segment]
        part = self.part(seg)
        return {"part": part.id, "side": part.sides[seg.side], "step": state.step + 1}

    # ------------------------------------------------------------------ durations

    def seconds_from(self, state: State, index: int | None, *, welcome: bool = False) -> float:
        """Seconds of the runner's session from segment ``index`` (None: none) to the end."""
        timing = self.timing(state.mode, state.breaths) if self.timing else None
        if timing is None:
            return 0.0
        total = timing.closing + (timing.welcome if welcome else 0.0)
        if index is not None:
            total += sum(
                timing.segments[i]
                for i in range(index, len(self.segments))
                if self.included(i, state)
            )
        return total

    def _plan_minutes(self, state: State) -> int | None:
        if self.timing is None or self.timing(state.mode, state.breaths) is None:
            return None
        start = state.fresh()
        return minutes(self.seconds_from(start, self.first_index(start), welcome=True))

    def _left_minutes(self, state: State) -> int | None:
        if self.timing is None or self.timing(state.mode, state.breaths) is None:
            return None
        following = self.next_index(state.segment, state) if state.heard else state.segment
        return minutes(self.seconds_from(state, following))

    def _plan_params(self, state: State) -> dict[str, Any]:
        return {
            "plan": state.plan.kind,
            "area": state.plan.area or "",
            "mode": state.mode,
            "minutes": self._plan_minutes(state) or 0,
            "poses": len(self.plan_poses(state)),
        }

    # ------------------------------------------------------------------ operations

    def launch(self, state: State) -> Turn:
        """Open the skill: offer to carry on where the runner was, or start from the top."""
        if state.started and (state.segment > self.first_index(state) or state.heard):
            new = state._replace(pending=RESUME, status="paused")
            where = self._where(state, self.replay_start(state))
            return Turn(new, (Say(Key.WELCOME_BACK, where),), self.reprompt(new))
        return self.start(state.fresh(), welcome=True)

    def start(self, state: State, welcome: bool = False) -> Turn:
        """Begin the routine; mid-routine, "start" takes up the current pose again rather than
        throwing the runner's progress away ("start over" does that)."""
        if state.status == "paused" and not welcome:
            return self.resume(state)
        if state.status == "active" and not welcome:
            return self.repeat_pose(state)
        lead = [Say(Key.WELCOME, {"mode": state.mode})]
        if state.plan != FULL:  # a remembered quick or focused session says so
            lead.append(Say(Key.PLAN_SET, self._plan_params(state)))
        return self._begin(state, lead)

    def next(self, state: State) -> Turn:
        """Move on. With a variation on offer, "next" means no thanks; after a single step
        was repeated, the pose carries on from the step after it."""
        if not state.started:
            return self.start(state, welcome=True)
        if state.resume_offered:
            return self.yes(state)
        if state.offered:
            return self.no(state)
        state = state._replace(status="active", pending=None)
        if not state.heard:
            return self._narrate(state, from_step=state.step + 1)
        following = self.next_index(state.segment, state)
        if following is None:
            return self.finish(state)
        return self._narrate(state._replace(segment=following, step=0, heard=False))

    def previous(self, state: State) -> Turn:
        if not state.started:
            return self.start(state, welcome=True)
        state = state._replace(status="active", pending=None)
        start = self.replay_start(state)
        earlier = self.prev_index(start, state)
        if earlier is None:
            return self._narrate(
                state._replace(segment=start, step=0, heard=False), [Say(Key.AT_START)]
            )
        if state.mode == "flow":  # the flow before this one, ending just before it began
            earlier = self.chunk_start(state._replace(segment=earlier))
        return self._narrate(state._replace(segment=earlier, step=0, heard=False))

    def repeat_step(self, state: State, number: int | None = None) -> Turn:
        """Say one step again: the given one (1-based) or the current one."""
        if not state.started:
            return self._stay(state, Say(Key.NOTHING_YET))
        part = self.current_part(state)
        index = state.step if number is None else number - 1
        if not 0 <= index < len(part.steps):
            asked = state._replace(pending=ASK_STEP)
            params = {"part": part.id, "count": len(part.steps), "asked": number}
            return self._ask(asked, Say(Key.NO_SUCH_STEP, params))
        seg = self.segments[state.segment]
        # In hold mode "next" then carries on from the following step; a flow just moves on.
        heard = state.heard and state.mode == "flow"
        new = state._replace(step=index, heard=heard, pending=None, status="active")
        say = Say(Key.STEP, {"part": part.id, "side": part.sides[seg.side], "step": index + 1})
        return Turn(new, (say,), self.reprompt(new))

    def repeat_pose(self, state: State) -> Turn:
        if not state.started:
            return self.start(state, welcome=True)
        start = self.replay_start(state)
        return self._narrate(
            state._replace(segment=start, step=0, heard=False, pending=None, status="active")
        )

    def skip_pose(self, state: State) -> Turn:
        if not state.started:
            return self.start(state, welcome=True)
        target = self.next_pose_index(state.segment, state)
        if target is None:
            return self.finish(state)
        return self._narrate(
            state._replace(segment=target, step=0, heard=False, pending=None, status="active")
        )

    def go_to(self, state: State, part_id: str | None) -> Turn:
        """Jump to a pose, or a variation (which counts as saying yes to it)."""
        for index, seg in enumerate(self.segments):
            if seg.side == 0 and self.part(seg).id == part_id:
                accepted = state.accepted
                if seg.variation is not None and part_id not in accepted:
                    accepted = (*accepted, part_id)
                declined = tuple(d for d in state.declined if d != part_id)
                new = state._replace(
                    segment=index,
                    step=0,
                    heard=False,
                    pending=None,
                    status="active",
                    accepted=accepted,
                    declined=declined,
                )
                if not self.included(index, new):  # a pose the plan left out: the full routine
                    new = new._replace(plan=FULL)
                return self._narrate(new)
        return self._stay(state, Say(Key.UNKNOWN_POSE))

    def go_to_place(self, state: State, place: str | None) -> Turn:
        """The first or the last pose of the runner's session."""
        if place == "first":
            target = self.first_index(state)
        elif place == "last":
            last = max(i for i in range(len(self.segments)) if self.included(i, state))
            pose = self.segments[last].pose
            target = next(
                i
                for i, seg in enumerate(self.segments)
                if seg.pose == pose and self.included(i, state)
            )
        else:
            return self._stay(state, Say(Key.UNKNOWN_POSE))
        new = state._replace(segment=target, step=0, heard=False, pending=None, status="active")
        return self._narrate(new)

    def switch_side(self, state: State, side: str | None = None) -> Turn:
        """The other side of this pose; with ``side``, that side (if not already on it)."""
        if not state.started:
            return self._stay(state, Say(Key.NOTHING_YET))
        seg = self.segments[state.segment]
        part = self.part(seg)
        if not part.two_sided:
            return self._stay(state, Say(Key.ONE_SIDED, {"part": part.id}))
        if side == part.sides[seg.side]:
            return self._stay(state, Say(Key.ALREADY_ON_SIDE, self._where(state)))
        other = seg._replace(side=1 - seg.side)
        target = self.segments.index(other)
        return self._narrate(
            state._replace(segment=target, step=0, heard=False, pending=None, status="active")
        )

    def which_side(self, state: State) -> Turn:
        if not state.started:
            return self._stay(state, Say(Key.NOTHING_YET))
        part = self.current_part(state)
        if not part.two_sided:
            return self._stay(state, Say(Key.ONE_SIDED, {"part": part.id}))
        return self._stay(state, Say(Key.WHICH_SIDE, self._where(state)))

    def where_am_i(self, state: State) -> Turn:
        if not state.started:
            return self._stay(state, Say(Key.NOTHING_YET))
        poses = self.plan_poses(state)
        pose = self.pose_of(state)
        number = next((i for i, p in enumerate(poses, 1) if p.id == pose.id), 1)
        params = {
            **self._where(state),
            "number": number,
            "poses": len(poses),
            "minutes": self._left_minutes(state) or 0,
        }
        return self._stay(state, Say(Key.WHERE, params))

    def tip(self, state: State) -> Turn:
        if not state.started:
            return self._stay(state, Say(Key.NOTHING_YET))
        part = self.current_part(state)
        tip_part = part if part.tip else self.pose_of(state)
        if not tip_part.tip:
            return self._stay(state, Say(Key.NO_TIP, {"part": part.id}))
        return self._stay(state, Say(Key.TIP, {"part": tip_part.id}))

    def targets(self, state: State) -> Turn:
        if not state.started:
            return self._stay(state, Say(Key.NOTHING_YET))
        return self._stay(state, Say(Key.TARGETS, {"part": self.current_part(state).id}))

    def set_mode(self, state: State, asked: str | None) -> Turn:
        mode = next((m for m in MODES if m == asked), None)
        if mode is None:
            return self._stay(state, Say(Key.WHICH_MODE))
        if state.started and mode == state.mode:  # "slower, please" while already holding
            return self._stay(state, Say(Key.MODE_ALREADY, {"mode": mode}))
        lead = [Say(Key.MODE_SET, {"mode": mode})]
        if not state.started:
            return self._begin(state._replace(mode=mode), lead)
        new = state._replace(mode=mode, pending=None, step=0, heard=False, status="active")
        return self._narrate(new, lead)

    def set_breaths(self, state: State, breaths: int | None) -> Turn:
        if breaths is None or not MIN_BREATHS <= breaths <= MAX_BREATHS:
            params = {"low": MIN_BREATHS, "high": MAX_BREATHS, "asked": breaths}
            return self._ask(state._replace(pending=ASK_BREATHS), Say(Key.BREATHS_RANGE, params))
        new = state._replace(breaths=breaths, pending=None)
        return self._stay(new, Say(Key.BREATHS_SET, {"breaths": breaths}))

    def change_hold(self, state: State, direction: str | None) -> Turn:
        """Longer or shorter holds, by :data:`HOLD_STEP` breaths within the limits."""
        if direction not in ("longer", "shorter"):
            return self.set_breaths(state, None)
        step = HOLD_STEP if direction == "longer" else -HOLD_STEP
        breaths = min(MAX_BREATHS, max(MIN_BREATHS, state.breaths + step))
        if breaths == state.breaths:
            return self._stay(state, Say(Key.BREATHS_LIMIT, {"breaths": breaths}))
        return self.set_breaths(state, breaths)

    def answer_number(self, state: State, number: int | None) -> Turn:
        """A bare number: the answer to the skill's own question, if it asked one."""
        question = state.pending.question if state.pending else None
        if question is Question.BREATHS:
            return self.set_breaths(state, number)
        if question is Question.STEP:
            return self.repeat_step(state, number)
        return self._stay(state, Say(Key.NUMBER_UNASKED))

    def start_over(self, state: State) -> Turn:
        return self._begin(state, [Say(Key.START_OVER)])

    def pause(self, state: State) -> Turn:
        if not state.started:
            return self._stay(state, Say(Key.NOTHING_YET))
        new = state._replace(status="paused", pending=None)
        return Turn(new, (Say(Key.PAUSED, self._where(state)),), self.reprompt(new))

    def take_break(self, state: State) -> Turn:
        """A breather: pause, and offer a shorter finish (straight to the relaxation)."""
        if not state.started:
            return self._stay(state, Say(Key.BREAK_IDLE))
        if self.pose_of(state).relaxation:
            new = state._replace(status="paused", pending=None)
            return Turn(new, (Say(Key.PAUSED, self._where(state)),), self.reprompt(new))
        new = state._replace(status="paused", pending=ON_BREAK)
        return Turn(new, (Say(Key.BREAK),), self.reprompt(new))

    def resume(self, state: State) -> Turn:
        """After a pause or a break (or "yes, carry on" after a while away), the interrupted
        pose again from its start. Nothing is skipped: with nothing paused, the current pose
        is taken up again too."""
        if not state.started:
            return self.start(state, welcome=True)
        start = self.replay_start(state)
        new = state._replace(segment=start, status="active", pending=None, step=0, heard=False)
        return self._narrate(new)

    def set_plan(self, state: State, plan: Plan) -> Turn:
        """The full routine, the quick session or a focus: from the top before the start;
        mid-routine from here (the next pose of the new plan if this one is not in it)."""
        if plan.kind == "focus" and plan.area not in self.area_ids:
            return self._stay(state, Say(Key.UNKNOWN_AREA))
        chosen = state._replace(plan=plan, pending=None)
        lead = Say(Key.PLAN_SET, self._plan_params(chosen))
        if not chosen.started:
            return self._begin(chosen, [lead])
        if self.included(chosen.segment, chosen):
            return self._stay(chosen, lead)
        following = self.next_index(chosen.segment, chosen)
        if following is None:
            return self.finish(chosen)
        new = chosen._replace(segment=following, step=0, heard=False, status="active")
        return self._narrate(new, [lead])

    def set_length(self, state: State, length: str | None) -> Turn:
        if length == "quick":
            return self.set_plan(state, QUICK)
        if length == "full":
            return self.set_plan(state, FULL)
        return self._stay(state, Say(Key.WHICH_LENGTH))

    def set_focus(self, state: State, area: str | None) -> Turn:
        return self.set_plan(state, focus(area or ""))

    def set_brief(self, state: State, level: str | None) -> Turn:
        if level not in ("brief", "full"):
            return self._stay(state, Say(Key.WHICH_LEVEL))
        new = state._replace(brief=level == "brief", pending=None)
        return self._stay(new, Say(Key.LEVEL_SET, {"level": level, "started": state.started}))

    def how_long(self, state: State) -> Turn:
        params = self._plan_params(state)
        if params["minutes"] == 0:
            return self._stay(state, Say(Key.HOW_LONG_UNKNOWN))
        if state.started:
            params["left"] = self._left_minutes(state) or 0
        return self._stay(state, Say(Key.HOW_LONG, params))

    def list_poses(self, state: State) -> Turn:
        poses = tuple(pose.id for pose in self.plan_poses(state))
        plan = {"plan": state.plan.kind, "area": state.plan.area or ""}
        return self._stay(state, Say(Key.LIST_POSES, {**plan, "poses": poses}))

    def poses_left(self, state: State) -> Turn:
        if not state.started:
            return self.list_poses(state)
        current = self.segments[state.segment].pose
        later: list[str] = []
        index: int | None = state.segment
        while index is not None:
            index = self.next_pose_index(index, state)
            if index is not None:
                later.append(self.routine.poses[self.segments[index].pose].id)
        done = self.pose_of(state).id if state.heard else None
        params = {"poses": tuple(later), "current": self.routine.poses[current].id, "done": done}
        return self._stay(state, Say(Key.POSES_LEFT, params))

    def whats_next(self, state: State) -> Turn:
        if not state.started:
            first = self.part(self.segments[self.first_index(state)])
            return self._stay(state, Say(Key.FIRST_UP, {"part": first.id}))
        following = self.next_index(state.segment, state)
        if following is None:
            return self._stay(state, Say(Key.NOTHING_NEXT))
        seg = self.segments[following]
        part = self.part(seg)
        return self._stay(state, Say(Key.UP_NEXT, {"part": part.id, "side": part.sides[seg.side]}))

    def pose_name(self, state: State) -> Turn:
        if not state.started:
            return self._stay(state, Say(Key.NOTHING_YET))
        return self._stay(state, Say(Key.POSE_NAME, self._where(state)))

    def how_to(self, state: State, body_part: str | None = None) -> Turn:
        """How to do the current pose: its steps, or those that mention a part of the body."""
        if not state.started:
            return self._stay(state, Say(Key.NOTHING_YET))
        params = {**self._where(state), "body": body_part or ""}
        return self._stay(state, Say(Key.HOW_TO, params))

    def front_leg(self, state: State) -> Turn:
        if not state.started:
            return self._stay(state, Say(Key.NOTHING_YET))
        return self._stay(state, Say(Key.FRONT_LEG, self._where(state)))

    def ask_forget(self, state: State) -> Turn:
        """Forget the sessions kept for the runner? (The Alexa layer forgets them on yes.)"""
        return self._ask(state._replace(pending=ASK_FORGET), Say(Key.FORGET_ASK))

    def _answered(self, state: State, key: Key) -> Turn:
        """An answer to a question of the habits, where the runner is."""
        return self._stay(state._replace(pending=None), Say(key))

    def yes(self, state: State) -> Turn:
        question = state.pending.question if state.pending else None
        if question is Question.RESUME:
            return self.resume(state)
        if question is Question.FORGET:
            return self._answered(state, Key.HISTORY_FORGOTTEN)
        if question is Question.BREAK:  # a shorter finish: straight to the relaxation
            return self.go_to_place(state._replace(pending=None), "last")
        if state.offered:
            variation = state.offered
            return self.go_to(state._replace(pending=None), variation)
        return self.next(state)

    def no(self, state: State) -> Turn:
        question = state.pending.question if state.pending else None
        if question is Question.RESUME:
            return self._begin(state, [Say(Key.FRESH_START)])
        if question is Question.FORGET:
            return self._answered(state, Key.FORGET_KEPT)
        if question is Question.BREAK:
            new = state._replace(pending=None)
            return self._stay(new, Say(Key.BREAK_DECLINED))
        if state.offered:
            variation = state.offered
            new = state._replace(pending=None, declined=(*state.declined, variation))
            following = self.next_index(new.segment, new)
            if following is None:
                return self.finish(new)
            return self._narrate(new._replace(segment=following, step=0, heard=False))
        return self._stay(state, Say(Key.TAKE_YOUR_TIME))

    def help(self, state: State) -> Turn:
        question = state.pending.question if state.pending else None
        if state.offered:
            key = Key.HELP_OFFER
        elif question is Question.RESUME:
            key = Key.HELP_RESUME
        elif question is Question.BREAK:
            key = Key.HELP_BREAK
        elif question is Question.FORGET:
            key = Key.HELP_FORGET
        elif not state.started:
            key = Key.HELP_IDLE
        else:
            key = Key.HELP_HOLD if state.mode == "hold" else Key.HELP_FLOW
        return self._stay(state, Say(key))

    def fallback(self, state: State) -> Turn:
        return self._stay(state, Say(Key.FALLBACK))

    def finish(self, state: State) -> Turn:
        new = state._replace(status="finished", pending=None, heard=True)
        return Turn(new, (Say(Key.CLOSING), Say(Key.GOODBYE_FINISHED)), (), end_session=True)

    def stop(self, state: State) -> Turn:
        key = Key.GOODBYE if state.started else Key.GOODBYE_SHORT
        return Turn(state, (Say(key),), (), end_session=True)
