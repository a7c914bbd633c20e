"""The runner's finished sessions: what counts as one, what is kept of it, and for how long.

**What counts.** A session counts when the runner reaches the closing relaxation (hears it, or
says "next" past it to the close; the shorter finish a breather offers goes there too), or stops
after getting through at least :data:`COUNTS_AFTER` (three quarters) of the segments of the
session they chose (a pose on one side is a segment; skipped ones count as got through). It is
recorded once, when the session ends: at the close, on "stop", or when Alexa ends the session.

**What is kept.** For each counted session: the runner's date (in the device's time zone), when
it ended (Unix seconds), the minutes it took (from the first turn of the routine to its end, as
the skill saw them), the mode (hold or flow), the kind of session (full, quick or focus) and how
it ended (at the close, or stopped). Nothing else: no pose, no position, no user id.

**How long.** The sessions of the last :data:`KEEP_DAYS` days, at most :data:`MAX_SESSIONS`;
older ones are dropped whenever the runner's record is next saved.

**Carried on.** A session stopped after most of the routine counts at once; if the runner
carries it on from where they were (within the 12 hours the skill offers that) and finishes, it
still counts once: the entry is replaced, its minutes added up.
"""

# No `from __future__ import annotations` here: NamedTuple would compile each string annotation
# at every cold start (README, "Performance").

from collections.abc import Iterable
from datetime import date
from typing import Any, Literal, NamedTuple

from skill.routine.course import Course
from skill.routine.state import MODES, Mode, PlanKind, State

HISTORY_KEY = "history"
"""The key of the history in the runner's saved record, beside the progress."""
COUNTS_AFTER = 0.75
"""The share of the session's segments got through that makes a stopped session count."""
KEEP_DAYS = 90
MAX_SESSIONS = 100
CARRY_ON_SECONDS = 12 * 3600
"""How long a stopped session can be carried on and still be one session: the resume window
(:data:`skill.alexa.progress.RESUME_WINDOW_SECONDS`)."""
DAY_SECONDS = 86400

End = Literal["closed", "stopped"]
_KINDS: tuple[PlanKind, ...] = ("full", "quick", "focus")
_MAX_TEXT = 64
MAX_MINUTES = 24 * 60
_ENDS: tuple[End, ...] = ("closed", "stopped")


class Entry(NamedTuple):
    """One counted session. Ordered by when it ended."""

    at: int
    """When it ended, in Unix seconds."""
    day: date
    """The runner's date when it ended, in their time zone."""
    minutes: int
    mode: Mode
    kind: PlanKind
    end: End

    def to_text(self) -> str:
        """As stored: ``2025-03-10 1741629000 28 hold full closed`` (date, when it ended,
        minutes, mode, kind, how it ended). A line of text rather than an object: the history
        is read and written with the progress on every move, and text is quicker to carry."""
        return f"{self.day.isoformat()} {self.at} {self.minutes} {self.mode} {self.kind} {self.end}"

    @classmethod
    def from_text(cls, raw: Any) -> "Entry | None":
        """An entry as stored; ``None`` for anything that is not one (the store is untrusted)."""
        fields = raw.split(" ") if isinstance(raw, str) and len(raw) <= _MAX_TEXT else []
        if len(fields) != 6:
            return None
        day_text, at_text, minutes_text, mode_text, kind_text, end_text = fields
        mode = next((m for m in MODES if m == mode_text), None)
        kind = next((k for k in _KINDS if k == kind_text), None)
        end = next((e for e in _ENDS if e == end_text), None)
        if not (at_text.isdigit() and minutes_text.isdigit()) or not (mode and kind and end):
            return None
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            return None
        minutes = max(1, min(int(minutes_text), MAX_MINUTES))
        return cls(at=int(at_text), day=day, minutes=minutes, mode=mode, kind=kind, end=end)


History = tuple[Entry, ...]


def decode(raw: Any) -> History:
    """The history as stored, oldest first; malformed entries are left out."""
    if not isinstance(raw, list):
        return ()
    entries = {entry for entry in map(Entry.from_text, raw) if entry is not None}
    return tuple(sorted(entries))


def encode(history: Iterable[Entry]) -> list[str]:
    return [entry.to_text() for entry in history]


def trim(history: Iterable[Entry], now: float) -> History:
    """Only what is kept: the last :data:`KEEP_DAYS` days, at most :data:`MAX_SESSIONS`."""
    oldest = now - KEEP_DAYS * DAY_SECONDS
    kept = sorted(entry for entry in history if entry.at >= oldest)
    return tuple(kept[-MAX_SESSIONS:])


def expire(raw: Any, now: float) -> list[Any]:
    """The history as stored, less the sessions it no longer keeps; the rest as it is (this
    runs on every save of the progress, so it reads no more than each entry's time)."""
    if not isinstance(raw, list):
        return []
    oldest = now - KEEP_DAYS * DAY_SECONDS
    return [item for item in raw if _ended_after(item, oldest)][-MAX_SESSIONS:]


def _ended_after(item: Any, oldest: float) -> bool:
    if not isinstance(item, str) or len(item) > _MAX_TEXT:
        return False
    at = item.split(" ", 2)[1:2]
    return bool(at) and at[0].isdigit() and int(at[0]) >= oldest


def counts(course: Course, state: State) -> bool:
    """Whether the session the state ends is a finished one (see the module's docstring)."""
    if state.status == "finished":
        return True
    if not state.started:
        return False
    if course.pose_of(state).relaxation and state.heard:
        return True
    done, total = course.progress(state)
    return total > 0 and done >= COUNTS_AFTER * total


def entry_for(state: State, *, at: float, day: date, minutes: int, closed: bool) -> Entry:
    """The entry for a counted session that ends in ``state``."""
    return Entry(
        at=int(at),
        day=day,
        minutes=max(1, minutes),
        mode=state.mode,
        kind=state.plan.kind,
        end="closed" if closed else "stopped",
    )


def record(history: History, entry: Entry, *, carried: bool) -> tuple[History, bool]:
    """The history with ``entry`` in it, and whether it is a new session: a session carried on
    from a stopped one that already counted replaces that one (see the module's docstring)."""
    last = history[-1] if history else None
    if (
        carried
        and last is not None
        and last.end == "stopped"
        and 0 <= entry.at - last.at <= CARRY_ON_SECONDS
    ):
        merged = entry._replace(minutes=last.minutes + entry.minutes)
        return trim((*history[:-1], merged), entry.at), False
    return trim((*history, entry), entry.at), True


def minutes_between(start: float | None, end: float) -> int:
    """Whole minutes from the routine's first turn to its end, at least one."""
    if start is None or start > end:
        return 1
    return max(1, round((end - start) / 60))
