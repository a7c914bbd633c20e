"""Render clips to ``<audio_dir>/clips/<id>.mp3`` and keep ``<audio_dir>/manifest.json`` true.

Rendering is incremental: a clip whose hash (text + engine + voice settings + processing and
format settings + what the pronunciation lexicon makes of the text) matches the manifest, and
whose file is there with the recorded size, is left alone; clips no longer asked for are
deleted. Clips with the same hash (a step that says the same on either side) share one file:
the first one's. The manifest is rewritten atomically, sorted by
id, with a fixed key order, so a re-render shows up as a small, readable diff.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .engines import Engine, EngineUnavailable
from .lexicon import Lexicon, load_lexicon
from .manifest import CLIP_ID, CLIPS_DIR, MANIFEST_NAME, MANIFEST_VERSION, load_manifest
from .mp3check import check_info, read_info
from .processing import Pcm, make_clip, make_joined_clip, process, processing_settings

ProgressCallback = Callable[[int, int, str], None]
"""Called as ``progress(done, total, clip_id)`` after each clip is rendered."""


@dataclass(frozen=True)
class ClipSpec:
    """One clip to render; ``id`` is stable and filename-safe (letters, digits, ``._-``).

    A clip with ``parts`` is several lines joined into one clip: each part's text and the
    seconds of silence after it. Alexa plays at most five clips in a response, so a pose's
    steps or a whole hold go out as one. Each part is synthesised and processed on its own
    (once per render, however many clips share it), then the clip is encoded once.
    """

    id: str
    text: str
    parts: tuple[tuple[str, float], ...] = ()


class RenderError(RuntimeError):
    """A clip could not be rendered or does not meet Alexa's rules; names the clip."""


@dataclass
class RenderReport:
    rendered: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    total_bytes: int = 0  # of every clip in the manifest, not only those rendered now
    total_duration: float = 0.0  # seconds, likewise
    elapsed: float = 0.0

    def summary(self) -> str:
        return (
            f"{len(self.rendered)} rendered, {len(self.skipped)} unchanged, "
            f"{len(self.removed)} removed; {len(self.rendered) + len(self.skipped)} clips, "
            f"{self.total_bytes / 1e6:.2f} MB, {self.total_duration:.1f} s of audio "
            f"({self.elapsed:.1f} s)"
        )


def clip_hash(
    text: str,
    engine: Engine,
    parts: Sequence[tuple[str, float]] = (),
    lexicon: Lexicon | None = None,
) -> str:
    """The hash of everything that makes a clip sound as it does. ``lexicon`` (default: the
    English one) adds the text as sent to ``engine`` wherever it differs from the words, so a
    changed pronunciation renders again the clips that say that word, and only those."""
    lexicon = load_lexicon() if lexicon is None else lexicon
    payload: dict[str, Any] = {
        "text": text,
        "engine": engine.name,
        "settings": dict(engine.settings),
        "processing": processing_settings(),
    }
    if parts:
        payload["parts"] = [[part, round(pause, 3)] for part, pause in parts]
    written = [part for part, _ in parts] if parts else [text]
    said = [lexicon.spoken(part, engine) for part in written]
    if said != written:
        payload["said"] = said
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def manifest_format() -> dict[str, Any]:
    settings = processing_settings()
    return {
        "codec": settings["codec"],
        "bitrate_kbps": settings["bitrate_kbps"],
        "channels": settings["channels"],
        "sample_rates": settings["sample_rates"],
        "loudness_lufs": settings["loudness_lufs"],
        "peak_dbfs": settings["peak_dbfs"],
        "true_peak_dbtp": settings["true_peak_dbtp"],
        "processing_version": settings["processing_version"],
    }


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_manifest(audio_dir: Path, entries: dict[str, dict[str, Any]]) -> Path:
    manifest = {
        "version": MANIFEST_VERSION,
        "format": manifest_format(),
        "clips": [entries[k] for k in sorted(entries)],
    }
    path = Path(audio_dir) / MANIFEST_NAME
    data = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        unchanged = path.read_bytes() == data
    except OSError:
        unchanged = False
    if not unchanged:  # leave the file (and its mtime) alone when nothing changed
        _write_atomic(path, data)
    return path


def _validate(specs: Sequence[ClipSpec]) -> None:
    seen: set[str] = set()
    for spec in specs:
        if not CLIP_ID.match(spec.id) or spec.id in (".", ".."):
            raise ValueError(f"clip id {spec.id!r} is not filename-safe (use A-Z a-z 0-9 . _ -)")
        if spec.id.lower() in seen:  # case-insensitive file systems would merge them
            raise ValueError(f"duplicate clip id {spec.id!r}")
        seen.add(spec.id.lower())
        if not spec.text or not spec.text.strip():
            raise ValueError(f"clip {spec.id!r} has no text")
        if any(not text.strip() or pause < 0 for text, pause in spec.parts):
            raise ValueError(f"clip {spec.id!r} has an empty part or a negative pause")


class _Voice:
    """Speech for one text, as the lexicon has the engine say it; synthesised and processed once
    per render and shared by the clips that say it."""

    def __init__(self, engine: Engine, lexicon: Lexicon) -> None:
        self.engine = engine
        self.lexicon = lexicon
        self._done: dict[str, Pcm] = {}
        self._lock = threading.Lock()

    def speak(self, text: str) -> Pcm:
        """``text`` synthesised as is, after the lexicon (EngineUnavailable passes through)."""
        return self.engine.synthesize(self.lexicon.spoken(text, self.engine))

    def __call__(self, text: str) -> Pcm:
        with self._lock:
            known = self._done.get(text)
        if known is not None:
            return known
        pcm = process(self.speak(text))
        with self._lock:
            self._done[text] = pcm
        return pcm


def _render_one(spec: ClipSpec, clips_dir: Path, voice: _Voice, digest: str) -> dict[str, Any]:
    engine = voice.engine
    try:
        if spec.parts:
            pieces: list[Pcm | float] = []
            for text, pause in spec.parts:
                pieces.append(voice(text))
                if pause > 0:
                    pieces.append(pause)
            mp3 = make_joined_clip(pieces)
        else:
            mp3 = make_clip(voice.speak(spec.text))
    except ValueError as exc:
        raise RenderError(f"clip {spec.id!r}: {exc}") from exc
    info = read_info(mp3)
    problems = check_info(info)
    if problems:
        raise RenderError(f"clip {spec.id!r} breaks Alexa's rules: {'; '.join(problems)}")
    path = clips_dir / f"{spec.id}.mp3"
    _write_atomic(path, mp3)
    return {
        "id": spec.id,
        "text": spec.text,
        "hash": digest,
        "file": f"{CLIPS_DIR}/{path.name}",
        "engine": engine.name,
        "voice": engine.voice,
        "duration": round(info.length, 3),
        "bitrate": info.bitrate,
        "sample_rate": info.sample_rate,
        "bytes": info.bytes,
        **({"parts": len(spec.parts)} if spec.parts else {}),
    }


class TextProgress:
    """A one-line progress bar on a TTY (redrawn with ``\\r``), else a line every ~10%."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_tenth = -1
        self._start = time.monotonic()
        self._open = False  # a bar is drawn and its line not yet ended

    def close(self) -> None:
        """End the bar's line (after an error, so the message starts on a line of its own)."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False

    def __call__(self, done: int, total: int, clip_id: str) -> None:
        if total <= 0:
            return
        if self.tty:
            filled = self.width * done // total
            bar = "#" * filled + "-" * (self.width - filled)
            line = f"\rrendering [{bar}] {done}/{total} {clip_id[:32]:<32}"
            self._open = done < total
            self.stream.write(line + ("" if self._open else "\n"))
            self.stream.flush()
            return
        tenth = 10 * done // total
        if tenth != self._last_tenth or done == total:
            self._last_tenth = tenth
            elapsed = time.monotonic() - self._start
            self.stream.write(f"rendering audio: {done}/{total} clips ({elapsed:.0f} s)\n")
            self.stream.flush()


def _progress_callback(progress: bool | ProgressCallback) -> ProgressCallback | None:
    if progress is True:
        return TextProgress()
    if progress is False or progress is None:
        return None
    return progress


def _clean_clips_dir(clips_dir: Path, keep: set[str]) -> list[str]:
    """Delete MP3s (and leftover temp files) that no manifest entry refers to."""
    removed = []
    for path in sorted(clips_dir.iterdir()):
        if path.name in keep or not path.is_file():
            continue
        if path.suffix == ".mp3":
            path.unlink()
            removed.append(path.stem)
        elif path.name.startswith(".") and path.name.endswith(".tmp"):
            path.unlink()
    return removed


def render(
    specs: Sequence[ClipSpec],
    audio_dir: Path,
    engine: Engine,
    jobs: int = 2,
    progress: bool | ProgressCallback = True,
    lexicon: Lexicon | None = None,
) -> RenderReport:
    """Bring ``audio_dir`` in line with ``specs``: render new or changed clips, delete others.

    The ``lexicon`` (default: the English one) says how the engine is to say the words it
    lists; the manifest keeps each clip's words as written.

    ``jobs`` threads synthesise at once (the first clip is rendered alone first, so an engine
    that can't work here fails fast with :class:`EngineUnavailable`, which is re-raised). On
    any error the manifest still records every clip finished so far, and nothing is deleted.
    """
    started = time.monotonic()
    _validate(specs)
    audio_dir = Path(audio_dir)
    clips_dir = audio_dir / CLIPS_DIR
    clips_dir.mkdir(parents=True, exist_ok=True)
    lexicon = load_lexicon() if lexicon is None else lexicon
    old = load_manifest(audio_dir)
    entries = dict(old)
    report = RenderReport()

    todo: list[tuple[ClipSpec, str]] = []
    owners: dict[str, str] = {}  # hash -> the clip whose file says it
    shared: list[tuple[ClipSpec, str]] = []
    for spec in specs:
        digest = clip_hash(spec.text, engine, spec.parts, lexicon)
        owner = owners.setdefault(digest, spec.id)
        if owner != spec.id:  # the same words as a clip before it: one file for both
            shared.append((spec, owner))
            continue
        entry = old.get(spec.id)
        if entry and entry.get("hash") == digest and _file_matches(audio_dir, entry):
            report.skipped.append(spec.id)
        else:
            todo.append((spec, digest))

    callback = _progress_callback(progress)
    try:
        for entry in _run(todo, clips_dir, _Voice(engine, lexicon), max(1, jobs), callback):
            entries[entry["id"]] = entry
            report.rendered.append(entry["id"])
    except BaseException:
        if isinstance(callback, TextProgress):
            callback.close()
        if report.rendered:  # keep what is done, whatever happened to the rest
            write_manifest(audio_dir, entries)
        raise

    for spec, owner in shared:
        entries[spec.id] = {**entries[owner], "id": spec.id, "text": spec.text}
        report.skipped.append(spec.id)
    wanted = {s.id for s in specs}
    for clip_id in sorted(set(entries) - wanted):
        del entries[clip_id]
        report.removed.append(clip_id)
    keep = {Path(str(e["file"])).name for e in entries.values()}
    report.removed += [s for s in _clean_clips_dir(clips_dir, keep) if s not in report.removed]
    write_manifest(audio_dir, entries)

    files = {str(e["file"]): e for e in entries.values()}  # a shared file counts once
    report.total_bytes = sum(int(e["bytes"]) for e in files.values())
    report.total_duration = round(sum(float(e["duration"]) for e in files.values()), 3)
    report.elapsed = time.monotonic() - started
    return report


def _file_matches(audio_dir: Path, entry: dict[str, Any]) -> bool:
    expected = f"{CLIPS_DIR}/{entry['id']}.mp3"
    if entry.get("file") != expected:
        return False
    try:
        return (audio_dir / expected).stat().st_size == int(entry["bytes"])
    except (OSError, KeyError, TypeError, ValueError):
        return False


def _run(
    todo: list[tuple[ClipSpec, str]],
    clips_dir: Path,
    engine: _Voice,
    jobs: int,
    progress: ProgressCallback | None,
) -> Iterator[dict[str, Any]]:
    """Yield manifest entries as clips finish; the first clip alone, then ``jobs`` at a time."""
    total = len(todo)
    if not total:
        return
    spec, digest = todo[0]
    yield _render_one(spec, clips_dir, engine, digest)
    if progress:
        progress(1, total, spec.id)
    done = 1
    rest = todo[1:]
    if jobs == 1:
        for spec, digest in rest:
            yield _render_one(spec, clips_dir, engine, digest)
            done += 1
            if progress:
                progress(done, total, spec.id)
        return
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="render") as pool:
        futures: dict[Future[dict[str, Any]], ClipSpec] = {
            pool.submit(_render_one, spec, clips_dir, engine, digest): spec for spec, digest in rest
        }
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                failure: BaseException | None = None
                for future in sorted(finished, key=lambda f: futures[f].id):
                    exc = future.exception()
                    if exc is not None:
                        failure = failure or exc
                        continue
                    yield future.result()
                    done += 1
                    if progress:
                        progress(done, total, futures[future].id)
                if failure is not None:
                    raise failure
        finally:
            for future in pending:
                future.cancel()


__all__ = [
    "ClipSpec",
    "EngineUnavailable",
    "RenderError",
    "RenderReport",
    "TextProgress",
    "clip_hash",
    "render",
    "write_manifest",
]
