"""The clip catalogue against the content, the committed clips, and clips in skill responses."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from alexa_limits import check_clip, check_ssml
from conftest import ROUTINE, send

from skill.alexa.dispatch import dispatch
from skill.alexa.handlers import build_skill
from skill.audio import AUDIO_DIR
from skill.audio.catalogue import LIVE_PREFIXES, OUTSIDE_REGISTRY, catalogue
from skill.audio.clips import AudioConfigError, clip_lookup
from skill.audio.manifest import load_manifest
from skill.local.envelopes import Session, slot
from skill.routine.coach import Coach
from skill.routine.says import Key, Say
from skill.routine.state import State
from skill.settings import Settings
from skill.speech.narration import Narrator, block_id
from skill.speech.ssml import MAX_AUDIO_SECONDS, MAX_AUDIO_TAGS
from skill.web.webhook import create_app

SPECS = catalogue(ROUTINE)
IDS = {spec.id for spec in SPECS}
BASE = "https://clips.example.com/audio"


def _random_walk(seed: int, steps: int = 400) -> list:
    """Blocks a runner can hear: a random walk over every operation of the state machine."""
    coach = Coach(ROUTINE)
    narrator = Narrator(ROUTINE)
    rng = random.Random(seed)
    part_ids = [p.id for p in ROUTINE.poses] + [v.id for p in ROUTINE.poses for v in p.variations]
    ops = [
        lambda s: coach.next(s),
        lambda s: coach.next(s),
        lambda s: coach.next(s),
        lambda s: coach.previous(s),
        lambda s: coach.repeat_step(s, rng.choice([None, 1, 2, 3, 9])),
        lambda s: coach.repeat_pose(s),
        lambda s: coach.skip_pose(s),
        lambda s: coach.go_to(s, rng.choice(part_ids)),
        lambda s: coach.switch_side(s),
        lambda s: coach.which_side(s),
        lambda s: coach.tip(s),
        lambda s: coach.targets(s),
        lambda s: coach.set_mode(s, rng.choice(["hold", "flow"])),
        lambda s: coach.set_breaths(s, rng.randint(0, 16)),
        lambda s: coach.yes(s),
        lambda s: coach.no(s),
        lambda s: coach.pause(s),
        lambda s: coach.resume(s),
        lambda s: coach.help(s),
        lambda s: coach.launch(s),
        lambda s: coach.start_over(s),
        lambda s: coach.fallback(s),
    ]
    state = State()
    blocks = []
    for _ in range(steps):
        turn = rng.choice(ops)(state)
        state = turn.state if not turn.end_session else turn.state._replace(status="active")
        blocks += narrator.blocks(turn.says) + narrator.blocks(turn.reprompt)
    return blocks


@pytest.mark.parametrize("seed", range(6))
def test_every_block_a_runner_can_hear_has_clips(seed: int) -> None:
    """Each block has its own clip, or (steps after a repeated one) a clip for each line."""
    for block in _random_walk(seed):
        block = tuple(line for line in block if not line.id.startswith(LIVE_PREFIXES))
        if not block:
            continue
        whole = block_id(block) in IDS
        each = all(line.id in IDS for line in block)
        assert whole or each, f"no clip for {block_id(block)}"


def test_catalogue_covers_every_step_tip_and_target_of_the_routine() -> None:
    texts = " ".join(spec.text for spec in SPECS)
    for pose in ROUTINE.poses:
        for part in pose.parts:
            assert f"targets.{part.id}" in IDS
            for side in part.sides:
                for number in range(1, len(part.steps) + 1):
                    assert f"step.{part.id}.{number}.{side or 'both'}" in IDS
            for cue in part.flow:
                assert cue in texts
        assert f"tip.{pose.id}" in IDS
    narrator = Narrator(ROUTINE)
    for breaths in range(1, 16):
        hold = narrator.blocks([Say(Key.HOLD, {"breaths": breaths})])
        assert len(hold) == 2 and all(block_id(block) in IDS for block in hold)
        assert block_id(hold[-1]).endswith("--hold_end")
    for key in OUTSIDE_REGISTRY:  # said by the play-through's handler
        assert key in IDS


def test_catalogue_ids_are_filename_safe_and_unique() -> None:
    assert len(IDS) == len(SPECS)
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec.id) for spec in SPECS)
    assert all("where" not in spec.id.split(".")[0] for spec in SPECS)


# ---------------------------------------------------------------------- the committed clips

MANIFEST = load_manifest(AUDIO_DIR)


def test_committed_manifest_is_not_stale() -> None:
    """Fails when a line of the routine or the prompts changed and its clip was not rerendered:
    run `yoga-skill render-audio`."""
    assert MANIFEST, "audio/manifest.json is missing"
    stale = [spec.id for spec in SPECS if MANIFEST.get(spec.id, {}).get("text") != spec.text]
    assert not stale, f"stale or missing clips (run yoga-skill render-audio): {stale[:10]}"
    extra = sorted(set(MANIFEST) - IDS)
    assert not extra, f"clips nobody says any more: {extra[:10]}"


def test_committed_clips_are_alexa_ready_and_true_to_the_manifest() -> None:
    files: dict[str, tuple[str, int]] = {}
    for clip_id, entry in MANIFEST.items():
        path = AUDIO_DIR / entry["file"]
        assert path.is_file(), f"{clip_id}: {path} is missing"
        assert check_clip(path) == [], clip_id
        assert path.stat().st_size == entry["bytes"], clip_id
        assert entry["bitrate"] == 48000 and entry["sample_rate"] in (16000, 22050, 24000)
        assert 0 < entry["duration"] <= 240
        assert entry["engine"] in ("gtts", "hibari", "piper")
        assert len(entry["hash"]) == 64
        # clips that say the same words (a step the same on either side) share one file
        made = (entry["hash"], entry["bytes"])
        assert files.setdefault(entry["file"], made) == made, clip_id
    total = sum(size for _, size in files.values())
    # Budget: Alexa takes 48 kbps only (6,000 bytes a second, silence included), so 20 MB is
    # 55 minutes. The set was 30.0 MB (82 minutes) while each introduction carried its steps
    # and each hold length had a clip of its own; now each piece of speech is rendered once
    # and composed in the response (README, "the prerendered clips").
    assert total < 20_000_000
    on_disk = {p.name for p in (AUDIO_DIR / "clips").iterdir()}
    assert on_disk == {Path(e["file"]).name for e in MANIFEST.values()}
    assert len(on_disk) == len({e["file"] for e in MANIFEST.values()})


def test_manifest_says_which_engine_and_voice_made_each_clip() -> None:
    manifest = json.loads((AUDIO_DIR / "manifest.json").read_text())
    assert manifest["format"]["bitrate_kbps"] == 48
    assert manifest["format"]["true_peak_dbtp"] == -1.0
    voices = {"hibari": "hibari heart (af_heart", "piper": "joe", "gtts": "co.uk"}
    for entry in manifest["clips"]:
        assert voices[entry["engine"]] in entry["voice"], entry["id"]


def test_committed_clips_keep_under_minus_1_dbtp_at_minus_16_lufs() -> None:
    """Levels as a listener gets them, decoded: every fifth clip (make audio-check measures
    them all)."""
    from skill.audio.processing import decode_mp3, loudness, true_peak_dbtp

    for clip_id in sorted(MANIFEST)[::5]:
        pcm = decode_mp3((AUDIO_DIR / MANIFEST[clip_id]["file"]).read_bytes())
        assert true_peak_dbtp(pcm) <= -1.0, clip_id
        assert loudness(pcm) == pytest.approx(-16.0, abs=0.5), clip_id


# ---------------------------------------------------------------------- clips in responses


def _session_responses(skill) -> list[dict]:
    session = Session()
    utterances = [
        ("launch", None),
        ("AMAZON.NextIntent", {}),
        ("AMAZON.NextIntent", {}),
        ("AMAZON.YesIntent", {}),
        ("RepeatStepIntent", {"step_number": slot("step_number", "2")}),
        ("AMAZON.NextIntent", {}),
        ("SetHoldLengthIntent", {"breaths": slot("breaths", "15")}),
        ("AMAZON.NextIntent", {}),
        ("WhereAmIIntent", {}),
        ("SetModeIntent", {"mode": slot("mode", "flow", resolved_id="flow", slot_type="ModeType")}),
        ("AMAZON.NextIntent", {}),
        (
            "GoToPoseIntent",
            {"pose": slot("pose", "savasana", resolved_id="relaxation", slot_type="PoseType")},
        ),
        ("SetModeIntent", {"mode": slot("mode", "hold", resolved_id="hold", slot_type="ModeType")}),
        ("AMAZON.NextIntent", {}),
    ]
    out = []
    for name, slots in utterances:
        envelope = session.launch() if name == "launch" else session.intent(name, slots)
        out.append(send(skill, session, envelope))
    return out


def test_responses_play_clips_within_alexas_limits() -> None:
    skill = build_skill(clips=clip_lookup(BASE))
    played = 0
    for response in _session_responses(skill):
        for speech in (
            response["response"].get("outputSpeech"),
            (response["response"].get("reprompt") or {}).get("outputSpeech"),
        ):
            if not speech:
                continue
            ssml = speech["ssml"]
            assert check_ssml(ssml) == []
            sources = re.findall(r'<audio src="([^"]+)"/>', ssml)
            assert len(sources) <= MAX_AUDIO_TAGS
            seconds = 0.0
            for src in sources:
                assert src.startswith(BASE + "/clips/")
                clip_id = src.removeprefix(BASE + "/clips/").removesuffix(".mp3")
                seconds += MANIFEST[clip_id]["duration"]
            assert seconds <= MAX_AUDIO_SECONDS
            played += len(sources)
    assert played > 30


def test_launch_in_hold_mode_is_all_clips() -> None:
    skill = build_skill(clips=clip_lookup(BASE))
    ssml = dispatch(skill, Session().launch())["response"]["outputSpeech"]["ssml"]
    without_tags = re.sub(r"<[^>]+>", "", ssml).strip()
    assert without_tags == ""
    assert ssml.count("<audio") == 5


def test_a_stale_clip_is_never_played(tmp_path: Path) -> None:
    manifest = json.loads((AUDIO_DIR / "manifest.json").read_text())
    for entry in manifest["clips"]:
        if entry["id"] == "tip.forward_fold--next_hint":
            entry["text"] = "Some words the skill no longer says."
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    skill = build_skill(clips=clip_lookup(BASE, tmp_path))
    ssml = dispatch(skill, Session().launch())["response"]["outputSpeech"]["ssml"]
    assert "next_hint.mp3" not in ssml
    assert "When you're ready, say next." in ssml


@pytest.mark.parametrize("url", ["http://clips.example.com/audio", "clips.example.com", "ftp://x"])
def test_audio_base_url_must_be_https(url: str) -> None:
    with pytest.raises(AudioConfigError, match="https"):
        clip_lookup(url)


def test_missing_manifest_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AudioConfigError, match="manifest"):
        clip_lookup(BASE, tmp_path)


def test_webhook_serves_the_clips_with_cache_headers() -> None:
    client = create_app(Settings(verify=False), skill=build_skill()).test_client()
    entry = MANIFEST["next_hint"]
    with client.get(f"/audio/{entry['file']}") as response:
        assert response.status_code == 200
        assert response.mimetype == "audio/mpeg"
        assert "max-age=" in response.headers["Cache-Control"]
        assert len(response.get_data()) == entry["bytes"]
    with client.get("/audio/clips/no-such-clip.mp3") as response:
        assert response.status_code == 404
    with client.get("/audio/../pyproject.toml") as response:
        assert response.status_code == 404
