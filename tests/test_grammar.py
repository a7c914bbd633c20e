"""The grammar that generates the interaction models (skill/local/grammar.py, grammar.yaml)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from skill.cli import main
from skill.local.grammar import (
    GRAMMAR_FILE,
    GrammarError,
    Templates,
    build_model,
    expand,
    first_stale,
    load_grammar,
    parse_grammar,
    write_all,
)

# ---------------------------------------------------------------- templates


@pytest.mark.parametrize(
    ("template", "samples"),
    [
        ("next", ["next"]),
        ("(next|move on)", ["next", "move on"]),
        ("next[ please]", ["next please", "next"]),
        ("[okay] next [please]", ["okay next please", "okay next", "next please", "next"]),
        ("[(okay|right) ]next", ["okay next", "right next", "next"]),
        (
            "go to (the (first|last)|a) pose",
            ["go to the first pose", "go to the last pose", "go to a pose"],
        ),
        ("(a|) b", ["a b", "b"]),
        ("(a|a) b", ["a b"]),
        ("hold for {breaths} breaths", ["hold for {breaths} breaths"]),
    ],
)
def test_templates_expand_in_order_with_spaces_folded(template: str, samples: list[str]) -> None:
    assert expand(template) == samples


def test_fragments_expand_and_nest() -> None:
    fragments = {"ack": "(okay|right)", "ack_next": "<ack> next"}
    assert expand("[<ack_next> ]please", fragments) == [
        "okay next please",
        "right next please",
        "please",
    ]


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("(next|back", "expected ')'"),
        ("[next", "expected ']'"),
        ("next)", "unexpected ')'"),
        ("[a|b]", "inside"),
        ("<nope>", "no fragment <nope>"),
        ("<Bad Name>", "expected <fragment_name>"),
    ],
)
def test_malformed_templates_fail_saying_where(template: str, error: str) -> None:
    with pytest.raises(GrammarError, match=re.escape(error)):
        expand(template)


def test_a_fragment_may_not_refer_to_itself() -> None:
    with pytest.raises(GrammarError, match="refers to itself"):
        expand("<loop>", {"loop": "a <loop>"})


def test_a_template_beyond_the_bound_fails_naming_the_intent() -> None:
    templates = Templates({}, max_per_template=8)
    assert len(templates.expand("(a|b) (c|d) (e|f)", "SomeIntent")) == 8
    with pytest.raises(GrammarError, match=r"SomeIntent: .* expands to 9 samples, more than 8"):
        templates.expand("(a|b|c) (d|e|f)", "SomeIntent")


# ---------------------------------------------------------------- grammars


def tiny(**changes: Any) -> dict[str, Any]:
    grammar: dict[str, Any] = {
        "invocation_name": "tiny test",
        "types": {"ColourType": {"values": [{"id": "red", "synonyms": ["scarlet"]}]}},
        "intents": [
            {"name": "AMAZON.FallbackIntent", "samples": []},
            {"name": "NextIntent", "samples": ["[okay ]next[ please]"]},
            {
                "name": "ColourIntent",
                "slots": {"colour": "ColourType"},
                "samples": ["make it {colour}"],
            },
            {
                "name": "NumberIntent",
                "slots": {"number": "AMAZON.NUMBER"},
                "slot_only_samples": True,
                "samples": ["{number}"],
            },
        ],
        "locales": {"en-GB": {"NextIntent": ["crack on"]}, "en-US": None},
    }
    grammar.update(changes)
    return grammar


def intent(model: dict[str, Any], name: str) -> dict[str, Any]:
    language = model["interactionModel"]["languageModel"]
    return next(i for i in language["intents"] if i["name"] == name)


def test_a_grammar_gives_a_model_per_locale_with_its_additions() -> None:
    grammar = parse_grammar(tiny())
    gb, us = build_model(grammar, "en-GB"), build_model(grammar, "en-US")
    assert intent(gb, "NextIntent")["samples"] == [
        "okay next please",
        "okay next",
        "next please",
        "next",
        "crack on",
    ]
    assert "crack on" not in intent(us, "NextIntent")["samples"]
    assert intent(gb, "ColourIntent") == {
        "name": "ColourIntent",
        "slots": [{"name": "colour", "type": "ColourType"}],
        "samples": ["make it {colour}"],
    }
    assert gb["interactionModel"]["languageModel"]["types"] == [
        {
            "name": "ColourType",
            "values": [{"id": "red", "name": {"value": "red", "synonyms": ["scarlet"]}}],
        }
    ]


def broken(path: list[Any], value: Any) -> dict[str, Any]:
    grammar = tiny()
    node: Any = grammar
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return grammar


@pytest.mark.parametrize(
    ("grammar", "error"),
    [
        (broken(["intents", 1, "samples"], ["next", "make it red"]), "two intents take"),
        (broken(["intents", 1, "samples"], ["next", "make it scarlet"]), "two intents take"),
        (broken(["intents", 1, "samples"], ["next 2"]), "only letters"),
        (broken(["intents", 1, "samples"], ["next!"]), "only letters"),
        (broken(["intents", 1, "samples"], ["next " * 50]), "longer than 200"),
        (broken(["intents", 2, "samples"], ["{colour}"]), "bare slot"),
        (broken(["intents", 2, "samples"], ["make it {shade}"]), "undeclared"),
        (broken(["intents", 2, "samples"], ["make it"]), "slot colour is in no sample"),
        (broken(["intents", 0, "samples"], ["huh"]), "FallbackIntent"),
        (broken(["intents", 2, "slots"], {"colour": "ShadeType"}), "unknown type ShadeType"),
        (
            broken(["types", "ColourType", "values"], [{"id": "red"}, {"id": "red"}]),
            "used twice",
        ),
        (
            broken(
                ["types", "ColourType", "values"],
                [{"id": "red", "synonyms": ["rose"]}, {"id": "pink", "synonyms": ["rose"]}],
            ),
            "belongs to both",
        ),
        (broken(["locales", "en-GB"], {"NoSuchIntent": ["x"]}), "unknown intents"),
        (broken(["invocation_name"], "Tiny"), "invocation_name"),
    ],
)
def test_mistakes_fail_loudly(grammar: dict[str, Any], error: str) -> None:
    with pytest.raises(GrammarError, match=error):
        parsed = parse_grammar(grammar)
        for locale in parsed.locale_names:
            build_model(parsed, locale)


def test_pose_and_area_types_come_from_the_routine() -> None:
    grammar = load_grammar()
    model = build_model(grammar, "en-GB")
    types = {t["name"]: t for t in model["interactionModel"]["languageModel"]["types"]}
    poses = {v["id"]: v["name"] for v in types["PoseType"]["values"]}
    assert poses["pigeon"]["value"] == "Pigeon pose"
    assert "pigeon pose" not in poses["pigeon"]["synonyms"]  # the name itself, not a synonym
    areas = {v["id"]: v["name"] for v in types["AreaType"]["values"]}
    assert areas["it_band"]["value"] == "IT band"


# ---------------------------------------------------------------- the committed models


def test_the_committed_models_are_what_the_grammar_gives() -> None:
    assert first_stale() is None, "run yoga-skill build-models"


def test_build_models_writes_and_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    grammar = tmp_path / "grammar.yaml"
    grammar.write_text(yaml.safe_dump(tiny()), encoding="utf-8")
    monkeypatch.setattr("skill.local.grammar.GRAMMAR_FILE", grammar)
    built = write_all(grammar)
    assert [b.path.name for b in built] == ["en-GB.json", "en-US.json"]
    assert json.loads((tmp_path / "en-GB.json").read_text())["interactionModel"]
    assert first_stale(grammar) is None
    (tmp_path / "en-US.json").write_text("{}", encoding="utf-8")
    stale = first_stale(grammar)
    assert stale is not None and stale.locale == "en-US"


def test_build_models_check_exits_1_naming_the_stale_locale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    grammar = tmp_path / "grammar.yaml"
    grammar.write_text(yaml.safe_dump(tiny()), encoding="utf-8")
    monkeypatch.setattr("skill.local.grammar.GRAMMAR_FILE", grammar)
    assert main(["build-models"]) == 0
    assert "en-GB.json:" in capsys.readouterr().out
    assert main(["build-models", "--check"]) == 0
    (tmp_path / "en-GB.json").write_text("{}", encoding="utf-8")
    assert main(["build-models", "--check"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "en-GB.json" in err[0]


def test_the_grammar_file_is_where_the_models_are() -> None:
    assert GRAMMAR_FILE.name == "grammar.yaml"
    assert (GRAMMAR_FILE.parent / "en-GB.json").is_file()
