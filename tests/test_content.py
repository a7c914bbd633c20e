"""The routine file: it loads, it says every word of the seed, and bad content fails loudly."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.routine.content import (
    DEFAULT_ROUTINE,
    SIDES,
    ContentError,
    Part,
    Pose,
    Routine,
    load_routine_file,
    parse_routine,
    swap_sides,
)

SEED = FIXTURES / "seed" / "post-run-yoga.txt"

POSE_IDS = [
    "forward_fold",
    "downward_dog",
    "high_lunge",
    "warrior_two",
    "extended_side_angle",
    "reverse_warrior",
    "low_lunge_side_bend",
    "cat_cow",
    "childs_pose",
    "pigeon",
    "relaxation",
]
# Every part (poses with their variations right after them), in the order the seed gives them.
PART_IDS = [
    "forward_fold",
    "downward_dog",
    "high_lunge",
    "advanced_high_lunge",
    "warrior_two",
    "extended_side_angle",
    "reverse_warrior",
    "low_lunge_side_bend",
    "cat_cow",
    "childs_pose",
    "pigeon",
    "reclined_pigeon",
    "relaxation",
]
# The side each two-sided part starts on, as the seed writes it; every other part is one-sided.
FIRST_SIDES = {
    "high_lunge": "right",
    "advanced_high_lunge": "right",
    "warrior_two": "right",
    "extended_side_angle": "right",
    "reverse_warrior": "right",
    "low_lunge_side_bend": "right",
    "pigeon": "right",
    "reclined_pigeon": "left",  # crosses the LEFT ankle over the right knee
}

# ---------------------------------------------------------------- normalisation
#
# The YAML keeps the seed's words, tidied for speech. To compare the two, both are lower-cased
# and curly quotes straightened; the seed then gets the tidy-ups below (seed spelling -> spoken
# spelling); finally apostrophes are dropped and any other punctuation or whitespace run is folded
# to one space.
SPOKEN_SPELLING = {
    "apposed": "opposed",
    "decompresses spine": "spine decompression",
    "switch it up on the right side": "switch it up on the other side",
    "switching slides": "switching sides",
    "gives this a go": "give this a go",
    "sits reach": "sit bones reach",
    "shoulders blades": "shoulder blades",
    "along side": "alongside",
    "fingers tips": "fingertips",
    "vertebrae by vertebrae": "vertebra by vertebra",
    "all 4's": "all fours",
    "figure of 4": "figure of four",
    "warrior ii": "warrior two",
    "lay on your back": "lie on your back",
    "inline with": "in line with",
    "&": " and ",
    "/": " and ",
}
_CURLY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def fold(text: str) -> str:
    """Lower case, straight quotes, no punctuation, single spaces, padded for whole-word search."""
    text = text.lower().translate(_CURLY).replace("'", "")
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", text).split()) + " "


def spoken(seed_text: str) -> str:
    """The seed's words as the YAML should say them, folded."""
    text = seed_text.lower().translate(_CURLY)
    for seed_spelling, spoken_spelling in SPOKEN_SPELLING.items():
        text = text.replace(seed_spelling, spoken_spelling)
    return fold(text)


# ---------------------------------------------------------------- the seed


@dataclass
class SeedPart:
    """One numbered list in the seed, with the target areas before it and the tip after it."""

    target_areas: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    tip: str | None = None


_STEP = re.compile(r"^\s*(\d+)\.\s+(.*\S)\s*$")
_TARGETS = re.compile(r"^\s*target areas:\s*(.*\S)\s*$", re.IGNORECASE)
_TIP = re.compile(r"^\s*top tip:\s*(.*\S)\s*$", re.IGNORECASE)


def parse_seed(text: str) -> list[SeedPart]:
    """Split the seed into parts: each numbering that restarts at 1 is a new part."""
    parts: list[SeedPart] = []
    pending_targets: list[str] = []
    for line in text.splitlines():
        if m := _TARGETS.match(line):
            pieces = re.split(r"[,&/]", m.group(1))
            pending_targets = [re.sub(r"^and\s+", "", p.strip()) for p in pieces if p.strip()]
        elif m := _STEP.match(line):
            number, step = int(m.group(1)), m.group(2)
            if number == 1:
                parts.append(SeedPart(target_areas=pending_targets))
                pending_targets = []
            assert parts, f"seed step {number} before any step 1: {line!r}"
            assert number == len(parts[-1].steps) + 1, f"seed steps out of order at {line!r}"
            parts[-1].steps.append(step)
        elif m := _TIP.match(line):
            assert parts and parts[-1].tip is None, f"seed tip with no part: {line!r}"
            parts[-1].tip = m.group(1)
    return parts


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_parts(seed_text: str) -> list[SeedPart]:
    parts = parse_seed(seed_text)
    assert len(parts) == len(PART_IDS), "the seed should have one numbered list per part"
    return parts


# ---------------------------------------------------------------- the routine


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    data = yaml.safe_load(DEFAULT_ROUTINE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def all_parts(routine: Routine) -> list[tuple[Pose, Part]]:
    """(pose, part) for every pose and variation, in routine order."""
    return [(pose, part) for pose in routine.poses for part in pose.parts]


def spoken_texts(routine: Routine) -> Iterator[tuple[str, str]]:
    """(where, text) for every string the skill may say."""
    for key in ("title", "author", "welcome", "closing"):
        yield key, getattr(routine, key)
    for _, part in all_parts(routine):
        yield f"{part.id}.name", part.name
        for area in part.target_areas:
            yield f"{part.id}.target_areas", area
        for i, step in enumerate(part.steps, 1):
            yield f"{part.id}.steps[{i}]", step.text
        if part.switch is not None:
            yield f"{part.id}.switch", part.switch.text
            if part.switch.last_side is not None:
                yield f"{part.id}.switch.last_side", part.switch.last_side
        for i, cue in enumerate(part.flow, 1):
            yield f"{part.id}.flow[{i}]", cue
        for key in ("tip", "intro", "offer"):
            value = getattr(part, key, None)
            if value:
                yield f"{part.id}.{key}", value


def test_routine_loads_with_poses_in_seed_order(routine: Routine) -> None:
    assert routine.id == "post_run"
    assert routine.author == "Amanda Wass"
    assert [pose.id for pose in routine.poses] == POSE_IDS
    assert [part.id for _, part in all_parts(routine)] == PART_IDS
    assert [pose.id for pose in routine.poses if pose.relaxation] == ["relaxation"]
    assert routine.pose("high_lunge").variations[0].each_side is True
    assert routine.pose("pigeon").variations[0].each_side is False
    assert routine.index_of("cat_cow") == POSE_IDS.index("cat_cow")
    assert load_routine_file(DEFAULT_ROUTINE) == routine


def said_steps(part: Part, seed_steps: int) -> list[str]:
    """A part's steps as the seed numbers them. The cue to switch sides, said after the hold,
    is the seed's last step (advanced high lunge) or the end of its last step (warrior two)."""
    texts = [step.text for step in part.steps]
    if part.switch is not None:
        if seed_steps == len(texts) + 1:
            texts.append(part.switch.text)
        else:
            texts[-1] = f"{texts[-1]} {part.switch.text}"
    return texts


def test_every_seed_step_is_spoken(routine: Routine, seed_parts: list[SeedPart]) -> None:
    missing = []
    for (_, part), seed in zip(all_parts(routine), seed_parts, strict=True):
        texts = said_steps(part, len(seed.steps))
        assert len(texts) == len(seed.steps), (
            f"{part.id}: {len(texts)} steps, the seed has {len(seed.steps)}"
        )
        for i, (text, seed_step) in enumerate(zip(texts, seed.steps, strict=True), 1):
            if spoken(seed_step) not in fold(text):
                missing.append(f"{part.id} step {i}: seed says {seed_step!r}, yaml {text!r}")
    assert not missing, "\n".join(missing)


def test_every_seed_tip_is_spoken(routine: Routine, seed_parts: list[SeedPart]) -> None:
    """A variation's seed tip belongs to its pose (the seed puts it after the variation)."""
    seen = 0
    for (pose, part), seed in zip(all_parts(routine), seed_parts, strict=True):
        if seed.tip is None:
            continue
        seen += 1
        owner, tip = (part.id, part.tip) if part.tip else (pose.id, pose.tip)
        assert tip is not None, f"{owner}: the seed's tip {seed.tip!r} is missing"
        assert spoken(seed.tip) in fold(tip), f"{owner}: tip {tip!r} lacks {seed.tip!r}"
    assert seen == 11  # every part but high lunge and pigeon, whose tips follow their variation
    assert all(pose.tip for pose in routine.poses), "every pose has a tip"


def test_every_seed_target_area_is_spoken(routine: Routine, seed_parts: list[SeedPart]) -> None:
    for (_, part), seed in zip(all_parts(routine), seed_parts, strict=True):
        areas = [fold(area) for area in part.target_areas]
        for seed_area in seed.target_areas:
            assert any(spoken(seed_area) in area for area in areas), (
                f"{part.id}: target area {seed_area!r} missing from {part.target_areas}"
            )
    assert [p.target_areas for p in seed_parts].count([]) == 1  # only advanced high lunge


def test_welcome_closing_and_offer_use_the_teachers_words(routine: Routine, seed_text: str) -> None:
    assert fold("no better path to recovery") in fold(routine.welcome)
    assert fold("around five breaths") in fold(routine.welcome)
    assert fold("dynamic flow") in fold(routine.welcome)
    closing = "I hope you enjoy the yoga routine and that it helps to ease some of those aches"
    assert fold(closing) in spoken(seed_text)
    assert fold(closing) in fold(routine.closing)
    offer = routine.pose("high_lunge").variations[0].offer
    assert fold("if youre feeling up for it") in fold(offer)
    assert fold("while youre in high lunge") in fold(offer)


# ---------------------------------------------------------------- sides


def test_two_sided_parts_and_their_first_side(routine: Routine, raw: dict[str, Any]) -> None:
    parts = {part.id: part for _, part in all_parts(routine)}
    assert {pid: p.first_side for pid, p in parts.items() if p.two_sided} == FIRST_SIDES
    for part in parts.values():
        if part.two_sided:
            assert part.first_side in SIDES
            assert part.sides == (
                part.first_side,
                "left" if part.first_side == "right" else "right",
            )
        else:
            assert part.sides == ("",)
    # The YAML states first_side on every two-sided part rather than leaning on the default.
    raw_parts = [p for pose in raw["poses"] for p in (pose, *pose.get("variations", []))]
    for raw_part in raw_parts:
        if raw_part.get("two_sided"):
            assert raw_part.get("first_side") in SIDES, raw_part["id"]


def test_only_the_switch_cue_says_to_switch(routine: Routine) -> None:
    """Steps are said before the hold, so none of them may tell the runner to change sides;
    that is the switch cue's job, said after the hold, and never on the last side."""
    for _, part in all_parts(routine):
        for i, step in enumerate(part.steps, 1):
            assert "switch" not in step.text.lower(), f"{part.id} step {i}: {step.text!r}"
        for cue in part.flow:
            assert "switch" not in cue.lower(), f"{part.id} flow cue {cue!r}"
        if part.switch is not None:
            assert part.two_sided, part.id
            assert part.switch.for_side(last=False) == part.switch.text
            last = part.switch.for_side(last=True)
            assert last is None or "switch" not in last.lower(), part.id
            assert " right " not in fold(part.switch.text), "a switch cue names no side"
            assert " left " not in fold(part.switch.text), "a switch cue names no side"
    warrior = routine.pose("warrior_two")
    assert warrior.switch is not None and warrior.switch.text == "Switch when ready!"
    assert warrior.steps[-1].text.endswith("stacked over pelvis.")


def test_second_side_of_a_real_step(routine: Routine) -> None:
    pigeon = routine.pose("pigeon").steps[0].text
    assert "draw left knee forwards" in swap_sides(pigeon)
    assert "behind your left wrist with left foot" in swap_sides(pigeon)
    reclined = routine.pose("pigeon").variations[0].steps[1].text
    assert swap_sides(reclined).startswith("Cross right ankle over left knee")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("right foot forward", "left foot forward"),
        ("Left leg extended behind", "Right leg extended behind"),
        ("RIGHT", "LEFT"),
        ("left-hand side, right.", "right-hand side, left."),
        ("bright upright straighten leftover", "bright upright straighten leftover"),
        ("Stand upright, bright eyes, right hand", "Stand upright, bright eyes, left hand"),
    ],
)
def test_swap_sides(text: str, expected: str) -> None:
    assert swap_sides(text) == expected


_WORDS = ["right", "left", "Right", "Left", "RIGHT", "LEFT", "bright", "upright", "straighten"]
_WORDS += ["leftover", "rightly", "foot", "knee", "arm", "the", "Alright", "lefty", "rIGHT"]
_SEPARATORS = [" ", ", ", ". ", "-", "\n", "'s ", ": ", " (", ") "]


@st.composite
def side_text(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(_WORDS), max_size=20))
    out = ""
    for word in words:
        out += word + draw(st.sampled_from(_SEPARATORS))
    return out


@settings(database=None)
@given(side_text())
def test_swap_sides_twice_is_identity(text: str) -> None:
    assert swap_sides(swap_sides(text)) == text


@settings(database=None)
@given(side_text())
def test_swap_sides_exchanges_the_counts(text: str) -> None:
    def count(word: str, s: str) -> int:
        return len(re.findall(rf"\b{word}\b", s))

    swapped = swap_sides(text)
    for a, b in (("right", "left"), ("Right", "Left"), ("RIGHT", "LEFT")):
        assert count(a, swapped) == count(b, text)
        assert count(b, swapped) == count(a, text)
    for other in ("bright", "upright", "straighten", "leftover", "rightly", "Alright", "rIGHT"):
        assert count(other, swapped) == count(other, text)


# ---------------------------------------------------------------- bad content


def _pose(data: dict[str, Any], pose_id: str) -> dict[str, Any]:
    return next(p for p in data["poses"] if p["id"] == pose_id)


def _set(pose_id: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def breaker(data: dict[str, Any]) -> None:
        _pose(data, pose_id)[key] = value

    return breaker


def _delete(pose_id: str, key: str) -> Callable[[dict[str, Any]], None]:
    def breaker(data: dict[str, Any]) -> None:
        del _pose(data, pose_id)[key]

    return breaker


def _set_step(pose_id: str, index: int, value: Any) -> Callable[[dict[str, Any]], None]:
    def breaker(data: dict[str, Any]) -> None:
        _pose(data, pose_id)["steps"][index] = value

    return breaker


def _set_variation(pose_id: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def breaker(data: dict[str, Any]) -> None:
        _pose(data, pose_id)["variations"][0][key] = value

    return breaker


BAD_CONTENT: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    ("missing steps", _delete("high_lunge", "steps"), ["high_lunge", "'steps'"]),
    ("empty steps", _set("cat_cow", "steps", []), ["cat_cow", "'steps'"]),
    ("empty step text", _set_step("forward_fold", 1, ""), ["forward_fold", "step 2", "'text'"]),
    ("blank step", _set_step("childs_pose", 2, None), ["childs_pose", "step 3", "'text'"]),
    (
        "empty step mapping text",
        _set_step("warrior_two", 6, {"text": "  "}),
        ["warrior_two", "step 7", "'text'"],
    ),
    (
        "a step with an unknown field",
        _set_step("warrior_two", 6, {"text": "Breathe.", "last_side": "Breathe."}),
        ["warrior_two", "step 7", "'last_side'"],
    ),
    (
        "empty switch last_side",
        _set("warrior_two", "switch", {"text": "Switch when ready.", "last_side": ""}),
        ["warrior_two", "switch", "'last_side'"],
    ),
    (
        "switch on a one-sided pose",
        _set("cat_cow", "switch", "Switch when ready."),
        ["cat_cow", "'switch'", "two-sided"],
    ),
    ("non-list target_areas", _set("pigeon", "target_areas", "hips"), ["pigeon", "'target_areas'"]),
    ("bad first_side", _set("warrior_two", "first_side", "up"), ["warrior_two", "'first_side'"]),
    ("duplicate pose id", _set("childs_pose", "id", "cat_cow"), ["cat_cow", "'id'", "twice"]),
    (
        "duplicate variation id",
        _set_variation("pigeon", "id", "pigeon"),
        ["pigeon", "'id'", "twice"],
    ),
    ("bad id", _set("childs_pose", "id", "Child's pose"), ["Child's pose", "'id'"]),
    ("non-bool two_sided", _set("warrior_two", "two_sided", "yes"), ["warrior_two", "'two_sided'"]),
    ("missing flow", _delete("downward_dog", "flow"), ["downward_dog", "'flow'"]),
    ("missing name", _delete("reverse_warrior", "name"), ["reverse_warrior", "'name'"]),
    (
        "non-bool each_side",
        _set_variation("high_lunge", "each_side", "no"),
        ["high_lunge", "advanced_high_lunge", "'each_side'"],
    ),
    (
        "variation missing offer",
        _set_variation("pigeon", "offer", None),
        ["pigeon", "reclined_pigeon", "'offer'"],
    ),
    (
        "variations not a list",
        _set("pigeon", "variations", {"id": "reclined_pigeon"}),
        ["pigeon", "'variations'"],
    ),
]


@pytest.mark.parametrize(
    ("breaker", "expected"),
    [pytest.param(b, e, id=name) for name, b, e in BAD_CONTENT],
)
def test_bad_content_names_pose_and_field(
    raw: dict[str, Any], breaker: Callable[[dict[str, Any]], None], expected: list[str]
) -> None:
    data = copy.deepcopy(raw)
    parse_routine(data, "post_run.yaml")  # the copy itself is fine
    breaker(data)
    with pytest.raises(ContentError) as caught:
        parse_routine(data, "post_run.yaml")
    message = str(caught.value)
    for piece in expected:
        assert piece in message, f"{piece!r} not in {message!r}"


def test_unreadable_file_is_a_content_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("poses: [\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"broken\.yaml"):
        load_routine_file(broken)
    with pytest.raises(ContentError, match=r"missing\.yaml"):
        load_routine_file(tmp_path / "missing.yaml")


# ---------------------------------------------------------------- spoken text


def test_spoken_text_is_clean(routine: Routine) -> None:
    bad = re.compile(r"[0-9&\u2018\u2019\u201c\u201d\u2013\u2014\u00a0]|4's")
    problems = [f"{where}: {text!r}" for where, text in spoken_texts(routine) if bad.search(text)]
    assert not problems, "\n".join(problems)


def test_steps_and_cues_read_as_sentences(routine: Routine) -> None:
    for where, text in spoken_texts(routine):
        if ".steps[" in where or ".flow[" in where or where.endswith((".tip", ".offer")):
            assert text[0].isupper(), f"{where}: {text!r} should start with a capital"
            assert text[-1] in ".!?", f"{where}: {text!r} should end a sentence"


def test_flow_cues_and_synonyms(routine: Routine) -> None:
    owner: dict[str, str] = {}
    for _, part in all_parts(routine):
        assert 2 <= len(part.flow) <= 4, f"{part.id}: {len(part.flow)} flow cues"
    for pose in routine.poses:
        assert pose.synonyms, f"{pose.id} has no synonyms"
        for synonym in pose.synonyms:
            assert synonym == synonym.lower(), f"{pose.id}: synonym {synonym!r} not lower case"
            assert synonym not in owner, f"{synonym!r} names {owner.get(synonym)} and {pose.id}"
            owner[synonym] = pose.id
    for expected, pose_id in [
        ("down dog", "downward_dog"),
        ("downward facing dog", "downward_dog"),
        ("dog pose", "downward_dog"),
        ("warrior two", "warrior_two"),
        ("second warrior", "warrior_two"),
        ("cat cow", "cat_cow"),
        ("cat and cow", "cat_cow"),
        ("child's pose", "childs_pose"),
        ("childs pose", "childs_pose"),
        ("savasana", "relaxation"),
        ("corpse pose", "relaxation"),
        ("relaxation", "relaxation"),
    ]:
        assert owner.get(expected) == pose_id, expected


def _pose(data: dict[str, Any], pose_id: str) -> dict[str, Any]:
    return next(p for p in data["poses"] if p["id"] == pose_id)


@pytest.mark.parametrize(
    ("breakage", "pose_id", "field_name"),
    [
        (lambda d: _pose(d, "pigeon").update({"tpi": "A misspelt tip"}), "pigeon", "tpi"),
        (lambda d: _pose(d, "cat_cow")["steps"].__setitem__(0, {"txt": "x"}), "cat_cow", "txt"),
        (
            lambda d: _pose(d, "childs_pose")["synonyms"].append("down dog"),
            "childs_pose",
            "synonyms",
        ),
        (
            lambda d: (
                _pose(d, "downward_dog").update(
                    {"variations": [copy.deepcopy(_pose(d, "high_lunge")["variations"][0])]}
                )
                or _pose(d, "high_lunge").pop("variations")
            ),
            "downward_dog",
            "two_sided",
        ),
    ],
    ids=["unknown field", "unknown step field", "synonym of another pose", "sides mismatch"],
)
def test_more_bad_content_fails_at_load_naming_pose_and_field(
    raw: dict[str, Any], breakage: Callable[[dict[str, Any]], Any], pose_id: str, field_name: str
) -> None:
    data = copy.deepcopy(raw)
    breakage(data)
    with pytest.raises(ContentError) as caught:
        parse_routine(data, "post_run.yaml")
    assert pose_id in str(caught.value)
    assert field_name in str(caught.value)
