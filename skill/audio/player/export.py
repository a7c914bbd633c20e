"""A timeline mixed down to PCM, and written out as one MP3 for a phone."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skill.audio.processing import Pcm, decode_mp3, encode_mp3, resample

from .timeline import PlayerError, Timeline

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
        pcm = read_clip(path)
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


def read_clip(path: Path) -> Pcm:
    try:
        return decode_mp3(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise PlayerError(f"cannot read clip {path.name}: {exc}") from None
