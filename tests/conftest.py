"""Shared fixtures and helpers of the test suite.

Fixtures are found by name; the helpers are imported where they are used (pytest puts tests/
on ``sys.path``)::

    from conftest import PROMPTS, check_response, said, send

Every test runs with no ``YOGA_*`` or ``ALEXA_*`` variable from the developer's shell and with
``XDG_DATA_HOME`` in a temporary folder, so no test reads or writes a runner's real progress.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml
from alexa_limits import MAX_RESPONSE_BYTES, MAX_SPEECH_CHARS, check_ssml
from ask_sdk_core.skill import CustomSkill
from moto_server import AWS_VARS_TO_CLEAR, aws_test_env, running_moto_server

from skill.alexa.dispatch import dispatch
from skill.alexa.handlers import build_skill
from skill.local.envelopes import Session
from skill.routine.content import DEFAULT_ROUTINE, Routine, load_routine
from skill.speech.narration import PROMPTS_DIR
from skill.speech.ssml import plain_text

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
"""Files the tests need from outside the skill: the real Alexa chain, the seed routine."""

# ---------------------------------------------------------------------- the content

ROUTINE: Routine = load_routine()
RAW: dict[str, Any] = yaml.safe_load(DEFAULT_ROUTINE.read_text(encoding="utf-8"))
"""The routine file as written (do not change it: deep-copy it first)."""
PROMPTS: dict[str, Any] = yaml.safe_load((PROMPTS_DIR / "en.yaml").read_text(encoding="utf-8"))
"""What the skill says, by key, from the prompts file as written."""


def norm(text: str) -> str:
    """``text`` with every run of whitespace made one space."""
    return " ".join(text.split())


@pytest.fixture(scope="session")
def routine() -> Routine:
    return ROUTINE


# ---------------------------------------------------------------------- no developer's settings


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for name in list(os.environ):
        if name.startswith(("YOGA_", "ALEXA_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.getbasetemp() / "xdg-data"))


# ---------------------------------------------------------------------- responses


def check_response(response: dict[str, Any]) -> None:
    """What Alexa requires of every response, and what this skill promises."""
    assert len(json.dumps(response).encode("utf-8")) <= MAX_RESPONSE_BYTES
    body = response["response"]
    for where in ("outputSpeech", "reprompt"):
        speech = body.get(where)
        if where == "reprompt" and speech is not None:
            speech = speech["outputSpeech"]
        if speech is None:
            continue
        ssml = speech["ssml"]
        assert speech["type"] == "SSML"
        assert len(ssml) <= MAX_SPEECH_CHARS
        assert check_ssml(ssml) == [], ssml
        ElementTree.fromstring(ssml)  # well-formed
        assert "<&>" not in ssml  # markup characters in the content are always escaped
    if body.get("shouldEndSession") is False:
        reprompt = (body.get("reprompt") or {}).get("outputSpeech")
        assert reprompt is not None, "an open session needs a reprompt"
        assert plain_text(reprompt["ssml"])
    if body.get("shouldEndSession") is True:
        assert "reprompt" not in body


def said(response: dict[str, Any]) -> str:
    """The words of the response's speech, without the markup."""
    return plain_text(response["response"]["outputSpeech"]["ssml"])


def ssml(response: dict[str, Any]) -> str:
    """The response's speech, as SSML."""
    return str(response["response"]["outputSpeech"]["ssml"])


# ---------------------------------------------------------------------- the skill


@pytest.fixture
def skill() -> CustomSkill:
    """The skill as every entry point builds it, with no persistence."""
    return build_skill()


def send(skill: CustomSkill, session: Session, envelope: dict[str, Any]) -> dict[str, Any]:
    """Dispatch ``envelope`` as the webhook and the Lambda do, check the response, and carry
    its session attributes into ``session``, as Alexa does."""
    response = dispatch(skill, envelope)
    check_response(response)
    session.absorb(response)
    return response


# ---------------------------------------------------------------------- AWS on a moto server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server over HTTP on loopback for the whole run; tests use tables of their own."""
    with running_moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """boto3's environment cut off from ~/.aws and real AWS: dummy keys, us-east-1."""
    for name in AWS_VARS_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    env = aws_test_env(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
