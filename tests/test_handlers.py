"""The ask-sdk handlers, driven by genuine request envelopes dispatched through build_skill().

No mocks of the SDK: every request goes through ``dispatch()``, exactly as the webhook
and the Lambda entry point send it, and every response is checked against Alexa's limits.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from ask_sdk_core.skill import CustomSkill
from conftest import PROMPTS, ROUTINE, check_response, said, send, ssml

from skill.alexa.dispatch import BadEnvelope, dispatch
from skill.alexa.handlers import build_skill
from skill.local.envelopes import Session, slot
from skill.routine.coach import Coach
from skill.routine.operations import BY_INTENT, HANDLED_INTENTS, Operation
from skill.speech.narration import Block
from skill.speech.ssml import plain_text

FALLBACK = PROMPTS["fallback"]
ERROR = PROMPTS["error"]


# ---------------------------------------------------------------------- helpers


def reprompt_said(response: dict[str, Any]) -> str:
    return plain_text(response["response"]["reprompt"]["outputSpeech"]["ssml"])


def ends(response: dict[str, Any]) -> bool:
    return response["response"].get("shouldEndSession") is True


def yoga(response: dict[str, Any]) -> dict[str, Any]:
    return dict(response["sessionAttributes"]["yoga"])


def last_keys(response: dict[str, Any]) -> list[str]:
    return [item["k"] for item in json.loads(response["sessionAttributes"]["last"])]


@pytest.fixture
def launched(skill: CustomSkill) -> tuple[Session, dict[str, Any]]:
    session = Session()
    return session, send(skill, session, session.launch())


def step_text(part_id: str, number: int) -> str:
    part = next(p for pose in ROUTINE.poses for p in pose.parts if p.id == part_id)
    return part.steps[number - 1].text


# ---------------------------------------------------------------------- launch


def test_launch(skill: CustomSkill) -> None:
    session = Session()
    response = send(skill, session, session.launch())
    assert not ends(response)
    text = said(response)
    assert text.startswith(ROUTINE.welcome)
    assert "Pose 1: Spinal roll into forward fold." in text
    assert "Step 5. Options to bend and straighten the legs." in text
    assert text.endswith(PROMPTS["next_hint"])
    assert reprompt_said(response) == PROMPTS["next_reprompt"]
    state = yoga(response)
    assert (state["pose"], state["status"], state["mode"], state["breaths"]) == (
        "forward_fold",
        "active",
        "hold",
        5,
    )
    assert last_keys(response)[0] == "welcome"


def test_launch_in_an_unknown_locale_speaks_english(skill: CustomSkill) -> None:
    session = Session(locale="de-DE")
    response = send(skill, session, session.launch())
    assert said(response).startswith(ROUTINE.welcome)


def test_launch_in_session_with_progress_offers_to_resume(skill: CustomSkill) -> None:
    session = Session()
    send(skill, session, session.launch())
    send(skill, session, session.intent("GoToPoseIntent", {"pose": slot("pose", "pigeon")}))
    response = send(skill, session, session.launch())
    assert said(response) == (
        "Welcome back. You were in Pigeon pose on the right side. Shall we carry on?"
    )
    assert yoga(response)["pending"] == "resume"
    yes = send(skill, session, session.intent("AMAZON.YesIntent"))
    assert said(yes).startswith("Pose 10: Pigeon pose. We'll start on the right side.")


# ---------------------------------------------------------------------- every intent

# The first thing each intent says right after launch (pose 1 narrated, no question pending).
FIRST_SAY = {
    "StartRoutineIntent": "intro",
    "AMAZON.NextIntent": "intro",
    "AMAZON.PreviousIntent": "at_start",
    "AMAZON.StartOverIntent": "start_over",
    "AMAZON.PauseIntent": "paused",
    "AMAZON.ResumeIntent": "intro",
    "AMAZON.YesIntent": "intro",
    "AMAZON.NoIntent": "take_your_time",
    "AMAZON.HelpIntent": "help_hold",
    "AMAZON.StopIntent": "goodbye",
    "AMAZON.CancelIntent": "goodbye",
    "AMAZON.NavigateHomeIntent": "goodbye",
    "AMAZON.FallbackIntent": "fallback",
    "AMAZON.RepeatIntent": "welcome",
    "RepeatPoseIntent": "intro",
    "SkipPoseIntent": "intro",
    "SwitchSideIntent": "one_sided",
    "TopTipIntent": "tip",
    "TargetAreasIntent": "targets",
    "WhichSideIntent": "one_sided",
    "WhereAmIIntent": "where",
    "RepeatStepIntent": "step",
    "SetModeIntent": "mode_set",
    "GoToPoseIntent": "intro",
    "SetHoldLengthIntent": "breaths_set",
    "ChangeHoldIntent": "breaths_set",
    "NumberAnswerIntent": "number_unasked",
    "TakeBreakIntent": "break",
    "SessionLengthIntent": "plan_set",
    "FocusIntent": "plan_set",
    "InstructionLevelIntent": "level_set",
    "HowLongIntent": "how_long",
    "ListPosesIntent": "list_poses",
    "PosesLeftIntent": "poses_left",
    "WhatsNextIntent": "up_next",
    "PoseNameIntent": "pose_name",
    "HowToIntent": "how_to",
    "FrontLegIntent": "front_leg",
    "PlayThroughIntent": "play_through_unavailable",  # no YOGA_AUDIO_BASE_URL here
    # the habits, with no store and no permission (tests/test_habits_alexa.py has the rest)
    "HistoryIntent": "history_none",
    "StreakIntent": "history_none",
    "ForgetHistoryIntent": "forget_nothing",
    "SetReminderIntent": "reminder_when",
    "ListRemindersIntent": "reminder_needs_app",
    "CancelReminderIntent": "reminder_needs_app",
}
SLOTS = {
    "RepeatStepIntent": {"step_number": slot("step_number", "2")},
    "SetModeIntent": {
        "mode": slot("mode", "flow", resolved_id="flow", slot_type="ModeType"),
    },
    "GoToPoseIntent": {
        "pose": slot("pose", "pigeon", resolved_id="pigeon", slot_type="PoseType"),
    },
    "SetHoldLengthIntent": {"breaths": slot("breaths", "8")},
    "ChangeHoldIntent": {
        "direction": slot("direction", "longer", resolved_id="longer", slot_type="HoldChangeType")
    },
    "NumberAnswerIntent": {"number": slot("number", "8")},
    "SessionLengthIntent": {
        "length": slot("length", "short", resolved_id="quick", slot_type="LengthType")
    },
    "FocusIntent": {
        "area": slot("area", "hamstrings", resolved_id="hamstrings", slot_type="AreaType")
    },
    "InstructionLevelIntent": {
        "level": slot("level", "fewer words", resolved_id="brief", slot_type="LevelType")
    },
    "HowToIntent": {
        "body_part": slot("body_part", "legs", resolved_id="legs", slot_type="BodyPartType")
    },
}


def test_every_handled_intent_has_an_expectation() -> None:
    assert set(FIRST_SAY) == set(HANDLED_INTENTS)
    assert "AMAZON.FallbackIntent" in HANDLED_INTENTS


@pytest.mark.parametrize("intent", sorted(HANDLED_INTENTS))
def test_each_handled_intent_gets_its_own_answer(
    intent: str,
    skill: CustomSkill,
    launched: tuple[Session, dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    session, launch = launched
    with caplog.at_level(logging.WARNING):
        response = send(skill, session, session.intent(intent, SLOTS.get(intent)))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "outputSpeech" in response["response"]
    text = said(response)
    # Handled by its own handler: remembered as the last answer (the catch-all path is not) ...
    assert last_keys(response)[0] == FIRST_SAY[intent]
    # ... and never the apology or the did-not-catch-that answer, except the fallback intent.
    assert ERROR not in text
    if intent == "AMAZON.FallbackIntent":
        assert text == FALLBACK
    else:
        assert "Sorry" not in text
    if intent == "AMAZON.RepeatIntent":
        assert ssml(response) == ssml(launch)
    if intent in ("AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent"):
        assert ends(response)
    else:
        assert response["response"]["shouldEndSession"] is False


@pytest.mark.parametrize("intent", sorted(HANDLED_INTENTS))
def test_each_handled_intent_as_the_first_request_of_a_session(
    intent: str, skill: CustomSkill, caplog: pytest.LogCaptureFixture
) -> None:
    """One-shot invocations ("ask post run yoga to go to pigeon") arrive with no launch first."""
    session = Session()
    with caplog.at_level(logging.WARNING):
        response = send(skill, session, session.intent(intent, SLOTS.get(intent)))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert ERROR not in said(response)
    if intent != "AMAZON.FallbackIntent":
        assert "Sorry" not in said(response)


# ---------------------------------------------------------------------- slots


@pytest.mark.parametrize(
    ("slots", "number"),
    [
        ({"step_number": slot("step_number", "3")}, 3),
        ({"step_ordinal": slot("step_ordinal", "2")}, 2),
        ({"step_number": slot("step_number", "4"), "step_ordinal": slot("step_ordinal", "2")}, 4),
        ({}, 5),  # no slot: the current step, the last one heard
        ({"step_number": {"name": "step_number", "confirmationStatus": "NONE"}}, 5),
        ({"step_number": slot("step_number", "?")}, 5),
    ],
)
def test_repeat_step_slots(
    slots: dict[str, Any], number: int, skill: CustomSkill, launched: tuple[Session, Any]
) -> None:
    session, _ = launched
    response = send(skill, session, session.intent("RepeatStepIntent", slots))
    # the step, and then (it asks nothing) what to say next
    step = f"Step {number}. {step_text('forward_fold', number)}"
    assert said(response) == f"{step} {PROMPTS['step_reprompt']}"
    assert yoga(response)["step"] == number - 1
    assert reprompt_said(response) == PROMPTS["step_reprompt"]


def test_repeat_step_out_of_range(skill: CustomSkill, launched: tuple[Session, Any]) -> None:
    session, launch = launched
    response = send(
        skill,
        session,
        session.intent("RepeatStepIntent", {"step_number": slot("step_number", "9")}),
    )
    assert said(response) == (
        "Spinal roll into forward fold has 5 steps. Which step would you like to hear?"
    )
    # The runner stays where they were; the skill waits for the step's number.
    assert {**yoga(response), "pending": None} == yoga(launch)
    assert yoga(response)["pending"] == "step"
    three = send(
        skill, session, session.intent("NumberAnswerIntent", {"number": slot("number", "three")})
    )
    assert said(three) == f"Step 3. {step_text('forward_fold', 3)} {PROMPTS['step_reprompt']}"


def test_repeat_step_zero_is_no_such_step(
    skill: CustomSkill, launched: tuple[Session, Any]
) -> None:
    session, _ = launched
    response = send(
        skill,
        session,
        session.intent("RepeatStepIntent", {"step_number": slot("step_number", "0")}),
    )
    assert "has 5 steps" in said(response)


@pytest.mark.parametrize(
    ("mode_slot", "mode"),
    [
        (slot("mode", "flowing", resolved_id="flow", slot_type="ModeType"), "flow"),
        (slot("mode", "holds", resolved_id="hold", slot_type="ModeType"), "hold"),
        (slot("mode", "flow"), "flow"),  # raw value, no resolutions
        (slot("mode", "Flow "), "flow"),
        (slot("mode", "hold"), "hold"),
    ],
)
def test_set_mode_slot(
    mode_slot: dict[str, Any], mode: str, skill: CustomSkill, launched: tuple[Session, Any]
) -> None:
    session, launch = launched
    response = send(skill, session, session.intent("SetModeIntent", {"mode": mode_slot}))
    assert yoga(response)["mode"] == mode
    text = said(response)
    if mode == "flow":
        assert text.startswith("Flow mode: one breath to each movement.")
        assert "Spinal roll into forward fold." in text
        assert reprompt_said(response) == PROMPTS["next_reprompt"]
    else:  # already holding: said so, and the pose is not narrated again
        assert text == PROMPTS["mode_already_hold"]
        assert yoga(response) == yoga(launch)


@pytest.mark.parametrize(
    "mode_slot",
    [
        slot("mode", "turbo", slot_type="ModeType", matched=False),
        slot("mode", "turbo"),
        {"name": "mode", "confirmationStatus": "NONE"},
    ],
)
def test_set_mode_unknown_value(
    mode_slot: dict[str, Any], skill: CustomSkill, launched: tuple[Session, Any]
) -> None:
    session, launch = launched
    response = send(skill, session, session.intent("SetModeIntent", {"mode": mode_slot}))
    assert said(response) == PROMPTS["which_mode"]
    assert yoga(response) == yoga(launch)


@pytest.mark.parametrize(
    ("pose_slot", "expected"),
    [
        (
            slot("pose", "down dog", resolved_id="downward_dog", slot_type="PoseType"),
            "downward_dog",
        ),
        (slot("pose", "down dog"), "downward_dog"),  # raw synonym, no resolutions
        (slot("pose", "child's pose", slot_type="PoseType", matched=False), "childs_pose"),
        (slot("pose", "savasana"), "relaxation"),
    ],
)
def test_go_to_pose_slot(
    pose_slot: dict[str, Any], expected: str, skill: CustomSkill, launched: tuple[Session, Any]
) -> None:
    session, _ = launched
    response = send(skill, session, session.intent("GoToPoseIntent", {"pose": pose_slot}))
    assert yoga(response)["pose"] == expected
    number = ROUTINE.index_of(expected) + 1  # type: ignore[operator]
    assert said(response).startswith(f"Pose {number}: {ROUTINE.pose(expected).name}.")


def test_go_to_a_variation_accepts_it(skill: CustomSkill, launched: tuple[Session, Any]) -> None:
    session, _ = launched
    pose = slot(
        "pose", "advanced high lunge", resolved_id="advanced_high_lunge", slot_type="PoseType"
    )
    response = send(skill, session, session.intent("GoToPoseIntent", {"pose": pose}))
    state = yoga(response)
    assert (state["pose"], state["variation"], state["side"]) == (
        "high_lunge",
        "advanced_high_lunge",
        "right",
    )
    assert state["accepted"] == ["advanced_high_lunge"]


@pytest.mark.parametrize(
    "pose_slot",
    [
        slot("pose", "headstand", slot_type="PoseType", matched=False),
        slot("pose", "headstand"),
        slot("pose", "headstand", resolved_id="headstand", slot_type="PoseType"),
        {"name": "pose", "confirmationStatus": "NONE"},
    ],
)
def test_go_to_unknown_pose(
    pose_slot: dict[str, Any], skill: CustomSkill, launched: tuple[Session, Any]
) -> None:
    session, launch = launched
    response = send(skill, session, session.intent("GoToPoseIntent", {"pose": pose_slot}))
    assert said(response) == PROMPTS["unknown_pose"].format(
        examples="downward dog, reverse warrior or pigeon"
    )
    assert yoga(response) == yoga(launch)


@pytest.mark.parametrize(
    ("value", "breaths"),
    [
        ("8", 8),
        ("1", 1),
        ("15", 15),
        ("eight", 8),  # some clients send the words, not the digits
        ("Twelve", 12),
        ("99", None),
        ("0", None),
        ("banana", None),
        ("?", None),
    ],
)
def test_set_hold_length_slot(
    value: str, breaths: int | None, skill: CustomSkill, launched: tuple[Session, Any]
) -> None:
    session, launch = launched
    response = send(
        skill, session, session.intent("SetHoldLengthIntent", {"breaths": slot("breaths", value)})
    )
    if breaths is None:
        assert said(response) == (
            "I can hold each pose for 1 to 15 breaths. How many would you like?"
        )
        assert {**yoga(response), "pending": None} == yoga(launch)
        # a bare number now answers the question
        eight = send(
            skill,
            session,
            session.intent("NumberAnswerIntent", {"number": slot("number", "eight")}),
        )
        assert yoga(eight)["breaths"] == 8
        assert (
            said(eight) == f"Okay, 8 breaths in each hold from now on. {PROMPTS['next_reprompt']}"
        )
    else:
        assert yoga(response)["breaths"] == breaths
        assert str(breaths) in said(response) or breaths == 1
        after = send(skill, session, session.intent("RepeatPoseIntent"))
        assert said(after).count(PROMPTS["breath_in"]) == breaths


# ---------------------------------------------------------------------- repeat


def test_repeat_says_the_previous_answer_exactly(
    skill: CustomSkill, launched: tuple[Session, Any]
) -> None:
    session, _ = launched
    for intent in ("AMAZON.NextIntent", "AMAZON.NextIntent", "WhichSideIntent", "TopTipIntent"):
        before = send(skill, session, session.intent(intent))
        again = send(skill, session, session.intent("AMAZON.RepeatIntent"))
        assert ssml(again) == ssml(before)
        assert again["response"]["reprompt"] == before["response"]["reprompt"]
        assert yoga(again) == yoga(before)
    # A fallback is not remembered: repeat after it repeats the answer before it.
    tip = send(skill, session, session.intent("TopTipIntent"))
    send(skill, session, session.intent("MadeUpIntent"))
    assert ssml(send(skill, session, session.intent("AMAZON.RepeatIntent"))) == ssml(tip)


def test_repeat_keeps_an_offer_open(skill: CustomSkill, launched: tuple[Session, Any]) -> None:
    session, _ = launched
    send(skill, session, session.intent("AMAZON.NextIntent"))
    offer = send(skill, session, session.intent("AMAZON.NextIntent"))
    assert yoga(offer)["pending"] == "offer:advanced_high_lunge"
    again = send(skill, session, session.intent("AMAZON.RepeatIntent"))
    assert ssml(again) == ssml(offer)
    assert reprompt_said(again) == "Would you like to try Advanced high lunge? Yes or no?"
    yes = send(skill, session, session.intent("AMAZON.YesIntent"))
    assert yoga(yes)["variation"] == "advanced_high_lunge"


def test_repeat_with_nothing_said_yet_starts(skill: CustomSkill) -> None:
    session = Session()
    response = send(skill, session, session.intent("AMAZON.RepeatIntent"))
    assert said(response).startswith(ROUTINE.welcome)


# ---------------------------------------------------------------------- unknown requests


def test_unknown_intent_gets_a_spoken_recovery(
    skill: CustomSkill, launched: tuple[Session, Any]
) -> None:
    session, launch = launched
    response = send(skill, session, session.intent("MadeUpIntent"))
    assert said(response) == FALLBACK
    assert response["response"]["shouldEndSession"] is False
    assert yoga(response) == yoga(launch)
    assert response["sessionAttributes"]["last"] == launch["sessionAttributes"]["last"]


@pytest.mark.parametrize(
    "request_type",
    ["Alexa.Presentation.APL.UserEvent", "CanFulfillIntentRequest", "Connections.Response"],
)
def test_unhandled_request_type_gets_a_spoken_recovery(
    request_type: str, skill: CustomSkill, launched: tuple[Session, Any]
) -> None:
    session, launch = launched
    response = send(skill, session, session.envelope({"type": request_type}))
    assert said(response) == FALLBACK
    assert yoga(response) == yoga(launch)


def test_request_type_the_sdk_does_not_know_is_a_bad_envelope(skill: CustomSkill) -> None:
    """Not spoken to: skill.alexa.dispatch rejects it (the webhook answers HTTP 400)."""
    session = Session()
    with pytest.raises(BadEnvelope):
        dispatch(skill, session.envelope({"type": "Made.Up.Request"}))


def test_request_without_a_session(skill: CustomSkill) -> None:
    session = Session()
    envelope = session.envelope({"type": "AlexaSkillEvent.SkillEnabled"})
    del envelope["session"]
    response = dispatch(skill, envelope)
    check_response(response)


def test_session_ended_says_nothing(skill: CustomSkill, launched: tuple[Session, Any]) -> None:
    session, _ = launched
    response = dispatch(skill, session.session_ended("EXCEEDED_MAX_REPROMPTS"))
    check_response(response)
    assert "outputSpeech" not in response["response"]
    assert "reprompt" not in response["response"]


# ---------------------------------------------------------------------- tampered session


@pytest.mark.parametrize(
    "attributes",
    [
        {"yoga": "garbage"},
        {"yoga": {"v": 99}},
        {"yoga": {"pose": 5}},
        {"yoga": None},
        {"yoga": [1, 2, 3]},
        {"yoga": {"v": 1, "routine": "post_run", "pose": "headstand"}},
        {
            "yoga": {
                "v": 1,
                "routine": "post_run",
                "pose": "pigeon",
                "side": "upside down",
                "step": "x",
                "breaths": 0,
                "mode": "turbo",
                "status": "dancing",
                "pending": "offer:headstand",
                "accepted": "all",
            }
        },
        {"yoga": {"v": 1, "routine": "post_run", "pose": "pigeon", "step": 10**40}},
        {"last": "garbage"},
        {"last": [{"k": 5}, "x", None]},
        {"last": []},
    ],
)
@pytest.mark.parametrize(
    "intent", ["AMAZON.NextIntent", "AMAZON.RepeatIntent", "WhichSideIntent", "AMAZON.YesIntent"]
)
def test_tampered_session_attributes_recover(
    attributes: dict[str, Any], intent: str, skill: CustomSkill
) -> None:
    session = Session()
    session.new = False
    session.attributes = attributes
    response = send(skill, session, session.intent(intent))
    assert ERROR not in said(response)
    assert response["response"]["shouldEndSession"] is False
    state = yoga(response)
    assert state["v"] == 1
    # and the session carries on normally afterwards
    after = send(skill, session, session.intent("AMAZON.NextIntent"))
    assert ERROR not in said(after)


def test_unrenderable_last_answer_apologises_then_recovers(
    skill: CustomSkill, caplog: pytest.LogCaptureFixture
) -> None:
    """A remembered answer that cannot be rendered (only tampering makes one) gets the apology,
    with the session kept open; any other request then carries on normally."""
    session = Session()
    send(skill, session, session.launch())
    session.attributes["last"] = json.dumps([{"k": "welcome", "p": "nope"}])
    with caplog.at_level(logging.ERROR, logger="skill.alexa.handlers"):
        response = send(skill, session, session.intent("AMAZON.RepeatIntent"))
    _check_apology(response)
    after = send(skill, session, session.intent("AMAZON.NextIntent"))
    assert yoga(after)["pose"] == "downward_dog"
    assert ssml(send(skill, session, session.intent("AMAZON.RepeatIntent"))) == ssml(after)


@pytest.mark.parametrize(
    "last",
    [
        [{"k": "hold", "p": {"breaths": 10**18}}],  # rendered breath by breath: never returned
        [{"k": "hold", "p": {"breaths": 1e18}}],
        [{"k": "hold", "p": {"breaths": 5000}}],  # a response far over Alexa's limit
        [{"k": "hold", "p": {"breaths": 0}}],
        [{"k": "hold", "p": {"breaths": -3}}],
        [{"k": "relax", "p": {"seconds": 10**15}}],  # a break tag every 10 s of it
        [{"k": "relax", "p": {"seconds": -1}}],
    ],
)
def test_a_remembered_count_out_of_range_apologises_at_once(
    last: list[dict[str, Any]], skill: CustomSkill
) -> None:
    """A hold's breaths and the closing rest's seconds set how much is rendered: out of the
    skill's own range (only tampering makes one) it is the apology, not a hang or a response
    larger than Alexa takes."""
    session = Session()
    send(skill, session, session.launch())
    session.attributes["last"] = json.dumps(last)
    _check_apology(send(skill, session, session.intent("AMAZON.RepeatIntent")))


@pytest.mark.parametrize(
    "last",
    [
        [{"k": "where", "p": {"part": "pigeon", "side": "x" * 20_000}}],  # huge value
        [{"k": "where", "p": {"x" * 100: 1}}],  # huge name
        [{"k": "list_poses", "p": {"poses": ["pigeon"] * 1000, "plan": "full"}}],
        [{"k": "where", "p": {"part": {"nested": True}}}],
    ],
)
def test_a_tampered_last_answer_is_never_remembered_nor_cached(
    last: list[dict[str, Any]], skill: CustomSkill
) -> None:
    """ "Repeat that" takes only what the skill itself could have said: anything larger or
    odder is dropped (it would otherwise become a key of the skill's caches), and the pose is
    taken up again instead."""
    session = Session()
    launch = send(skill, session, session.launch())
    session.attributes["last"] = json.dumps(last)
    response = send(skill, session, session.intent("AMAZON.RepeatIntent"))
    assert ERROR not in said(response)
    assert "x" * 100 not in said(response)
    assert yoga(response)["pose"] == yoga(launch)["pose"]
    assert len(response["sessionAttributes"]["last"]) < 4096


# ---------------------------------------------------------------------- the catch-all


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("kaboom")


def _check_apology(response: dict[str, Any]) -> None:
    assert said(response) == ERROR
    assert reprompt_said(response) == FALLBACK
    assert response["response"]["shouldEndSession"] is False


def _check_logged(caplog: pytest.LogCaptureFixture, kind: type[BaseException]) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the failure was not logged"
    record = errors[-1]
    assert record.name == "skill.alexa.handlers"
    assert record.getMessage() == "handler failed"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], kind)


def test_failing_handler_apologises_and_keeps_the_session(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    skill = build_skill()
    session = Session()
    launch = send(skill, session, session.launch())
    monkeypatch.setattr(Coach, "_narrate", _boom)
    with caplog.at_level(logging.ERROR, logger="skill.alexa.handlers"):
        response = send(skill, session, session.intent("AMAZON.NextIntent"))
    _check_apology(response)
    _check_logged(caplog, RuntimeError)
    # the runner's place is kept
    assert yoga(response) == yoga(launch)
    monkeypatch.undo()
    after = send(skill, session, session.intent("AMAZON.NextIntent"))
    assert yoga(after)["pose"] == "downward_dog"


def test_failing_operation_in_the_intent_table(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(BY_INTENT, "AMAZON.NextIntent", Operation("AMAZON.NextIntent", _boom))
    skill = build_skill()
    session = Session()
    send(skill, session, session.launch())
    with caplog.at_level(logging.ERROR, logger="skill.alexa.handlers"):
        response = send(skill, session, session.intent("AMAZON.NextIntent"))
    _check_apology(response)
    _check_logged(caplog, RuntimeError)


def test_broken_routine_object(caplog: pytest.LogCaptureFixture) -> None:
    broken = ROUTINE._replace(welcome=None)  # type: ignore[arg-type]
    skill = build_skill(broken)
    session = Session()
    with caplog.at_level(logging.ERROR, logger="skill.alexa.handlers"):
        response = send(skill, session, session.launch())
    _check_apology(response)
    _check_logged(caplog, AttributeError)
    # what does not need the broken part still works
    help_ = send(skill, session, session.intent("AMAZON.HelpIntent"))
    assert ERROR not in said(help_)


def test_a_failed_turn_does_not_move_the_runner_on(caplog: pytest.LogCaptureFixture) -> None:
    failing = {"on": False}

    def clips(block: Block) -> tuple[str, float] | None:
        if failing["on"]:
            raise OSError("clip manifest unreadable")
        return None

    skill = build_skill(clips=clips)
    session = Session()
    launch = send(skill, session, session.launch())
    failing["on"] = True
    with caplog.at_level(logging.ERROR, logger="skill.alexa.handlers"):
        response = send(skill, session, session.intent("AMAZON.NextIntent"))
    _check_apology(response)
    _check_logged(caplog, OSError)
    assert yoga(response) == yoga(launch)


# ---------------------------------------------------------------------- goodbyes


@pytest.mark.parametrize(
    "intent", ["AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent"]
)
def test_stop_and_cancel_say_a_short_goodbye(
    intent: str, skill: CustomSkill, launched: tuple[Session, Any]
) -> None:
    session, _ = launched
    response = send(skill, session, session.intent(intent))
    assert ends(response)
    assert said(response) == PROMPTS["goodbye"]
    assert len(said(response)) <= 40
    # before anything has started, shorter still
    fresh = Session()
    first = send(skill, fresh, fresh.intent(intent))
    assert ends(first)
    assert said(first) == PROMPTS["goodbye_short"]


def test_stop_keeps_the_place_for_next_time(
    skill: CustomSkill, launched: tuple[Session, Any]
) -> None:
    session, _ = launched
    send(skill, session, session.intent("AMAZON.NextIntent"))
    response = send(skill, session, session.intent("AMAZON.StopIntent"))
    assert yoga(response)["pose"] == "downward_dog"
