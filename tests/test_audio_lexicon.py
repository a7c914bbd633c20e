# ruff: noqa: RUF001 - the phonemes are IPA and misaki letters on purpose
"""The pronunciation lexicon: its data, what the engines are sent, and that it covers the routine.

The lexicon changes the text a TTS engine gets, never the words the skill says; these tests
check the text each engine is handed (recorded at the engine), the phonemes the real engines
make of it, the clip hash, and that every yoga and anatomy word of the routine has an entry.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import PROMPTS, ROUTINE

from skill.audio.catalogue import catalogue
from skill.audio.engines import GttsEngine, HibariEngine, PiperEngine
from skill.audio.lexicon import (
    ALPHABETS,
    Lexicon,
    LexiconError,
    Pronunciation,
    SpeaksPhonemes,
    load_lexicon,
    parse_lexicon,
)
from skill.audio.processing import Pcm
from skill.audio.render import ClipSpec, clip_hash, render
from skill.routine.content import Routine

LEXICON = load_lexicon()
SPECS = catalogue(ROUTINE)

ORDINARY = frozenset(
    {"a", "the", "of", "into", "with", "and", "advanced", "closing", "whole", "body"}
    | {"strength", "stretch", "mind", "soul", "look"}
)
"""Words of the routine's names and areas that are plain English, not yoga or anatomy."""


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def term_words(lexicon: Lexicon) -> set[str]:
    return {w for term in lexicon.terms for w in words(term.written)}


def domain_words(routine: Routine, prompts: dict) -> set[str]:
    """The routine's yoga and anatomy vocabulary: the words of every pose and variation name,
    target area and focus area, and of the prompts' body words."""
    phrases: list[str] = []
    for pose in routine.poses:
        for part in pose.parts:
            phrases += [part.name, *part.target_areas]
    for area in routine.focus_areas:
        phrases += [area.name, *area.target_areas]
    for body, listed in prompts["body_words"].items():
        phrases += [body, *listed]
    return {w for phrase in phrases for w in words(phrase)} - ORDINARY


def spoken_texts(specs: list[ClipSpec]) -> set[str]:
    """Every text an engine is asked to say: each part of a joined clip, else the clip's text."""
    return {text for spec in specs for text in ([t for t, _ in spec.parts] or [spec.text])}


def unknown_to_hibari(texts: set[str]) -> set[str]:
    """The words hibari's own dictionary doesn't have (it guesses them with its OOV net)."""
    from hibari.g2p import G2P

    unknown: set[str] = set()
    g2p = G2P(oov=lambda word: (unknown.add(word.lower()), "")[1])
    for text in texts:
        g2p(text)
    return unknown


# --- the data -------------------------------------------------------------------------------


def test_namaste_and_savasana_are_given_phonemes_for_every_offline_voice() -> None:
    for word, stressed in (("Namaste", "nˈɑ"), ("Savasana", "ʃəvˈɑ")):
        entry = LEXICON.lookup(word)
        assert entry is not None, word
        assert set(entry.phonemes) == set(ALPHABETS)
        assert entry.phonemes["misaki"].startswith(stressed)  # the stressed syllable
    assert "Shavasana" in LEXICON.lookup("savasana").spellings  # type: ignore[union-attr]


def test_every_yoga_and_anatomy_word_of_the_routine_is_in_the_lexicon() -> None:
    missing = domain_words(ROUTINE, PROMPTS) - term_words(LEXICON)
    assert not missing, f"add these to skill/speech/lexicon/en.yaml: {sorted(missing)}"


def test_every_word_the_voice_does_not_know_has_phonemes() -> None:
    """A word hibari's dictionary lacks (a Sanskrit pose name, say) must be spelt out in
    phonemes, or the voice guesses."""
    unknown = unknown_to_hibari(spoken_texts(SPECS))
    assert "savasana" in unknown  # the check sees what it is meant to
    without = sorted(
        w for w in unknown if "misaki" not in getattr(LEXICON.lookup(w), "phonemes", {})
    )
    assert not without, f"give these misaki phonemes in the lexicon: {without}"


def test_a_new_yoga_word_in_the_routine_without_an_entry_fails_the_checks(routine) -> None:
    pose = routine.poses[0]
    changed = routine._replace(
        poses=(
            pose._replace(target_areas=(*pose.target_areas, "vinyasa flow")),
            *routine.poses[1:],
        ),
    )
    assert domain_words(changed, PROMPTS) - term_words(LEXICON) == {"vinyasa"}
    step = "Move through Ujjayi breath into Bhujangasana."
    assert {"ujjayi", "bhujangasana"} <= unknown_to_hibari({step})


def test_the_lexicon_file_is_well_formed_and_lists_each_word_once() -> None:
    assert {entry.written for entry in LEXICON.words} >= {"Namaste", "Savasana", "psoas"}
    keys = [" ".join(t.written.lower().split()) for t in LEXICON.terms]
    assert len(keys) == len(set(keys))
    for entry in LEXICON.words:
        assert set(entry.phonemes) <= set(ALPHABETS)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must have"),
        ({"words": ["Namaste"]}, "mapping"),
        ({"plain": "hip"}, "must be a list"),
        ({"phrases": ["And out"]}, "mappings"),
        ({"words": {"and OUT": None}, "phrases": {"And out": None}}, "listed twice: and out"),
        ({"words": {"Namaste": {"misaki": ""}}}, "non-empty"),
        ({"words": {"Namaste": {"ipa": "x"}}}, "unknown fields: ipa"),
        ({"words": {"Namaste": "nama"}}, "map fields"),
        ({"words": {"Namaste": {"heard": "x"}}}, "list of spellings"),
        ({"words": {"IT band": None}, "plain": ["it  BAND"]}, "listed twice: it band"),
    ],
)
def test_a_malformed_lexicon_names_the_problem(data: object, message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        parse_lexicon(data)


def test_a_regional_lexicon_overrides_single_words(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text(
        "words:\n  tomato: {say: tuh-MAH-toe}\n  basil: {say: BAZ-il}\nplain: [hip]\n",
        encoding="utf-8",
    )
    (tmp_path / "en-US.yaml").write_text(
        "words:\n  tomato: {say: tuh-MAY-toe}\n  hip: {say: hipp}\nplain: [basil]\n",
        encoding="utf-8",
    )
    us = load_lexicon("en-US", tmp_path)
    assert us.lookup("tomato").say == "tuh-MAY-toe"  # type: ignore[union-attr]
    assert us.lookup("hip").say == "hipp"  # type: ignore[union-attr]
    assert us.lookup("basil") is None and "basil" in us.plain and "hip" not in us.plain
    gb = load_lexicon("en-GB", tmp_path)  # no en-GB.yaml: en.yaml alone
    assert gb.lookup("tomato").say == "tuh-MAH-toe"  # type: ignore[union-attr]
    with pytest.raises(LexiconError, match="no lexicon"):
        load_lexicon("fr-FR", tmp_path)


# --- what an engine is sent ----------------------------------------------------------------


class Recorder:
    """An engine that records the text it is handed and speaks a tone; optionally reads
    phonemes inline, like hibari (``[word](/phonemes/)``)."""

    name = "recorder"
    voice = "a recording tone"

    def __init__(self, alphabet: str | None = "misaki") -> None:
        if alphabet is not None:
            self.alphabet = alphabet
        self.sent: list[str] = []
        self._lock = threading.Lock()

    @property
    def settings(self) -> dict[str, object]:
        return {"alphabet": getattr(self, "alphabet", None)}

    def phoneme_markup(self, written: str, phonemes: str) -> str:
        return f"[{written}](/{phonemes}/)"

    def synthesize(self, text: str) -> Pcm:
        with self._lock:
            self.sent.append(text)
        t = np.arange(24000) / 24000
        return Pcm.from_float(0.3 * np.sin(2 * np.pi * (200 + len(text)) * t), 24000)


def test_hibari_and_piper_get_phonemes_and_other_engines_the_words() -> None:
    text = "Good work today. Namaste. Child's SAVASANA, then the savasanas."
    hibari = LEXICON.spoken(text, HibariEngine())
    assert hibari == (
        "Good work today. [Namaste](/nˈɑməstˌA/). Child's [SAVASANA](/ʃəvˈɑːsənˌɑ/), "
        "then the savasanas."  # whole words only
    )
    piper = LEXICON.spoken(text, PiperEngine())
    assert piper.startswith("Good work today. [[ nˈɑːməstˌeɪ ]]. Child's [[ ʃəvˈɑːsənə ]],")
    assert LEXICON.spoken(text, GttsEngine()) == text  # no phonemes, no respelling given
    assert isinstance(HibariEngine(), SpeaksPhonemes) and not isinstance(
        GttsEngine(), SpeaksPhonemes
    )


def test_a_respelling_goes_to_engines_that_read_no_phonemes() -> None:
    lexicon = Lexicon([Pronunciation("psoas", {"misaki": "sˈOəs"}, say="so-us")], ["hip"])
    assert lexicon.spoken("Your psoas and hip.", Recorder(alphabet=None)) == "Your so-us and hip."
    assert lexicon.spoken("Your Psoas.", Recorder()) == "Your [Psoas](/sˈOəs/)."
    assert lexicon.spoken("Your IT\n band.", Recorder()) == "Your IT\n band."
    multi = Lexicon([Pronunciation("IT band", {"misaki": "ˌItˈi bˈænd"})])
    assert multi.spoken("Your IT\n band.", Recorder()) == "Your [IT\n band](/ˌItˈi bˈænd/)."
    assert Lexicon().spoken("Namaste.", Recorder()) == "Namaste."


def test_render_sends_the_lexicon_to_the_engine_and_keeps_the_words_in_the_manifest(
    tmp_path: Path,
) -> None:
    engine = Recorder()
    specs = [
        ClipSpec("goodbye", "Good work today. Namaste."),
        ClipSpec(
            "intro--targets",
            "Savasana, the closing relaxation. This one is good for your psoas.",
            (("Savasana, the closing relaxation.", 0.5), ("This one is good for your psoas.", 0)),
        ),
        ClipSpec("plain", "Lie on your back."),
    ]
    render(specs, tmp_path, engine, jobs=1, progress=False, lexicon=LEXICON)
    found = LEXICON.lookup("psoas")
    assert found is not None
    psoas = found.phonemes["misaki"]

    assert sorted(engine.sent) == sorted(
        [
            "Good work today. [Namaste](/nˈɑməstˌA/).",
            "[Savasana](/ʃəvˈɑːsənˌɑ/), the closing relaxation.",
            f"This one is good for your [psoas](/{psoas}/).",
            "Lie on your back.",
        ]
    )
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert {c["id"]: c["text"] for c in manifest["clips"]} == {s.id: s.text for s in specs}
    for clip, spec in zip(manifest["clips"], sorted(specs, key=lambda s: s.id), strict=True):
        assert clip["hash"] == clip_hash(spec.text, engine, spec.parts, LEXICON)


def test_the_lexicon_is_part_of_the_hash_so_a_changed_word_renders_again(tmp_path: Path) -> None:
    specs = [ClipSpec("goodbye", "Good work today. Namaste."), ClipSpec("back", "Lie back.")]
    engine = Recorder()
    render(specs, tmp_path, engine, progress=False, lexicon=LEXICON)
    plain_hash = clip_hash("Lie back.", engine, (), LEXICON)
    assert plain_hash == clip_hash("Lie back.", engine, (), Lexicon())  # nothing to change
    assert clip_hash(specs[0].text, engine, (), LEXICON) != clip_hash(
        specs[0].text, engine, (), Lexicon()
    )

    changed = Lexicon([Pronunciation("Namaste", {"misaki": "nˈæməstˌA"})])
    engine.sent.clear()
    report = render(specs, tmp_path, engine, progress=False, lexicon=changed)
    assert report.rendered == ["goodbye"] and report.skipped == ["back"]
    assert engine.sent == ["Good work today. [Namaste](/nˈæməstˌA/)."]
    # an engine that reads another alphabet is sent the word, so its hash ignores the phonemes
    other = Recorder(alphabet="espeak")
    assert clip_hash(specs[0].text, other, (), changed) == clip_hash(
        specs[0].text, other, (), Lexicon()
    )


# --- what the real engines make of it -----------------------------------------------------


def test_hibari_says_the_lexicons_phonemes() -> None:
    engine = HibariEngine()
    tts = engine.load()
    for word in ("Namaste", "Savasana", "psoas", "IT band"):
        said = tts.phonemize(LEXICON.spoken(f"Well done, and {word}.", engine))
        assert LEXICON.lookup(word).phonemes["misaki"] in said[0], said  # type: ignore[union-attr]
    # without the lexicon hibari stresses Savasana's third syllable
    assert tts.phonemize("Savasana.")[0].startswith("sˌævəsˈɑnə")


def test_piper_says_the_lexicons_phonemes() -> None:
    engine = PiperEngine()
    voice = engine.load()
    said = "".join(voice.phonemize(LEXICON.spoken("Good work today. Namaste.", engine))[-1])
    assert LEXICON.lookup("Namaste").phonemes["espeak"] in said  # type: ignore[union-attr]
    assert "nˈæmæst" in "".join(voice.phonemize("Namaste.")[0])  # piper's own: "NAM-ast"


def test_phrases_are_helped_like_words_but_are_not_terms() -> None:
    lexicon = parse_lexicon(
        {"words": {"psoas": {"misaki": "sˈOəz"}}, "plain": ["hip"], "phrases": {"And out": {}}}
    )
    phrase = Pronunciation("And out", {"misaki": "ˈæːnd, ˈWt"})
    helped = Lexicon(lexicon.words, lexicon.plain, [phrase])
    assert helped.spoken("Breathe in. And out.", Recorder()) == (
        "Breathe in. [And out](/ˈæːnd, ˈWt/)."
    )
    assert [t.written for t in helped.terms] == ["psoas", "hip"]
    assert [p.written for p in lexicon.phrases] == ["And out"]
    assert [t.written for t in LEXICON.terms if t.written in ("And out", "this side")] == []
    assert {"And out", "this side"} <= {p.written for p in LEXICON.phrases}
