"""The routine as data: load and validate the YAML routine file into immutable objects.

Every spoken word of the routine lives in ``routines/*.yaml`` beside this module, which only
reads it.

Content is written for the first side of a two-sided pose; :func:`swap_sides` makes the second.
"""

# No `from __future__ import annotations` here: NamedTuple would compile each string annotation
# at every cold start (README, "Performance").

import re
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple, TypeAlias

from skill.datafiles import read_yaml as read_yaml  # re-exported for the other data files
from skill.routine.names import fold

ROUTINES_DIR = Path(__file__).parent / "routines"
DEFAULT_ROUTINE = ROUTINES_DIR / "post_run.yaml"
SIDES = ("right", "left")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class ContentError(ValueError):
    """The routine file is malformed; the message names the pose and the field."""


class Step(NamedTuple):
    """One numbered step, said before the hold."""

    text: str


class Switch(NamedTuple):
    """What a two-sided part says after the hold: ``text`` (the cue to change sides) after each
    side but the last, and ``last_side`` (if any) after the last one instead."""

    text: str
    last_side: str | None = None

    def for_side(self, last: bool) -> str | None:
        return self.last_side if last else self.text


def sides_of(two_sided: bool, first_side: str) -> tuple[str, ...]:
    """Side labels in the order they are done: ("right", "left"), or ("",) for one-sided."""
    return (first_side, other_side(first_side)) if two_sided else ("",)


class Variation(NamedTuple):
    """A variation of a pose (the advanced high lunge, reclined pigeon): an optional extra
    offered with yes/no; ``each_side`` puts it after the pose on each side. The fields up to
    ``switch`` are every :data:`Part`'s."""

    id: str
    name: str
    target_areas: tuple[str, ...]
    steps: tuple[Step, ...]
    flow: tuple[str, ...]
    two_sided: bool
    first_side: str
    tip: str | None = None
    intro: str | None = None
    switch: Switch | None = None
    offer: str = ""
    each_side: bool = True

    @property
    def sides(self) -> tuple[str, ...]:
        return sides_of(self.two_sided, self.first_side)


class Pose(NamedTuple):
    """A pose of the routine, with the other names a runner may call it by, its variations,
    and whether it is the closing relaxation."""

    id: str
    name: str
    target_areas: tuple[str, ...]
    steps: tuple[Step, ...]
    flow: tuple[str, ...]
    two_sided: bool
    first_side: str
    tip: str | None = None
    intro: str | None = None
    switch: Switch | None = None
    synonyms: tuple[str, ...] = ()
    variations: tuple[Variation, ...] = ()
    relaxation: bool = False

    @property
    def sides(self) -> tuple[str, ...]:
        return sides_of(self.two_sided, self.first_side)

    @property
    def parts(self) -> "tuple[Part, ...]":
        """The pose, then its variations."""
        return (self, *self.variations)


Part: TypeAlias = Pose | Variation
"""A pose, or a variation of one: what the routine says and walks side by side. (A NamedTuple
cannot extend another, so the two repeat the fields they share.)"""


class FocusArea(NamedTuple):
    """A part of the body a runner may ask to work on, and the poses that work it: those with
    one of ``target_areas``, and ``poses`` named outright."""

    id: str
    name: str
    target_areas: tuple[str, ...] = ()
    poses: tuple[str, ...] = ()


class Routine(NamedTuple):
    """The routine as its file says it: its words of welcome and closing, the poses in order,
    the quick session and the focus areas."""

    id: str
    title: str
    author: str
    welcome: str
    closing: str
    poses: tuple[Pose, ...] = ()
    quick: tuple[str, ...] = ()
    """The poses of the quick session, by id (the relaxation always closes it)."""
    focus_areas: tuple[FocusArea, ...] = ()

    def pose(self, pose_id: str) -> Pose:
        for pose in self.poses:
            if pose.id == pose_id:
                return pose
        raise KeyError(pose_id)

    def index_of(self, pose_id: str) -> int | None:
        for i, pose in enumerate(self.poses):
            if pose.id == pose_id:
                return i
        return None


def other_side(side: str) -> str:
    return {"right": "left", "left": "right"}.get(side, side)


_SIDE_WORD = re.compile(r"\b(right|left|Right|Left|RIGHT|LEFT)\b")
_SWAP = {
    "right": "left",
    "left": "right",
    "Right": "Left",
    "Left": "Right",
    "RIGHT": "LEFT",
    "LEFT": "RIGHT",
}


def swap_sides(text: str) -> str:
    """Swap every whole word left/right, keeping its capitals ("Right foot" -> "Left foot")."""
    return _SIDE_WORD.sub(lambda m: _SWAP[m.group(0)], text)


# ---------------------------------------------------------------- loading and validation


class _Reader:
    """Reads one mapping, naming where it is in every error."""

    def __init__(self, data: Any, where: str, fields: frozenset[str] | None = None) -> None:
        if not isinstance(data, dict):
            raise ContentError(f"{where}: expected a mapping, got {type(data).__name__}")
        self.data = data
        self.where = where
        unknown = sorted(str(key) for key in data if fields is not None and key not in fields)
        if unknown:  # a misspelt field would otherwise be silently left out
            raise ContentError(f"{where}: field '{unknown[0]}' is not a known field")

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise ContentError(f"{self.where}: field '{key}' is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            raise ContentError(f"{self.where}: field '{key}' must be non-empty text")
        return " ".join(value.split())

    def texts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None and not required:
            return ()
        if not isinstance(value, list) or not value:
            raise ContentError(f"{self.where}: field '{key}' must be a non-empty list")
        out = []
        for i, item in enumerate(value, 1):
            if not isinstance(item, str) or not item.strip():
                raise ContentError(f"{self.where}: field '{key}' item {i} must be non-empty text")
            out.append(" ".join(item.split()))
        return tuple(out)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise ContentError(f"{self.where}: field '{key}' must be true or false")
        return value

    def ident(self) -> str:
        value = self.text("id")
        assert value is not None
        if not _ID.match(value):
            raise ContentError(f"{self.where}: field 'id' must be lower_snake_case, got {value!r}")
        return value

    def steps(self) -> tuple[Step, ...]:
        raw = self.data.get("steps")
        if not isinstance(raw, list) or not raw:
            raise ContentError(f"{self.where}: field 'steps' must be a non-empty list")
        steps = []
        for i, item in enumerate(raw, 1):
            if item is None or isinstance(item, str):  # a bare "-" in YAML is None
                item = {"text": item}
            step = _Reader(item, f"{self.where}, step {i}", STEP_FIELDS)
            text = step.text("text")
            assert text is not None
            steps.append(Step(text=text))
        return tuple(steps)

    def switch(self, two_sided: bool) -> Switch | None:
        raw = self.data.get("switch")
        if raw is None:
            return None
        if isinstance(raw, str):
            raw = {"text": raw}
        if not two_sided:
            raise ContentError(f"{self.where}: field 'switch' needs a two-sided part")
        reader = _Reader(raw, f"{self.where}, switch", SWITCH_FIELDS)
        text = reader.text("text")
        assert text is not None
        return Switch(text=text, last_side=reader.text("last_side", required=False))

    def part_fields(self) -> dict[str, Any]:
        two_sided = self.flag("two_sided", False)
        first_side = self.text("first_side", required=False) or "right"
        if first_side not in SIDES:
            raise ContentError(f"{self.where}: field 'first_side' must be right or left")
        return {
            "id": self.ident(),
            "name": self.text("name"),
            "target_areas": self.texts("target_areas"),
            "steps": self.steps(),
            "flow": self.texts("flow"),
            "two_sided": two_sided,
            "first_side": first_side,
            "tip": self.text("tip", required=False),
            "intro": self.text("intro", required=False),
            "switch": self.switch(two_sided),
        }


PART_FIELDS = frozenset(
    {
        "id",
        "name",
        "target_areas",
        "steps",
        "flow",
        "two_sided",
        "first_side",
        "tip",
        "intro",
        "switch",
    }
)
POSE_FIELDS = PART_FIELDS | {"synonyms", "variations", "relaxation"}
VARIATION_FIELDS = PART_FIELDS | {"offer", "each_side"}
STEP_FIELDS = frozenset({"text"})
SWITCH_FIELDS = frozenset({"text", "last_side"})
ROUTINE_FIELDS = frozenset(
    {"id", "title", "author", "welcome", "closing", "poses", "quick", "focus_areas"}
)
FOCUS_FIELDS = frozenset({"id", "name", "target_areas", "poses"})


def parse_routine(data: Any, source: str = "routine") -> Routine:
    """Build a :class:`Routine` from parsed YAML, raising :class:`ContentError` on any flaw."""
    top = _Reader(data, source, ROUTINE_FIELDS)
    raw_poses = top.data.get("poses")
    if not isinstance(raw_poses, list) or not raw_poses:
        raise ContentError(f"{source}: field 'poses' must be a non-empty list")
    poses: list[Pose] = []
    seen: set[str] = set()
    names: dict[str, str] = {}  # what a runner may say, to the pose it names
    for n, raw in enumerate(raw_poses, 1):
        label = raw.get("id") if isinstance(raw, dict) else None
        reader = _Reader(raw, f"{source}: pose {n} ({label or 'no id'})", POSE_FIELDS)
        fields = reader.part_fields()
        raw_variations = reader.data.get("variations")
        if raw_variations is None:
            raw_variations = []
        if not isinstance(raw_variations, list):
            raise ContentError(f"{reader.where}: field 'variations' must be a list")
        variations = []
        for v, raw_var in enumerate(raw_variations, 1):
            vlabel = raw_var.get("id") if isinstance(raw_var, dict) else None
            vr = _Reader(
                raw_var, f"{reader.where}, variation {v} ({vlabel or 'no id'})", VARIATION_FIELDS
            )
            variations.append(
                Variation(
                    **vr.part_fields(),
                    offer=vr.text("offer") or "",
                    each_side=vr.flag("each_side", True),
                )
            )
        pose = Pose(
            **fields,
            synonyms=reader.texts("synonyms", required=False),
            variations=tuple(variations),
            relaxation=reader.flag("relaxation", False),
        )
        for ident in (pose.id, *(v.id for v in pose.variations)):
            if ident in seen:
                raise ContentError(f"{reader.where}: field 'id' {ident!r} is used twice")
            seen.add(ident)
        for variation in pose.variations:
            if variation.each_side and variation.two_sided and not pose.two_sided:
                raise ContentError(
                    f"{reader.where}: field 'two_sided' of variation {variation.id!r} needs a"
                    " two-sided pose to follow side by side (set each_side: false)"
                )
        for name in (pose.name, *pose.synonyms):
            spoken = fold(name)
            if names.setdefault(spoken, pose.id) != pose.id:
                raise ContentError(
                    f"{reader.where}: field 'synonyms' {name!r} already names {names[spoken]!r}"
                )
        poses.append(pose)
    return Routine(
        id=top.ident(),
        title=top.text("title") or "",
        author=top.text("author") or "",
        welcome=top.text("welcome") or "",
        closing=top.text("closing") or "",
        poses=tuple(poses),
        quick=_quick(top, poses),
        focus_areas=_focus_areas(top, poses),
    )


def _quick(top: _Reader, poses: list[Pose]) -> tuple[str, ...]:
    ids = {p.id for p in poses} | {v.id for p in poses for v in p.variations}
    quick = top.texts("quick", required=False)
    for ident in quick:
        if ident not in ids:
            raise ContentError(f"{top.where}: field 'quick' names no pose {ident!r}")
    return quick


def _focus_areas(top: _Reader, poses: list[Pose]) -> tuple[FocusArea, ...]:
    raw = top.data.get("focus_areas") or []
    if not isinstance(raw, list):
        raise ContentError(f"{top.where}: field 'focus_areas' must be a list")
    parts = [part for pose in poses for part in pose.parts]
    known_areas = {fold(area) for part in parts for area in part.target_areas}
    ids = {part.id for part in parts}
    areas: list[FocusArea] = []
    for n, item in enumerate(raw, 1):
        label = item.get("id") if isinstance(item, dict) else None
        reader = _Reader(item, f"{top.where}: focus area {n} ({label or 'no id'})", FOCUS_FIELDS)
        area = FocusArea(
            id=reader.ident(),
            name=reader.text("name") or "",
            target_areas=reader.texts("target_areas", required=False),
            poses=reader.texts("poses", required=False),
        )
        for target in area.target_areas:
            if fold(target) not in known_areas:
                raise ContentError(f"{reader.where}: field 'target_areas' {target!r} is no pose's")
        for ident in area.poses:
            if ident not in ids:
                raise ContentError(f"{reader.where}: field 'poses' names no pose {ident!r}")
        if not area.target_areas and not area.poses:
            raise ContentError(f"{reader.where}: field 'target_areas' or 'poses' is needed")
        if any(a.id == area.id for a in areas):
            raise ContentError(f"{reader.where}: field 'id' {area.id!r} is used twice")
        areas.append(area)
    return tuple(areas)


def load_routine_file(path: Path) -> Routine:
    try:
        data = read_yaml(path)
    except (OSError, ValueError) as exc:  # ValueError: DataFileError, bad UTF-8
        raise ContentError(f"{path.name}: cannot read routine: {exc}") from exc
    return parse_routine(data, path.name)


@cache
def load_routine(path: Path = DEFAULT_ROUTINE) -> Routine:
    """The routine, parsed once per process."""
    return load_routine_file(path)
