"""Hands-free play-through on Alexa's audio player (skill/alexa/audioplayer.py and
skill/audio/queue.py).

The queue against the timeline, its tokens read back as untrusted, the committed silent streams,
then genuine request envelopes (PlaybackStarted, NearlyFinished, Finished, Stopped, Failed, the
PlaybackController commands and the built-in intents) through the skill object every entry point
uses, with progress in SQLite; and virtual-alexa's emulated audio player against the running
webhook. No timing is asserted anywhere.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.skill import CustomSkill
from conftest import PROMPTS, ROUTINE, check_response, said, send
from hypothesis import given
from hypothesis import strategies as st
from test_phrasings import HARNESS_DIR, MODELS_DIR, running_webhook

from skill.alexa.dispatch import dispatch, parse_envelope
from skill.alexa.handlers import build_skill
from skill.alexa.persistence import SqliteAdapter
from skill.audio.choice import Choice
from skill.audio.player.timeline import CLOSING, WELCOME, load_clips
from skill.audio.queue import (
    SILENCE_MS,
    PlayQueue,
    Queues,
    silence_path,
    silence_pieces,
)
from skill.local.envelopes import Session, slot
from skill.resources import AUDIO_DIR
from skill.routine.coach import Coach
from skill.routine.state import QUICK, State, focus

BASE = "https://clips.example.com/audio"
HARNESS = HARNESS_DIR / "audioplayer.js"
COACH = Coach(ROUTINE)
CLIPS = load_clips(AUDIO_DIR)
QUEUES = Queues(ROUTINE, lambda: CLIPS, AUDIO_DIR)
WHOLE = QUEUES.queue(Choice())
"""The session "play the whole routine" plays for a runner with no settings of their own."""


def segment_of(part_id: str, side: str) -> int:
    return next(
        i
        for i, seg in enumerate(COACH.segments)
        if COACH.part(seg).id == part_id and COACH.part(seg).sides[seg.side] == side
    )


PIGEON_LEFT = segment_of("pigeon", "left")


def url_of(queue: PlayQueue, index: int) -> str:
    return queue.url(BASE, queue.items[index])


# ---------------------------------------------------------------------- the queue, pure


@pytest.mark.parametrize(
    ("seconds", "pieces"),
    [
        (0.0, ()),
        (0.4, ()),  # after an introduction: the change of stream is gap enough
        (0.7, ()),
        (1.5, (1500,)),  # between flow cues
        (2.5, (2500,)),  # after a pose's steps
        (12.0, (12000,)),  # the closing relaxation at one breath
        (60.0, (24000, 24000, 12000)),  # at five breaths
        (180.0, (24000,) * 7 + (12000,)),  # at fifteen
        (4.0, (2500, 1500)),
        (3.0, (2500,)),  # what is left under the shortest piece is not played
    ],
)
def test_pauses_become_silent_streams(seconds: float, pieces: tuple[int, ...]) -> None:
    assert silence_pieces(seconds) == pieces


CHOICES = [
    Choice(),
    Choice(mode="flow"),
    Choice(breaths=15),
    Choice(breaths=1, brief=True, variations=False),
    Choice(plan=QUICK),
    Choice(mode="flow", plan=focus("hamstrings"), breaths=8),
]


@pytest.mark.parametrize("choice", CHOICES, ids=lambda c: c.name)
def test_the_queue_plays_every_clip_of_the_timeline_in_order(choice: Choice) -> None:
    queue = QUEUES.queue(choice)
    cues = queue.timeline.cues
    clips = [item for item in queue.items if not item.silence_ms]
    assert [(i.cue, i.clip_id, i.start) for i in clips] == [
        (n, cue.clip_id, cue.start) for n, cue in enumerate(cues)
    ]
    files = [CLIPS[cue.clip_id].file.relative_to(AUDIO_DIR).as_posix() for cue in cues]
    assert [i.path for i in clips] == files  # a clip's file (clips that say the same share one)
    assert all((AUDIO_DIR / item.path).is_file() for item in queue.items)
    # After each clip, its pause as silent streams: what the pieces can make of it.
    for number, cue in enumerate(cues):
        silences = [i.silence_ms for i in queue.items if i.cue == number and i.silence_ms]
        assert tuple(silences) == silence_pieces(cue.pause)
        assert abs(sum(silences) / 1000 - cue.pause) < 1.5
    assert [item.index for item in queue.items] == list(range(len(queue)))
    starts = [item.start for item in queue.items]
    assert starts == sorted(starts)
    # The sections: the welcome, each pose side once and in order, the closing.
    sections = queue.sections
    assert sections[0] == WELCOME and sections[-1] == CLOSING
    middle = sections[1:-1]
    assert all(isinstance(key, int) for key in middle)
    assert list(middle) == sorted(set(middle))


def test_the_whole_routine_plays_every_pose_side_and_the_relaxation() -> None:
    sides = [key for key in WHOLE.sections if isinstance(key, int)]
    assert sides == list(range(len(COACH.segments)))  # every variation too, by default
    relax = next(n for n, cue in enumerate(WHOLE.timeline.cues) if "relax_start" in cue.clip_id)
    rest = [i.silence_ms for i in WHOLE.items if i.cue == relax and i.silence_ms]
    assert sum(rest) == 5 * 12_000  # a slow breath's rest for each breath of a hold
    assert sum(item.duration for item in WHOLE.items) > 25 * 60


def test_tokens_name_their_stream_and_read_back() -> None:
    for queue in (WHOLE, QUEUES.queue(Choice(mode="flow", plan=focus("hips")))):
        for item in queue.items:
            token = queue.token(item)
            assert len(token) < 100
            found = QUEUES.find(token)
            assert found is not None and found[1] == item and found[0].choice == queue.choice


@pytest.mark.parametrize(
    "token",
    [
        None,
        42,
        "",
        "pry1",
        "pry2:hold-5-full-steps-var:0:" + WHOLE.items[0].check,  # another version
        "pry1:hold-5-full-steps-var:0:00000000",  # stale: another clip plays there
        f"pry1:hold-5-full-steps-var:{len(WHOLE)}:{WHOLE.items[0].check}",  # past the end
        "pry1:hold-5-full-steps-var:-1:" + WHOLE.items[0].check,
        "pry1:hold-5-full-steps-var:01:" + WHOLE.items[1].check,
        "pry1:hold-0-full-steps-var:0:" + WHOLE.items[0].check,
        "pry1:hold-16-full-steps-var:0:" + WHOLE.items[0].check,
        "pry1:hold-5-elbows-steps-var:0:" + WHOLE.items[0].check,  # no such focus
        "pry1:skip-5-full-steps-var:0:" + WHOLE.items[0].check,
        "pry1:hold-5-full-steps-var:0:" + WHOLE.items[0].check + "\n",
        "pry1:hold-5-full-steps-var:0:" + WHOLE.items[0].check + "x" * 2000,
        "pry1:hold-5-full-steps-var:99999999999999999999:" + WHOLE.items[0].check,
    ],
)
def test_untrusted_tokens_name_nothing(token: Any) -> None:
    assert QUEUES.find(token) is None


@given(st.text(max_size=120))
def test_any_text_is_a_stream_of_ours_or_nothing(token: str) -> None:
    found = QUEUES.find(token)
    assert found is None or found[0].token(found[1]) == token


def test_the_committed_silent_streams_are_silence_in_the_clips_format() -> None:
    from alexa_limits import check_clip

    from skill.audio.processing import decode_mp3

    folder = AUDIO_DIR / "silence"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{ms}.mp3" for ms in SILENCE_MS)
    total = 0
    for ms in SILENCE_MS:
        path = AUDIO_DIR / silence_path(ms)
        assert check_clip(path) == [], path
        pcm = decode_mp3(path.read_bytes())
        assert abs(pcm.duration - ms / 1000) < 0.03, path
        assert not pcm.samples.any(), f"{path} is not silent"
        total += path.stat().st_size
    assert total < 300_000


# ---------------------------------------------------------------------- a speaker with a player


class Speaker:
    """One runner's speaker with an audio player: the skill's requests as Alexa sends them, and
    what the player holds (its stream, the offset in it, and whether it plays)."""

    def __init__(self, skill: CustomSkill, *, audio: bool = True) -> None:
        self.skill = skill
        self.audio = audio
        self.session = Session()
        self.token: str | None = None
        self.offset = 0
        self.activity = "IDLE"

    def _context(self, envelope: dict[str, Any]) -> dict[str, Any]:
        if self.audio:
            envelope["context"]["System"]["device"]["supportedInterfaces"]["AudioPlayer"] = {}
            player: dict[str, Any] = {"playerActivity": self.activity}
            if self.token is not None:
                player.update(token=self.token, offsetInMilliseconds=self.offset)
            envelope["context"]["AudioPlayer"] = player
        return envelope

    def _follow(self, response: dict[str, Any]) -> dict[str, Any]:
        """Do what the answer's directives ask of the player."""
        for directive in response["response"].get("directives", []):
            if directive["type"] == "AudioPlayer.Play":
                stream = directive["audioItem"]["stream"]
                if directive["playBehavior"] == "REPLACE_ALL":
                    self.token, self.offset = stream["token"], stream["offsetInMilliseconds"]
                    self.activity = "PLAYING"
            elif directive["type"] == "AudioPlayer.Stop":
                self.activity = "STOPPED"
        return response

    def launch(self) -> dict[str, Any]:
        return self._follow(send(self.skill, self.session, self._context(self.session.launch())))

    def say(self, intent: str, slots: dict[str, Any] | None = None) -> dict[str, Any]:
        envelope = self._context(self.session.intent(intent, slots))
        return self._follow(send(self.skill, self.session, envelope))

    def _sessionless(self, request: dict[str, Any]) -> dict[str, Any]:
        new = self.session.new
        envelope = self._context(self.session.envelope(request))
        del envelope["session"]
        self.session.new = new
        response = dispatch(self.skill, envelope)
        check_response(response)
        assert_silent(response)
        return self._follow(response)

    def event(self, kind: str, token: str | None = None, offset: int = 0, **extra: Any) -> Any:
        """An ``AudioPlayer.<kind>`` request about ``token`` (by default, what it holds)."""
        request = {
            "type": f"AudioPlayer.{kind}",
            "token": self.token if token is None else token,
            "offsetInMilliseconds": offset,
            **extra,
        }
        return self._sessionless(request)

    def press(self, command: str) -> dict[str, Any]:
        """A button on the device: ``PlaybackController.<command>``."""
        return self._sessionless({"type": f"PlaybackController.{command}"})

    def stop_at(self, offset: int) -> dict[str, Any]:
        """The audio stops ``offset`` ms into the stream (the runner said "Alexa, pause")."""
        self.offset, self.activity = offset, "STOPPED"
        return self.event("PlaybackStopped", offset=offset)


def assert_silent(response: dict[str, Any]) -> None:
    """What Alexa requires of an answer to the audio player or its buttons."""
    body = response["response"]
    for refused in ("outputSpeech", "reprompt", "card", "shouldEndSession"):
        assert refused not in body, refused


def directive(response: dict[str, Any]) -> dict[str, Any]:
    directives = response["response"].get("directives", [])
    assert len(directives) == 1, directives
    return dict(directives[0])


def played(response: dict[str, Any]) -> tuple[str, str, int]:
    """The Play directive's behaviour, token and offset."""
    found = directive(response)
    assert found["type"] == "AudioPlayer.Play"
    stream = found["audioItem"]["stream"]
    assert stream["url"].startswith(BASE + "/")
    return found["playBehavior"], stream["token"], stream["offsetInMilliseconds"]


def token_of(queue: PlayQueue, index: int) -> str:
    return queue.token(queue.items[index])


@pytest.fixture
def store(tmp_path: Path) -> SqliteAdapter:
    return SqliteAdapter(tmp_path / "progress.sqlite3")


@pytest.fixture
def skill(store: SqliteAdapter) -> CustomSkill:
    return build_skill(persistence=store, audio_base_url=BASE)


def saved(store: SqliteAdapter) -> dict[str, Any]:
    return store.get_attributes(parse_envelope(Session().launch()))


def place(kept: dict[str, Any]) -> dict[str, Any]:
    """Where the saved play-through is: its stream and offset (beside what it has played)."""
    return {key: kept["playback"][key] for key in ("token", "offset_ms")}


def first_of_side(queue: PlayQueue, segment: int) -> int:
    found = queue.first_of(segment)
    assert found is not None
    return found.index


# ---------------------------------------------------------------------- starting


def test_play_the_whole_routine_plays_the_first_clip_and_ends_the_session(
    skill: CustomSkill, store: SqliteAdapter
) -> None:
    speaker = Speaker(skill)
    response = speaker.say("PlayThroughIntent")
    assert said(response) == PROMPTS["play_through"]
    assert response["response"]["shouldEndSession"] is True
    assert "reprompt" not in response["response"]
    found = directive(response)
    assert found["playBehavior"] == "REPLACE_ALL"
    stream = found["audioItem"]["stream"]
    assert stream == {
        "token": token_of(WHOLE, 0),
        "url": f"{BASE}/clips/{WHOLE.timeline.cues[0].clip_id}.mp3",
        "offsetInMilliseconds": 0,
    }
    assert found["audioItem"]["metadata"]["title"] == "Welcome"
    assert place(saved(store)) == {"token": token_of(WHOLE, 0), "offset_ms": 0}


def test_the_whole_session_is_queued_stream_by_stream_in_order(skill: CustomSkill) -> None:
    """PlaybackNearlyFinished enqueues the next stream after the one playing, to the end."""
    speaker = Speaker(skill)
    urls = [directive(speaker.say("PlayThroughIntent"))["audioItem"]["stream"]["url"]]
    token = speaker.token
    for _ in range(len(WHOLE) + 1):
        speaker.event("PlaybackStarted", token)
        response = speaker.event("PlaybackNearlyFinished", token)
        if not response["response"].get("directives"):
            break
        found = directive(response)
        assert found["playBehavior"] == "ENQUEUE"
        stream = found["audioItem"]["stream"]
        assert stream["expectedPreviousToken"] == token
        urls.append(stream["url"])
        speaker.event("PlaybackFinished", token)
        token = stream["token"]
    assert urls == [url_of(WHOLE, i) for i in range(len(WHOLE))]
    assert sum("/silence/" in url for url in urls) > 10


def test_play_through_follows_the_runners_settings(skill: CustomSkill) -> None:
    speaker = Speaker(skill)
    speaker.launch()
    speaker.say("SetModeIntent", {"mode": slot("mode", "flow", resolved_id="flow")})
    speaker.say("SetHoldLengthIntent", {"breaths": slot("breaths", "8")})
    speaker.say("SessionLengthIntent", {"length": slot("length", "quick", resolved_id="quick")})
    speaker.say("InstructionLevelIntent", {"level": slot("level", "brief", resolved_id="brief")})
    speaker.say("AMAZON.StartOverIntent")
    _, token, _ = played(speaker.say("PlayThroughIntent"))
    queue = QUEUES.queue(Choice("flow", 8, QUICK, brief=True))
    assert token.startswith("pry1:flow-8-quick-brief-var:")
    found = QUEUES.find(token)
    assert found is not None and found[0].choice == queue.choice
    # mid-routine: from the start of the pose side the runner is on
    first = COACH.first_index(State(mode="flow", breaths=8, plan=QUICK, brief=True))
    assert found[1].index == first_of_side(queue, first)  # started over: its first pose


def test_mid_routine_it_plays_from_the_pose_side_the_runner_is_on(skill: CustomSkill) -> None:
    speaker = Speaker(skill)
    speaker.launch()
    speaker.say("GoToPoseIntent", {"pose": slot("pose", "pigeon", resolved_id="pigeon")})
    speaker.say("SwitchSideIntent", {"side": slot("side", "left", resolved_id="left")})
    _, token, offset = played(speaker.say("PlayThroughIntent"))
    assert token == token_of(WHOLE, first_of_side(WHOLE, PIGEON_LEFT)) and offset == 0


def test_without_an_audio_player_it_carries_on_turn_by_turn(skill: CustomSkill) -> None:
    speaker = Speaker(skill, audio=False)
    speaker.launch()
    response = speaker.say("PlayThroughIntent")
    assert said(response).startswith(PROMPTS["play_through_no_device"])
    assert response["response"]["shouldEndSession"] is False
    assert "directives" not in response["response"] or not any(
        d["type"].startswith("AudioPlayer") for d in response["response"]["directives"]
    )
    assert response["sessionAttributes"]["yoga"]["pose"] == "forward_fold"


def test_without_clips_over_https_it_says_so_and_carries_on(store: SqliteAdapter) -> None:
    for base in (None, "http://clips.example.com/audio"):
        speaker = Speaker(build_skill(persistence=store, audio_base_url=base))
        response = speaker.say("PlayThroughIntent")
        text = said(response)
        assert text.startswith(PROMPTS["play_through_unavailable"])
        assert text.endswith(PROMPTS["idle_reprompt"])
        assert response["response"]["shouldEndSession"] is False
        assert "directives" not in response["response"]


# ---------------------------------------------------------------------- the audio player's reports


def test_started_and_stopped_save_the_place_and_finished_the_end(
    skill: CustomSkill, store: SqliteAdapter
) -> None:
    speaker = Speaker(skill)
    index = first_of_side(WHOLE, PIGEON_LEFT) + 1
    speaker.token = token_of(WHOLE, index)
    assert not directive_or_none(speaker.event("PlaybackStarted", offset=0))
    kept = saved(store)
    assert place(kept) == {"token": speaker.token, "offset_ms": 0}
    assert (kept["yoga"]["pose"], kept["yoga"]["side"], kept["yoga"]["status"]) == (
        "pigeon",
        "left",
        "paused",
    )
    assert not directive_or_none(speaker.stop_at(4321))
    assert place(saved(store)) == {"token": speaker.token, "offset_ms": 4321}
    # Finished in the middle changes nothing; the last stream finished is the routine done.
    assert not directive_or_none(speaker.event("PlaybackFinished"))
    assert saved(store)["playback"]["offset_ms"] == 4321
    speaker.event("PlaybackStarted", token_of(WHOLE, len(WHOLE) - 1))
    speaker.event("PlaybackFinished", token_of(WHOLE, len(WHOLE) - 1))
    kept = saved(store)
    assert kept["yoga"]["status"] == "finished" and "playback" not in kept
    welcome = Speaker(skill).launch()
    assert said(welcome).startswith(ROUTINE.welcome)


def directive_or_none(response: dict[str, Any]) -> list[Any]:
    return list(response["response"].get("directives", []))


def test_playback_failed_is_logged_and_the_queue_carries_on(
    skill: CustomSkill, caplog: pytest.LogCaptureFixture
) -> None:
    speaker = Speaker(skill)
    speaker.token = token_of(WHOLE, 5)
    error = {"type": "MEDIA_ERROR_SERVICE_UNAVAILABLE", "message": "404 Not Found"}
    state = {"token": speaker.token, "offsetInMilliseconds": 0, "playerActivity": "STOPPED"}
    with caplog.at_level(logging.ERROR, logger="skill.alexa.audioplayer"):
        response = speaker.event("PlaybackFailed", error=error, currentPlaybackState=state)
    assert played(response) == ("REPLACE_ALL", token_of(WHOLE, 6), 0)
    assert "MEDIA_ERROR_SERVICE_UNAVAILABLE" in caplog.text and "404 Not Found" in caplog.text
    # The last stream failing ends the queue: nothing left to play.
    last = speaker.event("PlaybackFailed", token_of(WHOLE, len(WHOLE) - 1), error=error)
    assert not directive_or_none(last)


@pytest.mark.parametrize(
    "token",
    ["", "pry1:hold-5-full-steps-var:0:00000000", "someone else's", "x" * 1100],
)
@pytest.mark.parametrize(
    "kind",
    ["PlaybackStarted", "PlaybackNearlyFinished", "PlaybackFinished", "PlaybackStopped"],
)
def test_reports_about_streams_not_ours_change_nothing(
    kind: str, token: str, skill: CustomSkill, store: SqliteAdapter
) -> None:
    response = Speaker(skill).event(kind, token, offset=1000)
    assert not directive_or_none(response)
    assert saved(store) == {}


def test_an_offset_out_of_range_is_saved_as_the_start(
    skill: CustomSkill, store: SqliteAdapter
) -> None:
    speaker = Speaker(skill)
    speaker.token = token_of(WHOLE, 3)
    speaker.stop_at(10_000_000)
    assert saved(store)["playback"]["offset_ms"] == 0


# ---------------------------------------------------------------------- pause, resume, moves


def test_pause_and_resume_continue_the_same_clip_at_the_same_offset(skill: CustomSkill) -> None:
    speaker = Speaker(skill)
    speaker.say("PlayThroughIntent")
    long = next(item.index for item in WHOLE.items[1:] if item.duration > 12)
    speaker.token, speaker.offset = token_of(WHOLE, long), 9876
    pause = speaker.say("AMAZON.PauseIntent")
    assert directive(pause)["type"] == "AudioPlayer.Stop"
    assert "outputSpeech" not in pause["response"]
    assert pause["response"]["shouldEndSession"] is True
    speaker.stop_at(9876)
    resume = speaker.say("AMAZON.ResumeIntent")
    assert played(resume) == ("REPLACE_ALL", token_of(WHOLE, long), 9876)
    assert resume["response"]["shouldEndSession"] is True
    # The device's own buttons do the same.
    assert directive(speaker.press("PauseCommandIssued"))["type"] == "AudioPlayer.Stop"
    speaker.offset = 1234
    assert played(speaker.press("PlayCommandIssued")) == (
        "REPLACE_ALL",
        token_of(WHOLE, long),
        1234,
    )


@pytest.mark.parametrize("how", ["intent", "button"])
def test_next_previous_and_start_over_move_by_pose_side(how: str, skill: CustomSkill) -> None:
    speaker = Speaker(skill)
    speaker.say("PlayThroughIntent")
    here = first_of_side(WHOLE, PIGEON_LEFT)
    right = first_of_side(WHOLE, PIGEON_LEFT - 1)
    after = first_of_side(WHOLE, PIGEON_LEFT + 1)

    def move(intent: str, command: str) -> int:
        response = speaker.say(intent) if how == "intent" else speaker.press(command)
        behaviour, token, offset = played(response)
        assert behaviour == "REPLACE_ALL" and offset == 0
        found = QUEUES.find(token)
        assert found is not None
        return found[1].index

    speaker.token, speaker.offset = token_of(WHOLE, here + 1), 500
    assert move("AMAZON.NextIntent", "NextCommandIssued") == after
    # back, a while into a side: that side again; at its start: the side before
    speaker.token, speaker.offset = token_of(WHOLE, here + 1), 500
    assert move("AMAZON.PreviousIntent", "PreviousCommandIssued") == here
    speaker.token, speaker.offset = token_of(WHOLE, here), 1000
    assert move("AMAZON.PreviousIntent", "PreviousCommandIssued") == right
    speaker.token, speaker.offset = token_of(WHOLE, 0), 0
    assert move("AMAZON.PreviousIntent", "PreviousCommandIssued") == 0
    if how == "intent":
        speaker.token = token_of(WHOLE, here)
        assert move("AMAZON.StartOverIntent", "") == 0


def test_next_in_the_closing_stops_and_the_routine_is_done(
    skill: CustomSkill, store: SqliteAdapter
) -> None:
    speaker = Speaker(skill)
    speaker.token = token_of(WHOLE, len(WHOLE) - 1)
    speaker.activity = "PLAYING"
    assert directive(speaker.say("AMAZON.NextIntent"))["type"] == "AudioPlayer.Stop"
    assert saved(store)["yoga"]["status"] == "finished"
    assert directive(speaker.press("NextCommandIssued"))["type"] == "AudioPlayer.Stop"


def test_in_a_spoken_session_the_built_in_intents_are_the_coachs(skill: CustomSkill) -> None:
    speaker = Speaker(skill)
    speaker.token, speaker.activity = token_of(WHOLE, 3), "STOPPED"
    speaker.launch()
    response = speaker.say("AMAZON.PauseIntent")
    assert said(response).startswith("Paused in Spinal roll into forward fold")
    assert "directives" not in response["response"]


def test_buttons_with_nothing_of_ours_playing_do_nothing(skill: CustomSkill) -> None:
    speaker = Speaker(skill)
    for command in ("PlayCommandIssued", "PauseCommandIssued", "NextCommandIssued"):
        assert not directive_or_none(speaker.press(command))
    speaker.token, speaker.activity = "pry1:hold-5-full-steps-var:0:00000000", "PAUSED"
    assert not directive_or_none(speaker.press("PlayCommandIssued"))
    # and "resume" with nothing of ours held is the coach's
    response = speaker.say("AMAZON.ResumeIntent")
    assert "outputSpeech" in response["response"]


# ---------------------------------------------------------------------- coming back later


def test_stopped_mid_routine_is_offered_back_and_resumes_at_the_saved_offset(
    store: SqliteAdapter, tmp_path: Path
) -> None:
    first = Speaker(build_skill(persistence=store, audio_base_url=BASE))
    first.say("PlayThroughIntent")
    index = first_of_side(WHOLE, PIGEON_LEFT) + 1
    first.token = token_of(WHOLE, index)
    first.event("PlaybackStarted")
    halfway = int(WHOLE.items[index].duration * 500)
    first.stop_at(halfway)
    # Later, another worker (a new skill object on the same SQLite file) hears "open".
    again = SqliteAdapter(tmp_path / "progress.sqlite3")
    later = Speaker(build_skill(persistence=again, audio_base_url=BASE))
    offer = later.launch()
    assert said(offer) == (
        "Welcome back. You were in Pigeon pose on the left side. Shall we carry on?"
    )
    yes = later.say("AMAZON.YesIntent")
    assert halfway > 0
    assert played(yes) == ("REPLACE_ALL", token_of(WHOLE, index), halfway)
    assert yes["response"]["shouldEndSession"] is True


def test_resume_to_the_offer_plays_on_too_and_no_starts_afresh(
    skill: CustomSkill, store: SqliteAdapter
) -> None:
    speaker = Speaker(skill)
    speaker.token = token_of(WHOLE, first_of_side(WHOLE, PIGEON_LEFT))
    speaker.stop_at(700)
    speaker.launch()
    assert played(speaker.say("AMAZON.ResumeIntent"))[1:] == (speaker.token, 700)
    speaker.stop_at(800)
    speaker.launch()  # "play the whole routine" to the offer: from where it stopped too
    assert played(speaker.say("PlayThroughIntent"))[1:] == (speaker.token, 800)

    other = Speaker(skill)
    other.launch()
    fresh = other.say("AMAZON.NoIntent")
    assert said(fresh).startswith(PROMPTS["fresh_start"])
    assert "directives" not in fresh["response"]
    assert "playback" not in saved(store)


def test_after_the_resume_window_nothing_is_offered(store: SqliteAdapter) -> None:
    now = [1_000_000.0]
    skill = build_skill(persistence=store, audio_base_url=BASE, clock=lambda: now[0])
    speaker = Speaker(skill)
    speaker.token = token_of(WHOLE, first_of_side(WHOLE, PIGEON_LEFT))
    speaker.stop_at(700)
    now[0] += 13 * 3600
    assert said(Speaker(skill).launch()).startswith(ROUTINE.welcome)


# ---------------------------------------------------------------------- what Alexa reports back


def test_exception_encountered_is_logged_and_answered_with_nothing(
    skill: CustomSkill, caplog: pytest.LogCaptureFixture
) -> None:
    request = {
        "type": "System.ExceptionEncountered",
        "error": {"type": "INVALID_RESPONSE", "message": "speech in an audio player answer"},
        "cause": {"requestId": "amzn1.echo-api.request.0"},
    }
    with caplog.at_level(logging.ERROR, logger="skill.alexa.audioplayer"):
        Speaker(skill)._sessionless(request)
    assert "INVALID_RESPONSE" in caplog.text


def test_a_failure_answering_the_audio_player_is_logged_and_silent(
    skill: CustomSkill, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: Queues, token: object) -> None:
        raise RuntimeError("broken")

    monkeypatch.setattr(Queues, "find", broken)
    with caplog.at_level(logging.ERROR):
        Speaker(skill).event("PlaybackNearlyFinished", token_of(WHOLE, 0))
    assert "audio player request failed" in caplog.text


# ---------------------------------------------------------------------- an outside client


def _harness(url: str, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    proc = subprocess.run(
        ["node", str(HARNESS), url, str(MODELS_DIR / "en-GB.json"), "en-GB"],
        input=json.dumps(steps),
        capture_output=True,
        text=True,
        cwd=HARNESS.parent,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == len(steps), proc.stdout
    return lines


def _index(token: str | None) -> int:
    found = QUEUES.find(token)
    assert found is not None, token
    return found[1].index


def test_virtual_alexas_audio_player_against_the_running_webhook(tmp_path: Path) -> None:
    """virtual-alexa, a device with an audio player, talks to ``yoga-skill serve`` with the
    clips' base URL set and progress in SQLite: "play the whole routine", streams queued as
    they near their end, pause and resume at the offset, next and the device's buttons, a stop
    offered back on opening the skill, and on to the end of the routine."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed", pytrace=False)
    steps: list[dict[str, Any]] = [
        {"utter": "play the whole routine"},  # 0
        {"advance": 3},  # 1
        {"offset": 4321},  # 2
        {"utter": "pause"},  # 3
        {"utter": "resume"},  # 4
        {"utter": "next"},  # 5
        {"controller": "NextCommandIssued"},  # 6
        {"offset": 2500},  # 7
        {"controller": "PauseCommandIssued"},  # 8
        {"launch": True},  # 9
        {"utter": "yes"},  # 10
        {"offset": 5000},  # 11
        {"controller": "PreviousCommandIssued"},  # 12
        {"advance": "end"},  # 13
        {"launch": True},  # 14
    ]
    env = {
        "YOGA_AUDIO_BASE_URL": BASE,
        "YOGA_PERSISTENCE": "sqlite",
        "YOGA_DB": str(tmp_path / "progress.sqlite3"),
    }
    with running_webhook(env) as url:
        out = _harness(url, steps)
    for line in out:
        for exchange in line["exchanges"]:
            if exchange["request"]["type"].startswith(("AudioPlayer.", "PlaybackController.")):
                assert not {"outputSpeech", "reprompt", "card"} & set(exchange["response"])

    def kinds(n: int) -> list[str]:
        return [e["request"]["intent"] or e["request"]["type"] for e in out[n]["exchanges"]]

    assert kinds(0) == ["PlayThroughIntent", "AudioPlayer.PlaybackStarted"]
    assert out[0]["exchanges"][0]["response"]["shouldEndSession"] is True
    assert _index(out[0]["player"]["token"]) == 0
    assert (
        kinds(1)
        == [
            "AudioPlayer.PlaybackNearlyFinished",
            "AudioPlayer.PlaybackFinished",
            "AudioPlayer.PlaybackStarted",
        ]
        * 3
    )
    assert _index(out[1]["player"]["token"]) == 3
    # "pause": virtual-alexa stops the audio (PlaybackStopped saves the offset), the skill stops it
    assert kinds(3) == ["AudioPlayer.PlaybackStopped", "AMAZON.PauseIntent"]
    assert out[3]["exchanges"][0]["request"]["offset"] == 4321
    assert out[3]["player"]["activity"] == "STOPPED"
    # "resume": the same stream at the same offset
    assert kinds(4) == ["AMAZON.ResumeIntent", "AudioPlayer.PlaybackStarted"]
    started = out[4]["exchanges"][1]["request"]
    assert (_index(started["token"]), started["offset"]) == (3, 4321)
    # "next" and the device's next: a pose side on each time
    side = WHOLE.items[3].section
    after_next = _index(out[5]["player"]["token"])
    assert WHOLE.items[after_next] == WHOLE.next_section(WHOLE.items[3])
    assert WHOLE.items[after_next].section != side
    after_button = _index(out[6]["player"]["token"])
    assert WHOLE.items[after_button] == WHOLE.next_section(WHOLE.items[after_next])
    # the device's pause, then "open post run yoga": the offer, and yes plays on where it stopped
    assert out[8]["player"]["activity"] == "STOPPED"
    assert out[8]["exchanges"][-1]["request"]["offset"] == 2500
    welcome = out[9]["exchanges"][0]["response"]["outputSpeech"]["ssml"]
    assert "/clips/welcome_back." in welcome  # its clip: "Welcome back. You were in ..."
    assert kinds(10) == ["AMAZON.YesIntent", "AudioPlayer.PlaybackStarted"]
    resumed = out[10]["exchanges"][1]["request"]
    assert (_index(resumed["token"]), resumed["offset"]) == (after_button, 2500)
    # the device's previous, a while into a side: that side again from its start
    assert _index(out[12]["player"]["token"]) == first_of_side(WHOLE, side_of(after_button))
    # on to the end: every stream after that one, in order, then nothing
    start = _index(out[12]["player"]["token"])
    tokens = [
        e["request"]["token"]
        for e in out[13]["exchanges"]
        if e["request"]["type"] == "AudioPlayer.PlaybackStarted"
    ]
    assert [_index(t) for t in tokens] == list(range(start + 1, len(WHOLE)))
    assert out[13]["player"]["activity"] == "FINISHED"
    # the routine is done: opening the skill starts afresh
    final = out[14]["exchanges"][0]["response"]["outputSpeech"]["ssml"]
    assert "welcome_back" not in final and "/clips/welcome--" in final


def side_of(index: int) -> int:
    section = WHOLE.items[index].section
    assert isinstance(section, int)
    return section


# ---------------------------------------------------------------------- odd cases


def test_a_runner_past_the_sessions_last_pose_side_starts_at_the_closing() -> None:
    quick = QUEUES.queue(Choice(plan=QUICK))
    last = max(key for key in quick.sections if isinstance(key, int))
    closing = quick.first_of(CLOSING)
    assert closing is not None
    assert quick.start_at(last + 1) == closing
    assert quick.start_at(None) == quick.items[0]
    assert quick.first_of(last + 1) is None


def test_queues_keep_the_latest_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("skill.audio.queue.CACHE_SIZE", 2)
    queues = Queues(ROUTINE, lambda: CLIPS, AUDIO_DIR)
    first = queues.queue(Choice(breaths=2))
    assert queues.queue(Choice(breaths=2)) is first
    queues.queue(Choice(breaths=3))
    queues.queue(Choice(breaths=4))
    assert queues.queue(Choice(breaths=2)) is not first  # built again: it was the oldest


def test_without_clips_play_through_is_not_available(
    skill: CustomSkill, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from skill.audio.player.timeline import PlayerError

    def missing(audio_dir: Path) -> Any:
        raise PlayerError("no clips in audio (no usable manifest.json)")

    monkeypatch.setattr("skill.alexa.audioplayer.load_clips", missing)
    with caplog.at_level(logging.ERROR, logger="skill.alexa.audioplayer"):
        response = Speaker(skill).say("PlayThroughIntent")
    assert said(response).startswith(PROMPTS["play_through_unavailable"])
    assert "no usable manifest" in caplog.text
    # and a token from before names nothing
    assert not directive_or_none(Speaker(skill).event("PlaybackNearlyFinished", token_of(WHOLE, 0)))


@pytest.mark.parametrize(
    ("playback", "plays"),
    [
        ({"token": "stale", "offset_ms": 700}, None),  # the coach carries on instead
        ({"token": None}, None),
        ({"offset_ms": "700"}, 0),  # the token is kept; the offset is no number: the start
        ({"offset_ms": True}, 0),
        ({"offset_ms": -5}, 0),
    ],
)
def test_a_tampered_saved_place_is_read_as_far_as_it_goes(
    playback: dict[str, Any], plays: int | None, skill: CustomSkill, store: SqliteAdapter
) -> None:
    speaker = Speaker(skill)
    speaker.token = token_of(WHOLE, first_of_side(WHOLE, PIGEON_LEFT))
    speaker.stop_at(700)
    envelope = parse_envelope(Session().launch())
    kept = store.get_attributes(envelope)
    kept["playback"] = {**kept["playback"], **playback}
    store.save_attributes(envelope, kept)
    speaker.launch()
    yes = speaker.say("AMAZON.YesIntent")
    if plays is None:
        assert said(yes).startswith("Now Pigeon pose on the left side.")  # turn by turn
    else:
        assert played(yes)[1:] == (speaker.token, plays)


def test_yes_to_something_else_is_the_coachs(skill: CustomSkill) -> None:
    """A saved place rides in the session only while the offer to carry on stands."""
    speaker = Speaker(skill)
    speaker.token = token_of(WHOLE, first_of_side(WHOLE, PIGEON_LEFT))
    speaker.stop_at(700)
    speaker.launch()
    speaker.say("AMAZON.NextIntent")  # carries on, turn by turn
    assert "playback" not in speaker.session.attributes
    assert "outputSpeech" in speaker.say("AMAZON.YesIntent")["response"]


def test_the_silence_tool_writes_every_piece_and_nothing_else(tmp_path: Path) -> None:
    from alexa_limits import check_clip

    from skill.audio.silence import main

    (tmp_path / "silence").mkdir()
    (tmp_path / "silence" / "999.mp3").write_bytes(b"old")
    assert main([str(tmp_path)]) == 0
    written = sorted((tmp_path / "silence").iterdir())
    assert [p.name for p in written] == sorted(f"{ms}.mp3" for ms in SILENCE_MS)
    assert all(check_clip(path) == [] for path in written)
