"""The habits in the Alexa layer: keeping the history, saying streaks, and reminders.

- :class:`Habits` runs after every turn (:meth:`SkillContext.respond`): when a turn ends a
  session that counts (:mod:`skill.habits.history`), it records it beside the progress in the
  runner's saved record, and puts the streak worth saying (:mod:`skill.habits.streaks`) before
  the goodbye; when the runner said yes to forgetting, it forgets. A session that Alexa ends
  (SessionEndedRequest) is recorded the same way, in silence.
- The handlers answer "how many sessions have I done", "what's my streak", "forget my history"
  (the question itself is the state machine's), "remind me to stretch tomorrow at seven", "what
  reminders do I have" and "cancel my reminder", and the answer to the reminders permission
  request (``Connections.Response``, or ``SessionResumedRequest``).

The runner's days are their device's (:meth:`AlexaApi.time_zone`, asked only when a day is
needed, and kept in the session). Nothing here stops an answer: a store or an API that fails is
logged, and the runner hears what could be done.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.alexa.alexa_api import (
    REMINDERS_PERMISSION,
    AlexaApi,
    ApiUnavailable,
    PermissionNeeded,
    Rejected,
    Zone,
    zone_named,
)
from skill.alexa.progress import LOADED_KEY, STATE_KEY, session_attributes
from skill.habits import (
    CANCEL_REMINDER_INTENT,
    FORGET_HISTORY_INTENT,
    HISTORY_INTENT,
    LIST_REMINDERS_INTENT,
    SET_REMINDER_INTENT,
    STREAK_INTENT,
)
from skill.habits.history import (
    HISTORY_KEY,
    History,
    counts,
    decode,
    encode,
    entry_for,
    minutes_between,
    record,
    trim,
)
from skill.habits.streaks import close_remark, first_weekday, history_say, streak_say
from skill.routine.coach import Coach
from skill.routine.says import Key, Say
from skill.routine.state import State, Turn
from skill.settings import supported_locale

if TYPE_CHECKING:
    from datetime import date

    from skill.alexa.handlers import SkillContext
    from skill.habits.reminders import Asked

# skill.habits.reminders is imported by the handlers that set, say or cancel a reminder: a
# launch needs none of it.

log = logging.getLogger(__name__)

BEGAN_KEY = "began"
"""Session attribute: when (Unix seconds) this session's routine began."""
CARRIED_KEY = "carried"
"""Session attribute: this session carries on a routine saved in an earlier one."""
ZONE_KEY = "tz"
"""Session attribute: the device's time zone, once asked for."""
FRESH_KEYS = frozenset({Key.WELCOME, Key.START_OVER, Key.FRESH_START})
"""Said when a routine begins afresh."""
GOODBYES = frozenset({Key.GOODBYE, Key.GOODBYE_FINISHED, Key.GOODBYE_SHORT})
ASK_FOR = "AskFor"
PERMISSION_RESPONSE = "Connections.Response"
SESSION_RESUMED = "SessionResumedRequest"


class Habits:
    """The history and the time zone for the handlers, and what happens after each turn."""

    def __init__(
        self,
        coach: Coach,
        clock: Callable[[], float],
        api: AlexaApi,
        persistence: AbstractPersistenceAdapter | None,
    ) -> None:
        self.coach = coach
        self.clock = clock
        self.api = api
        self.persistence = persistence

    # ------------------------------------------------------------------ store

    def stores(self, handler_input: HandlerInput) -> bool:
        return self.persistence is not None and handler_input.request_envelope.context is not None

    def history(self, handler_input: HandlerInput) -> tuple[History, bool]:
        """The runner's history (the kept part), and whether a history was ever started; raises
        when the store fails."""
        if not self.stores(handler_input):
            return (), False
        saved = handler_input.attributes_manager.persistent_attributes
        if not isinstance(saved, dict) or HISTORY_KEY not in saved:
            return (), False
        return trim(decode(saved[HISTORY_KEY]), self.clock()), True

    def _write(self, handler_input: HandlerInput, history: History | None) -> None:
        """Save the history (``None``: forget it) in the runner's record, keeping the rest."""
        manager = handler_input.attributes_manager
        saved = manager.persistent_attributes
        attributes = dict(saved) if isinstance(saved, dict) else {}
        if history is None:
            attributes.pop(HISTORY_KEY, None)
        else:
            attributes[HISTORY_KEY] = encode(history)
        manager.persistent_attributes = attributes
        manager.save_persistent_attributes()

    def zone(self, handler_input: HandlerInput) -> Zone:
        """The runner's time zone: asked of the device once a session, UTC if it can't be."""
        session = session_attributes(handler_input)
        if ZONE_KEY in session:
            return zone_named(session[ZONE_KEY])
        zone = self.api.time_zone(handler_input)
        if handler_input.request_envelope.session is not None:
            session[ZONE_KEY] = zone.name or "UTC"
        return zone

    # ------------------------------------------------------------------ after each turn

    def after_turn(self, handler_input: HandlerInput, turn: Turn) -> Turn:
        """Keep the session's bookkeeping; record a session that ends here; forget on yes.
        With no store there is no history, and nothing to keep."""
        if not self.stores(handler_input):
            return turn
        session = session_attributes(handler_input)
        loaded = handler_input.attributes_manager.request_attributes.get(LOADED_KEY)
        keys = {say.key for say in turn.says}
        if Key.HISTORY_FORGOTTEN in keys:
            turn = self._forget(handler_input, turn)
        if keys & FRESH_KEYS:
            session.pop(CARRIED_KEY, None)
            session.pop(BEGAN_KEY, None)
        elif isinstance(loaded, State) and loaded.started and STATE_KEY not in session:
            session[CARRIED_KEY] = True  # the first turn, from a routine saved earlier
        if turn.state.started and BEGAN_KEY not in session:
            session[BEGAN_KEY] = int(self.clock())
        finished = turn.state.status == "finished" and (
            not isinstance(loaded, State) or loaded.status != "finished"
        )
        if finished or (turn.end_session and turn.state.started):
            turn = self._close(handler_input, turn, closed=finished)
        return turn

    def at_session_end(
        self,
        handler_input: HandlerInput,
        state: State,
        *,
        minutes: int | None = None,
        carried: bool | None = None,
    ) -> None:
        """A session ended with nothing more to say (Alexa ended it; or a hands-free
        play-through stopped or reached its end, which says how many ``minutes`` it played and
        whether it ``carried`` on a session saved earlier, having no session of its own):
        record it if it counts."""
        turn = Turn(state, (), (), True)
        self._close(
            handler_input,
            turn,
            closed=state.status == "finished",
            minutes=minutes,
            carried=carried,
        )

    def _close(
        self,
        handler_input: HandlerInput,
        turn: Turn,
        *,
        closed: bool,
        minutes: int | None = None,
        carried: bool | None = None,
    ) -> Turn:
        """Record the session ``turn`` ends, if it counts, and say a streak worth saying."""
        state = turn.state
        if not self.stores(handler_input) or not counts(self.coach, state):
            return turn
        session = session_attributes(handler_input)
        if carried is None:
            carried = session.get(CARRIED_KEY) is True
        try:
            before, started = self.history(handler_input)
        except Exception:  # the history is best effort; the goodbye must still go out
            _store_failed("could not read the history")
            return turn
        now = self.clock()
        zone = self.zone(handler_input)
        if minutes is None:
            began = session.get(BEGAN_KEY)
            minutes = minutes_between(began if isinstance(began, int | float) else None, now)
        entry = entry_for(state, at=now, day=zone.now(now).date(), minutes=minutes, closed=closed)
        after, new = record(before, entry, carried=carried)
        try:
            self._write(handler_input, after)
        except Exception:
            _store_failed("could not record the session")
            return turn
        session.pop(BEGAN_KEY, None)
        session.pop(CARRIED_KEY, None)
        log.info("session recorded (%s, %d min)", "new" if new else "carried on", entry.minutes)
        if not new:
            return turn
        locale = _locale(handler_input)
        remark = close_remark(
            before, after, entry, first_ever=not started, first=first_weekday(locale)
        )
        if remark is None:
            return turn
        says = list(turn.says)
        at = len(says) - 1 if says and says[-1].key in GOODBYES else len(says)
        says.insert(at, remark)
        return turn._replace(says=tuple(says))

    def _forget(self, handler_input: HandlerInput, turn: Turn) -> Turn:
        try:
            if self.stores(handler_input):
                self._write(handler_input, None)
        except Exception:
            _store_failed("could not forget the history")
            return turn._replace(
                says=tuple(
                    Say(Key.FORGET_FAILED) if say.key == Key.HISTORY_FORGOTTEN else say
                    for say in turn.says
                ),
            )
        log.info("history forgotten at the runner's request")
        return turn


def _store_failed(what: str) -> None:
    """A store that is down (the adapter says why) is one warning line; anything else a bug."""
    error = sys.exc_info()[1]
    if isinstance(error, PersistenceException):
        log.warning("%s: %s", what, str(error)[:200])
    else:
        log.exception(what)


# ---------------------------------------------------------------------- handlers


def _locale(handler_input: HandlerInput) -> str:
    return supported_locale(getattr(handler_input.request_envelope.request, "locale", None))


def _intent(handler_input: HandlerInput) -> Any:
    return getattr(handler_input.request_envelope.request, "intent", None)


def _slot_value(handler_input: HandlerInput, name: str) -> str | None:
    slots = getattr(_intent(handler_input), "slots", None) or {}
    value = getattr(slots.get(name), "value", None)
    return value if isinstance(value, str) and value else None


def _permitted(handler_input: HandlerInput) -> bool:
    """Whether the runner has let the skill use their reminders, as far as the request says."""
    user = getattr(getattr(handler_input.request_envelope.context, "system", None), "user", None)
    permissions = getattr(user, "permissions", None)
    scope = (getattr(permissions, "scopes", None) or {}).get(REMINDERS_PERMISSION)
    status = getattr(getattr(scope, "status", None), "value", None)
    if status is not None:
        return bool(status == "GRANTED")
    return bool(getattr(permissions, "consent_token", None))


class _HabitHandler(AbstractRequestHandler):
    intent = ""

    def __init__(self, ctx: SkillContext) -> None:
        self.ctx = ctx

    @property
    def habits(self) -> Habits:
        return self.ctx.habits

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return getattr(_intent(handler_input), "name", None) == self.intent

    def answer(self, handler_input: HandlerInput, state: State, say: Say) -> Response:
        return _answer(self.ctx, handler_input, state, say)

    def history(self, handler_input: HandlerInput) -> tuple[History, bool]:
        try:
            return self.habits.history(handler_input)
        except Exception:
            _store_failed("could not read the history")
            return (), False


class _SummaryHandler(_HabitHandler):
    """An answer about the runner's finished sessions (:attr:`summary` of them), or that there
    are none yet."""

    summary: Callable[[History, date, int], Say]

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.progress.load(handler_input)
        history, _ = self.history(handler_input)
        if not history:
            return self.answer(handler_input, state, Say(Key.HISTORY_NONE))
        today = self.habits.zone(handler_input).now(self.ctx.clock()).date()
        first = first_weekday(_locale(handler_input))
        return self.answer(handler_input, state, type(self).summary(history, today, first))


class HistoryHandler(_SummaryHandler):
    """ "How many sessions have I done?" """

    intent = HISTORY_INTENT
    summary = staticmethod(history_say)


class StreakHandler(_SummaryHandler):
    """ "What's my streak?" """

    intent = STREAK_INTENT
    summary = staticmethod(streak_say)


class ForgetHistoryHandler(_HabitHandler):
    """ "Forget my history": ask first (the state machine's question); yes forgets it."""

    intent = FORGET_HISTORY_INTENT

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.progress.load(handler_input)
        _, started = self.history(handler_input)
        if not started:
            return self.answer(handler_input, state, Say(Key.FORGET_NOTHING))
        return self.ctx.respond(handler_input, self.ctx.coach.ask_forget(state))


class SetReminderHandler(_HabitHandler):
    """ "Remind me to stretch tomorrow at seven": the time, the permission, the reminder."""

    intent = SET_REMINDER_INTENT

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.progress.load(handler_input)
        day, at = _slot_value(handler_input, "date"), _slot_value(handler_input, "time")
        if day is None and at is None:
            return self.answer(handler_input, state, Say(Key.REMINDER_WHEN))
        from skill.habits.reminders import Problem, plan

        zone = self.habits.zone(handler_input)
        asked = plan(day, at, zone.now(self.ctx.clock()))
        if isinstance(asked, Problem):
            key = Key.REMINDER_PAST if asked is Problem.PAST else Key.REMINDER_WHEN
            return self.answer(handler_input, state, Say(key))
        if not _permitted(handler_input):
            return self.ask_permission(handler_input, state, asked)
        return create_reminder(self.ctx, handler_input, state, asked, zone)

    def ask_permission(self, handler_input: HandlerInput, state: State, asked: Asked) -> Response:
        """Alexa asks the runner for the reminders permission, and answers with a
        ``Connections.Response`` carrying the asked-for time in its token."""
        from ask_sdk_model.interfaces.connections import SendRequestDirective  # not for a launch

        response = self.ctx.respond(handler_input, Turn(state, (Say(Key.REMINDER_PERMISSION),)))
        response.should_end_session = None  # the session waits for Alexa's question
        response.reprompt = None
        directive = SendRequestDirective(
            name=ASK_FOR,
            payload={
                "@type": "AskForPermissionsConsentRequest",
                "@version": "1",
                "permissionScope": REMINDERS_PERMISSION,
            },
            token=asked.token,
        )
        response.directives = [*(response.directives or []), directive]
        return response


def create_reminder(
    ctx: SkillContext, handler_input: HandlerInput, state: State, asked: Asked, zone: Zone
) -> Response:
    """Create the reminder and say when, or why not."""
    from skill.habits.reminders import spoken_times, still_ahead

    now = zone.now(ctx.clock())
    if not still_ahead(asked, now):
        return _answer(ctx, handler_input, state, Say(Key.REMINDER_PAST))
    locale = _locale(handler_input)
    text = ctx.narrator(locale).prompt("reminder_text")
    try:
        ctx.habits.api.create_reminder(handler_input, asked.at, zone, text, locale)
    except PermissionNeeded:
        return _needs_app(ctx, handler_input, state)
    except Rejected:
        return _answer(ctx, handler_input, state, Say(Key.REMINDER_PAST))
    except ApiUnavailable:
        return _answer(ctx, handler_input, state, Say(Key.REMINDER_FAILED))
    when = {"at": spoken_times([asked.at])[0], "today": now.date().isoformat()}
    log.info("reminder set")
    return _answer(ctx, handler_input, state, Say(Key.REMINDER_SET, when))


def _answer(ctx: SkillContext, handler_input: HandlerInput, state: State, say: Say) -> Response:
    """Say ``say`` where the runner is; the session stays open (and asks what next)."""
    return ctx.respond(handler_input, Turn(state, (say,), ctx.coach.reprompt(state)))


def _needs_app(ctx: SkillContext, handler_input: HandlerInput, state: State) -> Response:
    """No permission: say so, with the card that lets the runner give it in the Alexa app."""
    from ask_sdk_model.ui import AskForPermissionsConsentCard

    response = _answer(ctx, handler_input, state, Say(Key.REMINDER_NEEDS_APP))
    response.card = AskForPermissionsConsentCard(permissions=[REMINDERS_PERMISSION])
    return response


class ListRemindersHandler(_HabitHandler):
    """ "What reminders do I have?" """

    intent = LIST_REMINDERS_INTENT

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.progress.load(handler_input)
        if not _permitted(handler_input):
            return _needs_app(self.ctx, handler_input, state)
        try:
            found = [at for _, at in self.habits.api.reminders(handler_input)]
        except PermissionNeeded:
            return _needs_app(self.ctx, handler_input, state)
        except (ApiUnavailable, Rejected):
            return self.answer(handler_input, state, Say(Key.REMINDER_FAILED))
        return self.answer(handler_input, state, self._say(handler_input, Key.REMINDERS, found))

    def _say(self, handler_input: HandlerInput, key: Key, times: list[Any]) -> Say:
        from skill.habits.reminders import spoken_times

        today = self.habits.zone(handler_input).now(self.ctx.clock()).date() if times else None
        params = {"items": spoken_times(times[:5]), "count": len(times)}
        return Say(key, {**params, "today": today.isoformat() if today else ""})


class CancelReminderHandler(ListRemindersHandler):
    """ "Cancel my reminder": every reminder of the skill's still to go off."""

    intent = CANCEL_REMINDER_INTENT

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.progress.load(handler_input)
        if not _permitted(handler_input):
            return _needs_app(self.ctx, handler_input, state)
        try:
            cancelled = self.habits.api.cancel_reminders(handler_input)
        except PermissionNeeded:
            return _needs_app(self.ctx, handler_input, state)
        except (ApiUnavailable, Rejected):
            return self.answer(handler_input, state, Say(Key.REMINDER_FAILED))
        log.info("reminders cancelled: %d", len(cancelled))
        say = self._say(handler_input, Key.REMINDERS_CANCELLED, cancelled)
        return self.answer(handler_input, state, say)


class PermissionAnswerHandler(_HabitHandler):
    """Alexa's answer to the reminders permission request: ``Connections.Response`` (name
    ``AskFor``), or a ``SessionResumedRequest`` whose token is a reminder's."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        request = handler_input.request_envelope.request
        kind = getattr(request, "object_type", None)
        if kind == PERMISSION_RESPONSE:
            return getattr(request, "name", None) == ASK_FOR
        if kind == SESSION_RESUMED:
            from skill.habits.reminders import Asked

            cause = getattr(request, "cause", None)
            return Asked.from_token(getattr(cause, "token", None)) is not None
        return False

    def handle(self, handler_input: HandlerInput) -> Response:
        state = self.ctx.progress.load(handler_input)
        from skill.habits.reminders import Asked

        token, status = _permission_answer(handler_input)
        asked = Asked.from_token(token)
        if status != "ACCEPTED":
            log.info("reminders permission: %s", status)
            return self.answer(handler_input, state, Say(Key.REMINDER_DENIED))
        if asked is None:
            return self.answer(handler_input, state, Say(Key.REMINDER_WHEN))
        zone = self.habits.zone(handler_input)
        return create_reminder(self.ctx, handler_input, state, asked, zone)


def _permission_answer(handler_input: HandlerInput) -> tuple[Any, str | None]:
    """(token, ACCEPTED / DENIED / NOT_ANSWERED) of the permission request's answer."""
    request = handler_input.request_envelope.request
    if getattr(request, "object_type", None) == PERMISSION_RESPONSE:
        code = getattr(getattr(request, "status", None), "code", None)
        payload = getattr(request, "payload", None)
        status = payload.get("status") if isinstance(payload, dict) else None
        if str(code) != "200":
            return getattr(request, "token", None), None
        return getattr(request, "token", None), status if isinstance(status, str) else None
    cause = getattr(request, "cause", None)
    result = getattr(cause, "result", None)
    status = result.get("status") if isinstance(result, dict) else None
    return getattr(cause, "token", None), status if isinstance(status, str) else None


def habit_handlers(ctx: SkillContext) -> Iterator[AbstractRequestHandler]:
    """The habit handlers, for :func:`skill.alexa.handlers.build_skill`."""
    yield HistoryHandler(ctx)
    yield StreakHandler(ctx)
    yield ForgetHistoryHandler(ctx)
    yield SetReminderHandler(ctx)
    yield ListRemindersHandler(ctx)
    yield CancelReminderHandler(ctx)
    yield PermissionAnswerHandler(ctx)
