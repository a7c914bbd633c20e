"""How long the routine takes: seconds per segment, measured from the prerendered timeline.

The state machine is told these durations (it never guesses them); they come from the same
timeline the offline player plays (:mod:`skill.audio.player.timeline`), built from the clip
manifest, so "about twelve minutes left" is what the runner will actually hear.
"""

# No `from __future__ import annotations` here: NamedTuple would compile each string annotation
# at every cold start (README, "Performance").

from collections.abc import Callable
from typing import NamedTuple

from skill.routine.state import Mode


class Timing(NamedTuple):
    """Seconds of the welcome, the closing, and each segment (by index), at one mode and hold
    length."""

    welcome: float
    closing: float
    segments: tuple[float, ...]


TimingSource = Callable[[Mode, int], "Timing | None"]
"""The timing at a mode and hold length, or ``None`` where it can't be known."""


def minutes(seconds: float) -> int:
    """Seconds as whole minutes for speech: at least one."""
    return max(1, round(seconds / 60))
