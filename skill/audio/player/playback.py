"""A timeline played on the sound card, with keys to move through it.

Interactive play keeps a :class:`PlayerState` (which mode's timeline, the position in seconds,
paused or not) that the keys change through the pure :func:`handle_key`, and that the audio
callback moves on through :func:`advance`; :func:`~.export.mix` renders any stretch of a timeline.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, TextIO

import numpy as np

from skill.routine.coach import Coach
from skill.routine.state import DEFAULT_BREATHS, Mode

from .export import decode_files, mix, read_clip
from .timeline import (
    PlayerError,
    Section,
    SectionKey,
    Timeline,
    clock,
)

BACK_GRACE_S = 3.0
"""``b`` restarts the current segment when more than this far into it, else goes back one."""

NO_DEVICE = "no audio output device found; try --dry-run or --export FILE.mp3"


class NoAudioDevice(PlayerError):
    """There is no audio output to play to."""


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
    if isinstance(key, str):  # the welcome or the closing
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


class Keys(Protocol):
    """Where the player reads its keys from while in use (:class:`TerminalKeys`, or a script)."""

    def __enter__(self) -> Keys: ...

    def __exit__(self, *exc: object) -> None: ...

    def read(self, timeout: float) -> str: ...


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
            device: Device = miniaudio.PlaybackDevice(
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
    keys: Keys | None = None,
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
    rate = read_clip(files[0]).sample_rate
    device = (device_factory or open_device)(rate)
    tty = bool(getattr(out, "isatty", lambda: False)())
    shown, drawn = 0, ""
    try:
        samples, rate = decode_files(files, rate=rate)
        lock = threading.Lock()
        shared = [PlayerState(timelines, mode)]

        def feed() -> Generator[np.ndarray, int, None]:
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


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((80, 24)).columns
