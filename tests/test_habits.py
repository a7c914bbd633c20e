"""The habits' pure parts: what counts as a finished session, the bounded history, streaks and
when they are said, reminder times, the words, and the state machine's question."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from conftest import ROUTINE

from skill.alexa.progress import RESUME_WINDOW_SECONDS
from skill.habits.history import (
    CARRY_ON_SECONDS,
    COUNTS_AFTER,
    DAY_SECONDS,
    KEEP_DAYS,
    MAX_SESSIONS,
    Entry,
    counts,
    decode,
    encode,
    entry_for,
    expire,
    minutes_between,
    record,
    trim,
)
from skill.habits.reminders import Asked, Problem, plan, read_time, still_ahead
from skill.habits.streaks import (
    MONDAY,
    SUNDAY,
    close_remark,
    days_in_a_row,
    first_weekday,
    history_say,
    streak_say,
    this_week,
)
from skill.local.builtin_dates import resolve_date, resolve_time
from skill.routine.coach import Coach
from skill.routine.codec import decode as decode_state
from skill.routine.codec import encode as encode_state
from skill.routine.says import Key, Say
from skill.routine.state import QUICK, Question, State
from skill.speech.narration import Narrator

COACH = Coach(ROUTINE)
MONDAY_9 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)  # a Monday
T0 = int(MONDAY_9.timestamp())


def entry(day: date, *, at: int | None = None, minutes: int = 30, end: str = "closed") -> Entry:
    when = at if at is not None else int(datetime.combine(day, time(9), UTC).timestamp())
    return Entry(at=when, day=day, minutes=minutes, mode="hold", kind="full", end=end)  # type: ignore[arg-type]


def days(*offsets: int) -> tuple[Entry, ...]:
    start = MONDAY_9.date()
    return tuple(entry(start + timedelta(days=o)) for o in offsets)


# ---------------------------------------------------------------------- what counts


def _at(fraction: float, plan_state: State) -> State:
    """An active state on the first segment at ``fraction`` of the session's segments."""
    shown = [i for i in range(len(COACH.segments)) if COACH.included(i, plan_state)]
    index = shown[math.ceil(fraction * len(shown))]
    return plan_state._replace(segment=index, status="active", heard=False)


def test_a_finished_session_counts() -> None:
    assert counts(COACH, State(status="finished"))


def test_reaching_the_relaxation_counts() -> None:
    last = max(i for i in range(len(COACH.segments)) if COACH.included(i, State()))
    heard = State(segment=last, status="active", heard=True)
    assert COACH.pose_of(heard).relaxation
    assert counts(COACH, heard)


def test_stopping_after_three_quarters_counts_and_before_does_not() -> None:
    shown = [i for i in range(len(COACH.segments)) if COACH.included(i, State())]
    needed = next(n for n in range(len(shown)) if n >= COUNTS_AFTER * len(shown))
    before = State(segment=shown[needed - 1], status="active")
    at = State(segment=shown[needed], status="active")
    assert COACH.progress(before)[0] < COUNTS_AFTER * len(shown)
    assert not counts(COACH, before)
    assert counts(COACH, at)


def test_the_share_is_of_the_chosen_session() -> None:
    quick = State(plan=QUICK, status="active")
    assert counts(COACH, _at(COUNTS_AFTER, quick))
    assert not counts(COACH, _at(0.5, quick))


def test_nothing_started_counts_for_nothing() -> None:
    assert not counts(COACH, State())
    assert not counts(COACH, State(status="paused", segment=0))


# ---------------------------------------------------------------------- the history


def test_entries_round_trip_and_junk_is_left_out() -> None:
    kept = days(0, 1)
    assert encode(kept)[0] == f"2025-03-10 {T0} 30 hold full closed"
    raw: list[Any] = [
        *encode(kept),
        "2025-13-01 1 3 hold full closed",
        "2025-03-10 x 3 hold full closed",
        f"2025-03-10 {T0} 3 run full closed",
        f"2025-03-10 {T0} 3 hold full",
        f"2025-03-10 -{T0} 3 hold full closed",
        "x" * 1000,
        {"date": "2025-03-10", "at": T0},
        None,
    ]
    assert decode(raw) == kept
    assert decode("nope") == ()
    assert decode(encode(kept)[::-1]) == kept  # sorted by when they ended
    assert decode([f"2025-03-10 {T0} 99999 hold full closed"])[0].minutes == 24 * 60


def test_the_history_keeps_ninety_days_and_a_hundred_sessions() -> None:
    now = T0 + 200 * DAY_SECONDS
    old = entry(date(2025, 1, 1), at=now - (KEEP_DAYS + 1) * DAY_SECONDS)
    recent = entry(date(2025, 9, 1), at=now - DAY_SECONDS)
    assert trim((old, recent), now) == (recent,)
    many = tuple(entry(date(2025, 9, 1), at=now - i) for i in range(MAX_SESSIONS + 20))
    kept = trim(many, now)
    assert len(kept) == MAX_SESSIONS
    assert kept[-1].at == now  # the newest stay
    raw = encode((old, *many))
    assert len(expire(raw, now)) == MAX_SESSIONS
    fresh = encode((recent,))[0]
    assert expire(["2025-03-10 junk", "x", None, {"at": now}, fresh], now) == [fresh]


def test_a_new_session_is_added_and_says_so() -> None:
    history, new = record(
        days(0),
        entry_for(State(), at=T0 + DAY_SECONDS, day=date(2025, 3, 11), minutes=20, closed=True),
        carried=False,
    )
    assert new and len(history) == 2


def test_a_stopped_session_carried_on_counts_once() -> None:
    stopped = entry(MONDAY_9.date(), at=T0, minutes=22, end="stopped")
    later = entry_for(State(), at=T0 + 3600, day=MONDAY_9.date(), minutes=6, closed=True)
    history, new = record((stopped,), later, carried=True)
    assert not new
    assert history == (later._replace(minutes=28),)
    # Not carried on (a fresh start), or carried on after the window: two sessions.
    assert record((stopped,), later, carried=False)[1]
    too_late = later._replace(at=T0 + CARRY_ON_SECONDS + 60)
    assert record((stopped,), too_late, carried=True)[1]
    # A closed session is never added to.
    closed = stopped._replace(end="closed")
    assert record((closed,), later, carried=True)[1]


def test_the_carry_on_window_is_the_resume_window() -> None:
    assert CARRY_ON_SECONDS == RESUME_WINDOW_SECONDS


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [(None, 100.0, 1), (0.0, 29.0, 1), (0.0, 1800.0, 30), (0.0, 1771.0, 30), (500.0, 100.0, 1)],
)
def test_minutes(start: float | None, end: float, minutes: int) -> None:
    assert minutes_between(start, end) == minutes


def test_an_entry_says_mode_kind_and_how_it_ended() -> None:
    made = entry_for(
        State(mode="flow", plan=QUICK), at=T0, day=date(2025, 3, 10), minutes=0, closed=False
    )
    assert (made.mode, made.kind, made.end, made.minutes) == ("flow", "quick", "stopped", 1)
    assert made.to_text() == f"2025-03-10 {T0} 1 flow quick stopped"


# ---------------------------------------------------------------------- streaks


def test_days_in_a_row_run_to_today_or_yesterday() -> None:
    monday = MONDAY_9.date()
    run = [monday + timedelta(days=i) for i in range(4)]  # Monday to Thursday
    assert days_in_a_row(run, monday + timedelta(days=3)) == 4
    assert days_in_a_row(run, monday + timedelta(days=4)) == 4  # Friday, not yet stretched
    assert days_in_a_row(run, monday + timedelta(days=5)) == 0  # Saturday: broken
    assert days_in_a_row([], monday) == 0


def test_weeks_start_on_the_locales_first_day() -> None:
    sunday = MONDAY_9.date() - timedelta(days=1)
    history = (entry(sunday), *days(0, 1))
    assert this_week(history, MONDAY_9.date() + timedelta(days=1), MONDAY) == 2
    assert this_week(history, MONDAY_9.date() + timedelta(days=1), SUNDAY) == 3
    assert first_weekday("en-GB") == MONDAY
    assert first_weekday("en-US") == SUNDAY
    assert first_weekday(None) == MONDAY


def _remarks(offsets: list[int], first: int = MONDAY) -> list[Say | None]:
    """What each close says, for sessions on these days after the first Monday."""
    said = []
    history: tuple[Entry, ...] = ()
    for offset in offsets:
        new = entry(MONDAY_9.date() + timedelta(days=offset))
        after, added = record(history, new, carried=False)
        assert added
        said.append(close_remark(history, after, new, first_ever=not history, first=first))
        history = after
    return said


def test_three_sessions_in_a_week_are_said_once_at_the_third() -> None:
    said = _remarks([0, 2, 4, 5])  # Monday, Wednesday, Friday, Saturday
    assert said == [
        Say(Key.FIRST_SESSION),
        None,
        Say(Key.STREAK_CLOSE, {"days": 0, "week": 3}),
        None,
    ]


def test_days_in_a_row_are_said_at_milestones_once_a_day() -> None:
    said = _remarks([0, 1, 2, 2, 3, 4])
    assert said[2] == Say(Key.STREAK_CLOSE, {"days": 3, "week": 3})  # both, in one sentence
    assert said[3] is None  # the day's second session
    assert said[4] == Say(Key.STREAK_CLOSE, {"days": 0, "week": 5})  # four days; fifth session
    assert said[5] == Say(Key.STREAK_CLOSE, {"days": 5, "week": 0})  # five days; sixth session


def test_a_new_week_starts_the_count_again() -> None:
    said = _remarks([0, 2, 4, 7, 9, 11])
    assert said[5] == Say(Key.STREAK_CLOSE, {"days": 0, "week": 3})


def test_history_and_streak_answers() -> None:
    today = MONDAY_9.date() + timedelta(days=2)
    history = days(0, 1, 2)
    said = history_say(history, today)
    assert said.key is Key.HISTORY
    assert (said.params["count"], said.params["minutes"], said.params["week"]) == (3, 90, 3)
    streak = streak_say(history, today)
    assert (streak.params["days"], streak.params["today_done"]) == (3, True)
    assert history_say((), today) == Say(Key.HISTORY_NONE)
    assert streak_say((), today) == Say(Key.HISTORY_NONE)


# ---------------------------------------------------------------------- reminder times

NOW = datetime(2025, 3, 12, 10, 30)  # a Wednesday, mid-morning


@pytest.mark.parametrize(
    ("day", "at", "expected"),
    [
        ("2025-03-13", "07:00", datetime(2025, 3, 13, 7, 0)),  # tomorrow at seven
        ("2025-03-15", "MO", datetime(2025, 3, 15, 9, 0)),  # Saturday morning
        ("2025-03-15", "EV", datetime(2025, 3, 15, 18, 0)),
        ("2025-03-15", None, datetime(2025, 3, 15, 9, 0)),  # a day: the morning
        (None, "19:30", datetime(2025, 3, 12, 19, 30)),  # later today
        (None, "07:00", datetime(2025, 3, 13, 7, 0)),  # gone today: tomorrow
        ("PRESENT_REF", "18:00", datetime(2025, 3, 12, 18, 0)),
        ("2025-W11-WE", None, datetime(2025, 3, 15, 9, 0)),  # this weekend: Saturday
        ("2025-W11-WE", "NI", datetime(2025, 3, 15, 20, 0)),
    ],
)
def test_reminder_times(day: str | None, at: str | None, expected: datetime) -> None:
    asked = plan(day, at, NOW)
    assert asked == Asked(expected)


@pytest.mark.parametrize(
    ("day", "at", "problem"),
    [
        (None, None, Problem.WHEN),
        ("2025-03-12", "07:00", Problem.PAST),  # today, gone
        ("2025-03-11", None, Problem.PAST),  # yesterday
        ("2025-03-12", None, Problem.WHEN),  # today, no time, the morning gone
        ("2025-W12", "07:00", Problem.WHEN),  # a whole week
        ("2025-03", None, Problem.WHEN),  # a month
        ("2025-03-15", "half past", Problem.WHEN),  # a time not understood
        ("2025-02-30", "07:00", Problem.WHEN),
    ],
)
def test_reminder_problems(day: str | None, at: str | None, problem: Problem) -> None:
    assert plan(day, at, NOW) is problem


def test_a_weekend_half_gone_is_its_sunday() -> None:
    saturday_noon = datetime(2025, 3, 15, 12, 0)
    assert plan("2025-W11-WE", None, saturday_noon) == Asked(datetime(2025, 3, 16, 9, 0))


def test_the_token_carries_the_time_and_nothing_else_is_one() -> None:
    asked = Asked(datetime(2025, 3, 13, 7, 0))
    assert asked.token == "reminder:2025-03-13T07:00"
    assert Asked.from_token(asked.token) == asked
    for junk in (None, "", "reminder:", "reminder:tomorrow", "other:2025-03-13T07:00", 42):
        assert Asked.from_token(junk) is None
    assert still_ahead(asked, NOW)
    assert not still_ahead(asked, datetime(2025, 3, 13, 7, 0))


def test_times_read() -> None:
    assert read_time("07:05") == time(7, 5)
    assert read_time("24:00") is None
    assert read_time("mo") == time(9)


# ---------------------------------------------------------------------- the local resolver's days


def test_days_and_times_as_alexa_sends_them() -> None:
    wednesday = date(2025, 3, 12)
    assert resolve_date("tomorrow", wednesday) == "2025-03-13"
    assert resolve_date("saturday", wednesday) == "2025-03-15"
    assert resolve_date("wednesday", wednesday) == "2025-03-19"  # the next one
    assert resolve_date("this weekend", wednesday) == "2025-W11-WE"
    assert resolve_date("next weekend", wednesday) == "2025-W12-WE"
    assert resolve_date("the day after tomorrow", wednesday) == "2025-03-14"
    assert resolve_date("someday", wednesday) is None
    assert resolve_time("seven") == "07:00"
    assert resolve_time("seven thirty pm") == "19:30"
    assert resolve_time("quarter to eight") == "07:45"
    assert resolve_time("twelve am") == "00:00"
    assert resolve_time("noon") == "12:00"
    assert resolve_time("evening") == "EV"
    assert resolve_time("seven fifty five") is None


# ---------------------------------------------------------------------- the words


def _said(say: Say, locale: str = "en-GB") -> str:
    return " ".join(line.text for line in Narrator(ROUTINE, locale).lines([say]))


def test_days_are_said_from_today() -> None:
    today = "2025-03-12"
    at = {"today": today}
    assert _said(Say(Key.REMINDER_SET, {**at, "at": "2025-03-13T07:00"})) == (
        "Okay, I'll remind you to stretch tomorrow at 7 in the morning."
    )
    assert _said(Say(Key.REMINDER_SET, {**at, "at": "2025-03-15T18:30"})) == (
        "Okay, I'll remind you to stretch on Saturday at 6:30 in the evening."
    )
    far = Say(Key.REMINDER_SET, {**at, "at": "2025-03-22T12:00"})
    assert (
        _said(far)
        == "Okay, I'll remind you to stretch on Saturday the twenty-second of March at midday."
    )
    assert (
        _said(far, "en-US")
        == "Okay, I'll remind you to stretch on Saturday, March twenty-second at noon."
    )


def test_reminder_lists() -> None:
    items = ("2025-03-13T07:00", "2025-03-15T21:00")
    said = _said(Say(Key.REMINDERS, {"today": "2025-03-12", "items": items, "count": 2}))
    assert said == (
        "You have 2 reminders from me: tomorrow at 7 in the morning and on Saturday at 9 at night."
    )
    none = _said(Say(Key.REMINDERS, {"today": "2025-03-12", "items": (), "count": 0}))
    assert none.startswith("You don't have any reminders from me.")
    one = _said(
        Say(Key.REMINDERS_CANCELLED, {"today": "2025-03-12", "items": items[:1], "count": 1})
    )
    assert one == "Okay, I've cancelled your reminder for tomorrow at 7 in the morning."


def test_streak_words() -> None:
    assert (
        _said(Say(Key.STREAK_CLOSE, {"days": 0, "week": 3}))
        == "That's your third session this week."
    )
    assert _said(Say(Key.STREAK_CLOSE, {"days": 5, "week": 0})) == "That's 5 days in a row."
    both = _said(Say(Key.STREAK_CLOSE, {"days": 3, "week": 3}))
    assert both == "That's your third session this week, and 3 days in a row."
    history = history_say(days(0, 1, 2), MONDAY_9.date() + timedelta(days=2))
    assert _said(history) == (
        "You've done 3 sessions with me since the tenth of March, 90 minutes in all, and 3 "
        "sessions this week. Your last was today: the full routine, 30 minutes."
    )
    assert "since March tenth" in _said(history, "en-US")
    streak = streak_say(days(0, 1), MONDAY_9.date() + timedelta(days=2))
    assert _said(streak) == (
        "You've stretched 2 days in a row, up to yesterday. Stretch today to make it 3. "
        "This week you've done 2 sessions."
    )
    assert _said(streak_say(days(0), MONDAY_9.date())).startswith("You've stretched today.")
    yesterday = streak_say(days(0), MONDAY_9.date() + timedelta(days=1))
    assert _said(yesterday).startswith("Your last session was yesterday. Stretch today")
    lapsed = streak_say(days(0), MONDAY_9.date() + timedelta(days=4))
    assert _said(lapsed).startswith(
        "There's no run of days going just now: your last session was on Monday."
    )


# ---------------------------------------------------------------------- the question


def test_forget_is_asked_and_answered_where_the_runner_is() -> None:
    state = COACH.next(COACH.launch(State()).state).state
    asked = COACH.ask_forget(state)
    assert asked.says == (Say(Key.FORGET_ASK),)
    assert asked.state.pending is not None and asked.state.pending.question is Question.FORGET
    assert asked.reprompt == (Say(Key.FORGET_REPROMPT),)
    assert COACH.help(asked.state).says == (Say(Key.HELP_FORGET),)
    yes = COACH.yes(asked.state)
    assert yes.says[0] == Say(Key.HISTORY_FORGOTTEN)
    assert yes.state == asked.state._replace(pending=None) == state
    no = COACH.no(asked.state)
    assert no.says[0] == Say(Key.FORGET_KEPT)
    assert no.state == state


def test_the_question_survives_the_session() -> None:
    asked = COACH.ask_forget(State()).state
    assert decode_state(COACH, encode_state(COACH, asked)) == asked
