"""The interaction models (interaction_models/<locale>.json) obey Alexa's rules and match the code.

The model files are JSON in the ASK CLI format, generated from interaction_models/grammar.yaml
by `yoga-skill build-models` (skill/local/grammar.py). These tests keep them honest: generated
from the grammar as committed, Alexa's build rules, the same intents in every locale, the intents
the handlers handle, and a PoseType and AreaType that mirror the routine content so they can't
drift.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from skill.routine.content import load_routine

MODELS_DIR = Path(__file__).resolve().parent.parent / "interaction_models"
LOCALES = ("en-GB", "en-US", "en-AU", "en-CA", "en-IN")
INVOCATION_NAME = "post run yoga"

BUILT_IN_INTENTS = frozenset(
    {
        "AMAZON.RepeatIntent",
        "AMAZON.NextIntent",
        "AMAZON.PreviousIntent",
        "AMAZON.StartOverIntent",
        "AMAZON.PauseIntent",
        "AMAZON.ResumeIntent",
        "AMAZON.YesIntent",
        "AMAZON.NoIntent",
        "AMAZON.HelpIntent",
        "AMAZON.StopIntent",
        "AMAZON.CancelIntent",
        "AMAZON.FallbackIntent",
        "AMAZON.NavigateHomeIntent",
    }
)
CUSTOM_SLOTS: dict[str, dict[str, str]] = {
    "StartRoutineIntent": {},
    "RepeatStepIntent": {"step_number": "AMAZON.NUMBER", "step_ordinal": "AMAZON.Ordinal"},
    "RepeatPoseIntent": {},
    "SkipPoseIntent": {},
    "SetModeIntent": {"mode": "ModeType"},
    "GoToPoseIntent": {"pose": "PoseType", "place": "PlaceType"},
    "SwitchSideIntent": {"side": "SideType"},
    "TopTipIntent": {},
    "TargetAreasIntent": {},
    "WhichSideIntent": {},
    "SetHoldLengthIntent": {"breaths": "AMAZON.NUMBER"},
    "WhereAmIIntent": {},
    "ChangeHoldIntent": {"direction": "HoldChangeType"},
    "TakeBreakIntent": {},
    "HowLongIntent": {},
    "ListPosesIntent": {},
    "PosesLeftIntent": {},
    "WhatsNextIntent": {},
    "PoseNameIntent": {},
    "HowToIntent": {"body_part": "BodyPartType"},
    "FrontLegIntent": {},
    "SessionLengthIntent": {"length": "LengthType"},
    "FocusIntent": {"area": "AreaType"},
    "InstructionLevelIntent": {"level": "LevelType"},
    "NumberAnswerIntent": {"number": "AMAZON.NUMBER"},
    "PlayThroughIntent": {},
    "HistoryIntent": {},
    "StreakIntent": {},
    "ForgetHistoryIntent": {},
    "SetReminderIntent": {"date": "AMAZON.DATE", "time": "AMAZON.TIME"},
    "ListRemindersIntent": {},
    "CancelReminderIntent": {},
}
#: Intents that answer the skill's own question ("how many breaths?"), where a bare slot is the
#: whole answer ("eight"), as in Alexa's own number-guessing samples.
SLOT_ONLY_INTENTS = frozenset({"NumberAnswerIntent"})
ALL_INTENTS = BUILT_IN_INTENTS | CUSTOM_SLOTS.keys()
MIN_CUSTOM_SAMPLES = 10
MAX_SAMPLE_CHARS = 200

# Words an invocation name may not contain: launch phrases, wake words, "skill" and "app".
WAKE_WORDS = ("alexa", "amazon", "echo", "computer", "skill", "app")
LAUNCH_WORDS = ("ask", "tell", "open", "launch", "load", "begin", "enable")
FORBIDDEN_INVOCATION_WORDS = frozenset((*WAKE_WORDS, *LAUNCH_WORDS))
# Letters (with apostrophes inside a word) or a {slot}, separated by single spaces.
SAMPLE_TOKEN = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z]+(?:'[A-Za-z]+)*")
SLOT_REF = re.compile(r"\{([^{}]*)\}")
# Built-in slot types used here; AMAZON.* types are Alexa's and need no declaration.
BUILT_IN_SLOT_TYPE = re.compile(r"^AMAZON\.[A-Za-z_]+$")


def load_model(locale: str) -> dict[str, Any]:
    return json.loads((MODELS_DIR / f"{locale}.json").read_text(encoding="utf-8"))


def language_model(locale: str) -> dict[str, Any]:
    return load_model(locale)["interactionModel"]["languageModel"]


def fold(text: str) -> str:
    return " ".join(text.lower().split())


@pytest.fixture(params=LOCALES)
def locale(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def model(locale: str) -> dict[str, Any]:
    return language_model(locale)


def intents_by_name(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {intent["name"]: intent for intent in model["intents"]}


def types_by_name(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {slot_type["name"]: slot_type for slot_type in model.get("types", [])}


# ---------------------------------------------------------------- files and format


def test_exactly_the_five_locales_have_models() -> None:
    assert sorted(p.stem for p in MODELS_DIR.glob("*.json")) == sorted(LOCALES)


def test_ask_cli_format(locale: str) -> None:
    data = load_model(locale)
    assert list(data) == ["interactionModel"]
    assert list(data["interactionModel"]) == ["languageModel"]
    lm = data["interactionModel"]["languageModel"]
    assert set(lm) == {"invocationName", "intents", "types"}
    for intent in lm["intents"]:
        assert set(intent) <= {"name", "slots", "samples"}, intent["name"]
        assert isinstance(intent["samples"], list), intent["name"]
        for slot in intent.get("slots", []):
            assert set(slot) <= {"name", "type", "samples"}, (intent["name"], slot)
    for slot_type in lm["types"]:
        assert set(slot_type) == {"name", "values"}
        for value in slot_type["values"]:
            assert set(value) == {"id", "name"}, value
            assert set(value["name"]) <= {"value", "synonyms"}, value


# ---------------------------------------------------------------- invocation name


def test_invocation_name(model: dict[str, Any]) -> None:
    name = model["invocationName"]
    assert name == INVOCATION_NAME
    assert re.fullmatch(r"[a-z]+(?: [a-z]+)+", name), "lower-case words, at least two"
    assert not set(name.split()) & FORBIDDEN_INVOCATION_WORDS


# ---------------------------------------------------------------- intents


def test_every_locale_declares_the_same_intents() -> None:
    names = {loc: sorted(intents_by_name(language_model(loc))) for loc in LOCALES}
    assert all(n == names["en-GB"] for n in names.values()), names


def test_intents_are_the_expected_ones(model: dict[str, Any]) -> None:
    names = [intent["name"] for intent in model["intents"]]
    assert len(names) == len(set(names)), "an intent is declared twice"
    assert set(names) == ALL_INTENTS


def test_custom_intents_declare_their_slots(model: dict[str, Any]) -> None:
    intents = intents_by_name(model)
    for name, slots in CUSTOM_SLOTS.items():
        declared = {slot["name"]: slot["type"] for slot in intents[name].get("slots", [])}
        assert declared == slots, name


def test_intents_equal_the_handled_intents(model: dict[str, Any]) -> None:
    try:
        from skill.routine.operations import HANDLED_INTENTS
    except ImportError as exc:
        pytest.fail(
            "skill.routine.operations.HANDLED_INTENTS (intent names) is needed to check "
            f"the interaction models against the handlers, but it cannot be imported: {exc}"
        )
    declared = {intent["name"] for intent in model["intents"]}
    assert declared - set(HANDLED_INTENTS) == set(), "declared in the model but not handled"
    assert set(HANDLED_INTENTS) - declared == set(), "handled but not declared in the model"


# ---------------------------------------------------------------- slots and types


def test_every_slot_type_exists(model: dict[str, Any]) -> None:
    custom = types_by_name(model)
    for intent in model["intents"]:
        for slot in intent.get("slots", []):
            kind = slot["type"]
            assert kind in custom or BUILT_IN_SLOT_TYPE.match(kind), (intent["name"], kind)


def test_slot_names_unique_within_an_intent(model: dict[str, Any]) -> None:
    for intent in model["intents"]:
        names = [slot["name"] for slot in intent.get("slots", [])]
        assert len(names) == len(set(names)), intent["name"]


def test_every_declared_custom_type_is_used(model: dict[str, Any]) -> None:
    used = {slot["type"] for intent in model["intents"] for slot in intent.get("slots", [])}
    assert set(types_by_name(model)) <= used


def test_slot_values_and_synonyms_unique_within_a_type(model: dict[str, Any]) -> None:
    for slot_type in model["types"]:
        ids = [value["id"] for value in slot_type["values"]]
        assert len(ids) == len(set(ids)), f"{slot_type['name']}: duplicate ids"
        owner: dict[str, str] = {}
        for value in slot_type["values"]:
            phrases = [value["name"]["value"], *value["name"].get("synonyms", [])]
            folded = [fold(p) for p in phrases]
            assert len(folded) == len(set(folded)), f"{value['id']}: a phrase is repeated"
            for phrase in folded:
                assert phrase, f"{value['id']}: empty phrase"
                other = owner.setdefault(phrase, value["id"])
                assert other == value["id"], (
                    f"{slot_type['name']}: {phrase!r} belongs to both {other} and {value['id']}"
                )


def test_mode_type(model: dict[str, Any]) -> None:
    mode = types_by_name(model)["ModeType"]
    values = {value["id"]: value["name"] for value in mode["values"]}
    assert set(values) == {"flow", "hold"}
    assert {"dynamic", "flowing", "vinyasa", "dynamic flow", "quick"} <= set(
        values["flow"]["synonyms"]
    )
    assert "faster" in values["flow"]["synonyms"]
    hold = {values["hold"]["value"], *values["hold"]["synonyms"]}
    assert {"slow", "holds", "long holds", "static", "slow holds", "hold", "slower"} <= hold


def test_side_type(model: dict[str, Any]) -> None:
    # The SwitchSideIntent handler reads the side's id: "left" or "right".
    assert types_by_name(model)["SideType"]["values"] == [
        {"id": "left", "name": {"value": "left", "synonyms": ["left leg", "left hand side"]}},
        {"id": "right", "name": {"value": "right", "synonyms": ["right leg", "right hand side"]}},
    ]
    switch = intents_by_name(model)["SwitchSideIntent"]["samples"]
    assert {"switch sides", "other side"} <= set(switch), "switching without naming a side"


def expected_pose_values() -> list[dict[str, Any]]:
    """PoseType as the content defines it: one value per pose and per variation, in order.

    A value's synonyms are the pose's content synonyms, leaving out any that repeat the value's
    own name or that are the name of another value (the content lists "advanced high lunge"
    under high lunge and "reclined pigeon" under pigeon; those phrases name the variations).
    """
    routine = load_routine()
    parts = [part for pose in routine.poses for part in pose.parts]
    names = {fold(part.name): part.id for part in parts}
    values = []
    for part in parts:
        synonyms = [
            s
            for s in getattr(part, "synonyms", ())
            if fold(s) != fold(part.name) and names.get(fold(s), part.id) == part.id
        ]
        values.append({"id": part.id, "name": {"value": part.name, "synonyms": synonyms}})
    return values


def test_pose_type_mirrors_the_content(model: dict[str, Any]) -> None:
    pose_type = types_by_name(model)["PoseType"]
    actual = [
        {
            "id": v["id"],
            "name": {"value": v["name"]["value"], "synonyms": v["name"].get("synonyms", [])},
        }
        for v in pose_type["values"]
    ]
    assert actual == expected_pose_values(), (
        "PoseType has drifted from skill/routine/routines/post_run.yaml: copy the ids, names and "
        "synonyms of every pose and variation into each interaction model"
    )


def test_pose_type_covers_every_pose_and_variation() -> None:
    routine = load_routine()
    ids = {v["id"] for v in expected_pose_values()}
    assert {"advanced_high_lunge", "reclined_pigeon"} <= ids
    assert {pose.id for pose in routine.poses} <= ids


def test_area_type_mirrors_the_focus_areas(model: dict[str, Any]) -> None:
    # The FocusIntent handler reads the area's id: one of the routine's focus areas.
    values = types_by_name(model)["AreaType"]["values"]
    areas = load_routine().focus_areas
    assert [(v["id"], v["name"]["value"]) for v in values] == [(a.id, a.name) for a in areas]
    synonyms = {v["id"]: set(v["name"]["synonyms"]) for v in values}
    assert {"hamstring", "back of my legs"} <= synonyms["hamstrings"]
    assert {"calf", "calf muscles"} <= synonyms["calves"]
    assert {"i t band", "itb"} <= synonyms["it_band"]


def test_relative_hold_changes_are_not_modes(model: dict[str, Any]) -> None:
    # "longer holds" changes the hold length; it must never switch the mode.
    types = types_by_name(model)
    modes = {
        fold(p)
        for v in types["ModeType"]["values"]
        for p in (v["name"]["value"], *v["name"]["synonyms"])
    }
    relative = {"longer", "shorter", "longer holds", "shorter holds", "more", "less", "fewer"}
    assert modes & relative == set()
    changes = {v["id"] for v in types["HoldChangeType"]["values"]}
    assert changes == {"longer", "shorter"}


def test_models_are_generated_from_the_grammar() -> None:
    from skill.local.grammar import build_all

    stale = [built.locale for built in build_all() if not built.current()]
    assert stale == [], (
        "interaction_models/*.json differ from what interaction_models/grammar.yaml gives: "
        "run yoga-skill build-models (and never edit the JSON by hand)"
    )


def test_models_stay_a_reasonable_size(locale: str) -> None:
    text = (MODELS_DIR / f"{locale}.json").read_text(encoding="utf-8")
    assert len(text.encode()) < 1_000_000
    assert len(all_samples(language_model(locale))) < 4_200


# ---------------------------------------------------------------- sample utterances


def all_samples(model: dict[str, Any]) -> list[tuple[str, str]]:
    return [(intent["name"], s) for intent in model["intents"] for s in intent["samples"]]


def test_samples_use_only_letters_spaces_apostrophes_and_slots(model: dict[str, Any]) -> None:
    bad = [
        (intent, sample)
        for intent, sample in all_samples(model)
        if sample != sample.strip()
        or "  " in sample
        or not all(SAMPLE_TOKEN.fullmatch(token) for token in sample.split(" "))
    ]
    assert bad == []


def test_samples_have_no_digits(model: dict[str, Any]) -> None:
    assert [s for _, s in all_samples(model) if re.search(r"\d", s)] == []


def test_samples_are_at_most_two_hundred_characters(model: dict[str, Any]) -> None:
    assert [s for _, s in all_samples(model) if len(s) > MAX_SAMPLE_CHARS] == []


def test_sample_slots_are_declared_on_the_intent(model: dict[str, Any]) -> None:
    for intent in model["intents"]:
        declared = {slot["name"] for slot in intent.get("slots", [])}
        for sample in intent["samples"]:
            used = SLOT_REF.findall(sample)
            assert set(used) <= declared, (intent["name"], sample)
            assert len(used) == len(set(used)), f"slot used twice in {sample!r}"


def test_every_declared_slot_is_used_in_a_sample(model: dict[str, Any]) -> None:
    for intent in model["intents"]:
        used = {slot for s in intent["samples"] for slot in SLOT_REF.findall(s)}
        for slot in intent.get("slots", []):
            assert slot["name"] in used, (intent["name"], slot["name"])


def test_no_sample_is_repeated_within_or_across_intents(model: dict[str, Any]) -> None:
    counts = Counter(fold(s) for _, s in all_samples(model))
    repeated = {sample: n for sample, n in counts.items() if n > 1}
    assert repeated == {}


def test_every_custom_intent_has_enough_samples(model: dict[str, Any]) -> None:
    intents = intents_by_name(model)
    short = {
        name: len(intents[name]["samples"])
        for name in CUSTOM_SLOTS
        if len(intents[name]["samples"]) < MIN_CUSTOM_SAMPLES
    }
    assert short == {}


def test_fallback_intent_has_no_samples(model: dict[str, Any]) -> None:
    # Alexa rejects a model that gives AMAZON.FallbackIntent sample utterances.
    assert intents_by_name(model)["AMAZON.FallbackIntent"]["samples"] == []


def test_slot_only_samples_are_avoided(model: dict[str, Any]) -> None:
    # A sample that is a bare {slot} would capture almost anything said; only a bare answer to
    # the skill's own question (a number) may be one.
    bare = {(i, s) for i, s in all_samples(model) if SLOT_REF.fullmatch(s)}
    assert {i for i, _ in bare} <= SLOT_ONLY_INTENTS
    assert ("NumberAnswerIntent", "{number}") in bare
    for intent, sample in bare:
        kinds = {slot["name"]: slot["type"] for slot in intents_by_name(model)[intent]["slots"]}
        assert kinds[SLOT_REF.fullmatch(sample).group(1)] == "AMAZON.NUMBER", (intent, sample)
