"""Screens and cards on a response: an APL document on a device that runs it, a card elsewhere.

:meth:`Screens.show` is the one call :class:`skill.alexa.handlers.SkillContext` makes. It reads
what the request says about the device (the ``Alexa.Presentation.APL`` interface, the APL
version its runtime goes up to, the viewport) and adds at most one thing to the response:

- on a device whose runtime runs the documents' version
  (:data:`skill.screens.documents.APL_VERSION`): a ``RenderDocument`` directive, on every turn
  that moves the runner, narrates the routine (a pose said again restarts the breathing guide in
  time with it), helps or ends the session; turns that only answer a question leave the screen
  as it is;
- on any other device (no screen, or an APL runtime too old for the documents): a standard card
  for the Alexa app, only on turns that moved the runner.

Nothing here changes what is said, and a screen that cannot be made is logged and left out:
the spoken answer always goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from enum import Enum
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model.ui import StandardCard

from skill.alexa.serializer import Plain
from skill.audio.manifest import load_manifest
from skill.routine.coach import Coach
from skill.routine.state import Turn
from skill.screens.datasources import (
    SpeechClock,
    load_words,
    narrates,
    screen_for,
    screen_kind,
)
from skill.screens.documents import (
    Viewport,
    card_for,
    layout_for,
    render_parts,
    runs_documents,
)
from skill.speech.narration import Narrator

log = logging.getLogger(__name__)

SCREEN_CACHE_SIZE = 4096
T = TypeVar("T")

ALWAYS_SHOWN = frozenset({"help", "closing"})
"""Screens shown on a turn even if the runner did not move."""


@cache
def clip_durations(audio_dir: Path) -> Mapping[str, float]:
    """Seconds of each prerendered clip, by id (empty without a manifest); read once."""
    out: dict[str, float] = {}
    for clip_id, entry in load_manifest(audio_dir).items():
        try:
            out[clip_id] = float(entry["duration"])
        except (KeyError, TypeError, ValueError):
            continue
    return MappingProxyType(out)


def apl_runtime(handler_input: HandlerInput) -> tuple[bool, str | None]:
    """(whether the device declares APL, the APL version its runtime goes up to)."""
    context = handler_input.request_envelope.context
    system = getattr(context, "system", None)
    device = getattr(system, "device", None)
    interfaces = getattr(device, "supported_interfaces", None)
    apl = getattr(interfaces, "alexa_presentation_apl", None)
    if apl is None:
        return False, None
    version = getattr(getattr(apl, "runtime", None), "max_version", None)
    return True, version if isinstance(version, str) else None


def _name(value: object) -> str | None:
    if isinstance(value, Enum):
        return str(value.value)
    return value if isinstance(value, str) else None


def _pixels(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value > 0 else None


def viewport_of(handler_input: HandlerInput) -> Viewport | None:
    """The request's viewport (``context.Viewport``), or ``None`` if it names none."""
    viewport = getattr(handler_input.request_envelope.context, "viewport", None)
    if viewport is None:
        return None
    width = _pixels(getattr(viewport, "current_pixel_width", None)) or _pixels(
        getattr(viewport, "pixel_width", None)
    )
    height = _pixels(getattr(viewport, "current_pixel_height", None)) or _pixels(
        getattr(viewport, "pixel_height", None)
    )
    return Viewport(
        shape=_name(getattr(viewport, "shape", None)),
        mode=_name(getattr(viewport, "mode", None)),
        width=width,
        height=height,
        dpi=_pixels(getattr(viewport, "dpi", None)),
    )


class Screens:
    """Adds the screen or the card for a turn to the response being built."""

    def __init__(self, coach: Coach, durations: Mapping[str, float]) -> None:
        self.coach = coach
        self.clock = SpeechClock(durations)
        self._made: dict[tuple[str, str, Turn], Any] = {}

    def show(
        self, handler_input: HandlerInput, turn: Turn, narrator: Narrator, moved: bool
    ) -> None:
        """The document or card for ``turn``, if it has one; never raises."""
        try:
            self._show(handler_input, turn, narrator, moved)
        except Exception:  # a screen is an extra: the spoken answer must still go out
            log.exception("could not make the screen")

    def _show(
        self, handler_input: HandlerInput, turn: Turn, narrator: Narrator, moved: bool
    ) -> None:
        declared, version = apl_runtime(handler_input)
        builder = handler_input.response_builder
        if declared and runs_documents(version):
            # Imported for the first screen: ask-sdk's APL models are a twentieth of a cold start.
            from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

            if moved or narrates(turn) or screen_kind(turn) in ALWAYS_SHOWN:
                layout = layout_for(viewport_of(handler_input))
                token, document, datasources = self._remembered(
                    layout,
                    narrator,
                    turn,
                    lambda: render_parts(self._screen(narrator, turn), layout),
                )
                builder.add_directive(
                    # Plain: the serializer sends the document as it is, without walking it.
                    RenderDocumentDirective(
                        token=token, document=Plain(document), datasources=Plain(datasources)
                    )
                )
            return
        if moved:
            title, text = self._remembered(
                "card",
                narrator,
                turn,
                lambda: card_for(self._screen(narrator, turn), load_words(narrator.locale)),
            )
            builder.set_card(StandardCard(title=title, text=text))

    def _screen(self, narrator: Narrator, turn: Turn) -> dict[str, Any]:
        return screen_for(self.coach, narrator, self.clock, turn)

    def _remembered(self, what: str, narrator: Narrator, turn: Turn, make: Callable[[], T]) -> T:
        """What ``make`` makes for a turn, remembered like the speech: the routine has only so
        many turns, and the same ones come round in every session."""
        key = (what, narrator.locale, turn)
        try:
            found: T | None = self._made.get(key)
        except TypeError:  # parameters from tampered session attributes: make, don't keep
            return make()
        if found is None:
            if len(self._made) >= SCREEN_CACHE_SIZE:
                self._made.clear()
            found = self._made[key] = make()
        return found
