"""The interaction models, generated from one grammar (``interaction_models/grammar.yaml``).

The five ``interaction_models/<locale>.json`` files are not edited by hand: ``yoga-skill
build-models`` writes them from the grammar, and ``yoga-skill build-models --check`` (and a test)
fails when a committed file differs from what the grammar gives.

The grammar holds the invocation name, the intents with their slots and sample *templates*, the
custom slot types, and per-locale additions. A template is words with a little syntax:

- ``(a|b|c)``: one of the alternatives; an alternative may be empty (``(a|)``);
- ``[x]``: ``x`` or nothing;
- ``<name>``: the fragment ``name`` of the grammar's ``fragments`` (itself a template);
- ``{slot}``: a slot of the intent, as Alexa writes it.

These nest (``[(okay|right) ]next[ (pose|one)]``). Spaces are folded after expansion, so
``[okay] next [please]`` reads as written. A template may expand to at most ``max_per_template``
samples (the grammar's ``max_samples_per_template``); more fails naming the intent, as does any
sample that breaks Alexa's rules, words two intents both take (each slot filled with each of its
values, or a built-in slot left unsaid), or a slot-only sample in an intent that does not allow
them.

Two slot types come from the routine content rather than the grammar: ``PoseType`` (``from:
poses``: every pose and variation, with its content synonyms) and ``AreaType`` (``from:
focus_areas``: the focus areas' ids and names, with synonyms from the grammar).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import Any

import yaml

from skill.resources import INTERACTION_MODELS_DIR
from skill.routine.content import Routine, load_routine

GRAMMAR_FILE = INTERACTION_MODELS_DIR / "grammar.yaml"
#: What a template may expand to unless the grammar says otherwise.
DEFAULT_MAX_PER_TEMPLATE = 400
MAX_SAMPLE_CHARS = 200
#: Clashes listed in one error; the rest are counted.
MAX_CLASHES_SHOWN = 12

_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: A sample's word: letters (apostrophes inside a word) or a {slot}.
_TOKEN = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z]+(?:'[A-Za-z]+)*")
_BUILT_IN_TYPE = re.compile(r"AMAZON\.[A-Za-z_]+")
_FRAGMENT_NAME = re.compile(r"[a-z][a-z0-9_]*")


class GrammarError(ValueError):
    """The grammar is malformed or gives a model Alexa would refuse; the message says where."""


# ---------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class _Words:
    text: str


@dataclass(frozen=True)
class _Seq:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Alt:
    options: tuple[_Seq, ...]


@dataclass(frozen=True)
class _Ref:
    name: str


_Node = _Words | _Seq | _Alt | _Ref


class _Parser:
    """Recursive descent over one template: seq := item*, item := words | (seq|...) | [seq]."""

    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.pos = 0

    def fail(self, message: str) -> GrammarError:
        return GrammarError(f"{self.where}: {message} at column {self.pos + 1} of {self.text!r}")

    def parse(self) -> _Seq:
        seq = self.seq()
        if self.pos < len(self.text):
            raise self.fail(f"unexpected {self.text[self.pos]!r}")
        return seq

    def seq(self) -> _Seq:
        items: list[_Node] = []
        start = self.pos
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in "|)]":
                break
            if char in "([<":
                if start < self.pos:
                    items.append(_Words(self.text[start : self.pos]))
                items.append(self.group(char))
                start = self.pos
                continue
            self.pos += 1
        if start < self.pos:
            items.append(_Words(self.text[start : self.pos]))
        return _Seq(tuple(items))

    def group(self, opener: str) -> _Node:
        self.pos += 1
        if opener == "<":
            end = self.text.find(">", self.pos)
            name = self.text[self.pos : end] if end != -1 else ""
            if not _FRAGMENT_NAME.fullmatch(name):
                raise self.fail("expected <fragment_name>")
            self.pos = end + 1
            return _Ref(name)
        closer = ")" if opener == "(" else "]"
        options = [self.seq()]
        while self.pos < len(self.text) and self.text[self.pos] == "|":
            if opener == "[":
                raise self.fail("'|' inside [...]: write [(a|b)]")
            self.pos += 1
            options.append(self.seq())
        if self.pos >= len(self.text) or self.text[self.pos] != closer:
            raise self.fail(f"expected {closer!r}")
        self.pos += 1
        if opener == "[":
            options.append(_Seq(()))
        return _Alt(tuple(options))


@dataclass
class Templates:
    """Parses and expands templates, with the grammar's fragments."""

    fragments: Mapping[str, str] = field(default_factory=dict)
    max_per_template: int = DEFAULT_MAX_PER_TEMPLATE
    _parsed: dict[str, _Seq] = field(default_factory=dict, init=False, repr=False)

    def _fragment(self, name: str, where: str, stack: tuple[str, ...]) -> _Seq:
        if name in stack:
            raise GrammarError(f"{where}: fragment <{name}> refers to itself")
        if name not in self.fragments:
            raise GrammarError(f"{where}: no fragment <{name}> in the grammar's fragments")
        if name not in self._parsed:
            self._parsed[name] = _Parser(self.fragments[name], f"fragment <{name}>").parse()
        return self._parsed[name]

    def _count(self, node: _Node, where: str, stack: tuple[str, ...]) -> int:
        if isinstance(node, _Words):
            return 1
        if isinstance(node, _Seq):
            return prod(self._count(item, where, stack) for item in node.items)
        if isinstance(node, _Alt):
            return sum(self._count(option, where, stack) for option in node.options)
        return self._count(self._fragment(node.name, where, stack), where, (*stack, node.name))

    def _expand(self, node: _Node, where: str, stack: tuple[str, ...]) -> list[str]:
        if isinstance(node, _Words):
            return [node.text]
        if isinstance(node, _Alt):
            return [text for option in node.options for text in self._expand(option, where, stack)]
        if isinstance(node, _Ref):
            fragment = self._fragment(node.name, where, stack)
            return self._expand(fragment, where, (*stack, node.name))
        texts = [""]
        for item in node.items:
            texts = [a + b for a in texts for b in self._expand(item, where, stack)]
        return texts

    def expand(self, template: str, where: str) -> list[str]:
        """The samples a template gives, spaces folded, in order, each once."""
        tree = _Parser(template, where).parse()
        count = self._count(tree, where, ())
        if count > self.max_per_template:
            raise GrammarError(
                f"{where}: template {template!r} expands to {count} samples, more than "
                f"{self.max_per_template}: split it or trim its alternatives"
            )
        return list(dict.fromkeys(" ".join(text.split()) for text in self._expand(tree, where, ())))


def expand(template: str, fragments: Mapping[str, str] | None = None) -> list[str]:
    """The samples one template gives (a convenience for tests and exploring)."""
    return Templates(dict(fragments or {})).expand(template, "template")


# ---------------------------------------------------------------------------- the grammar


@dataclass(frozen=True)
class Intent:
    name: str
    slots: Mapping[str, str]
    templates: tuple[str, ...]
    slot_only: bool = False


@dataclass(frozen=True)
class Grammar:
    """The grammar file, read and checked for shape (not yet expanded)."""

    invocation_name: str
    intents: tuple[Intent, ...]
    types: Mapping[str, Mapping[str, Any]]
    locales: Mapping[str, Mapping[str, tuple[str, ...]]]
    templates: Templates

    @property
    def locale_names(self) -> tuple[str, ...]:
        return tuple(self.locales)


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise GrammarError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _strings(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GrammarError(
            f"{where}: expected a list of text (quote words YAML reads as something else, "
            'such as "no", "yes", "on" and "off")'
        )
    return tuple(value)


def _only(data: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise GrammarError(f"{where}: unknown keys {sorted(unknown)}")


def parse_grammar(data: object, where: str = "grammar") -> Grammar:
    top = _mapping(data, where)
    _only(
        top,
        {"invocation_name", "max_samples_per_template", "fragments", "types", "intents", "locales"},
        where,
    )
    name = top.get("invocation_name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z]+(?: [a-z]+)+", name):
        raise GrammarError(f"{where}: invocation_name must be two or more lower-case words")
    bound = top.get("max_samples_per_template", DEFAULT_MAX_PER_TEMPLATE)
    if not isinstance(bound, int) or bound < 1:
        raise GrammarError(f"{where}: max_samples_per_template must be a positive whole number")
    fragments = {
        str(key): " ".join(_strings(value, f"{where}: fragments.{key}"))
        for key, value in _mapping(top.get("fragments", {}), f"{where}: fragments").items()
    }
    bad = [key for key in fragments if not _FRAGMENT_NAME.fullmatch(key)]
    if bad:
        raise GrammarError(f"{where}: fragment names must be lower_case words: {bad}")
    raw_intents = top.get("intents")
    if not isinstance(raw_intents, list) or not raw_intents:
        raise GrammarError(f"{where}: expected a list of intents")
    intents: list[Intent] = []
    for n, raw in enumerate(raw_intents):
        item = _mapping(raw, f"{where}: intents[{n}]")
        intent_name = item.get("name")
        if not isinstance(intent_name, str):
            raise GrammarError(f"{where}: intents[{n}] has no name")
        at = f"{where}: {intent_name}"
        _only(item, {"name", "slots", "samples", "slot_only_samples"}, at)
        if any(i.name == intent_name for i in intents):
            raise GrammarError(f"{at}: declared twice")
        slots = {str(k): str(v) for k, v in _mapping(item.get("slots", {}), f"{at}: slots").items()}
        slot_only = item.get("slot_only_samples", False)
        if not isinstance(slot_only, bool):
            raise GrammarError(f"{at}: slot_only_samples must be true or false")
        intents.append(Intent(intent_name, slots, _strings(item.get("samples", []), at), slot_only))
    types = {
        str(k): _mapping(v, f"{where}: types.{k}")
        for k, v in _mapping(top.get("types", {}), f"{where}: types").items()
    }
    locales: dict[str, dict[str, tuple[str, ...]]] = {}
    for locale, additions in _mapping(top.get("locales"), f"{where}: locales").items():
        known = {i.name for i in intents}
        extra = _mapping(additions or {}, f"{where}: locales.{locale}")
        unknown = set(extra) - known
        if unknown:
            raise GrammarError(
                f"{where}: locales.{locale} adds to unknown intents {sorted(unknown)}"
            )
        locales[str(locale)] = {
            str(k): _strings(v, f"{where}: locales.{locale}.{k}") for k, v in extra.items()
        }
    return Grammar(name, tuple(intents), types, locales, Templates(fragments, bound))


def load_grammar(path: Path | None = None) -> Grammar:
    """The grammar file (``interaction_models/grammar.yaml`` unless told), read and checked."""
    path = path or GRAMMAR_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GrammarError(f"cannot read {path}: {exc}") from exc
    return parse_grammar(data, path.name)


# ---------------------------------------------------------------------------- slot types


def _fold(text: str) -> str:
    return " ".join(text.lower().split())


def _value(ident: str, name: str, synonyms: Iterable[str]) -> dict[str, Any]:
    own = _fold(name)
    kept = list(dict.fromkeys(s for s in synonyms if _fold(s) != own))
    return {"id": ident, "name": {"value": name, "synonyms": kept}}


def pose_values(routine: Routine) -> list[dict[str, Any]]:
    """PoseType: one value per pose and variation, in routine order, with the content synonyms.

    A synonym that repeats the value's own name, or that is the name of another value (the
    content lists "advanced high lunge" under high lunge), is left out.
    """
    parts = [part for pose in routine.poses for part in pose.parts]
    names = {_fold(part.name): part.id for part in parts}
    values = []
    for part in parts:
        synonyms = [
            s for s in getattr(part, "synonyms", ()) if names.get(_fold(s), part.id) == part.id
        ]
        values.append(_value(part.id, part.name, synonyms))
    return values


def area_values(
    routine: Routine, synonyms: Mapping[str, Sequence[str]], where: str
) -> list[dict[str, Any]]:
    """AreaType: the routine's focus areas (id and name) with the grammar's synonyms."""
    ids = [area.id for area in routine.focus_areas]
    unknown = set(synonyms) - set(ids)
    if unknown:
        raise GrammarError(
            f"{where}: synonyms for focus areas the routine lacks: {sorted(unknown)}"
        )
    return [_value(area.id, area.name, synonyms.get(area.id, ())) for area in routine.focus_areas]


def _listed_values(raw: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    values = raw.get("values")
    if not isinstance(values, list) or not values:
        raise GrammarError(f"{where}: expected a list of values")
    out = []
    for n, item in enumerate(values):
        entry = _mapping(item, f"{where}: values[{n}]")
        _only(entry, {"id", "value", "synonyms"}, f"{where}: values[{n}]")
        ident, name = entry.get("id"), entry.get("value", entry.get("id"))
        if not isinstance(ident, str) or not isinstance(name, str):
            raise GrammarError(f"{where}: values[{n}] needs an id (and a value, or the id is it)")
        out.append(_value(ident, name, _strings(entry.get("synonyms", []), f"{where}.{ident}")))
    return out


def build_types(grammar: Grammar, routine: Routine) -> list[dict[str, Any]]:
    types = []
    for name, raw in grammar.types.items():
        where = f"types.{name}"
        source = raw.get("from")
        if source == "poses":
            _only(raw, {"from"}, where)
            values = pose_values(routine)
        elif source == "focus_areas":
            _only(raw, {"from", "synonyms"}, where)
            synonyms = {
                str(k): _strings(v, f"{where}.synonyms.{k}")
                for k, v in _mapping(raw.get("synonyms", {}), f"{where}.synonyms").items()
            }
            values = area_values(routine, synonyms, where)
        elif source is None:
            _only(raw, {"values"}, where)
            values = _listed_values(raw, where)
        else:
            raise GrammarError(f"{where}: from must be poses or focus_areas, not {source!r}")
        _check_values(name, values)
        types.append({"name": name, "values": values})
    return types


def _check_values(type_name: str, values: Sequence[Mapping[str, Any]]) -> None:
    owner: dict[str, str] = {}
    for value in values:
        ident = value["id"]
        if any(v["id"] == ident for v in values if v is not value):
            raise GrammarError(f"types.{type_name}: id {ident!r} is used twice")
        for phrase in (value["name"]["value"], *value["name"]["synonyms"]):
            folded = _fold(phrase)
            if re.search(r"\d", phrase) or not folded:
                raise GrammarError(f"types.{type_name}.{ident}: {phrase!r} is empty or has digits")
            other = owner.setdefault(folded, ident)
            if other != ident:
                raise GrammarError(
                    f"types.{type_name}: {phrase!r} belongs to both {other} and {ident}"
                )


# ---------------------------------------------------------------------------- models


def _check_sample(intent: Intent, sample: str, where: str) -> None:
    tokens = sample.split(" ")
    if not sample or not all(_TOKEN.fullmatch(token) for token in tokens):
        raise GrammarError(f"{where}: {sample!r}: only letters, apostrophes, spaces and {{slots}}")
    if len(sample) > MAX_SAMPLE_CHARS:
        raise GrammarError(f"{where}: {sample!r} is longer than {MAX_SAMPLE_CHARS} characters")
    used = _SLOT.findall(sample)
    undeclared = set(used) - set(intent.slots)
    if undeclared:
        raise GrammarError(f"{where}: {sample!r} uses undeclared slots {sorted(undeclared)}")
    if len(used) != len(set(used)):
        raise GrammarError(f"{where}: {sample!r} uses a slot twice")
    if len(tokens) == 1 and used and not intent.slot_only:
        raise GrammarError(
            f"{where}: {sample!r} is a bare slot, which captures almost anything said "
            "(only intents with slot_only_samples: true may have one)"
        )


def _samples_of(
    intent: Intent, templates: Iterable[str], grammar: Grammar, where: str
) -> list[str]:
    samples: dict[str, str] = {}
    for template in templates:
        for sample in grammar.templates.expand(template, where):
            _check_sample(intent, sample, where)
            samples.setdefault(sample.lower(), sample)
    return list(samples.values())


def _same_words(sample: str) -> str:
    """What makes two samples the same to a matcher: case, spaces and apostrophes folded."""
    return _fold(sample).replace("'", "")


def _phrases_by_type(types: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    return {
        t["name"]: [p for v in t["values"] for p in (v["name"]["value"], *v["name"]["synonyms"])]
        for t in types
    }


def _said(sample: str, slots: Mapping[str, str], phrases: Mapping[str, list[str]]) -> list[str]:
    """What a sample lets a runner say, folded as a matcher compares them: each custom slot
    filled with each of its phrases; a built-in slot as a placeholder, or left unsaid (a matcher
    may take "okay {number}" for a bare "okay")."""
    texts = [""]
    for token in sample.split(" "):
        slot = _SLOT.fullmatch(token)
        fills = [token] if slot is None else phrases.get(slots[slot.group(1)], [token, ""])
        texts = [f"{text} {fill}" for text in texts for fill in fills]
    return list(dict.fromkeys(_same_words(text) for text in texts))


def _clashes(
    intents: Sequence[tuple[Intent, list[str]]], phrases: Mapping[str, list[str]]
) -> list[str]:
    """Words that two intents' samples both let a runner say ("keep it short": the session
    length or the instruction level?), described."""
    said_by: dict[str, tuple[str, str]] = {}
    clashes: list[str] = []
    for intent, samples in intents:
        for sample in samples:
            for text in _said(sample, intent.slots, phrases):
                other = said_by.setdefault(text, (intent.name, sample))
                if other[0] != intent.name:
                    clashes.append(
                        f"{text!r} is {sample!r} ({intent.name}) and {other[1]!r} ({other[0]})"
                    )
    return clashes


def build_model(grammar: Grammar, locale: str, routine: Routine | None = None) -> dict[str, Any]:
    """One locale's interaction model (the ASK CLI's JSON, as a dict)."""
    if locale not in grammar.locales:
        raise GrammarError(f"no locale {locale!r} in the grammar (it has {grammar.locale_names})")
    routine = routine or load_routine()
    types = build_types(grammar, routine)
    type_names = {t["name"] for t in types}
    additions = grammar.locales[locale]
    expanded: list[tuple[Intent, list[str]]] = []
    used_types: set[str] = set()
    for intent in grammar.intents:
        where = f"{intent.name} ({locale})"
        templates = (*intent.templates, *additions.get(intent.name, ()))
        samples = _samples_of(intent, templates, grammar, where)
        if intent.name == "AMAZON.FallbackIntent" and samples:
            raise GrammarError(f"{where}: Alexa refuses samples for AMAZON.FallbackIntent")
        used = {slot for sample in samples for slot in _SLOT.findall(sample)}
        for slot, kind in intent.slots.items():
            if slot not in used:
                raise GrammarError(f"{where}: slot {slot} is in no sample")
            if kind not in type_names and not _BUILT_IN_TYPE.fullmatch(kind):
                raise GrammarError(f"{where}: slot {slot} has unknown type {kind}")
            used_types.add(kind)
        expanded.append((intent, samples))
    unused = type_names - used_types
    if unused:
        raise GrammarError(f"types {sorted(unused)} are used by no slot")
    clashes = _clashes(expanded, _phrases_by_type(types))
    if clashes:
        shown = "; ".join(clashes[:MAX_CLASHES_SHOWN])
        more = (
            f" (and {len(clashes) - MAX_CLASHES_SHOWN} more)"
            if len(clashes) > MAX_CLASHES_SHOWN
            else ""
        )
        raise GrammarError(f"{locale}: two intents take the same words: {shown}{more}")
    intents = []
    for intent, samples in expanded:
        entry: dict[str, Any] = {"name": intent.name}
        if intent.slots:
            entry["slots"] = [{"name": s, "type": k} for s, k in intent.slots.items()]
        entry["samples"] = samples
        intents.append(entry)
    language = {"invocationName": grammar.invocation_name, "intents": intents, "types": types}
    return {"interactionModel": {"languageModel": language}}


def render(model: Mapping[str, Any]) -> str:
    """A model as the committed file holds it."""
    return json.dumps(model, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Built:
    locale: str
    path: Path
    text: str

    @property
    def samples(self) -> int:
        language = json.loads(self.text)["interactionModel"]["languageModel"]
        return sum(len(intent["samples"]) for intent in language["intents"])

    def current(self) -> bool:
        """Whether the file on disk is exactly this."""
        try:
            return self.path.read_text(encoding="utf-8") == self.text
        except OSError:
            return False


def build_all(grammar_path: Path | None = None, out_dir: Path | None = None) -> Iterator[Built]:
    """Every locale's model from the grammar, in the grammar's order (nothing written).

    The models go next to the grammar unless ``out_dir`` says otherwise.
    """
    grammar_path = grammar_path or GRAMMAR_FILE
    grammar = load_grammar(grammar_path)
    routine = load_routine()
    out_dir = out_dir or grammar_path.parent
    for locale in grammar.locale_names:
        text = render(build_model(grammar, locale, routine))
        yield Built(locale, out_dir / f"{locale}.json", text)


def write_all(grammar_path: Path | None = None, out_dir: Path | None = None) -> list[Built]:
    """Writes every locale's model (those that changed); returns what was built."""
    built = list(build_all(grammar_path, out_dir))  # all of them, before writing any
    for model in built:
        if not model.current():
            model.path.write_text(model.text, encoding="utf-8")
    return built


def first_stale(grammar_path: Path | None = None, out_dir: Path | None = None) -> Built | None:
    """The first locale whose committed model differs from what the grammar gives, or None."""
    return next((b for b in build_all(grammar_path, out_dir) if not b.current()), None)
