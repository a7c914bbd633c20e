"""Alexa's functional test checklist for custom skills, as tests.

Each test names the checklist item it covers ("Certification Testing for a Custom Skill",
"Functional Testing for a Custom Skill" and "Voice Interface and User Experience Testing" in
Alexa's documentation). The example phrases are read from the committed skill-package/skill.json,
exactly as they will be submitted, and said three ways: to the local resolver, through
``yoga-skill dialog``, and through virtual-alexa (an outside client that matches words to the
interaction model) against the webhook running on loopback.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ask_sdk_core.skill import CustomSkill
from conftest import PROMPTS, REPO, check_response, said, send
from test_phrasings import HARNESS_DIR, harness_problem, running_webhook

from skill.alexa.dispatch import dispatch
from skill.alexa.handlers import build_skill
from skill.cli import main
from skill.local.dialog import Dialog
from skill.local.envelopes import Session, slot
from skill.local.resolver import Resolver
from skill.publish.content import LaunchPhrase, OneShotPhrase, PhraseSpec, load_content
from skill.publish.phrases import squash
from skill.publish.rules import MODELS_IN_PACKAGE, invocation_name_problems
from skill.routine.operations import HANDLED_INTENTS
from skill.settings import LOCALES
from skill.speech.ssml import plain_text

PACKAGE = REPO / "skill-package"
MANIFEST = json.loads((PACKAGE / "skill.json").read_text(encoding="utf-8"))["manifest"]
LISTINGS = MANIFEST["publishingInformation"]["locales"]
SPECS = load_content().example_phrases
ERROR = PROMPTS["error"]
FALLBACK = PROMPTS["fallback"]

#: (locale, phrase as submitted, what it should do), for every example phrase of every locale.
EXAMPLES = [
    (locale, phrase, spec)
    for locale in LOCALES
    for phrase, spec in zip(LISTINGS[locale]["examplePhrases"], SPECS, strict=True)
]
EXAMPLE_IDS = [f"{locale}: {phrase}" for locale, phrase, _ in EXAMPLES]


def intent_of(spec: PhraseSpec) -> str:
    return "LaunchRequest" if isinstance(spec, LaunchPhrase) else spec.intent


def slots_of(spec: PhraseSpec) -> dict[str, str]:
    return dict(spec.slots) if isinstance(spec, OneShotPhrase) else {}


def prompts_the_runner(text: str) -> bool:
    """A question, or words that tell the runner what to say."""
    last = re.split(r"(?<=[.?!])\s+", text.strip())[-1].lower()
    return last.endswith("?") or re.search(r"\bsay\b", last) is not None


def test_every_locale_has_example_phrases_for_every_spec() -> None:
    assert sorted(LISTINGS) == sorted(LOCALES)
    assert len(EXAMPLES) == len(LOCALES) * len(SPECS) > len(LOCALES)


# ---------------------------------------------------------------------- example phrases


@pytest.mark.parametrize(("locale", "phrase", "spec"), EXAMPLES, ids=EXAMPLE_IDS)
def test_example_phrases_resolve_as_written(locale: str, phrase: str, spec: PhraseSpec) -> None:
    """Checklist, "Review and test example phrases": each phrase, word for word, gives the
    intent it shows off, with its slots filled (the local resolver)."""
    resolution = Resolver.for_locale(locale).resolve(phrase)
    if isinstance(spec, LaunchPhrase):
        assert resolution.kind == "launch"
        return
    assert (resolution.kind, resolution.intent) == ("intent", spec.intent)
    assert {name: s.value for name, s in resolution.slots.items()} == slots_of(spec)
    assert all(s.id is not None for s in resolution.slots.values())


@pytest.mark.parametrize(("locale", "phrase", "spec"), EXAMPLES, ids=EXAMPLE_IDS)
def test_example_phrases_work_through_yoga_skill_dialog(
    locale: str,
    phrase: str,
    spec: PhraseSpec,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checklist, "Review and test example phrases": said as the first thing in a new session,
    each phrase gets its own answer (no apology, no did-not-catch-that) and a session that waits
    for the runner."""
    monkeypatch.setenv("YOGA_PERSISTENCE", "none")
    script = tmp_path / "phrase.txt"
    script.write_text(phrase + "\n", encoding="utf-8")
    assert main(["dialog", "--script", str(script), "--json", "--locale", locale]) == 0
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert first["utterance"] == phrase
    assert first["intent"] == intent_of(spec)
    assert first["slots"] == slots_of(spec)
    assert ERROR not in first["speech"] and FALLBACK not in first["speech"]
    assert first["shouldEndSession"] is False
    assert first["reprompt"]


@pytest.fixture(scope="module")
def virtual_alexa_answers() -> list[dict[str, Any]]:
    """Every example phrase through virtual-alexa against `yoga-skill serve --dev`, each in a new
    session on a new virtual device."""
    problem = harness_problem()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    items = [{"locale": locale, "phrase": phrase} for locale, phrase, _ in EXAMPLES]
    with running_webhook() as url:
        proc = subprocess.run(
            [
                "node",
                str(HARNESS_DIR / "oneshot.js"),
                url,
                str(PACKAGE / MODELS_IN_PACKAGE),
            ],
            input=json.dumps(items),
            capture_output=True,
            text=True,
            cwd=HARNESS_DIR,
            timeout=300,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert [a["phrase"] for a in answers] == [i["phrase"] for i in items]
    return answers


@pytest.mark.parametrize("index", range(len(EXAMPLES)), ids=EXAMPLE_IDS)
def test_example_phrases_work_through_virtual_alexa(
    virtual_alexa_answers: list[dict[str, Any]], index: int
) -> None:
    """Checklist, "Review and test example phrases", from outside: virtual-alexa matches the
    phrase to the packaged interaction model on its own and sends the request over HTTP."""
    spec = EXAMPLES[index][2]
    answer = virtual_alexa_answers[index]
    assert answer["error"] is None, answer
    assert answer["newSession"] is True
    if isinstance(spec, LaunchPhrase):
        assert answer["type"] == "LaunchRequest"
    else:
        assert (answer["type"], answer["intent"]) == ("IntentRequest", spec.intent)
        assert {k: v["value"] for k, v in answer["slots"].items()} == slots_of(spec)
        assert all(v["id"] is not None for v in answer["slots"].values())
    speech = plain_text(answer["speech"])
    assert speech and ERROR not in speech and FALLBACK not in speech
    assert answer["shouldEndSession"] is False
    assert plain_text(answer["reprompt"])


# ---------------------------------------------------------------------- invocation name


@pytest.mark.parametrize("locale", LOCALES)
def test_invocation_name_meets_the_requirements(locale: str) -> None:
    """Checklist, "Invocation name requirements": two or more words, lower case, no wake word,
    launch phrase or connecting word; the same name the example phrases and the store use."""
    model = json.loads((PACKAGE / MODELS_IN_PACKAGE / f"{locale}.json").read_text(encoding="utf-8"))
    name = model["interactionModel"]["languageModel"]["invocationName"]
    assert invocation_name_problems(name) == []
    assert squash(LISTINGS[locale]["name"]) == name
    assert all(f" {name} " in f" {squash(p)} " for p in LISTINGS[locale]["examplePhrases"])


# ---------------------------------------------------------------------- help, stop, cancel


def states(skill: CustomSkill) -> dict[str, Session]:
    """Sessions in the states a runner can be in when they ask for help or stop."""
    out = {}
    out["new"] = Session()
    out["launched"] = Session()
    send(skill, out["launched"], out["launched"].launch())
    out["moving"] = Session()
    send(skill, out["moving"], out["moving"].launch())
    send(skill, out["moving"], out["moving"].intent("AMAZON.NextIntent"))
    out["paused"] = Session()
    send(skill, out["paused"], out["paused"].launch())
    send(skill, out["paused"], out["paused"].intent("AMAZON.PauseIntent"))
    out["offered"] = Session()
    send(skill, out["offered"], out["offered"].launch())
    to = slot("pose", "warrior two", resolved_id="warrior_two", slot_type="PoseType")
    send(skill, out["offered"], out["offered"].intent("GoToPoseIntent", {"pose": to}))
    send(skill, out["offered"], out["offered"].intent("AMAZON.PreviousIntent"))
    send(skill, out["offered"], out["offered"].intent("AMAZON.PreviousIntent"))
    assert out["paused"].attributes["yoga"]["status"] == "paused"
    assert str(out["offered"].attributes["yoga"]["pending"]).startswith("offer:")
    return out


STATES = ["new", "launched", "moving", "paused", "offered"]


@pytest.mark.parametrize("state", STATES)
def test_help_says_what_to_say_and_keeps_the_session_open(state: str) -> None:
    """Checklist, "Help intent": help explains how to use the skill, prompts, and keeps the
    session open."""
    skill = build_skill()
    session = states(skill)[state]
    response = send(skill, session, session.intent("AMAZON.HelpIntent"))
    text = said(response)
    assert re.search(r"\bsay\b", text, re.IGNORECASE), text
    assert prompts_the_runner(text), text
    assert response["response"]["shouldEndSession"] is False
    assert plain_text(response["response"]["reprompt"]["outputSpeech"]["ssml"])


@pytest.mark.parametrize("intent", ["AMAZON.StopIntent", "AMAZON.CancelIntent"])
@pytest.mark.parametrize("state", STATES)
def test_stop_and_cancel_end_the_session(state: str, intent: str) -> None:
    """Checklist, "Stop and cancel intents": the skill ends the session, with a short goodbye
    and no question."""
    skill = build_skill()
    session = states(skill)[state]
    response = send(skill, session, session.intent(intent))
    assert response["response"]["shouldEndSession"] is True
    assert "reprompt" not in response["response"]
    assert "?" not in said(response)
    assert len(said(response)) <= 40


# ---------------------------------------------------------------------- open sessions prompt


def suite_utterances() -> list[str]:
    suite = yaml.safe_load((REPO / "tests" / "phrasings.yaml").read_text(encoding="utf-8"))
    return [
        p if isinstance(p, str) else p["say"] for f in suite["families"] for p in f["phrasings"]
    ]


@pytest.fixture(scope="module")
def open_turns() -> list[Any]:
    """Every phrasing of the phrasing suite, said in turn in one conversation (sessions restart
    after a goodbye): the answers that left the session open."""
    dialog = Dialog(build_skill(), "en-GB")
    turns = [dialog.say(text) for text in ["open post run yoga", *suite_utterances()]]
    opened = [t for t in turns if not t.should_end_session]
    assert len(opened) > 200
    return opened


def test_no_open_session_without_a_reprompt_that_prompts(open_turns: list[Any]) -> None:
    """Checklist, "Session management": when the session stays open, a reprompt asks a
    question or says what to say, for when the runner says nothing."""
    for turn in open_turns:
        assert turn.speech, turn
        assert turn.reprompt and prompts_the_runner(turn.reprompt), turn


def test_every_open_session_answer_itself_prompts(open_turns: list[Any]) -> None:
    """Checklist, "Session management" (Alexa: "You must close the session unless you send a
    prompt in the outputSpeech"): the answer itself ends with a question or what to say."""
    silent = sorted({t.intent for t in open_turns if not prompts_the_runner(t.speech)})
    assert silent == []


# ---------------------------------------------------------------------- one-shot, recovery


@pytest.mark.parametrize("intent", sorted(HANDLED_INTENTS))
def test_one_shot_requests_work_with_no_prior_session(intent: str) -> None:
    """Checklist, "One-shot invocation": every intent as the first request of a new session
    (no launch first) gets an answer, not an error."""
    session = Session()
    response = dispatch(build_skill(), session.intent(intent))
    check_response(response)
    assert ERROR not in said(response)


@pytest.mark.parametrize(
    "request_",
    [
        {"type": "IntentRequest", "intent": {"name": "AMAZON.FallbackIntent", "slots": {}}},
        {"type": "IntentRequest", "intent": {"name": "OrderPizzaIntent", "slots": {}}},
        {"type": "Connections.Response", "name": "Buy", "status": {"code": "200"}},
        {"type": "Alexa.Presentation.APL.UserEvent", "arguments": ["not-a-button"]},
    ],
    ids=["fallback", "unknown intent", "unsupported request", "unknown screen event"],
)
def test_unsupported_requests_recover(request_: dict[str, Any]) -> None:
    """Checklist, "Unsupported requests": out-of-domain requests get a helpful answer that says
    what the skill can do, and the session stays open for a better one."""
    skill = build_skill()
    session = Session()
    send(skill, session, session.launch())
    response = send(skill, session, session.envelope(request_))
    assert said(response) == FALLBACK
    assert prompts_the_runner(said(response))
    assert response["response"]["shouldEndSession"] is False


def test_out_of_domain_words_get_the_fallback() -> None:
    """Checklist, "Unsupported requests", as typed: words the model does not know."""
    dialog = Dialog(build_skill(), "en-GB")
    dialog.say("open post run yoga")
    turn = dialog.say("order me a large pepperoni pizza")
    assert turn.intent == "AMAZON.FallbackIntent"
    assert turn.speech == FALLBACK
    assert not turn.should_end_session


@pytest.mark.parametrize("reason", ["USER_INITIATED", "EXCEEDED_MAX_REPROMPTS", "ERROR"])
def test_session_ended_request_gets_no_speech(reason: str) -> None:
    """Checklist, "SessionEndedRequest": the skill answers it without speech or reprompt."""
    skill = build_skill()
    session = Session()
    send(skill, session, session.launch())
    request: dict[str, Any] = {"type": "SessionEndedRequest", "reason": reason}
    if reason == "ERROR":
        request["error"] = {"type": "INVALID_RESPONSE", "message": "from the checklist"}
    response = dispatch(skill, session.envelope(request))
    assert "outputSpeech" not in response["response"]
    assert "reprompt" not in response["response"]
