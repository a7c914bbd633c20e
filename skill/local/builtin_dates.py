"""AMAZON.DATE and AMAZON.TIME for the local resolver: the words a runner says for a day or a
time, and the values Alexa would send for them.

Alexa resolves these slots in the device's calendar; locally that is this machine's (or the
``today`` given). Only what a reminder needs is understood: today, tonight, tomorrow, the day
after tomorrow, a weekday (this, next), the weekend; a clock time ("seven", "seven thirty",
"half past six", "quarter to eight", "seven pm", "7 30 am", "noon", "midnight") and a part of
the day ("morning", "afternoon", "evening", "night").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

DATE = "AMAZON.DATE"
TIME = "AMAZON.TIME"

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HOURS = (
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)
_MINUTES = {"oh five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40}
_MINUTES |= {"forty five": 45, "fifty": 50}
_PARTS = {"morning": "MO", "afternoon": "AF", "evening": "EV", "night": "NI"}
_AFTER_NOON = ("p m", "pm", "in the afternoon", "in the evening", "at night", "tonight")
_BEFORE_NOON = ("a m", "am", "in the morning")


def _alternation(words: Iterable[str]) -> str:
    items = sorted(words, key=lambda w: (-len(w), w))
    return "|".join(re.escape(w) for w in items)


_WEEKDAY = _alternation(WEEKDAYS)
DATE_PATTERN = (
    rf"(?:today|tonight|tomorrow|the day after tomorrow"
    rf"|(?:this |next |on )?(?:{_WEEKDAY})"
    rf"|(?:this |next |the )?weekend)"
)
_HOUR = rf"(?:\d{{1,2}}|{_alternation(_HOURS)})"
_MINUTE = rf"(?:\d{{2}}|{_alternation(_MINUTES)})"
_MERIDIEM = _alternation((*_AFTER_NOON, *_BEFORE_NOON))
TIME_PATTERN = (
    rf"(?:noon|midday|midnight|{_alternation(_PARTS)}"
    rf"|(?:half past|quarter past|quarter to) {_HOUR}(?: (?:{_MERIDIEM}))?"
    rf"|{_HOUR}(?: oclock| {_MINUTE})?(?: (?:{_MERIDIEM}))?"
    rf"|\d{{1,2}}(?:am|pm))"
)


def resolve_date(words: str, today: date | None = None) -> str | None:
    """What Alexa sends for a day: ``2025-03-15``, or ``2025-W11-WE`` for a weekend."""
    today = today or date.today()
    words = words.strip()
    if words in ("today", "tonight"):
        return today.isoformat()
    if words == "tomorrow":
        return (today + timedelta(days=1)).isoformat()
    if words == "the day after tomorrow":
        return (today + timedelta(days=2)).isoformat()
    if words.endswith("weekend"):
        week = today + timedelta(days=7) if words.startswith("next") else today
        if week.weekday() == 6 and not words.startswith("next"):
            week = today  # Sunday: still this weekend
        year, number, _ = week.isocalendar()
        return f"{year}-W{number:02d}-WE"
    name = words.split()[-1]
    if name in WEEKDAYS:
        ahead = (WEEKDAYS.index(name) - today.weekday()) % 7 or 7
        return (today + timedelta(days=ahead)).isoformat()
    return None


def _hour(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _HOURS.index(word) + 1 if word in _HOURS else None


def resolve_time(words: str) -> str | None:
    """What Alexa sends for a time: ``07:00``, ``19:30``, or ``MO`` for "morning"."""
    words = words.strip()
    if words in _PARTS:
        return _PARTS[words]
    if words in ("noon", "midday"):
        return "12:00"
    if words == "midnight":
        return "00:00"
    meridiem = next((m for m in (*_AFTER_NOON, *_BEFORE_NOON) if words.endswith(" " + m)), None)
    if meridiem is not None:
        words = words[: -len(meridiem) - 1]
    compact = re.fullmatch(r"(\d{1,2})(am|pm)", words)
    if compact is not None:
        words, meridiem = compact.group(1), compact.group(2)
    minute = 0
    if words.startswith(("half past ", "quarter past ", "quarter to ")):
        lead, _, hour_word = words.rpartition(" ")
        hour = _hour(hour_word)
        minute = {"half past": 30, "quarter past": 15, "quarter to": 45}[lead]
        if hour is not None and lead == "quarter to":
            hour = (hour - 1) or 12
    else:
        hour_word, _, rest = words.partition(" ")
        hour = _hour(hour_word)
        rest = rest.removesuffix("oclock").strip()
        if rest:
            found = int(rest) if rest.isdigit() else _MINUTES.get(rest)
            if found is None:
                return None
            minute = found
    if hour is None or hour > 23 or minute > 59:
        return None
    if meridiem in _AFTER_NOON and hour < 12:
        hour += 12
    elif meridiem in _BEFORE_NOON and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}"
