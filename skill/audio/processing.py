"""Turn synthesised speech into an Alexa-ready clip, and MP3 back into samples.

The chain for every clip (:func:`make_clip`, which is :func:`process` then :func:`encode_mp3`):

1. trim leading and trailing silence, keeping :data:`TRIM_PAD_S` of it on each side;
2. normalise loudness to :data:`TARGET_LUFS` (ITU-R BS.1770-4 integrated loudness, measured by
   pyloudnorm: K-weighting, 400 ms blocks, absolute and relative gates), then limit sample peaks
   to :data:`PEAK_CEILING_DBFS`;
3. resample (soxr) only if the engine's rate isn't one Alexa allows (24,000 Hz stays 24,000 Hz);
4. encode mono CBR 48 kbps MPEG-2 layer III with LAME, opened by a LAME "Info" tag frame (also
   48 kbps, which Alexa insists on) that records the encoder delay and padding, so readers get
   the exact duration and know the stream is CBR (checked: mutagen, miniaudio and LAME's own
   decoder all give back exactly the samples that went in);
5. decode the MP3 and measure what a listener gets: loudness within 0.25 LU of the target and a
   true peak (:func:`true_peak_dbtp`) of at most :data:`TRUE_PEAK_DBTP`. The encoder moves both
   (it low-passes treble that K-weighting counts, and its ringing overshoots the samples' peaks),
   so a clip off either mark is made again with the gain and the limiter's ceiling corrected.

Loudness is pyloudnorm's, resampling soxr's; the rest is numpy, and MP3 decoding miniaudio's (no
ffmpeg needed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import lameenc
import miniaudio
import numpy as np
import pyloudnorm
import soxr

from .mp3check import (
    ALLOWED_SAMPLE_RATES,
    BITRATE_KBPS,
    SAMPLES_PER_FRAME_MPEG2,
    iter_frames,
    parse_header,
)

# Bump when anything below changes what a clip sounds like: it is part of every clip's hash.
PROCESSING_VERSION = 2

PREFERRED_SAMPLE_RATE = 24000
TARGET_LUFS = -16.0
TRUE_PEAK_DBTP = -1.0  # after encoding, as decoded and oversampled
TRUE_PEAK_RATE = 192_000  # oversample to at least this rate to find the true peak
PEAK_CEILING_DBFS = -1.5  # the limiter's first ceiling on sample peaks, lowered if need be
ENCODE_ROUNDS = 5  # encodes at most, to land the loudness and true peak as delivered
MAX_GAIN_DB = 30.0  # never boost a near-silent clip by more than this
TRIM_THRESHOLD_DB = -45.0  # relative to the clip's peak
TRIM_PAD_S = 0.05
LAME_QUALITY = 2  # 0 best .. 9 fastest

# LAME's encoder delay (ENCDELAY), written into the tag; decoders add their own 529 samples.
# tests/test_audio_processing.py checks that a decode gives back every sample, in place.
ENCODER_DELAY = 576


@dataclass(frozen=True, eq=False)
class Pcm:
    """Mono 16-bit PCM: ``samples`` is a 1-D int16 array at ``sample_rate`` Hz."""

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples)
        if samples.ndim != 1:
            raise ValueError(f"Pcm must be mono (1-D), got shape {samples.shape}")
        if samples.dtype != np.int16:
            raise ValueError(f"Pcm samples must be int16, got {samples.dtype}")
        if self.sample_rate <= 0:
            raise ValueError(f"bad sample rate {self.sample_rate}")
        object.__setattr__(self, "samples", samples)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def __len__(self) -> int:
        return len(self.samples)

    @classmethod
    def from_float(cls, samples: np.ndarray, sample_rate: int) -> Pcm:
        """From floats in [-1, 1] (clipped, rounded)."""
        scaled = np.clip(np.rint(np.asarray(samples, dtype=np.float64) * 32767.0), -32768, 32767)
        return cls(scaled.astype(np.int16), sample_rate)

    def to_float(self) -> np.ndarray:
        return self.samples.astype(np.float64) / 32767.0


def processing_settings() -> dict[str, object]:
    """Everything about processing and format that goes into a clip's hash."""
    return {
        "processing_version": PROCESSING_VERSION,
        "codec": "mp3",
        "bitrate_kbps": BITRATE_KBPS,
        "channels": 1,
        "sample_rates": list(ALLOWED_SAMPLE_RATES),
        "preferred_sample_rate": PREFERRED_SAMPLE_RATE,
        "loudness_lufs": TARGET_LUFS,
        "peak_dbfs": PEAK_CEILING_DBFS,
        "true_peak_dbtp": TRUE_PEAK_DBTP,
        "trim_threshold_db": TRIM_THRESHOLD_DB,
        "trim_pad_s": TRIM_PAD_S,
        "lame_quality": LAME_QUALITY,
    }


# --- silence ------------------------------------------------------------------------------


def silence(seconds: float, sample_rate: int) -> Pcm:
    return Pcm(np.zeros(max(0, round(seconds * sample_rate)), dtype=np.int16), sample_rate)


def trim_silence(pcm: Pcm, threshold_db: float = TRIM_THRESHOLD_DB, pad: float = TRIM_PAD_S) -> Pcm:
    """Cut leading/trailing audio quieter than ``threshold_db`` below the peak, keeping ``pad``
    seconds on each side. A clip with nothing above the threshold comes back empty."""
    x = np.abs(pcm.samples.astype(np.int32))
    if len(x) == 0:
        return pcm
    peak = int(x.max())
    if peak == 0:
        return Pcm(pcm.samples[:0], pcm.sample_rate)
    # A 5 ms envelope, so one stray click isn't taken for speech but a soft onset is kept.
    window = max(1, pcm.sample_rate // 200)
    loud = _moving_max(x, window) > peak * 10 ** (threshold_db / 20)
    idx = np.flatnonzero(loud)
    if len(idx) == 0:
        return Pcm(pcm.samples[:0], pcm.sample_rate)
    keep = round(pad * pcm.sample_rate)
    start = max(0, int(idx[0]) - keep)
    stop = min(len(x), int(idx[-1]) + 1 + keep)
    return Pcm(pcm.samples[start:stop].copy(), pcm.sample_rate)


def _moving_max(x: np.ndarray, window: int) -> np.ndarray:
    """max(x[i - window//2 : i + window//2 + 1]) for every i (van Herk / Gil-Werman, O(n))."""
    return -_moving_min(-np.asarray(x, dtype=np.float64), window)


def _moving_min(x: np.ndarray, window: int) -> np.ndarray:
    """Centred running minimum of width ``2 * (window // 2) + 1``."""
    half = window // 2
    if half == 0 or len(x) == 0:
        return np.asarray(x, dtype=np.float64).copy()
    w = 2 * half + 1
    n = len(x)
    blocks = -(-(n + 2 * half) // w)
    padded = np.full(blocks * w, np.inf)
    padded[half : half + n] = x
    grid = padded.reshape(blocks, w)
    prefix = np.minimum.accumulate(grid, axis=1).ravel()
    suffix = np.minimum.accumulate(grid[:, ::-1], axis=1)[:, ::-1].ravel()
    # The window [i, i + w) of padded = suffix at i and prefix at i + w - 1.
    return np.minimum(suffix[:n], prefix[w - 1 : w - 1 + n])


# --- loudness (ITU-R BS.1770-4) and true peak -------------------------------------------


@lru_cache(maxsize=8)
def _meter(rate: int) -> pyloudnorm.Meter:
    return pyloudnorm.Meter(rate)  # K-weighting, 400 ms blocks, 75% overlap, both gates


def loudness(pcm: Pcm) -> float:
    """Integrated loudness in LUFS (BS.1770-4, mono, by pyloudnorm). ``-inf`` for silence.

    A clip shorter than one 400 ms gating block is measured as if repeated to fill one block
    (the mean power of a repetition is the clip's own)."""
    x = pcm.to_float()
    if len(x) == 0 or not np.any(x):
        return -math.inf
    block = math.ceil(0.4 * pcm.sample_rate) + 1
    if len(x) < block:
        x = np.resize(x, block)
    value = float(_meter(pcm.sample_rate).integrated_loudness(x))
    return value if math.isfinite(value) else -math.inf


def true_peak_dbtp(pcm: Pcm) -> float:
    """The true peak in dBTP (BS.1770-4 annex 2): the peak of the signal oversampled (by soxr)
    to at least 192 kHz, where the peaks between samples show. ``-inf`` for silence."""
    if len(pcm) == 0:
        return -math.inf
    factor = max(4, math.ceil(TRUE_PEAK_RATE / pcm.sample_rate))
    x = np.pad(pcm.to_float(), 64)  # room for the peaks that ring out past either end
    peak = float(np.max(np.abs(soxr.resample(x, pcm.sample_rate, pcm.sample_rate * factor, "VHQ"))))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def limit_peaks(
    x: np.ndarray, rate: int, ceiling_db: float = PEAK_CEILING_DBFS, lookahead: float = 0.005
) -> np.ndarray:
    """A look-ahead brick-wall limiter on float samples: no sample ends above ``ceiling_db``.

    The gain each sample needs is held (running minimum over twice the lookahead), then smoothed by
    a ±lookahead moving average, so it ramps down before a peak and back up after it without
    clicks. Every value averaged at a sample is a minimum over a window that contains that
    sample, so the smoothed gain is never more than the sample needs: the ceiling holds.
    """
    ceiling = 10 ** (ceiling_db / 20)
    magnitude = np.abs(x)
    if len(x) == 0 or magnitude.max() <= ceiling:
        return x
    needed = np.minimum(1.0, ceiling / np.maximum(magnitude, 1e-12))
    half = max(1, round(lookahead * rate))
    held = _moving_min(needed, 4 * half + 1)  # covers every sample the box below reaches
    box = 2 * half + 1
    csum = np.concatenate(([0.0], np.cumsum(np.pad(held, half, mode="edge"))))
    smooth = (csum[box:] - csum[:-box]) / box
    limited: np.ndarray = x * np.minimum(smooth, needed)
    return limited


def normalize_loudness(
    pcm: Pcm, target_lufs: float = TARGET_LUFS, ceiling_db: float = PEAK_CEILING_DBFS
) -> Pcm:
    """Gain to ``target_lufs`` (at most :data:`MAX_GAIN_DB` of boost), with peaks limited to
    ``ceiling_db``. Limiting costs loudness, so the gain is raised and the limiter re-run (a
    few rounds at most) until the limited clip is within 0.1 LU of the target."""
    current = loudness(pcm)
    if not math.isfinite(current):
        return pcm
    rate = pcm.sample_rate
    x = pcm.to_float()
    gain_db = min(target_lufs - current, MAX_GAIN_DB)
    for _ in range(4):
        limited = limit_peaks(x * 10 ** (gain_db / 20), rate, ceiling_db)
        short = target_lufs - loudness(Pcm.from_float(limited, rate))
        if short < 0.1 or gain_db >= MAX_GAIN_DB:
            break
        gain_db = min(gain_db + short, MAX_GAIN_DB)
    return Pcm.from_float(limited, rate)


# --- sample rate --------------------------------------------------------------------------


def output_rate(rate: int) -> int:
    """Keep the engine's rate when Alexa allows it, else :data:`PREFERRED_SAMPLE_RATE`."""
    return rate if rate in ALLOWED_SAMPLE_RATES else PREFERRED_SAMPLE_RATE


def resample(pcm: Pcm, rate: int) -> Pcm:
    """Band-limited resampling by soxr (its very high quality setting)."""
    if rate == pcm.sample_rate or len(pcm) == 0:
        return pcm if rate == pcm.sample_rate else Pcm(pcm.samples, rate)
    return Pcm.from_float(soxr.resample(pcm.to_float(), pcm.sample_rate, rate, "VHQ"), rate)


# --- the whole chain ----------------------------------------------------------------------


def process(pcm: Pcm) -> Pcm:
    """Trim, normalise and resample one clip; raises ValueError if nothing audible is left."""
    trimmed = trim_silence(pcm)
    if len(trimmed) == 0:
        raise ValueError("the clip is silent")
    return resample(normalize_loudness(trimmed), output_rate(pcm.sample_rate))


def make_clip(pcm: Pcm, target_lufs: float = TARGET_LUFS) -> bytes:
    """Trim, then :func:`encode_delivered`: an Alexa-ready MP3 of one piece of speech."""
    trimmed = trim_silence(pcm)
    if len(trimmed) == 0:
        raise ValueError("the clip is silent")
    return encode_delivered(trimmed, target_lufs)


def make_joined_clip(parts: Iterable[Pcm | float], target_lufs: float = TARGET_LUFS) -> bytes:
    """One clip of several :func:`process`-ed pieces and seconds of silence between them, at the
    same loudness as every other clip (the loudness gate leaves the silences out)."""
    joined = concatenate(parts)
    if len(joined) == 0 or not np.any(joined.samples):
        raise ValueError("the clip is silent")
    return encode_delivered(joined, target_lufs)


def encode_delivered(
    pcm: Pcm, target_lufs: float = TARGET_LUFS, true_peak: float = TRUE_PEAK_DBTP
) -> bytes:
    """Normalise, limit, resample and encode ``pcm``, then check the MP3 as decoded: no true
    peak above ``true_peak`` dBTP, and within 0.25 LU of ``target_lufs``.

    At 48 kbps LAME low-passes the treble that K-weighting counts extra (a clip comes out
    ~0.5-1 LU quieter than it went in) and its ringing lifts peaks between and on samples
    (by up to ~1 dB on speech), so each miss is measured and made up: the gain by the loudness
    missing, the limiter's ceiling lowered by the true peak's excess. The true peak is a rule:
    ValueError if :data:`ENCODE_ROUNDS` encodes can't keep to it. The loudness is the nearest
    of those encodes that keep to it (a clip of one or two sharp syllables may end a few
    tenths of a LU short, its peaks limited as far as the ceiling allows).
    """
    rate = output_rate(pcm.sample_rate)
    gain_target, ceiling = target_lufs, PEAK_CEILING_DBFS
    best: tuple[float, bytes] | None = None
    peak = -math.inf
    for _ in range(ENCODE_ROUNDS):
        mp3 = encode_mp3(resample(normalize_loudness(pcm, gain_target, ceiling), rate))
        delivered = decode_mp3(mp3)
        error = target_lufs - loudness(delivered)
        peak = true_peak_dbtp(delivered)
        miss = abs(error) if math.isfinite(error) else 0.0
        if peak <= true_peak:
            if best is None or miss < best[0]:
                best = (miss, mp3)
            if miss <= 0.25:
                break
        else:
            ceiling -= peak - true_peak + 0.1
        if miss > 0.25:
            gain_target += error
    if best is None:
        raise ValueError(
            f"cannot keep the true peak under {true_peak:g} dBTP after encoding "
            f"({peak:.2f} dBTP at a ceiling of {ceiling:.2f} dBFS)"
        )
    return best[1]


def concatenate(parts: Iterable[Pcm | float], sample_rate: int | None = None) -> Pcm:
    """Join clips and silences (a float is that many seconds of silence) into one Pcm.

    Clips at another rate are resampled to ``sample_rate`` (default: the first clip's rate).
    """
    items = list(parts)
    if sample_rate is None:
        rates = [p.sample_rate for p in items if isinstance(p, Pcm)]
        if not rates:
            raise ValueError("concatenate needs a sample_rate when there are no clips")
        sample_rate = rates[0]
    chunks = []
    for part in items:
        if isinstance(part, Pcm):
            chunks.append(resample(part, sample_rate).samples)
        else:
            if part < 0:
                raise ValueError(f"negative silence: {part}")
            chunks.append(silence(float(part), sample_rate).samples)
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    return Pcm(samples.astype(np.int16, copy=False), sample_rate)


# --- MP3 ----------------------------------------------------------------------------------


def encode_mp3(pcm: Pcm) -> bytes:
    """Mono CBR 48 kbps MP3 (MPEG-2 layer III) with a LAME Info tag; rate must be allowed."""
    if pcm.sample_rate not in ALLOWED_SAMPLE_RATES:
        raise ValueError(f"{pcm.sample_rate} Hz is not an Alexa rate; resample first")
    if len(pcm) == 0:
        raise ValueError("nothing to encode")
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(BITRATE_KBPS)
    encoder.set_in_sample_rate(pcm.sample_rate)
    encoder.set_out_sample_rate(pcm.sample_rate)  # else LAME may pick a rate of its own
    encoder.set_channels(1)
    encoder.set_quality(LAME_QUALITY)
    stream = bytes(encoder.encode(pcm.samples.tobytes())) + bytes(encoder.flush())
    return _info_frame(stream, len(pcm)) + stream


_CRC16_TABLE: list[int] = []


def _crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC (poly 0x8005, reflected), as LAME uses for its tag."""
    if not _CRC16_TABLE:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
            _CRC16_TABLE.append(c)
    table = _CRC16_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def _info_frame(stream: bytes, n_samples: int) -> bytes:
    """A silent first frame carrying a Xing "Info" + LAME tag for ``stream``, as LAME writes
    for CBR, so readers know the exact length (encoder delay and padding) and that it's CBR.

    The full tag (169 bytes) doesn't fit in a 48 kbps MPEG-2 frame (144 bytes at 24 kHz), so
    ffmpeg writes its tag frame at 64 kbps, and Alexa has been reported to refuse such files
    ("The audio is of an unsupported bitrate 64000"): it seems to go by the first frame. This
    tag leaves out the 100-byte seek table (useless for CBR; its flag says it's absent) and
    so stays at 48 kbps like every other frame.
    """
    frames = list(iter_frames(stream))
    if not frames:
        raise ValueError("LAME produced no MP3 frames")
    first = frames[0]
    header = bytearray(stream[first.offset : first.offset + 4])
    header[1] |= 0b0000_0001  # no CRC
    header[2] &= 0b1111_1101  # no padding byte; same bitrate and rate as the audio frames
    info = parse_header(bytes(header))
    tag_at = 4 + first.side_info_size
    needed = tag_at + 20 + 36  # "Info", flags, frames, bytes, quality; LAME extension
    if info is None or info.length < needed:  # pragma: no cover - 48 kbps mono always fits
        raise ValueError("the Info tag does not fit in one frame")
    frame = bytearray(info.length)
    frame[:4] = header
    total_bytes = len(frame) + len(stream)
    padding = len(frames) * SAMPLES_PER_FRAME_MPEG2 - ENCODER_DELAY - n_samples
    body = bytearray()
    body += b"Info"
    body += (0x0B).to_bytes(4, "big")  # frames, bytes and quality fields; no seek table
    body += len(frames).to_bytes(4, "big")
    body += total_bytes.to_bytes(4, "big")
    body += (100 - LAME_QUALITY).to_bytes(4, "big")  # LAME's quality field
    lame = bytearray(b"LAME3.100")
    lame.append(0x01)  # tag revision 0, method 1 = CBR
    lame.append(0)  # lowpass unknown
    lame += bytes(4)  # peak unknown
    lame += bytes(4)  # no ReplayGain
    lame.append(0)  # encoding flags, ATH type
    lame.append(BITRATE_KBPS)
    lame += ((ENCODER_DELAY << 12) | min(max(0, padding), 0xFFF)).to_bytes(3, "big")
    lame.append(0)  # source rate <= 32 kHz, mono, no noise shaping
    lame.append(0)  # MP3 gain
    lame += bytes(2)  # surround, preset
    lame += total_bytes.to_bytes(4, "big")  # music length: this frame to the end
    lame += _crc16(stream).to_bytes(2, "big")  # music CRC: the audio frames
    body += lame
    frame[tag_at : tag_at + len(body)] = body
    crc_at = tag_at + len(body)
    frame[crc_at : crc_at + 2] = _crc16(bytes(frame[:crc_at])).to_bytes(2, "big")
    return bytes(frame)


def decode_mp3(data: bytes) -> Pcm:
    """Decode MP3 bytes to mono Pcm at the file's own rate (stereo is averaged).

    miniaudio (dr_mp3) honours a LAME tag's delay and padding, so :func:`encode_mp3` then this
    gives back exactly as many samples as went in, in place. Files without a tag (gTTS's) come
    out with the encoder's and decoder's delay at the start, as any player plays them.
    """
    if not data:
        raise ValueError("no MP3 data")
    try:
        decoded = miniaudio.mp3_read_s16(bytes(data))
    except miniaudio.DecodeError as exc:
        raise ValueError(f"cannot decode MP3: {exc}") from None
    samples = np.frombuffer(decoded.samples, dtype=np.int16)
    if decoded.nchannels > 1:
        frames = samples.reshape(-1, decoded.nchannels).astype(np.int32)
        samples = frames.mean(axis=1).round().astype(np.int16)
    return Pcm(np.array(samples, dtype=np.int16), decoded.sample_rate)
