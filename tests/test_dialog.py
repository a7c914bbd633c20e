"""`yoga-skill dialog`: whole conversations typed as a runner would say them."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, ROUTINE

from skill.cli import main


@pytest.fixture(autouse=True)
def no_saved_progress(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YOGA_PERSISTENCE", "sqlite")
    monkeypatch.setenv("YOGA_DB", str(tmp_path / "progress.sqlite3"))


def run_dialog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str], *extra: str
) -> list[dict[str, Any]]:
    script = tmp_path / "script.txt"
    script.write_text("\n".join(lines) + "\n")
    assert main(["dialog", "--script", str(script), "--json", *extra]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def expected_walk() -> list[tuple[str, str]]:
    """Every pose and variation, each side, in the order the seed gives them."""
    walk = []
    for pose in ROUTINE.poses:
        after = []
        for side in pose.sides:
            walk.append((pose.id, side))
            for variation in pose.variations:
                if variation.each_side:
                    walk.append((variation.id, variation.sides[pose.sides.index(side)]))
                else:
                    after = [(variation.id, s) for s in variation.sides]
        walk += after
    return walk


def position(turn: dict[str, Any]) -> tuple[str, str]:
    yoga = turn["sessionAttributes"]["yoga"]
    return (yoga["variation"] or yoga["pose"], yoga["side"])


def test_a_full_session_in_hold_mode_visits_every_pose_and_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    walk = expected_walk()
    variations = {v.id for pose in ROUTINE.poses for v in pose.variations}
    lines = ["start post-run yoga"]
    for here, following in pairwise(walk):
        # A variation is offered just before its first side: say yes to it.
        offered = following[0] in variations and here[0] != following[0]
        lines.append(
            "yes please" if offered and following == _first(walk, following[0]) else "next"
        )
    lines.append("next")  # from the closing relaxation to the end
    turns = run_dialog(tmp_path, capsys, lines)
    visited = [position(t) for t in turns if t["intent"] != "SessionEndedRequest"]
    deduped = [p for i, p in enumerate(visited) if i == 0 or visited[i - 1] != p]
    assert deduped == walk
    assert "I hope you enjoy" in turns[-1]["speech"]
    assert turns[-1]["shouldEndSession"] is True


def test_a_full_session_in_flow_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    turns = run_dialog(tmp_path, capsys, ["start post run yoga", "flow mode"] + ["next"] * 5)
    assert [t["intent"] for t in turns[2:]] == ["AMAZON.NextIntent"] * 5
    spoken = " ".join(t["speech"] for t in turns)
    for pose in ROUTINE.poses:
        for side in pose.sides:
            label = f"{pose.name}, {side} side." if side else f"{pose.name}."
            assert label in spoken
    assert turns[-1]["shouldEndSession"] is True
    assert "I hope you enjoy" in turns[-1]["speech"]


def _first(walk: list[tuple[str, str]], part: str) -> tuple[str, str]:
    return next(p for p in walk if p[0] == part)


def test_natural_requests_mid_session_are_answered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    turns = run_dialog(
        tmp_path,
        capsys,
        [
            "alexa open post run yoga",
            "next pose please",
            "ok next",
            "which side am I on",
            "could you say the second step again",
            "what was step three",
            "keep going",
            "go back",
            "let's switch to flow mode",
            "slow it down with hold mode",
            "hold each pose for eight breaths",
            "what's the top tip for this one",
            "what does this stretch",
            "take me to downward dog",
            "what can I say",
            "switch sides",
            "I'm done, stop",
        ],
    )
    intents = [t["intent"] for t in turns]
    assert intents == [
        "LaunchRequest",
        "AMAZON.NextIntent",
        "AMAZON.NextIntent",
        "WhichSideIntent",
        "RepeatStepIntent",
        "RepeatStepIntent",
        "AMAZON.NextIntent",  # "keep going": moving on, as carry on is
        "AMAZON.PreviousIntent",
        "SetModeIntent",
        "SetModeIntent",
        "SetHoldLengthIntent",
        "TopTipIntent",
        "TargetAreasIntent",
        "GoToPoseIntent",
        "AMAZON.HelpIntent",
        "SwitchSideIntent",
        "AMAZON.StopIntent",
    ]
    by_utterance = {t["utterance"]: t for t in turns}
    assert by_utterance["which side am I on"]["speech"].startswith(
        "You're on the right side of High lunge."
    )
    assert by_utterance["could you say the second step again"]["speech"].startswith(
        "Step 2. Left leg extended behind"
    )
    assert by_utterance["what was step three"]["slots"] == {"step_number": "3"}
    assert by_utterance["let's switch to flow mode"]["sessionAttributes"]["yoga"]["mode"] == "flow"
    assert (
        by_utterance["slow it down with hold mode"]["sessionAttributes"]["yoga"]["mode"] == "hold"
    )
    assert by_utterance["hold each pose for eight breaths"]["speech"].startswith(
        "Okay, 8 breaths in each hold from now on."
    )
    assert by_utterance["what's the top tip for this one"]["speech"].startswith("Top tip:")
    assert by_utterance["what does this stretch"]["speech"].startswith("This one is good for your")
    assert position(by_utterance["take me to downward dog"]) == ("downward_dog", "")
    assert "Hold here for 8 breaths." in by_utterance["take me to downward dog"]["speech"]
    assert by_utterance["what can I say"]["speech"].startswith("You can say next")
    assert "isn't done on one side" in by_utterance["switch sides"]["speech"]
    assert turns[-1]["shouldEndSession"] is True
    assert turns[-1]["speech"] == "Good work today. Namaste."
    for turn in turns[:-1]:
        assert turn["reprompt"], turn["utterance"]


def test_a_runner_who_walks_away_is_welcomed_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run_dialog(tmp_path, capsys, ["start post run yoga", "go to pigeon", "next"])
    assert first[-1]["intent"] == "SessionEndedRequest"
    again = run_dialog(tmp_path, capsys, ["open post run yoga", "yes"])
    assert again[0]["speech"] == (
        "Welcome back. You were in Pigeon pose on the left side. Shall we carry on?"
    )
    assert position(again[1]) == ("pigeon", "left")
    assert again[1]["speech"].startswith("Now Pigeon pose on the left side. Step 1.")


def test_plain_text_output_reads_like_a_conversation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "script.txt"
    script.write_text("start post run yoga\n\n# a comment\nstop\n")
    assert main(["dialog", "--script", str(script)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Alexa: Welcome to post run yoga")
    assert out[1] == "Alexa: Good work today. Namaste."
    assert out[2] == "(session closed)"


def test_other_locales_resolve_their_own_phrasings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    turns = run_dialog(
        tmp_path, capsys, ["start post run yoga", "move on", "stop"], "--locale", "en-US"
    )
    assert [t["intent"] for t in turns] == [
        "LaunchRequest",
        "AMAZON.NextIntent",
        "AMAZON.StopIntent",
    ]


def test_cli_mistakes_get_one_line_and_a_nonzero_exit(tmp_path: Path) -> None:
    for args in (
        ["dialog", "--script", str(tmp_path / "missing.txt")],
        ["dialog", "--locale", "fr-FR"],
        ["serve", "--port", "99999"],
        ["nonsense"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "skill.cli", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("yoga-skill: ")
        assert "Traceback" not in result.stderr
