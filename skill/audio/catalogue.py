"""Every line the skill can speak from the routine and its prompts, as clips to prerender.

The catalogue is derived by running the state machine itself over every segment, mode and hold
length, so it cannot drift from what the skill says. Lines that carry live numbers (``where``:
"3 of 19 parts done") are left to Alexa's voice. Blocks of several lines (a pose's introduction
with its steps, a whole hold, a flow pose with its cues) become composite clips.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from itertools import product

from skill.audio.render import ClipSpec
from skill.routine.coach import MAX_BREATHS, MIN_BREATHS, Coach, State, Turn
from skill.routine.content import Routine
from skill.speech.narration import Block, Line, Narrator, block_id

LIVE_PREFIXES = ("where.",)
"""Line ids whose text changes with live progress: not prerendered."""


class CatalogueError(ValueError):
    """Two different texts share one clip id: the narration's ids are not stable."""


def _turns(coach: Coach) -> Iterable[Turn]:
    variations = tuple(v.id for pose in coach.routine.poses for v in pose.variations)
    idle = State()
    yield from (
        op(idle)
        for op in (
            coach.help,
            coach.fallback,
            coach.stop,
            coach.which_side,
            coach.repeat_step,
            coach.pause,
            coach.tip,
            coach.targets,
        )
    )
    yield coach.set_mode(idle, None)
    yield coach.set_breaths(idle, None)
    for mode in ("hold", "flow"):
        for breaths in range(MIN_BREATHS, MAX_BREATHS + 1):
            fresh = State(mode=mode, breaths=breaths)
            yield coach.launch(fresh)
            yield coach.set_mode(fresh, mode)
            yield coach.set_breaths(fresh, breaths)
            for segment in range(len(coach.segments)):
                for accepted in (variations, ()):
                    state = State(
                        segment=segment,
                        mode=mode,
                        breaths=breaths,
                        status="active",
                        accepted=accepted,
                    )
                    if coach.included(segment, state):
                        yield coach.repeat_pose(state)
    for segment, mode in product(range(len(coach.segments)), ("hold", "flow")):
        state = State(segment=segment, mode=mode, status="active", accepted=variations)
        heard = replace(state, heard=True)
        yield from (
            op(heard)
            for op in (
                coach.which_side,
                coach.tip,
                coach.targets,
                coach.pause,
                coach.resume,
                coach.launch,
                coach.switch_side,
                coach.previous,
                coach.next,
                coach.help,
                coach.fallback,
                coach.finish,
                coach.stop,
                coach.start_over,
                coach.no,
                coach.skip_pose,
            )
        )
        yield coach.help(coach.launch(heard).state)
        yield coach.no(coach.launch(heard).state)
        yield coach.go_to(heard, "no such pose")
        yield coach.switch_side(heard, coach.side_label(heard))
        yield coach.set_mode(heard, heard.mode)
        yield coach.set_mode(heard, None)
        part = coach.current_part(state)
        for step in range(len(part.steps) + 2):
            yield coach.repeat_step(heard, step)
        offered = coach.repeat_pose(replace(state, accepted=()))
        if offered.state.pending:
            yield coach.help(offered.state)
            yield coach.repeat_pose(offered.state)  # the offer's reprompt


def catalogue_blocks(routine: Routine, locale: str = "en-GB") -> list[Block]:
    """Every distinct block the skill can say, in a stable order."""
    coach = Coach(routine)
    narrator = Narrator(routine, locale)
    seen: dict[str, Block] = {}
    for turn in _turns(coach):
        for says in (turn.says, turn.reprompt):
            for block in narrator.blocks(says):
                block = tuple(line for line in block if not line.id.startswith(LIVE_PREFIXES))
                if block:
                    seen.setdefault(_block_key(block), block)
    return list(seen.values())


def _block_key(block: Block) -> str:
    return "|".join(f"{line.id}@{line.pause_ms}" for line in block)


def catalogue(routine: Routine, locale: str = "en-GB") -> list[ClipSpec]:
    """The clips to render: one a block; a block of one line is that line's clip."""
    lines: dict[str, Line] = {}
    singles: dict[str, Line] = {}
    composites: dict[str, ClipSpec] = {}
    for block in catalogue_blocks(routine, locale):
        for line in block:
            known = lines.setdefault(line.id, line)
            if known.text != line.text:
                raise CatalogueError(
                    f"clip {line.id!r} has two texts: {known.text!r}, {line.text!r}"
                )
        if len(block) == 1:
            singles[block[0].id] = block[0]
        else:
            spec = composite_spec(block)
            known_spec = composites.setdefault(spec.id, spec)
            if known_spec != spec:
                raise CatalogueError(f"composite clip {spec.id!r} has two forms")
    specs = [
        ClipSpec(line.id, line.text) for line in sorted(singles.values(), key=lambda line: line.id)
    ]
    return specs + sorted(composites.values(), key=lambda s: s.id)


def composite_spec(block: Block) -> ClipSpec:
    """A block as one clip: its lines with their pauses, but not the pause after the last."""
    parts = tuple(
        (line.text, (line.pause_ms if i < len(block) - 1 else 0) / 1000)
        for i, line in enumerate(block)
    )
    return ClipSpec(block_id(block), " ".join(line.text for line in block), parts)
