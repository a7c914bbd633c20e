"""The words of the habit answers: counts, days and times, from the prompts file.

The narrator (:mod:`skill.speech.narration`) hands each habit :class:`~skill.routine.says.Say`
here. Dates travel in a say's parameters as ISO text and are spoken relative to the runner's
today ("tomorrow", "on Saturday", "on Saturday the fifteenth of March"); every word comes from
``skill/speech/prompts/`` (a regional file such as ``en-US.yaml`` can say dates its own way).
None of these lines has a prerendered clip: they carry live figures, so Alexa's voice says them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from skill.routine.says import Key, Say

Prompt = Callable[..., str]
"""The narrator's ``prompt(key, **params)``."""

HABIT_KEYS = frozenset(
    {
        Key.FIRST_SESSION,
        Key.STREAK_CLOSE,
        Key.HISTORY,
        Key.HISTORY_NONE,
        Key.STREAK,
        Key.REMINDER_SET,
        Key.REMINDERS,
        Key.REMINDERS_CANCELLED,
    }
)
"""The keys rendered here; the other habit keys are plain prompts."""
WEEK_AHEAD = 6
"""Days either side of today spoken by their weekday alone ("on Saturday")."""


class Words:
    """Counts, days and times in one locale's words."""

    def __init__(self, prompt: Prompt, prompts: Mapping[str, Any]) -> None:
        self.prompt = prompt
        self.prompts = prompts

    def _list(self, key: str) -> Sequence[str]:
        value = self.prompts.get(key)
        return [str(v) for v in value] if isinstance(value, list) else []

    def nth(self, number: int) -> str:
        words = self._list("ordinals")
        return words[number - 1] if 0 < number <= len(words) else str(number)

    def minutes(self, count: int) -> str:
        return (
            self.prompt("minutes_one") if count == 1 else self.prompt("minutes_many", count=count)
        )

    def sessions(self, count: int) -> str:
        if count == 0:
            return self.prompt("sessions_none")
        if count == 1:
            return self.prompt("sessions_one")
        return self.prompt("sessions_many", count=count)

    def _date_words(self, day: date) -> dict[str, str]:
        weekdays, months = self._list("weekdays"), self._list("months")
        return {
            "weekday": weekdays[day.weekday()] if len(weekdays) == 7 else day.strftime("%A"),
            "month": months[day.month - 1] if len(months) == 12 else day.strftime("%B"),
            "nth": self.nth(day.day),
        }

    def day(self, day: date, today: date) -> str:
        """A day as said from ``today``: "today", "tomorrow", "on Saturday", or in full."""
        offset = (day - today).days
        if offset == 0:
            return self.prompt("day_today")
        if offset == 1:
            return self.prompt("day_tomorrow")
        if offset == -1:
            return self.prompt("day_yesterday")
        words = self._date_words(day)
        if abs(offset) <= WEEK_AHEAD:
            return self.prompt("day_weekday", **words)
        return self.prompt("day_date", **words)

    def since(self, day: date) -> str:
        return self.prompt("date_since", **self._date_words(day))

    def clock(self, at: time) -> str:
        """A time of day: "7 in the morning", "6:30 in the evening", "midday"."""
        if at.minute == 0 and at.hour == 12:
            return self.prompt("time_midday")
        if at.minute == 0 and at.hour == 0:
            return self.prompt("time_midnight")
        hour = at.hour % 12 or 12
        clock = str(hour) if at.minute == 0 else f"{hour}:{at.minute:02d}"
        if at.hour < 12:
            part = "time_morning"
        elif at.hour < 17:
            part = "time_afternoon"
        elif at.hour < 21:
            part = "time_evening"
        else:
            part = "time_night"
        return self.prompt(part, clock=clock)

    def when(self, at: datetime, today: date) -> str:
        return self.prompt("when", day=self.day(at.date(), today), time=self.clock(at.time()))


def _iso_day(value: Any, fallback: date) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return fallback


def _iso_times(values: Any) -> list[datetime]:
    out = []
    for value in values if isinstance(values, tuple | list) else ():
        try:
            out.append(datetime.fromisoformat(str(value)))
        except ValueError:
            continue
    return out


def habit_lines(prompt: Prompt, prompts: Mapping[str, Any], say: Say) -> Iterator[tuple[str, str]]:
    """The lines of a habit say, as (line id, text)."""
    words = Words(prompt, prompts)
    p = say.params
    key = say.key
    today = _iso_day(p.get("today"), date.today())
    if key == Key.STREAK_CLOSE:
        days, week = int(p.get("days") or 0), int(p.get("week") or 0)
        if days and week:
            text = prompt("streak_close_both", days=days, nth=words.nth(week))
        elif week:
            text = prompt("streak_close_week", nth=words.nth(week))
        else:
            text = prompt("streak_close_days", days=days)
        yield f"streak_close.{days}.{week}", text
    elif key == Key.HISTORY:
        since_day = _iso_day(p.get("since"), today)
        if p.get("long"):
            since = prompt("history_since_long")
        else:
            since = prompt("history_since", date=words.since(since_day))
        text = prompt(
            "history",
            sessions=words.sessions(int(p.get("count") or 0)),
            since=since,
            minutes=words.minutes(int(p.get("minutes") or 0)),
            week=words.sessions(int(p.get("week") or 0)),
            last=words.day(_iso_day(p.get("last"), today), today),
            kind=prompt(f"kind_{p.get('last_kind', 'full')}"),
            last_minutes=words.minutes(int(p.get("last_minutes") or 0)),
        )
        yield "history", text
    elif key == Key.STREAK:
        days, week = int(p.get("days") or 0), int(p.get("week") or 0)
        if days >= 2 and p.get("today_done"):
            text = prompt("streak_days_today", days=days)
        elif days >= 2:
            text = prompt("streak_days_yesterday", days=days, more=days + 1)
        elif days == 1:
            text = prompt("streak_today" if p.get("today_done") else "streak_yesterday")
        else:
            text = prompt("streak_none", last=words.day(_iso_day(p.get("last"), today), today))
        yield "streak", f"{text} {prompt('streak_week', week=words.sessions(week))}"
    elif key == Key.REMINDER_SET:
        at = _iso_times((p.get("at"),))
        if at:
            day = words.day(at[0].date(), today)
            yield "reminder_set", prompt(key, day=day, time=words.clock(at[0].time()))
    elif key in (Key.REMINDERS, Key.REMINDERS_CANCELLED):
        times = _iso_times(p.get("items"))
        said = [words.when(at, today) for at in times]
        items = ", ".join(said[:-1]) + f" {prompt('and')} {said[-1]}" if len(said) > 1 else ""
        count = len(times)
        form = "none" if count == 0 else "one" if count == 1 else "many"
        text = prompt(f"{key}_{form}", count=count, items=items or "".join(said))
        yield f"{key}.{form}", text
    else:  # FIRST_SESSION, HISTORY_NONE: plain prompts
        yield str(key), prompt(key)
