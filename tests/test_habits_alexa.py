"""The habits through the whole skill: genuine envelopes, both stores (a SQLite file, DynamoDB
on a moto server over HTTP), and the Alexa APIs as a loopback stub (tests/alexa_api_stub.py)
that records what it receives and answers as the documented APIs do, errors and slow answers
included. The skill's clock is set; no timing is asserted.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alexa_api_stub import PERMISSION, TOKEN, AlexaApiStub, point_at, running_stub
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter, AttributesManager
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_core.handler_input import HandlerInput
from conftest import check_response, said

from skill.alexa.alexa_api import AlexaApi, TimeoutApiClient
from skill.alexa.dispatch import dispatch, parse_envelope
from skill.alexa.handlers import SkillContext, build_skill
from skill.alexa.persistence import SqliteAdapter, dynamodb_adapter
from skill.habits.history import COUNTS_AFTER, decode
from skill.local.envelopes import DEFAULT_DEVICE_ID, DEFAULT_USER_ID, Session, slot
from skill.routine.coach import Coach
from skill.routine.content import load_routine
from skill.routine.state import State

LONDON = ZoneInfo("Europe/London")
AUCKLAND = ZoneInfo("Pacific/Auckland")
FIRST = "That's your first session with me."
THIRD = "That's your third session this week."


class Clock:
    """The skill's clock, set by the test."""

    def __init__(self, when: datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when.timestamp()

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[AbstractPersistenceAdapter]:
    if request.param == "sqlite":
        with SqliteAdapter(tmp_path / "progress.sqlite3") as adapter:
            yield adapter
        return
    endpoint: str = request.getfixturevalue("moto_endpoint")
    request.getfixturevalue("aws_env")
    table = f"habits-{uuid.uuid4().hex[:8]}"
    with dynamodb_adapter(
        table, create_table=True, endpoint_url=endpoint, region="us-east-1"
    ) as adapter:
        yield adapter


@pytest.fixture
def sqlite_store(tmp_path: Any) -> Iterator[SqliteAdapter]:
    with SqliteAdapter(tmp_path / "progress.sqlite3") as adapter:
        yield adapter


@pytest.fixture
def stub() -> Iterator[AlexaApiStub]:
    with running_stub() as running:
        yield running


class Runner:
    """One runner talking to the skill, with the APIs at the stub."""

    def __init__(
        self, store: AbstractPersistenceAdapter | None, stub: AlexaApiStub, clock: Clock
    ) -> None:
        api = AlexaApi(time_zone_timeout=0.5, reminders_timeout=0.5, allow_loopback=True)
        self.skill = build_skill(persistence=store, clock=clock, api=api)
        self.store = store
        self.stub = stub
        self.clock = clock
        self.session = Session()

    def send(self, envelope: dict[str, Any], *, permitted: bool | None = None) -> dict[str, Any]:
        response = dispatch(self.skill, point_at(envelope, self.stub, permitted=permitted))
        check_response(response)
        self.session.absorb(response)
        return response

    def say(self, intent: str, slots: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        return self.send(self.session.intent(intent, slots), **kw)

    def new_session(self) -> None:
        self.session = Session()

    def finish(self, minutes: float = 5) -> str:
        """A whole session: open, go to the closing relaxation, and finish. What the close said."""
        self.new_session()
        self.send(self.session.launch())
        self.clock.advance(minutes - 1)
        self.say(
            "GoToPoseIntent",
            {"place": slot("place", "last", resolved_id="last", slot_type="PlaceType")},
        )
        self.clock.advance(1)
        response = self.say("AMAZON.NextIntent")
        assert response["response"]["shouldEndSession"] is True
        return said(response)

    def saved(self) -> dict[str, Any]:
        assert self.store is not None
        attributes: dict[str, Any] = self.store.get_attributes(parse_envelope(Session().launch()))
        return attributes

    def history(self) -> list[dict[str, Any]]:
        """The sessions kept, as stored (a line of text each), read back."""
        return [
            {**entry._asdict(), "date": entry.day.isoformat()}
            for entry in decode(self.saved().get("history", []))
        ]


def _runner(store: AbstractPersistenceAdapter | None, stub: AlexaApiStub, when: datetime) -> Runner:
    """A runner whose clock starts at ``when``; the device is in ``when``'s zone unless the test
    says otherwise."""
    if stub.time_zone is None and isinstance(when.tzinfo, ZoneInfo):
        stub.time_zone = when.tzinfo.key
    return Runner(store, stub, Clock(when))


# ---------------------------------------------------------------------- history and streaks


def test_three_sessions_in_a_week_are_said_once_at_the_close_of_the_third(
    store: AbstractPersistenceAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(store, stub, datetime(2025, 3, 10, 18, 0, tzinfo=LONDON))  # a Monday
    closes = []
    for day in (10, 12, 14, 15):  # Monday, Wednesday, Friday, Saturday
        runner.clock.set(datetime(2025, 3, day, 18, 0, tzinfo=LONDON))
        closes.append(runner.finish())
    assert FIRST in closes[0]
    assert not any(FIRST in text or "this week" in text for text in closes[1:2] + closes[3:])
    assert THIRD in closes[2]
    assert closes[2].endswith("That's your third session this week. Well done, and namaste.")
    history = runner.history()
    assert [h["date"] for h in history] == ["2025-03-10", "2025-03-12", "2025-03-14", "2025-03-15"]
    assert {(h["mode"], h["kind"], h["end"], h["minutes"]) for h in history} == {
        ("hold", "full", "closed", 5)
    }
    assert DEFAULT_USER_ID not in json.dumps(runner.saved())


def test_days_are_the_runners_own_across_midnight(
    store: AbstractPersistenceAdapter, stub: AlexaApiStub
) -> None:
    """Two sessions twenty minutes apart, either side of midnight in Auckland, are on two of the
    runner's days, though both are on one day in UTC."""
    stub.time_zone = "Pacific/Auckland"
    runner = _runner(store, stub, datetime(2025, 3, 10, 23, 45, tzinfo=AUCKLAND))
    runner.finish()  # ends 23:50 on the 10th, Auckland time (10:50 UTC)
    runner.clock.set(datetime(2025, 3, 11, 0, 5, tzinfo=AUCKLAND))
    runner.finish()  # ends 00:10 on the 11th (11:10 UTC, still the 10th)
    assert [h["date"] for h in runner.history()] == ["2025-03-10", "2025-03-11"]
    runner.new_session()
    streak = said(runner.say("StreakIntent"))
    assert streak.startswith("You've stretched 2 days in a row, today included.")
    asked = stub.calls("GET", "/v2/devices/")
    assert asked and all(
        r.path == f"/v2/devices/{DEFAULT_DEVICE_ID}/settings/System.timeZone" for r in asked
    )
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in asked)


def test_without_a_time_zone_the_days_are_utcs(
    sqlite_store: SqliteAdapter, stub: AlexaApiStub
) -> None:
    stub.time_zone_status = 403
    runner = _runner(sqlite_store, stub, datetime(2025, 3, 10, 23, 45, tzinfo=AUCKLAND))
    runner.finish()
    runner.clock.set(datetime(2025, 3, 11, 0, 5, tzinfo=AUCKLAND))
    runner.finish()
    assert [h["date"] for h in runner.history()] == ["2025-03-10", "2025-03-10"]
    runner.new_session()
    assert said(runner.say("StreakIntent")).startswith(
        "You've stretched today. Stretch tomorrow too, and that's two days in a row. This week "
        "you've done 2 sessions."
    )


@pytest.mark.parametrize("trouble", ["slow", "refused", "none set", "elsewhere", "not a zone"])
def test_a_time_zone_that_cant_be_had_falls_back_to_utc(
    trouble: str, sqlite_store: SqliteAdapter, stub: AlexaApiStub
) -> None:
    if trouble == "slow":
        stub.slow.add("time_zone")
    elif trouble == "refused":
        stub.time_zone_status = 500
    elif trouble == "none set":
        stub.time_zone_status = 204
    elif trouble == "not a zone":
        stub.time_zone = "Mars/Olympus_Mons"
    runner = _runner(sqlite_store, stub, datetime(2025, 3, 10, 23, 50, tzinfo=AUCKLAND))
    if trouble == "elsewhere":  # not an Alexa API host: never called
        runner.stub = AlexaApiStub(url="http://192.0.2.1:9")
    close = runner.finish()
    assert close.endswith("Well done, and namaste.")
    assert [h["date"] for h in runner.history()] == ["2025-03-10"]  # UTC's 10:55 on the 10th
    if trouble == "elsewhere":
        assert stub.received == []


def _pose_at(fraction: float) -> str:
    """The first pose that starts with at least ``fraction`` of the routine got through."""
    coach = Coach(load_routine())
    shown = [i for i in range(len(coach.segments)) if coach.included(i, State())]
    for done, index in enumerate(shown):
        seg = coach.segments[index]
        if done >= math.ceil(fraction * len(shown)) and seg.side == 0:
            return coach.routine.poses[seg.pose].id
    raise AssertionError(fraction)


def _go_to(runner: Runner, pose: str) -> None:
    runner.say(
        "GoToPoseIntent", {"pose": slot("pose", pose, resolved_id=pose, slot_type="PoseType")}
    )


def test_stopping_after_most_of_the_routine_counts_once_even_carried_on(
    store: AbstractPersistenceAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(store, stub, datetime(2025, 3, 10, 18, 0, tzinfo=LONDON))
    runner.send(runner.session.launch())
    runner.clock.advance(20)
    _go_to(runner, _pose_at(COUNTS_AFTER + 0.05))
    stop = said(runner.say("AMAZON.StopIntent"))
    assert FIRST in stop  # counted: the first session
    assert [(h["end"], h["minutes"]) for h in runner.history()] == [("stopped", 20)]
    # Back two hours later: carry on, and finish. Still one session, its minutes added up.
    runner.clock.advance(120)
    runner.new_session()
    assert said(runner.send(runner.session.launch())).startswith("Welcome back")
    runner.say("AMAZON.YesIntent")
    runner.clock.advance(6)
    runner.say(
        "GoToPoseIntent",
        {"place": slot("place", "last", resolved_id="last", slot_type="PlaceType")},
    )
    close = said(runner.say("AMAZON.NextIntent"))
    assert FIRST not in close
    assert [(h["end"], h["minutes"]) for h in runner.history()] == [("closed", 26)]


def test_stopping_early_counts_for_nothing(sqlite_store: SqliteAdapter, stub: AlexaApiStub) -> None:
    runner = _runner(sqlite_store, stub, datetime(2025, 3, 10, 18, 0, tzinfo=LONDON))
    runner.send(runner.session.launch())
    _go_to(runner, _pose_at(0.5))
    stop = said(runner.say("AMAZON.StopIntent"))
    assert stop == "Good work today. Namaste."
    assert "history" not in runner.saved()
    assert stub.received == []  # no day was needed: the time zone was never asked


def test_a_session_alexa_ends_after_the_relaxation_is_recorded_in_silence(
    store: AbstractPersistenceAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(store, stub, datetime(2025, 3, 10, 18, 0, tzinfo=LONDON))
    runner.send(runner.session.launch())
    runner.clock.advance(12)
    runner.say(
        "GoToPoseIntent",
        {"place": slot("place", "last", resolved_id="last", slot_type="PlaceType")},
    )
    ended = runner.send(runner.session.session_ended("EXCEEDED_MAX_REPROMPTS"))
    assert "outputSpeech" not in ended["response"]
    assert [(h["end"], h["minutes"]) for h in runner.history()] == [("stopped", 12)]


def test_sessions_and_streaks_on_request(
    store: AbstractPersistenceAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(store, stub, datetime(2025, 3, 10, 7, 0, tzinfo=LONDON))
    runner.new_session()
    assert said(runner.say("HistoryIntent")).startswith(
        "You haven't finished a session with me yet."
    )
    for day in (10, 11, 12):
        runner.clock.set(datetime(2025, 3, day, 7, 0, tzinfo=LONDON))
        runner.finish(minutes=30)
    runner.clock.set(datetime(2025, 3, 13, 8, 0, tzinfo=LONDON))
    runner.new_session()
    history = said(runner.say("HistoryIntent"))
    assert history.startswith(
        "You've done 3 sessions with me since the tenth of March, 90 minutes in all, and 3 "
        "sessions this week. Your last was yesterday: the full routine, 30 minutes."
    )
    assert history.endswith("Say start to begin the routine.")  # and the session stays open
    streak = said(runner.say("StreakIntent"))
    assert streak.startswith("You've stretched 3 days in a row, up to yesterday.")


def test_forget_my_history_asks_first_and_keeps_the_progress(
    store: AbstractPersistenceAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(store, stub, datetime(2025, 3, 10, 18, 0, tzinfo=LONDON))
    runner.new_session()
    assert said(runner.say("ForgetHistoryIntent")).startswith("I haven't kept any sessions")
    runner.finish()
    runner.new_session()
    runner.send(runner.session.launch())
    asked = runner.say("ForgetHistoryIntent")
    assert said(asked).startswith("Shall I forget every session I've kept for you?")
    assert said(runner.say("AMAZON.NoIntent")).startswith("Okay, I'll keep them.")
    assert len(runner.history()) == 1
    runner.say("ForgetHistoryIntent")
    assert said(runner.say("AMAZON.YesIntent")).startswith("Done: I've forgotten every session")
    saved = runner.saved()
    assert "history" not in saved
    assert saved["yoga"]["pose"] == "forward_fold"  # the place in the routine stays
    # A session after forgetting is the first again.
    runner.clock.advance(60 * 24)
    assert FIRST in runner.finish()


def test_saving_the_progress_keeps_the_history(
    store: AbstractPersistenceAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(store, stub, datetime(2025, 3, 10, 18, 0, tzinfo=LONDON))
    runner.finish()
    runner.clock.advance(60)
    runner.new_session()
    runner.send(runner.session.launch())
    runner.say("AMAZON.NextIntent")
    runner.say("AMAZON.NextIntent")
    saved = runner.saved()
    assert saved["yoga"]["status"] == "active"
    assert len(saved["history"]) == 1


def test_disabling_the_skill_leaves_nothing_of_the_runner(
    store: AbstractPersistenceAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(store, stub, datetime(2025, 3, 10, 18, 0, tzinfo=LONDON))
    runner.finish()
    runner.new_session()
    runner.send(runner.session.launch())
    assert runner.saved()["history"]
    disabled = dispatch(runner.skill, runner.session.skill_disabled())
    assert "outputSpeech" not in disabled["response"]
    assert runner.saved() == {}


# ---------------------------------------------------------------------- reminders

WEDNESDAY_10 = datetime(2025, 3, 12, 10, 0, tzinfo=AUCKLAND)


def _remind(runner: Runner, day: str | None, at: str | None, **kw: Any) -> dict[str, Any]:
    slots = {}
    if day:
        slots["date"] = slot("date", day)
    if at:
        slots["time"] = slot("time", at)
    return runner.say("SetReminderIntent", slots, **kw)


def _permission_answer(runner: Runner, token: str, status: str, **kw: Any) -> dict[str, Any]:
    request = {
        "type": "Connections.Response",
        "name": "AskFor",
        "status": {"code": "200", "message": "OK"},
        "payload": {"permissionScope": PERMISSION, "status": status},
        "token": token,
    }
    return runner.send(runner.session.envelope(request), **kw)


def test_a_reminder_asked_by_voice_reaches_the_api_at_the_runners_time(
    sqlite_store: SqliteAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(sqlite_store, stub, WEDNESDAY_10)  # the device is in Auckland
    runner.send(runner.session.launch())
    asked = _remind(runner, "2025-03-13", "07:00")  # "remind me to stretch tomorrow at seven"
    body = asked["response"]
    assert said(asked) == "To set that reminder, I need your permission."
    assert "shouldEndSession" not in body and "reprompt" not in body
    (directive,) = [d for d in body["directives"] if d["type"] == "Connections.SendRequest"]
    assert directive["name"] == "AskFor"
    assert directive["payload"] == {
        "@type": "AskForPermissionsConsentRequest",
        "@version": "1",
        "permissionScope": PERMISSION,
    }
    assert stub.calls("POST", "/v1/alerts/reminders") == []
    answer = _permission_answer(runner, directive["token"], "ACCEPTED", permitted=True)
    assert said(answer).startswith("Okay, I'll remind you to stretch tomorrow at 7 in the morning.")
    assert answer["response"]["shouldEndSession"] is False  # back to the routine
    (created,) = stub.calls("POST", "/v1/alerts/reminders")
    assert created.headers["authorization"] == f"Bearer {TOKEN}"
    trigger = created.body["trigger"]
    assert trigger == {
        "type": "SCHEDULED_ABSOLUTE",
        "scheduledTime": "2025-03-13T07:00:00",
        "timeZoneId": "Pacific/Auckland",
    }
    spoken = created.body["alertInfo"]["spokenInfo"]["content"]
    assert spoken == [
        {
            "locale": "en-GB",
            "text": "Time for your post-run stretches. Say, Alexa, open post run yoga.",
        }
    ]
    assert created.body["pushNotification"] == {"status": "ENABLED"}


@pytest.mark.parametrize("status", ["DENIED", "NOT_ANSWERED"])
def test_refusing_permission_gets_a_clear_answer(
    status: str, sqlite_store: SqliteAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(sqlite_store, stub, WEDNESDAY_10)
    asked = _remind(runner, "2025-03-13", "07:00")
    token = asked["response"]["directives"][0]["token"]
    answer = _permission_answer(runner, token, status, permitted=False)
    assert said(answer).startswith(
        "Okay, no reminder. If you change your mind, you can allow reminders for post run yoga "
        "in the Alexa app."
    )
    assert stub.calls("POST", "/v1/alerts/reminders") == []


def test_after_my_run_on_saturday_morning(sqlite_store: SqliteAdapter, stub: AlexaApiStub) -> None:
    runner = _runner(sqlite_store, stub, datetime(2025, 3, 12, 10, 0, tzinfo=LONDON))
    answer = _remind(runner, "2025-03-15", "MO", permitted=True)
    assert said(answer).startswith(
        "Okay, I'll remind you to stretch on Saturday at 9 in the morning."
    )
    (created,) = stub.calls("POST", "/v1/alerts/reminders")
    assert created.body["trigger"]["scheduledTime"] == "2025-03-15T09:00:00"


def test_a_time_gone_by_is_refused_without_a_call(
    sqlite_store: SqliteAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(sqlite_store, stub, WEDNESDAY_10)
    answer = _remind(runner, "2025-03-12", "06:00", permitted=True)
    assert said(answer).startswith("That time has already gone.")
    assert stub.calls("POST", "/v1/alerts/reminders") == []
    when = _remind(runner, None, None, permitted=True)
    assert said(when).startswith("When shall I remind you?")


@pytest.mark.parametrize(
    ("trouble", "answer"),
    [
        (401, "I don't have permission to use your reminders."),
        (403, "I don't have permission to use your reminders."),
        (400, "That time has already gone."),
        (500, "Sorry, the reminders service didn't answer just now."),
        ("slow", "Sorry, the reminders service didn't answer just now."),
    ],
)
def test_reminders_api_errors_get_a_clear_answer(
    trouble: int | str, answer: str, sqlite_store: SqliteAdapter, stub: AlexaApiStub
) -> None:
    if trouble == "slow":
        stub.slow.add("create")
    else:
        stub.create_status = int(trouble)
    runner = _runner(sqlite_store, stub, WEDNESDAY_10)
    response = _remind(runner, "2025-03-13", "07:00", permitted=True)
    assert said(response).startswith(answer)
    assert response["response"]["shouldEndSession"] is False
    card = response["response"].get("card")
    if trouble in (401, 403):
        assert card == {"type": "AskForPermissionsConsent", "permissions": [PERMISSION]}
    else:
        assert card is None or card.get("type") != "AskForPermissionsConsent"


def test_what_reminders_do_i_have_and_cancelling_them(
    sqlite_store: SqliteAdapter, stub: AlexaApiStub
) -> None:
    stub.add_reminder("2025-03-13T07:00:00.000")
    stub.add_reminder("2025-03-15T09:00:00.000")
    stub.add_reminder("2025-03-01T09:00:00.000", status="COMPLETED")
    runner = _runner(sqlite_store, stub, WEDNESDAY_10)
    listed = said(runner.say("ListRemindersIntent", permitted=True))
    assert listed.startswith(
        "You have 2 reminders from me: tomorrow at 7 in the morning and on Saturday at 9 in the "
        "morning."
    )
    cancelled = said(runner.say("CancelReminderIntent", permitted=True))
    assert cancelled.startswith("Okay, I've cancelled your 2 reminders:")
    assert len(stub.calls("DELETE", "/v1/alerts/reminders/")) == 2
    assert [r["status"] for r in stub.reminders.values()] == ["COMPLETED"]
    none = said(runner.say("ListRemindersIntent", permitted=True))
    assert none.startswith("You don't have any reminders from me.")


def test_reminders_without_permission_are_not_asked_of_the_api(
    sqlite_store: SqliteAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(sqlite_store, stub, WEDNESDAY_10)
    for intent in ("ListRemindersIntent", "CancelReminderIntent"):
        response = runner.say(intent, permitted=False)
        assert said(response).startswith("I don't have permission to use your reminders.")
        assert response["response"]["card"]["type"] == "AskForPermissionsConsent"
    assert stub.calls("GET", "/v1/alerts/reminders") == []


def test_a_resumed_session_carrying_the_token_sets_the_reminder(
    sqlite_store: SqliteAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(sqlite_store, stub, WEDNESDAY_10)
    request = {
        "type": "SessionResumedRequest",
        "cause": {
            "type": "ConnectionCompleted",
            "token": "reminder:2025-03-13T07:00",
            "status": {"code": "200", "message": "OK"},
            "result": {"status": "ACCEPTED"},
        },
    }
    response = runner.send(runner.session.envelope(request), permitted=True)
    assert said(response).startswith("Okay, I'll remind you to stretch tomorrow")
    assert len(stub.calls("POST", "/v1/alerts/reminders")) == 1


def test_an_answer_for_another_permission_request_is_not_ours(
    sqlite_store: SqliteAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(sqlite_store, stub, WEDNESDAY_10)
    runner.send(runner.session.launch())
    buy = {"type": "Connections.Response", "name": "Buy", "status": {"code": "200"}}
    response = runner.send(runner.session.envelope(buy))
    assert "reminder" not in said(response).lower()
    broken = _permission_answer(runner, "reminder:not-a-time", "ACCEPTED", permitted=True)
    assert said(broken).startswith("When shall I remind you?")
    assert stub.calls("POST", "/v1/alerts/reminders") == []


def test_the_session_remembers_the_time_zone(
    sqlite_store: SqliteAdapter, stub: AlexaApiStub
) -> None:
    runner = _runner(sqlite_store, stub, WEDNESDAY_10)
    runner.send(runner.session.launch())
    _remind(runner, "2025-03-13", "07:00", permitted=True)
    _remind(runner, "2025-03-14", "07:00", permitted=True)
    assert len(stub.calls("GET", "/v2/devices/")) == 1
    assert len(stub.calls("POST", "/v1/alerts/reminders")) == 2


# ---------------------------------------------------------------------- a store that fails


class ReadOnlyStore(AbstractPersistenceAdapter):
    """A store that reads what it was given and fails every write, as one that is down."""

    def __init__(self, attributes: dict[str, Any] | None = None) -> None:
        self.attributes = attributes or {}

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        return dict(self.attributes)

    def save_attributes(self, request_envelope: Any, attributes: Any) -> None:
        raise PersistenceException("the store is down")

    def delete_attributes(self, request_envelope: Any) -> None:
        raise PersistenceException("the store is down")


def test_a_store_that_fails_never_stops_the_goodbye(
    stub: AlexaApiStub, caplog: pytest.LogCaptureFixture
) -> None:
    runner = _runner(ReadOnlyStore(), stub, datetime(2025, 3, 10, 18, 0, tzinfo=LONDON))
    with caplog.at_level(logging.WARNING):
        close = runner.finish()
    assert close.endswith("Well done, and namaste.")
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("could not record the session" in r.getMessage() for r in failures)
    assert all(r.exc_info is None for r in failures)  # one line each, no traceback


def test_forgetting_in_a_store_that_fails_says_so(stub: AlexaApiStub) -> None:
    kept = {"history": ["2025-03-10 1741629000 28 hold full closed"]}
    runner = _runner(ReadOnlyStore(kept), stub, datetime(2025, 3, 11, 18, 0, tzinfo=LONDON))
    runner.say("ForgetHistoryIntent")
    answer = said(runner.say("AMAZON.YesIntent"))
    assert answer.startswith("Sorry, I couldn't forget them just now.")


def test_a_session_ended_elsewhere_is_recorded_with_its_minutes(
    sqlite_store: SqliteAdapter, stub: AlexaApiStub
) -> None:
    """The hook for a hands-free play-through that plays to its end (no session, no turns)."""
    runner = _runner(sqlite_store, stub, datetime(2025, 3, 10, 18, 0, tzinfo=LONDON))
    ctx = next(
        chain.request_handler.ctx
        for mapper in runner.skill.request_dispatcher.request_mappers
        for chain in mapper.request_handler_chains
        if isinstance(getattr(chain.request_handler, "ctx", None), SkillContext)
    )
    envelope = parse_envelope(point_at(runner.session.launch(), stub))
    handler_input = HandlerInput(
        request_envelope=envelope,
        attributes_manager=AttributesManager(envelope, persistence_adapter=sqlite_store),
    )
    ctx.habits.at_session_end(handler_input, State(status="finished"), minutes=33)
    assert [(h["end"], h["minutes"]) for h in runner.history()] == [("closed", 33)]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.amazonalexa.com/v1/alerts/reminders", True),
        ("https://api.eu.amazonalexa.com/v2/devices/x/settings/System.timeZone", True),
        ("https://api.fe.amazonalexa.com", True),
        ("http://api.amazonalexa.com", False),
        ("https://amazonalexa.com.example.org", False),
        ("https://example.org/api.amazonalexa.com", False),
        ("https://user@example.org", False),
        ("http://127.0.0.1:8000", False),
        ("file:///etc/passwd", False),
    ],
)
def test_the_api_client_calls_only_alexas_api_hosts(url: str, allowed: bool) -> None:
    assert TimeoutApiClient().allowed(url) is allowed
    loopback = TimeoutApiClient(allow_loopback=True)
    assert loopback.allowed("http://127.0.0.1:8000") and loopback.allowed("http://localhost:1")
    assert not loopback.allowed("http://192.0.2.1:80")


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (401, "I don't have permission to use your reminders."),
        (500, "Sorry, the reminders service didn't answer just now."),
        ("slow", "Sorry, the reminders service didn't answer just now."),
    ],
)
def test_listing_reminders_that_fails_gets_a_clear_answer(
    status: int | str, answer: str, sqlite_store: SqliteAdapter, stub: AlexaApiStub
) -> None:
    if status == "slow":
        stub.slow.add("list")
    else:
        stub.list_status = int(status)
    runner = _runner(sqlite_store, stub, WEDNESDAY_10)
    for intent in ("ListRemindersIntent", "CancelReminderIntent"):
        assert said(runner.say(intent, permitted=True)).startswith(answer)
