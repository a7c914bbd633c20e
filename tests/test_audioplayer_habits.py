"""A play-through in the runner's history and streaks (skill/alexa/audioplayer.py with
skill/alexa/habits.py): played to its end it is a finished session, recorded once however often
Alexa reports the end; stopped mid-way it is recorded as a stop turn by turn is, and carrying it
on replaces that entry. Genuine envelopes through the skill object, progress and history in a
SQLite file, the skill's clock set by the test (the days are UTC's: local envelopes carry no
API access token).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.skill import CustomSkill
from conftest import said
from test_audioplayer import (
    BASE,
    QUEUES,
    WHOLE,
    Speaker,
    directive_or_none,
    place,
    played,
    saved,
    token_of,
)

from skill.alexa.dispatch import parse_envelope
from skill.alexa.handlers import build_skill
from skill.alexa.persistence import SqliteAdapter
from skill.habits.history import COUNTS_AFTER, Entry, decode
from skill.local.envelopes import Session, slot

START = datetime(2025, 3, 10, 7, 0, tzinfo=UTC).timestamp()
LAST = len(WHOLE) - 1


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def store(tmp_path: Path) -> SqliteAdapter:
    return SqliteAdapter(tmp_path / "progress.sqlite3")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def skill(store: SqliteAdapter, clock: Clock) -> CustomSkill:
    return build_skill(persistence=store, audio_base_url=BASE, clock=clock)


def history(store: SqliteAdapter) -> tuple[Entry, ...]:
    return decode(saved(store).get("history", []))


def index_of(token: str | None) -> int:
    found = QUEUES.find(token)
    assert found is not None, token
    return found[1].index


def play_on(speaker: Speaker, clock: Clock, *, until: int = LAST) -> None:
    """The audio plays from the stream the speaker holds to the end of stream ``until``, as
    the device reports it (started, nearly finished, finished), in the skill's time."""
    speaker.activity = "PLAYING"
    while True:
        here = index_of(speaker.token)
        speaker.event("PlaybackStarted")
        clock.advance(WHOLE.items[here].duration)
        queued = directive_or_none(speaker.event("PlaybackNearlyFinished"))
        speaker.event("PlaybackFinished")
        if here >= until or not queued:
            return
        speaker.token, speaker.offset = queued[0]["audioItem"]["stream"]["token"], 0


def counting_index() -> int:
    """A stream past three quarters of the session's pose sides: a stop there counts."""
    sides = [key for key in WHOLE.sections if isinstance(key, int)]
    side = sides[int(len(sides) * COUNTS_AFTER) + 1]
    found = WHOLE.first_of(side)
    assert found is not None
    return found.index


def minutes(seconds: float) -> int:
    return max(1, round(seconds / 60))


def audio(start: int = 0, end: int = len(WHOLE)) -> float:
    """Seconds the streams ``start`` to ``end`` play (the timeline's pauses under the shortest
    silent stream are not queued, so this is a little under the timeline's length)."""
    return sum(item.duration for item in WHOLE.items[start:end])


# ---------------------------------------------------------------------- to the end


def test_a_play_through_to_its_end_is_a_finished_session_recorded_once(
    skill: CustomSkill, store: SqliteAdapter, clock: Clock
) -> None:
    speaker = Speaker(skill)
    speaker.say("PlayThroughIntent")
    play_on(speaker, clock)
    for _ in range(3):  # Alexa may report the end again
        speaker.event("PlaybackFinished", token_of(WHOLE, LAST))
    (entry,) = history(store)
    assert (entry.end, entry.mode, entry.kind) == ("closed", "hold", "full")
    assert entry.minutes == minutes(audio())
    assert entry.day.isoformat() == "2025-03-10"
    kept = saved(store)
    assert kept["yoga"]["status"] == "finished" and "playback" not in kept
    # The runner asks: one session, and today's streak.
    asked = Speaker(skill)
    assert said(asked.say("HistoryIntent")).startswith("You've done one session with me")
    assert said(asked.say("StreakIntent")).startswith("You've stretched today.")


def test_next_in_the_closing_finishes_the_session(
    skill: CustomSkill, store: SqliteAdapter, clock: Clock
) -> None:
    speaker = Speaker(skill)
    speaker.say("PlayThroughIntent")
    play_on(speaker, clock, until=LAST - 2)
    speaker.token = token_of(WHOLE, LAST - 1)
    speaker.event("PlaybackStarted")
    assert directive_or_none(speaker.say("AMAZON.NextIntent"))[0]["type"] == "AudioPlayer.Stop"
    speaker.stop_at(500)
    speaker.press("NextCommandIssued")
    (entry,) = history(store)
    assert entry.end == "closed"
    assert saved(store)["yoga"]["status"] == "finished"


def test_a_late_report_of_an_earlier_end_changes_nothing(
    skill: CustomSkill, store: SqliteAdapter, clock: Clock
) -> None:
    """The end reported again after the runner began another play-through: no second session,
    and the new play-through's place is kept."""
    speaker = Speaker(skill)
    speaker.say("PlayThroughIntent")
    play_on(speaker, clock)
    clock.advance(3600)
    again = Speaker(skill)
    _, first, _ = played(again.say("PlayThroughIntent"))
    again.event("PlaybackStarted")
    again.event("PlaybackFinished", token_of(WHOLE, LAST))
    assert len(history(store)) == 1
    assert place(saved(store))["token"] == first
    assert saved(store)["yoga"]["status"] != "finished"


# ---------------------------------------------------------------------- stopped mid-way


def test_stopped_after_most_of_the_routine_counts_once_even_carried_on(
    skill: CustomSkill, store: SqliteAdapter, clock: Clock
) -> None:
    speaker = Speaker(skill)
    speaker.say("PlayThroughIntent")
    stop = counting_index()
    play_on(speaker, clock, until=stop - 1)
    speaker.token = token_of(WHOLE, stop)
    speaker.event("PlaybackStarted")
    clock.advance(10)
    speaker.stop_at(10_000)
    speaker.event("PlaybackStopped", offset=10_000)  # reported again: still one stretch
    (stopped,) = history(store)
    assert stopped.end == "stopped"
    assert stopped.minutes == minutes(audio(0, stop) + 10)
    # An hour later: the offer to carry on, yes, and on to the end.
    clock.advance(3600)
    assert said(speaker.launch()).startswith("Welcome back.")
    assert played(speaker.say("AMAZON.YesIntent"))[1:] == (token_of(WHOLE, stop), 10_000)
    play_on(speaker, clock)
    (entry,) = history(store)
    assert entry.end == "closed"
    # Its minutes are the audio's, both stretches (each rounded), and not the hour between.
    assert abs(entry.minutes - minutes(audio())) <= 1


def test_stopped_early_counts_for_nothing_until_it_is_finished(
    skill: CustomSkill, store: SqliteAdapter, clock: Clock
) -> None:
    speaker = Speaker(skill)
    speaker.say("PlayThroughIntent")
    play_on(speaker, clock, until=10)
    speaker.stop_at(1000)
    assert history(store) == ()
    clock.advance(2 * 3600)
    # "Alexa, resume" (no session, the audio player holds the stream): it plays on.
    assert played(speaker.say("AMAZON.ResumeIntent"))[0] == "REPLACE_ALL"
    play_on(speaker, clock)
    (entry,) = history(store)
    assert entry.end == "closed"
    assert entry.minutes == minutes(audio())


def test_a_stop_that_was_never_reported_counts_no_more_than_the_routine(
    skill: CustomSkill, store: SqliteAdapter, clock: Clock
) -> None:
    """The device lost power while playing (no PlaybackStopped); the runner resumes the next
    morning: the night is not counted as stretching."""
    speaker = Speaker(skill)
    speaker.say("PlayThroughIntent")
    play_on(speaker, clock, until=counting_index())
    clock.advance(10 * 3600)
    speaker.say("AMAZON.ResumeIntent")
    play_on(speaker, clock)
    (entry,) = history(store)
    assert entry.minutes <= minutes(2 * WHOLE.duration)


def test_start_over_is_a_new_session(
    skill: CustomSkill, store: SqliteAdapter, clock: Clock
) -> None:
    speaker = Speaker(skill)
    speaker.say("PlayThroughIntent")
    play_on(speaker, clock, until=counting_index())
    before = saved(store)["playback"]
    assert played(speaker.say("AMAZON.StartOverIntent"))[1] == token_of(WHOLE, 0)
    assert saved(store)["playback"]["played"] == 0 and before["began"]
    speaker.event("PlaybackStopped", before["token"], offset=100)  # the old stream, replaced
    assert history(store) == ()  # starting over records nothing, as turn by turn
    play_on(speaker, clock)
    (entry,) = history(store)
    assert entry.end == "closed" and entry.minutes == minutes(audio())


# ---------------------------------------------------------------------- with the spoken session


def test_a_play_through_asked_for_mid_session_counts_the_spoken_part_too(
    skill: CustomSkill, store: SqliteAdapter, clock: Clock
) -> None:
    speaker = Speaker(skill)
    speaker.launch()
    speaker.say("AMAZON.NextIntent")
    clock.advance(600)  # ten minutes turn by turn
    speaker.say("AMAZON.NextIntent")
    _, token, _ = played(speaker.say("PlayThroughIntent"))
    assert index_of(token) > 0
    play_on(speaker, clock)
    (entry,) = history(store)
    assert entry.minutes == minutes(600 + audio(index_of(token)))


def test_a_turn_by_turn_session_and_a_play_through_make_a_streak(
    skill: CustomSkill, store: SqliteAdapter, clock: Clock
) -> None:
    speaker = Speaker(skill)
    speaker.launch()
    place_slot = slot("place", "last", resolved_id="last", slot_type="PlaceType")
    speaker.say("GoToPoseIntent", {"place": place_slot})
    closed = speaker.say("AMAZON.NextIntent")
    assert closed["response"]["shouldEndSession"] is True
    clock.advance(24 * 3600)
    player = Speaker(skill)
    player.say("PlayThroughIntent")
    play_on(player, clock)
    assert [entry.day.isoformat() for entry in history(store)] == ["2025-03-10", "2025-03-11"]
    assert said(Speaker(skill).say("StreakIntent")).startswith(
        "You've stretched 2 days in a row, today included."
    )


def test_without_a_store_a_play_through_keeps_nothing(clock: Clock) -> None:
    speaker = Speaker(build_skill(audio_base_url=BASE, clock=clock))
    speaker.say("PlayThroughIntent")
    play_on(speaker, clock, until=3)
    speaker.stop_at(10)
    speaker.token = token_of(WHOLE, LAST)
    speaker.event("PlaybackStarted")
    speaker.event("PlaybackFinished")


@pytest.mark.parametrize(
    "ledger",
    [
        {"began": "yesterday", "played": -5, "carried": "yes"},
        {"began": True, "played": 10**12},
        {"began": 10**30, "played": 1.5},
        None,
    ],
)
def test_a_tampered_ledger_is_read_as_far_as_it_goes(
    ledger: Any, skill: CustomSkill, store: SqliteAdapter, clock: Clock
) -> None:
    speaker = Speaker(skill)
    speaker.say("PlayThroughIntent")
    play_on(speaker, clock, until=LAST - 1)
    envelope = parse_envelope(Session().launch())
    kept = store.get_attributes(envelope)
    playback = {"token": kept["playback"]["token"], "offset_ms": 0}
    kept["playback"] = playback if ledger is None else {**playback, **ledger}
    store.save_attributes(envelope, kept)
    play_on(speaker, clock)
    (entry,) = history(store)
    assert entry.end == "closed" and 1 <= entry.minutes <= 24 * 60
