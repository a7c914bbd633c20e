"""Play the whole routine from the prerendered clips: no network, no Alexa, no smart speaker.

The session is driven through ``Coach`` as a runner would with no one to talk
to: start (or go to a pose), then ``next`` until the closing, saying yes (or no) to each offered
variation. Each turn's lines are grouped into blocks by ``Narrator``, each
block is one clip of ``manifest.json`` (or, if the block was never rendered, its lines' clips),
and the silence after a clip is the pause after the block's last line. The result is a
:class:`Timeline` of :class:`Cue` items; building it is pure (no audio device, no files read
beyond the manifest), so it can be printed (``--dry-run``), written out as one MP3
(:func:`export_mp3`) or played (:func:`play`).

Interactive play keeps a :class:`PlayerState` (which mode's timeline, the position in seconds,
paused or not) that the keys change through the pure :func:`handle_key`, and that the audio
callback moves on through :func:`advance`; :func:`mix` renders any stretch of a timeline.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np

from skill.routine.coach import Coach
from skill.routine.content import Routine
from skill.routine.says import Say
from skill.routine.state import DEFAULT_BREATHS, Mode, State, Turn
from skill.speech.narration import (
    PAUSE_BREATH_IN,
    PAUSE_BREATH_OUT,
    Block,
    Line,
    Narrator,
    block_id,
)

from .processing import Pcm, decode_mp3, encode_mp3, resample
from .render import load_manifest

UNHEARD = frozenset({"next_hint", "flow_next", "last_pose_done", "offer"})
"""Prompts that ask the runner to say something: with no one listening they are left out (as
are reprompts). The offer's yes or no is answered by :class:`Session`'s ``variations``."""

BACK_GRACE_S = 3.0
"""``b`` restarts the current segment when more than this far into it, else goes back one."""

NO_DEVICE = "no audio output device found; try --dry-run or --export FILE.mp3"

WELCOME, CLOSING = "welcome", "closing"
SectionKey = int | str
"""A coach segment's index, or :data:`WELCOME` / :data:`CLOSING`."""


class PlayerError(Exception):
    """The clips can't make the session (missing, stale), or a bad option; one line."""


class NoAudioDevice(PlayerError):
    """There is no audio output to play to."""


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
    fresh = State(mode=session.mode, breaths=session.breaths)
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
    first_cue: int


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
        for i, cue in enumerate(self.cues):
            if not sections or sections[-1].key != cue.section:
                sections.append(Section(cue.section, cue.start, i))
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
    segment_of = {
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
        elif say.key in ("intro", "intro_side", "step", "flow_pose", "flow"):
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
            elif say.key in ("intro", "intro_side"):
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


def _marks(
    heard: Sequence[_Heard], duration: float, clips: Mapping[str, Clip]
) -> tuple[tuple[float, str], ...]:
    """Where each line starts inside a clip of several: the pauses between lines are known;
    the speech is shared out by the lines' own clips' lengths (or their texts' lengths)."""
    if len(heard) < 2:
        return ()
    pauses = [h.line.pause_ms / 1000 for h in heard[:-1]]
    weights = []
    for h in heard:
        own = clips.get(h.line.id)
        weights.append(own.duration if own else max(1, len(h.line.text)) / 15)
    speech = max(0.0, duration - sum(pauses))
    scale = speech / sum(weights)
    marks: list[tuple[float, str]] = []
    at = 0.0
    for i, h in enumerate(heard):
        if not marks or marks[-1][1] != h.label:
            marks.append((round(at, 3), h.label))
        at += weights[i] * scale + (pauses[i] if i < len(pauses) else 0.0)
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
        for block in narrator.blocks(says):
            block_heard = heard[at : at + len(block)]
            at += len(block)
            for clip, pause, hs in _block_cues(block, block_heard, clips):
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
                        marks=_marks(hs, clip.duration, clips),
                    )
                )
                t += clip.duration + pause
    return Timeline(session.mode, session.breaths, tuple(cues))


def expected_hold_pause(breaths: int) -> float:
    """The silence in a hold: a breath in and a breath out for each breath, in seconds."""
    return breaths * (PAUSE_BREATH_IN + PAUSE_BREATH_OUT) / 1000


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


# --------------------------------------------------------------------------------- audio

ProgressFn = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``: "decoding" each clip, then "encoding" 0 and 1."""


def decode_files(
    files: Sequence[Path], progress: ProgressFn | None = None, rate: int = 0
) -> tuple[dict[Path, np.ndarray], int]:
    """Decode clip files to int16 samples, all at ``rate`` (by default the first one's);
    returns (samples by file, rate)."""
    out: dict[Path, np.ndarray] = {}
    for i, path in enumerate(files):
        pcm = _read_clip(path)
        rate = rate or pcm.sample_rate
        if pcm.sample_rate != rate:
            pcm = resample(pcm, rate)
        out[path] = pcm.samples
        if progress:
            progress("decoding", i + 1, len(files))
    return out, rate


def mix(
    timeline: Timeline, samples: Mapping[Path, np.ndarray], rate: int, start: int, count: int
) -> np.ndarray:
    """Samples ``start`` to ``start + count`` of the session (silence past its end)."""
    out = np.zeros(count, dtype=np.int16)
    end = start + count
    i = timeline.cue_index_at(start / rate)
    while i < len(timeline.cues):
        cue = timeline.cues[i]
        begin = round(cue.start * rate)
        if begin >= end:
            break
        clip = samples[cue.file][: round(cue.duration * rate)]
        lo, hi = max(start, begin), min(end, begin + len(clip))
        if hi > lo:
            out[lo - start : hi - start] = clip[lo - begin : hi - begin]
        i += 1
    return out


@dataclass(frozen=True)
class ExportResult:
    path: Path
    duration: float
    """As mutagen reads it back from the file."""
    bytes: int


def export_mp3(timeline: Timeline, path: Path, progress: ProgressFn | None = None) -> ExportResult:
    """Write the whole session as one mono MP3 at the clips' rate (48 kbps), check it reads."""
    import mutagen.mp3

    path = Path(path)
    if not path.parent.is_dir():
        raise PlayerError(f"cannot write {path}: {path.parent} is not a directory")
    samples, rate = decode_files(timeline.files(), progress)
    whole = mix(timeline, samples, rate, 0, round(timeline.total * rate))
    if progress:
        progress("encoding", 0, 1)
    data = encode_mp3(Pcm(whole, rate))
    if progress:
        progress("encoding", 1, 1)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise PlayerError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    try:
        length = float(mutagen.mp3.MP3(path).info.length)
    except mutagen.MutagenError as exc:  # pragma: no cover - encode_mp3 is tested
        raise PlayerError(f"{path} does not read back as MP3: {exc}") from None
    return ExportResult(path, length, len(data))


# --------------------------------------------------------------------------------- player


@dataclass(frozen=True)
class PlayerState:
    """Where interactive play is: the timelines of both modes, the one playing, the position."""

    timelines: Mapping[str, Timeline]
    mode: Mode
    position: float = 0.0
    paused: bool = False
    quit: bool = False

    @property
    def timeline(self) -> Timeline:
        return self.timelines[self.mode]

    @property
    def finished(self) -> bool:
        return self.position >= self.timeline.total

    @property
    def section(self) -> Section:
        tl = self.timeline
        return tl.sections[tl.section_index_at(self.position)]


def _map_section(key: SectionKey, timeline: Timeline) -> Section:
    """The section of another timeline that matches ``key``: the same segment, else the last
    segment before it (a variation maps to its pose), else the first."""
    if key in (WELCOME, CLOSING):
        match = [s for s in timeline.sections if s.key == key]
    else:
        match = [s for s in timeline.sections if isinstance(s.key, int) and s.key <= key]
    return match[-1] if match else timeline.sections[0]


def handle_key(state: PlayerState, key: str) -> PlayerState:
    """A key's effect: n next, b back, r repeat, f flow, h hold, space pause, q quit."""
    key = key.lower()
    tl = state.timeline
    if state.quit or not tl.sections:
        return state
    index = tl.section_index_at(state.position)
    current = tl.sections[index]
    if key == "q":
        return replace(state, quit=True)
    if key == " ":
        return replace(state, paused=not state.paused)
    if key == "n":
        following = tl.sections[index + 1].start if index + 1 < len(tl.sections) else tl.total
        return replace(state, position=following)
    if key == "r":
        return replace(state, position=current.start)
    if key == "b":
        if state.position - current.start > BACK_GRACE_S or index == 0:
            return replace(state, position=current.start)
        return replace(state, position=tl.sections[index - 1].start)
    if key in ("f", "h"):
        mode: Mode = "flow" if key == "f" else "hold"
        if mode == state.mode or mode not in state.timelines:
            return state
        if state.finished:
            return replace(state, mode=mode, position=state.timelines[mode].total)
        target = _map_section(current.key, state.timelines[mode])
        return replace(state, mode=mode, position=target.start)
    return state


def advance(state: PlayerState, seconds: float) -> PlayerState:
    """Play on for ``seconds`` (not while paused, nor past the end)."""
    if state.paused or state.quit or state.finished:
        return state
    return replace(state, position=min(state.timeline.total, state.position + seconds))


def status_line(state: PlayerState) -> str:
    """The live display: where, doing what, time left (and paused)."""
    tl = state.timeline
    if not tl.cues:
        return ""
    left = clock(tl.total - state.position) + " left"
    if state.finished:
        return f"finished | {clock(tl.total)}"
    cue = tl.cue_at(state.position)
    parts = [cue.where, cue.doing_at(state.position - cue.start), f"{state.mode} mode", left]
    if state.paused:
        parts.append("paused")
    return " | ".join(p for p in parts if p)


def resume_hint(state: PlayerState, coach: Coach) -> str:
    """How to carry on from here another time."""
    key = state.section.key
    if not isinstance(key, int):
        return ""
    part = coach.part(coach.segments[key])
    breaths = state.timeline.breaths
    more = f" --breaths {breaths}" if breaths != DEFAULT_BREATHS else ""
    return f"yoga-skill play --mode {state.mode}{more} --from {part.id}"


class Device(Protocol):
    def start(self, callback_generator: Any) -> None: ...

    def close(self) -> None: ...


DeviceFactory = Callable[[int], Device]


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2: ALSA's C library writes its complaints straight to it."""
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover - no fd 2 at all
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_NULL_SINKS = ("discard all samples", "null")


def open_device(sample_rate: int) -> Device:
    """The default playback device, mono 16-bit; :class:`NoAudioDevice` if there is none (no
    devices, only ALSA's "discard all samples" sink, or miniaudio's null backend)."""
    import miniaudio

    with _quiet_stderr():
        try:
            listed = miniaudio.Devices().get_playbacks()
        except miniaudio.MiniaudioError:
            listed = []
        real = [d for d in listed if not str(d.get("name", "")).lower().startswith(_NULL_SINKS)]
        if not real:
            raise NoAudioDevice(NO_DEVICE)
        try:
            device = miniaudio.PlaybackDevice(
                output_format=miniaudio.SampleFormat.SIGNED16,
                nchannels=1,
                sample_rate=sample_rate,
                buffersize_msec=100,
            )
        except miniaudio.MiniaudioError:
            raise NoAudioDevice(NO_DEVICE) from None
    if str(getattr(device, "backend", "")).lower() == "null":
        device.close()
        raise NoAudioDevice(NO_DEVICE)
    return device


class TerminalKeys:
    """Single keys from stdin without Enter (cbreak mode) while in use, if stdin is a TTY;
    the terminal's settings are put back on leaving, however that happens."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdin
        self._saved: Any = None
        self._fd = -1

    def __enter__(self) -> TerminalKeys:
        try:
            if self.stream.isatty():
                import termios
                import tty

                self._fd = self.stream.fileno()
                self._saved = termios.tcgetattr(self._fd)
                tty.setcbreak(self._fd)
        except (OSError, ValueError, ImportError):
            self._saved = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def read(self, timeout: float) -> str:
        """A key, or "" if none came within ``timeout`` seconds (or there are no keys)."""
        if self._saved is None:
            time.sleep(timeout)
            return ""
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return ""
        return os.read(self._fd, 32).decode("utf-8", "ignore")[:1]


KEYS_HELP = "keys: n next  b back  r repeat  f flow  h hold  space pause  q quit"


def play(
    timelines: Mapping[str, Timeline],
    mode: Mode,
    *,
    device_factory: DeviceFactory | None = None,
    keys: TerminalKeys | None = None,
    out: TextIO | None = None,
    coach: Coach | None = None,
) -> PlayerState:
    """Play a session through the audio device until it ends or ``q``; the final state.

    The device is opened (``device_factory(sample_rate)``, by default :func:`open_device`)
    before the clips are decoded, so a machine without one fails at once.
    """
    import miniaudio

    out = out if out is not None else sys.stdout
    files = list(dict.fromkeys(f for tl in timelines.values() for f in tl.files()))
    if not files:
        raise PlayerError("the session has no clips")
    rate = _read_clip(files[0]).sample_rate
    device = (device_factory or open_device)(rate)
    tty = bool(getattr(out, "isatty", lambda: False)())
    shown, drawn = 0, ""
    try:
        samples, rate = decode_files(files, rate=rate)
        lock = threading.Lock()
        shared = [PlayerState(timelines, mode)]

        def feed() -> Iterator[np.ndarray]:
            count = yield np.zeros(0, dtype=np.int16)
            while True:
                with lock:
                    state = shared[0]
                    shared[0] = advance(state, count / rate)
                if state.paused or state.quit or state.finished:
                    chunk = np.zeros(count, dtype=np.int16)
                else:
                    chunk = mix(state.timeline, samples, rate, round(state.position * rate), count)
                count = yield chunk

        generator = feed()
        next(generator)
        try:
            device.start(generator)
        except miniaudio.MiniaudioError:
            raise NoAudioDevice(NO_DEVICE) from None
        out.write(KEYS_HELP + "\n")
        out.flush()
        with keys or TerminalKeys() as reader:
            while True:
                key = reader.read(0.2)
                with lock:
                    if key:
                        shared[0] = handle_key(shared[0], key)
                    state = shared[0]
                line = status_line(state)[: _terminal_width() - 1]
                if tty and line != drawn:
                    out.write("\r" + line.ljust(shown))
                    shown, drawn = len(line), line
                    out.flush()
                if state.quit or state.finished:
                    break
        time.sleep(0.15)  # let the device's buffer play out
    finally:
        device.close()
        if shown:
            out.write("\n")
            out.flush()
    if state.quit and coach is not None and resume_hint(state, coach):
        out.write(f"to carry on from here later: {resume_hint(state, coach)}\n")
    return state


def _read_clip(path: Path) -> Pcm:
    try:
        return decode_mp3(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise PlayerError(f"cannot read clip {path.name}: {exc}") from None


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((80, 24)).columns


__all__ = [
    "BACK_GRACE_S",
    "KEYS_HELP",
    "NO_DEVICE",
    "UNHEARD",
    "Clip",
    "Cue",
    "Device",
    "DeviceFactory",
    "ExportResult",
    "NoAudioDevice",
    "PlayerError",
    "PlayerState",
    "Section",
    "Session",
    "TerminalKeys",
    "Timeline",
    "advance",
    "build_timeline",
    "clock",
    "decode_files",
    "expected_hold_pause",
    "export_mp3",
    "format_timeline",
    "handle_key",
    "load_clips",
    "missing_files",
    "mix",
    "open_device",
    "part_ids",
    "play",
    "resolve_part",
    "resume_hint",
    "session_turns",
    "status_line",
]
