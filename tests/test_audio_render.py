"""Rendering clips and keeping the manifest true, incrementally."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from alexa_limits import check_clip

from skill.audio import mp3check
from skill.audio.engines import EngineUnavailable, PiperEngine
from skill.audio.manifest import load_manifest
from skill.audio.mp3check import read_info
from skill.audio.processing import TARGET_LUFS, Pcm, decode_mp3, loudness
from skill.audio.render import (
    ClipSpec,
    RenderError,
    TextProgress,
    clip_hash,
    render,
)

ENTRY_KEYS = [
    "id",
    "text",
    "hash",
    "file",
    "engine",
    "voice",
    "duration",
    "bitrate",
    "sample_rate",
    "bytes",
]


class ToneEngine:
    """A deterministic stand-in engine: a tone whose pitch and length come from the text,
    with silence around it for the trimmer to remove. Counts what it is asked to say."""

    name = "tone"
    voice = "test tone"

    def __init__(self, rate: int = 24000, fail_on: str | None = None, error=None) -> None:
        self.rate = rate
        self.fail_on = fail_on
        self.error = error or RuntimeError("engine broke")
        self.spoken: list[str] = []
        self._lock = threading.Lock()

    @property
    def settings(self) -> dict[str, object]:
        return {"rate": self.rate}

    def synthesize(self, text: str) -> Pcm:
        with self._lock:
            self.spoken.append(text)
        if self.fail_on is not None and self.fail_on in text:
            raise self.error
        seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        seconds = 0.4 + 0.05 * len(text.split())
        t = np.arange(round(seconds * self.rate)) / self.rate
        body = 0.3 * np.sin(2 * np.pi * (200 + seed % 400) * t)
        gap = np.zeros(self.rate // 4)
        return Pcm.from_float(np.concatenate([gap, body, gap]), self.rate)


SPECS = [
    ClipSpec("pose.child.intro", "Come down onto your knees for child's pose."),
    ClipSpec("cue.inhale", "Inhale, lift your heart."),
    ClipSpec("cue.exhale", "Exhale, and soften."),
]


def manifest(audio_dir: Path) -> dict:
    return json.loads((audio_dir / "manifest.json").read_text(encoding="utf-8"))


def mtimes(audio_dir: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (audio_dir / "clips").iterdir()}


def test_render_writes_clips_and_a_manifest_true_to_them(tmp_path):
    engine = ToneEngine()
    report = render(SPECS, tmp_path, engine, jobs=2, progress=False)

    assert sorted(report.rendered) == sorted(s.id for s in SPECS)
    assert report.skipped == [] and report.removed == []
    data = manifest(tmp_path)
    assert list(data) == ["version", "format", "clips"]
    assert data["version"] == 1
    assert data["format"]["bitrate_kbps"] == 48 and data["format"]["channels"] == 1
    ids = [c["id"] for c in data["clips"]]
    assert ids == sorted(s.id for s in SPECS)

    texts = {s.id: s.text for s in SPECS}
    for clip in data["clips"]:
        assert list(clip) == ENTRY_KEYS
        path = tmp_path / clip["file"]
        assert clip["file"] == f"clips/{clip['id']}.mp3"
        assert path.is_file()
        assert clip["text"] == texts[clip["id"]]
        assert clip["hash"] == clip_hash(clip["text"], engine)
        assert len(clip["hash"]) == 64
        assert (clip["engine"], clip["voice"]) == ("tone", "test tone")
        info = read_info(path)
        assert clip["bytes"] == path.stat().st_size == info.bytes
        assert clip["duration"] == pytest.approx(info.length, abs=0.001)
        assert clip["bitrate"] == 48000 == info.bitrate
        assert clip["sample_rate"] == 24000 == info.sample_rate
        assert check_clip(path) == []

    # trimmed: the tone plus ~0.1 s of kept padding, not the 0.5 s of silence around it
    inhale = next(c for c in data["clips"] if c["id"] == "cue.inhale")
    assert inhale["duration"] == pytest.approx(0.4 + 0.05 * 4 + 0.1, abs=0.02)
    assert report.total_bytes == sum(c["bytes"] for c in data["clips"])
    assert report.total_duration == pytest.approx(sum(c["duration"] for c in data["clips"]))
    assert "3 rendered" in report.summary()
    # pretty-printed, one key per line, ending in a newline: readable diffs
    text = (tmp_path / "manifest.json").read_text(encoding="utf-8")
    assert text.endswith("}\n") and '\n  "clips": [\n' in text


def test_second_run_renders_nothing(tmp_path):
    engine = ToneEngine()
    render(SPECS, tmp_path, engine, progress=False)
    before = (tmp_path / "manifest.json").read_bytes(), mtimes(tmp_path)
    engine.spoken.clear()

    report = render(SPECS, tmp_path, engine, progress=False)

    assert report.rendered == [] and report.removed == []
    assert sorted(report.skipped) == sorted(s.id for s in SPECS)
    assert engine.spoken == []
    assert ((tmp_path / "manifest.json").read_bytes(), mtimes(tmp_path)) == before


def test_changing_one_text_rerenders_only_that_clip(tmp_path):
    engine = ToneEngine()
    render(SPECS, tmp_path, engine, progress=False)
    before = mtimes(tmp_path)
    old_hash = {c["id"]: c["hash"] for c in manifest(tmp_path)["clips"]}
    engine.spoken.clear()

    changed = [*SPECS[:2], ClipSpec("cue.exhale", "Exhale, and let your shoulders drop.")]
    report = render(changed, tmp_path, engine, progress=False)

    assert report.rendered == ["cue.exhale"]
    assert engine.spoken == ["Exhale, and let your shoulders drop."]
    after = mtimes(tmp_path)
    assert after["cue.exhale.mp3"] != before["cue.exhale.mp3"]
    assert {k: v for k, v in after.items() if k != "cue.exhale.mp3"} == {
        k: v for k, v in before.items() if k != "cue.exhale.mp3"
    }
    new = {c["id"]: c for c in manifest(tmp_path)["clips"]}
    assert new["cue.exhale"]["text"] == "Exhale, and let your shoulders drop."
    assert new["cue.exhale"]["hash"] != old_hash["cue.exhale"]
    assert new["cue.inhale"]["hash"] == old_hash["cue.inhale"]


def test_removing_a_spec_removes_its_file(tmp_path):
    engine = ToneEngine()
    render(SPECS, tmp_path, engine, progress=False)
    stray = tmp_path / "clips" / "old-leftover.mp3"
    stray.write_bytes(b"not ours any more")

    report = render(SPECS[:2], tmp_path, engine, progress=False)

    assert report.removed == ["cue.exhale", "old-leftover"]
    assert not (tmp_path / "clips" / "cue.exhale.mp3").exists()
    assert not stray.exists()
    assert [c["id"] for c in manifest(tmp_path)["clips"]] == sorted(s.id for s in SPECS[:2])
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == [
        "cue.inhale.mp3",
        "pose.child.intro.mp3",
    ]


def test_a_missing_or_altered_file_is_rendered_again(tmp_path):
    engine = ToneEngine()
    render(SPECS, tmp_path, engine, progress=False)
    (tmp_path / "clips" / "cue.inhale.mp3").unlink()
    with open(tmp_path / "clips" / "cue.exhale.mp3", "ab") as f:
        f.write(b"\0")

    report = render(SPECS, tmp_path, engine, progress=False)

    assert sorted(report.rendered) == ["cue.exhale", "cue.inhale"]
    assert all(check_clip(tmp_path / c["file"]) == [] for c in manifest(tmp_path)["clips"])


def test_new_voice_settings_rerender_everything(tmp_path):
    render(SPECS, tmp_path, ToneEngine(24000), progress=False)
    report = render(SPECS, tmp_path, ToneEngine(22050), progress=False)
    assert len(report.rendered) == 3
    assert {c["sample_rate"] for c in manifest(tmp_path)["clips"]} == {22050}


def test_an_unavailable_engine_stops_at_the_first_clip(tmp_path):
    engine = ToneEngine(fail_on="", error=EngineUnavailable("no network; use --engine offline"))
    specs = [ClipSpec(f"clip-{i:03d}", f"Breath number {i}.") for i in range(200)]

    with pytest.raises(EngineUnavailable, match="--engine offline"):
        render(specs, tmp_path, engine, jobs=2, progress=False)

    assert len(engine.spoken) == 1
    assert not (tmp_path / "manifest.json").exists()


def test_a_failure_midway_keeps_the_clips_already_done(tmp_path):
    engine = ToneEngine(fail_on="third")
    specs = [ClipSpec("a", "first"), ClipSpec("b", "second"), ClipSpec("c", "third")]
    with pytest.raises(RuntimeError, match="engine broke"):
        render(specs, tmp_path, engine, jobs=1, progress=False)
    assert [c["id"] for c in manifest(tmp_path)["clips"]] == ["a", "b"]

    engine.fail_on = None
    engine.spoken.clear()
    report = render(specs, tmp_path, engine, jobs=2, progress=False)
    assert report.rendered == ["c"] and engine.spoken == ["third"]


def test_a_clip_that_breaks_alexas_rules_is_an_error(tmp_path, monkeypatch):
    # a 240 s limit of 1 s stands in for the real one, to keep the test quick
    monkeypatch.setattr(mp3check, "MAX_DURATION_S", 1.0)
    long_text = "Breathe in, and breathe out, slowly, all the way down to your belly."
    with pytest.raises(RenderError, match=r"'long'.*longer than 1 s"):
        render([ClipSpec("long", long_text)], tmp_path, ToneEngine(), progress=False)
    assert not (tmp_path / "clips" / "long.mp3").exists()


@pytest.mark.parametrize(
    "specs",
    [
        [ClipSpec("../escape", "x")],
        [ClipSpec("has space", "x")],
        [ClipSpec("", "x")],
        [ClipSpec("same", "x"), ClipSpec("Same", "y")],
        [ClipSpec("blank", "  ")],
    ],
)
def test_bad_specs_are_refused_before_anything_is_spoken(tmp_path, specs):
    engine = ToneEngine()
    with pytest.raises(ValueError):
        render(specs, tmp_path, engine, progress=False)
    assert engine.spoken == []


def test_a_corrupt_manifest_means_rendering_afresh(tmp_path):
    render(SPECS, tmp_path, ToneEngine(), progress=False)
    (tmp_path / "manifest.json").write_text("{ not json", encoding="utf-8")
    assert load_manifest(tmp_path) == {}
    report = render(SPECS, tmp_path, ToneEngine(), progress=False)
    assert len(report.rendered) == 3


def test_progress_callback_sees_every_rendered_clip(tmp_path):
    calls: list[tuple[int, int, str]] = []
    render(SPECS, tmp_path, ToneEngine(), jobs=2, progress=lambda *a: calls.append(a))
    assert [c[:2] for c in calls] == [(1, 3), (2, 3), (3, 3)]
    assert sorted(c[2] for c in calls) == sorted(s.id for s in SPECS)


def test_text_progress_redraws_one_line_on_a_tty_and_prints_lines_otherwise():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    bar = TextProgress(tty, width=10)
    for i in range(1, 5):
        bar(i, 4, f"clip{i}")
    out = tty.getvalue()
    assert out.count("\r") == 4 and out.endswith("\n") and out.count("\n") == 1
    assert "[##########] 4/4" in out

    log = io.StringIO()
    lines = TextProgress(log)
    for i in range(1, 101):
        lines(i, 100, f"clip{i}")
    printed = log.getvalue().splitlines()
    assert 10 <= len(printed) <= 12 and printed[-1].startswith("rendering audio: 100/100")


def test_render_with_piper_makes_clips_alexa_accepts(tmp_path):
    specs = [
        ClipSpec("cue.inhale", "Inhale, lift your heart."),
        ClipSpec("cue.exhale", "Exhale, and fold forward."),
        ClipSpec("cue.hold", "Hold here for five slow breaths."),
    ]
    report = render(specs, tmp_path, PiperEngine(), jobs=2, progress=False)

    assert len(report.rendered) == 3
    for clip in manifest(tmp_path)["clips"]:
        assert check_clip(tmp_path / clip["file"]) == []
        assert clip["engine"] == "piper" and "joe" in clip["voice"]
        assert clip["sample_rate"] == 22050  # piper's own rate, which Alexa allows
        assert 0.8 < clip["duration"] < 5.0
        delivered = decode_mp3((tmp_path / clip["file"]).read_bytes())
        assert loudness(delivered) == pytest.approx(TARGET_LUFS, abs=0.5)
    assert render(specs, tmp_path, PiperEngine(), progress=False).rendered == []


def test_an_error_ends_the_progress_line_so_the_message_stands_alone(tmp_path):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    specs = [ClipSpec("a", "first"), ClipSpec("b", "second"), ClipSpec("c", "third")]
    with pytest.raises(RuntimeError):
        render(specs, tmp_path, ToneEngine(fail_on="third"), jobs=1, progress=TextProgress(tty))
    assert tty.getvalue().count("\r") == 2 and tty.getvalue().endswith("\n")


def test_a_tampered_manifest_cannot_delete_files_outside_clips(tmp_path):
    audio_dir = tmp_path / "audio"
    render(SPECS, audio_dir, ToneEngine(), progress=False)
    precious = tmp_path / "precious.mp3"
    precious.write_bytes(b"keep me")
    data = manifest(audio_dir)
    data["clips"].append({**data["clips"][0], "id": "../precious", "file": "../precious.mp3"})
    (audio_dir / "manifest.json").write_text(json.dumps(data), encoding="utf-8")

    assert "../precious" not in load_manifest(audio_dir)
    render(SPECS[:1], audio_dir, ToneEngine(), progress=False)
    assert precious.read_bytes() == b"keep me"
