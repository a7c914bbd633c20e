"""Reading "remind me to stretch tomorrow at seven" into a time, and what the Reminders API gives
back into what to say. Pure: the API calls are :mod:`skill.alexa.alexa_api`'s.

Alexa resolves the slots in the runner's own calendar: AMAZON.DATE gives ``2025-03-15``
("Saturday", "tomorrow"), ``2025-W11-WE`` ("this weekend"), ``2025-W11`` (a week),
``PRESENT_REF`` ("today", "now"), or coarser forms (a month, a season); AMAZON.TIME gives
``07:00`` ("at seven"), ``19:30``, or ``MO``, ``AF``, ``EV``, ``NI`` for a part of the day.

- A part of the day is a sensible time in it (:data:`PARTS_OF_DAY`): "on Saturday morning" is
  nine o'clock, "after my run this evening" six.
- A day without a time is :data:`DEFAULT_TIME` (the morning); a weekend is its Saturday (its
  Sunday once Saturday has gone).
- A time without a day is today, or tomorrow once today's has gone.
- A week, a month or anything vaguer asks the runner to name a day.
- A time that has gone is refused with that reason, never moved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

PARTS_OF_DAY = {"MO": time(9), "AF": time(14), "EV": time(18), "NI": time(20)}
DEFAULT_TIME = PARTS_OF_DAY["MO"]
PRESENT = "PRESENT_REF"
TOKEN_PREFIX = "reminder:"
"""The Connections.SendRequest token that carries the asked-for time through the permission
request (``reminder:2025-03-15T09:00``)."""
MIN_AHEAD = timedelta(minutes=1)
"""A reminder must be at least this far ahead to be set."""

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WEEKEND = re.compile(r"^(\d{4})-W(\d{1,2})-WE$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


class Problem(StrEnum):
    """Why a reminder can't be set from what the runner said."""

    WHEN = "when"
    """No day or time the skill can use: ask for one."""
    PAST = "past"
    """That time has gone."""


@dataclass(frozen=True)
class Asked:
    """A reminder time the runner asked for, in their local time (no zone)."""

    at: datetime

    @property
    def token(self) -> str:
        return TOKEN_PREFIX + self.at.strftime("%Y-%m-%dT%H:%M")

    @classmethod
    def from_token(cls, token: object) -> Asked | None:
        """The time a permission request's token carried; ``None`` for anything else."""
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
            return None
        try:
            at = datetime.strptime(token[len(TOKEN_PREFIX) :], "%Y-%m-%dT%H:%M")
        except ValueError:
            return None
        return cls(at)


def read_time(value: str | None) -> time | None:
    """An AMAZON.TIME value as a time of day; ``None`` for none, or one not understood."""
    if not value:
        return None
    part = PARTS_OF_DAY.get(value.strip().upper())
    if part is not None:
        return part
    match = _CLOCK.match(value.strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def read_day(value: str | None, now: datetime, at: time) -> date | None:
    """An AMAZON.DATE value as a day (a weekend as its first day still to come at ``at``);
    ``None`` for none, or a value too vague to set a reminder on."""
    if not value:
        return None
    value = value.strip()
    today = now.date()
    if value == PRESENT:
        return today
    match = _DAY.match(value)
    if match is not None:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
    match = _WEEKEND.match(value)
    if match is not None:
        try:
            saturday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 6)
        except ValueError:
            return None
        if saturday > today or (saturday == today and datetime.combine(today, at) > now):
            return saturday
        return saturday + timedelta(days=1)
    return None


def plan(date_value: str | None, time_value: str | None, now: datetime) -> Asked | Problem:
    """When to remind the runner, from the slots and the runner's local time ``now``."""
    now = now.replace(tzinfo=None, second=0, microsecond=0)
    at = read_time(time_value)
    if date_value:
        day = read_day(date_value, now, at or DEFAULT_TIME)
        if day is None or (time_value and at is None):
            return Problem.WHEN
        when = datetime.combine(day, at or DEFAULT_TIME)
        if at is None and day == now.date() and when < now + MIN_AHEAD:
            return Problem.WHEN  # "today", asked after the default time: at what time?
        return Asked(when) if when >= now + MIN_AHEAD else Problem.PAST
    if at is None:
        return Problem.WHEN
    when = datetime.combine(now.date(), at)
    if when < now + MIN_AHEAD:
        when += timedelta(days=1)
    return Asked(when)


def still_ahead(asked: Asked, now: datetime) -> bool:
    """Whether the asked-for time is still to come (a permission request takes a while)."""
    return asked.at >= now.replace(tzinfo=None, second=0, microsecond=0) + MIN_AHEAD


def spoken_times(times: list[datetime]) -> tuple[str, ...]:
    """Reminder times as a Say's parameters (local, to the minute), soonest first."""
    return tuple(t.strftime("%Y-%m-%dT%H:%M") for t in sorted(times))
