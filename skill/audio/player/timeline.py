"""The session as a runner with no one to talk to would hear it: a timeline of clips.

The session is driven through ``Coach``: start (or go to a pose), then ``next`` until the
closing, saying yes (or no) to each offered variation. Each turn's lines are grouped into blocks
by ``Narrator``, each block is one clip of ``manifest.json`` (or, if the block was never
rendered, its lines' clips), and the silence after a clip is the pause after the block's last
line. Building the :class:`Timeline` is pure (no audio device, no files read beyond the
manifest), so it can be printed (``--dry-run``), exported or played.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from skill.audio.manifest import load_manifest
from skill.routine.coach import Coach
from skill.routine.content import Routine
from skill.routine.says import Say
from skill.routine.state import DEFAULT_BREATHS, FULL, Mode, Plan, State, Turn
from skill.routine.timing import Timing, TimingSource
from skill.speech.narration import (
    Block,
    Line,
    Narrator,
    block_id,
)

UNHEARD = frozenset({"next_hint", "flow_next", "last_pose_done", "offer", "plan_set"})
"""Prompts that ask the runner to say something: with no one listening they are left out (as
are reprompts). The offer's yes or no is answered by :class:`Session`'s ``variations``. The
announcement of a quick or focused plan is left out too: a player's runner chose the plan on
screen, where its length is shown."""

INTROS = ("intro", "intro_side", "intro_variation", "intro_plain", "intro_brief")
"""The keys that open a segment (each introduces its part and side)."""

WELCOME, CLOSING = "welcome", "closing"
SectionKey = int | str
"""A coach segment's index, or :data:`WELCOME` / :data:`CLOSING`."""


class PlayerError(Exception):
    """The clips can't make the session (missing, stale), or a bad option; one line."""


# --------------------------------------------------------------------------------- clips


@dataclass(frozen=True)
class Clip:
    """One entry of ``manifest.json``."""

    id: str
    text: str
    file: Path
    duration: float


def load_clips(audio_dir: Path) -> dict[str, Clip]:
    """The manifest's clips by id; :class:`PlayerError` if there is no usable manifest."""
    audio_dir = Path(audio_dir)
    entries = load_manifest(audio_dir)
    if not entries:
        raise PlayerError(
            f"no clips in {audio_dir} (no usable manifest.json); run yoga-skill render-audio"
        )
    root = audio_dir.resolve()
    clips: dict[str, Clip] = {}
    for clip_id, entry in entries.items():
        try:
            path = (audio_dir / str(entry["file"])).resolve()
            duration = float(entry["duration"])
            text = str(entry["text"])
        except (KeyError, TypeError, ValueError):
            continue  # a damaged entry is as good as a missing one
        if root in path.parents and duration > 0:
            clips[clip_id] = Clip(clip_id, text, path, duration)
    return clips


# --------------------------------------------------------------------------------- session


@dataclass(frozen=True)
class Session:
    """How to run the routine: the mode, breaths per hold, where to start, variations or not."""

    mode: Mode = "hold"
    breaths: int = DEFAULT_BREATHS
    start_at: str | None = None
    """A pose or variation id to start at (no welcome); ``None`` for the whole routine."""
    variations: bool = True
    """Say yes to every variation offered (hold mode offers them; flow mode never does)."""
    plan: Plan = FULL
    """The full routine, the quick session, or the poses for one focus area."""
    brief: bool = False
    """Brief instructions: the pose, the side and the breaths, no steps or tips."""


def part_ids(routine: Routine) -> list[str]:
    """Every id ``--from`` takes: the poses, then the variations."""
    return [p.id for p in routine.poses] + [v.id for p in routine.poses for v in p.variations]


def resolve_part(coach: Coach, words: str) -> str:
    """A pose or variation id from an id, a name or a synonym; :class:`PlayerError` if none."""
    found = coach.find_part_id(words)
    if found is None:
        ids = ", ".join(part_ids(coach.routine))
        raise PlayerError(f"no pose called {words!r}; choose one of: {ids}")
    return found


def session_turns(coach: Coach, session: Session) -> list[Turn]:
    """The turns of a session with no interaction, from the first to the goodbye."""
    # Saying yes to every variation from the start is how a flow has them too (flow mode
    # never offers them); in hold mode it is the same session as yes to each offer.
    accepted = tuple(sorted(coach.variation_ids)) if session.variations else ()
    fresh = State(
        mode=session.mode,
        breaths=session.breaths,
        accepted=accepted,
        plan=session.plan,
        brief=session.brief,
    )
    if session.start_at is None:
        turn = coach.start(fresh, welcome=True)
    else:
        turn = coach.go_to(fresh, session.start_at)
        if turn.state.status != "active":
            raise PlayerError(f"no pose with the id {session.start_at!r}")
    turns = [turn]
    while not turn.end_session:
        state = turn.state
        if state.offered:
            turn = coach.yes(state) if session.variations else coach.no(state)
        else:
            turn = coach.next(state)
        turns.append(turn)
        if len(turns) > 10 * len(coach.segments) + 10:  # pragma: no cover - a Coach bug
            raise RuntimeError("the session never ends")
    return turns


# --------------------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class Cue:
    """One clip in the session."""

    start: float
    """Seconds from the start of the session."""
    duration: float
    """Of the clip, in seconds (the silence after it is :attr:`pause`)."""
    clip_id: str
    file: Path
    text: str
    pause: float
    section: SectionKey
    """What part of the routine it belongs to: a segment's index, or welcome / closing."""
    pose: str
    """For the display: the pose's (or variation's) name, or "Welcome" / "Closing"."""
    side: str
    doing: str
    """For the display: "steps 1-4", "hold", "flow", "tip", "relax", or ""."""
    marks: tuple[tuple[float, str], ...] = ()
    """(seconds into the clip, what the runner is doing from there): step 2, breath 3 of 5."""
    lines: tuple[tuple[float, str], ...] = ()
    """(seconds into the clip, the words of the line said from there): every line of it."""

    @property
    def end(self) -> float:
        return self.start + self.duration + self.pause

    @property
    def where(self) -> str:
        return f"{self.pose}, {self.side} side" if self.side else self.pose

    def doing_at(self, offset: float) -> str:
        """What the runner is doing ``offset`` seconds into this cue."""
        label = self.doing
        for at, mark in self.marks:
            if at > offset:
                break
            label = mark
        return label


@dataclass(frozen=True)
class Section:
    key: SectionKey
    start: float


@dataclass(frozen=True)
class Timeline:
    mode: Mode
    breaths: int
    cues: tuple[Cue, ...]
    sections: tuple[Section, ...] = field(init=False)
    _starts: tuple[float, ...] = field(init=False, repr=False)
    _section_starts: tuple[float, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sections: list[Section] = []
        for cue in self.cues:
            if not sections or sections[-1].key != cue.section:
                sections.append(Section(cue.section, cue.start))
        object.__setattr__(self, "sections", tuple(sections))
        object.__setattr__(self, "_starts", tuple(c.start for c in self.cues))
        object.__setattr__(self, "_section_starts", tuple(s.start for s in sections))

    @property
    def total(self) -> float:
        return self.cues[-1].end if self.cues else 0.0

    def cue_index_at(self, t: float) -> int:
        return max(0, bisect_right(self._starts, t) - 1)

    def cue_at(self, t: float) -> Cue:
        return self.cues[self.cue_index_at(t)]

    def section_index_at(self, t: float) -> int:
        return max(0, bisect_right(self._section_starts, t) - 1)

    def files(self) -> list[Path]:
        """The clip files, each once, in order of first use."""
        return list(dict.fromkeys(c.file for c in self.cues))


@dataclass(frozen=True)
class _Heard:
    """A line as it is heard: the section it belongs to and the label for the display."""

    line: Line
    say: Say
    section: SectionKey
    label: str


def _heard_lines(
    coach: Coach, narrator: Narrator, says: Sequence[Say], section: SectionKey
) -> list[_Heard]:
    """Each line of ``says`` with its section (carried on from ``section``) and label."""
    segment_of: dict[tuple[str | None, str], int] = {
        (coach.part(seg).id, coach.part(seg).sides[seg.side]): i
        for i, seg in enumerate(coach.segments)
    }
    out: list[_Heard] = []
    for say in says:
        part, side = say.params.get("part"), str(say.params.get("side", ""))
        if say.key == "welcome":
            section = WELCOME
        elif say.key in ("closing", "goodbye_finished", "goodbye"):
            section = CLOSING
        elif say.key in (*INTROS, "step", "flow_pose", "flow"):
            section = segment_of.get((part, side), section)
        breath = 0
        for line in narrator.lines([say]):
            if say.key == "step":
                label = f"step {say.params['step']}"
            elif say.key == "hold":
                if line.id == "breath_in":
                    breath += 1
                if line.id in ("breath_in", "breath_out"):
                    label = f"breath {breath} of {say.params['breaths']}"
                else:
                    label = "release" if line.id == "hold_end" else "hold"
            elif say.key in INTROS:
                label = "intro"
            elif say.key in ("relax", "relax_end", "tip"):
                label = say.key.removesuffix("_end")
            elif say.key in ("flow_pose", "flow"):
                label = "flow"
            else:
                label = ""
            out.append(_Heard(line, say, section, label))
    return out


def _summary(heard: Sequence[_Heard]) -> str:
    """The label of a whole block: "steps 1-5", "hold", "flow", ..."""
    steps = [h.say.params["step"] for h in heard if h.say.key == "step"]
    if steps:
        return f"step {steps[0]}" if len(steps) == 1 else f"steps {steps[0]}-{steps[-1]}"
    keys = {h.say.key for h in heard}
    if "hold" in keys:
        return "hold"
    for h in heard:
        if h.label:
            return h.label
    return ""


def _line_starts(
    heard: Sequence[_Heard], duration: float, clips: Mapping[str, Clip]
) -> list[float]:
    """Where each line starts inside a clip of several: the pauses between lines are known;
    the speech is shared out by the lines' own clips' lengths (or their texts' lengths)."""
    pauses = [h.line.pause_ms / 1000 for h in heard[:-1]]
    weights = []
    for h in heard:
        own = clips.get(h.line.id)
        weights.append(own.duration if own else max(1, len(h.line.text)) / 15)
    speech = max(0.0, duration - sum(pauses))
    scale = speech / sum(weights)
    starts: list[float] = []
    at = 0.0
    for i in range(len(heard)):
        starts.append(round(at, 3))
        at += weights[i] * scale + (pauses[i] if i < len(pauses) else 0.0)
    return starts


def _marks(heard: Sequence[_Heard], starts: Sequence[float]) -> tuple[tuple[float, str], ...]:
    """Where the label changes inside a clip of several lines."""
    if len(heard) < 2:
        return ()
    marks: list[tuple[float, str]] = []
    for at, h in zip(starts, heard, strict=True):
        if not marks or marks[-1][1] != h.label:
            marks.append((at, h.label))
    return tuple(marks)


def _checked(clips: Mapping[str, Clip], clip_id: str, text: str) -> Clip | None:
    clip = clips.get(clip_id)
    if clip is not None and clip.text != text:
        raise PlayerError(
            f"clip {clip_id!r} is stale (its text is not the routine's); "
            "run yoga-skill render-audio"
        )
    return clip


def _block_cues(
    block: Block, heard: Sequence[_Heard], clips: Mapping[str, Clip]
) -> Iterator[tuple[Clip, float, Sequence[_Heard]]]:
    """The clips of a block with the pause after each: the block's own, else its lines'."""
    clip = _checked(clips, block_id(block), " ".join(line.text for line in block))
    if clip is not None:
        yield clip, block[-1].pause_ms / 1000, heard
        return
    found = [_checked(clips, line.id, line.text) for line in block]
    missing = [line.id for line, got in zip(block, found, strict=True) if got is None]
    if missing:
        raise PlayerError(
            f"no clip {block_id(block)!r} (nor {missing[0]!r} for its lines) in the "
            "manifest; run yoga-skill render-audio"
        )
    for line, got, h in zip(block, found, heard, strict=True):
        assert got is not None
        yield got, line.pause_ms / 1000, [h]


def _runs(narrator: Narrator, says: Sequence[Say], heard: Sequence[_Heard]) -> list[list[Say]]:
    """The says of a turn in runs of one section each, so that no clip spans two (the welcome,
    which a response joins to the first pose's introduction, is a cue of its own)."""
    runs: list[list[Say]] = []
    at = 0
    current: SectionKey | None = None
    for say in says:
        count = len(narrator.lines([say]))
        if count:
            here = heard[at].section
            at += count
            if runs and here != current:
                runs.append([])
            current = here
        if not runs:
            runs.append([])
        runs[-1].append(say)
    return runs


def build_timeline(
    routine: Routine,
    clips: Mapping[str, Clip],
    session: Session,
    narrator: Narrator | None = None,
) -> Timeline:
    """The session as clips and silences (pure: reads nothing but ``clips``)."""
    coach = Coach(routine)
    narrator = narrator or Narrator(routine)
    cues: list[Cue] = []
    t = 0.0
    section: SectionKey = WELCOME
    for turn in session_turns(coach, session):
        says = [s for s in turn.says if s.key not in UNHEARD]
        heard = _heard_lines(coach, narrator, says, section)
        section = heard[-1].section if heard else section
        at = 0
        blocks = [block for run in _runs(narrator, says, heard) for block in narrator.blocks(run)]
        for block in blocks:
            block_heard = heard[at : at + len(block)]
            at += len(block)
            for clip, pause, hs in _block_cues(block, block_heard, clips):
                starts = _line_starts(hs, clip.duration, clips)
                key = hs[0].section
                if isinstance(key, int):
                    seg = coach.segments[key]
                    part = coach.part(seg)
                    pose, side = part.name, part.sides[seg.side]
                else:
                    pose, side = key.capitalize(), ""
                cues.append(
                    Cue(
                        start=round(t, 3),
                        duration=clip.duration,
                        clip_id=clip.id,
                        file=clip.file,
                        text=clip.text,
                        pause=pause,
                        section=key,
                        pose=pose,
                        side=side,
                        doing=_summary(hs),
                        marks=_marks(hs, starts),
                        lines=tuple(zip(starts, (h.line.text for h in hs), strict=True)),
                    )
                )
                t += clip.duration + pause
    return Timeline(session.mode, session.breaths, tuple(cues))


def timing_source(routine: Routine, clips: Mapping[str, Clip]) -> TimingSource:
    """Durations for the state machine, measured on the timeline of the whole routine (every
    variation included) at each mode and hold length, built when first asked for."""
    segments = len(Coach(routine).segments)
    found: dict[tuple[Mode, int], Timing | None] = {}

    def timing(mode: Mode, breaths: int) -> Timing | None:
        key = (mode, breaths)
        if key not in found:
            try:
                timeline = build_timeline(routine, clips, Session(mode, breaths))
            except PlayerError:  # clips missing or stale: no figures rather than wrong ones
                found[key] = None
            else:
                found[key] = _timing_of(timeline, segments)
        return found[key]

    return timing


def clip_timing(routine: Routine, audio_dir: Path) -> TimingSource:
    """:func:`timing_source` over the clips in ``audio_dir``, read when first asked for; no
    figures if there are none."""
    source: list[TimingSource | None] = []

    def timing(mode: Mode, breaths: int) -> Timing | None:
        if not source:
            try:
                source.append(timing_source(routine, load_clips(audio_dir)))
            except PlayerError:
                source.append(None)
        found = source[0]
        return found(mode, breaths) if found is not None else None

    return timing


def _timing_of(timeline: Timeline, segments: int) -> Timing:
    seconds = [0.0] * segments
    welcome = closing = 0.0
    ends = [s.start for s in timeline.sections[1:]] + [timeline.total]
    for section, end in zip(timeline.sections, ends, strict=True):
        length = end - section.start
        if isinstance(section.key, int):
            seconds[section.key] += length
        elif section.key == WELCOME:
            welcome += length
        else:
            closing += length
    return Timing(welcome=welcome, closing=closing, segments=tuple(seconds))


def missing_files(timeline: Timeline) -> list[Path]:
    return [path for path in timeline.files() if not path.is_file()]


# --------------------------------------------------------------------------------- dry run


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour."""
    whole = max(0, round(seconds))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def format_timeline(timeline: Timeline, text_width: int = 48) -> list[str]:
    """One line a cue (start, length, where, doing, the words) and a total."""
    rows = []
    for cue in timeline.cues:
        length = clock(cue.duration)
        if cue.pause >= 60:
            length += f" +{clock(cue.pause)}"
        elif cue.pause >= 1:
            length += f" +{cue.pause:g}s"
        rows.append((clock(cue.start), f"({length})", cue.where, cue.doing, cue.text))
    w0 = max((len(r[0]) for r in rows), default=4)
    w1 = max((len(r[1]) for r in rows), default=6)
    w2 = max((len(r[2]) for r in rows), default=0)
    w3 = max((len(r[3]) for r in rows), default=0)
    lines = [
        f'  {a:>{w0}}  {b:<{w1}}  {c:<{w2}}  {d:<{w3}}  "{_shorten(e, text_width)}"'
        for a, b, c, d, e in rows
    ]
    lines.append(
        f"total {clock(timeline.total)}: {timeline.mode} mode, {timeline.breaths} breaths, "
        f"{len(timeline.cues)} clips"
    )
    return lines
