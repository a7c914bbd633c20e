"""Every line the skill can speak from the routine and its prompts, as clips to prerender.

The catalogue is derived by running every operation of the registry
(:mod:`skill.routine.operations`), with every slot value that changes what is said, over every
segment, mode and hold length, so it cannot drift from what the skill says. Lines that carry
live numbers (``where``: "3 of 19 parts done") are left to Alexa's voice. Blocks of several
lines (a pose's introduction with its steps, a whole hold, a flow pose with its cues) become
composite clips.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain, product

from skill.audio.render import ClipSpec
from skill.routine.coach import Coach
from skill.routine.content import Routine
from skill.routine.operations import all_turns
from skill.routine.says import Key, Say
from skill.routine.state import FULL, MAX_BREATHS, MIN_BREATHS, MODES, QUICK, State, focus
from skill.settings import DEFAULT_LOCALE
from skill.speech.narration import Block, Line, Narrator, block_id

LIVE_PREFIXES = ("where.", "how_long.", "plan_set.", "poses_left.", "how_to.", "how_to_body")
"""Lines left to Alexa's voice: those whose text carries live figures (minutes left, poses to
go), and the rare "how do I do this" answers, which repeat a pose's steps."""


OUTSIDE_REGISTRY = (Key.PLAY_THROUGH, Key.PLAY_THROUGH_UNAVAILABLE, Key.PLAY_THROUGH_NO_DEVICE)
"""Prompts said by a handler rather than an operation of the registry: the play-through's
start, and why it can't (``skill/alexa/audioplayer.py``)."""


class CatalogueError(ValueError):
    """Two different texts share one clip id: the narration's ids are not stable."""


def _states(coach: Coach) -> Iterable[State]:
    """The states worth asking everything of: before the start at every hold length, and every
    segment in both modes, heard or not, with the variations taken or not, the resume and any
    offer waiting; then the same for each other plan, and for brief instructions."""
    variations = tuple(sorted(coach.variation_ids))
    for mode, breaths in product(MODES, range(MIN_BREATHS, MAX_BREATHS + 1)):
        yield State(mode=mode, breaths=breaths)
    plans = [FULL, QUICK, *(focus(area.id) for area in coach.routine.focus_areas)]
    for plan, brief in [(plan, False) for plan in plans] + [(FULL, True)]:
        settings = State(plan=plan, brief=brief)
        taken = (variations, ()) if plan == FULL else ((),)
        for segment, mode, accepted, heard in product(
            range(len(coach.segments)), MODES, taken, (False, True)
        ):
            state = settings._replace(
                segment=segment,
                mode=mode,
                status="active",
                accepted=accepted,
                heard=heard,
            )
            if not coach.included(segment, state):
                continue
            yield state
            if plan != FULL or brief:
                continue  # the rest says nothing that depends on the plan
            yield coach.launch(state).state  # carry on where you were?
            yield coach.take_break(state).state  # a shorter finish?
            offered = coach.repeat_pose(state).state
            if offered.pending is not None:
                yield offered


def catalogue_blocks(routine: Routine, locale: str = DEFAULT_LOCALE) -> list[Block]:
    """Every distinct block the skill can say, in a stable order."""
    coach = Coach(routine)
    narrator = Narrator(routine, locale)
    seen: dict[str, Block] = {}
    narrated: set[tuple[Say, ...]] = set()
    said: Iterable[tuple[Say, ...]] = chain(
        ((Say(key),) for key in OUTSIDE_REGISTRY),
        chain.from_iterable((t.says, t.reprompt) for t in all_turns(coach, _states(coach))),
    )
    for says in said:
        if says in narrated:  # most operations say the same over many states
            continue
        narrated.add(says)
        for block in narrator.blocks(says):
            if not any(line.id.startswith(LIVE_PREFIXES) for line in block):
                seen.setdefault(_block_key(block), block)
    return list(seen.values())


def _block_key(block: Block) -> str:
    return "|".join(f"{line.id}@{line.pause_ms}" for line in block)


def catalogue(routine: Routine, locale: str = DEFAULT_LOCALE) -> list[ClipSpec]:
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
