"""Streaks from the history: days in a row, sessions this week, and when they are worth saying.

Days are the runner's days (the dates in the history, taken in the device's time zone). A run
of days in a row is alive while its last day is today or yesterday: a runner who stretched
every day up to yesterday has not broken it yet.

**At the close** a streak is said only when it means something, at most once a session:

- the runner's first session ever (or since they asked the skill to forget): that the skill
  keeps count, and how to ask;
- a run of :data:`DAY_MILESTONES` days in a row, on the first session of the day that makes it;
- the :data:`WEEK_MILESTONES` session of the week (the third, the fifth, the seventh), so a
  runner who finishes three sessions in a week hears it once, at the close of the third;
- both in one sentence when both apply.

Anything else (the fourth session of a week, a second session on one day, a carried-on session
that was already counted) closes as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from skill.habits.history import KEEP_DAYS, Entry, History
from skill.routine.says import Key, Say

DAY_MILESTONES: tuple[int, ...] = (3, 5, 7, 10, 14, 21, 30, 45, 60, 75, 90)
"""Days in a row worth saying at the close (the history keeps :data:`KEEP_DAYS` days)."""
WEEK_MILESTONES: tuple[int, ...] = (3, 5, 7)
"""Sessions in one week worth saying at the close."""
MONDAY, SUNDAY = 0, 6
SUNDAY_FIRST = frozenset({"en-US", "en-CA", "en-IN"})
"""Locales whose calendars start the week on a Sunday; the others start it on a Monday."""
LONG_AGO_DAYS = KEEP_DAYS - 5
"""A history whose first kept session is this old is spoken of as the last few months."""


def first_weekday(locale: str | None) -> int:
    """The day a week starts on in the runner's locale (0 Monday .. 6 Sunday)."""
    return SUNDAY if locale in SUNDAY_FIRST else MONDAY


def week_start(day: date, first: int = MONDAY) -> date:
    """The first day of the week ``day`` is in."""
    return day - timedelta(days=(day.weekday() - first) % 7)


def days_in_a_row(days: Iterable[date], today: date) -> int:
    """The run of consecutive days ending today, or yesterday if today has none yet; 0 when
    neither has a session."""
    have = set(days)
    day = today if today in have else today - timedelta(days=1)
    run = 0
    while day in have:
        run += 1
        day -= timedelta(days=1)
    return run


def this_week(history: History, today: date, first: int = MONDAY) -> int:
    """Sessions in the week of ``today`` up to today."""
    start = week_start(today, first)
    return sum(1 for entry in history if start <= entry.day <= today)


def close_remark(
    before: History, after: History, entry: Entry, *, first_ever: bool, first: int = MONDAY
) -> Say | None:
    """What to say at the close of the session ``entry`` records (``before`` and ``after`` are
    the history without and with it), or ``None`` when nothing is worth saying."""
    if first_ever:
        return Say(Key.FIRST_SESSION)
    first_today = all(earlier.day != entry.day for earlier in before)
    run = days_in_a_row((e.day for e in after), entry.day)
    days = run if first_today and run in DAY_MILESTONES else 0
    count = this_week(after, entry.day, first)
    week = count if count in WEEK_MILESTONES else 0
    if not days and not week:
        return None
    return Say(Key.STREAK_CLOSE, {"days": days, "week": week})


def history_say(history: History, today: date, first: int = MONDAY) -> Say:
    """The answer to "how many sessions have I done?"."""
    if not history:
        return Say(Key.HISTORY_NONE)
    last = history[-1]
    since = history[0].day
    return Say(
        Key.HISTORY,
        {
            "count": len(history),
            "minutes": sum(entry.minutes for entry in history),
            "week": this_week(history, today, first),
            "since": since.isoformat(),
            "long": (today - since).days >= LONG_AGO_DAYS,
            "last": last.day.isoformat(),
            "last_minutes": last.minutes,
            "last_kind": last.kind,
            "today": today.isoformat(),
        },
    )


def streak_say(history: History, today: date, first: int = MONDAY) -> Say:
    """The answer to "what's my streak?"."""
    if not history:
        return Say(Key.HISTORY_NONE)
    days = {entry.day for entry in history}
    return Say(
        Key.STREAK,
        {
            "days": days_in_a_row(days, today),
            "today_done": today in days,
            "week": this_week(history, today, first),
            "last": history[-1].day.isoformat(),
            "today": today.isoformat(),
        },
    )
