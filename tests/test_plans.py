"""Issue 9's state machine: session length and focus, brief instructions, relative holds,
breathers, bare answers, questions about the routine, and durations from the clip timeline."""

from __future__ import annotations

import pytest

from skill.audio.player.timeline import clip_timing
from skill.resources import AUDIO_DIR
from skill.routine.coach import HOLD_STEP, Coach
from skill.routine.content import load_routine
from skill.routine.says import Key
from skill.routine.state import (
    ASK_BREATHS,
    ASK_STEP,
    FULL,
    MAX_BREATHS,
    MIN_BREATHS,
    ON_BREAK,
    QUICK,
    RESUME,
    Mode,
    Plan,
    State,
    Turn,
    focus,
)
from skill.speech.narration import Narrator

ROUTINE = load_routine()
TIMING = clip_timing(ROUTINE, AUDIO_DIR)
COACH = Coach(ROUTINE, TIMING)
NARRATOR = Narrator(ROUTINE)
MODES: tuple[Mode, ...] = ("hold", "flow")


def said(turn: Turn) -> str:
    return " ".join(line.text for line in NARRATOR.lines(turn.says))


def keys(turn: Turn) -> list[str]:
    return [str(say.key) for say in turn.says]


def walk(turn: Turn) -> list[Turn]:
    """Say next (no to any offer) until the session ends."""
    turns = [turn]
    while not turn.end_session:
        turn = COACH.no(turn.state) if turn.state.offered else COACH.next(turn.state)
        turns.append(turn)
        assert len(turns) < 100
    return turns


def poses_heard(turns: list[Turn]) -> list[str]:
    """The poses narrated, in order, each once."""
    heard: list[str] = []
    for turn in turns:
        for say in turn.says:
            if say.key in (Key.INTRO, Key.INTRO_PLAIN, Key.INTRO_BRIEF, Key.FLOW_POSE):
                part = say.params["part"]
                pose = next(
                    p.id for p in ROUTINE.poses if part in (p.id, *(v.id for v in p.variations))
                )
                if pose not in heard:
                    heard.append(pose)
    return heard


# ---------------------------------------------------------------------- plans


def test_the_quick_session_is_the_routines_quick_list_and_about_ten_minutes() -> None:
    state = State(plan=QUICK)
    assert [p.id for p in COACH.plan_poses(state)] == list(ROUTINE.quick)
    assert ROUTINE.quick[-1] == "relaxation"
    full = COACH.how_long(State())
    quick = COACH.how_long(state)
    assert 8 <= quick.says[0].params["minutes"] <= 13
    assert quick.says[0].params["minutes"] < full.says[0].params["minutes"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "plan", [QUICK, *(focus(area.id) for area in ROUTINE.focus_areas)], ids=lambda p: p.encode()
)
def test_a_planned_session_runs_from_start_to_the_relaxation(plan: Plan, mode: Mode) -> None:
    turns = walk(COACH.set_plan(State(mode=mode), plan))
    heard = poses_heard(turns)
    assert heard == [p.id for p in COACH.plan_poses(turns[0].state)]
    assert heard[-1] == "relaxation", "the relaxation keeps the end"
    assert len(heard) < len(ROUTINE.poses)
    assert keys(turns[-1]) == ["closing", "goodbye_finished"]
    assert keys(turns[0])[0] == "plan_set"
    if mode == "hold":  # numbers belong to the full routine's order
        assert "intro" not in {k for t in turns for k in keys(t)}


def test_a_focus_picks_the_poses_that_target_it_in_routine_order() -> None:
    hamstrings = [p.id for p in COACH.plan_poses(State(plan=focus("hamstrings")))]
    expected = [p.id for p in ROUTINE.poses if "hamstrings" in p.target_areas or p.relaxation]
    assert hamstrings == expected
    calves = [p.id for p in COACH.plan_poses(State(plan=focus("calves")))]
    assert calves == ["forward_fold", "downward_dog", "relaxation"]


def test_plan_set_says_how_many_poses_and_minutes() -> None:
    turn = COACH.set_length(State(), "quick")
    lead = turn.says[0]
    assert lead.key is Key.PLAN_SET
    text = NARRATOR.lines([lead])[0].text
    assert text == (
        f"Okay, the quick session: {len(ROUTINE.quick)} poses, "
        f"about {lead.params['minutes']} minutes."
    )


def test_unknown_focus_area_lists_the_areas_and_changes_nothing() -> None:
    state = COACH.start(State(), welcome=True).state
    turn = COACH.set_focus(state, "elbows")
    assert turn.state == state
    assert keys(turn) == ["unknown_area"]
    assert "hamstrings" in said(turn) and "calves" in said(turn)


def test_choosing_a_plan_mid_routine_keeps_the_place_or_moves_to_the_plans_next_pose() -> None:
    state = COACH.go_to(State(status="active"), "pigeon").state
    kept = COACH.set_length(state, "quick")  # pigeon is in the quick session
    assert kept.state.segment == state.segment and kept.state.plan == QUICK
    moved = COACH.set_length(COACH.go_to(State(status="active"), "cat_cow").state, "quick")
    assert COACH.current_part(moved.state).id == "childs_pose"
    assert keys(moved)[:2] == ["plan_set", "intro_plain"]


def test_going_to_a_pose_the_plan_left_out_is_the_full_routine_again() -> None:
    state = COACH.set_length(State(), "quick").state
    turn = COACH.go_to(state, "warrior_two")
    assert turn.state.plan == FULL
    assert COACH.current_part(turn.state).id == "warrior_two"


def test_plans_and_brevity_survive_a_fresh_start() -> None:
    state = COACH.set_focus(State(), "hips").state._replace(brief=True)
    again = COACH.start_over(state)
    assert again.state.plan == focus("hips") and again.state.brief
    assert COACH.current_part(again.state).id == COACH.plan_poses(again.state)[0].id


# ---------------------------------------------------------------------- brief


@pytest.mark.parametrize("mode", MODES)
def test_a_brief_session_says_names_sides_and_breaths_only(mode: Mode) -> None:
    start = COACH.set_brief(State(mode=mode), "brief")
    assert start.state.brief and keys(start) == ["level_set"]
    turns = walk(COACH.start(start.state, welcome=True))
    all_keys = {k for t in turns for k in keys(t)}
    if mode == "hold":
        assert "step" not in all_keys and "tip" not in all_keys
        assert "intro_brief" in all_keys and "hold" in all_keys
    assert poses_heard(turns)[-1] == "relaxation"
    full = walk(COACH.start(State(mode=mode), welcome=True))
    assert poses_heard(turns) == poses_heard(full)


def test_brief_intro_names_the_side() -> None:
    state = COACH.go_to(State(status="active"), "warrior_two").state._replace(brief=True)
    turn = COACH.repeat_pose(state)
    assert said(turn).startswith("Warrior two on the right side.")
    assert "Step" not in said(turn)


# ---------------------------------------------------------------------- holds and numbers


@pytest.mark.parametrize(
    ("start", "direction", "expected"),
    [
        (5, "longer", 5 + HOLD_STEP),
        (5, "shorter", 5 - HOLD_STEP),
        (14, "longer", MAX_BREATHS),
        (2, "shorter", MIN_BREATHS),
    ],
)
def test_relative_hold_changes_say_the_new_number(
    start: int, direction: str, expected: int
) -> None:
    state = COACH.start(State(breaths=start), welcome=True).state
    turn = COACH.change_hold(state, direction)
    assert turn.state.breaths == expected
    assert turn.state.status == "active", "never a pause"
    assert str(expected) in said(turn) or expected == 1


@pytest.mark.parametrize(
    ("start", "direction"), [(MAX_BREATHS, "longer"), (MIN_BREATHS, "shorter")]
)
def test_relative_hold_change_at_the_limit(start: int, direction: str) -> None:
    state = COACH.start(State(breaths=start), welcome=True).state
    turn = COACH.change_hold(state, direction)
    assert turn.state == state
    assert keys(turn) == ["breaths_limit"]


def test_a_bare_number_answers_only_the_skills_own_question() -> None:
    state = COACH.start(State(), welcome=True).state
    assert keys(COACH.answer_number(state, 8)) == ["number_unasked"]
    assert COACH.answer_number(state, 8).state == state
    asked = COACH.set_breaths(state, None)
    assert asked.state.pending == ASK_BREATHS
    answered = COACH.answer_number(asked.state, 8)
    assert answered.state.breaths == 8 and answered.state.pending is None
    step = COACH.repeat_step(state, 42)
    assert step.state.pending == ASK_STEP
    three = COACH.answer_number(step.state, 3)
    assert keys(three) == ["step"] and three.says[0].params["step"] == 3


# ---------------------------------------------------------------------- breathers


def test_a_breather_pauses_and_offers_a_shorter_finish() -> None:
    state = COACH.go_to(State(status="active"), "warrior_two").state
    rest = COACH.take_break(state)
    assert rest.state.status == "paused" and rest.state.pending == ON_BREAK
    assert "closing relaxation" in said(rest)
    shorter = COACH.yes(rest.state)
    assert COACH.current_part(shorter.state).id == "relaxation"
    declined = COACH.no(rest.state)
    assert declined.state.status == "paused" and declined.state.segment == state.segment
    carry_on = COACH.next(declined.state)
    assert carry_on.state.status == "active"


# ---------------------------------------------------------------------- questions


def test_how_long_and_where_come_from_the_timeline() -> None:
    timing = TIMING("hold", 5)
    assert timing is not None
    fresh = COACH.how_long(State()).says[0]
    segments = [i for i in range(len(COACH.segments)) if COACH.included(i, State())]
    expected = round(
        (timing.welcome + timing.closing + sum(timing.segments[i] for i in segments)) / 60
    )
    assert fresh.params["minutes"] == expected
    late = COACH.go_to(State(status="active"), "relaxation").state
    left = COACH.how_long(late).says[0].params["left"]
    assert 1 <= left <= 4
    assert "minutes to go" in said(COACH.where_am_i(late))


def test_list_and_count_the_poses() -> None:
    listed = said(COACH.list_poses(State()))
    assert listed.startswith(f"The full routine has {len(ROUTINE.poses)} poses:")
    state = COACH.go_to(State(status="active"), "cat_cow").state
    left = COACH.poses_left(state)
    assert left.says[0].params["poses"] == ("childs_pose", "pigeon", "relaxation")
    assert said(left).startswith("3 more to come:")
    last = COACH.go_to(State(status="active"), "relaxation").state
    assert keys(COACH.poses_left(last)) == ["poses_left"]
    assert "last pose" in said(COACH.poses_left(last))


@pytest.mark.parametrize("area", [a.id for a in ROUTINE.focus_areas])
def test_a_focus_session_lists_its_poses_under_its_own_name(area: str) -> None:
    """Each area's list names the area, so areas with as many poses never share a clip."""
    state = State(plan=focus(area))
    name = next(a.name for a in ROUTINE.focus_areas if a.id == area)
    listed = COACH.list_poses(state)
    assert said(listed).startswith(f"The session for your {name} has ")
    (line,) = NARRATOR.lines(listed.says)
    assert line.id == f"list_poses.focus.{area}.{len(COACH.plan_poses(state))}"


def test_whats_next_and_the_pose_name() -> None:
    state = COACH.go_to(State(status="active"), "high_lunge").state
    assert said(COACH.whats_next(state)) == "Next is High lunge on the left side."
    assert said(COACH.pose_name(state)) == "This is High lunge on the right side."
    assert said(COACH.whats_next(State())).startswith("We'll start with Spinal roll")


def test_how_to_and_body_parts() -> None:
    state = COACH.go_to(State(status="active"), "warrior_two").state
    everything = said(COACH.how_to(state))
    assert everything.startswith("Here's how to do Warrior two on the right side.")
    assert everything.count("Step ") == len(ROUTINE.pose("warrior_two").steps)
    legs = said(COACH.how_to(state, "legs"))
    assert legs.startswith("For your legs in Warrior two:")
    assert "leg" in legs.lower() and "Stretch arms out" not in legs
    head = said(COACH.how_to(COACH.go_to(State(status="active"), "cat_cow").state, "knees"))
    assert "knees" in head


def test_which_leg_is_in_front() -> None:
    left = COACH.switch_side(COACH.go_to(State(status="active"), "warrior_two").state).state
    assert said(COACH.front_leg(left)) == "Your left leg is in front on this side."
    fold = COACH.go_to(State(status="active"), "forward_fold").state
    assert "doesn't put one leg in front" in said(COACH.front_leg(fold))


# ---------------------------------------------------------------------- resuming


def test_the_resume_offer_names_where_it_resumes_in_flow() -> None:
    state = COACH.go_to(State(status="active", mode="flow"), "cat_cow").state
    state = COACH.next(state).state  # a flow ends several poses on
    back = COACH.launch(state)
    assert back.state.pending == RESUME
    offered = back.says[0].params["part"]
    resumed = COACH.yes(back.state)
    assert resumed.says[0].params["part"] == offered


def test_resume_with_nothing_paused_skips_nothing() -> None:
    state = COACH.go_to(State(status="active"), "warrior_two").state
    again = COACH.resume(state)
    assert again.state.segment == state.segment


def test_a_remembered_plan_is_announced_at_the_start() -> None:
    state = COACH.set_length(State(), "quick").state
    again = COACH.launch(COACH.finish(state).state)
    assert keys(again)[:3] == ["welcome", "plan_set", "intro_plain"]
    assert COACH.launch(State()).says[1].key is not Key.PLAN_SET
