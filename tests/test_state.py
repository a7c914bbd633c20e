"""The state machine (skill/state.py): every Coach operation, serialisation, and properties.

Expected orders, sides and texts are worked out here from the routine YAML itself, not copied
from ``Coach.segments``; the narration is checked through :class:`~skill.speech.narration.Narrator`.
"""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from typing import Any

import pytest
import yaml
from alexa_limits import check_ssml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from skill.routine.coach import Coach
from skill.routine.codec import STATE_VERSION, decode, encode
from skill.routine.content import DEFAULT_ROUTINE, load_routine, parse_routine
from skill.routine.says import Key, Say
from skill.routine.state import (
    ASK_BREATHS,
    ASK_STEP,
    DEFAULT_BREATHS,
    FLOW_SEGMENTS_PER_TURN,
    MAX_BREATHS,
    MIN_BREATHS,
    ON_BREAK,
    RELAX_SECONDS_PER_BREATH,
    RESUME,
    State,
    Turn,
)
from skill.routine.state import offer as offer_to
from skill.speech.narration import PROMPTS_DIR, Line, Narrator
from skill.speech.ssml import to_ssml

ROUTINE = load_routine()
COACH = Coach(ROUTINE)
NARRATOR = Narrator(ROUTINE)
RAW: dict[str, Any] = yaml.safe_load(DEFAULT_ROUTINE.read_text(encoding="utf-8"))
PROMPTS: dict[str, Any] = yaml.safe_load((PROMPTS_DIR / "en.yaml").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------- the routine, from YAML


def _norm(text: str) -> str:
    return " ".join(text.split())


def _raw_parts() -> dict[str, dict[str, Any]]:
    parts: dict[str, dict[str, Any]] = {}
    for pose in RAW["poses"]:
        parts[pose["id"]] = pose
        for var in pose.get("variations") or []:
            parts[var["id"]] = var
    return parts


RAW_PARTS = _raw_parts()
POSE_IDS = [pose["id"] for pose in RAW["poses"]]
VARIATION_IDS = [v["id"] for pose in RAW["poses"] for v in pose.get("variations") or []]
TWO_SIDED = [pid for pid, part in RAW_PARTS.items() if part.get("two_sided")]
ONE_SIDED = [pid for pid, part in RAW_PARTS.items() if not part.get("two_sided")]


def raw_sides(part: dict[str, Any]) -> list[str]:
    """The side labels in the order the YAML says they are done."""
    if not part.get("two_sided"):
        return [""]
    first = part.get("first_side", "right")
    return [first, "left" if first == "right" else "right"]


def expected_walk(accepted: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(part id, side) in routine order: each_side variations follow the pose on each side,
    the others come after the pose's last side; only accepted variations are included."""
    out: list[tuple[str, str]] = []
    for pose in RAW["poses"]:
        variations = [v for v in pose.get("variations") or [] if v["id"] in accepted]
        each = [v for v in variations if v.get("each_side", True)]
        after = [v for v in variations if not v.get("each_side", True)]
        for i, side in enumerate(raw_sides(pose)):
            out.append((pose["id"], side))
            out.extend((v["id"], raw_sides(v)[i]) for v in each)
        for v in after:
            out.extend((v["id"], s) for s in raw_sides(v))
    return out


def raw_step_text(part_id: str, number: int, last: bool) -> str:
    item = RAW_PARTS[part_id]["steps"][number - 1]
    if isinstance(item, str):
        return _norm(item)
    if last and item.get("last_side"):
        return _norm(item["last_side"])
    return _norm(item["text"])


_LR = {"right": "left", "left": "right", "Right": "Left", "Left": "Right"}


def lr_swapped(text: str) -> str:
    return re.sub(r"\b(right|left|Right|Left)\b", lambda m: _LR[m.group(0)], text)


# ---------------------------------------------------------------------- helpers


def where(state: State) -> tuple[str, str]:
    return COACH.current_part(state).id, COACH.side_label(state)


def index_of(part_id: str, side: str = "") -> int:
    for i, seg in enumerate(COACH.segments):
        if COACH.part(seg).id == part_id and COACH.part(seg).sides[seg.side] == side:
            return i
    raise KeyError((part_id, side))


def at(part_id: str, side: str = "", **changes: Any) -> State:
    """An active state that has just heard this part on this side through to its hold."""
    index = index_of(part_id, side)
    part = COACH.part(COACH.segments[index])
    accepted = (part_id,) if part_id in VARIATION_IDS else ()
    base = State(
        segment=index,
        step=len(part.steps) - 1,
        status="active",
        heard=True,
        accepted=accepted,
    )
    return base._replace(**changes)


def keys(says: tuple[Say, ...] | Turn) -> list[str]:
    if isinstance(says, Turn):
        says = says.says
    return [say.key for say in says]


def lines(says: tuple[Say, ...] | Turn) -> list[Line]:
    if isinstance(says, Turn):
        says = says.says
    return NARRATOR.lines(says)


def texts(says: tuple[Say, ...] | Turn) -> str:
    return " ".join(line.text for line in lines(says))


def step_lines(turn: Turn) -> dict[int, str]:
    """Step number -> spoken text, from the narrator's step lines (ids step.<part>.<n>.<side>)."""
    return {
        int(line.id.split(".")[2]): line.text for line in lines(turn) if line.id.startswith("step.")
    }


def walk(state: State, op: str = "next") -> list[tuple[str, str, Turn]]:
    """Say ``op`` (next, or yes to offers) until the session ends; returns where each turn was."""
    out = []
    for _ in range(200):
        turn = COACH.yes(state) if op == "yes" and state.offered else COACH.next(state)
        out.append((*where(turn.state), turn))
        state = turn.state
        if turn.end_session:
            return out
    raise AssertionError("the routine never finished")


def visited(trail: list[tuple[str, str, Turn]]) -> list[tuple[str, str]]:
    """The narrated segments of a walk, consecutive repeats (offers, the finish) collapsed."""
    out: list[tuple[str, str]] = []
    for part_id, side, turn in trail:
        if turn.end_session:
            continue
        if not out or out[-1] != (part_id, side):
            out.append((part_id, side))
    return out


def roundtrip(state: State) -> State:
    return decode(COACH, json.loads(json.dumps(encode(COACH, state))))


def assert_valid(state: State, coach: Coach = COACH) -> None:
    assert isinstance(state.segment, int) and not isinstance(state.segment, bool)
    assert 0 <= state.segment < len(coach.segments)
    part = coach.current_part(state)
    assert isinstance(state.step, int) and not isinstance(state.step, bool)
    assert 0 <= state.step < len(part.steps)
    assert isinstance(state.breaths, int) and not isinstance(state.breaths, bool)
    assert MIN_BREATHS <= state.breaths <= MAX_BREATHS
    assert state.mode in ("hold", "flow")
    assert state.status in ("idle", "active", "paused", "finished")
    assert isinstance(state.heard, bool)
    variations = {v.id for p in coach.routine.poses for v in p.variations}
    assert (
        state.pending is None
        or state.pending in (RESUME, ASK_BREATHS, ASK_STEP, ON_BREAK)
        or (state.offered is not None and state.offered in variations)
    )
    assert state.plan.kind in ("full", "quick", "focus")
    assert state.plan.kind != "focus" or state.plan.area in coach.area_ids
    if state.started:
        assert coach.included(state.segment, state), "a started session outside its plan"
    assert set(state.accepted) <= variations
    assert set(state.declined) <= variations
    seg = coach.segments[state.segment]
    if seg.variation is not None:
        assert part.id in state.accepted, "on a variation that was never accepted"


# ---------------------------------------------------------------------- start


def test_start_narrates_pose_one_in_full() -> None:
    turn = COACH.start(State())
    pose = RAW["poses"][0]
    steps = len(pose["steps"])
    assert keys(turn) == ["welcome", "intro", *["step"] * steps, "hold", "tip", "next_hint"]
    assert [s.params["step"] for s in turn.says if s.key == "step"] == list(range(1, steps + 1))
    hold = next(s for s in turn.says if s.key == "hold")
    assert hold.params == {"breaths": DEFAULT_BREATHS}
    assert turn.state == State(
        segment=0, step=steps - 1, status="active", heard=True, mode="hold", breaths=5
    )
    assert not turn.end_session
    assert keys(turn.reprompt) == ["next_reprompt"]

    spoken = lines(turn)
    said = [line.text for line in spoken]
    assert said[0] == _norm(RAW["welcome"])
    assert f"Pose 1: {pose['name']}." in said
    for n, step in enumerate(pose["steps"], 1):
        assert f"Step {n}. {_norm(step)}" in said
    assert [line.id for line in spoken].count("breath_in") == DEFAULT_BREATHS
    assert f"Top tip: {_norm(pose['tip'])}" in said
    assert said[-1] == PROMPTS["next_hint"]


def test_start_names_the_first_side_of_a_two_sided_pose() -> None:
    turn = COACH.go_to(State(status="active"), "high_lunge")
    assert keys(turn)[:2] == ["intro", "step"]
    said = texts(turn)
    assert "Pose 3: High lunge." in said
    assert "We'll start on the right side." in said
    assert "This one is good for your quads, glutes, psoas and shoulders." in said


def test_start_keeps_mode_and_breaths() -> None:
    turn = COACH.start(State(breaths=9))
    assert turn.state.breaths == 9
    assert turn.says[0] == Say(Key.WELCOME, {"mode": "hold"})
    assert [line.id for line in lines(turn)].count("breath_in") == 9


def test_start_mid_routine_resumes_rather_than_restarting() -> None:
    state = at("warrior_two", "left")
    turn = COACH.start(state)
    assert where(turn.state) == ("warrior_two", "left")
    assert keys(turn)[0] == "intro_side"
    # "start" while paused takes the paused pose up again too
    assert where(COACH.start(state._replace(status="paused")).state) == ("warrior_two", "left")


# ---------------------------------------------------------------------- next: the whole walk


def test_next_walks_every_segment_in_order_declining_offers() -> None:
    # "next" while an offer is pending counts as no.
    trail = walk(COACH.start(State()).state)
    assert [("forward_fold", ""), *visited(trail)] == expected_walk()
    assert trail[-1][2].end_session


def test_yes_to_every_offer_walks_the_variations_on_both_sides() -> None:
    trail = walk(COACH.start(State()).state, op="yes")
    assert [("forward_fold", ""), *visited(trail)] == expected_walk(frozenset(VARIATION_IDS))


def test_expected_walk_sanity() -> None:
    """The independent computation agrees with the plain facts of the routine."""
    walk_all = expected_walk(frozenset(VARIATION_IDS))
    i = walk_all.index(("high_lunge", "right"))
    assert walk_all[i : i + 4] == [
        ("high_lunge", "right"),
        ("advanced_high_lunge", "right"),
        ("high_lunge", "left"),
        ("advanced_high_lunge", "left"),
    ]
    j = walk_all.index(("pigeon", "left"))
    assert walk_all[j + 1 : j + 3] == [("reclined_pigeon", "left"), ("reclined_pigeon", "right")]
    assert walk_all[-1] == ("relaxation", "")
    assert len(walk_all) == len(COACH.segments)


@pytest.mark.parametrize("part_id", TWO_SIDED)
def test_side_labels_follow_first_side(part_id: str) -> None:
    first = RAW_PARTS[part_id].get("first_side", "right")
    first_index = min(i for i, s in enumerate(COACH.segments) if COACH.part(s).id == part_id)
    state = COACH.go_to(State(status="active"), part_id).state
    assert state.segment == first_index
    assert COACH.side_label(state) == first
    other = COACH.switch_side(state).state
    assert COACH.side_label(other) == ("left" if first == "right" else "right")


def test_reclined_pigeon_starts_on_the_left() -> None:
    turn = COACH.go_to(State(status="active"), "reclined_pigeon")
    assert where(turn.state) == ("reclined_pigeon", "left")
    assert "We'll start on the left side." in texts(turn)
    after = COACH.next(turn.state)
    assert where(after.state) == ("reclined_pigeon", "right")
    assert "Now Reclined pigeon on the right side." in texts(after)
    # Written for the left side: not swapped there, swapped on the right.
    assert "Cross left ankle over right knee" in texts(turn)
    assert "Cross right ankle over left knee" in texts(after)


def test_intro_side_on_the_second_side() -> None:
    turn = COACH.next(at("warrior_two", "right"))
    assert where(turn.state) == ("warrior_two", "left")
    assert keys(turn)[0] == "intro_side"
    assert lines(turn)[0].text == "Now Warrior two on the left side."
    assert "tip" not in keys(turn)  # the tip is given once, on the first side


@pytest.mark.parametrize("part_id", TWO_SIDED)
def test_second_side_swaps_left_and_right(part_id: str) -> None:
    first = COACH.go_to(State(status="active"), part_id)
    second = COACH.switch_side(first.state)
    assert COACH.side_label(first.state) != COACH.side_label(second.state)
    one, two = step_lines(first), step_lines(second)
    n_steps = len(RAW_PARTS[part_id]["steps"])
    assert sorted(one) == sorted(two) == list(range(1, n_steps + 1))
    for n in range(1, n_steps + 1):
        assert one[n] == f"Step {n}. {raw_step_text(part_id, n, last=False)}"
        assert two[n] == f"Step {n}. {lr_swapped(raw_step_text(part_id, n, last=True))}"
    # Something really is swapped, unless the part never mentions a side.
    if any(re.search(r"\b(right|left)\b", one[n], re.I) for n in one):
        assert one != two


def test_second_side_concrete_texts() -> None:
    right = COACH.go_to(State(status="active"), "high_lunge")
    left = COACH.switch_side(right.state)
    assert (
        step_lines(right)[1] == "Step 1. Come into a lunge, right foot forward, press through heel."
    )
    assert (
        step_lines(left)[1] == "Step 1. Come into a lunge, left foot forward, press through heel."
    )
    assert step_lines(left)[2].startswith("Step 2. Right leg extended behind")


@pytest.mark.parametrize(
    ("part_id", "first_switch", "last_switch"),
    [
        ("advanced_high_lunge", "Switch sides when ready.", "Release your hands when ready."),
        ("warrior_two", "Switch when ready!", None),
        ("extended_side_angle", "Then switch it up on the other side.", None),
        ("reverse_warrior", "Then return to warrior two before switching sides.", None),
    ],
)
def test_switch_cue_after_the_hold_and_not_on_the_last_side(
    part_id: str, first_switch: str, last_switch: str | None
) -> None:
    first = COACH.go_to(State(status="active"), part_id)
    last = COACH.switch_side(first.state)
    assert first.state.segment != last.state.segment
    for turn, switch in ((first, first_switch), (last, last_switch)):
        said = [line.text for line in lines(turn)]
        hold = next(i for i, line in enumerate(lines(turn)) if line.id.startswith("hold_start"))
        if switch is None:
            assert "switch" not in " ".join(said).lower()
        else:
            assert said.index(switch) > hold
        steps = [i for i, line in enumerate(lines(turn)) if line.id.startswith("step.")]
        assert steps and max(steps) < hold, "every step is said before the hold"


def test_content_order_on_every_side_of_every_pose() -> None:
    """Every pose side, in both variations taken or not: the intro, then every step, then the
    hold (or rest), and after it only the tip, the cue to switch sides, the offer and the
    hint to move on; the switch cue never on the last side and never naming a side."""
    after_hold = ("tip.", "switch.", "offer.", "next_hint", "last_pose_done")
    for index, seg in enumerate(COACH.segments):
        part = COACH.part(seg)
        state = State(segment=index, status="active", accepted=tuple(VARIATION_IDS))
        turn = COACH.repeat_pose(state)
        ids = [line.id for line in lines(turn)]
        hold = next(i for i, x in enumerate(ids) if x.startswith(("hold_start", "relax_start")))
        end = next(i for i, x in enumerate(ids) if x in ("hold_end", "relax_end"))
        before, after = ids[:hold], ids[end + 1 :]
        assert [x for x in before if x.startswith("step.")] == [
            f"step.{part.id}.{n}.{part.sides[seg.side] or 'both'}"
            for n in range(1, len(part.steps) + 1)
        ], part.id
        assert all(x.startswith(after_hold) for x in after), (part.id, after)
        last_side = seg.side == len(part.sides) - 1
        switches = [x for x in after if x.startswith("switch.")]
        if part.switch is None or (last_side and part.switch.last_side is None):
            assert switches == [], (part.id, seg.side)
        else:
            assert len(switches) == 1, (part.id, seg.side)
        for line in lines(turn):
            if line.id.startswith("switch.") and not last_side:
                assert not re.search(r"\b(right|left)\b", line.text, re.I), line.text


def test_each_announced_pose_number_is_one_pose() -> None:
    """Variations are not numbered, so every "Pose N" names one pose only."""
    numbered: dict[str, set[str]] = {}
    state = State(accepted=tuple(VARIATION_IDS))
    turn = COACH.start(state, welcome=True)
    while not turn.end_session:
        for line in lines(turn):
            match = re.match(r"Pose (\d+): (.+)\.$", line.text)
            if match:
                numbered.setdefault(match.group(1), set()).add(match.group(2))
        turn = COACH.next(turn.state)
    assert len(numbered) == len(ROUTINE.poses)
    assert all(len(names) == 1 for names in numbered.values()), numbered


# ---------------------------------------------------------------------- offers


def test_offer_advanced_high_lunge_after_high_lunge_right() -> None:
    turn = COACH.next(at("downward_dog"))
    assert where(turn.state) == ("high_lunge", "right")
    assert keys(turn)[-1] == "offer"
    assert turn.says[-1].params == {"part": "advanced_high_lunge"}
    assert turn.state.pending == offer_to("advanced_high_lunge")
    assert keys(turn.reprompt) == ["offer_reprompt"]
    offer = RAW_PARTS["advanced_high_lunge"]["offer"]
    assert lines(turn)[-1].text == f"{_norm(offer)} Say yes, or no to move on."
    assert NARRATOR.lines(turn.reprompt)[0].text == (
        "Would you like to try Advanced high lunge? Yes or no?"
    )


def test_yes_to_advanced_high_lunge_then_it_is_done_on_the_other_side() -> None:
    offered = COACH.next(at("downward_dog")).state
    yes = COACH.yes(offered)
    assert where(yes.state) == ("advanced_high_lunge", "right")
    assert yes.state.accepted == ("advanced_high_lunge",)
    assert yes.state.pending is None
    assert keys(yes)[0] == "intro_variation"
    left = COACH.next(yes.state)
    assert where(left.state) == ("high_lunge", "left")
    assert "offer" not in keys(left)
    var_left = COACH.next(left.state)
    assert where(var_left.state) == ("advanced_high_lunge", "left")
    assert "Release your hands when ready." in texts(var_left)
    assert where(COACH.next(var_left.state).state) == ("warrior_two", "right")


def test_no_to_advanced_high_lunge_moves_on_without_it() -> None:
    offered = COACH.next(at("downward_dog")).state
    no = COACH.no(offered)
    assert where(no.state) == ("high_lunge", "left")
    assert no.state.declined == ("advanced_high_lunge",)
    assert no.state.pending is None
    assert "offer" not in keys(no)
    assert where(COACH.next(no.state).state) == ("warrior_two", "right")
    # Going back to the right side does not ask again.
    again = COACH.previous(no.state)
    assert where(again.state) == ("high_lunge", "right")
    assert "offer" not in keys(again)


def test_offer_reclined_pigeon_after_pigeons_last_side() -> None:
    right = COACH.go_to(State(status="active"), "pigeon")
    assert "offer" not in keys(right)  # not after the first side
    left = COACH.next(right.state)
    assert where(left.state) == ("pigeon", "left")
    assert left.state.pending == offer_to("reclined_pigeon")
    assert keys(left)[-1] == "offer"

    yes = COACH.yes(left.state)
    assert where(yes.state) == ("reclined_pigeon", "left")
    assert "reclined_pigeon" in yes.state.accepted
    other = COACH.next(yes.state)
    assert where(other.state) == ("reclined_pigeon", "right")
    assert where(COACH.next(other.state).state) == ("relaxation", "")

    no = COACH.no(left.state)
    assert where(no.state) == ("relaxation", "")
    assert no.state.declined == ("reclined_pigeon",)


def test_no_offers_in_flow_mode() -> None:
    trail = walk(COACH.set_mode(State(), "flow").state)
    assert all("offer" not in keys(turn) for *_, turn in trail)


def test_yes_and_no_without_a_question() -> None:
    state = at("cat_cow")
    assert where(COACH.yes(state).state) == ("childs_pose", "")  # yes = next
    no = COACH.no(state)
    assert keys(no) == ["take_your_time"]
    assert no.state == state


# ---------------------------------------------------------------------- previous


def test_previous_goes_back_one_segment() -> None:
    turn = COACH.previous(at("warrior_two", "left"))
    assert where(turn.state) == ("warrior_two", "right")
    assert turn.state.step == len(RAW_PARTS["warrior_two"]["steps"]) - 1
    assert keys(turn)[0] == "intro"
    # Undecided or declined variations are skipped on the way back ...
    assert where(COACH.previous(at("warrior_two", "right")).state) == ("high_lunge", "left")
    # ... accepted ones are not.
    state = at("warrior_two", "right", accepted=("advanced_high_lunge",))
    assert where(COACH.previous(state).state) == ("advanced_high_lunge", "left")


def test_previous_at_the_first_segment_stays_and_says_so() -> None:
    state = COACH.start(State()).state
    turn = COACH.previous(state)
    assert turn.state.segment == 0
    assert keys(turn)[0] == "at_start"
    assert keys(turn)[1] == "intro"
    assert lines(turn)[0].text == PROMPTS["at_start"]


def test_previous_before_starting_starts() -> None:
    turn = COACH.previous(State())
    assert keys(turn)[0] == "welcome"
    assert turn.state.status == "active"


# ---------------------------------------------------------------------- repeat


def test_repeat_step_in_range() -> None:
    state = at("forward_fold")
    turn = COACH.repeat_step(state, 2)
    assert keys(turn) == ["step"]
    assert texts(turn) == f"Step 2. {raw_step_text('forward_fold', 2, last=True)}"
    assert turn.state.step == 1
    assert turn.state.heard is False
    assert keys(turn.reprompt) == ["step_reprompt"]


def test_repeat_step_defaults_to_the_current_step() -> None:
    state = at("forward_fold", step=3, heard=False)
    turn = COACH.repeat_step(state)
    assert texts(turn) == f"Step 4. {raw_step_text('forward_fold', 4, last=True)}"
    assert turn.state.step == 3


@pytest.mark.parametrize("number", [0, -1, 6, 7, 10**9])
def test_repeat_step_out_of_range(number: int) -> None:
    state = at("forward_fold")
    turn = COACH.repeat_step(state, number)
    assert turn.state == state._replace(pending=ASK_STEP)  # waiting for a step's number
    assert keys(turn) == ["no_such_step"]
    assert turn.says[0].params["count"] == 5
    assert (
        texts(turn)
        == "Spinal roll into forward fold has 5 steps. Which step would you like to hear?"
    )
    assert turn.reprompt


def test_repeat_step_before_starting() -> None:
    turn = COACH.repeat_step(State(), 2)
    assert keys(turn) == ["nothing_yet"]
    assert turn.state == State()


def test_next_after_repeat_step_continues_from_the_following_step() -> None:
    state = COACH.repeat_step(at("downward_dog"), 2).state
    turn = COACH.next(state)
    n_steps = len(RAW_PARTS["downward_dog"]["steps"])
    assert keys(turn) == [*["step"] * (n_steps - 2), "hold", "tip", "next_hint"]
    assert [s.params["step"] for s in turn.says if s.key == "step"] == list(range(3, n_steps + 1))
    assert where(turn.state) == ("downward_dog", "")
    assert turn.state.heard
    # and next again moves on
    assert where(COACH.next(turn.state).state) == ("high_lunge", "right")


def test_next_after_repeating_the_last_step_is_just_the_hold() -> None:
    state = COACH.repeat_step(at("childs_pose"), 3).state
    turn = COACH.next(state)
    assert keys(turn)[0] == "hold"


def test_repeat_pose_replays_the_current_segment() -> None:
    turn = COACH.repeat_pose(at("reverse_warrior", "left"))
    assert where(turn.state) == ("reverse_warrior", "left")
    assert keys(turn)[0] == "intro_side"
    assert len([k for k in keys(turn) if k == "step"]) == len(RAW_PARTS["reverse_warrior"]["steps"])
    first = COACH.repeat_pose(at("reverse_warrior", "right"))
    assert keys(first)[0] == "intro"


# ---------------------------------------------------------------------- skip, go to


@pytest.mark.parametrize(
    ("start", "side", "lands"),
    [
        ("forward_fold", "", "downward_dog"),
        ("high_lunge", "right", "warrior_two"),
        ("advanced_high_lunge", "right", "warrior_two"),
        ("pigeon", "right", "relaxation"),
        ("reclined_pigeon", "left", "relaxation"),
    ],
)
def test_skip_pose_goes_to_the_next_poses_first_segment(start: str, side: str, lands: str) -> None:
    turn = COACH.skip_pose(at(start, side))
    first = raw_sides(RAW_PARTS[lands])[0]
    assert where(turn.state) == (lands, first)
    assert turn.state.step == len(RAW_PARTS[lands]["steps"]) - 1
    assert keys(turn)[0] == "intro"


def test_skip_pose_from_the_last_pose_finishes() -> None:
    turn = COACH.skip_pose(at("relaxation"))
    assert turn.end_session
    assert keys(turn) == ["closing", "goodbye_finished"]


@pytest.mark.parametrize("pose_id", POSE_IDS)
def test_go_to_each_pose(pose_id: str) -> None:
    turn = COACH.go_to(at("forward_fold"), pose_id)
    assert where(turn.state) == (pose_id, raw_sides(RAW_PARTS[pose_id])[0])
    assert turn.state.accepted == ()
    assert turn.says[0] == Say(
        "intro",
        {
            "part": pose_id,
            "side": raw_sides(RAW_PARTS[pose_id])[0],
            "number": POSE_IDS.index(pose_id) + 1,
        },
    )


@pytest.mark.parametrize("variation_id", VARIATION_IDS)
def test_go_to_a_variation_accepts_it(variation_id: str) -> None:
    state = at("forward_fold", declined=(variation_id,))
    turn = COACH.go_to(state, variation_id)
    assert where(turn.state) == (variation_id, raw_sides(RAW_PARTS[variation_id])[0])
    assert turn.state.accepted == (variation_id,)
    assert turn.state.declined == ()


@pytest.mark.parametrize("bad", ["headstand", "", None, "HIGH_LUNGE", "high lunge"])
def test_go_to_unknown_pose(bad: str | None) -> None:
    state = at("cat_cow")
    turn = COACH.go_to(state, bad)
    assert turn.state == state
    assert keys(turn) == ["unknown_pose"]
    assert turn.reprompt


@pytest.mark.parametrize(
    ("words", "part_id"),
    [
        ("down dog", "downward_dog"),
        ("Child's Pose", "childs_pose"),
        ("advanced high lunge", "advanced_high_lunge"),
        ("reclined pigeon", "reclined_pigeon"),
        ("savasana", "relaxation"),
        ("headstand", None),
    ],
)
def test_find_part_id(words: str, part_id: str | None) -> None:
    assert COACH.find_part_id(words) == part_id


# ---------------------------------------------------------------------- sides


def test_switch_side_flips_a_two_sided_pose() -> None:
    turn = COACH.switch_side(at("low_lunge_side_bend", "right"))
    assert where(turn.state) == ("low_lunge_side_bend", "left")
    assert keys(turn)[0] == "intro_side"
    back = COACH.switch_side(turn.state)
    assert where(back.state) == ("low_lunge_side_bend", "right")


def test_switch_side_on_a_variation_stays_in_the_variation() -> None:
    turn = COACH.switch_side(at("advanced_high_lunge", "right"))
    assert where(turn.state) == ("advanced_high_lunge", "left")


@pytest.mark.parametrize("part_id", ONE_SIDED)
def test_switch_side_on_a_one_sided_pose(part_id: str) -> None:
    state = at(part_id)
    turn = COACH.switch_side(state)
    assert turn.state == state
    assert keys(turn) == ["one_sided"]
    assert texts(turn).startswith(RAW_PARTS[part_id]["name"])
    assert COACH.which_side(state).says == turn.says


def test_switch_side_before_starting() -> None:
    assert keys(COACH.switch_side(State())) == ["nothing_yet"]


def test_which_side() -> None:
    state = at("extended_side_angle", "left")
    turn = COACH.which_side(state)
    assert turn.state == state
    assert texts(turn) == "You're on the left side of Extended side angle."
    assert texts(COACH.which_side(at("reclined_pigeon", "left"))) == (
        "You're on the left side of Reclined pigeon."
    )


# ---------------------------------------------------------------------- mode


def _flow_parts(turn: Turn) -> list[tuple[str, str]]:
    return [(s.params["part"], s.params["side"]) for s in turn.says if s.key == "flow_pose"]


def test_set_mode_flow_keeps_the_position_and_flows_a_chunk() -> None:
    state = at("warrior_two", "right")
    turn = COACH.set_mode(state, "flow")
    assert turn.state.mode == "flow"
    assert turn.says[0].key == "mode_set"
    walked = expected_walk()
    start = walked.index(("warrior_two", "right"))
    chunk = walked[start : start + FLOW_SEGMENTS_PER_TURN]
    assert _flow_parts(turn) == chunk
    # every segment gets all its cues, in order, and the turn ends on the last one
    cues: list[tuple[str, int]] = [
        (s.params["part"], s.params["cue"]) for s in turn.says if s.key == "flow"
    ]
    expected_cues = [
        (part_id, n) for part_id, _ in chunk for n in range(1, len(RAW_PARTS[part_id]["flow"]) + 1)
    ]
    assert cues == expected_cues
    assert where(turn.state) == chunk[-1]
    assert turn.state.step == len(RAW_PARTS[chunk[-1][0]]["steps"]) - 1
    assert keys(turn)[-1] == "flow_next"
    assert "hold" not in keys(turn)


def test_flow_cues_swap_sides_on_the_second_side() -> None:
    turn = COACH.set_mode(at("high_lunge", "right"), "flow")
    spoken = [line.text for line in lines(turn)]
    assert "High lunge, right side." in spoken
    assert "Exhale, step your right foot forward into a lunge, left heel lifted." in spoken
    assert "High lunge, left side." in spoken
    assert "Exhale, step your left foot forward into a lunge, right heel lifted." in spoken


def test_flow_next_continues_after_the_chunk_and_ends() -> None:
    state = COACH.set_mode(State(), "flow").state
    trail = walk(state)
    walked = expected_walk()
    seen: list[tuple[str, str]] = walked[:FLOW_SEGMENTS_PER_TURN]
    for *_, turn in trail:
        if not turn.end_session:
            assert len(_flow_parts(turn)) <= FLOW_SEGMENTS_PER_TURN
        seen.extend(_flow_parts(turn))
    assert seen == walked
    assert keys(trail[-2][2])[-1] == "last_pose_done"
    assert trail[-1][2].end_session


def test_set_mode_hold_from_flow() -> None:
    state = COACH.set_mode(at("cat_cow"), "flow").state
    turn = COACH.set_mode(state, "hold")
    assert turn.state.mode == "hold"
    assert where(turn.state) == where(state)
    assert "hold" in keys(turn)
    assert lines(turn)[0].text == "Hold mode: long, slow holds in each pose."


@pytest.mark.parametrize("bad", [None, "", "turbo", "Flow"])
def test_set_mode_unknown(bad: str | None) -> None:
    state = at("cat_cow")
    turn = COACH.set_mode(state, bad)
    assert turn.state == state
    assert keys(turn) == ["which_mode"]


def test_set_mode_before_starting_starts_in_that_mode() -> None:
    turn = COACH.set_mode(State(), "flow")
    assert turn.state.status == "active"
    assert _flow_parts(turn) == expected_walk()[:FLOW_SEGMENTS_PER_TURN]


# ---------------------------------------------------------------------- breaths


@pytest.mark.parametrize("breaths", range(MIN_BREATHS, MAX_BREATHS + 1))
def test_set_breaths_accepted_and_used(breaths: int) -> None:
    state = at("forward_fold")
    turn = COACH.set_breaths(state, breaths)
    assert turn.state == state._replace(breaths=breaths)
    assert keys(turn) == ["breaths_set"]
    if breaths == 1:
        assert texts(turn) == "Okay, one breath in each hold from now on."
    else:
        assert texts(turn) == f"Okay, {breaths} breaths in each hold from now on."
    spoken = lines(COACH.repeat_pose(turn.state))
    ids = [line.id for line in spoken]
    assert ids.count("breath_in") == breaths
    assert ids.count("breath_out") == breaths
    assert "relax_start" not in ids
    hold_start = next(line for line in spoken if line.id.startswith("hold_start"))
    expected = "Hold here for one breath." if breaths == 1 else f"Hold here for {breaths} breaths."
    assert hold_start.text == expected


@pytest.mark.parametrize("bad", [0, 16, None, -1, 100])
def test_set_breaths_rejected(bad: int | None) -> None:
    state = at("forward_fold", breaths=7)
    turn = COACH.set_breaths(state, bad)
    assert turn.state == state._replace(pending=ASK_BREATHS)  # waiting for a number
    assert keys(turn) == ["breaths_range"]
    assert texts(turn) == "I can hold each pose for 1 to 15 breaths. How many would you like?"


@pytest.mark.parametrize("breaths", [1, 5, 15])
def test_relaxation_rests_in_silence_for_the_set_breaths(breaths: int) -> None:
    # The closing relaxation has no counted breaths: a silence scaled by the breaths setting.
    turn = COACH.go_to(at("pigeon", "left", breaths=breaths), "relaxation")
    seconds = breaths * RELAX_SECONDS_PER_BREATH
    n_steps = len(RAW_PARTS["relaxation"]["steps"])
    assert keys(turn) == [
        "intro",
        *["step"] * n_steps,
        "relax",
        "relax_end",
        "tip",
        "last_pose_done",
    ]
    assert next(s for s in turn.says if s.key == "relax").params == {"seconds": seconds}
    spoken = lines(turn)
    ids = [line.id for line in spoken]
    assert "breath_in" not in ids
    assert "hold_end" not in ids
    relax = next(line for line in spoken if line.id == "relax_start")
    assert relax.pause_ms == seconds * 1000
    ssml = to_ssml(NARRATOR.blocks(turn.says))
    assert check_ssml(ssml) == []
    pauses = [int(ms) for ms in re.findall(r'<break time="(\d+)ms"/>', ssml)]
    assert max(pauses) <= 10_000
    assert sum(pauses) >= seconds * 1000
    # It lasts longer than the breathing of an ordinary hold of the same breaths.
    hold = lines(COACH.repeat_pose(at("cat_cow", breaths=breaths)))
    breathing_ms = sum(line.pause_ms for line in hold if line.id.startswith("breath_"))
    assert seconds * 1000 > breathing_ms


# ---------------------------------------------------------------------- pause, finish, stop


def test_pause_and_resume() -> None:
    state = at("pigeon", "left")
    paused = COACH.pause(state)
    assert paused.state == state._replace(status="paused")
    assert texts(paused) == "Paused in Pigeon pose on the left side. Say resume when you're ready."
    assert keys(paused.reprompt) == ["paused_reprompt"]
    resumed = COACH.resume(paused.state)
    assert resumed.state.status == "active"
    assert where(resumed.state) == ("pigeon", "left")
    assert keys(resumed)[:2] == ["intro_side", "step"]
    assert lines(resumed)[0].text == "Now Pigeon pose on the left side."
    # "next" while paused moves on, as it says
    assert where(COACH.next(paused.state).state) == where(COACH.next(state).state) != where(state)
    # "resume" with nothing paused skips nothing: the pose is taken up again
    again = COACH.resume(state)
    assert where(again.state) == where(state)
    assert keys(again)[:2] == ["intro_side", "step"]


def test_pause_before_starting() -> None:
    turn = COACH.pause(State())
    assert turn.state == State()
    assert keys(turn) == ["nothing_yet"]


def test_finish_after_the_last_segment() -> None:
    state = at("relaxation")
    turn = COACH.next(state)
    assert turn.end_session
    assert turn.reprompt == ()
    assert keys(turn) == ["closing", "goodbye_finished"]
    assert texts(turn) == f"{_norm(RAW['closing'])} Well done, and namaste."
    assert turn.state.status == "finished"
    # after finishing, next starts again from the top
    again = COACH.next(turn.state)
    assert keys(again)[0] == "welcome"
    assert again.state.segment == 0


def test_stop_ends_the_session() -> None:
    state = at("cat_cow")
    turn = COACH.stop(state)
    assert turn.end_session
    assert turn.state == state
    assert turn.reprompt == ()
    assert texts(turn) == "Good work today. Namaste."
    assert texts(COACH.stop(State())) == "Goodbye."


# ---------------------------------------------------------------------- launch and resume


def test_launch_fresh() -> None:
    turn = COACH.launch(State())
    assert keys(turn)[:2] == ["welcome", "intro"]
    assert turn.state.pending is None


def test_launch_with_progress_offers_to_resume() -> None:
    state = at("pigeon", "left", mode="hold", breaths=8)
    turn = COACH.launch(state)
    assert turn.state.pending == RESUME
    assert turn.state.status == "paused"
    assert where(turn.state) == ("pigeon", "left")
    assert (
        texts(turn) == "Welcome back. You were in Pigeon pose on the left side. Shall we carry on?"
    )
    assert keys(turn.reprompt) == ["resume_reprompt"]

    yes = COACH.yes(turn.state)
    assert where(yes.state) == ("pigeon", "left")
    assert yes.state.status == "active"
    assert keys(yes)[0] == "intro_side"
    # the undecided reclined pigeon is offered again at the end of the replayed side
    assert yes.state.pending == offer_to("reclined_pigeon")

    no = COACH.no(turn.state)
    assert no.state.segment == 0
    assert no.state.breaths == 8
    assert keys(no)[:2] == ["fresh_start", "intro"]


def test_launch_with_one_sided_progress() -> None:
    turn = COACH.launch(at("cat_cow"))
    assert texts(turn) == "Welcome back. You were in Cat cow. Shall we carry on?"


def test_launch_after_finishing_starts_fresh() -> None:
    turn = COACH.launch(at("relaxation", status="finished"))
    assert keys(turn)[0] == "welcome"
    assert turn.state.segment == 0


# ---------------------------------------------------------------------- help and the rest


@pytest.mark.parametrize(
    ("state", "key"),
    [
        (State(), "help_idle"),
        (at("relaxation", status="finished"), "help_idle"),
        (at("cat_cow"), "help_hold"),
        (at("cat_cow", mode="flow"), "help_flow"),
        (at("cat_cow", status="paused"), "help_hold"),
        (at("high_lunge", "right", pending=offer_to("advanced_high_lunge")), "help_offer"),
        (at("cat_cow", status="paused", pending=RESUME), "help_resume"),
    ],
)
def test_help_depends_on_context(state: State, key: str) -> None:
    turn = COACH.help(state)
    assert keys(turn) == [key]
    assert turn.state == state
    assert texts(turn) == _norm(PROMPTS[key])
    assert turn.reprompt


def test_tip_targets_where() -> None:
    state = at("advanced_high_lunge", "left")
    # a variation with no tip gives its pose's tip
    assert texts(COACH.tip(state)) == "Top tip: Keep your heart lifted forward."
    assert texts(COACH.targets(state)) == "This one is good for your shoulders and chest."
    where_turn = COACH.where_am_i(state)
    assert texts(where_turn) == "You're in Advanced high lunge on the left side, pose 3 of 11."
    for op in (COACH.tip, COACH.targets, COACH.where_am_i, COACH.which_side):
        assert keys(op(State())) == ["nothing_yet"]


def test_start_over() -> None:
    turn = COACH.start_over(at("pigeon", "left", breaths=3, accepted=("reclined_pigeon",)))
    assert keys(turn)[:2] == ["start_over", "intro"]
    assert turn.state.segment == 0
    assert turn.state.breaths == 3
    assert turn.state.accepted == ()


def test_fallback() -> None:
    state = at("cat_cow")
    turn = COACH.fallback(state)
    assert turn.state == state
    assert keys(turn) == ["fallback"]
    assert turn.reprompt


def _routine_without(*removals: tuple[str, str]) -> Any:
    raw = copy.deepcopy(RAW)
    for part_id, key in removals:
        for pose in raw["poses"]:
            for part in (pose, *(pose.get("variations") or [])):
                if part["id"] == part_id:
                    del part[key]
    return parse_routine(raw)


def test_tip_for_a_pose_without_a_tip_renders() -> None:
    routine = _routine_without(("forward_fold", "tip"))
    coach = Coach(routine)
    state = coach.start(State()).state
    assert "tip" not in keys(coach.start(State()))  # the narration already copes
    turn = coach.tip(state)
    spoken = Narrator(routine).lines(turn.says)
    assert spoken and all(line.text for line in spoken)


# ---------------------------------------------------------------------- serialisation


def _all_states() -> list[State]:
    out = []
    for index, seg in enumerate(COACH.segments):
        part = COACH.part(seg)
        accepted = (part.id,) if seg.variation is not None else ()
        for step in sorted({0, len(part.steps) - 1}):
            out.append(
                State(segment=index, step=step, status="active", heard=True, accepted=accepted)
            )
    return out


@pytest.mark.parametrize("state", _all_states(), ids=lambda s: f"{s.segment}-{s.step}")
def test_to_dict_from_dict_round_trip_every_segment(state: State) -> None:
    assert roundtrip(state) == state
    for variant in (
        state._replace(mode="flow", breaths=15, status="paused", heard=False, pending=RESUME),
        state._replace(status="finished", breaths=1, declined=tuple(VARIATION_IDS[:1])),
        state._replace(pending=offer_to("reclined_pigeon"), status="idle"),
    ):
        if set(variant.declined) & set(variant.accepted):
            continue
        assert roundtrip(variant) == variant


def test_to_dict_names_the_position_by_ids() -> None:
    data = encode(COACH, at("reclined_pigeon", "right"))
    assert data["v"] == STATE_VERSION
    assert data["routine"] == RAW["id"]
    assert (data["pose"], data["variation"], data["side"]) == ("pigeon", "reclined_pigeon", "right")
    assert data["accepted"] == ["reclined_pigeon"]


def _good() -> dict[str, Any]:
    return encode(COACH, at("warrior_two", "left", step=3, breaths=8, mode="flow"))


def _with(**changes: Any) -> dict[str, Any]:
    return {**_good(), **changes}


GOOD_STATE = decode(COACH, _good())


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, State()),
        ("garbage", State()),
        ([], State()),
        (42, State()),
        ({}, State()),
        ({"pose": 5}, State()),
        (_with(v=99), State()),
        (_with(v=0), State()),
        (_with(v="1"), State()),
        (_with(v=None), State()),
        (_with(routine="other_routine"), State(mode="flow", breaths=8)),
        (_with(pose="headstand"), State(mode="flow", breaths=8)),
        (_with(pose=5), State(mode="flow", breaths=8)),
        (_with(pose=None), State(mode="flow", breaths=8)),
        (_with(pose=["warrior_two"]), State(mode="flow", breaths=8)),
    ],
)
def test_from_dict_stale_falls_back_to_the_start(data: Any, expected: State) -> None:
    state = decode(COACH, data)
    assert state == expected
    assert_valid(state)


_WARRIOR_RIGHT = index_of("warrior_two", "right")


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({}, "step", 3),
        ({"side": "sideways"}, "segment", _WARRIOR_RIGHT),
        ({"side": None}, "segment", _WARRIOR_RIGHT),
        ({"side": 1}, "segment", _WARRIOR_RIGHT),
        ({"variation": "advanced_high_lunge"}, "segment", _WARRIOR_RIGHT),
        ({"step": 7}, "step", 0),
        ({"step": 99}, "step", 0),
        ({"step": -1}, "step", 0),
        ({"step": True}, "step", 0),
        ({"step": False}, "step", 0),
        ({"step": 2.5}, "step", 0),
        ({"step": 2.0}, "step", 2),
        ({"step": Decimal("3")}, "step", 3),
        ({"step": Decimal("3.5")}, "step", 0),
        ({"step": Decimal("NaN")}, "step", 0),
        ({"step": Decimal("Infinity")}, "step", 0),
        ({"step": float("inf")}, "step", 0),
        ({"step": float("nan")}, "step", 0),
        ({"step": 10**400}, "step", 0),
        ({"step": -(10**30)}, "step", 0),
        ({"step": None}, "step", 0),
        ({"step": "3"}, "step", 0),
        ({"step": [3]}, "step", 0),
        ({"step": {"n": 3}}, "step", 0),
        ({"step": 7, "heard": True}, "heard", False),
        ({"heard": "yes"}, "heard", False),
        ({"heard": 1}, "heard", False),
        ({"breaths": 0}, "breaths", DEFAULT_BREATHS),
        ({"breaths": 16}, "breaths", DEFAULT_BREATHS),
        ({"breaths": -5}, "breaths", DEFAULT_BREATHS),
        ({"breaths": 10**100}, "breaths", DEFAULT_BREATHS),
        ({"breaths": True}, "breaths", DEFAULT_BREATHS),
        ({"breaths": "8"}, "breaths", DEFAULT_BREATHS),
        ({"breaths": None}, "breaths", DEFAULT_BREATHS),
        ({"breaths": 7.5}, "breaths", DEFAULT_BREATHS),
        ({"breaths": Decimal("12")}, "breaths", 12),
        ({"breaths": 15}, "breaths", 15),
        ({"breaths": 1}, "breaths", 1),
        ({"mode": "turbo"}, "mode", "hold"),
        ({"mode": None}, "mode", "hold"),
        ({"mode": ["flow"]}, "mode", "hold"),
        ({"status": "running"}, "status", "idle"),
        ({"status": None}, "status", "idle"),
        ({"status": ["active"]}, "status", "idle"),
        ({"pending": "resume"}, "pending", RESUME),
        ({"pending": "offer:reclined_pigeon"}, "pending", offer_to("reclined_pigeon")),
        ({"pending": "offer:headstand"}, "pending", None),
        ({"pending": "offer:"}, "pending", None),
        ({"pending": "maybe"}, "pending", None),
        ({"pending": 3}, "pending", None),
        ({"accepted": ["reclined_pigeon", "headstand", 3, None]}, "accepted", ("reclined_pigeon",)),
        ({"accepted": ["pigeon"]}, "accepted", ()),
        ({"accepted": ["reclined_pigeon", "reclined_pigeon"]}, "accepted", ("reclined_pigeon",)),
        ({"accepted": "reclined_pigeon"}, "accepted", ()),
        ({"accepted": None}, "accepted", ()),
        ({"declined": ["advanced_high_lunge", "nope"]}, "declined", ("advanced_high_lunge",)),
        (
            {"accepted": ["reclined_pigeon"], "declined": ["reclined_pigeon"]},
            "declined",
            (),
        ),
    ],
)
def test_from_dict_tampered_values_fall_back_sensibly(
    changes: dict[str, Any], field: str, value: Any
) -> None:
    state = decode(COACH, _with(**changes))
    assert_valid(state)
    assert getattr(state, field) == value
    got = getattr(state, field)
    assert type(got) is type(value)


def test_from_dict_decimal_version_from_dynamodb() -> None:
    data = {
        k: (Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v)
        for k, v in _good().items()
    }
    assert decode(COACH, data) == GOOD_STATE


def test_from_dict_variation_position_counts_as_accepted() -> None:
    data = encode(COACH, at("advanced_high_lunge", "left"))
    data["accepted"] = []
    state = decode(COACH, data)
    assert where(state) == ("advanced_high_lunge", "left")
    assert state.accepted == ("advanced_high_lunge",)
    assert_valid(state)


def test_from_dict_wrong_side_of_a_variation() -> None:
    data = encode(COACH, at("reclined_pigeon", "right"))
    data["side"] = "middle"
    state = decode(COACH, data)
    assert_valid(state)
    assert COACH.segments[state.segment].pose == POSE_IDS.index("pigeon")


def test_from_dict_variation_position_is_not_also_declined() -> None:
    data = encode(COACH, at("advanced_high_lunge", "right"))
    data["accepted"] = []
    data["declined"] = ["advanced_high_lunge"]
    state = decode(COACH, data)
    assert not set(state.accepted) & set(state.declined)
    assert roundtrip(state) == state


def test_from_dict_signalling_nan_does_not_raise() -> None:
    assert decode(COACH, {"v": Decimal("sNaN")}) == State()


# ---------------------------------------------------------------------- properties

PART_ID_CHOICES = [*POSE_IDS, *VARIATION_IDS, "headstand", "", "PIGEON"]
ZERO_ARG_OPS = [
    "launch",
    "start",
    "next",
    "previous",
    "repeat_pose",
    "skip_pose",
    "switch_side",
    "which_side",
    "where_am_i",
    "tip",
    "targets",
    "start_over",
    "pause",
    "resume",
    "yes",
    "no",
    "help",
    "fallback",
    "finish",
    "stop",
    "reload",
    "take_break",
    "how_long",
    "list_poses",
    "poses_left",
    "whats_next",
    "pose_name",
    "front_leg",
]

# next, yes and no weighted up so that sequences walk far enough to meet offers and the end.
WEIGHTED_OPS = [*ZERO_ARG_OPS, *["next"] * 12, *["yes"] * 4, *["no"] * 3]

operations = st.one_of(
    st.tuples(st.sampled_from(WEIGHTED_OPS), st.none()),
    st.tuples(st.sampled_from(WEIGHTED_OPS), st.none()),
    st.tuples(st.just("repeat_step"), st.none() | st.integers(-3, 12) | st.integers()),
    st.tuples(st.just("go_to"), st.none() | st.sampled_from(PART_ID_CHOICES) | st.text(max_size=8)),
    st.tuples(
        st.just("set_mode"), st.none() | st.sampled_from(["hold", "flow", "turbo", "", "Flow"])
    ),
    st.tuples(st.just("set_breaths"), st.none() | st.integers(-2, 20) | st.integers()),
    st.tuples(st.just("answer_number"), st.none() | st.integers(-2, 20)),
    st.tuples(st.just("change_hold"), st.sampled_from([None, "longer", "shorter", "sideways"])),
    st.tuples(st.just("set_length"), st.sampled_from([None, "quick", "full", "medium"])),
    st.tuples(
        st.just("set_focus"),
        st.sampled_from([None, "", "hamstrings", "calves", "back", "core", "elbows"]),
    ),
    st.tuples(st.just("set_brief"), st.sampled_from([None, "brief", "full", "loud"])),
    st.tuples(st.just("how_to"), st.sampled_from([None, "legs", "head", "tail"])),
    st.tuples(st.just("go_to_place"), st.sampled_from([None, "first", "last", "middle"])),
)
ARG_OPS = (
    "repeat_step",
    "go_to",
    "set_mode",
    "set_breaths",
    "answer_number",
    "change_hold",
    "set_length",
    "set_focus",
    "set_brief",
    "how_to",
    "go_to_place",
)


def apply(state: State, op: str, arg: Any) -> Turn:
    if op == "reload":  # the session attributes round trip, as a handler does every turn
        return Turn(roundtrip(state), ())
    method = getattr(COACH, op)
    if op in ARG_OPS:
        return method(state, arg)
    return method(state)


def check_turn(turn: Turn, *, exact_roundtrip: bool = True) -> None:
    assert isinstance(turn, Turn)
    assert_valid(turn.state)
    if exact_roundtrip:
        assert roundtrip(turn.state) == turn.state
    for says in (turn.says, turn.reprompt):
        spoken = NARRATOR.lines(says)  # raises on a missing prompt or placeholder
        assert len(spoken) >= len(says)
        assert all(line.text.strip() for line in spoken)
        ssml = to_ssml(NARRATOR.blocks(says))
        assert check_ssml(ssml) == [], ssml
    if turn.says and not turn.end_session:
        assert turn.reprompt, f"open session without a reprompt: {turn.says}"
    if turn.end_session:
        assert turn.reprompt == ()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.sampled_from(["fresh", "launched", "flow"]),
    ops=st.lists(operations, min_size=1, max_size=40),
)
def test_any_sequence_of_operations_keeps_a_valid_state(
    start: str, ops: list[tuple[str, Any]]
) -> None:
    state = State()
    if start == "launched":
        state = COACH.launch(state).state
    elif start == "flow":
        state = COACH.set_mode(state, "flow").state
    for op, arg in ops:
        turn = apply(state, op, arg)
        check_turn(turn)
        for key in ("offer", "closing", "flow_pose", "at_start", "no_such_step"):
            if key in keys(turn):
                event(f"said {key}")
        state = turn.state


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.decimals(allow_nan=False, allow_infinity=True),
    st.sampled_from(
        [
            *PART_ID_CHOICES,
            *["right", "left", "resume", "offer:reclined_pigeon", "flow", "quick", "break"],
            *["focus:calves", "focus:elbows", "step", "breaths"],
        ]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
STATE_KEYS = list(encode(COACH, State()))


@settings(max_examples=200, deadline=None)
@given(
    base=st.sampled_from(_all_states()),
    changes=st.dictionaries(st.sampled_from(STATE_KEYS), json_values, max_size=5),
    drop=st.lists(st.sampled_from(STATE_KEYS), max_size=3),
)
def test_from_dict_never_raises_on_tampered_input(
    base: State, changes: dict[str, Any], drop: list[str]
) -> None:
    data = {**encode(COACH, base), **changes}
    for key in drop:
        data.pop(key, None)
    state = decode(COACH, data)
    assert_valid(state)
    # and whatever came back can be used (not exact: see the accepted-and-declined xfail above)
    check_turn(COACH.next(state), exact_roundtrip=False)


@settings(max_examples=100, deadline=None)
@given(data=json_values)
def test_from_dict_never_raises_on_garbage(data: Any) -> None:
    state = decode(COACH, data)
    assert_valid(state)


# ---------------------------------------------------------------------- flow mode navigation


def _flowed(turn: Turn) -> list[tuple[str, str]]:
    """The (part, side) of each pose a flow turn threads together."""
    return [(s.params["part"], s.params["side"]) for s in turn.says if s.key == "flow_pose"]


def _flow_from_start() -> tuple[Turn, Turn]:
    start = COACH.set_mode(COACH.start(State()).state, "flow")
    return start, COACH.next(start.state)


def test_flow_go_back_plays_the_flow_before_this_one() -> None:
    first, second = _flow_from_start()
    back = COACH.previous(second.state)
    assert _flowed(back) == _flowed(first)
    assert where(back.state) == where(first.state)
    # and next from there plays the second flow again
    assert _flowed(COACH.next(back.state)) == _flowed(second)


def test_flow_go_back_at_the_first_flow_replays_it() -> None:
    first, _ = _flow_from_start()
    back = COACH.previous(first.state)
    assert keys(back)[0] == "at_start"
    assert _flowed(back) == _flowed(first)
    assert where(back.state) == where(first.state)


def test_flow_repeat_pose_and_resume_replay_this_flow_and_end_where_it_ended() -> None:
    _, second = _flow_from_start()
    again = COACH.repeat_pose(second.state)
    assert _flowed(again) == _flowed(second)
    assert where(again.state) == where(second.state)
    paused = COACH.pause(second.state).state
    resumed = COACH.resume(paused)
    assert _flowed(resumed) == _flowed(second)
    assert where(resumed.state) == where(second.state)


def test_flow_next_after_a_repeated_step_keeps_flowing() -> None:
    _, second = _flow_from_start()
    step = COACH.repeat_step(second.state, 2)
    assert keys(step) == ["step"]
    onward = COACH.next(step.state)
    assert onward.state.mode == "flow"
    assert "flow_pose" in keys(onward) and "hold" not in keys(onward)
    assert _flowed(onward) == _flowed(COACH.next(second.state))


def test_switch_to_a_named_side() -> None:
    state = at("warrior_two", "right")
    assert keys(COACH.switch_side(state, "right")) == ["already_on_side"]
    assert COACH.switch_side(state, "right").state == state
    assert where(COACH.switch_side(state, "left").state) == ("warrior_two", "left")
    assert where(COACH.switch_side(state).state) == ("warrior_two", "left")
