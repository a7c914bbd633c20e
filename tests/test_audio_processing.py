"""Trim, loudness, true peak, resampling, MP3 encode/decode and the Alexa clip rules."""

from __future__ import annotations

import math

import lameenc
import mutagen.mp3
import numpy as np
import pytest
from alexa_limits import check_clip

from skill.audio import processing as proc
from skill.audio.mp3check import ALLOWED_SAMPLE_RATES, iter_frames, read_info
from skill.audio.processing import Pcm


def tone(
    seconds: float, rate: int = 24000, freq: float = 440.0, dbfs: float = -6.0, phase: float = 0
) -> Pcm:
    t = np.arange(round(seconds * rate)) / rate
    return Pcm.from_float(10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t + phase), rate)


def lame(pcm_bytes: bytes, rate: int, kbps: int = 48, channels: int = 1) -> bytes:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(kbps)
    encoder.set_in_sample_rate(rate)
    encoder.set_out_sample_rate(rate)
    encoder.set_channels(channels)
    encoder.set_quality(7)
    return bytes(encoder.encode(pcm_bytes)) + bytes(encoder.flush())


def peak_dbfs(pcm: Pcm) -> float:
    peak = int(np.max(np.abs(pcm.samples.astype(np.int32)))) if len(pcm) else 0
    return 20 * math.log10(peak / 32767) if peak else -math.inf


# --- trim ---------------------------------------------------------------------------------


def test_trim_removes_silence_added_around_a_tone():
    rate = 24000
    rng = np.random.default_rng(1)
    body = tone(1.0, rate)
    noise = lambda s: (rng.normal(0, 3, round(s * rate))).astype(np.int16)  # noqa: E731
    padded = Pcm(np.concatenate([noise(0.8), body.samples, noise(1.3)]), rate)

    trimmed = proc.trim_silence(padded)

    # the tone plus ~50 ms of padding each side (the 5 ms envelope may add a few ms)
    assert trimmed.duration == pytest.approx(1.0 + 2 * proc.TRIM_PAD_S, abs=0.01)
    start = int(np.flatnonzero(np.abs(trimmed.samples) > 1000)[0])
    assert start / rate == pytest.approx(proc.TRIM_PAD_S, abs=0.005)


def test_trim_keeps_a_clip_without_silence_and_empties_a_silent_one():
    body = tone(0.5)
    assert len(proc.trim_silence(body)) == len(body)
    assert len(proc.trim_silence(proc.silence(1.0, 24000))) == 0
    with pytest.raises(ValueError, match="silent"):
        proc.process(proc.silence(1.0, 24000))


# --- loudness -----------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [48000, 24000, 22050, 16000])
def test_loudness_matches_the_bs1770_reference_tone(rate):
    # EBU Tech 3341: a 997 Hz sine at -20 dBFS (peak) reads -23.0 LUFS in a mono channel.
    assert proc.loudness(tone(5.0, rate, 997.0, -20.0)) == pytest.approx(-23.0, abs=0.1)


def test_loudness_gates_out_silence():
    rate = 24000
    speechy = tone(2.0, rate, 997.0, -20.0)
    with_gaps = proc.concatenate([speechy, 3.0, speechy], rate)
    # ungated, 3 s of silence in 7 s would read 2.4 dB lower
    assert proc.loudness(with_gaps) == pytest.approx(proc.loudness(speechy), abs=0.5)
    assert proc.loudness(proc.silence(1.0, rate)) == -math.inf


def test_normalisation_brings_quiet_and_loud_tones_to_one_loudness():
    quiet = proc.normalize_loudness(tone(2.0, 24000, 300.0, -36.0))
    loud = proc.normalize_loudness(tone(2.0, 24000, 300.0, -0.5))
    assert proc.loudness(quiet) == pytest.approx(proc.TARGET_LUFS, abs=0.5)
    assert proc.loudness(loud) == pytest.approx(proc.TARGET_LUFS, abs=0.5)
    assert abs(proc.loudness(quiet) - proc.loudness(loud)) < 1.0
    assert peak_dbfs(quiet) <= proc.PEAK_CEILING_DBFS + 0.01


def test_true_peak_finds_the_peak_between_samples():
    # A quarter-rate sine sampled 45 degrees off its crests: every sample reads 0.707 of the
    # peak (-3 dB), the waveform between them reaches it.
    rate = 24000
    x = 0.9 * np.sin(2 * np.pi * (rate / 4) * np.arange(rate) / rate + np.pi / 4)
    pcm = Pcm.from_float(x, rate)
    assert peak_dbfs(pcm) == pytest.approx(20 * math.log10(0.9) - 3.01, abs=0.05)
    assert proc.true_peak_dbtp(pcm) == pytest.approx(20 * math.log10(0.9), abs=0.1)
    assert proc.true_peak_dbtp(proc.silence(1.0, rate)) == -math.inf
    assert proc.true_peak_dbtp(Pcm(np.zeros(0, np.int16), rate)) == -math.inf


def test_a_clip_keeps_under_minus_1_dbtp_as_decoded_and_at_the_loudness_target():
    # Clipped, buzzy speech-like pulses: LAME's ringing lifts their peaks between samples.
    rate = 24000
    t = np.arange(2 * rate) / rate
    buzz = np.clip(3 * np.sign(np.sin(2 * np.pi * 140 * t)) * np.sin(2 * np.pi * 3 * t), -1, 1)
    for pcm in (Pcm.from_float(buzz, rate), tone(2.0, rate, 997.0, -0.1)):
        delivered = proc.decode_mp3(proc.make_clip(pcm))
        assert proc.true_peak_dbtp(delivered) <= proc.TRUE_PEAK_DBTP
        assert proc.loudness(delivered) == pytest.approx(proc.TARGET_LUFS, abs=0.25)


def test_a_clip_that_cannot_keep_to_the_true_peak_is_refused(monkeypatch):
    monkeypatch.setattr(proc, "ENCODE_ROUNDS", 2)
    speechy = tone(1.0, 24000, 300.0, -3.0)
    with pytest.raises(ValueError, match="true peak under -30 dBTP"):
        proc.encode_delivered(speechy, true_peak=-30.0)  # 14 dB under the loudness: too far


def test_loudness_of_a_clip_shorter_than_one_gating_block():
    # 0.2 s of the reference tone reads as the tone does: measured as if repeated
    short = tone(0.2, 24000, 997.0, -20.0)
    assert proc.loudness(short) == pytest.approx(-23.0, abs=0.2)


def test_peaks_are_limited_without_losing_the_loudness_target():
    rate = 24000
    rng = np.random.default_rng(7)
    x = tone(3.0, rate, 200.0, -30.0).to_float()
    spikes = rng.choice(len(x), 40, replace=False)
    x[spikes] = rng.choice([-0.99, 0.99], 40)  # clicks far above the ceiling after gain
    out = proc.normalize_loudness(Pcm.from_float(x, rate))
    assert peak_dbfs(out) <= proc.PEAK_CEILING_DBFS + 0.01
    assert proc.loudness(out) == pytest.approx(proc.TARGET_LUFS, abs=1.0)


def test_limiter_never_exceeds_the_ceiling():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 0.5, 50_000) * np.linspace(0.1, 3.0, 50_000)
    y = proc.limit_peaks(x, 24000, -1.0)
    assert np.max(np.abs(y)) <= 10 ** (-1.0 / 20) + 1e-12
    quiet = x * 0.01
    assert np.array_equal(proc.limit_peaks(quiet, 24000, -1.0), quiet)


# --- resampling and joining ---------------------------------------------------------------


def test_engine_rates_alexa_allows_are_kept_and_others_resampled_to_24k():
    assert proc.output_rate(22050) == 22050
    assert proc.output_rate(16000) == 16000
    assert proc.output_rate(44100) == proc.PREFERRED_SAMPLE_RATE == 24000
    assert proc.process(tone(1.0, 22050)).sample_rate == 22050
    assert proc.process(tone(1.0, 44100)).sample_rate == 24000


def test_resample_keeps_pitch_length_and_level():
    src = tone(2.0, 44100, 1000.0, -6.0)
    out = proc.resample(src, 24000)
    assert out.sample_rate == 24000
    assert len(out) == 48000
    spectrum = np.abs(np.fft.rfft(out.to_float()))
    assert np.argmax(spectrum) * 24000 / len(out) == pytest.approx(1000.0, abs=1.0)
    middle = out.to_float()[2400:-2400]
    assert np.max(np.abs(middle)) == pytest.approx(10 ** (-6 / 20), rel=0.02)


def test_concatenate_joins_clips_and_silences():
    a = tone(1.0, 24000)
    b = tone(0.5, 48000)  # resampled to the first clip's rate
    joined = proc.concatenate([a, 0.25, b, 1.0])
    assert joined.sample_rate == 24000
    assert len(joined) == 24000 + 6000 + 12000 + 24000
    assert not joined.samples[24000:30000].any()
    assert proc.concatenate([0.5], sample_rate=16000).duration == 0.5
    with pytest.raises(ValueError):
        proc.concatenate([0.5])


# --- MP3 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", ALLOWED_SAMPLE_RATES)
def test_encoded_clip_reads_back_as_48kbps_mono_with_its_duration(rate, tmp_path):
    pcm = proc.process(tone(3.0, rate, 330.0, -12.0))
    path = tmp_path / "clip.mp3"
    path.write_bytes(proc.encode_mp3(pcm))

    info = mutagen.mp3.MP3(path).info
    assert info.bitrate == pytest.approx(48000, abs=100)
    assert info.sample_rate == rate
    assert info.channels == 1
    assert info.layer == 3 and info.version == 2
    assert info.bitrate_mode == mutagen.mp3.BitrateMode.CBR  # from our LAME Info tag
    assert info.length == pytest.approx(pcm.duration, rel=0.05)
    assert info.length == pytest.approx(pcm.duration, abs=0.001)  # the tag makes it exact

    ours = read_info(path)
    assert (ours.bitrate, ours.frame_bitrates, ours.has_tag) == (48000, (48000,), True)
    assert check_clip(path) == []


def test_decode_gives_back_every_sample_in_place():
    rate = 24000
    src = tone(1.5, rate, 500.0, -10.0)
    back = proc.decode_mp3(proc.encode_mp3(src))
    assert back.sample_rate == rate
    assert len(back) == len(src)  # LAME delay and padding removed via the tag
    corr = np.corrcoef(src.to_float(), back.to_float())[0, 1]
    assert corr > 0.95  # same waveform, not shifted


def test_decode_reads_mp3_without_a_tag_and_downmixes_stereo():
    rate = 24000
    mono = tone(1.0, rate).samples
    stereo = np.column_stack([mono, mono]).ravel()
    back = proc.decode_mp3(lame(stereo.tobytes(), rate, 64, channels=2))
    assert back.sample_rate == rate
    assert back.duration == pytest.approx(1.0, abs=0.1)
    assert proc.loudness(back) == pytest.approx(proc.loudness(tone(1.0, rate)), abs=1.0)
    with pytest.raises(ValueError):
        proc.decode_mp3(b"")


def test_encode_refuses_rates_alexa_does_not_play():
    with pytest.raises(ValueError, match="44100"):
        proc.encode_mp3(tone(1.0, 44100))


# --- check_clip ---------------------------------------------------------------------------


def test_check_clip_flags_a_128_kbps_file(tmp_path):
    path = tmp_path / "loud.mp3"
    path.write_bytes(lame(tone(2.0, 24000).samples.tobytes(), 24000, kbps=128))
    problems = check_clip(path)
    assert any("128 kbps" in p for p in problems), problems


def test_check_clip_flags_a_stereo_file(tmp_path):
    mono = tone(2.0, 24000).samples
    path = tmp_path / "stereo.mp3"
    path.write_bytes(lame(np.column_stack([mono, mono]).ravel().tobytes(), 24000, channels=2))
    problems = check_clip(path)
    assert any("2 channels" in p for p in problems), problems


def test_check_clip_flags_a_44100_hz_file(tmp_path):
    path = tmp_path / "cd.mp3"
    path.write_bytes(lame(tone(2.0, 44100).samples.tobytes(), 44100))
    problems = check_clip(path)
    assert any("44100 Hz" in p for p in problems), problems
    assert any("MPEG version 1" in p for p in problems), problems


def test_check_clip_flags_an_empty_missing_garbage_or_too_long_file(tmp_path):
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    assert check_clip(empty) == ["file is empty"]
    assert "not found" in check_clip(tmp_path / "nope.mp3")[0]
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(b"not an mp3 at all" * 100)
    assert check_clip(garbage) and "MPEG" in check_clip(garbage)[0]
    long = tmp_path / "long.mp3"
    long.write_bytes(proc.encode_mp3(proc.silence(241.0, 16000)))
    assert any("longer than 240" in p for p in check_clip(long))


def test_check_clip_flags_a_variable_bitrate_stream(tmp_path):
    body = tone(2.0, 24000).samples.tobytes()
    path = tmp_path / "vbr.mp3"
    path.write_bytes(lame(body, 24000, 48) + lame(body, 24000, 64))  # frames at 48 and 64
    problems = check_clip(path)
    assert any("not constant" in p for p in problems), problems


def test_normalisation_boosts_a_near_silent_clip_by_at_most_30_db():
    hiss = tone(2.0, 24000, 300.0, -60.0)
    out = proc.normalize_loudness(hiss)
    assert proc.loudness(out) - proc.loudness(hiss) == pytest.approx(proc.MAX_GAIN_DB, abs=0.2)


def test_check_clip_flags_a_first_frame_alexa_would_read_as_64_kbps(tmp_path):
    # What ffmpeg writes at 24 kHz: its Xing frame needs 169 bytes, so it goes up to 64 kbps,
    # and Alexa answers "The audio is of an unsupported bitrate 64000".
    good = proc.encode_mp3(tone(2.0, 24000))
    first = next(iter_frames(good))
    header = bytearray(good[:4])
    header[2] = (header[2] & 0x0F) | (8 << 4)  # bitrate index 8 = 64 kbps in MPEG-2
    bigger = bytes(header) + good[4 : first.length] + bytes(192 - first.length)
    path = tmp_path / "ffmpeg-style.mp3"
    path.write_bytes(bigger + good[first.length :])
    problems = check_clip(path)
    assert any("first frame at 64 kbps" in p for p in problems), problems
    ok = tmp_path / "ours.mp3"
    ok.write_bytes(good)
    assert read_info(ok).first_frame_bitrate == 48000 and check_clip(ok) == []


@pytest.mark.parametrize("window", [1, 2, 3, 8, 21])
def test_running_minimum_matches_brute_force(window):
    x = np.random.default_rng(window).normal(size=97)
    half = window // 2
    expected = [x[max(0, i - half) : i + half + 1].min() for i in range(len(x))]
    assert np.allclose(proc._moving_min(x, window), expected)


def test_a_made_clip_measures_the_target_loudness_as_delivered():
    # white noise: much of its K-weighted loudness is treble that a 48 kbps MP3 loses
    rate = 24000
    noise = np.random.default_rng(5).normal(0, 0.05, 3 * rate)
    mp3 = proc.make_clip(proc.concatenate([0.3, Pcm.from_float(noise, rate), 0.3]))
    delivered = proc.decode_mp3(mp3)
    assert proc.loudness(delivered) == pytest.approx(proc.TARGET_LUFS, abs=0.3)
    assert delivered.duration == pytest.approx(3.0 + 2 * proc.TRIM_PAD_S, abs=0.01)
