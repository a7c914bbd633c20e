"""TTS engines: hibari and piper for real, gTTS with only its HTTP send faked.

gTTS is faked at ``requests.Session.send``, the one call where gTTS hands a prepared HTTP
request to the network: its tokenising, request building and response parsing all run for
real, against a response in the format Google's batchexecute endpoint returns.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import urllib.parse

import lameenc
import numpy as np
import pytest
import requests

from skill.audio import processing as proc
from skill.audio.engines import (
    Engine,
    EngineUnavailable,
    GttsEngine,
    HibariEngine,
    PiperEngine,
    engine_by_name,
    joe_voice_paths,
)


@pytest.fixture(scope="module")
def piper() -> PiperEngine:
    engine = PiperEngine()
    engine.load()
    return engine


# --- piper --------------------------------------------------------------------------------


def test_joe_voice_ships_in_its_package():
    model, config = joe_voice_paths()
    assert model.is_file() and model.suffix == ".onnx"
    assert json.loads(config.read_text())["audio"]["sample_rate"] == 22050


def test_piper_speaks_a_cue(piper):
    started = time.perf_counter()
    pcm = piper.synthesize("Inhale, lift your heart")
    elapsed = time.perf_counter() - started

    assert pcm.sample_rate == 22050
    assert pcm.samples.dtype == np.int16
    # five syllables or so: about a second and a half of speech
    assert 0.7 < pcm.duration < 4.0
    assert proc.loudness(pcm) > -35.0  # speech, not silence or hiss
    assert np.abs(pcm.samples).max() > 10_000
    assert elapsed < 5.0  # ~0.1 s on 2 cores


def _longest_inner_silence(pcm) -> float:
    """Seconds of the longest quiet stretch between the first and last sound (20 ms windows)."""
    window = pcm.sample_rate // 50
    frames = pcm.samples[: len(pcm.samples) // window * window].astype(float).reshape(-1, window)
    loud = np.sqrt((frames**2).mean(axis=1)) > 0.02 * np.abs(pcm.samples).max()
    sounding = np.flatnonzero(loud)
    longest = run = 0
    for is_loud in loud[sounding[0] : sounding[-1] + 1]:
        run = 0 if is_loud else run + 1
        longest = max(longest, run)
    return longest / 50


def test_piper_puts_a_pause_between_sentences(piper):
    # Piper's voice varies from run to run (its noise is random), so look for the gap itself.
    one = piper.synthesize("Hold it here.")
    two = piper.synthesize("Hold it here. Hold it here.")
    assert _longest_inner_silence(two) >= 0.25
    assert _longest_inner_silence(one) < _longest_inner_silence(two)


def test_piper_engine_is_shared_safely_by_threads(piper):
    results: list[float] = []

    def speak(text: str) -> None:
        results.append(piper.synthesize(text).duration)

    threads = [threading.Thread(target=speak, args=(t,)) for t in ("Breathe in.", "Breathe out.")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and all(d > 0.3 for d in results)


def test_piper_loads_its_voice_lazily_and_describes_it():
    engine = PiperEngine()
    assert engine._voice is None  # nothing loaded until the first clip
    assert isinstance(engine, Engine)
    assert engine.name == "piper"
    assert "en_US-joe-medium" in engine.voice
    settings = engine.settings
    assert settings["model"] == "en_US-joe-medium"
    json.dumps(settings)  # goes into the hash, so must be JSON-able
    with pytest.raises(ValueError):
        engine.synthesize("   ")


def test_piper_with_a_missing_voice_is_unavailable(tmp_path):
    engine = PiperEngine(tmp_path / "missing.onnx")
    with pytest.raises(EngineUnavailable, match="not found"):
        engine.synthesize("Hello.")


# --- hibari -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hibari() -> HibariEngine:
    engine = HibariEngine()
    engine.load()
    return engine


def test_hibari_speaks_a_cue_the_same_way_every_time(hibari):
    started = time.perf_counter()
    pcm = hibari.synthesize("Inhale, lift your heart")
    elapsed = time.perf_counter() - started

    assert pcm.sample_rate == 24000  # an Alexa rate: no resampling
    assert pcm.samples.dtype == np.int16
    assert 0.7 < pcm.duration < 4.0
    assert proc.loudness(pcm) > -35.0
    assert elapsed < 5.0  # ~0.1 s on 2 cores
    # the model's noise is seeded: the same text gives the same samples, so clips re-render
    # only when something changed
    assert np.array_equal(hibari.synthesize("Inhale, lift your heart").samples, pcm.samples)


def test_hibari_trims_each_sentence_and_joins_them_with_a_set_pause(hibari):
    one = hibari.synthesize("Hold it here.")
    two = hibari.synthesize("Hold it here. Hold it here.")
    gap = _longest_inner_silence(two)
    assert 0.3 <= gap <= 0.55  # sentence_silence (0.3 s), the trim's 50 ms pads, soft ends
    assert two.duration < 2 * one.duration + 0.45
    tight = HibariEngine(sentence_silence=0.1).synthesize("Hold it here. Hold it here.")
    assert tight.duration == pytest.approx(two.duration - 0.2, abs=0.01)


def test_hibari_engine_is_shared_safely_by_threads(hibari):
    results: dict[str, np.ndarray] = {}

    def speak(text: str) -> None:
        results[text] = hibari.synthesize(text).samples

    texts = ("Breathe in.", "Breathe out.", "And gently release.")
    threads = [threading.Thread(target=speak, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(results[t], hibari.synthesize(t).samples) for t in texts)


def test_hibari_describes_its_voice_and_loads_lazily():
    engine = HibariEngine()
    assert engine._tts is None
    assert isinstance(engine, Engine)
    assert engine.name == "hibari" and engine.alphabet == "misaki"
    assert engine.voice.startswith("hibari heart (af_heart, en-US")
    settings = engine.settings
    assert settings["voice"] == "heart" and settings["seed"] == 0
    json.dumps(settings)
    assert engine.phoneme_markup("Namaste", "nˈɑməstˌA") == "[Namaste](/nˈɑməstˌA/)"  # noqa: RUF001
    with pytest.raises(ValueError):
        engine.synthesize("  ")


def test_hibari_voices_outside_the_wheel_are_unavailable():
    # hibari fetches its other voices from a model hub on first use: never here
    with pytest.raises(EngineUnavailable, match="not in the package"):
        HibariEngine("emma").synthesize("Hello.")
    with pytest.raises(EngineUnavailable, match="not in the package"):
        HibariEngine("nobody").synthesize("Hello.")


# --- gTTS ---------------------------------------------------------------------------------


def google_mp3(seconds: float = 1.0) -> bytes:
    """What Google sends: a small mono 24 kHz MP3 (32 kbps, no LAME tag)."""
    rate = 24000
    t = np.arange(round(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(32)
    encoder.set_in_sample_rate(rate)
    encoder.set_out_sample_rate(rate)
    encoder.set_channels(1)
    return bytes(encoder.encode(samples.tobytes())) + bytes(encoder.flush())


def batchexecute_body(mp3: bytes) -> bytes:
    """Google's batchexecute reply carrying one base64 MP3, as gTTS parses it."""
    compact = {"separators": (",", ":")}
    payload = json.dumps([base64.b64encode(mp3).decode("ascii")], **compact)
    line = json.dumps([["wrb.fr", "jQ1olc", payload, None, None, None, "generic"]], **compact)
    return f")]}}'\n\n{len(line)}\n{line}\n".encode()


class FakeGoogle:
    """Stands in for ``requests.Session.send``; records every request it is handed."""

    def __init__(self, mp3: bytes | None = None, error: Exception | None = None, status=200):
        self.body = batchexecute_body(mp3) if mp3 is not None else b""
        self.error = error
        self.status = status
        self.requests: list[requests.PreparedRequest] = []

    def __call__(self, request, **kwargs):  # set on the class, so no `self` of Session
        self.requests.append(request)
        self.kwargs = kwargs
        if self.error is not None:
            raise self.error
        response = requests.Response()
        response.status_code = self.status
        response.reason = "OK" if self.status == 200 else "Too Many Requests"
        response.raw = io.BytesIO(self.body)
        response.request = request
        response.url = request.url
        return response


def test_gtts_returns_pcm_from_googles_mp3(monkeypatch):
    fake = FakeGoogle(google_mp3(1.0))
    monkeypatch.setattr(requests.Session, "send", fake)

    pcm = GttsEngine().synthesize("Inhale, lift your heart")

    assert pcm.sample_rate == 24000
    assert pcm.duration == pytest.approx(1.0, abs=0.1)
    assert proc.loudness(pcm) > -30.0
    [request] = fake.requests
    assert urllib.parse.urlsplit(request.url).hostname == "translate.google.co.uk"
    form = urllib.parse.unquote(request.body)
    assert "Inhale, lift your heart" in form and '\\"en\\"' in form
    assert fake.kwargs["timeout"] == (5.0, 20.0)  # no waiting forever on a dead network


def test_gtts_joins_the_parts_of_a_long_text(monkeypatch):
    fake = FakeGoogle(google_mp3(0.5))
    monkeypatch.setattr(requests.Session, "send", fake)
    text = (
        "Lie on your back, hug your right knee into your chest, and let your left leg rest "
        "long on the mat. Breathe slowly and let your lower back soften into the floor."
    )
    pcm = GttsEngine().synthesize(text)
    parts = len(fake.requests)
    assert parts >= 2  # gTTS sends at most 100 characters at a time, split at punctuation
    assert pcm.duration == pytest.approx(0.5 * parts, abs=0.1 * parts)


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ConnectionError(
            "HTTPSConnectionPool(host='translate.google.co.uk', port=443): Max retries "
            "exceeded\n(Caused by NameResolutionError('Failed to resolve'))"
        ),
        requests.exceptions.ConnectTimeout("connect timeout=5.0"),
        requests.exceptions.ReadTimeout("read timeout=20.0"),
    ],
    ids=["connection", "connect-timeout", "read-timeout"],
)
def test_gtts_offline_raises_one_line_pointing_at_the_offline_engine(monkeypatch, error):
    fake = FakeGoogle(error=error)
    monkeypatch.setattr(requests.Session, "send", fake)
    started = time.perf_counter()
    with pytest.raises(EngineUnavailable) as caught:
        GttsEngine().synthesize("Inhale, lift your heart")
    message = str(caught.value)
    assert "--engine offline" in message
    assert "\n" not in message and len(message) < 300
    assert len(fake.requests) == 1  # no retries
    assert time.perf_counter() - started < 1.0


def test_gtts_error_status_is_unavailable_too(monkeypatch):
    monkeypatch.setattr(requests.Session, "send", FakeGoogle(b"", status=429))
    with pytest.raises(EngineUnavailable, match="--engine offline"):
        GttsEngine().synthesize("Hold for five breaths.")


def test_gtts_describes_its_british_voice():
    engine = GttsEngine()
    assert isinstance(engine, Engine)
    assert engine.name == "gtts"
    assert engine.settings == {"lang": "en", "tld": "co.uk", "slow": False}
    assert "co.uk" in engine.voice


# --- choosing an engine -------------------------------------------------------------------


def test_engine_by_name():
    assert isinstance(engine_by_name("gtts"), GttsEngine)
    assert isinstance(engine_by_name("offline"), HibariEngine)
    assert isinstance(engine_by_name("hibari"), HibariEngine)
    assert isinstance(engine_by_name("Piper"), PiperEngine)
    assert engine_by_name("gtts", tld="com").settings["tld"] == "com"
    with pytest.raises(ValueError, match="offline"):
        engine_by_name("festival")


def test_gtts_refuses_text_with_nothing_to_say(monkeypatch):
    fake = FakeGoogle(google_mp3())
    monkeypatch.setattr(requests.Session, "send", fake)
    with pytest.raises(ValueError):
        GttsEngine().synthesize("...")
    with pytest.raises(ValueError):
        GttsEngine().synthesize("  ")
    assert fake.requests == []
