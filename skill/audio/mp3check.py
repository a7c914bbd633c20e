"""Read an MP3 back and check it against Alexa's rules for SSML ``<audio>`` clips.

Alexa plays an ``<audio src="..."/>`` only if the file is MPEG-2 layer III, 48 kbps, 22,050,
24,000 or 16,000 Hz and at most 240 seconds long. :func:`check_info` lists every rule a file
breaks (an empty list means Alexa will take it); :func:`read_info` gives the facts the
manifest records. Mutagen reads the stream info; a walk over every frame header checks that the
bitrate really is constant, since a file without a LAME/Xing tag says nothing about that.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mutagen.mp3

BITRATE_KBPS = 48
ALLOWED_SAMPLE_RATES = (24000, 22050, 16000)
MAX_DURATION_S = 240.0
SAMPLES_PER_FRAME_MPEG2 = 576

# Per (MPEG version id bits, layer bits): kbps for each bitrate index. Layer III only.
_BITRATES_L3 = {
    1.0: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2.0: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_BITRATES_L3[2.5] = _BITRATES_L3[2.0]
_SAMPLE_RATES = {1.0: (44100, 48000, 32000), 2.0: (22050, 24000, 16000), 2.5: (11025, 12000, 8000)}
_VERSIONS = {0b00: 2.5, 0b10: 2.0, 0b11: 1.0}
_MONO = 0b11


@dataclass(frozen=True)
class FrameHeader:
    """One MPEG audio frame header, as found at ``offset`` in the file."""

    offset: int
    version: float
    layer: int
    bitrate: int  # bits per second
    sample_rate: int
    padding: bool
    channels: int
    length: int  # bytes, header included

    @property
    def samples(self) -> int:
        if self.layer == 1:
            return 384
        if self.layer == 3 and self.version != 1.0:
            return 576
        return 1152

    @property
    def side_info_size(self) -> int:
        """Bytes of layer III side information after the 4-byte header (no CRC)."""
        if self.version == 1.0:
            return 17 if self.channels == 1 else 32
        return 9 if self.channels == 1 else 17


def parse_header(data: bytes | memoryview, offset: int = 0) -> FrameHeader | None:
    """The frame header at ``offset``, or None if there is no valid one there."""
    if offset + 4 > len(data):
        return None
    b0, b1, b2, b3 = data[offset : offset + 4]
    if b0 != 0xFF or (b1 & 0xE0) != 0xE0:
        return None
    version = _VERSIONS.get((b1 >> 3) & 0b11)
    layer = 4 - ((b1 >> 1) & 0b11)
    bitrate_index = b2 >> 4
    rate_index = (b2 >> 2) & 0b11
    if version is None or layer == 4 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    padding = bool((b2 >> 1) & 1)
    channels = 1 if (b3 >> 6) == _MONO else 2
    sample_rate = _SAMPLE_RATES[version][rate_index]
    if layer == 3:
        kbps = _BITRATES_L3[version][bitrate_index]
        per_frame = 144 if version == 1.0 else 72
        length = per_frame * kbps * 1000 // sample_rate + padding
    else:  # layers I and II only get far enough here to be reported as the wrong layer
        kbps = 0
        length = 0
    return FrameHeader(offset, version, layer, kbps * 1000, sample_rate, padding, channels, length)


def _skip_id3v2(data: bytes) -> int:
    offset = 0
    while data[offset : offset + 3] == b"ID3" and len(data) >= offset + 10:
        size = 0
        for byte in data[offset + 6 : offset + 10]:
            size = (size << 7) | (byte & 0x7F)
        footer = 10 if data[offset + 5] & 0x10 else 0
        offset += 10 + size + footer
    return offset


def iter_frames(data: bytes) -> Iterator[FrameHeader]:
    """Every frame from the first valid header on, stopping at the first gap (e.g. ID3v1)."""
    offset = _skip_id3v2(data)
    # Find the first header that is followed by another valid header (or the end).
    while offset < len(data):
        header = parse_header(data, offset)
        if header is not None and header.length > 0:
            following = offset + header.length
            if following >= len(data) or parse_header(data, following) is not None:
                break
        offset = data.find(b"\xff", offset + 1)
        if offset < 0:
            return
    while True:
        header = parse_header(data, offset)
        if header is None or header.length <= 0 or offset + header.length > len(data):
            return
        yield header
        offset += header.length


def tag_of(data: bytes, frame: FrameHeader) -> bytes | None:
    """``b"Xing"`` or ``b"Info"`` if ``frame`` carries that VBR/LAME tag instead of audio."""
    at = frame.offset + 4 + frame.side_info_size
    tag = data[at : at + 4]
    return tag if tag in (b"Xing", b"Info") else None


@dataclass(frozen=True)
class Mp3Info:
    """What reading an MP3 back tells: mutagen's stream info plus a walk over all frames."""

    bitrate: int  # bits per second: the frames' own when they all agree, else mutagen's average
    sample_rate: int
    length: float  # seconds; exact when the file has a LAME tag with delay and padding
    channels: int
    version: float  # MPEG version: 1, 2 or 2.5
    layer: int
    bitrate_mode: str  # mutagen's: CBR, VBR, ABR or UNKNOWN (no tag to say)
    frame_bitrates: tuple[int, ...]  # the distinct bitrates of all frames (tag too), sorted
    first_frame_bitrate: int  # what Alexa reads: the tag frame's, if there is one
    audio_frames: int
    has_tag: bool  # a Xing/Info (LAME) tag frame opens the stream
    bytes: int


def read_info(source: str | Path | bytes) -> Mp3Info:
    """Read an MP3 file (or its bytes). Raises ValueError if it is empty or not MPEG audio."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if not data:
        raise ValueError("file is empty")
    try:
        info = mutagen.mp3.MP3(io.BytesIO(data)).info
    except mutagen.MutagenError as exc:
        raise ValueError(f"not an MPEG audio file: {exc}") from None
    frames = list(iter_frames(data))
    has_tag = bool(frames) and tag_of(data, frames[0]) is not None
    audio = frames[1:] if has_tag else frames
    mode = {0: "UNKNOWN", 1: "CBR", 2: "VBR", 3: "ABR"}.get(int(info.bitrate_mode), "UNKNOWN")
    bitrates = tuple(sorted({f.bitrate for f in frames}))
    return Mp3Info(
        bitrate=bitrates[0] if len(bitrates) == 1 else int(info.bitrate),
        sample_rate=int(info.sample_rate),
        length=float(info.length),
        channels=int(info.channels),
        version=float(info.version),
        layer=int(info.layer),
        bitrate_mode=mode,
        frame_bitrates=bitrates,
        first_frame_bitrate=frames[0].bitrate if frames else 0,
        audio_frames=len(audio),
        has_tag=has_tag,
        bytes=len(data),
    )


def check_info(info: Mp3Info) -> list[str]:
    """The rules that a clip described by ``info`` breaks."""
    problems: list[str] = []
    if info.layer != 3:
        problems.append(f"MPEG layer {info.layer}, expected layer III")
    if info.version != 2.0:
        problems.append(f"MPEG version {info.version:g}, expected MPEG-2")
    if info.sample_rate not in ALLOWED_SAMPLE_RATES:
        allowed = ", ".join(str(r) for r in ALLOWED_SAMPLE_RATES)
        problems.append(f"sample rate {info.sample_rate} Hz, expected one of {allowed}")
    if round(info.bitrate / 1000) != BITRATE_KBPS:
        problems.append(f"bitrate {info.bitrate / 1000:g} kbps, expected {BITRATE_KBPS} kbps")
    if info.bitrate_mode in ("VBR", "ABR") or len(info.frame_bitrates) > 1:
        kbps = "/".join(f"{b // 1000}" for b in info.frame_bitrates)
        problems.append(f"bitrate is not constant ({info.bitrate_mode}, frames at {kbps} kbps)")
    first = info.first_frame_bitrate // 1000
    if info.first_frame_bitrate and first != BITRATE_KBPS and round(info.bitrate / 1000) == 48:
        # e.g. ffmpeg's Xing frame at 24 kHz: Alexa goes by the first frame and refuses
        problems.append(f"first frame at {first} kbps, expected {BITRATE_KBPS} kbps")
    if info.channels != 1:
        problems.append(f"{info.channels} channels, expected mono")
    if info.length <= 0 or info.audio_frames == 0:
        problems.append("no audio (length 0 s)")
    elif info.length > MAX_DURATION_S:
        problems.append(f"length {info.length:.1f} s, longer than {MAX_DURATION_S:g} s")
    return problems
