"""``yoga-skill play``: the session's timeline, dry run, export, keys, and no audio device."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import mutagen.mp3
import numpy as np
import pytest
from conftest import ROUTINE

from skill.audio import AUDIO_DIR
from skill.audio.catalogue import catalogue
from skill.audio.player import export, playback
from skill.audio.player import timeline as tl_module
from skill.audio.player.playback import (
    BACK_GRACE_S,
    NO_DEVICE,
    NoAudioDevice,
    PlayerState,
    advance,
    handle_key,
    status_line,
)
from skill.audio.player.timeline import (
    Clip,
    PlayerError,
    Session,
    Timeline,
    build_timeline,
)
from skill.audio.processing import Pcm
from skill.audio.render import render, write_manifest
from skill.cli import main
from skill.routine.coach import Coach
from skill.routine.state import RELAX_SECONDS_PER_BREATH
from skill.speech.narration import PAUSE_BREATH_IN, PAUSE_BREATH_OUT, PAUSE_SHORT, Narrator

COACH = Coach(ROUTINE)
VARIATIONS = {"advanced_high_lunge", "reclined_pigeon"}
POSE_IDS = [p.id for p in ROUTINE.poses]


def expected_hold_pause(breaths: int) -> float:
    """The silence in a hold: a breath in and a breath out for each breath, in seconds."""
    return breaths * (PAUSE_BREATH_IN + PAUSE_BREATH_OUT) / 1000


def speech_seconds(text: str) -> float:
    """How long a stand-in clip of ``text`` lasts: about as long as a voice would take."""
    return round(0.3 + 0.06 * len(text.split()), 3)


def fake_clips(folder: Path) -> dict[str, Clip]:
    """Every clip the skill has, in memory, with lengths as a voice would give (no files)."""
    clips = {}
    for spec in catalogue(ROUTINE):
        if spec.parts:
            seconds = sum(speech_seconds(text) + pause for text, pause in spec.parts)
        else:
            seconds = speech_seconds(spec.text)
        clips[spec.id] = Clip(spec.id, spec.text, folder / f"{spec.id}.mp3", round(seconds, 3))
    return clips


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Clip]:
    return fake_clips(tmp_path_factory.mktemp("fake") / "clips")


def timeline(clips, **options) -> Timeline:
    return build_timeline(ROUTINE, clips, Session(**options))


def segment_ids(tl: Timeline) -> list[tuple[str, str]]:
    """(part id, side) of each segment in the order the timeline plays them."""
    out = []
    for section in tl.sections:
        if isinstance(section.key, int):
            seg = COACH.segments[section.key]
            part = COACH.part(seg)
            out.append((part.id, part.sides[seg.side]))
    return out


def expected_segments(variations: bool) -> list[tuple[str, str]]:
    out = []
    for seg in COACH.segments:
        part = COACH.part(seg)
        if seg.variation is None or variations:
            out.append((part.id, part.sides[seg.side]))
    return out


# ------------------------------------------------------------------------------ timeline


@pytest.mark.parametrize("mode", ["hold", "flow"])
def test_a_session_runs_welcome_every_pose_both_sides_in_order_then_closing(clips, mode):
    tl = timeline(clips, mode=mode)
    assert tl.cues[0].section == "welcome"
    assert tl.cues[0].clip_id == f"welcome--welcome_{mode}"
    assert [c.clip_id for c in tl.cues[-2:]] == ["closing", "goodbye_finished"]
    assert all(c.section == "closing" for c in tl.cues[-2:])
    # hold mode says yes to every variation offered; flow mode (like the skill) offers none
    assert segment_ids(tl) == expected_segments(variations=mode == "hold")
    two_sided = {p.id for p in ROUTINE.poses if p.two_sided}
    for pose in two_sided:
        assert (pose, "right") in segment_ids(tl) and (pose, "left") in segment_ids(tl)
    # back to back, no gaps or overlaps
    for before, after in zip(tl.cues, tl.cues[1:], strict=False):
        assert after.start == pytest.approx(before.end, abs=0.002)
    assert tl.total == pytest.approx(sum(c.duration + c.pause for c in tl.cues), abs=0.01)


def test_nothing_asks_the_runner_to_speak(clips):
    for mode in ("hold", "flow"):
        ids = [c.clip_id for c in timeline(clips, mode=mode).cues]
        assert not [i for i in ids if i.split(".")[0] in tl_module.UNHEARD], ids
        assert not [i for i in ids if "reprompt" in i]


def test_each_clip_is_a_block_and_the_silence_after_it_is_its_last_lines_pause(clips):
    tl = timeline(clips)
    by_id = {c.clip_id: c for c in tl.cues}
    head = by_id["intro.high_lunge--step.high_lunge.1.right"]
    assert head.pause == 2.5 and head.doing == "step 1" and head.where == "High lunge, right side"
    assert [label for _, label in head.marks] == ["intro", "step 1"]
    steps = by_id["step.high_lunge.2.right--step.high_lunge.3.right--step.high_lunge.4.right"]
    assert steps.pause == 2.5 and steps.doing == "steps 2-4"
    assert [label for _, label in steps.marks] == ["step 2", "step 3", "step 4"]
    assert steps.doing_at(0) == "step 2" and steps.doing_at(steps.duration) == "step 4"
    assert by_id["hold_start.5--breath_out"].pause == PAUSE_BREATH_OUT / 1000
    assert by_id["breath_in.3--hold_end"].pause == PAUSE_SHORT / 1000
    assert by_id["goodbye_finished"].pause == 0


@pytest.mark.parametrize("breaths", [1, 5, 15])
def test_a_hold_lasts_its_breaths(clips, breaths):
    tl = timeline(clips, breaths=breaths)
    opening = [i for i, c in enumerate(tl.cues) if c.clip_id.startswith("hold_start")]
    assert len(opening) == len(expected_segments(True)) - 1  # all but the relaxation
    silence = expected_hold_pause(breaths)  # breaths x (breath in + breath out pauses)
    lines = list(Narrator(ROUTINE).hold_lines(breaths))
    spoken = sum(speech_seconds(line.text) for line in lines) + PAUSE_SHORT / 1000
    for at in opening:  # the opening and the shared ending, with the pause between them
        hold = tl.cues[at : at + 2]
        assert [c.doing for c in hold] == ["hold", "hold"]
        assert hold[1].clip_id.endswith("--hold_end")
        lasts = hold[0].duration + hold[0].pause + hold[1].duration
        assert lasts == pytest.approx(silence + spoken, abs=0.01)
    labels = [label for c in tl.cues[opening[0] : opening[0] + 2] for _, label in c.marks]
    breaths_said = [label for label in labels if label.startswith("breath")]
    assert breaths_said == [f"breath {n} of {breaths}" for n in range(1, breaths + 1)]
    relax = next(c for c in tl.cues if c.clip_id == "relax_start")
    assert relax.pause == breaths * RELAX_SECONDS_PER_BREATH


def test_more_breaths_make_a_longer_session_and_flow_is_shorter_than_hold(clips):
    hold5, hold10 = timeline(clips, breaths=5), timeline(clips, breaths=10)
    holds = sum(1 for c in hold5.cues if c.clip_id.startswith("hold_start"))
    per_breath = expected_hold_pause(1) + speech_seconds("Breathe in.") + speech_seconds("And out.")
    relax = 5 * RELAX_SECONDS_PER_BREATH
    assert hold10.total - hold5.total == pytest.approx(holds * 5 * per_breath + relax, abs=0.05)
    assert timeline(clips, mode="flow").total < hold5.total / 2


@pytest.mark.parametrize("words", ["pigeon", "sleeping pigeon", "Pigeon pose"])
def test_from_starts_at_that_pose_without_the_welcome(clips, words):
    tl = timeline(clips, start_at=tl_module.resolve_part(COACH, words))
    assert tl.cues[0].clip_id.startswith("intro.pigeon--")
    assert segment_ids(tl)[0] == ("pigeon", "right")
    assert [s for s, _ in segment_ids(tl)] == ["pigeon", "pigeon", "reclined_pigeon"] * 1 + [
        "reclined_pigeon",
        "relaxation",
    ]
    assert tl.cues[-1].clip_id == "goodbye_finished"


def test_from_a_variation_includes_it_even_without_variations(clips):
    tl = timeline(clips, start_at="reclined_pigeon", variations=False)
    assert segment_ids(tl)[:2] == [("reclined_pigeon", "left"), ("reclined_pigeon", "right")]


def test_an_unknown_pose_lists_the_ids():
    with pytest.raises(PlayerError) as caught:
        tl_module.resolve_part(COACH, "headstand")
    message = str(caught.value)
    assert "\n" not in message and "'headstand'" in message
    assert all(i in message for i in [*POSE_IDS, *VARIATIONS])


@pytest.mark.parametrize("mode", ["hold", "flow"])
def test_no_variations_leaves_them_out(clips, mode):
    tl = timeline(clips, mode=mode, variations=False)
    assert {part for part, _ in segment_ids(tl)} == set(POSE_IDS)
    assert not [c for c in tl.cues if any(v in c.clip_id for v in VARIATIONS)]
    assert segment_ids(tl) == expected_segments(variations=False)


def test_a_stale_clip_is_an_error_naming_it(clips):
    stale = dict(clips)
    old = stale["tip.pigeon"]
    stale["tip.pigeon"] = replace(old, text="Top tip: an older wording.")
    with pytest.raises(PlayerError, match=r"'tip\.pigeon' is stale.*render-audio"):
        timeline(stale)


def test_a_block_not_rendered_falls_back_to_its_lines_clips(clips, tmp_path):
    partial = dict(clips)
    block = "intro.childs_pose--targets.childs_pose--step.childs_pose.1.both"
    del partial[block]
    with pytest.raises(PlayerError, match=rf"no clip '{block}'.*render-audio"):
        timeline(partial)
    narrator_lines = [
        ("intro.childs_pose", "Pose 9: Child's pose.", 0.4),
        ("targets.childs_pose", None, 0.7),
        ("step.childs_pose.1.both", None, 2.5),
        ("step.childs_pose.2.both--step.childs_pose.3.both", None, 2.5),
    ]
    for line_id, text, _ in narrator_lines:
        if line_id not in partial:
            partial[line_id] = Clip(line_id, text or "", tmp_path / f"{line_id}.mp3", 1.0)
    tl = timeline(partial)
    ids = [c.clip_id for c in tl.cues]
    at = ids.index("intro.childs_pose")
    assert ids[at : at + 4] == [line_id for line_id, _, _ in narrator_lines]
    assert [c.pause for c in tl.cues[at : at + 4]] == [pause for _, _, pause in narrator_lines]
    assert [c.doing for c in tl.cues[at : at + 4]] == ["intro", "intro", "step 1", "steps 2-3"]


# ------------------------------------------------------------------------------ keys


@pytest.fixture(scope="module")
def state(clips) -> PlayerState:
    timelines = {m: timeline(clips, mode=m) for m in ("hold", "flow")}
    return PlayerState(timelines, "hold")


def at_section(state: PlayerState, index: int, into: float = 0.0) -> PlayerState:
    return replace(state, position=state.timeline.sections[index].start + into)


def section_of(state: PlayerState) -> int:
    return state.timeline.section_index_at(state.position)


def press(state: PlayerState, keys: Iterable[str]) -> PlayerState:
    for key in keys:
        state = handle_key(state, key)
    return state


def test_n_skips_to_the_next_segment_and_past_the_last_ends(state):
    moved = press(at_section(state, 3, into=5), "n")
    assert section_of(moved) == 4
    assert moved.position == moved.timeline.sections[4].start
    last = len(state.timeline.sections) - 1
    assert press(at_section(state, last, into=1), "n").finished


def test_b_goes_back_a_segment_or_restarts_this_one(state):
    early = at_section(state, 5, into=BACK_GRACE_S - 1)
    assert press(early, "b").position == state.timeline.sections[4].start
    late = at_section(state, 5, into=BACK_GRACE_S + 1)
    assert press(late, "b").position == state.timeline.sections[5].start
    assert press(late, "bb").position == state.timeline.sections[4].start
    assert press(at_section(state, 0, into=1), "b").position == 0


def test_r_repeats_this_segment_from_its_start(state):
    into = at_section(state, 7, into=30)
    assert press(into, "r").position == state.timeline.sections[7].start
    assert press(into, "rr").position == state.timeline.sections[7].start


def test_f_and_h_switch_mode_keeping_the_place(state):
    warrior_left = next(
        i for i, (part, side) in enumerate(segment_ids(state.timeline)) if part == "warrior_two"
    )
    hold = at_section(state, warrior_left + 2, into=12)  # +1: the welcome; +1: the left side
    assert hold.timeline.cue_at(hold.position).where == "Warrior two, left side"
    flow = press(hold, "f")
    assert flow.mode == "flow" and flow.timeline is state.timelines["flow"]
    cue = flow.timeline.cue_at(flow.position)
    assert cue.where == "Warrior two, left side" and cue.start == flow.position
    assert press(flow, "f") == flow
    back = press(flow, "h")
    assert back.mode == "hold"
    assert back.position == hold.timeline.sections[warrior_left + 2].start
    assert press(state, "f").position == 0  # the welcome maps to the welcome


def test_f_from_a_variation_lands_on_its_pose(state):
    hold = state
    while hold.timeline.cue_at(hold.position).where != "Advanced high lunge, right side":
        hold = press(hold, "n")
    flow = press(hold, "f")
    assert flow.timeline.cue_at(flow.position).where == "High lunge, right side"
    closing = replace(state, position=state.timeline.sections[-1].start + 1)
    assert press(closing, "f").timeline.cue_at(press(closing, "f").position).section == "closing"


def test_space_pauses_and_resumes_and_q_quits(state):
    playing = advance(state, 10)
    assert playing.position == 10
    paused = press(playing, " ")
    assert paused.paused and advance(paused, 10).position == 10
    assert "paused" in status_line(paused)
    moved = press(paused, "n")
    assert moved.paused and moved.position > 10  # keys still move while paused
    resumed = press(moved, " ")
    assert not resumed.paused and advance(resumed, 1).position == moved.position + 1
    quit_ = press(resumed, "q")
    assert quit_.quit and press(quit_, "n") == quit_
    assert press(state, "x?\x1b") == state


def test_the_status_line_shows_pose_side_step_and_time_left(state):
    tl = state.timeline
    cue = next(c for c in tl.cues if c.clip_id.startswith("step.high_lunge.2.right--"))
    step2 = next(at for at, label in cue.marks if label == "step 2")
    line = status_line(replace(state, position=cue.start + step2 + 0.1))
    assert line.startswith("High lunge, right side | step 2 | hold mode | ")
    assert line.endswith(f"{tl_module.clock(tl.total - cue.start - step2 - 0.1)} left")
    ending = next(c for c in tl.cues if c.clip_id.endswith("--hold_end"))  # breaths 3 to 5
    assert "breath 3 of 5" in status_line(replace(state, position=ending.start + 0.1))
    done = advance(state, tl.total + 5)
    assert done.finished and done.position == tl.total
    assert status_line(done).startswith("finished")


# ------------------------------------------------------------------------------ the command


def write_set(audio_dir: Path, clips: dict[str, Clip], ids: Iterable[str] | None = None) -> None:
    """A manifest of stand-in clips, and a file for each (dry runs only check files exist)."""
    (audio_dir / "clips").mkdir(parents=True, exist_ok=True)
    entries = {}
    for clip_id in ids if ids is not None else clips:
        clip = clips[clip_id]
        (audio_dir / "clips" / f"{clip_id}.mp3").write_bytes(b"")
        entries[clip_id] = {
            "id": clip_id,
            "text": clip.text,
            "file": f"clips/{clip_id}.mp3",
            "duration": clip.duration,
        }
    write_manifest(audio_dir, entries)


def session_ids(clips, modes=("hold", "flow"), **options) -> set[str]:
    return {c.clip_id for m in modes for c in timeline(clips, mode=m, **options).cues}


@pytest.fixture(scope="module")
def fake_dir(tmp_path_factory, clips) -> Path:
    audio_dir = tmp_path_factory.mktemp("fake_set")
    write_set(audio_dir, clips, session_ids(clips))
    return audio_dir


@pytest.mark.parametrize("mode", ["hold", "flow"])
def test_dry_run_prints_every_pose_and_a_total(fake_dir, clips, capsys, mode):
    assert main(["play", "--dry-run", "--mode", mode, "--audio-dir", str(fake_dir)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    tl = timeline(clips, mode=mode)
    assert len(lines) == len(tl.cues) + 1
    for pose in ROUTINE.poses:
        assert pose.name in out
    assert "High lunge, right side" in out and "High lunge, left side" in out
    assert lines[0].lstrip().startswith("0:00  (") and '"Welcome to post run yoga' in lines[0]
    assert (
        lines[-1]
        == f"total {tl_module.clock(tl.total)}: {mode} mode, 5 breaths, {len(tl.cues)} clips"
    )
    assert all(len(line) < 160 for line in lines)
    if mode == "hold":
        assert "steps 2-4" in out and '"Hold here for 5 breaths.' in out


def test_dry_run_from_a_pose(fake_dir, capsys):
    assert main(["play", "--dry-run", "--from", "savasana", "--audio-dir", str(fake_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "Savasana, the closing relaxation" in lines[0] and "step 1" in lines[0]
    assert "steps 2-6" in lines[1]
    assert "Closing" in lines[-2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--breaths", "99"], "--breaths must be between 1 and 15, not 99"),
        (["--breaths", "0"], "--breaths must be between 1 and 15, not 0"),
        (["--from", "headstand"], "no pose called 'headstand'; choose one of: forward_fold, "),
        (["--export", "/no/such/dir/x.mp3"], "cannot write /no/such/dir/x.mp3: /no/such/dir is"),
        (["--dry-run", "--export", "x.mp3"], "not allowed with"),
        (["--mode", "fast"], "invalid choice"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(fake_dir, capsys, args, message):
    assert main(["play", *args, "--audio-dir", str(fake_dir)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("yoga-skill: ") and message in err
    assert err.count("\n") == 1


def test_no_clips_stale_clips_or_missing_files_are_one_line_errors(tmp_path, clips, capsys):
    assert main(["play", "--dry-run", "--audio-dir", str(tmp_path)]) == 2
    assert "no usable manifest.json); run yoga-skill render-audio" in capsys.readouterr().err
    ids = session_ids(clips, modes=("hold",))
    stale = {**clips, "closing": replace(clips["closing"], text="Goodbye for now.")}
    write_set(tmp_path, stale, ids)
    assert main(["play", "--dry-run", "--audio-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "clip 'closing' is stale" in err and err.count("\n") == 1
    write_set(tmp_path, clips, ids)
    (tmp_path / "clips" / "tip.pigeon.mp3").unlink()
    assert main(["play", "--dry-run", "--audio-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "tip.pigeon.mp3 is missing" in err and err.count("\n") == 1


# ------------------------------------------------------------------------------ real audio


class ToneEngine:
    """A deterministic stand-in voice: a tone whose pitch and length come from the text."""

    name = "tone"
    voice = "test tone"
    settings: ClassVar[dict[str, object]] = {"rate": 22050}

    def synthesize(self, text: str) -> Pcm:
        rate = 22050
        seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        t = np.arange(round(speech_seconds(text) * rate)) / rate
        body = 0.3 * np.sin(2 * np.pi * (200 + seed % 400) * t)
        gap = np.zeros(rate // 10)
        return Pcm.from_float(np.concatenate([gap, body, gap]), rate)


@pytest.fixture(scope="module")
def tone_dir(tmp_path_factory, clips) -> Path:
    """Real MP3s, rendered as the skill renders them, for the short session from savasana."""
    wanted = session_ids(clips, start_at="relaxation")
    specs = [s for s in catalogue(ROUTINE) if s.id in wanted]
    assert {s.id for s in specs} == wanted
    audio_dir = tmp_path_factory.mktemp("tones")
    render(specs, audio_dir, ToneEngine(), jobs=2, progress=False)
    return audio_dir


def test_export_writes_one_mp3_as_long_as_the_timeline(tone_dir, tmp_path, capsys):
    out_file = tmp_path / "session.mp3"
    args = ["play", "--from", "relaxation", "--breaths", "2", "--audio-dir", str(tone_dir)]
    assert main([*args, "--export", str(out_file)]) == 0
    out, err = capsys.readouterr()
    tl = build_timeline(
        ROUTINE, tl_module.load_clips(tone_dir), Session(breaths=2, start_at="relaxation")
    )
    info = mutagen.mp3.MP3(out_file).info
    assert info.length == pytest.approx(tl.total, abs=0.5)
    assert info.channels == 1 and info.sample_rate == 22050 and info.bitrate == 48000
    assert out.startswith(f"wrote {out_file}: {tl_module.clock(info.length)} (")
    assert out.rstrip().endswith(f"{out_file.stat().st_size / 1e6:.1f} MB")
    assert "decoding" in err and "encoding" in err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_export_places_each_clip_at_its_start(tone_dir, tmp_path):
    tl = build_timeline(
        ROUTINE, tl_module.load_clips(tone_dir), Session(breaths=1, start_at="relaxation")
    )
    result = export.export_mp3(tl, tmp_path / "s.mp3")
    assert result.duration == pytest.approx(tl.total, abs=0.05)
    samples, rate = export.decode_files(tl.files())
    whole = export.mix(tl, samples, rate, 0, round(tl.total * rate))
    relax = next(c for c in tl.cues if c.clip_id == "relax_start")
    quiet = whole[round((relax.start + relax.duration + 0.2) * rate) : round(relax.end * rate)]
    assert relax.pause == RELAX_SECONDS_PER_BREATH and not quiet.any()
    first = samples[tl.cues[0].file]
    assert np.array_equal(whole[: len(first)], first)
    # any stretch mixed on its own is the same as that stretch of the whole
    start = round(relax.start * rate) - 1000
    assert np.array_equal(export.mix(tl, samples, rate, start, 5000), whole[start : start + 5000])


def test_export_from_the_committed_clips(tmp_path, capsys):
    out_file = tmp_path / "relax.mp3"
    assert main(["play", "--from", "relaxation", "--breaths", "1", "--export", str(out_file)]) == 0
    capsys.readouterr()
    tl = build_timeline(
        ROUTINE, tl_module.load_clips(AUDIO_DIR), Session(breaths=1, start_at="relaxation")
    )
    assert mutagen.mp3.MP3(out_file).info.length == pytest.approx(tl.total, abs=0.5)


# ------------------------------------------------------------------------------ the device


class FakeDevice:
    """Pulls audio from the player's generator on a thread, as miniaudio's callback does."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.chunks: list[np.ndarray] = []
        self.closed = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, generator) -> None:
        def pull() -> None:
            while not self._stop.is_set():
                self.chunks.append(np.asarray(generator.send(2205)))
                self._stop.wait(0.002)

        self._thread = threading.Thread(target=pull, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.closed = True


class ScriptedKeys:
    """Keys for the player: each entry is pressed once the previous one has been read."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = list(keys)
        self.entered = self.left = False

    def __enter__(self) -> ScriptedKeys:
        self.entered = True
        return self

    def __exit__(self, *exc) -> None:
        self.left = True

    def read(self, timeout: float) -> str:
        threading.Event().wait(0.01)
        return self.keys.pop(0) if self.keys else ""


def test_play_feeds_the_device_and_follows_the_keys(tone_dir):
    clips = tl_module.load_clips(tone_dir)
    timelines = {"hold": build_timeline(ROUTINE, clips, Session(start_at="relaxation"))}
    devices: list[FakeDevice] = []

    def factory(rate: int) -> FakeDevice:
        devices.append(FakeDevice(rate))
        return devices[-1]

    keys = ScriptedKeys([" ", "", "", " ", "", "q"])
    out = io.StringIO()
    final = playback.play(
        timelines, "hold", device_factory=factory, keys=keys, out=out, coach=COACH
    )
    assert out.getvalue() == (
        f"{playback.KEYS_HELP}\n"
        "to carry on from here later: yoga-skill play --mode hold --from relaxation\n"
    )
    (device,) = devices
    assert device.rate == 22050 and device.closed
    assert keys.entered and keys.left
    assert final.quit and not final.paused
    assert 0 < final.position < timelines["hold"].sections[1].start  # still in savasana
    assert any(chunk.any() for chunk in device.chunks)
    assert all(chunk.dtype == np.int16 and len(chunk) in (0, 2205) for chunk in device.chunks)


def test_play_to_the_end_with_no_keys(tone_dir, capsys):
    clips = tl_module.load_clips(tone_dir)
    short = build_timeline(ROUTINE, clips, Session(start_at="relaxation", breaths=1))
    tl = Timeline(short.mode, short.breaths, short.cues[-2:])  # the closing, a few seconds
    tl = Timeline(
        tl.mode, tl.breaths, tuple(replace(c, start=c.start - tl.cues[0].start) for c in tl.cues)
    )
    devices: list[FakeDevice] = []

    def factory(rate: int) -> FakeDevice:
        devices.append(FakeDevice(rate))
        return devices[-1]

    final = playback.play({"hold": tl}, "hold", device_factory=factory, keys=ScriptedKeys([]))
    assert final.finished and not final.quit
    played = np.concatenate(devices[0].chunks)
    assert len(played) >= round(tl.total * 22050)
    assert playback.KEYS_HELP in capsys.readouterr().out


def test_with_no_audio_device_play_says_so_in_one_line_and_exits_2(fake_dir, monkeypatch, capsys):
    opened: list[int] = []

    def no_device(rate: int):
        opened.append(rate)
        raise NoAudioDevice(NO_DEVICE)

    monkeypatch.setattr(playback, "open_device", no_device)
    monkeypatch.setattr(playback, "read_clip", lambda path: Pcm(np.zeros(1, np.int16), 22050))
    assert main(["play", "--audio-dir", str(fake_dir)]) == 2
    out, err = capsys.readouterr()
    assert opened == [22050]
    assert out == ""
    assert err == f"yoga-skill: {NO_DEVICE}\n"
    assert NO_DEVICE == "no audio output device found; try --dry-run or --export FILE.mp3"


class FakeMiniaudio:
    """What open_device asks of miniaudio, with the answers a test wants."""

    class MiniaudioError(Exception):
        pass

    class SampleFormat:
        SIGNED16 = 2

    def __init__(self, playbacks=(), init_error=False, backend="ALSA") -> None:
        self.playbacks = [{"name": name} for name in playbacks]
        self.init_error = init_error
        self.backend = backend
        self.closed: list[object] = []
        fake = self

        class Devices:
            def get_playbacks(self):
                return fake.playbacks

        class PlaybackDevice:
            def __init__(self, **kwargs) -> None:
                if fake.init_error:
                    raise fake.MiniaudioError("failed to init device", -401)
                self.kwargs = kwargs
                self.backend = fake.backend

            def close(self) -> None:
                fake.closed.append(self)

        self.Devices = Devices
        self.PlaybackDevice = PlaybackDevice


@pytest.mark.parametrize(
    "fake",
    [
        FakeMiniaudio(playbacks=()),
        FakeMiniaudio(playbacks=["Discard all samples (playback) or generate zero samples"]),
        FakeMiniaudio(playbacks=["default"], init_error=True),  # this machine: ALSA, no card
        FakeMiniaudio(playbacks=["default"], backend="Null"),
    ],
)
def test_open_device_finds_no_device(monkeypatch, fake):
    monkeypatch.setitem(__import__("sys").modules, "miniaudio", fake)
    with pytest.raises(NoAudioDevice, match=r"^no audio output device found; try --dry-run"):
        playback.open_device(22050)
    assert len(fake.closed) == (1 if fake.backend == "Null" else 0)


def test_open_device_opens_a_real_one_mono_16_bit(monkeypatch):
    fake = FakeMiniaudio(playbacks=["Discard all samples", "pulse"])
    monkeypatch.setitem(__import__("sys").modules, "miniaudio", fake)
    device = playback.open_device(24000)
    assert device.kwargs["nchannels"] == 1 and device.kwargs["sample_rate"] == 24000


def test_open_device_on_this_machine(capfd):
    try:
        device = playback.open_device(22050)
    except NoAudioDevice as exc:
        assert str(exc) == NO_DEVICE
        assert capfd.readouterr().err == ""  # ALSA's complaints are kept off the terminal
    else:  # pragma: no cover - a machine with sound
        device.close()
        pytest.skip("this machine has an audio output device")


def test_terminal_keys_cbreak_and_restore_even_on_ctrl_c():
    import termios

    master, slave = os.openpty()
    try:
        with open(slave, closefd=False) as stream:
            before = termios.tcgetattr(slave)
            keys = playback.TerminalKeys(stream)
            with pytest.raises(KeyboardInterrupt), keys:
                assert not termios.tcgetattr(slave)[3] & termios.ICANON
                os.write(master, b"n")
                assert keys.read(1.0) == "n"
                assert keys.read(0.01) == ""
                raise KeyboardInterrupt
            assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_terminal_keys_without_a_terminal_wait_and_give_nothing(tmp_path):
    with open(tmp_path / "in.txt", "w+") as stream, playback.TerminalKeys(stream) as keys:
        assert keys.read(0.01) == ""
