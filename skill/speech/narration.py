"""Turn the state machine's :class:`~skill.routine.coach.Say` items into spoken lines.

Each :class:`Line` has a stable id, which is also the id of its prerendered audio clip, the text to
speak, and the pause that follows it. Prompts come from ``skill/speech/prompts/<lang>.yaml`` (with a
regional override file), the routine's words from the routine file: no spoken text lives here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Formatter
from typing import Any

from skill.routine.content import Part, Routine, read_yaml, swap_sides
from skill.routine.says import Say
from skill.settings import DEFAULT_LOCALE

PROMPTS_DIR = Path(__file__).parent / "prompts"

# Pauses after lines, in milliseconds: time to move into a step, to breathe.
PAUSE_AFTER_INTRO = 700
PAUSE_AFTER_STEP = 2500
PAUSE_BREATH_IN = 3000
PAUSE_BREATH_OUT = 4000
PAUSE_FLOW_CUE = 1500
PAUSE_SHORT = 400
RENDER_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Line:
    id: str
    text: str
    pause_ms: int = 0


Block = tuple[Line, ...]


def block_id(block: Block) -> str:
    """The clip id of a block: its line's id, or the first and last line ids joined by --."""
    return block[0].id if len(block) == 1 else f"{block[0].id}--{block[-1].id}"


class PromptError(KeyError):
    """A prompt key used by the code is missing from the locale's prompt file."""


@cache
def load_prompts(locale: str = DEFAULT_LOCALE) -> Mapping[str, Any]:
    """The prompts for a locale: ``<lang>.yaml`` overlaid with ``<locale>.yaml`` if present."""
    lang = locale.split("-")[0]
    merged: dict[str, Any] = {}
    for name in (lang, locale):
        path = PROMPTS_DIR / f"{name}.yaml"
        if path.exists():
            merged.update(read_yaml(path) or {})
    if not merged:
        raise PromptError(f"no prompts for locale {locale!r}")
    return merged


def join_words(items: Iterable[str], last: str = "and") -> str:
    """'a, b and c' for speech (or 'a, b or c')."""
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


class Narrator:
    """Renders :class:`Say` items for one routine and locale."""

    def __init__(self, routine: Routine, locale: str = DEFAULT_LOCALE) -> None:
        self.routine = routine
        self.locale = locale
        self.prompts = load_prompts(locale)
        self._cache: dict[Say, tuple[Line, ...]] = {}
        self.parts: dict[str, Part] = {}
        for pose in routine.poses:
            self.parts[pose.id] = pose
            for var in pose.variations:
                self.parts[var.id] = var

    def prompt(self, key: str, **params: Any) -> str:
        try:
            template = self.prompts[key]
        except KeyError:
            raise PromptError(f"prompt {key!r} is missing for {self.locale}") from None
        return str(template).format(**params)

    def side_word(self, side: str) -> str:
        return str(self.prompts["sides"].get(side, side))

    def _on_side(self, side: str) -> str:
        return self.prompt("on_side", side=self.side_word(side)) if side else ""

    def lines(self, says: Iterable[Say]) -> list[Line]:
        return [line for block in self.blocks(says) for line in block]

    def blocks(self, says: Iterable[Say]) -> list[Block]:
        """The lines grouped as they are prerendered: a pose's introduction with its steps, a
        whole hold, a flow pose with its cues; anything else on its own."""
        out: list[list[Line]] = []
        head = ""
        for say in says:
            lines = self._lines_of(say)
            if not lines:
                continue
            joins = (say.key == "step" and head in ("intro", "intro_side", "step")) or (
                say.key == "flow" and head == "flow_pose"
            )
            if joins and out:
                out[-1].extend(lines)
            else:
                out.append(list(lines))
                head = say.key
        return [tuple(block) for block in out]

    # ------------------------------------------------------------------ rendering

    def _lines_of(self, say: Say) -> tuple[Line, ...]:
        """The lines of one say, remembered: the same says come round on every turn."""
        try:
            lines = self._cache.get(say)
        except TypeError:  # a tampered parameter that can't be hashed: render, don't remember
            return tuple(self._render(say))
        if lines is None:
            if len(self._cache) >= RENDER_CACHE_SIZE:
                self._cache.clear()
            lines = self._cache[say] = tuple(self._render(say))
        return lines

    def _render(self, say: Say) -> Iterator[Line]:
        p = say.params
        key = say.key
        part = self.parts.get(p.get("part", ""))
        side = str(p.get("side", ""))
        if key == "welcome":
            yield Line("welcome", self.routine.welcome, PAUSE_SHORT)
            yield self._prompt_line(f"welcome_{p['mode']}", p, PAUSE_SHORT)
        elif key == "relax":
            yield Line("relax_start", self.prompt("relax_start"), int(p["seconds"]) * 1000)
        elif key == "intro" and part:
            yield Line(
                f"intro.{part.id}",
                self.prompt("intro", number=p["number"], name=part.name),
                PAUSE_SHORT,
            )
            if part.two_sided:
                yield Line(
                    f"side_first.{side}", self.prompt("side_first", side=self.side_word(side))
                )
            yield self._targets(part)
        elif key == "intro_side" and part:
            text = self.prompt("intro_side", name=part.name, side=self.side_word(side))
            yield Line(f"intro_side.{part.id}.{side}", text, PAUSE_AFTER_INTRO)
        elif key == "step" and part:
            yield self.step_line(part, int(p["step"]), side, bool(p.get("last")))
        elif key == "hold":
            yield from self.hold_lines(int(p["breaths"]))
        elif key == "tip" and part and part.tip:
            yield Line(f"tip.{part.id}", self.prompt("tip", tip=part.tip), PAUSE_SHORT)
        elif key == "targets" and part:
            yield self._targets(part)
        elif key == "offer" and part:
            offer = getattr(part, "offer", "")
            yield Line(
                f"offer.{part.id}", f"{offer} {self.prompt('offer_question', name=part.name)}"
            )
        elif key == "offer_reprompt" and part:
            yield Line(f"offer_reprompt.{part.id}", self.prompt("offer_reprompt", name=part.name))
        elif key == "flow_pose" and part:
            if side:
                text = self.prompt("flow_pose_side", name=part.name, side=self.side_word(side))
            else:
                text = self.prompt("flow_pose", name=part.name)
            yield Line(f"flow_pose.{part.id}.{side or 'both'}", text, PAUSE_SHORT)
        elif key == "flow" and part:
            cue = int(p["cue"])
            text = part.flow[cue - 1]
            if side and side != part.first_side:
                text = swap_sides(text)
            yield Line(f"flow.{part.id}.{cue}.{side or 'both'}", text, PAUSE_FLOW_CUE)
        elif key == "closing":
            yield Line("closing", self.routine.closing, PAUSE_SHORT)
        elif key in ("welcome_back", "paused", "which_side", "already_on_side", "where") and part:
            params = {
                **p,
                "name": part.name,
                "side": self.side_word(side),
                "on_side": self._on_side(side),
            }
            yield Line(f"{key}.{part.id}.{side or 'both'}", self.prompt(key, **params))
        elif key in ("no_such_step", "one_sided", "no_tip") and part:
            yield Line(f"{key}.{part.id}", self.prompt(key, **{**p, "name": part.name}))
        elif key == "unknown_pose":
            yield Line(key, self.prompt(key, examples=self._pose_examples()))
        elif key == "mode_already":
            yield self._prompt_line(f"mode_already_{p['mode']}", p)
        elif key == "mode_set":
            yield Line(
                f"mode_set_{p['mode']}", self.prompt(f"mode_set_{p['mode']}", **p), PAUSE_SHORT
            )
        elif key == "breaths_set" and p.get("breaths") == 1:
            yield Line("breaths_set_one", self.prompt("breaths_set_one"))
        else:
            yield self._prompt_line(key, p)

    def _prompt_line(self, key: str, params: Mapping[str, Any], pause_ms: int = 0) -> Line:
        """A plain prompt; its id carries only the values its text uses, so clips can be listed."""
        template = str(self.prompts.get(key, ""))
        used = [name for _, name, _, _ in Formatter().parse(template) if name]
        ident = ".".join([key, *(str(params[name]) for name in used if name in params)])
        return Line(ident, self.prompt(key, **params), pause_ms)

    def _pose_examples(self) -> str:
        """A few poses by what a runner would call them: from the start, middle and end."""
        poses = self.routine.poses
        picks = [poses[1], poses[len(poses) // 2], poses[-2]] if len(poses) > 3 else poses
        return join_words(
            ((pose.synonyms[0] if pose.synonyms else pose.name).lower() for pose in picks), "or"
        )

    def _targets(self, part: Part) -> Line:
        areas = join_words(
            a if a[:2].isupper() else a[0].lower() + a[1:] for a in part.target_areas
        )
        return Line(f"targets.{part.id}", self.prompt("targets", areas=areas), PAUSE_AFTER_INTRO)

    def step_line(self, part: Part, number: int, side: str, last: bool) -> Line:
        text = part.steps[number - 1].for_side(last)
        if side and side != part.first_side:
            text = swap_sides(text)
        return Line(
            f"step.{part.id}.{number}.{side or 'both'}",
            self.prompt("step", number=number, text=text),
            PAUSE_AFTER_STEP,
        )

    def hold_lines(self, breaths: int) -> Iterator[Line]:
        if breaths == 1:
            yield Line("hold_start_one", self.prompt("hold_start_one"), PAUSE_SHORT)
        else:
            yield Line(
                f"hold_start.{breaths}", self.prompt("hold_start", count=breaths), PAUSE_SHORT
            )
        for _ in range(breaths):
            yield Line("breath_in", self.prompt("breath_in"), PAUSE_BREATH_IN)
            yield Line("breath_out", self.prompt("breath_out"), PAUSE_BREATH_OUT)
        yield Line("hold_end", self.prompt("hold_end"), PAUSE_SHORT)
