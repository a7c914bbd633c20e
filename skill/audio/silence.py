"""The silent streams that Alexa's audio player plays for the timeline's pauses (a tool).

``python -m skill.audio.silence [AUDIO_DIR]`` writes ``audio/silence/<ms>.mp3`` for each length
of :data:`skill.audio.queue.SILENCE_MS`, in the clips' own format (mono, 22,050 Hz, CBR 48 kbps
with a LAME tag giving the exact length), and deletes any other file there. Why silent streams
and why these lengths: :mod:`skill.audio.queue`. Needs the ``audio`` extra (lameenc).
"""

from __future__ import annotations

import sys
from pathlib import Path

from skill.audio.processing import PREFERRED_SAMPLE_RATE, encode_mp3, silence
from skill.audio.queue import SILENCE_DIR, SILENCE_MS, silence_path
from skill.resources import AUDIO_DIR


def silent_mp3(ms: int) -> bytes:
    """``ms`` milliseconds of digital silence as an MP3 in the clips' format."""
    return encode_mp3(silence(ms / 1000, PREFERRED_SAMPLE_RATE))


def write_silences(audio_dir: Path = AUDIO_DIR) -> list[Path]:
    """Write every silent stream the queue uses, and remove any other file in their folder;
    the files written, in order."""
    folder = Path(audio_dir) / SILENCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for ms in SILENCE_MS:
        path = Path(audio_dir) / silence_path(ms)
        path.write_bytes(silent_mp3(ms))
        written.append(path)
    for path in folder.iterdir():
        if path not in written:
            path.unlink()
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    for path in write_silences(Path(args[0]) if args else AUDIO_DIR):
        print(f"{path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":  # pragma: no cover - the command line
    raise SystemExit(main())
