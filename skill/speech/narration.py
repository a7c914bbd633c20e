"""Turn the state machine's :class:`~skill.routine.coach.Say` items into spoken lines.

Each :class:`Line` has a stable id, which is also the id of its prerendered audio clip, the text to
speak, and the pause that follows it. Prompts come from ``skill/speech/prompts/<lang>.yaml`` (with a
regional override file), the routine's words from the routine file: no spoken text lives here.
"""

# No `from __future__ import annotations` here: NamedTuple would compile each string annotation
# at every cold start (README, "Performance").

from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from string import Formatter
from typing import Any, NamedTuple

from skill.habits.spoken import HABIT_KEYS, habit_lines
from skill.routine.content import Part, Routine, read_yaml, swap_sides
from skill.routine.names import fold_words
from skill.routine.says import Key, Say
from skill.routine.state import MAX_BREATHS, MIN_BREATHS, RELAX_SECONDS_PER_BREATH
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


class Line(NamedTuple):
    """One line of narration: its clip id, its words, and the pause after it."""

    id: str
    text: str
    pause_ms: int = 0


Block = tuple[Line, ...]


def block_id(block: Block) -> str:
    """The clip id of a block: its lines' ids joined by ``--`` when it has at most three (what
    follows a hold: ``tip.pigeon--switch.pigeon.right.first--next_hint``), else its first and
    last; a first line said more than once (a breath) is counted: ``breath_in.3--hold_end``."""
    if len(block) <= 3:
        return "--".join(line.id for line in block)
    first = block[0].id
    times = sum(1 for line in block if line.id == first)
    return f"{first}.{times}--{block[-1].id}" if times > 1 else f"{first}--{block[-1].id}"


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


HOLD_ENDINGS = (1, 3, 6, 10)
"""A hold of N breaths is two clips: its opening ("Hold here for N breaths.") with the breaths
before the ending, then the longest of these endings that fits, shared by every N (so many
breaths and the release, "And gently release."). Four endings keep the hold's breaths in about
six minutes of clips for 1 to 15 breaths, where one clip a length took eighteen."""

_INTROS = frozenset(
    {Key.INTRO, Key.INTRO_PLAIN, Key.INTRO_VARIATION, Key.INTRO_SIDE, Key.INTRO_BRIEF}
)
"""A pose's introduction takes its first step into its block (the head); the rest of the steps
are one block of their own, shared by every introduction of that side and by "next" after the
first step was repeated."""
_AFTER_TIP = frozenset({Key.SWITCH, Key.NEXT_HINT, Key.OFFER, Key.LAST_POSE_DONE})
"""What follows a pose's tip in a row joins its block: the cue to change sides and the hint to
say next. A pose's narration is then at most five clips: the head, the steps, the hold's two,
and the tip with what follows it."""
ASIDES = frozenset(
    {
        "mode_set_hold",
        "mode_set_flow",
        Key.START_OVER,
        Key.AT_START,
        Key.FRESH_START,
        Key.NEXT_HINT,
        Key.FLOW_NEXT,
        Key.LAST_POSE_DONE,
        Key.OFFER,
    }
)
"""Lines said around the narration (a change of mode, "starting over", the hint to say next):
when a response has more clips than Alexa plays, a block of these alone gives way first, so the
routine's own words stay in the narrator's voice."""
_WHERE_KEYS = frozenset(
    {Key.WELCOME_BACK, Key.PAUSED, Key.WHICH_SIDE, Key.ALREADY_ON_SIDE, Key.POSE_NAME}
)
"""Lines that say where the runner is: the part's name and the side."""


def is_aside(block: Block) -> bool:
    """Whether a block says only lines around the narration (:data:`ASIDES`)."""
    return all(line.id.split(".")[0] in ASIDES for line in block)


def hold_ending(breaths: int) -> int:
    """How many of a hold's breaths its shared ending says: the longest of
    :data:`HOLD_ENDINGS` that fits, or 0 (the hold is one clip)."""
    return max((n for n in HOLD_ENDINGS if n <= breaths), default=0)


def _within(value: Any, low: int, high: int) -> int:
    """A count the skill says (a hold's breaths, the closing rest's seconds), which sets how
    many lines and breaks are rendered: a value out of its range (only a tampered repeat memory
    has one) is an error, never a hold of 10**18 breaths rendered until memory runs out."""
    count = int(value)
    if not low <= count <= high:
        raise ValueError(f"{count} is not within {low}..{high}")
    return count


def _sentence(text: str) -> str:
    """A line that starts with a filled-in phrase still starts with a capital."""
    return text[:1].upper() + text[1:]


def _mentions(text: str, words: Iterable[str]) -> bool:
    """Whether a step's text says any of the words (or phrases), as whole words."""
    folded = f" {' '.join(fold_words(text))} "
    return any(f" {' '.join(fold_words(word))} " in folded for word in words)


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
        """The lines grouped as they are prerendered: a pose's head (its introduction and first
        step; the welcome too when it leads straight into it), the rest of its steps, a hold's
        opening and its shared ending (:data:`HOLD_ENDINGS`), the tip with what follows it, a
        flow pose with its cues; anything else on its own."""
        out: list[list[Line]] = []
        kinds: list[str] = []
        for say in says:
            lines = self._lines_of(say)
            if not lines:
                continue
            key, last = say.key, kinds[-1] if kinds else ""
            joins = (
                (key == Key.STEP and last in ("intro", "steps"))
                or (key == Key.INTRO and last == "welcome")
                or (key == Key.FLOW and last == "flow")
                or (key in _AFTER_TIP and last == "tip")
            )
            if joins:
                out[-1].extend(lines)
                kinds[-1] = {"intro": "head", "welcome": "intro"}.get(last, last)
                continue
            if key == Key.HOLD:
                ending = hold_ending(int(say.params["breaths"]))
                cut = len(lines) - 2 * ending - 1 if ending else 0
                if cut:
                    out.append(list(lines[:cut]))
                    kinds.append("")
                    lines = lines[cut:]
            if key in (Key.HOLD, Key.RELAX_END):
                kind = "hold"  # the end of a hold, or of the closing rest
            elif key == Key.WELCOME:
                kind = "welcome"
            elif key in _INTROS:
                kind = "intro"
            elif key == Key.STEP:
                kind = "steps"
            elif key == Key.TIP and last == "hold":
                kind = "tip"
            elif key == Key.FLOW_POSE:
                kind = "flow"
            else:
                kind = ""
            out.append(list(lines))
            kinds.append(kind)
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
        if key == Key.WELCOME:
            yield Line("welcome", self.routine.welcome, PAUSE_SHORT)
            yield self._prompt_line(f"welcome_{p['mode']}", p, PAUSE_SHORT)
        elif key == Key.RELAX:
            seconds = _within(p["seconds"], 0, MAX_BREATHS * RELAX_SECONDS_PER_BREATH)
            yield Line("relax_start", self.prompt("relax_start"), seconds * 1000)
        elif key in (Key.INTRO, Key.INTRO_PLAIN, Key.INTRO_VARIATION) and part:
            pose = self.parts.get(str(p.get("pose", "")))
            text = self.prompt(
                key, number=p.get("number", ""), name=part.name, pose=pose.name if pose else ""
            )
            ident = f"intro.{part.id}" if key == Key.INTRO else f"{key}.{part.id}"
            yield Line(ident, text, PAUSE_SHORT)
            if part.two_sided:
                yield Line(
                    f"side_first.{side}", self.prompt("side_first", side=self.side_word(side))
                )
            yield self._targets(part)
        elif key == Key.INTRO_SIDE and part:
            text = self.prompt("intro_side", name=part.name, side=self.side_word(side))
            yield Line(f"intro_side.{part.id}.{side}", text, PAUSE_AFTER_INTRO)
        elif key == Key.INTRO_BRIEF and part:
            text = self.prompt("intro_brief", name=part.name, on_side=self._on_side(side))
            yield Line(f"intro_brief.{part.id}.{side or 'both'}", text, PAUSE_SHORT)
        elif key == Key.STEP and part:
            yield self.step_line(part, int(p["step"]), side)
        elif key == Key.SWITCH and part and part.switch:
            text = part.switch.for_side(bool(p.get("last"))) or ""
            if text:
                if side and side != part.first_side:
                    text = swap_sides(text)
                last = "last" if p.get("last") else "first"
                yield Line(f"switch.{part.id}.{side}.{last}", text, PAUSE_SHORT)
        elif key == Key.HOLD:
            yield from self.hold_lines(_within(p["breaths"], MIN_BREATHS, MAX_BREATHS))
        elif key == Key.TIP and part and part.tip:
            yield Line(f"tip.{part.id}", self.prompt("tip", tip=part.tip), PAUSE_SHORT)
        elif key == Key.TARGETS and part:
            yield self._targets(part)
        elif key == Key.OFFER and part:
            offer = getattr(part, "offer", "")
            yield Line(
                f"offer.{part.id}", f"{offer} {self.prompt('offer_question', name=part.name)}"
            )
        elif key == Key.OFFER_REPROMPT and part:
            yield Line(f"offer_reprompt.{part.id}", self.prompt("offer_reprompt", name=part.name))
        elif key == Key.FLOW_POSE and part:
            if side:
                text = self.prompt("flow_pose_side", name=part.name, side=self.side_word(side))
            else:
                text = self.prompt("flow_pose", name=part.name)
            yield Line(f"flow_pose.{part.id}.{side or 'both'}", text, PAUSE_SHORT)
        elif key == Key.FLOW and part:
            cue = int(p["cue"])
            text = part.flow[cue - 1]
            if side and side != part.first_side:
                text = swap_sides(text)
            yield Line(f"flow.{part.id}.{cue}.{side or 'both'}", text, PAUSE_FLOW_CUE)
        elif key == Key.CLOSING:
            yield Line("closing", self.routine.closing, PAUSE_SHORT)
        elif key in _WHERE_KEYS and part:
            yield Line(f"{key}.{part.id}.{side or 'both'}", self.prompt(key, **self._at(p, part)))
        elif key == Key.WHERE and part:
            left = self.prompt("minutes_left", minutes=p["minutes"]) if p.get("minutes") else ""
            text = self.prompt(key, **self._at(p, part), left=left)
            yield Line(f"where.{part.id}.{side or 'both'}.{p['number']}", text)
        elif key in (Key.NO_SUCH_STEP, Key.ONE_SIDED, Key.NO_TIP) and part:
            yield Line(f"{key}.{part.id}", self.prompt(key, **{**p, "name": part.name}))
        elif key == Key.FRONT_LEG and part:
            yield self._front_leg(part, side)
        elif key == Key.HOW_TO and part:
            yield from self._how_to(part, side, str(p.get("body", "")))
        elif key in (Key.FIRST_UP, Key.UP_NEXT) and part:
            text = self.prompt(key, name=part.name, on_side=self._on_side(side))
            yield Line(f"{key}.{part.id}.{side or 'both'}", text)
        elif key == Key.UNKNOWN_POSE:
            yield Line(key, self.prompt(key, examples=self._pose_examples()))
        elif key == Key.UNKNOWN_AREA:
            areas = join_words((a.name for a in self.routine.focus_areas), "or")
            yield Line(key, self.prompt(key, areas=areas))
        elif key == Key.MODE_ALREADY:
            yield self._prompt_line(f"mode_already_{p['mode']}", p)
        elif key == Key.MODE_SET:
            yield Line(
                f"mode_set_{p['mode']}", self.prompt(f"mode_set_{p['mode']}", **p), PAUSE_SHORT
            )
        elif key == Key.LEVEL_SET:
            yield self._prompt_line(f"level_set_{p['level']}", p, PAUSE_SHORT)
        elif key == Key.BREATHS_SET and p.get("breaths") == 1:
            yield Line("breaths_set_one", self.prompt("breaths_set_one"))
        elif key == Key.BREATHS_LIMIT:
            limit = "breaths_limit_one" if p.get("breaths") == 1 else "breaths_limit"
            yield self._prompt_line(limit, p)
        elif key == Key.PLAN_SET:
            yield Line(f"plan_set.{p['plan']}", self._plan_text(p), PAUSE_SHORT)
        elif key == Key.HOW_LONG:
            left = self.prompt("minutes_left", minutes=p["left"]) if p.get("left") else ""
            text = self.prompt(
                key,
                plan=self._plan_name(p),
                minutes=p["minutes"],
                mode=p.get("mode", ""),
                left=left,
            )
            yield Line(f"how_long.{p['plan']}", _sentence(text))
        elif key == Key.LIST_POSES:
            names = [self.parts[i].name for i in p["poses"] if i in self.parts]
            text = self.prompt(
                key, plan=self._plan_name(p), count=len(names), names=join_words(names)
            )
            plan = ".".join(str(x) for x in (p["plan"], p.get("area")) if x)
            yield Line(f"list_poses.{plan}.{len(names)}", _sentence(text))
        elif key == Key.POSES_LEFT:
            names = [self.parts[i].name for i in p["poses"] if i in self.parts]
            if not names:
                yield Line("poses_left.none", self.prompt("poses_left_none"))
            else:
                text = self.prompt(key, count=len(names), names=join_words(names))
                yield Line(f"poses_left.{len(names)}", text)
        elif key in HABIT_KEYS:
            for ident, text in habit_lines(self.prompt, self.prompts, say):
                yield Line(ident, text)
        else:
            yield self._prompt_line(key, p)

    def _at(self, p: Mapping[str, Any], part: Part) -> dict[str, Any]:
        """The parameters of a line about where the runner is in a part."""
        side = str(p.get("side", ""))
        return {
            **p,
            "name": part.name,
            "side": self.side_word(side),
            "on_side": self._on_side(side),
        }

    def _plan_name(self, p: Mapping[str, Any]) -> str:
        if p.get("plan") == "focus":
            area = next((a for a in self.routine.focus_areas if a.id == p.get("area")), None)
            return self.prompt("plan_name_focus", area=area.name if area else "")
        return self.prompt(f"plan_name_{p.get('plan', 'full')}")

    def _plan_text(self, p: Mapping[str, Any]) -> str:
        about = self.prompt("about_minutes", minutes=p["minutes"]) if p.get("minutes") else ""
        return self.prompt("plan_set", plan=self._plan_name(p), poses=p["poses"], about=about)

    def _front_leg(self, part: Part, side: str) -> Line:
        words = " ".join([*(s.text for s in part.steps), *part.flow]).lower()
        lunging = any(w in words for w in self.prompts["front_leg_words"])
        if part.two_sided and side and lunging:
            text = self.prompt("front_leg", side=self.side_word(side), name=part.name)
            return Line(f"front_leg.{part.id}.{side}", text)
        return Line(f"front_leg_none.{part.id}", self.prompt("front_leg_none", name=part.name))

    def _how_to(self, part: Part, side: str, body: str) -> Iterator[Line]:
        """The steps of a part, or those that mention a part of the body."""
        if not body:
            text = self.prompt("how_to", name=part.name, on_side=self._on_side(side))
            yield Line(f"how_to.{part.id}.{side or 'both'}", text, PAUSE_SHORT)
            for number in range(1, len(part.steps) + 1):
                yield self.step_line(part, number, side)
            return
        words = self.prompts["body_words"].get(body, [body])
        name = self.prompts["body_names"].get(body, body)
        found = [number for number, step in enumerate(part.steps, 1) if _mentions(step.text, words)]
        if not found:
            text = self.prompt("how_to_body_none", name=part.name, body=name)
            yield Line(f"how_to_body_none.{part.id}.{body}", text)
            return
        text = self.prompt("how_to_body", name=part.name, body=name)
        yield Line(f"how_to_body.{part.id}.{body}", text, PAUSE_SHORT)
        for number in found:
            yield self.step_line(part, number, side)

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

    def step_line(self, part: Part, number: int, side: str) -> Line:
        text = part.steps[number - 1].text
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
