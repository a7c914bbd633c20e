"""The play-through as an outside client would try it: every audio player report, button and
built-in intent with tokens and offsets that are not what Alexa would send, through the skill
object every entry point uses (with progress in SQLite) and through the running webhook.

Whatever comes, the answer is one Alexa accepts (no speech, card, reprompt or session flag in an
answer to the audio player or its buttons; no open session beside an audio directive), nothing
fails, and the runner's saved place is kept.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.skill import CustomSkill
from conftest import check_response, said
from test_audioplayer import (
    BASE,
    PIGEON_LEFT,
    QUEUES,
    WHOLE,
    Speaker,
    assert_silent,
    directive,
    directive_or_none,
    first_of_side,
    place,
    played,
    saved,
    token_of,
)
from test_phrasings import running_webhook

from skill.alexa.dispatch import parse_envelope
from skill.alexa.handlers import build_skill
from skill.alexa.persistence import SqliteAdapter
from skill.audio.choice import Choice
from skill.local.envelopes import Session

LAST = len(WHOLE) - 1
FLOW = QUEUES.queue(Choice(mode="flow", breaths=9))
KINDS = [
    "PlaybackStarted",
    "PlaybackNearlyFinished",
    "PlaybackFinished",
    "PlaybackStopped",
    "PlaybackFailed",
]
COMMANDS = ["PlayCommandIssued", "PauseCommandIssued", "NextCommandIssued", "PreviousCommandIssued"]
UNTRUSTED_TOKENS: dict[str, Any] = {
    "missing": None,
    "a number": 5,
    "an object": {"token": token_of(WHOLE, 3)},
    "a list": [token_of(WHOLE, 3)],
    "empty": "",
    "forged check": "pry1:hold-5-full-steps-var:3:deadbeef",
    "past the end": f"pry1:hold-5-full-steps-var:{len(WHOLE)}:{WHOLE.items[0].check}",
    "overlong": token_of(WHOLE, 3) + "x" * 5000,
    "another skill's": "amzn1.echo-api.another-skill.stream-42",
    "no settings": "pry1:hold-99-full-steps-var:3:" + WHOLE.items[3].check,
}
ODD_OFFSETS: dict[str, Any] = {
    "negative": -5,
    "huge": 10**40,
    "past the stream": 10_000_000,
    "fractional": 12.5,
    "true": True,
    "null": None,
}


@pytest.fixture
def store(tmp_path: Path) -> SqliteAdapter:
    return SqliteAdapter(tmp_path / "progress.sqlite3")


@pytest.fixture
def skill(store: SqliteAdapter) -> CustomSkill:
    return build_skill(persistence=store, audio_base_url=BASE)


def paused_in_pigeon(skill: CustomSkill, offset: int = 700) -> Speaker:
    """A runner whose play-through stopped a while into pigeon pose on the left side."""
    speaker = Speaker(skill)
    speaker.token = token_of(WHOLE, first_of_side(WHOLE, PIGEON_LEFT) + 1)
    speaker.event("PlaybackStarted")
    speaker.stop_at(offset)
    return speaker


def report(kind: str, token: Any, offset: Any = 0, **extra: Any) -> dict[str, Any]:
    request = {"type": f"AudioPlayer.{kind}", "offsetInMilliseconds": offset, **extra}
    if token is not None:
        request["token"] = token
    return request


# ---------------------------------------------------------------------- the audio player's reports


OURS_GONE_STALE = ("forged check", "past the end")
"""Tokens of ours that name no stream (as after the clips changed): the queue's next stream is
the start of the pose side the runner was saved at (see below); nothing else changes."""


@pytest.mark.parametrize("token", list(UNTRUSTED_TOKENS.values()), ids=list(UNTRUSTED_TOKENS))
@pytest.mark.parametrize("kind", KINDS)
def test_reports_with_untrusted_tokens_are_answered_with_nothing_and_keep_the_place(
    kind: str, token: Any, skill: CustomSkill, store: SqliteAdapter
) -> None:
    speaker = paused_in_pigeon(skill)
    before = saved(store)
    response = speaker._sessionless(report(kind, token, 1000))
    stale_of_ours = token in [UNTRUSTED_TOKENS[name] for name in OURS_GONE_STALE]
    if kind == "PlaybackNearlyFinished" and stale_of_ours:
        here = token_of(WHOLE, first_of_side(WHOLE, PIGEON_LEFT))
        assert played(response) == ("ENQUEUE", here, 0)
    else:
        assert not directive_or_none(response)
    assert saved(store) == before


@pytest.mark.parametrize("offset", list(ODD_OFFSETS.values()), ids=list(ODD_OFFSETS))
@pytest.mark.parametrize("kind", KINDS)
def test_reports_with_odd_offsets_are_read_as_the_start(
    kind: str, offset: Any, skill: CustomSkill, store: SqliteAdapter
) -> None:
    speaker = Speaker(skill)
    speaker.token = token_of(WHOLE, 3)
    response = speaker._sessionless(report(kind, speaker.token, offset))
    for found in directive_or_none(response):
        assert found["audioItem"]["stream"]["offsetInMilliseconds"] == 0
    if kind in ("PlaybackStarted", "PlaybackStopped"):
        kept = place(saved(store))
        assert kept["token"] == speaker.token
        assert kept["offset_ms"] in (0, 1, 12)  # JSON's true and 12.5 read as whole numbers


def test_a_report_from_another_settings_session_plays_that_session_on(
    skill: CustomSkill, store: SqliteAdapter
) -> None:
    """A token names its own session: the flow it came from goes on, with no mix of the two."""
    speaker = Speaker(skill)
    token = FLOW.token(FLOW.items[2])
    behaviour, following, _ = played(speaker.event("PlaybackNearlyFinished", token))
    assert behaviour == "ENQUEUE" and following == FLOW.token(FLOW.items[3])
    speaker.event("PlaybackStarted", token)
    assert saved(store)["yoga"]["mode"] == "flow" and saved(store)["yoga"]["breaths"] == 9


def test_the_last_stream_nearly_finished_queues_nothing(skill: CustomSkill) -> None:
    for queue in (WHOLE, FLOW):
        last = queue.token(queue.items[-1])
        assert not directive_or_none(Speaker(skill).event("PlaybackNearlyFinished", last))


@pytest.mark.parametrize(
    "error",
    [
        None,
        {},
        {"type": "MEDIA_ERROR_UNKNOWN"},
        {"message": "no type"},
        {"type": "MEDIA_ERROR_INTERNAL_DEVICE_ERROR", "message": "x" * 50_000},
        {"type": "MEDIA_ERROR_INVALID_REQUEST", "message": 404},
    ],
    ids=["none", "empty", "no message", "no type", "a long message", "a number"],
)
def test_playback_failed_with_odd_errors_is_logged_and_recovered(
    error: Any, skill: CustomSkill, caplog: pytest.LogCaptureFixture
) -> None:
    extra = {} if error is None else {"error": error}
    with caplog.at_level(logging.ERROR, logger="skill.alexa.audioplayer"):
        response = Speaker(skill).event("PlaybackFailed", token_of(WHOLE, 5), **extra)
    assert played(response) == ("REPLACE_ALL", token_of(WHOLE, 6), 0)
    assert "audio player failed" in caplog.text
    assert max(len(line) for line in caplog.text.splitlines()) < 600


def test_a_queued_stream_that_fails_does_not_cut_the_one_playing(skill: CustomSkill) -> None:
    """Alexa reports a stream that failed while the one before it still plays: what follows
    the failed one is queued after the one playing (REPLACE_ENQUEUED), not played over it."""
    speaker = Speaker(skill)
    state = {"token": token_of(WHOLE, 5), "offsetInMilliseconds": 4000, "playerActivity": "PLAYING"}
    response = speaker.event("PlaybackFailed", token_of(WHOLE, 6), currentPlaybackState=state)
    assert played(response) == ("REPLACE_ENQUEUED", token_of(WHOLE, 7), 0)
    # The one that failed was playing: what follows plays now.
    state = {"token": token_of(WHOLE, 6), "offsetInMilliseconds": 0, "playerActivity": "STOPPED"}
    response = speaker.event("PlaybackFailed", token_of(WHOLE, 6), currentPlaybackState=state)
    assert played(response) == ("REPLACE_ALL", token_of(WHOLE, 7), 0)


@pytest.mark.parametrize(
    "error", [None, {}, {"type": "INVALID_RESPONSE", "message": "x" * 10_000}, {"message": 5}]
)
def test_exception_encountered_with_odd_errors_is_answered_with_nothing(
    error: Any, skill: CustomSkill
) -> None:
    request: dict[str, Any] = {"type": "System.ExceptionEncountered", "cause": {"requestId": "x"}}
    if error is not None:
        request["error"] = error
    assert not directive_or_none(Speaker(skill)._sessionless(request))


# ---------------------------------------------------------------------- the buttons


PLAYERS: dict[str, dict[str, Any] | None] = {
    "no player in the context": None,
    "an empty player": {},
    "idle": {"playerActivity": "IDLE"},
    "finished": {"playerActivity": "FINISHED", "token": token_of(WHOLE, LAST)},
    "another skill's stream": {"playerActivity": "PLAYING", "token": "amzn1.other:track-1"},
    "a negative offset": {
        "playerActivity": "PAUSED",
        "token": token_of(WHOLE, 3),
        "offsetInMilliseconds": -1000,
    },
    "a huge offset": {
        "playerActivity": "PAUSED",
        "token": token_of(WHOLE, 3),
        "offsetInMilliseconds": 10**30,
    },
}


def _with_player(skill: CustomSkill, player: dict[str, Any] | None, *, audio: bool = True) -> Any:
    speaker = Speaker(skill, audio=audio)

    def context(envelope: dict[str, Any]) -> dict[str, Any]:
        if audio:
            interfaces = envelope["context"]["System"]["device"]["supportedInterfaces"]
            interfaces["AudioPlayer"] = {}
        if player is not None:
            envelope["context"]["AudioPlayer"] = player
        return envelope

    speaker._context = context  # type: ignore[method-assign]
    return speaker


@pytest.mark.parametrize("player", list(PLAYERS.values()), ids=list(PLAYERS))
@pytest.mark.parametrize("command", COMMANDS)
def test_buttons_with_any_player_state_get_an_answer_alexa_accepts(
    command: str, player: dict[str, Any] | None, skill: CustomSkill, store: SqliteAdapter
) -> None:
    paused_in_pigeon(skill)
    before = saved(store)
    response = _with_player(skill, player).press(command)
    for found in directive_or_none(response):
        assert found["type"] in ("AudioPlayer.Play", "AudioPlayer.Stop")
        if found["type"] == "AudioPlayer.Play":
            assert found["audioItem"]["stream"]["offsetInMilliseconds"] == 0
    assert saved(store)["yoga"] == before["yoga"]


# ---------------------------------------------------------------------- built-in intents


BUILT_IN = [
    "AMAZON.PauseIntent",
    "AMAZON.ResumeIntent",
    "AMAZON.NextIntent",
    "AMAZON.PreviousIntent",
    "AMAZON.StartOverIntent",
    "AMAZON.RepeatIntent",
    "AMAZON.LoopOnIntent",
    "AMAZON.LoopOffIntent",
    "AMAZON.ShuffleOnIntent",
    "AMAZON.ShuffleOffIntent",
    "AMAZON.CancelIntent",
    "AMAZON.StopIntent",
]


@pytest.mark.parametrize("intent", BUILT_IN)
def test_built_in_intents_to_a_play_through_never_open_a_spoken_session(
    intent: str, skill: CustomSkill
) -> None:
    """Said while the audio player holds one of ours: an audio directive or nothing, and the
    session ends, so that the audio is never held by a session waiting for an answer."""
    speaker = Speaker(skill)
    speaker.token, speaker.offset, speaker.activity = token_of(WHOLE, 7), 2000, "PLAYING"
    body = speaker.say(intent)["response"]
    assert body["shouldEndSession"] is True
    assert not {"outputSpeech", "reprompt", "card"} & set(body)
    assert len(body.get("directives", [])) <= 1


@pytest.mark.parametrize(
    "intent", ["AMAZON.LoopOnIntent", "AMAZON.ShuffleOnIntent", "AMAZON.LoopOffIntent"]
)
def test_loop_and_shuffle_leave_the_routine_playing_in_order(
    intent: str, skill: CustomSkill, store: SqliteAdapter
) -> None:
    speaker = paused_in_pigeon(skill)
    speaker.activity = "PLAYING"
    before = saved(store)
    assert not directive_or_none(speaker.say(intent))
    assert saved(store) == before


def test_repeat_takes_the_pose_side_again(skill: CustomSkill) -> None:
    speaker = Speaker(skill)
    here = first_of_side(WHOLE, PIGEON_LEFT)
    speaker.token, speaker.offset, speaker.activity = token_of(WHOLE, here + 2), 3000, "PLAYING"
    assert played(speaker.say("AMAZON.RepeatIntent")) == ("REPLACE_ALL", token_of(WHOLE, here), 0)
    # In a spoken session, "repeat that" is the coach's, as before.
    speaker.launch()
    response = speaker.say("AMAZON.RepeatIntent")
    assert "outputSpeech" in response["response"] and "directives" not in response["response"]


@pytest.mark.parametrize("intent", ["AMAZON.LoopOnIntent", "AMAZON.ShuffleOffIntent"])
def test_loop_and_shuffle_with_nothing_of_ours_playing_are_the_coachs(
    intent: str, skill: CustomSkill
) -> None:
    response = Speaker(skill).say(intent)
    assert said(response)  # the coach's recovery, with a reprompt (check_response)
    assert "directives" not in response["response"]


# ---------------------------------------------------------------------- the clips changed


def stale(index: int) -> str:
    """A token of ours from before the clips changed: the same session, another check."""
    return f"pry1:hold-5-full-steps-var:{index}:00000000"


def test_after_the_clips_changed_the_offer_to_carry_on_still_plays_on(
    skill: CustomSkill, store: SqliteAdapter
) -> None:
    speaker = paused_in_pigeon(skill)
    envelope = Session().launch()
    kept = store.get_attributes(parse_envelope(envelope))
    kept["playback"]["token"] = stale(first_of_side(WHOLE, PIGEON_LEFT) + 1)
    store.save_attributes(parse_envelope(envelope), kept)
    assert said(speaker.launch()).startswith("Welcome back. You were in Pigeon pose on the left")
    # The place in the clips is gone; the pose side is not: from its start, on the audio player.
    yes = speaker.say("AMAZON.YesIntent")
    assert played(yes) == ("REPLACE_ALL", token_of(WHOLE, first_of_side(WHOLE, PIGEON_LEFT)), 0)
    assert yes["response"]["shouldEndSession"] is True


@pytest.mark.parametrize(
    "how", ["AMAZON.ResumeIntent", "PlayCommandIssued", "AMAZON.NextIntent", "NextCommandIssued"]
)
def test_after_the_clips_changed_resume_and_the_buttons_go_on_from_the_saved_side(
    how: str, skill: CustomSkill
) -> None:
    speaker = paused_in_pigeon(skill)
    speaker.token, speaker.activity = stale(first_of_side(WHOLE, PIGEON_LEFT) + 1), "PAUSED"
    response = speaker.say(how) if how.startswith("AMAZON.") else speaker.press(how)
    found = QUEUES.find(played(response)[1])
    assert found is not None
    here = first_of_side(WHOLE, PIGEON_LEFT)
    expected = here if "Next" not in how else first_of_side(WHOLE, PIGEON_LEFT + 1)
    assert found[1].index == expected


def test_after_the_clips_changed_the_queue_plays_on(skill: CustomSkill) -> None:
    """A release while the audio plays: the stream playing is stale, and the next one queued
    is the start of the side the runner was saved at, rather than nothing (silence)."""
    speaker = Speaker(skill)
    here = first_of_side(WHOLE, PIGEON_LEFT)
    speaker.token = token_of(WHOLE, here + 1)
    speaker.event("PlaybackStarted")
    old = stale(here + 1)
    behaviour, token, offset = played(speaker.event("PlaybackNearlyFinished", old))
    assert (behaviour, token, offset) == ("ENQUEUE", token_of(WHOLE, here), 0)
    again = directive(speaker.event("PlaybackNearlyFinished", old))
    assert again["audioItem"]["stream"]["expectedPreviousToken"] == old


def test_a_stale_token_with_no_saved_place_is_nothing(skill: CustomSkill) -> None:
    speaker = Speaker(skill)
    speaker.token, speaker.activity = stale(5), "PAUSED"
    assert not directive_or_none(speaker.press("PlayCommandIssued"))
    assert not directive_or_none(speaker.event("PlaybackNearlyFinished"))


# ---------------------------------------------------------------------- stopping in the closing


def test_stopping_in_the_closing_is_offered_back(skill: CustomSkill, store: SqliteAdapter) -> None:
    speaker = Speaker(skill)
    closing = LAST - 1
    speaker.token = token_of(WHOLE, closing)
    speaker.event("PlaybackStarted")
    speaker.stop_at(1500)
    assert saved(store)["yoga"]["status"] == "paused"
    assert place(saved(store)) == {"token": token_of(WHOLE, closing), "offset_ms": 1500}
    assert said(speaker.launch()).startswith("Welcome back. You were in Savasana")
    assert played(speaker.say("AMAZON.YesIntent"))[1:] == (token_of(WHOLE, closing), 1500)


# ---------------------------------------------------------------------- through the webhook


def _post(url: str, body: Any) -> tuple[int, dict[str, Any] | None]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def _sessionless(request: dict[str, Any], player: dict[str, Any] | None = None) -> dict[str, Any]:
    envelope = Session().envelope(request)
    del envelope["session"]
    envelope["context"]["System"]["device"]["supportedInterfaces"]["AudioPlayer"] = {}
    if player is not None:
        envelope["context"]["AudioPlayer"] = player
    return envelope


def test_the_running_webhook_takes_every_odd_report_without_a_server_error(
    tmp_path: Path,
) -> None:
    """The same families over HTTP to ``yoga-skill serve``: each gets a 200 with an answer
    Alexa accepts, or a 400 for what is no Alexa request at all; never a 500."""
    held = {"playerActivity": "PAUSED", "token": token_of(WHOLE, 3), "offsetInMilliseconds": 9}
    bodies: list[tuple[dict[str, Any], bool]] = []
    for kind in KINDS:
        for token in UNTRUSTED_TOKENS.values():
            bodies.append((_sessionless(report(kind, token, 1000)), True))
        for offset in [*ODD_OFFSETS.values(), "12", "soon", [1]]:
            bodies.append((_sessionless(report(kind, token_of(WHOLE, 3), offset)), True))
    for error in [None, {}, {"type": "NOT_A_TYPE"}, "a string", [1]]:
        failed = report("PlaybackFailed", token_of(WHOLE, 3), error=error)
        bodies.append((_sessionless(failed), True))
    for command in [*COMMANDS, "NoSuchCommandIssued"]:
        for player in [*PLAYERS.values(), {"playerActivity": "DANCING"}, held]:
            bodies.append((_sessionless({"type": f"PlaybackController.{command}"}, player), True))
    for intent in BUILT_IN:
        intent_request = {
            "type": "IntentRequest",
            "intent": {"name": intent, "confirmationStatus": "NONE", "slots": {}},
        }
        envelope = Session().envelope(intent_request)
        envelope["context"]["System"]["device"]["supportedInterfaces"]["AudioPlayer"] = {}
        envelope["context"]["AudioPlayer"] = held
        bodies.append((envelope, False))
    bodies.append((_sessionless({"type": "System.ExceptionEncountered", "error": {}}), True))
    env = {
        "YOGA_AUDIO_BASE_URL": BASE,
        "YOGA_PERSISTENCE": "sqlite",
        "YOGA_DB": str(tmp_path / "progress.sqlite3"),
    }
    statuses = []
    with running_webhook(env) as url:
        for body, to_the_player in bodies:
            status, response = _post(url, body)
            statuses.append(status)
            assert status in (200, 400), (status, body["request"])
            if response is None:
                continue
            check_response(response)
            if to_the_player:
                assert_silent(response)
            else:
                assert response["response"]["shouldEndSession"] is True
    assert statuses.count(200) > len(statuses) * 3 // 4


# ---------------------------------------------------------------------- asking for it


ASKING = [
    "play the whole routine",
    "just play it",
    "play it through without stopping",
    "hands free",
    "I don't want to talk",
    "I'd rather not keep talking",
    "play the routine without stopping",
    "can you just play the whole thing",
    "play the full session for me",
    "play everything",
    "play the rest of it",
    "do it hands free",
    "keep going without me",
    "don't make me say next",
    "I just want to listen",
    "play it from start to finish",
    "go through the whole routine without stopping",
    "play all the stretches",
    "play my stretches please",
]


@pytest.mark.parametrize("locale", ["en-GB", "en-US", "en-AU", "en-CA", "en-IN"])
def test_the_ways_of_asking_for_a_play_through_are_understood(locale: str) -> None:
    from skill.local.resolver import Resolver

    resolver = Resolver.for_locale(locale)
    missed = [text for text in ASKING if resolver.resolve(text).intent != "PlayThroughIntent"]
    assert not missed, f"{locale}: {missed}"
