"""Habits: the runner's finished sessions, the streaks they make, and reminders to stretch.

Pure, like the state machine: :mod:`~skill.habits.history` decides what counts as a finished
session and keeps a bounded list of them; :mod:`~skill.habits.streaks` reads days in a row and
sessions a week from it, and decides when a streak is worth saying; :mod:`~skill.habits.reminders`
reads the runner's "tomorrow at seven" into a time; :mod:`~skill.habits.spoken` renders what they
say. Storage, the runner's time zone and the Reminders API are the Alexa layer's
(:mod:`skill.alexa.habits`, :mod:`skill.alexa.alexa_api`).
"""

from __future__ import annotations

HISTORY_INTENT = "HistoryIntent"
STREAK_INTENT = "StreakIntent"
FORGET_HISTORY_INTENT = "ForgetHistoryIntent"
SET_REMINDER_INTENT = "SetReminderIntent"
LIST_REMINDERS_INTENT = "ListRemindersIntent"
CANCEL_REMINDER_INTENT = "CancelReminderIntent"

HABIT_INTENTS: frozenset[str] = frozenset(
    {
        HISTORY_INTENT,
        STREAK_INTENT,
        FORGET_HISTORY_INTENT,
        SET_REMINDER_INTENT,
        LIST_REMINDERS_INTENT,
        CANCEL_REMINDER_INTENT,
    }
)
"""The intents answered by the habit handlers (:mod:`skill.alexa.habits`) rather than by the
operations registry: they need the runner's store, time zone or the Reminders API."""
