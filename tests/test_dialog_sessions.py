"""Quick, focused and brief sessions typed through ``yoga-skill dialog``'s path in every locale:
each runs from the first words to the closing relaxation, and the families of issue 9 resolve
and answer."""

from __future__ import annotations

import pytest
from conftest import ROUTINE

from skill.alexa.handlers import build_skill
from skill.local.dialog import Dialog, TurnResult
from skill.routine.coach import Coach
from skill.routine.state import QUICK, State, focus
from skill.settings import LOCALES

COACH = Coach(ROUTINE)


def converse(locale: str, opening: list[str]) -> tuple[list[TurnResult], Dialog]:
    """Say the opening lines, then "next" (and "no" to offers) until the session ends."""
    dialog = Dialog(build_skill(), locale=locale)
    turns = [dialog.say(line) for line in opening]
    while not turns[-1].should_end_session:
        pending = (turns[-1].session_attributes.get("yoga") or {}).get("pending") or ""
        turns.append(dialog.say("no thanks" if pending.startswith("offer:") else "next"))
        assert len(turns) < 80, "the session never ends"
    return turns, dialog


def poses_heard(turns: list[TurnResult]) -> list[str]:
    heard: list[str] = []
    for turn in turns:
        pose = (turn.session_attributes.get("yoga") or {}).get("pose")
        if pose and (not heard or heard[-1] != pose):
            heard.append(pose)
    return heard


@pytest.mark.parametrize("locale", LOCALES)
def test_a_quick_session_in_hold_mode(locale: str) -> None:
    turns, _ = converse(locale, ["start post run yoga", "a short session please"])
    assert turns[1].intent == "SessionLengthIntent"
    assert turns[1].speech.startswith("Okay, the quick session:")
    assert poses_heard(turns[1:]) == [p.id for p in COACH.plan_poses(State(plan=QUICK))]
    assert "Savasana" in turns[-2].speech or "relaxation" in turns[-2].speech.lower()
    assert turns[-1].speech.startswith(ROUTINE.closing[:40])


@pytest.mark.parametrize("locale", LOCALES)
def test_a_focused_session_in_flow_mode(locale: str) -> None:
    turns, _ = converse(
        locale, ["open post run yoga", "switch to flow mode", "something for my hamstrings"]
    )
    assert turns[2].intent == "FocusIntent"
    expected = [p.id for p in COACH.plan_poses(State(plan=focus("hamstrings")))]
    assert poses_heard(turns[2:])[-1] == "relaxation"
    assert set(poses_heard(turns[2:])) <= set(expected) | {"forward_fold"}
    assert turns[-1].should_end_session


@pytest.mark.parametrize("locale", LOCALES)
def test_a_brief_session(locale: str) -> None:
    turns, _ = converse(locale, ["start post run yoga", "fewer words please"])
    assert turns[1].intent == "InstructionLevelIntent"
    assert turns[1].session_attributes["yoga"]["brief"] is True
    later = " ".join(t.speech for t in turns[2:])
    assert "Step 1." not in later and "Top tip" not in later
    assert "Breathe in." in later
    assert poses_heard(turns)[-1] == "relaxation"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_families_answer_mid_session(locale: str) -> None:
    dialog = Dialog(build_skill(), locale=locale)
    dialog.say("start post run yoga")
    dialog.say("next")
    asked = {
        "how long have i got left": "HowLongIntent",
        "which poses will we do": "ListPosesIntent",
        "how many poses are left": "PosesLeftIntent",
        "what's after this one": "WhatsNextIntent",
        "what's this pose called": "PoseNameIntent",
        "hold them longer": "ChangeHoldIntent",
        "can i have a breather": "TakeBreakIntent",
    }
    answers = {}
    for utterance, intent in asked.items():
        turn = answers[utterance] = dialog.say(utterance)
        assert turn.intent == intent, (locale, utterance, turn.intent)
        assert "Sorry" not in turn.speech, (utterance, turn.speech)
    longer = answers["hold them longer"].session_attributes["yoga"]
    assert (longer["breaths"], longer["status"]) == (7, "active")  # never a pause
    assert answers["can i have a breather"].session_attributes["yoga"]["status"] == "paused"
