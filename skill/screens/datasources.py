"""What a screen shows after a turn, as plain data: the datasource of an APL document, and what a
card in the Alexa app is made from.

:func:`screen_for` reads the turn (the new state and what is said), the coach (where that is in
the routine and the runner's plan) and the narrator (the words of what is said). It returns a
plain dict of strings, numbers and lists, with no markup and no SDK: the documents in
``skill/screens/apl/`` lay it out, :func:`skill.screens.documents.card_for` writes a card
from it.

Timing is the narration's own: the breathing guide breathes in for the spoken "breathe in" and
its pause (:data:`~skill.speech.narration.PAUSE_BREATH_IN`), out for "and out" and its pause
(:data:`~skill.speech.narration.PAUSE_BREATH_OUT`), and starts when the spoken hold does. How
long the lines before it take is read from the clip manifest (the clips the skill plays, or the
same words in Alexa's voice), else estimated from their length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from skill.routine.coach import Coach
from skill.routine.content import Part, read_yaml, swap_sides
from skill.routine.says import Key, Say
from skill.routine.state import Question, Turn
from skill.settings import DEFAULT_LOCALE
from skill.speech.narration import (
    HOLD_ENDINGS,
    PAUSE_BREATH_IN,
    PAUSE_BREATH_OUT,
    Block,
    Line,
    Narrator,
    block_id,
)

WORDS_DIR = Path(__file__).parent / "words"

CHARS_PER_SECOND = 16.8
"""How fast a line is spoken when its clip is unknown: the median of the prerendered clips."""

HELP_KEYS = frozenset(
    {Key.HELP_HOLD, Key.HELP_FLOW, Key.HELP_OFFER, Key.HELP_RESUME, Key.HELP_IDLE, Key.HELP_BREAK}
)
NARRATING_KEYS = frozenset(
    {
        Key.INTRO,
        Key.INTRO_PLAIN,
        Key.INTRO_VARIATION,
        Key.INTRO_SIDE,
        Key.INTRO_BRIEF,
        Key.STEP,
        Key.HOLD,
        Key.RELAX,
        Key.FLOW_POSE,
    }
)
"""Keys that narrate the routine: a screen follows along with them, even if the state ends where
it was (a pose said again)."""

BODY_KINDS = frozenset({"help", "ready", "closing", "paused"})
"""Screens that show what was said (help, a goodbye, a breather's offer) as their text."""


# ---------------------------------------------------------------------- words


@cache
def load_words(locale: str = DEFAULT_LOCALE) -> Mapping[str, Any]:
    """The screens' words for a locale: ``<lang>.yaml`` overlaid with ``<locale>.yaml``."""
    lang = locale.split("-")[0]
    merged: dict[str, Any] = {}
    for name in (lang, locale):
        path = WORDS_DIR / f"{name}.yaml"
        if path.exists():
            merged.update(read_yaml(path) or {})
    if not merged:
        return load_words(DEFAULT_LOCALE)
    return merged


# ---------------------------------------------------------------------- how long speech takes


class SpeechClock:
    """How long blocks of narration take to say: the clip's duration where the manifest has a clip
    of that block, else the length of its words at :data:`CHARS_PER_SECOND`; pauses as written.

    A plain class, as :class:`~skill.alexa.handlers.SkillContext` is: made once, never compared."""

    def __init__(self, durations: Mapping[str, float]) -> None:
        self.durations = durations
        """Clip id (a block's id) to seconds."""
        self._breaths: dict[str, tuple[int, int]] = {}

    def line_ms(self, line: Line) -> int:
        """One line, without the pause after it."""
        seconds = self.durations.get(line.id)
        if seconds is None:
            seconds = len(line.text) / CHARS_PER_SECOND
        return round(seconds * 1000)

    def block_ms(self, block: Block) -> int:
        """A block with the pause after its last line, as the response plays it."""
        seconds = self.durations.get(block_id(block))
        if seconds is None:
            said = sum(self.line_ms(line) + line.pause_ms for line in block[:-1])
            said += self.line_ms(block[-1])
        else:
            said = round(seconds * 1000)
        return said + block[-1].pause_ms

    def breath_ms(self, narrator: Narrator) -> tuple[int, int]:
        """(in, out): the spoken cue and its pause, each. The clips of two holds' shared endings
        (:func:`hold_endings`) tell how long one breath takes as recorded; the cues' share of it
        goes by their length.
        Worked out once per locale."""
        found = self._breaths.get(narrator.locale)
        if found is None:
            found = self._breaths[narrator.locale] = self._breath_ms(narrator)
        return found

    def _breath_ms(self, narrator: Narrator) -> tuple[int, int]:
        cue_in, cue_out = narrator.prompt("breath_in"), narrator.prompt("breath_out")
        holds = sorted(
            (breaths, self.durations[ident])
            for breaths, ident in hold_endings(narrator)
            if ident in self.durations
        )
        if len(holds) >= 2 and holds[-1][0] > holds[0][0]:
            (few, short), (many, long) = holds[0], holds[-1]
            cues_ms = (long - short) * 1000 / (many - few) - PAUSE_BREATH_IN - PAUSE_BREATH_OUT
            share = len(cue_in) / (len(cue_in) + len(cue_out))
            in_ms = PAUSE_BREATH_IN + max(0.0, cues_ms) * share
            out_ms = PAUSE_BREATH_OUT + max(0.0, cues_ms) * (1 - share)
            return round(in_ms), round(out_ms)
        return (
            PAUSE_BREATH_IN + round(len(cue_in) / CHARS_PER_SECOND * 1000),
            PAUSE_BREATH_OUT + round(len(cue_out) / CHARS_PER_SECOND * 1000),
        )


def hold_endings(narrator: Narrator) -> list[tuple[int, str]]:
    """(breaths, clip id) of each shared ending of a hold (:data:`HOLD_ENDINGS`)."""
    return [
        (breaths, block_id(narrator.blocks([Say(Key.HOLD, {"breaths": breaths})])[-1]))
        for breaths in HOLD_ENDINGS
    ]


# ---------------------------------------------------------------------- the screen


def screen_kind(turn: Turn) -> str:
    """Which screen a turn shows: ``closing``, ``help``, ``resume``, ``paused``, ``ready``,
    ``flow`` or ``pose``."""
    state = turn.state
    keys = {say.key for say in turn.says}
    if turn.end_session:
        return "closing"
    if keys & HELP_KEYS:
        return "help"
    if state.resume_offered:
        return "resume"
    if state.status == "paused":
        return "paused"
    if not state.started:
        return "ready"
    if state.mode == "flow":
        return "flow"
    return "pose"


def narrates(turn: Turn) -> bool:
    """Whether a turn narrates the routine (a pose, its steps, a hold, a flow)."""
    return any(say.key in NARRATING_KEYS for say in turn.says)


def screen_for(coach: Coach, narrator: Narrator, clock: SpeechClock, turn: Turn) -> dict[str, Any]:
    """The screen after ``turn``: plain data for a document's datasource and for a card."""
    return _Screen(coach, narrator, clock, turn, load_words(narrator.locale)).build()


class _Screen:
    def __init__(
        self,
        coach: Coach,
        narrator: Narrator,
        clock: SpeechClock,
        turn: Turn,
        words: Mapping[str, Any],
    ) -> None:
        self.coach = coach
        self.narrator = narrator
        self.clock = clock
        self.turn = turn
        self.state = turn.state
        self.words = words
        self.blocks = narrator.blocks(turn.says)

    def build(self) -> dict[str, Any]:
        kind = screen_kind(self.turn)
        screen: dict[str, Any] = {
            "kind": kind,
            "title": self.coach.routine.title,
            "heading": self._heading(kind),
            "body": self._text(self.turn.says) if self._has_body(kind) else "",
            "hint": self._text(self.turn.reprompt) if not self.turn.end_session else "",
            "buttons": self._buttons(),
            "welcome": self._welcome(),
        }
        if self.state.started or (kind == "closing" and self.state.status != "idle"):
            screen.update(self._where())
        if kind == "pose":
            screen.update(self._pose_detail())
        if kind == "flow":
            screen["flow"] = self._flow()
            screen["flowTimed"] = all(item["atMs"] >= 0 for item in screen["flow"])
        return screen

    # ------------------------------------------------------------------ parts

    def _heading(self, kind: str) -> str:
        if kind == "closing":
            return str(self.words["finished" if self.state.status == "finished" else "goodbye"])
        if kind == "paused" and self._breather():
            return str(self.words["breather"])
        return str(self.words.get(kind, ""))

    def _has_body(self, kind: str) -> bool:
        """Whether the screen shows what was said: a plain pause says only where the runner is,
        which the screen shows anyway."""
        return kind in BODY_KINDS and (kind != "paused" or self._breather())

    def _breather(self) -> bool:
        return self.state.pending is not None and self.state.pending.question is Question.BREAK

    def _text(self, says: Sequence[Any]) -> str:
        return " ".join(line.text for line in self.narrator.lines(says))

    def _buttons(self) -> list[dict[str, str]]:
        """The touch buttons: each sends its ``event`` as the UserEvent's argument."""
        labels = self.words["buttons"]
        state = self.state
        if self.turn.end_session:
            pairs: list[tuple[str, str]] = []
        elif state.resume_offered:
            pairs = [("carry_on", "next")]
        elif not state.started:
            pairs = [("start", "next")]
        elif state.status == "paused":
            pairs = [("previous",) * 2, ("repeat",) * 2, ("resume",) * 2, ("next",) * 2]
        else:
            pairs = [("previous",) * 2, ("repeat",) * 2, ("pause",) * 2, ("next",) * 2]
        return [{"label": str(labels[label]), "event": event} for label, event in pairs]

    def _welcome(self) -> dict[str, Any]:
        """The routine's welcome, shown while it is said, then out of the way."""
        if not self.turn.says or self.turn.says[0].key != Key.WELCOME:
            return {"show": False, "text": "", "ms": 0}
        welcome = self.narrator.blocks(self.turn.says[:1])
        return {
            "show": True,
            "text": self.coach.routine.welcome,
            "ms": sum(self.clock.block_ms(block) for block in welcome),
        }

    def _where(self) -> dict[str, Any]:
        """The pose, the side and the progress through the runner's plan."""
        coach, state = self.coach, self.state
        seg = coach.segments[state.segment]
        part = coach.part(seg)
        side = part.sides[seg.side]
        poses = coach.plan_poses(state)
        pose = coach.pose_of(state)
        number = next((i for i, p in enumerate(poses, 1) if p.id == pose.id), 1)
        done, total = coach.progress(state)
        plan = state.plan
        if plan.kind == "focus":
            area = next((a.name for a in coach.routine.focus_areas if a.id == plan.area), "")
            plan_label = str(self.words["plan_focus"]).format(area=area)
        else:
            plan_label = str(self.words[f"plan_{plan.kind}"])
        return {
            "pose": {
                "name": part.name,
                "side": str(self.words["sides"].get(side, "")) if side else "",
                "number": number,
            },
            "progress": {
                "label": str(self.words["pose_of"]).format(number=number, total=len(poses)),
                "plan": plan_label,
                "percent": round(100 * done / total) if total else 0,
            },
        }

    def _pose_detail(self) -> dict[str, Any]:
        """Hold mode: the targets, the steps (those said now marked), the tip, the guide."""
        coach, state = self.coach, self.state
        seg = coach.segments[state.segment]
        part = coach.part(seg)
        pose = coach.routine.poses[seg.pose]
        side = part.sides[seg.side]
        said = {
            int(say.params.get("step", 0))
            for say in self.turn.says
            if say.key == Key.STEP and say.params.get("part") == part.id
        }
        if not said and not state.heard:
            said = {state.step + 1}
        steps = [
            {"number": str(n), "text": _on_side(part, step.text, side), "current": n in said}
            for n, step in enumerate(part.steps, 1)
        ]
        tip_part = part if part.tip else pose
        areas = ", ".join(a if a[:2].isupper() else a[0].lower() + a[1:] for a in part.target_areas)
        return {
            "targets": str(self.words["targets"]).format(areas=areas),
            "steps": steps,
            "firstCurrent": next((i for i, step in enumerate(steps) if step["current"]), 0),
            "tip": tip_part.tip or "",
            "tipLabel": str(self.words["tip"]),
            "guide": self._guide(pose.relaxation),
        }

    def _guide(self, relaxation: bool) -> dict[str, Any]:
        """The breathing guide: when it starts (ms from the start of the response) and how long
        each breath in and out lasts; the relaxation's rest; or still, with nothing said."""
        breaths = self.state.breaths
        words = self.words
        count = (
            str(words["breaths_one"])
            if breaths == 1
            else str(words["breaths"]).format(count=breaths)
        )
        in_ms, out_ms = self.clock.breath_ms(self.narrator)
        guide: dict[str, Any] = {
            "kind": "still",
            "breaths": breaths,
            "inMs": in_ms,
            "outMs": out_ms,
            "startMs": 0,
            "restMs": 0,
            "label": str(words["rest"]) if relaxation else count,
            "inLabel": str(words["breathe_in"]),
            "outLabel": str(words["breathe_out"]),
            "doneLabel": str(words["release"]),
        }
        elapsed = 0
        for block in self.blocks:
            first = block[0].id
            if first.startswith(("hold_start", "relax_start")):
                start = elapsed + self.clock.line_ms(block[0]) + block[0].pause_ms
                if first.startswith("relax_start"):
                    rest = block[0].pause_ms
                    return {**guide, "kind": "rest", "startMs": start - rest, "restMs": rest}
                return {**guide, "kind": "breath", "startMs": start}
            elapsed += self.clock.block_ms(block)
        return guide

    def _flow(self) -> list[dict[str, Any]]:
        """Flow mode: the poses of this flow with their cues, each with when it is said."""
        coach, state = self.coach, self.state
        index_of = {
            (coach.part(seg).id, coach.part(seg).sides[seg.side]): i
            for i, seg in enumerate(coach.segments)
        }
        shown: list[tuple[int, int]] = []  # (segment, ms from the start of the response)
        elapsed = 0
        said = iter(say for say in self.turn.says)
        for block in self.blocks:
            if block[0].id.startswith("flow_pose."):
                say = next(s for s in said if s.key == Key.FLOW_POSE)
                found = index_of.get((str(say.params["part"]), str(say.params.get("side", ""))))
                if found is not None:
                    shown.append((found, elapsed))
            elapsed += self.clock.block_ms(block)
        if not shown:  # nothing flowed this turn: the flow that ends where the runner is
            first = coach.chunk_start(state)
            index: int | None = first
            while index is not None and index <= state.segment:
                shown.append((index, -1))
                index = coach.next_index(index, state)
        items = []
        previous = 0
        for segment, at in shown:
            seg = coach.segments[segment]
            part = coach.part(seg)
            side = part.sides[seg.side]
            items.append(
                {
                    "name": part.name,
                    "side": str(self.words["sides"].get(side, "")) if side else "",
                    "cues": [_on_side(part, cue, side) for cue in part.flow],
                    "atMs": at,
                    "gapMs": max(0, at - previous) if at >= 0 else -1,
                }
            )
            previous = max(previous, at)
        return items


def _on_side(part: Part, text: str, side: str) -> str:
    """Content is written for the first side; the second side has left and right swapped."""
    return swap_sides(text) if side and side != part.first_side else text
