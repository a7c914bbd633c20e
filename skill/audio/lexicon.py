"""The pronunciation lexicon: how the prerendered voices say the yoga and anatomy words.

``skill/speech/lexicon/<lang>.yaml`` (a regional ``<locale>.yaml`` beside it overrides single
words) holds every yoga and anatomy word the routine and the prompts use: under ``words`` those
a voice needs help with, each with its phonemes in
the alphabets the engines read (``misaki`` for hibari, ``espeak`` for piper) and, optionally, a
respelling (``say``) for engines that read no phonemes; under ``plain`` those every voice says
right as written; under ``phrases``, with the same fields as ``words``, everyday phrases a voice
runs together ("And out"), which are helped like words but are not terms.

It changes only the text sent to a TTS engine (:meth:`Lexicon.spoken`), never the words the
skill says: Alexa's own voice, the manifest's ``text`` and the screens keep the words as
written. What an engine is sent is part of each clip's hash, so changing a pronunciation
renders again exactly the clips that say that word. ``heard`` lists the spellings a transcript
may give for a word (``make audio-check`` counts a word heard right in any of them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from skill.routine.content import read_yaml
from skill.settings import DEFAULT_LOCALE

LEXICON_DIR = Path(__file__).resolve().parent.parent / "speech" / "lexicon"
ALPHABETS = ("misaki", "espeak")
"""Phoneme alphabets an entry may give: misaki's (Kokoro, hibari) and espeak-ng's IPA (piper)."""


class LexiconError(ValueError):
    """The lexicon file is malformed; the message names the word and the field."""


@runtime_checkable
class SpeaksPhonemes(Protocol):
    """An engine that takes phonemes inline in its text, in one alphabet of :data:`ALPHABETS`."""

    @property
    def alphabet(self) -> str:
        """The alphabet this engine reads, e.g. ``"misaki"``."""
        ...

    def phoneme_markup(self, written: str, phonemes: str) -> str:
        """``written`` as the engine's markup that has it say ``phonemes``."""
        ...


@dataclass(frozen=True)
class Pronunciation:
    """One word or phrase (matched whole and case-insensitively) and how to say it."""

    written: str
    phonemes: Mapping[str, str] = field(default_factory=dict)
    say: str | None = None
    heard: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        """The written form and every other spelling a transcript may use for it."""
        return (self.written, *(h for h in self.heard if h.lower() != self.written.lower()))


def _pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for the whole phrases, longest first, words apart by any whitespace."""
    alternatives = sorted({p.strip() for p in phrases if p.strip()}, key=lambda p: (-len(p), p))
    if not alternatives:
        return None
    body = "|".join(r"\s+".join(map(re.escape, p.split())) for p in alternatives)
    return re.compile(rf"(?<![\w'])(?:{body})(?![\w'])", re.IGNORECASE)


class Lexicon:
    """Pronunciations to apply before synthesis, and the plain terms said right as written."""

    def __init__(
        self,
        words: Iterable[Pronunciation] = (),
        plain: Iterable[str] = (),
        phrases: Iterable[Pronunciation] = (),
    ) -> None:
        self.words = tuple(words)
        self.plain = tuple(plain)
        self.phrases = tuple(phrases)
        helped = self.words + self.phrases
        self._by_key = {_key(w.written): w for w in helped}
        self._regex = _pattern(w.written for w in helped)

    @property
    def terms(self) -> tuple[Pronunciation, ...]:
        """Every yoga and anatomy term, those with help and the plain ones, in file order."""
        return self.words + tuple(Pronunciation(p) for p in self.plain)

    def lookup(self, word: str) -> Pronunciation | None:
        """The entry for ``word`` (any case, any spacing), if it has one."""
        return self._by_key.get(_key(word))

    def spoken(self, text: str, engine: object) -> str:
        """``text`` as sent to ``engine``: each word of the lexicon as the engine's phoneme
        markup (if it reads an alphabet the entry gives), else its respelling, else as is."""
        regex = self._regex
        if regex is None:
            return text
        alphabet = engine.alphabet if isinstance(engine, SpeaksPhonemes) else None

        def replace(match: re.Match[str]) -> str:
            entry = self.lookup(match.group(0))
            if entry is None:  # pragma: no cover - the regex only matches entries
                return match.group(0)
            phonemes = entry.phonemes.get(alphabet) if alphabet else None
            if phonemes and isinstance(engine, SpeaksPhonemes):
                return engine.phoneme_markup(match.group(0), phonemes)
            return entry.say if entry.say else match.group(0)

        return regex.sub(replace, text)


def _key(phrase: str) -> str:
    return " ".join(phrase.lower().split())


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LexiconError(f"{where} must be a non-empty string, not {value!r}")
    return value.strip()


def _entry(written: str, spec: Any) -> Pronunciation:
    where = f"lexicon word {written!r}"
    if spec is None:
        spec = {}
    if not isinstance(spec, Mapping):
        raise LexiconError(f"{where} must map fields to values, not {spec!r}")
    unknown = set(spec) - {*ALPHABETS, "say", "heard"}
    if unknown:
        raise LexiconError(f"{where} has unknown fields: {', '.join(sorted(map(str, unknown)))}")
    phonemes = {a: _text(spec[a], f"{where}: {a}") for a in ALPHABETS if a in spec}
    say = _text(spec["say"], f"{where}: say") if "say" in spec else None
    heard = spec.get("heard", [])
    if not isinstance(heard, list):
        raise LexiconError(f"{where}: heard must be a list of spellings")
    return Pronunciation(written, phonemes, say, tuple(_text(h, f"{where}: heard") for h in heard))


def parse_lexicon(data: Any, source: str = "lexicon") -> Lexicon:
    """A :class:`Lexicon` from the YAML structure (``words``, ``plain`` and ``phrases``)."""
    if not isinstance(data, Mapping):
        raise LexiconError(f"{source} must have `words` and `plain`")
    words = data.get("words") or {}
    plain = data.get("plain") or []
    phrases = data.get("phrases") or {}
    if not isinstance(words, Mapping) or not isinstance(phrases, Mapping):
        raise LexiconError(f"{source}: `words` and `phrases` must be mappings")
    if not isinstance(plain, list):
        raise LexiconError(f"{source}: `plain` must be a list")
    entries = tuple(_entry(_text(w, f"{source}: a word"), spec) for w, spec in words.items())
    helped = tuple(_entry(_text(w, f"{source}: a phrase"), spec) for w, spec in phrases.items())
    plain_words = tuple(_text(p, f"{source}: a plain word") for p in plain)
    keys = [_key(e.written) for e in entries + helped] + [_key(p) for p in plain_words]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise LexiconError(f"{source}: listed twice: {', '.join(twice)}")
    return Lexicon(entries, plain_words, helped)


@lru_cache(maxsize=8)
def load_lexicon(locale: str = DEFAULT_LOCALE, directory: Path = LEXICON_DIR) -> Lexicon:
    """The lexicon for ``locale``: ``<lang>.yaml`` with ``<locale>.yaml``'s words over it."""
    lang = locale.split("-")[0]
    words: dict[str, Any] = {}
    plain: list[str] = []
    phrases: dict[str, Any] = {}
    found = False
    for name in dict.fromkeys((lang, locale)):
        path = directory / f"{name}.yaml"
        if not path.is_file():
            continue
        found = True
        data = read_yaml(path) or {}
        parse_lexicon(data, str(path))  # each file valid on its own
        phrases.update(data.get("phrases") or {})
        for written, spec in (data.get("words") or {}).items():
            words = {k: v for k, v in words.items() if _key(k) != _key(written)}
            words[written] = spec
            plain = [p for p in plain if _key(p) != _key(written)]
        for word in data.get("plain") or []:
            words = {k: v for k, v in words.items() if _key(k) != _key(word)}
            if _key(word) not in map(_key, plain):
                plain.append(word)
    if not found:
        raise LexiconError(f"no lexicon for locale {locale!r} in {directory}")
    return parse_lexicon(
        {"words": words, "plain": plain, "phrases": phrases}, f"lexicon for {locale}"
    )


__all__ = [
    "ALPHABETS",
    "LEXICON_DIR",
    "Lexicon",
    "LexiconError",
    "Pronunciation",
    "SpeaksPhonemes",
    "load_lexicon",
    "parse_lexicon",
]
