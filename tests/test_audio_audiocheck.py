# ruff: noqa: RUF001 - a transcript may well have curly quotes
"""`make audio-check`'s scoring: normalising, word error rate, terms, the report, the model files.

The recogniser itself (faster-whisper with the Whisper base model, 150 MB) is not part of the
test suite's install; here a stand-in transcriber returns set transcripts for clips rendered
for real, and the model's two halves are stand-in files joined like the real ones.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from skill.audio import audiocheck
from skill.audio.audiocheck import (
    CheckError,
    align,
    check,
    lexicon_spellings,
    match_compounds,
    model_dir,
    normalise,
    number_words,
    report_markdown,
    term_hits,
    write_report,
)
from skill.audio.lexicon import Lexicon, Pronunciation, load_lexicon
from skill.audio.processing import Pcm
from skill.audio.render import ClipSpec, render

LEXICON = load_lexicon()


# --- normalising ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "words"),
    [
        *((0, "zero"), (7, "seven"), (15, "fifteen"), (20, "twenty"), (42, "forty two")),
        *((100, "one hundred"), (305, "three hundred five"), (2024, "two thousand twenty four")),
    ],
)
def test_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


def test_normalise_makes_the_text_and_a_transcript_alike() -> None:
    text = "Pose 11: Savasana, the closing relaxation. Step 1. You're on the I.T. band."
    heard = "pose eleven savasana -- the Closing Relaxation! step one, you’re on the IT band"
    assert normalise(text) == normalise(heard)
    assert normalise(text)[:4] == ["pose", "eleven", "savasana", "the"]
    assert normalise("post-run yoga, 3rd pose, 21st") == [
        *("post", "run", "yoga", "third", "pose", "twenty", "first"),
    ]
    assert normalise("Play with pedaling, OK?") == ["play", "with", "pedalling", "okay"]
    spellings = lexicon_spellings(LEXICON)
    assert spellings["shavasana"] == "savasana" and spellings["soas"] == "psoas"
    assert all(
        " ".join(normalise(entry.written)) in spellings.values()
        for entry in LEXICON.words + LEXICON.phrases
        if entry.heard
    )
    assert normalise("Shavasana now", spellings) == ["savasana", "now"]


def test_roman_numerals_read_as_numbers_but_single_letters_stay_words() -> None:
    assert normalise("Warrior II, then III") == ["warrior", "two", "then", "three"]
    assert normalise("I think X marks V") == ["i", "think", "x", "marks", "v"]


def test_words_written_together_or_apart_match_the_text() -> None:
    ref = normalise("Sweep hands over head. Tuck tailbone under. Cat cow.")
    heard = normalise("Sweep hands overhead. Tuck tail bone under. Catcow.")
    assert match_compounds(ref, heard) == ref
    assert align(ref, match_compounds(ref, heard)).errors == 0
    # a word the text has on its own is left alone, and so is a real mishearing
    assert match_compounds(["head", "over", "head"], ["head", "overhead"]) == [
        *("head", "over", "head"),
    ]
    assert match_compounds(["over", "head"], ["overhand"]) == ["overhand"]
    assert match_compounds(["tail", "bone"], ["tail", "bone"]) == ["tail", "bone"]


# --- word error rate and terms -------------------------------------------------------------


def test_align_counts_substitutions_deletions_and_insertions() -> None:
    ref = ["step", "one", "lie", "on", "your", "back"]
    hyp = ["step", "one", "lie", "it", "on", "the", "back", "please"]
    a = align(ref, hyp)
    assert (a.substitutions, a.deletions, a.insertions) == (1, 0, 2)
    assert a.wer == pytest.approx(3 / 6)
    assert a.hits == (True, True, True, True, False, True)
    assert align(ref, ref).errors == 0
    assert align(ref, []).deletions == 6 and align([], ["extra"]).wer == 1.0
    assert align([], []).wer == 0.0


def test_term_hits_say_where_a_term_was_heard_and_as_what() -> None:
    ref = normalise("Good for your psoas, quads and IT band. Your psoas again.")
    heard = normalise("Good for your sois, quads and IT band. Your psoas again.")
    a = align(ref, heard)
    assert term_hits(a, ["psoas"]) == [(False, "sois"), (True, "psoas")]
    assert term_hits(a, ["it", "band"]) == [(True, "it band")]
    assert term_hits(a, ["savasana"]) == []
    dropped = align(normalise("Namaste."), [])
    assert term_hits(dropped, ["namaste"]) == [(False, "(nothing)")]


# --- checking rendered clips ----------------------------------------------------------------


class Tone:
    name, voice = "tone", "test tone"

    @property
    def settings(self) -> dict[str, object]:
        return {}

    def synthesize(self, text: str) -> Pcm:
        t = np.arange(12000 + 100 * len(text)) / 24000
        return Pcm.from_float(0.3 * np.sin(2 * np.pi * 300 * t), 24000)


SPECS = [
    ClipSpec("a.goodbye", "Good work today. Namaste."),
    ClipSpec("b.targets", "This one is good for your quads, glutes, psoas and shoulders."),
    ClipSpec("c.relax", "Pose 11: Savasana, the closing relaxation."),
]
HEARD = [
    "Good work today, Namaste!",
    "This one is good for your quads, glutes, sois and shoulders.",
    "Pose eleven. Shavasana, the closing relaxation.",
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    audio_dir = tmp_path_factory.mktemp("audio")
    render(SPECS, audio_dir, Tone(), jobs=1, progress=False, lexicon=Lexicon())
    return audio_dir


def entries(audio_dir: Path) -> list[dict]:
    return json.loads((audio_dir / "manifest.json").read_text(encoding="utf-8"))["clips"]


def stand_in(transcripts: list[str]):
    """A transcriber that hears ``transcripts`` in turn, checking what it is handed."""
    queue = list(transcripts)

    def transcribe(samples) -> str:
        assert samples.dtype == np.float32 and samples.ndim == 1 and len(samples) > 8000
        return queue.pop(0)

    return transcribe


def test_check_scores_each_clip_the_whole_set_and_every_term(rendered: Path) -> None:
    report = check(entries(rendered), rendered, stand_in(HEARD), LEXICON, jobs=1)

    by_id = {c.id: c for c in report.clips}
    assert by_id["a.goodbye"].errors == 0 and by_id["c.relax"].errors == 0
    assert by_id["b.targets"].errors == 1 and by_id["b.targets"].wer == pytest.approx(1 / 11)
    assert report.words == 4 + 11 + 6 and report.wer == pytest.approx(1 / 21)
    terms = {t.term: t for t in report.terms}
    assert (terms["Namaste"].said, terms["Namaste"].heard) == (1, 1)
    assert (terms["Savasana"].said, terms["Savasana"].heard) == (1, 1)  # "Shavasana" counts
    assert terms["psoas"].misheard == {"sois": 1}
    assert (terms["glutes"].said, terms["pigeon"].said) == (1, 0)
    assert [t.term for t in report.terms_missed] == ["psoas"]
    assert not report.passed
    for clip in report.clips:  # levels as decoded
        assert clip.loudness == pytest.approx(-16.0, abs=0.3) and clip.true_peak <= -1.0
    assert "WER 4.76%" in report.summary() and "missed: psoas (0/1)" in report.summary()


def test_clips_sharing_a_file_count_once_in_the_size(rendered: Path) -> None:
    listed = entries(rendered)
    twin = {**listed[0], "id": "a.goodbye.again"}  # the same words, the same MP3
    report = check([*listed, twin], rendered, stand_in([*HEARD, HEARD[0]]), LEXICON, jobs=1)
    assert len(report.clips) == 4 and len(report.files) == 3
    assert report.bytes == sum(int(e["bytes"]) for e in listed)
    assert report.seconds == pytest.approx(sum(float(e["duration"]) for e in listed))
    assert f"{report.bytes / 1e6:.2f} MB in 3 files" in report_markdown(report)


def test_the_report_lists_terms_and_clips_worst_first(rendered: Path, tmp_path: Path) -> None:
    report = check(entries(rendered), rendered, stand_in(HEARD), LEXICON, jobs=1)
    md, js = write_report(report, tmp_path, "check")
    text = md.read_text(encoding="utf-8")
    assert "**word error rate: 4.76%** (1 of 21 words in 3 clips" in text
    assert '| psoas | 1 | 0 | "sois" x1 |' in text
    assert "[psoas -> sois]" in text
    clips_table = text[text.index("## Clips") :]
    assert clips_table.index("b.targets") < clips_table.index("a.goodbye")
    data = json.loads(js.read_text(encoding="utf-8"))
    assert data["wer"] == pytest.approx(1 / 21, abs=1e-4) and data["passed"] is False
    assert {c["id"]: c["errors"] for c in data["per_clip"]} == {
        "a.goodbye": 0,
        "b.targets": 1,
        "c.relax": 0,
    }
    assert data["voices"] == {"tone: test tone": 3}
    assert report_markdown(report).startswith("# Intelligibility of the committed clips")


def test_a_misheard_phrase_counts_in_the_error_rate_but_is_not_a_missed_term(
    tmp_path: Path,
) -> None:
    specs = [ClipSpec("hold", "Hold here. Breathe in. And out. And gently release your hips.")]
    render(specs, tmp_path, Tone(), jobs=1, progress=False, lexicon=Lexicon())
    heard = ["Hold here, breathe in, end out, and gently release your hips."]
    report = check(entries(tmp_path), tmp_path, stand_in(heard), LEXICON, jobs=1)
    assert report.errors == 1 and report.terms_missed == []
    (phrase,) = [p for p in report.phrases if p.term == "And out"]
    assert (phrase.said, phrase.heard, phrase.misheard) == (1, 0, {"end out": 1})
    assert {t.term: t.heard for t in report.terms if t.said} == {"breathe": 1, "hips": 1}
    text = report_markdown(report)
    assert '| And out | 1 | 0 | "end out" x1 |' in text.split("## Everyday phrases")[1]


# --- the model and the command ------------------------------------------------------------


def fake_packages(root: Path, half: bytes = b"x" * 1000) -> dict[str, Path]:
    first, second = root / "part1" / "data", root / "part2" / "data"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    (first / "model.bin.part1").write_bytes(half)
    (second / "model.bin.part2").write_bytes(half[::-1] + b"!")
    for name in audiocheck.MODEL_FILES:
        (first / name).write_text(f"{name} of the model", encoding="utf-8")
    return {audiocheck.MODEL_PACKAGES[0]: first, audiocheck.MODEL_PACKAGES[1]: second}


def test_model_dir_joins_the_two_halves_once(tmp_path: Path, monkeypatch) -> None:
    packages = fake_packages(tmp_path / "site")
    monkeypatch.setattr(audiocheck, "_package_data", packages.__getitem__)
    cache = tmp_path / "cache"
    assert model_dir(cache) == cache
    model = cache / "model.bin"
    assert model.read_bytes() == b"x" * 1000 + b"x" * 1000 + b"!"
    assert (cache / "tokenizer.json").read_text() == "tokenizer.json of the model"
    stamp = model.stat().st_mtime_ns
    model_dir(cache)
    assert model.stat().st_mtime_ns == stamp  # joined once
    model.write_bytes(b"torn")  # an interrupted copy is joined again
    model_dir(cache)
    assert model.stat().st_size == 2001
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []


def test_a_missing_model_package_or_recogniser_says_what_to_install(monkeypatch) -> None:
    with pytest.raises(CheckError, match=r"pip install 'post-run-yoga\[audio-check\]'"):
        audiocheck._package_data("no_such_package_for_the_model")
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    with pytest.raises(CheckError, match="faster-whisper is not installed"):
        audiocheck.whisper(Path("anywhere"))


def test_the_command_writes_the_report_and_exits_by_the_target(
    rendered: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(audiocheck, "model_dir", lambda cache: cache)
    heard = iter([HEARD, [s.text for s in SPECS]])
    monkeypatch.setattr(audiocheck, "whisper", lambda model, jobs: stand_in(next(heard)))
    argv = ["--audio-dir", str(rendered), "--out", str(tmp_path), "--jobs", "1"]

    assert audiocheck.main(argv) == 1  # psoas misheard
    assert "target MISSED" in capsys.readouterr().out
    assert audiocheck.main([*argv, "--name", "perfect"]) == 0
    assert "WER 0.00%" in capsys.readouterr().out
    assert (tmp_path / "audio-check.md").is_file() and (tmp_path / "perfect.json").is_file()

    monkeypatch.setattr(audiocheck, "whisper", lambda model, jobs: stand_in([SPECS[0].text]))
    assert audiocheck.main([*argv, "--only", "^a\\.", "--name", "one"]) == 0
    assert json.loads((tmp_path / "one.json").read_text())["clips"] == 1
    assert audiocheck.main(["--audio-dir", str(tmp_path / "none")]) == 2
    assert "cannot read the clip manifest" in capsys.readouterr().err


def test_a_lexicon_term_with_another_spelling_is_counted_once() -> None:
    lexicon = Lexicon([Pronunciation("Savasana", heard=("Shavasana", "savasana"))])
    assert lexicon_spellings(lexicon) == {"shavasana": "savasana"}
