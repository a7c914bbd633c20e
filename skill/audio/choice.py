"""A session's settings as one name, ``<mode>-<breaths>-<plan>-<words>-<variations>``
(``hold-5-quick-steps-var``): the phone player's timeline files and the audio player's tokens
are named by it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from skill.routine.content import Routine
from skill.routine.state import (
    DEFAULT_BREATHS,
    FULL,
    MAX_BREATHS,
    MIN_BREATHS,
    MODES,
    QUICK,
    Mode,
    Plan,
    focus,
)

if TYPE_CHECKING:
    from skill.audio.player.timeline import Session

WORDS = ("steps", "brief")
VARIATIONS = ("var", "novar")
_NAME = re.compile(r"(hold|flow)-(0|[1-9][0-9]?)-([a-z][a-z0-9_]*)-(steps|brief)-(var|novar)")


class ChoiceError(ValueError):
    """A name that names no session the skill offers; one line for the caller."""


@dataclass(frozen=True)
class Choice:
    """The settings of a session, and their name."""

    mode: Mode = "hold"
    breaths: int = DEFAULT_BREATHS
    plan: Plan = FULL
    brief: bool = False
    variations: bool = True

    @property
    def name(self) -> str:
        plan = self.plan.area if self.plan.kind == "focus" and self.plan.area else self.plan.kind
        words = WORDS[self.brief]
        return f"{self.mode}-{self.breaths}-{plan}-{words}-{VARIATIONS[not self.variations]}"

    @property
    def session(self) -> Session:
        from skill.audio.player.timeline import Session  # not needed to name or parse

        return Session(
            self.mode, self.breaths, variations=self.variations, plan=self.plan, brief=self.brief
        )

    @classmethod
    def parse(cls, name: str, areas: frozenset[str]) -> Choice:
        """The settings a name stands for; :class:`ChoiceError` for any other name."""
        found = _NAME.fullmatch(name)
        if found is None:
            raise ChoiceError(
                "a timeline is named <hold|flow>-<breaths>-<full|quick|area>-<steps|brief>-"
                f"<var|novar>, not {name[:80]!r}"
            )
        mode_name, breaths_text, plan_name, words, variations = found.groups()
        breaths = int(breaths_text)
        if not MIN_BREATHS <= breaths <= MAX_BREATHS:
            raise ChoiceError(f"breaths must be {MIN_BREATHS} to {MAX_BREATHS}, not {breaths}")
        if plan_name in ("full", "quick"):
            plan = FULL if plan_name == "full" else QUICK
        elif plan_name in areas:
            plan = focus(plan_name)
        else:
            choices = ", ".join(["full", "quick", *sorted(areas)])
            raise ChoiceError(f"no session {plan_name[:80]!r}; choose one of: {choices}")
        mode = next(m for m in MODES if m == mode_name)
        return cls(mode, breaths, plan, words == "brief", variations == "var")


def every_choice(routine: Routine) -> Iterator[Choice]:
    """Every session the skill offers."""
    plans = [FULL, QUICK, *(focus(area.id) for area in routine.focus_areas)]
    for mode in MODES:
        for breaths in range(MIN_BREATHS, MAX_BREATHS + 1):
            for plan in plans:
                for brief in (False, True):
                    for variations in (True, False):
                        yield Choice(mode, breaths, plan, brief, variations)
