"""The coach's operations: every move and question of the routine, as pure functions.

Each operation takes a :class:`~skill.routine.state.State` and returns a
:class:`~skill.routine.state.Turn`: the new state and what to say, as keys and parameters that
the narration turns into speech. No SDK imports: the Alexa handlers, the audio catalogue and
the offline player all drive the routine through this class.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from skill.routine.course import Course
from skill.routine.says import Key, Say
from skill.routine.state import (
    FLOW_SEGMENTS_PER_TURN,
    MAX_BREATHS,
    MIN_BREATHS,
    MODES,
    RELAX_SECONDS_PER_BREATH,
    RESUME,
    State,
    Turn,
    offer,
)


class Coach(Course):
    """The operations of the routine over one :class:`~skill.routine.content.Routine`."""

    # ------------------------------------------------------------------ narration plans

    def _segment_says(self, state: State, from_step: int = 0) -> tuple[State, list[Say]]:
        """Narrate the current segment (hold mode) from a step, through the hold and tip."""
        seg = self.segments[state.segment]
        part = self.part(seg)
        pose = self.routine.poses[seg.pose]
        ident = {"part": part.id, "side": part.sides[seg.side]}
        says: list[Say] = []
        if from_step == 0:
            intro_key = Key.INTRO if seg.side == 0 else Key.INTRO_SIDE
            says.append(Say(intro_key, {**ident, "number": seg.pose + 1}))
        last_side = seg.side == len(part.sides) - 1
        steps = len(part.steps)
        # A closing step that changes on the last side ("switch sides when ready") is the cue
        # to move on, so before the last side it comes after the hold, not before it.
        switch_cue = not last_side and part.steps[-1].last_side is not None
        for step in range(from_step, steps - 1 if switch_cue else steps):
            says.append(Say(Key.STEP, {**ident, "step": step + 1, "last": last_side}))
        if pose.relaxation:
            seconds = state.breaths * RELAX_SECONDS_PER_BREATH
            says += [Say(Key.RELAX, {"seconds": seconds}), Say(Key.RELAX_END)]
        else:
            says.append(Say(Key.HOLD, {"breaths": state.breaths}))
        tip_part = part if part.tip else pose
        if tip_part.tip and seg.side == 0:
            says.append(Say(Key.TIP, {"part": tip_part.id}))
        if switch_cue and from_step < steps:
            says.append(Say(Key.STEP, {**ident, "step": steps, "last": False}))
        new = replace(state, step=len(part.steps) - 1, heard=True, status="active", pending=None)
        offer_id = self.offer_after(new)
        if offer_id:
            new = replace(new, pending=offer(offer_id))
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
        new = replace(
            state, segment=last, step=len(part.steps) - 1, heard=True, status="active", pending=None
        )
        says.append(Say(Key.FLOW_NEXT if index is not None else Key.LAST_POSE_DONE))
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
            return (Say(Key.OFFER_REPROMPT, {"part": state.offered}),)
        if state.resume_offered:
            return (Say(Key.RESUME_REPROMPT),)
        if state.status == "paused":
            return (Say(Key.PAUSED_REPROMPT),)
        if state.status == "idle":
            return (Say(Key.IDLE_REPROMPT),)
        if not state.heard:
            return (Say(Key.STEP_REPROMPT),)
        return (Say(Key.NEXT_REPROMPT),)

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
            new = replace(state, pending=RESUME, status="paused")
            return Turn(new, (Say(Key.WELCOME_BACK, self._where(state)),), self.reprompt(new))
        return self.start(State(mode=state.mode, breaths=state.breaths), welcome=True)

    def start(self, state: State, welcome: bool = False) -> Turn:
        """Begin the routine; mid-routine, "start" takes up the current pose again rather than
        throwing the runner's progress away ("start over" does that)."""
        if state.status == "paused" and not welcome:
            return self.resume(state)
        if state.status == "active" and not welcome:
            return self.repeat_pose(state)
        fresh = State(mode=state.mode, breaths=state.breaths, status="active")
        lead = [Say(Key.WELCOME, {"mode": fresh.mode, "breaths": fresh.breaths})]
        return self._narrate(fresh, lead)

    def next(self, state: State) -> Turn:
        """Move on. With a variation on offer, "next" means no thanks; after a single step
        was repeated, the pose carries on from the step after it."""
        if not state.started:
            return self.start(state, welcome=True)
        if state.resume_offered:
            return self.yes(state)
        if state.offered:
            return self.no(state)
        if state.status == "paused":
            state = replace(state, status="active")
        if not state.heard:
            return self._narrate(state, from_step=state.step + 1)
        following = self.next_index(state.segment, state)
        if following is None:
            return self.finish(state)
        return self._narrate(replace(state, segment=following, step=0, heard=False))

    def previous(self, state: State) -> Turn:
        if not state.started:
            return self.start(state, welcome=True)
        state = replace(state, status="active", pending=None)
        start = self.replay_start(state)
        earlier = self.prev_index(start, state)
        if earlier is None:
            return self._narrate(
                replace(state, segment=start, step=0, heard=False), [Say(Key.AT_START)]
            )
        if state.mode == "flow":  # the flow before this one, ending just before it began
            earlier = self.chunk_start(replace(state, segment=earlier))
        return self._narrate(replace(state, segment=earlier, step=0, heard=False))

    def repeat_step(self, state: State, number: int | None = None) -> Turn:
        """Say one step again: the given one (1-based) or the current one."""
        if not state.started:
            return self._stay(state, Say(Key.NOTHING_YET))
        part = self.current_part(state)
        index = state.step if number is None else number - 1
        if not 0 <= index < len(part.steps):
            return self._stay(
                state,
                Say(Key.NO_SUCH_STEP, {"part": part.id, "count": len(part.steps), "asked": number}),
            )
        seg = self.segments[state.segment]
        # In hold mode "next" then carries on from the following step; a flow just moves on.
        heard = state.heard and state.mode == "flow"
        new = replace(state, step=index, heard=heard, pending=None, status="active")
        last_side = seg.side == len(part.sides) - 1
        say = Say(
            Key.STEP,
            {"part": part.id, "side": part.sides[seg.side], "step": index + 1, "last": last_side},
        )
        return Turn(new, (say,), self.reprompt(new))

    def repeat_pose(self, state: State) -> Turn:
        if not state.started:
            return self.start(state, welcome=True)
        start = self.replay_start(state)
        return self._narrate(
            replace(state, segment=start, step=0, heard=False, pending=None, status="active")
        )

    def skip_pose(self, state: State) -> Turn:
        if not state.started:
            return self.start(state, welcome=True)
        pose = self.segments[state.segment].pose
        if pose + 1 >= len(self.routine.poses):
            return self.finish(state)
        target = self.first_of_pose(pose + 1)
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
        return self._stay(state, Say(Key.UNKNOWN_POSE))

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
        other = replace(seg, side=1 - seg.side)
        target = self.segments.index(other)
        return self._narrate(
            replace(state, segment=target, step=0, heard=False, pending=None, status="active")
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
        done, total = self.progress(state)
        number = self.segments[state.segment].pose + 1
        params = {
            **self._where(state),
            "number": number,
            "poses": len(self.routine.poses),
            "done": done,
            "total": total,
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
        new = replace(state, mode=mode, pending=None)
        lead = [Say(Key.MODE_SET, {"mode": mode, "breaths": state.breaths})]
        if not state.started:
            new = State(mode=mode, breaths=state.breaths, status="active")
        return self._narrate(replace(new, step=0, heard=False, status="active"), lead)

    def set_breaths(self, state: State, breaths: int | None) -> Turn:
        if breaths is None or not MIN_BREATHS <= breaths <= MAX_BREATHS:
            return self._stay(
                state,
                Say(Key.BREATHS_RANGE, {"low": MIN_BREATHS, "high": MAX_BREATHS, "asked": breaths}),
            )
        new = replace(state, breaths=breaths)
        return self._stay(new, Say(Key.BREATHS_SET, {"breaths": breaths}))

    def start_over(self, state: State) -> Turn:
        fresh = State(mode=state.mode, breaths=state.breaths, status="active")
        return self._narrate(fresh, [Say(Key.START_OVER)])

    def pause(self, state: State) -> Turn:
        if not state.started:
            return self._stay(state, Say(Key.NOTHING_YET))
        new = replace(state, status="paused", pending=None)
        return Turn(new, (Say(Key.PAUSED, self._where(state)),), self.reprompt(new))

    def resume(self, state: State) -> Turn:
        """After a pause (or "yes, carry on" after a break), the interrupted pose again;
        when nothing was paused, "carry on" just means next."""
        if not state.started:
            return self.start(state, welcome=True)
        if state.status == "active" and state.pending is None:
            return self.next(state)
        start = self.replay_start(state)
        new = replace(state, segment=start, status="active", pending=None, step=0, heard=False)
        return self._narrate(new)

    def yes(self, state: State) -> Turn:
        if state.resume_offered:
            return self.resume(state)
        if state.offered:
            variation = state.offered
            return self.go_to(replace(state, pending=None), variation)
        return self.next(state)

    def no(self, state: State) -> Turn:
        if state.resume_offered:
            fresh = State(mode=state.mode, breaths=state.breaths, status="active")
            return self._narrate(fresh, [Say(Key.FRESH_START)])
        if state.offered:
            variation = state.offered
            new = replace(state, pending=None, declined=(*state.declined, variation))
            following = self.next_index(new.segment, new)
            if following is None:
                return self.finish(new)
            return self._narrate(replace(new, segment=following, step=0, heard=False))
        return self._stay(state, Say(Key.TAKE_YOUR_TIME))

    def help(self, state: State) -> Turn:
        if state.offered:
            key = Key.HELP_OFFER
        elif state.resume_offered:
            key = Key.HELP_RESUME
        elif not state.started:
            key = Key.HELP_IDLE
        else:
            key = Key.HELP_HOLD if state.mode == "hold" else Key.HELP_FLOW
        return self._stay(state, Say(key, {"breaths": state.breaths}))

    def fallback(self, state: State) -> Turn:
        return self._stay(state, Say(Key.FALLBACK))

    def finish(self, state: State) -> Turn:
        new = replace(state, status="finished", pending=None, heard=True)
        return Turn(new, (Say(Key.CLOSING), Say(Key.GOODBYE_FINISHED)), (), end_session=True)

    def stop(self, state: State) -> Turn:
        key = Key.GOODBYE if state.started else Key.GOODBYE_SHORT
        return Turn(state, (Say(key),), (), end_session=True)
