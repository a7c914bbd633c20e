"""Screens and cards: APL documents on devices that run them, cards in the Alexa app elsewhere.

Genuine request envelopes with and without the ``Alexa.Presentation.APL`` interface, real
viewports (Echo Spot, Show 5, 8, 15, a TV, a phone) and APL versions go through build_skill();
the documents are linted with apl-suggester (Alexa's own APL validator, ``tests/apl/``) and an
outside client, virtual-alexa, drives the running webhook as an Echo Show.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import statistics
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alexa_limits import MAX_RESPONSE_BYTES
from ask_sdk_core.skill import CustomSkill
from conftest import PROMPTS, RAW, ROUTINE, said, send
from test_phrasings import MODELS_DIR, running_webhook

from skill.alexa.dispatch import dispatch
from skill.alexa.handlers import TOUCH, build_skill
from skill.alexa.screens import clip_durations
from skill.audio.manifest import read_manifest
from skill.local.envelopes import Session, slot
from skill.resources import AUDIO_DIR
from skill.routine.coach import Coach
from skill.routine.content import parse_routine
from skill.routine.state import FLOW_SEGMENTS_PER_TURN, MAX_BREATHS, State
from skill.screens.datasources import (
    CHARS_PER_SECOND,
    SpeechClock,
    hold_endings,
    load_words,
    screen_for,
)
from skill.screens.documents import (
    APL_VERSION,
    DOCUMENT_OF_KIND,
    MAX_CARD_CHARS,
    MAX_CARD_TITLE,
    Viewport,
    apl_interface,
    card_for,
    document_names,
    layout_for,
    layouts,
    load_document,
    runs_documents,
    version_of,
)
from skill.speech.narration import PAUSE_BREATH_IN, PAUSE_BREATH_OUT, Narrator, block_id

REPO = Path(__file__).resolve().parents[1]
LINTER_DIR = REPO / "tests" / "apl"
LINTER = LINTER_DIR / "validate.js"
HARNESS = REPO / "tests" / "virtual_alexa" / "screens.js"
RENDER = "Alexa.Presentation.APL.RenderDocument"
USER_EVENT = "Alexa.Presentation.APL.UserEvent"


# ---------------------------------------------------------------------- devices


@dataclass(frozen=True, eq=False)
class Device:
    """What a request says about the device it came from."""

    name: str
    apl: str | None = None
    """The APL runtime's maxVersion; ``None``: no APL interface at all."""
    viewport: dict[str, Any] | None = None
    declares_runtime: bool = True


def _viewport(mode: str, shape: str, width: int, height: int, dpi: int) -> dict[str, Any]:
    return {
        "experiences": [{"arcMinuteWidth": 246, "arcMinuteHeight": 144, "canRotate": False}],
        "mode": mode,
        "shape": shape,
        "pixelWidth": width,
        "pixelHeight": height,
        "dpi": dpi,
        "currentPixelWidth": width,
        "currentPixelHeight": height,
        "touch": ["SINGLE"],
        "video": {"codecs": ["H_264_42", "H_264_41"]},
    }


SPOT = Device("Echo Spot", "2024.2", _viewport("HUB", "ROUND", 480, 480, 160))
SHOW5 = Device("Echo Show 5", "2024.2", _viewport("HUB", "RECTANGLE", 960, 480, 160))
SHOW1 = Device("Echo Show (1st gen)", "2024.3", _viewport("HUB", "RECTANGLE", 1024, 600, 160))
SHOW8 = Device("Echo Show 8", "2024.2", _viewport("HUB", "RECTANGLE", 1280, 800, 160))
SHOW15 = Device("Echo Show 15", "2025.1", _viewport("HUB", "RECTANGLE", 1920, 1080, 160))
SHOW15_UPRIGHT = Device(
    "Echo Show 15 upright", "2025.1", _viewport("HUB", "RECTANGLE", 1080, 1920, 160)
)
FIRE_TV = Device("Fire TV", "2024.2", _viewport("TV", "RECTANGLE", 1920, 1080, 320))
PHONE = Device("Alexa app on a phone", "2024.2", _viewport("MOBILE", "RECTANGLE", 1080, 2160, 480))
SCREENS = (SPOT, SHOW5, SHOW1, SHOW8, SHOW15, SHOW15_UPRIGHT, FIRE_TV, PHONE)
EXPECTED_LAYOUT = {
    SPOT.name: "round",
    SHOW5.name: "small",
    SHOW1.name: "medium",
    SHOW8.name: "large",
    SHOW15.name: "xlarge",
    SHOW15_UPRIGHT.name: "portrait_large",
    FIRE_TV.name: "tv",
    PHONE.name: "portrait",
}
SPEAKER = Device("Echo Dot")
OLD_SHOW = Device("Echo Show on an old APL runtime", "2023.3", SHOW8.viewport)
NO_VERSION = Device("APL without a runtime version", "", SHOW8.viewport, declares_runtime=False)
NOT_SHOWN = (SPEAKER, OLD_SHOW, NO_VERSION)


def on(device: Device, envelope: dict[str, Any]) -> dict[str, Any]:
    """The envelope as ``device`` sends it."""
    envelope = copy.deepcopy(envelope)
    if device.apl is not None:
        interface = {"runtime": {"maxVersion": device.apl}} if device.declares_runtime else {}
        envelope["context"]["System"]["device"]["supportedInterfaces"]["Alexa.Presentation.APL"] = (
            interface
        )
    if device.viewport is not None:
        envelope["context"]["Viewport"] = device.viewport
    return envelope


def touch(session: Session, *arguments: Any) -> dict[str, Any]:
    """A button press on the screen, as Alexa sends it."""
    return session.envelope(
        {
            "type": USER_EVENT,
            "token": "post-run-yoga.pose",
            "arguments": list(arguments),
            "source": {"type": "TouchWrapper", "handler": "Press", "id": ""},
            "components": {},
        }
    )


def document_of(response: dict[str, Any]) -> dict[str, Any] | None:
    """The RenderDocument directive of a response, if any."""
    for directive in response["response"].get("directives") or []:
        if directive["type"] == RENDER:
            found: dict[str, Any] = directive
            return found
    return None


def screen_of(response: dict[str, Any]) -> dict[str, Any]:
    directive = document_of(response)
    assert directive is not None, "no RenderDocument"
    screen: dict[str, Any] = directive["datasources"]["screen"]
    return screen


def size(response: dict[str, Any]) -> int:
    return len(json.dumps(response, ensure_ascii=False).encode("utf-8"))


class Runner:
    """One session on one device: every response checked, its size kept."""

    def __init__(self, skill: CustomSkill, device: Device) -> None:
        self.skill = skill
        self.device = device
        self.session = Session()
        self.sizes: list[int] = []

    def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        response = send(self.skill, self.session, on(self.device, envelope))
        self.sizes.append(size(response))
        return response

    def launch(self) -> dict[str, Any]:
        return self.send(self.session.launch())

    def say(self, intent: str, **slots: str) -> dict[str, Any]:
        filled = {name: slot(name, value) for name, value in slots.items()}
        return self.send(self.session.intent(intent, filled))

    def touch(self, *arguments: Any) -> dict[str, Any]:
        return self.send(touch(self.session, *arguments))

    def to_the_end(self, limit: int = 80) -> Iterator[dict[str, Any]]:
        """Next (yes to each offer) until the session closes."""
        for _ in range(limit):
            state = self.session.attributes.get("yoga", {})
            response = self.say("AMAZON.YesIntent" if state.get("pending") else "AMAZON.NextIntent")
            yield response
            if response["response"].get("shouldEndSession"):
                return
        raise AssertionError("the session never ended")


# ---------------------------------------------------------------------- the documents


def lint(documents: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """apl-suggester's findings for each document."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed: the APL lint needs Node 18+", pytrace=False)
    if not (LINTER_DIR / "node_modules" / "apl-suggester").is_dir():
        pytest.fail("tests/apl/node_modules is missing: `make` installs it", pytrace=False)
    proc = subprocess.run(
        ["node", str(LINTER)],
        input=json.dumps(documents),
        capture_output=True,
        text=True,
        cwd=LINTER_DIR,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    found: dict[str, list[dict[str, str]]] = json.loads(proc.stdout)
    return found


def test_every_document_is_lint_clean_with_apl_suggester() -> None:
    documents = {name: load_document(name) for name in document_names()}
    findings = lint(documents)
    assert set(findings) == set(documents)
    errors = {name: f for name, f in findings.items() if any(x["level"] == "ERROR" for x in f)}
    assert errors == {}
    # Its warnings (schema mismatches) are held to zero too.
    assert findings == {name: [] for name in documents}


def test_the_linter_finds_what_is_wrong() -> None:
    """The lint is live: a broken document is reported, not waved through."""
    broken = copy.deepcopy(load_document("pose"))
    broken["mainTemplate"]["item"]["items"]["items"][0]["paddingLeft"] = "wide"
    broken["layouts"]["Button"]["items"]["onPress"] = {"type": "SendEvent"}
    findings = lint({"broken": broken})["broken"]
    paths = {finding["path"] for finding in findings}
    assert any(path.endswith("paddingLeft") for path in paths), findings
    assert any(path.endswith("onPress") for path in paths), findings


PRIMITIVES = {"Container", "Frame", "Image", "Pager", "ScrollView", "Sequence", "GridSequence"}
PRIMITIVES |= {"Text", "TouchWrapper", "VectorGraphic", "Video", "EditText"}
COMMANDS = {"AnimateItem", "Idle", "Parallel", "ScrollToIndex", "SendEvent", "Sequential"}
COMMANDS |= {"SetValue"}


def _types(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            yield path, node["type"]
        for key, value in node.items():
            yield from _types(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _types(value, f"{path}/{i}")


@pytest.mark.parametrize("name", document_names())
def test_documents_are_self_contained_and_use_only_what_apl_has(name: str) -> None:
    """What apl-suggester does not check: every component is APL's or one of the document's own
    layouts, every command is APL's, nothing is imported (the lint and a device need nothing
    from the network), and the version is the one the skill checks devices against."""
    document = load_document(name)
    assert document["type"] == "APL"
    assert document["version"] == APL_VERSION
    assert version_of(APL_VERSION) >= (2024, 2)
    assert "import" not in document
    known = PRIMITIVES | set(document["layouts"]) | COMMANDS | {"APL"}
    unknown = {(path, kind) for path, kind in _types(document) if kind not in known}
    # Layout parameters declare types too ("string", "object"): those are not components.
    unknown = {(p, k) for p, k in unknown if "/parameters/" not in p and "/bind/" not in p}
    assert unknown == set()


# ---------------------------------------------------------------------- what the documents bind


def _bound(document: dict[str, Any], name: str) -> set[str]:
    """Fields a document reads from a bound object (``S.pose``, ``L.title``)."""
    text = json.dumps(document)
    return set(re.findall(rf"\b{name}\.([A-Za-z]+)", text))


def _all_screens() -> Iterator[dict[str, Any]]:
    skill = build_skill()
    runner = Runner(skill, SHOW8)
    yield screen_of(runner.launch())
    yield screen_of(runner.say("AMAZON.HelpIntent"))
    yield screen_of(runner.say("AMAZON.PauseIntent"))
    yield screen_of(runner.say("TakeBreakIntent"))
    yield screen_of(runner.say("SetModeIntent", mode="flow"))
    yield screen_of(runner.say("GoToPoseIntent", pose="relaxation"))
    yield screen_of(runner.launch())
    yield screen_of(runner.say("AMAZON.StopIntent"))
    idle = Runner(skill, SHOW8)
    yield screen_of(idle.say("SetHoldLengthIntent", breaths="8"))


def test_every_field_a_document_reads_is_in_its_datasource() -> None:
    screens = list(_all_screens())
    kinds = {screen["kind"] for screen in screens}
    assert kinds == set(DOCUMENT_OF_KIND)
    sizes = set(next(iter(layouts().values())))
    for screen in screens:
        document = load_document(DOCUMENT_OF_KIND[screen["kind"]])
        # Fields that a message screen shows only where it has them (a pose to come back to).
        optional = {"pose", "progress"} if screen["kind"] in ("closing", "ready", "help") else set()
        assert _bound(document, "S") - set(screen) - optional == set(), screen["kind"]
        assert _bound(document, "L") <= sizes | {"name"}
    pose = next(screen for screen in screens if screen["kind"] == "pose")
    assert _bound(load_document("pose"), "guide") <= set(pose["guide"]) | {"length"}
    assert _bound(load_document("pose"), "progress") <= set(pose["progress"])
    assert _bound(load_document("pose"), "welcome") <= set(pose["welcome"])


# ---------------------------------------------------------------------- layouts


@pytest.mark.parametrize("device", SCREENS, ids=lambda d: d.name)
def test_each_viewport_gets_its_layout(device: Device) -> None:
    viewport = device.viewport or {}
    found = layout_for(
        Viewport(
            viewport["shape"],
            viewport["mode"],
            viewport["currentPixelWidth"],
            viewport["currentPixelHeight"],
            viewport["dpi"],
        )
    )
    assert found == EXPECTED_LAYOUT[device.name]
    response = Runner(build_skill(), device).launch()
    assert screen_of(response)["layout"]["name"] == found


def test_a_viewport_the_request_leaves_out_or_gets_wrong_gets_the_medium_hub() -> None:
    assert layout_for(None) == "medium"
    assert layout_for(Viewport("RECTANGLE", "HUB", None, 600, 160)) == "medium"
    assert layout_for(Viewport("RECTANGLE", "HUB", 1280, 800, 0)) == "large"
    no_viewport = Device("APL, no viewport", "2024.2", None)
    assert screen_of(Runner(build_skill(), no_viewport).launch())["layout"]["name"] == "medium"


def _line(font: float) -> float:
    return font * 1.25  # APL's default line height


def _chrome(sizes: dict[str, Any]) -> float:
    """The height of what is above and below the pose on a wide layout: the margins, the header
    with its bar, the hint if shown, the buttons."""
    pad = sizes["pad"]
    header = _line(sizes["small"]) + 16
    hint = _line(sizes["small"]) + 20 if sizes["hint"] else 0
    return pad * 0.75 + header + pad / 2 + hint + sizes["button"] + pad / 2


def _tip(sizes: dict[str, Any]) -> float:
    lines = sizes["tipLines"]
    return lines * _line(sizes["small"]) + 24 + sizes["pad"] / 2 if lines else 0


def _wide_fits(sizes: dict[str, Any], height: float) -> tuple[float, float]:
    """(room left for the steps, room left in the guide's column) on a wide layout, in dp."""
    chrome = _chrome(sizes) + _tip(sizes)
    name = sizes["titleLines"] * _line(sizes["title"]) + _line(sizes["side"])
    targets = _line(sizes["small"]) + 4 + sizes["pad"] / 2
    steps = height - chrome - name - targets
    guide = height - chrome - sizes["guide"] - 8 - _line(sizes["body"])
    return steps, guide


@pytest.mark.parametrize(
    ("layout", "width", "height"),
    [
        ("small", 960, 480),
        ("medium", 1024, 600),
        ("large", 1280, 800),
        ("xlarge", 1920, 1080),
        ("tv", 960, 540),
    ],
)
def test_wide_layouts_fit_their_screens(layout: str, width: int, height: int) -> None:
    """No renderer here: the sizes are reasoned about instead. Below the pose's name, the steps
    keep room for at least two lines (they scroll to the first one said), and the guide with its
    count fits in its column."""
    sizes = dict(layouts()[layout])
    steps, guide_column = _wide_fits(sizes, height)
    assert steps >= 2 * _line(sizes["body"]), (layout, steps)
    assert guide_column >= 0, (layout, guide_column)
    assert sizes["guide"] + sizes["pad"] <= width / 3


@pytest.mark.parametrize(
    ("layout", "width", "height"), [("portrait", 360, 720), ("portrait_large", 1080, 1920)]
)
def test_tall_layouts_fit_their_screens(layout: str, width: int, height: int) -> None:
    sizes = dict(layouts()[layout])
    pad = sizes["pad"]
    column = pad + _line(sizes["small"]) + 16 + sizes["titleLines"] * _line(sizes["title"])
    column += _line(sizes["side"]) + _line(sizes["small"]) + 4 + pad / 2
    column += sizes["guide"] + 8 + _line(sizes["body"]) + pad / 2
    column += _tip(sizes) + (_line(sizes["small"]) + 20 if sizes["hint"] else 0)
    column += sizes["button"] + pad / 2
    assert height - column >= 2 * _line(sizes["body"]), (layout, height - column)
    assert sizes["guide"] <= width - 2 * pad


def test_round_layout_fits_inside_the_circle() -> None:
    """Side, name, guide, count and buttons stacked in the middle of a 480 dp circle; the
    buttons' row, at the bottom of the stack where the circle is narrower, still holds three
    buttons of 80 dp (the round screen leaves out repeat)."""
    sizes = dict(layouts()["round"])
    stack = _line(sizes["side"]) + sizes["titleLines"] * _line(sizes["title"]) + 8
    stack += sizes["guide"] + 8 + _line(sizes["body"]) + 8 + sizes["button"]
    assert stack <= 480 - 2 * 20, stack
    bottom = 240 - (480 - stack) / 2
    chord = 2 * (240**2 - bottom**2) ** 0.5
    assert min(chord, 480 - 2 * sizes["pad"]) >= 3 * 80 + 2 * 16, chord


def test_text_is_large_enough_to_read_from_a_mat() -> None:
    """The side and the pose are read from a couple of metres; steps and the tip closer up."""
    for name, sizes in layouts().items():
        assert sizes["side"] >= 28 and sizes["title"] >= 28, name
        assert sizes["body"] >= 22 and sizes["small"] >= 18, name
        assert sizes["button"] >= 64, name  # a fingertip
        assert sizes["title"] > sizes["body"] and sizes["side"] > sizes["body"], name
    assert set(EXPECTED_LAYOUT.values()) == set(layouts())


# ---------------------------------------------------------------------- every state on a screen


@pytest.fixture
def show() -> Runner:
    return Runner(build_skill(), SHOW8)


def test_launch_shows_the_welcome_over_the_first_pose(show: Runner) -> None:
    response = show.launch()
    directive = document_of(response)
    assert directive is not None and directive["token"] == "post-run-yoga.pose"
    assert directive["document"] == load_document("pose")
    screen = directive["datasources"]["screen"]
    first = ROUTINE.poses[0]
    assert screen["pose"] == {"name": first.name, "side": "", "number": 1}
    assert screen["welcome"]["show"] is True
    assert screen["welcome"]["text"] == ROUTINE.welcome
    # The welcome is shown while it is said: about 20 s of speech, then the pose.
    assert 15_000 < screen["welcome"]["ms"] < 30_000
    assert [step["text"] for step in screen["steps"]] == [s.text for s in first.steps]
    assert all(step["current"] for step in screen["steps"])
    assert screen["tip"] == first.tip
    assert screen["progress"]["label"] == "Pose 1 of 11"
    assert [b["event"] for b in screen["buttons"]] == ["previous", "repeat", "pause", "next"]
    assert screen["hint"] == PROMPTS["next_reprompt"]
    guide = screen["guide"]
    assert guide["kind"] == "breath" and guide["breaths"] == 5
    assert guide["startMs"] > screen["welcome"]["ms"]
    assert "card" not in response["response"]


def test_a_two_sided_pose_names_its_side_and_swaps_its_steps(show: Runner) -> None:
    show.launch()
    right = screen_of(show.say("GoToPoseIntent", pose="high lunge"))
    assert right["pose"]["name"] == "High lunge" and right["pose"]["side"] == "Right side"
    assert right["steps"][0]["text"].startswith("Come into a lunge, right foot forward")
    left = screen_of(show.say("AMAZON.NextIntent"))  # the offered variation: no thanks
    while left["pose"]["name"] != "High lunge":
        left = screen_of(show.say("AMAZON.NextIntent"))
    assert left["pose"]["side"] == "Left side"
    assert left["steps"][0]["text"].startswith("Come into a lunge, left foot forward")


def test_a_single_step_marks_only_that_step(show: Runner) -> None:
    show.launch()
    show.say("GoToPoseIntent", pose="pigeon")
    screen = screen_of(show.say("RepeatStepIntent", step_number="3"))
    assert [step["current"] for step in screen["steps"]].index(True) == 2
    assert sum(step["current"] for step in screen["steps"]) == 1
    assert screen["firstCurrent"] == 2
    assert screen["guide"]["kind"] == "still"  # no hold is said: the guide waits


def test_questions_leave_the_screen_as_it_is(show: Runner) -> None:
    show.launch()
    for intent in ("WhichSideIntent", "TopTipIntent", "WhereAmIIntent", "HowLongIntent"):
        assert document_of(show.say(intent)) is None, intent


def test_help_pause_breather_resume_and_closing(show: Runner) -> None:
    show.launch()
    show.say("GoToPoseIntent", pose="pigeon")
    help_ = screen_of(show.say("AMAZON.HelpIntent"))
    assert help_["kind"] == "help" and help_["heading"] == "Things you can say"
    assert help_["body"] == PROMPTS["help_hold"]

    paused = screen_of(show.say("AMAZON.PauseIntent"))
    assert paused["kind"] == "paused" and paused["heading"] == "Paused"
    assert paused["pose"]["name"] == "Pigeon pose" and paused["pose"]["side"] == "Right side"
    assert paused["body"] == ""
    assert [b["event"] for b in paused["buttons"]] == ["previous", "repeat", "resume", "next"]
    assert paused["hint"] == PROMPTS["paused_reprompt"]

    breather = screen_of(show.say("TakeBreakIntent"))
    assert breather["heading"] == "Take a breather" and breather["body"] == PROMPTS["break"]

    show.say("AMAZON.ResumeIntent")
    resume = screen_of(show.launch())
    assert resume["kind"] == "resume" and resume["heading"] == "Welcome back"
    assert resume["pose"]["name"] == "Pigeon pose"
    assert [(b["label"], b["event"]) for b in resume["buttons"]] == [("Carry on", "next")]

    goodbye = screen_of(show.say("AMAZON.StopIntent"))
    assert goodbye["kind"] == "closing" and goodbye["heading"] == "See you next time"
    assert goodbye["buttons"] == [] and goodbye["body"] == PROMPTS["goodbye"]


def test_ready_screen_before_the_start() -> None:
    runner = Runner(build_skill(), SHOW8)
    screen = screen_of(runner.say("SetHoldLengthIntent", breaths="8"))
    assert screen["kind"] == "ready" and "pose" not in screen
    assert [(b["label"], b["event"]) for b in screen["buttons"]] == [("Start", "next")]


def test_the_relaxation_rests_instead_of_breathing(show: Runner) -> None:
    show.launch()
    screen = screen_of(show.say("GoToPoseIntent", pose="relaxation"))
    guide = screen["guide"]
    assert guide["kind"] == "rest" and guide["label"] == "Rest"
    assert guide["restMs"] == 5 * 12 * 1000  # RELAX_SECONDS_PER_BREATH for each breath
    closing = screen_of(show.say("AMAZON.NextIntent"))
    assert closing["kind"] == "closing" and closing["heading"] == "Well done"
    assert closing["body"].startswith(ROUTINE.closing)


def test_flow_shows_the_poses_of_the_flow_lit_in_time(show: Runner) -> None:
    show.launch()
    response = show.say("SetModeIntent", mode="flow")
    directive = document_of(response)
    assert directive is not None and directive["document"] == load_document("flow")
    screen = directive["datasources"]["screen"]
    flow = screen["flow"]
    assert len(flow) == FLOW_SEGMENTS_PER_TURN
    assert flow[0]["name"] == ROUTINE.poses[0].name
    assert flow[0]["cues"] == list(ROUTINE.poses[0].flow)
    assert screen["flowTimed"] is True
    starts = [item["atMs"] for item in flow]
    assert starts == sorted(starts) and starts[0] > 0  # after "Flow mode: ..."
    assert [item["gapMs"] for item in flow] == [
        b - a for a, b in zip([0, *starts[:-1]], starts, strict=True)
    ]
    # The document lights up to FLOW_SEGMENTS_PER_TURN poses, one command each.
    lit = json.dumps(load_document("flow")["mainTemplate"]).count('"property": "current"')
    assert lit == FLOW_SEGMENTS_PER_TURN


def test_a_flow_not_said_this_turn_is_shown_still(show: Runner) -> None:
    show.say("SetModeIntent", mode="flow")
    screen = screen_of(show.say("SetHoldLengthIntent", breaths="3"))
    assert screen["kind"] == "flow" and screen["flowTimed"] is False
    assert len(screen["flow"]) == FLOW_SEGMENTS_PER_TURN


def test_a_quick_session_counts_its_own_poses(show: Runner) -> None:
    show.launch()
    screen = screen_of(show.say("SessionLengthIntent", length="quick"))
    assert screen["progress"]["plan"] == "Quick session"
    assert screen["progress"]["label"].endswith(f"of {len(ROUTINE.quick)}")
    focus = screen_of(show.say("FocusIntent", area="hamstrings"))
    assert focus["progress"]["plan"] == "For your hamstrings"


def test_markup_in_the_routine_is_escaped_for_apl() -> None:
    raw = copy.deepcopy(RAW)
    raw["poses"][0]["steps"][0] = "Stand tall <b>now</b> & breathe."
    runner = Runner(build_skill(parse_routine(raw)), SHOW8)
    screen = screen_of(runner.launch())
    assert screen["steps"][0]["text"] == "Stand tall &lt;b&gt;now&lt;/b&gt; &amp; breathe."


# ---------------------------------------------------------------------- breathing in time


def test_the_guide_breathes_with_the_spoken_cues() -> None:
    """One breath of the guide lasts as long as one breath of the recorded hold (the pauses are
    the narration's own), within 1%."""
    durations = clip_durations(AUDIO_DIR)
    narrator = Narrator(ROUTINE)
    holds = {breaths: durations[ident] for breaths, ident in hold_endings(narrator)}
    assert len(holds) >= 2 and all(
        ident.endswith("--hold_end") for _, ident in hold_endings(narrator)
    )
    recorded = (holds[max(holds)] - holds[min(holds)]) / (max(holds) - min(holds)) * 1000
    in_ms, out_ms = SpeechClock(durations).breath_ms(narrator)
    assert abs(in_ms + out_ms - recorded) / recorded < 0.01
    assert in_ms > PAUSE_BREATH_IN and out_ms > PAUSE_BREATH_OUT
    # Without clips: the pauses and the cues' words at the clips' median pace. The lexicon draws
    # "And out" out (so that it is not heard as "in out"), so the short cues run a little slower
    # than the median line: within 8%.
    in_est, out_est = SpeechClock({}).breath_ms(narrator)
    assert abs(in_est + out_est - recorded) / recorded < 0.08
    single = [
        len(entry["text"]) / entry["duration"]
        for entry in read_manifest(AUDIO_DIR).values()
        if "--" not in str(entry["id"])
    ]
    assert abs(statistics.median(single) - CHARS_PER_SECOND) / CHARS_PER_SECOND < 0.03


def test_the_guide_starts_when_the_hold_does() -> None:
    """The start is the clips' time before the hold: the intro with its steps, then "hold here
    for five breaths"."""
    durations = clip_durations(AUDIO_DIR)
    coach = Coach(ROUTINE)
    narrator = Narrator(ROUTINE)
    turn = coach.go_to(State(), "pigeon")
    screen = screen_for(coach, narrator, SpeechClock(durations), turn)
    blocks = narrator.blocks(turn.says)
    assert blocks[0][0].id.startswith("intro.pigeon")
    intro = sum(durations[block_id(b)] * 1000 + b[-1].pause_ms for b in blocks[:2])
    hold = blocks[2]
    assert hold[0].id == "hold_start.5"
    assert intro < screen["guide"]["startMs"] < intro + 4000


# ---------------------------------------------------------------------- touch


MID = [("AMAZON.NextIntent", {}), ("GoToPoseIntent", {"pose": "warrior two"})]


def _session_to(skill: CustomSkill, device: Device) -> Runner:
    runner = Runner(skill, device)
    runner.launch()
    for intent, slots in MID:
        runner.say(intent, **slots)
    return runner


@pytest.mark.parametrize("argument", sorted(TOUCH))
def test_a_button_acts_like_its_spoken_intent(argument: str) -> None:
    skill = build_skill()
    by_touch = _session_to(skill, SHOW8)
    by_voice = _session_to(skill, SHOW8)
    if argument == "resume":
        by_touch.say("AMAZON.PauseIntent")
        by_voice.say("AMAZON.PauseIntent")
    touched = by_touch.touch(argument)
    spoken = by_voice.say(TOUCH[argument])
    assert said(touched) == said(spoken)
    assert touched["sessionAttributes"] == spoken["sessionAttributes"]
    assert screen_of(touched) == screen_of(spoken)


def test_repeat_on_the_screen_takes_the_pose_again_not_the_last_answer() -> None:
    skill = build_skill()
    runner, spoken = _session_to(skill, SHOW8), _session_to(skill, SHOW8)
    which = runner.say("WhichSideIntent")
    spoken.say("WhichSideIntent")
    touched = runner.touch("repeat")
    assert said(touched) == said(spoken.say("RepeatPoseIntent"))
    assert said(touched).startswith("Pose 4: Warrior two.")
    assert said(which) not in said(touched)
    assert screen_of(touched)["guide"]["kind"] == "breath"  # the hold again, the guide again


@pytest.mark.parametrize("arguments", [["stretch"], [], [3], [None]])
def test_a_touch_the_skill_does_not_know_gets_the_spoken_recovery(arguments: list[Any]) -> None:
    runner = _session_to(build_skill(), SHOW8)
    response = runner.touch(*arguments)
    assert said(response) == PROMPTS["fallback"]
    assert document_of(response) is None


def test_a_button_is_its_first_argument() -> None:
    skill = build_skill()
    touched = _session_to(skill, SHOW8).touch("next", {"from": "button"})
    assert said(touched) == said(_session_to(skill, SHOW8).say("AMAZON.NextIntent"))


def test_a_touch_outside_a_session_starts_from_saved_progress() -> None:
    skill = build_skill()
    session = Session()
    envelope = touch(session, "next")
    del envelope["session"]
    response = dispatch(skill, on(SHOW8, envelope))
    assert said(response).startswith(ROUTINE.welcome)


# ---------------------------------------------------------------------- cards and other devices


@pytest.mark.parametrize("device", NOT_SHOWN, ids=lambda d: d.name)
def test_devices_without_the_documents_get_cards_when_the_runner_moves(device: Device) -> None:
    runner = Runner(build_skill(), device)
    launch = runner.launch()
    assert document_of(launch) is None
    card = launch["response"]["card"]
    first = ROUTINE.poses[0]
    assert card["type"] == "Standard"
    assert card["title"] == first.name
    assert "Pose 1 of 11" in card["text"]
    assert f"1. {first.steps[0].text}" in card["text"]
    assert f"Top tip: {first.tip}" in card["text"]
    assert "Hold for 5 breaths." in card["text"]
    for intent in ("WhichSideIntent", "TopTipIntent", "AMAZON.HelpIntent", "AMAZON.StopIntent"):
        assert "card" not in runner.say(intent)["response"], intent


def test_a_card_names_the_side_and_the_flow() -> None:
    runner = Runner(build_skill(), SPEAKER)
    runner.launch()
    card = runner.say("GoToPoseIntent", pose="pigeon")["response"]["card"]
    assert card["title"] == "Pigeon pose, right side"
    flow = runner.say("SetModeIntent", mode="flow")["response"]["card"]
    assert "Inhale" in flow["text"] or "Exhale" in flow["text"]
    paused = runner.say("AMAZON.PauseIntent")["response"]["card"]
    assert paused["title"] == "Paused"
    finished = runner.say("GoToPoseIntent", pose="relaxation")
    ending = runner.say("AMAZON.NextIntent")["response"]["card"]
    assert finished and ending["title"] == "Well done" and ROUTINE.closing in ending["text"]


def test_cards_keep_within_alexa_limits() -> None:
    runner = Runner(build_skill(), SPEAKER)
    runner.launch()
    runner.say("SetHoldLengthIntent", breaths=str(MAX_BREATHS))
    for response in runner.to_the_end():
        card = response["response"].get("card")
        if card:
            assert 0 < len(card["title"]) <= MAX_CARD_TITLE
            assert len(card["title"]) + len(card["text"]) <= MAX_CARD_CHARS
    long = {"kind": "ready", "heading": "x" * 200, "title": "", "body": "y" * 9000, "hint": ""}
    title, text = card_for(long, load_words())
    assert len(title) == MAX_CARD_TITLE and len(title) + len(text) <= MAX_CARD_CHARS


@pytest.mark.parametrize(
    ("version", "shown"),
    [
        ("2024.2", True),
        ("2024.10", True),
        ("2025.1", True),
        ("2024.1", False),
        ("1.9", False),
        ("", False),
        (None, False),
        ("abc", False),
        ("2024.x", False),
    ],
)
def test_apl_versions(version: str | None, shown: bool) -> None:
    assert runs_documents(version) is shown
    if version is None:
        return
    runner = Runner(build_skill(), Device("v", version, SHOW8.viewport))
    response = runner.launch()
    assert (document_of(response) is not None) is shown
    assert ("card" in response["response"]) is not shown


# ---------------------------------------------------------------------- nothing heard changes


def _script(runner: Runner) -> list[dict[str, Any]]:
    out = [runner.launch()]
    for intent, slots in [
        ("AMAZON.NextIntent", {}),
        ("WhichSideIntent", {}),
        ("GoToPoseIntent", {"pose": "high lunge"}),
        ("AMAZON.YesIntent", {}),
        ("AMAZON.HelpIntent", {}),
        ("AMAZON.PauseIntent", {}),
        ("TakeBreakIntent", {}),
        ("AMAZON.NoIntent", {}),
        ("AMAZON.ResumeIntent", {}),
        ("SetModeIntent", {"mode": "flow"}),
        ("AMAZON.NextIntent", {}),
        ("AMAZON.RepeatIntent", {}),
        ("AMAZON.PreviousIntent", {}),
        ("SetModeIntent", {"mode": "hold"}),
        ("SessionLengthIntent", {"length": "quick"}),
        ("GoToPoseIntent", {"pose": "relaxation"}),
        ("AMAZON.NextIntent", {}),
    ]:
        out.append(runner.say(intent, **slots))
    return out


def _heard(response: dict[str, Any]) -> dict[str, Any]:
    body = response["response"]
    return {
        "speech": body.get("outputSpeech"),
        "reprompt": body.get("reprompt"),
        "end": body.get("shouldEndSession"),
        "attributes": response.get("sessionAttributes"),
    }


def test_nothing_a_runner_hears_changes_with_a_screen() -> None:
    skill = build_skill()
    spoken = {
        device.name: [_heard(r) for r in _script(Runner(skill, device))]
        for device in (SPEAKER, SPOT, SHOW8, FIRE_TV, OLD_SHOW)
    }
    first = spoken[SPEAKER.name]
    assert all(heard == first for heard in spoken.values())


def test_a_screen_that_fails_is_left_out_and_the_answer_still_goes(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import skill.alexa.screens as screens

    def broken(*args: Any) -> Any:
        raise RuntimeError("no screen")

    monkeypatch.setattr(screens, "screen_for", broken)
    response = Runner(build_skill(), SHOW8).launch()
    assert said(response).startswith(ROUTINE.welcome)
    assert document_of(response) is None
    assert "could not make the screen" in caplog.text


# ---------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    "device", [SPOT, SHOW5, SHOW15, FIRE_TV, PHONE, SPEAKER], ids=lambda d: d.name
)
@pytest.mark.parametrize("mode", ["hold", "flow"])
def test_every_turn_of_a_whole_session_keeps_within_the_response_limit(
    device: Device, mode: str
) -> None:
    """The longest turns: the most breaths, the full instructions, every variation said yes to;
    each response at most 24 KB (conftest.send checks each one, as Alexa's limit)."""
    runner = Runner(build_skill(), device)
    runner.launch()
    runner.say("SetHoldLengthIntent", breaths=str(MAX_BREATHS))
    if mode == "flow":
        runner.say("SetModeIntent", mode="flow")
    list(runner.to_the_end())
    for extra in ("AMAZON.HelpIntent", "AMAZON.StopIntent"):
        runner.say(extra)
    assert max(runner.sizes) <= MAX_RESPONSE_BYTES
    if device.apl:
        assert max(runner.sizes) <= 20 * 1024, max(runner.sizes)  # room to spare


# ---------------------------------------------------------------------- an outside client


def test_virtual_alexa_as_an_echo_show_against_the_running_webhook() -> None:
    """virtual-alexa, with the APL interface and a viewport declared, talks to
    ``yoga-skill serve``: it gets a document on every turn that moves, touch moves the routine,
    and the same client as a speaker gets cards instead."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed", pytrace=False)
    steps = [
        {"launch": True},
        {"utter": "next"},
        {"touch": ["next"]},
        {"utter": "which side am I on"},
        {"touch": ["pause"]},
        {"touch": ["resume"]},
        {"utter": "help"},
        {"touch": ["previous"]},
    ]
    with running_webhook() as url:
        show = _harness(url, {"apl": "2024.2", "viewport": SHOW8.viewport}, steps)
        speaker = _harness(url, {}, steps)
    names = [line["intent"] or line["type"] for line in show]
    assert names == [
        "LaunchRequest",
        "AMAZON.NextIntent",
        USER_EVENT,
        "WhichSideIntent",
        USER_EVENT,
        USER_EVENT,
        "AMAZON.HelpIntent",
        USER_EVENT,
    ]
    documents = [line["document"] for line in show]
    assert [d and d["token"] for d in documents] == [
        "post-run-yoga.pose",
        "post-run-yoga.pose",
        "post-run-yoga.pose",
        None,
        "post-run-yoga.paused",
        "post-run-yoga.pose",
        "post-run-yoga.help",
        "post-run-yoga.pose",
    ]
    poses = [
        d["datasources"]["screen"]["pose"]["name"]
        for d in documents
        if d and "pose" in d["datasources"]["screen"]
    ]
    assert poses[:3] == [p.name for p in ROUTINE.poses[:3]]
    assert all(line["card"] is None for line in show)
    assert all(line["size"] <= MAX_RESPONSE_BYTES for line in show)
    # The same words either way; the speaker has cards instead of documents.
    assert [line["speech"] for line in show] == [line["speech"] for line in speaker]
    assert all(line["document"] is None for line in speaker)
    assert [line["card"] is not None for line in speaker] == [
        True,
        True,
        True,
        False,
        True,
        True,
        False,
        True,
    ]


def _harness(url: str, device: dict[str, Any], steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    proc = subprocess.run(
        ["node", str(HARNESS), url, str(MODELS_DIR / "en-GB.json"), "en-GB"],
        input=json.dumps({"device": device, "steps": steps}),
        capture_output=True,
        text=True,
        cwd=HARNESS.parent,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == len(steps), proc.stdout
    return lines


# ---------------------------------------------------------------------- odd requests and data


def test_a_viewport_with_odd_values_is_read_as_far_as_it_goes() -> None:
    odd = {"pixelWidth": 1280, "pixelHeight": 800, "dpi": 0, "currentPixelWidth": -1}
    runner = Runner(build_skill(), Device("odd viewport", "2024.2", odd))
    # No current size: the nominal one; no shape, no mode, no density: a 160 dpi hub.
    assert screen_of(runner.launch())["layout"]["name"] == "large"


def test_a_step_being_asked_about_is_marked_until_the_pose_is_said(show: Runner) -> None:
    show.launch()
    show.say("GoToPoseIntent", pose="pigeon")
    show.say("RepeatStepIntent", step_number="3")
    screen = screen_of(show.say("SetHoldLengthIntent", breaths="8"))  # moved, nothing narrated
    assert [step["current"] for step in screen["steps"]] == [
        n == 3 for n in range(1, len(screen["steps"]) + 1)
    ]
    assert screen["guide"] == {**screen["guide"], "kind": "still", "breaths": 8}


def test_screens_are_remembered_and_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import skill.alexa.screens as screens

    monkeypatch.setattr(screens, "SCREEN_CACHE_SIZE", 1)
    skill = build_skill()
    first, again = Runner(skill, SHOW8), Runner(skill, SHOW8)
    assert screen_of(first.launch()) == screen_of(again.launch())
    assert screen_of(first.say("AMAZON.NextIntent"))["pose"]["number"] == 2


def test_tampered_session_attributes_still_get_a_screen(show: Runner) -> None:
    """A "repeat that" memory with parameters the skill could never have said is dropped: the
    pose is taken up again, and its screen comes with it."""
    show.launch()
    last = [{"k": "step", "p": {"part": "forward_fold", "side": "", "step": 2, "x": {"a": 1}}}]
    show.session.attributes["last"] = json.dumps(last)
    response = show.say("AMAZON.RepeatIntent")
    assert said(response).startswith("Pose 1: Spinal roll into forward fold.")
    assert screen_of(response)["steps"], "the pose's screen, steps and all"


def test_clip_durations_skip_broken_entries(tmp_path: Path) -> None:
    clips = [
        {"id": "good", "duration": 1.5},
        {"id": "broken", "duration": "long"},
        {"id": "missing"},
    ]
    (tmp_path / "manifest.json").write_text(json.dumps({"version": 1, "clips": clips}))
    assert dict(clip_durations(tmp_path)) == {"good": 1.5}
    assert dict(clip_durations(tmp_path / "nowhere")) == {}


def test_words_for_a_language_without_its_own_file_are_english() -> None:
    assert load_words("de-DE") == load_words("en")


def test_the_manifest_entry_declares_apl_and_each_viewport_has_a_layout() -> None:
    """``apl_interface()`` is what the skill package declares (apis.custom.interfaces): it
    reads as SMAPI's ALEXA_PRESENTATION_APL interface, and every corner of every declared
    viewport range gets a layout made for it."""
    from ask_sdk_core.serialize import DefaultSerializer
    from ask_smapi_model.v1.skill.manifest import SkillManifestEnvelope

    entry = apl_interface()
    envelope = {"manifest": {"manifestVersion": "1.0", "apis": {"custom": {"interfaces": [entry]}}}}
    parsed = DefaultSerializer().deserialize(json.dumps(envelope), SkillManifestEnvelope)
    interface = parsed.manifest.apis.custom.interfaces[0]
    assert type(interface).__name__ == "AlexaPresentationAplInterface"
    assert len(interface.supported_viewports) == len(entry["supportedViewports"])
    expected = {"ROUND": {"round"}, "TV": {"tv"}, "HUB": {"small", "medium", "large", "xlarge"}}
    for viewport in entry["supportedViewports"]:
        kind = "ROUND" if viewport["shape"] == "ROUND" else viewport["mode"]
        for width in (viewport["minWidth"], viewport["maxWidth"]):
            for height in (viewport["minHeight"], viewport["maxHeight"]):
                dpi = 320 if kind == "TV" else 160
                found = layout_for(
                    Viewport(
                        viewport["shape"],
                        viewport["mode"],
                        width * dpi // 160,
                        height * dpi // 160,
                        dpi,
                    )
                )
                assert found in expected[kind], (viewport, width, height, found)
