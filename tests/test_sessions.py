"""Whole scripted sessions through build_skill() and genuine envelopes, turn after turn.

Session attributes are carried from each response into the next request (Session.absorb), as
Alexa does. The order of poses and sides a session should visit is worked out here from the
routine YAML, independently of the state machine; every response is checked against Alexa's
limits, and a routine whose words contain "<&>" checks that everything spoken is escaped.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any
from xml.sax.saxutils import unescape

import pytest
from conftest import PROMPTS, RAW, norm, said
from conftest import check_response as check_alexa_response

from skill.alexa.dispatch import dispatch
from skill.alexa.handlers import build_skill
from skill.local.envelopes import Session, slot
from skill.routine.content import parse_routine
from skill.routine.state import FLOW_SEGMENTS_PER_TURN

NASTY = "<&>"


def _escaped_raw() -> dict[str, Any]:
    """The routine with markup characters (and quotes) in every kind of spoken text."""
    raw = copy.deepcopy(RAW)
    poses = {pose["id"]: pose for pose in raw["poses"]}
    raw["welcome"] += f' Stretch {NASTY} smile, "really".'
    raw["closing"] += f" {NASTY}"
    poses["forward_fold"]["steps"][0] = f'Stand tall {NASTY} say "ahh", right foot steady.'
    poses["downward_dog"]["name"] = f"Downward dog {NASTY} friends"
    poses["high_lunge"]["steps"][0] = f"Come into a lunge, right foot forward {NASTY} heel down."
    poses["high_lunge"]["tip"] += f" {NASTY}"
    poses["high_lunge"]["target_areas"].append(f"odd {NASTY} bits")
    poses["high_lunge"]["variations"][0]["offer"] = f"Fancy the advanced {NASTY} version?"
    poses["high_lunge"]["flow"][0] += f" {NASTY}"
    poses["warrior_two"]["steps"][6] += f" {NASTY}"
    poses["warrior_two"]["switch"] += f" {NASTY}"
    poses["pigeon"]["variations"][0]["steps"][0] += f" {NASTY}"
    poses["pigeon"]["flow"][1] += f" {NASTY}"
    poses["relaxation"]["tip"] += f" {NASTY}"
    return raw


ROUTINES = {"default": RAW, "escaped": _escaped_raw()}


# ---------------------------------------------------------------------- expectations from YAML


def raw_sides(part: dict[str, Any]) -> list[str]:
    if not part.get("two_sided"):
        return [""]
    first = part.get("first_side", "right")
    return [first, "left" if first == "right" else "right"]


def raw_parts(raw: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for pose in raw["poses"]:
        yield pose
        yield from pose.get("variations") or []


def expected_visits(raw: dict[str, Any], *, variations: bool) -> list[tuple[str, str]]:
    """(part id, side) in the order the routine file describes: a variation with each_side
    follows its pose on each side; one without comes after the pose's last side."""
    out: list[tuple[str, str]] = []
    for pose in raw["poses"]:
        chosen = (pose.get("variations") or []) if variations else []
        each = [v for v in chosen if v.get("each_side", True)]
        after = [v for v in chosen if not v.get("each_side", True)]
        for i, side in enumerate(raw_sides(pose)):
            out.append((pose["id"], side))
            out.extend((v["id"], raw_sides(v)[i]) for v in each)
        for v in after:
            out.extend((v["id"], s) for s in raw_sides(v))
    return out


def test_expected_visits_match_the_routine_as_written() -> None:
    visits = expected_visits(RAW, variations=True)
    assert visits[:5] == [
        ("forward_fold", ""),
        ("downward_dog", ""),
        ("high_lunge", "right"),
        ("advanced_high_lunge", "right"),
        ("high_lunge", "left"),
    ]
    assert visits[-4:] == [
        ("pigeon", "left"),
        ("reclined_pigeon", "left"),
        ("reclined_pigeon", "right"),
        ("relaxation", ""),
    ]
    assert {pid for pid, _ in visits} == {part["id"] for part in raw_parts(RAW)}
    assert len(expected_visits(RAW, variations=False)) == 17


# ---------------------------------------------------------------------- checks on every response


def check_response(response: dict[str, Any]) -> None:
    check_alexa_response(response)  # limits, valid and well-formed SSML, no raw NASTY
    body = response["response"]
    if body.get("shouldEndSession") is not True:
        assert body.get("shouldEndSession") is False
        assert body["reprompt"]["outputSpeech"]["ssml"]


class Runner:
    """One runner's conversation with a skill built on a given routine file."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.skill = build_skill(parse_routine(copy.deepcopy(raw), "test routine"))
        self.session = Session()
        self.responses: list[dict[str, Any]] = []
        self.names = {part["id"]: norm(part["name"]) for part in raw_parts(raw)}

    def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        response = dispatch(self.skill, envelope)
        check_response(response)
        self.responses.append(response)
        self.session.absorb(response)
        return response

    def launch(self) -> dict[str, Any]:
        return self.send(self.session.launch())

    def say(self, intent: str, **slots: Any) -> dict[str, Any]:
        return self.send(self.session.intent(intent, slots or None))

    def next_or_yes(self) -> dict[str, Any]:
        pending = (self.session.attributes.get("yoga") or {}).get("pending") or ""
        return self.say("AMAZON.YesIntent" if pending.startswith("offer:") else "AMAZON.NextIntent")

    def until_the_end(self, step: str = "yes", limit: int = 80) -> None:
        for _ in range(limit):
            response = self.next_or_yes() if step == "yes" else self.say("AMAZON.NextIntent")
            if response["response"].get("shouldEndSession"):
                return
        raise AssertionError("the session never finished")


def position(response: dict[str, Any]) -> tuple[str, str]:
    state = response["sessionAttributes"]["yoga"]
    return state["variation"] or state["pose"], state["side"]


def collapse(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for item in items:
        if not out or out[-1] != item:
            out.append(item)
    return out


def spoken_chunks(ssml: str) -> list[str]:
    """The text between pauses, unescaped: each narrated line that ends with a pause."""
    body = ssml.removeprefix("<speak>").removesuffix("</speak>")
    return [norm(unescape(c)) for c in re.split(r"<break[^>]*/>", body) if c.strip()]


def flow_visits(runner: Runner, response: dict[str, Any]) -> list[tuple[str, str]]:
    """The parts a flow response threads, read from its spoken pose announcements."""
    by_name = {name: pid for pid, name in runner.names.items()}
    out = []
    for chunk in spoken_chunks(response["response"]["outputSpeech"]["ssml"]):
        match = re.fullmatch(r"(.+?)(?:, (right|left) side)?\.", chunk)
        if match and match.group(1) in by_name:
            out.append((by_name[match.group(1)], match.group(2) or ""))
    return out


def check_finished(runner: Runner) -> None:
    last = runner.responses[-1]
    assert last["response"]["shouldEndSession"] is True
    assert said(last) == f"{norm(runner.raw['closing'])} {PROMPTS['goodbye_finished']}"
    assert runner.session.attributes == {}  # the next request starts a new session


def check_escaping(runner: Runner) -> None:
    if runner.raw is RAW:
        return
    texts = [said(r) for r in runner.responses]
    assert sum(NASTY in t for t in texts) >= 3
    assert any('say "ahh"' in t for t in texts)


# ---------------------------------------------------------------------- hold mode, all of it


@pytest.mark.parametrize("breaths", [5, 15])
@pytest.mark.parametrize("routine", list(ROUTINES))
def test_hold_session_from_launch_to_goodbye(routine: str, breaths: int) -> None:
    runner = Runner(ROUTINES[routine])
    first = runner.launch()
    assert said(first).startswith(norm(runner.raw["welcome"]))
    if breaths != 5:
        set_it = runner.say("SetHoldLengthIntent", breaths=slot("breaths", str(breaths)))
        assert said(set_it) == (
            f"Okay, {breaths} breaths in each hold from now on. {PROMPTS['next_reprompt']}"
        )
        again = runner.say("RepeatPoseIntent")
        assert said(again).count(PROMPTS["breath_in"]) == breaths
    runner.until_the_end("yes")

    visits = collapse([position(r) for r in runner.responses])
    assert visits == expected_visits(runner.raw, variations=True)
    check_finished(runner)
    check_escaping(runner)

    # Every narrated segment names its side, and every hold counts the set breaths.
    narrated = [
        r for r in runner.responses if json.loads(r["sessionAttributes"]["last"])[0]["k"] == "intro"
    ]
    for response in runner.responses:
        keys = [item["k"] for item in json.loads(response["sessionAttributes"].get("last", "[]"))]
        text = said(response)
        part_id, side = position(response)
        if "intro" in keys and side:
            assert f"We'll start on the {side} side." in text
        if "intro_side" in keys:
            assert f"Now {runner.names[part_id]} on the {side} side." in text
        if "hold" in keys:
            held = response["sessionAttributes"]["yoga"]["breaths"]
            assert held == (5 if response is first else breaths)
            assert text.count(PROMPTS["breath_in"]) == held
            assert f"Hold here for {held} breaths." in text
        if "relax" in keys:
            assert PROMPTS["breath_in"] not in text
            assert PROMPTS["relax_start"] in text
    assert narrated

    # Both offers were made and taken.
    offers = [r for r in runner.responses if "Say yes, or no to move on." in said(r)]
    assert len(offers) == 2


def test_hold_session_saying_no_to_the_offers() -> None:
    runner = Runner(RAW)
    runner.launch()
    for _ in range(80):
        pending = (runner.session.attributes.get("yoga") or {}).get("pending") or ""
        response = runner.say("AMAZON.NoIntent" if pending else "AMAZON.NextIntent")
        if response["response"]["shouldEndSession"]:
            break
    visits = collapse([position(r) for r in runner.responses])
    assert visits == expected_visits(RAW, variations=False)
    check_finished(runner)


# ---------------------------------------------------------------------- flow mode, all of it


@pytest.mark.parametrize("routine", list(ROUTINES))
def test_flow_session_from_launch_to_goodbye(routine: str) -> None:
    runner = Runner(ROUTINES[routine])
    launch = runner.launch()
    mode = runner.say(
        "SetModeIntent", mode=slot("mode", "flow", resolved_id="flow", slot_type="ModeType")
    )
    assert said(mode).startswith("Flow mode: one breath to each movement.")
    runner.until_the_end("yes")

    visits = [position(launch)]
    for response in runner.responses[1:-1]:
        chunk = flow_visits(runner, response)
        assert 1 <= len(chunk) <= FLOW_SEGMENTS_PER_TURN
        # the state ends on the last part threaded
        assert position(response) == chunk[-1]
        visits.extend(chunk)
    # Flow mode threads every pose and both sides; variations are only offered in hold mode.
    assert collapse(visits) == expected_visits(runner.raw, variations=False)
    assert not any("Say yes, or no to move on." in said(r) for r in runner.responses)
    assert not any(PROMPTS["breath_in"] in said(r) for r in runner.responses[1:])
    check_finished(runner)
    check_escaping(runner)

    everything = " ".join(said(r) for r in runner.responses)
    # the second side's cues have left and right swapped
    assert "step your left foot forward into a lunge, right heel lifted." in everything
    assert "Exhale, right foot forward and drop your left knee to the mat." in everything
    assert "Exhale, left foot forward and drop your right knee to the mat." in everything


def test_flow_session_with_variations_accepted_in_hold_first() -> None:
    """Accepted in hold mode, the variations are threaded into the flow too."""
    runner = Runner(RAW)
    runner.launch()
    runner.say("AMAZON.NextIntent")
    runner.say("AMAZON.NextIntent")  # high lunge, right: the offer
    runner.say("AMAZON.YesIntent")
    runner.say("GoToPoseIntent", pose=slot("pose", "reclined pigeon"))  # accepts it
    runner.say("GoToPoseIntent", pose=slot("pose", "high lunge"))
    runner.say("SetModeIntent", mode=slot("mode", "flow"))
    runner.until_the_end("next")
    visits = []
    for response in runner.responses[6:-1]:
        visits.extend(flow_visits(runner, response))
    walk = expected_visits(RAW, variations=True)
    assert visits == walk[walk.index(("high_lunge", "right")) :]
    check_finished(runner)


# ---------------------------------------------------------------------- a session with detours


@pytest.mark.parametrize("routine", list(ROUTINES))
def test_session_with_repeat_previous_side_tip_targets_help(routine: str) -> None:
    runner = Runner(ROUTINES[routine])
    raw = runner.raw
    lunge = next(p for p in raw["poses"] if p["id"] == "high_lunge")
    runner.launch()
    dog = runner.say("AMAZON.NextIntent")
    assert position(dog) == ("downward_dog", "")

    offer = runner.say("AMAZON.NextIntent")
    assert position(offer) == ("high_lunge", "right")
    assert offer["sessionAttributes"]["yoga"]["pending"] == "offer:advanced_high_lunge"
    again = runner.say("AMAZON.RepeatIntent")
    assert again["response"]["outputSpeech"] == offer["response"]["outputSpeech"]
    assert again["response"]["reprompt"] == offer["response"]["reprompt"]
    helped = runner.say("AMAZON.HelpIntent")
    assert said(helped) == PROMPTS["help_offer"]
    assert helped["sessionAttributes"]["yoga"]["pending"] == "offer:advanced_high_lunge"
    # repeat says the last answer, which is now the help
    assert runner.say("AMAZON.RepeatIntent")["response"] == helped["response"]

    left = runner.say("AMAZON.NoIntent")
    assert position(left) == ("high_lunge", "left")
    side = runner.say("WhichSideIntent")
    assert said(side) == (
        f"You're on the left side of {norm(lunge['name'])}. {PROMPTS['next_reprompt']}"
    )
    tip = runner.say("TopTipIntent")
    assert said(tip) == f"Top tip: {norm(lunge['tip'])} {PROMPTS['next_reprompt']}"
    targets = runner.say("TargetAreasIntent")
    assert said(targets).startswith("This one is good for your quads, glutes, psoas")
    repeated = runner.say("AMAZON.RepeatIntent")
    assert repeated["response"]["outputSpeech"] == targets["response"]["outputSpeech"]
    helped = runner.say("AMAZON.HelpIntent")
    assert said(helped) == PROMPTS["help_hold"]

    back = runner.say("AMAZON.PreviousIntent")
    assert position(back) == ("high_lunge", "right")
    assert "Say yes, or no" not in said(back)  # declined: not offered again
    step = runner.say("RepeatStepIntent", step_number=slot("step_number", "2"))
    assert said(step).startswith("Step 2. Left leg extended behind")
    rest = runner.say("AMAZON.NextIntent")
    assert said(rest).startswith("Step 3.")
    assert PROMPTS["breath_in"] in said(rest)
    assert position(rest) == ("high_lunge", "right")
    where = runner.say("WhereAmIIntent")
    assert said(where).startswith(
        f"You're in High lunge on the right side, pose 3 of {len(raw['poses'])}"
    )

    switched = runner.say("SwitchSideIntent")
    assert position(switched) == ("high_lunge", "left")
    paused = runner.say("AMAZON.PauseIntent")
    assert said(paused).startswith("Paused in")
    resumed = runner.say("AMAZON.ResumeIntent")
    assert position(resumed) == ("high_lunge", "left")
    flow = runner.say("SetModeIntent", mode=slot("mode", "flow"))
    assert position(flow) == expected_visits(raw, variations=False)[3 + FLOW_SEGMENTS_PER_TURN - 1]
    helped = runner.say("AMAZON.HelpIntent")
    assert said(helped) == PROMPTS["help_flow"]
    hold = runner.say("SetModeIntent", mode=slot("mode", "hold"))
    assert said(hold).startswith("Hold mode:")
    unknown = runner.say("GoToPoseIntent", pose=slot("pose", "headstand"))
    prefix, _ = PROMPTS["unknown_pose"].split("{examples}")
    assert said(unknown).startswith(prefix)
    assert "pigeon" in said(unknown)
    odd = runner.say("MadeUpIntent")
    assert said(odd) == PROMPTS["fallback"]
    skip = runner.say("SkipPoseIntent")
    assert position(skip)[0] != position(hold)[0]

    runner.until_the_end("next")
    check_finished(runner)
    check_escaping(runner)


def test_stop_mid_session_then_come_back() -> None:
    runner = Runner(RAW)
    runner.launch()
    runner.say("AMAZON.NextIntent")
    stop = runner.say("AMAZON.StopIntent")
    assert stop["response"]["shouldEndSession"] is True
    assert said(stop) == PROMPTS["goodbye"]
    # Without persistence, a new session starts from the top.
    fresh = runner.launch()
    assert position(fresh) == ("forward_fold", "")
    assert said(fresh).startswith(norm(RAW["welcome"]))


def test_escaped_text_is_said_as_text() -> None:
    runner = Runner(ROUTINES["escaped"])
    first = runner.launch()
    ssml = first["response"]["outputSpeech"]["ssml"]
    assert "&lt;&amp;&gt;" in ssml
    text = said(first)
    assert f'Stretch {NASTY} smile, "really".' in text
    assert f'Step 1. Stand tall {NASTY} say "ahh", right foot steady.' in text
    dog = runner.say("AMAZON.NextIntent")
    assert f"Pose 2: Downward dog {NASTY} friends." in said(dog)
    lunge = runner.say("AMAZON.NextIntent")
    assert f"right foot forward {NASTY} heel down." in said(lunge)
    assert f"and odd {NASTY} bits." in said(lunge)
    assert f"Fancy the advanced {NASTY} version?" in said(lunge)
    left = runner.say("SwitchSideIntent")
    assert f"left foot forward {NASTY} heel down." in said(left)
