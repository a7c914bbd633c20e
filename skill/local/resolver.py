"""Resolve typed utterances against an interaction model, locally (``yoga-skill dialog``).

This is a small stand-in for Alexa's language understanding, so the skill can be driven from a
terminal with no device and no network. It reads one locale's model file from
``interaction_models/<locale>.json`` and resolves a line of text to a :class:`Resolution`:

1. Opening phrases ("open post run yoga", "ask post run yoga to ...") are recognised first.
2. Exact match: every sample utterance is compiled to a regular expression in which each
   ``{slot}`` matches the values of its type (custom values and synonyms, numbers, ordinals,
   days and times).
3. Bare value: the utterance is just a value of a custom type that one intent's slot takes
   ("hold", "slower", "pigeon", "left leg"), so it gives that intent with the slot filled.
4. Carrier match: a sample whose custom slot holds words that are not a value of the type (such
   as "go to headstand") still gives its intent, with the slot unmatched, as Alexa does.
5. Tolerant match: failing those, samples are scored by the overlap of their content words with
   the utterance's (stop words removed, light stemming), and the best one above a threshold wins,
   so natural phrasings beyond the samples resolve. It is guarded so that it can't change
   something the runner didn't ask for:

   - an intent whose every sample says a word (SetHoldLengthIntent: "breaths",
     RepeatStepIntent: "step") is only matched when the utterance says it too;
   - a relative amount ("one more breath", "add two breaths") never fills a number slot;
   - a number no slot of the sample can hold counts double against it ("what's pose three");
   - two different values of one type ("left or right") fill no slot;
   - "skip" with something named ("skip pigeon") matches nothing: not going to it, and not
     skipping whatever is current.
6. Anything else is ``AMAZON.FallbackIntent``.

Built-in intents resolve through the samples the model gives them, so there is no separate table.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from skill.local.builtin_dates import (
    DATE,
    DATE_PATTERN,
    TIME,
    TIME_PATTERN,
    resolve_date,
    resolve_time,
)
from skill.resources import INTERACTION_MODELS_DIR
from skill.routine.names import (
    NUMBER_WORDS,
    ORDINAL_WORDS,
    fold_words,
    read_number,
    read_ordinal,
    split_words,
)
from skill.settings import DEFAULT_LOCALE

MODELS_DIR = INTERACTION_MODELS_DIR
FALLBACK_INTENT = "AMAZON.FallbackIntent"
NUMBER = "AMAZON.NUMBER"
ORDINAL = "AMAZON.Ordinal"

#: Best overlap score (0..1) a tolerant match needs to be accepted.
FUZZY_THRESHOLD = 0.6

Kind = Literal["launch", "intent"]


@dataclass(frozen=True)
class ResolvedSlot:
    """One filled slot.

    ``value`` is the words heard. ``id`` is the value id for a custom type (``None`` when the
    words are not a value of the type), or the number as digits for AMAZON.NUMBER and
    AMAZON.Ordinal ("three" -> "3", "third" -> "3").
    """

    name: str
    value: str
    id: str | None
    matched: bool


@dataclass(frozen=True)
class Resolution:
    """What an utterance means: a launch, or an intent with its filled slots (only filled ones)."""

    kind: Kind
    intent: str | None = None
    slots: dict[str, ResolvedSlot] = field(default_factory=dict, hash=False)


# ---------------------------------------------------------------- normalisation

_LEADING_FILLERS = frozenset({"alexa", "please", "um", "uh", "erm", "er", "ok", "okay", "hey"})
_TRAILING_FILLERS = frozenset({"please", "thanks", "alexa"})
_DISFLUENCIES = frozenset({"um", "uh", "erm", "er"})
_clean = fold_words


def normalise(text: str) -> str:
    """Folded as names are (:func:`~skill.routine.names.fold_words`), filler words dropped.

    A leading "alexa", "please", "um", "ok", "okay" and a trailing "please", "thanks", "alexa"
    or "thank you" go, but never the last word left ("okay" alone stays "okay", "thanks alexa"
    becomes "thanks").
    """
    words = [w for w in _clean(text) if w not in _DISFLUENCIES] or _clean(text)
    changed = True
    while changed:
        changed = False
        if len(words) > 1 and words[0] in _LEADING_FILLERS:
            words.pop(0)
            changed = True
        if len(words) > 1 and words[-1] in _TRAILING_FILLERS:
            words.pop()
            changed = True
        if len(words) > 2 and words[-2:] == ["thank", "you"]:
            del words[-2:]
            changed = True
    return " ".join(words)


# ---------------------------------------------------------------- numbers and ordinals


def _alternation(phrases: Iterable[str]) -> str:
    """A regex alternation of whole phrases, longest first."""
    ordered = sorted(set(phrases), key=lambda p: (-len(p), p))
    return "|".join(re.escape(p) for p in ordered)


_NUMBER_PATTERN = rf"(?:\d+|{_alternation(NUMBER_WORDS)})"
_ORDINAL_PATTERN = rf"(?:\d+(?:st|nd|rd|th)|{_alternation(ORDINAL_WORDS)})"


def _number_id(words: str) -> str:
    return str(read_number(words))


def _ordinal_id(words: str) -> str:
    return str(read_ordinal(words))


# ---------------------------------------------------------------- content words


_STOP_WORDS = frozenset(
    split_words(
        """
    a an the to of on in at for with and or but is am are was were be been being
    i i'm im i'd id i'll i've me my mine myself you you're your yours we we're we'll us our
    it it's its this that that's these those there there's here
    do does did can could would will should shall may might must
    please just now so then um uh er erm like want wanna gonna need tell let let's lets
    some any what what's whats get got have has had really very quite bit
    okay ok alright thanks thank hey alexa if as by one mate
    ill ive youre youve youll weve theyre thats theres well
    """
    )
)
# The last line is contractions as fold_words leaves them (apostrophes dropped: "I'll" -> "ill").
# "ill" and "well" are words too, but far rarer here than "I'll" and "we'll" (and "well" as a
# filler): as content words they would make "I'll pass" and "well, next" look like other things.


#: Words that make an amount relative ("one more breath", "add two"): not a number to set.
_RELATIVE = frozenset(split_words("more add adding added extra fewer less another"))
#: Words saying to leave something out ("skip pigeon", "don't do pigeon"). "skip to ..." and
#: "skip ahead to ..." are not that.
_AVOID = frozenset(split_words("skip avoid don't dont"))
#: An intent needs this many samples before a word all of them say becomes required.
_KEY_WORD_MIN_SAMPLES = 5


def _stem(word: str) -> str:
    """A very light stemmer: plurals, -ing, -ed, final e ("stretches" -> "stretch")."""
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if word[-1] == word[-2] and word[-1] not in "ls":
                word = word[:-1]
            break
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("ches", "shes", "sses", "xes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def _content(words: Iterable[str]) -> frozenset[str]:
    return frozenset(_stem(w) for w in words if w not in _STOP_WORDS)


_RELATIVE_STEMS = frozenset(_stem(w) for w in _RELATIVE)


# ---------------------------------------------------------------- compiled model

_SLOT = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")


@dataclass(frozen=True)
class _SlotType:
    name: str
    pattern: str  # alternation of all the phrases of the type
    ids: Mapping[str, str]  # normalised phrase -> id (custom) ; empty for built-ins
    custom: bool
    size: int  # number of values (custom), for ranking carrier matches
    words: frozenset[str] = frozenset()  # content words of the values ("pose", "side", ...)

    def resolve(self, words: str) -> str | None:
        if self.name == NUMBER:
            return _number_id(words)
        if self.name == ORDINAL:
            return _ordinal_id(words)
        if self.name == DATE:
            return resolve_date(words)
        if self.name == TIME:
            return resolve_time(words)
        return self.ids.get(words)


@dataclass(frozen=True)
class _Sample:
    intent: str
    text: str
    order: int
    slots: tuple[tuple[str, _SlotType], ...]  # in the order they appear; group i is "s{i}"
    literal_words: int
    literal: frozenset[str]  # the words it says, as they are
    literal_content: frozenset[str]
    exact: re.Pattern[str] | None
    carrier: re.Pattern[str] | None


def _read_model(source: Mapping[str, Any] | str | os.PathLike[str]) -> Mapping[str, Any]:
    if isinstance(source, Mapping):
        return source
    model: Mapping[str, Any] = json.loads(Path(source).read_text(encoding="utf-8"))
    return model


_COMPILED: dict[tuple[str, int, str], Resolver] = {}


class Resolver:
    """Resolves text against one locale's interaction model. Build once; :meth:`resolve` is fast."""

    def __init__(
        self,
        model: Mapping[str, Any] | str | os.PathLike[str],
        *,
        locale: str | None = None,
    ) -> None:
        """``model``: a model file's path, or its parsed JSON (``{"interactionModel": ...}``)."""
        if locale is None and not isinstance(model, Mapping):
            locale = Path(model).stem
        self.locale = locale
        language = _read_model(model)["interactionModel"]["languageModel"]
        self.invocation_name: str = normalise(language["invocationName"])
        self._types = self._compile_types(language.get("types", []))
        self.intents: tuple[str, ...] = tuple(i["name"] for i in language["intents"])
        self._slot_types: dict[str, dict[str, str]] = {
            i["name"]: {s["name"]: s["type"] for s in i.get("slots", [])}
            for i in language["intents"]
        }
        self._literal: dict[str, str] = {}
        self._samples: list[_Sample] = []
        vocabulary: set[str] = set()
        for intent in language["intents"]:
            declared = self._slot_types[intent["name"]]
            for text in intent.get("samples", []):
                sample = self._compile_sample(intent["name"], text, declared, len(self._samples))
                vocabulary |= sample.literal_content
                if not sample.slots:
                    self._literal.setdefault(" ".join(_clean(text)), intent["name"])
                self._samples.append(sample)
        self._vocabulary = frozenset(vocabulary)
        # The samples that say each content word, and that take each slot type: the tolerant
        # match scores only samples sharing one with the utterance (the others score nothing).
        self._said_by: dict[str, list[int]] = {}
        for index, sample in enumerate(self._samples):
            for key in (*sample.literal_content, *(t.name for _, t in sample.slots)):
                self._said_by.setdefault(key, []).append(index)
        owners: dict[str, set[str]] = {}
        for sample in self._samples:
            for word in sample.literal_content:
                owners.setdefault(word, set()).add(sample.intent)
        self._unique_words = frozenset(w for w, intents in owners.items() if len(intents) == 1)
        self._key_words = self._find_key_words(self._samples)
        self._bare = self._find_bare_values(self._samples)
        self._slotted = [s for s in self._samples if s.slots]
        self._carriers = sorted(
            (s for s in self._slotted if s.carrier is not None),
            key=lambda s: (
                -len(s.literal_content),
                -s.literal_words,
                -max(t.size for _, t in s.slots),
                s.order,
            ),
        )
        used = {t.name: t for s in self._slotted for _, t in s.slots}
        self._finders = {
            name: re.compile(rf"(?<![a-z0-9'])(?:{t.pattern})(?![a-z0-9'])")
            for name, t in used.items()
        }
        launch_verbs = "open|start|launch|begin|play|load|run|use"
        name = re.escape(self.invocation_name)
        self._launch = re.compile(
            rf"(?:(?:{launch_verbs}|ask|tell|talk to|speak to) )?(?:the )?{name}(?: skill)?"
        )
        self._ask = re.compile(
            rf"(?:(?:ask|tell|use) (?:the )?{name}(?: (?:to|for|about|that|if|whether))?"
            rf"|(?:{launch_verbs}) (?:the )?{name} and(?: then)?) (?P<rest>.+)"
        )

    @classmethod
    def for_locale(cls, locale: str = DEFAULT_LOCALE, models_dir: Path | None = None) -> Resolver:
        """The resolver for ``interaction_models/<locale>.json`` next to the package, compiled
        once per process (a model of thousands of samples takes a second to compile)."""
        path = (models_dir or MODELS_DIR) / f"{locale}.json"
        if not path.is_file():
            raise FileNotFoundError(f"no interaction model for locale {locale!r}: {path}")
        key = (str(path.resolve()), path.stat().st_mtime_ns, locale)
        found = _COMPILED.get(key)
        if found is None or not isinstance(found, cls):
            found = _COMPILED[key] = cls(path, locale=locale)
        return found

    def slot_type(self, intent: str, slot: str) -> str | None:
        """The type of a slot ("PoseType", "AMAZON.NUMBER"), or None if it isn't declared."""
        return self._slot_types.get(intent, {}).get(slot)

    # ------------------------------------------------------------ construction

    @staticmethod
    def _find_key_words(samples: Iterable[_Sample]) -> dict[str, frozenset[str]]:
        """Per intent, the content words every one of its samples says ("breath", "step")."""
        by_intent: dict[str, list[frozenset[str]]] = {}
        for sample in samples:
            by_intent.setdefault(sample.intent, []).append(sample.literal_content)
        key_words = {}
        for intent, contents in by_intent.items():
            if len(contents) >= _KEY_WORD_MIN_SAMPLES:
                common = frozenset.intersection(*contents)
                if common:
                    key_words[intent] = common
        return key_words

    @staticmethod
    def _find_bare_values(samples: Iterable[_Sample]) -> dict[str, tuple[str, str, _SlotType]]:
        """Phrase -> (intent, slot, type) for custom types that exactly one intent's slot takes."""
        users: dict[str, set[tuple[str, str]]] = {}
        types: dict[str, _SlotType] = {}
        for sample in samples:
            for name, slot_type in sample.slots:
                if slot_type.custom:
                    users.setdefault(slot_type.name, set()).add((sample.intent, name))
                    types[slot_type.name] = slot_type
        bare: dict[str, tuple[str, str, _SlotType]] = {}
        for type_name, owners in users.items():
            if len(owners) == 1:
                ((intent, name),) = owners
                for phrase in types[type_name].ids:
                    bare.setdefault(phrase, (intent, name, types[type_name]))
        return bare

    @staticmethod
    def _compile_types(types: Iterable[Mapping[str, Any]]) -> dict[str, _SlotType]:
        compiled = {
            NUMBER: _SlotType(NUMBER, _NUMBER_PATTERN, {}, False, 0),
            ORDINAL: _SlotType(ORDINAL, _ORDINAL_PATTERN, {}, False, 0),
            DATE: _SlotType(DATE, DATE_PATTERN, {}, False, 0),
            TIME: _SlotType(TIME, TIME_PATTERN, {}, False, 0),
        }
        for slot_type in types:
            ids: dict[str, str] = {}
            for value in slot_type.get("values", []):
                name = value["name"]
                ident = value.get("id") or name["value"]
                for phrase in (name["value"], *name.get("synonyms", [])):
                    ids.setdefault(normalise(phrase), ident)
            ids.pop("", None)
            compiled[slot_type["name"]] = _SlotType(
                name=slot_type["name"],
                pattern=_alternation(ids),
                ids=ids,
                custom=True,
                size=len(slot_type.get("values", [])),
                words=_content(word for phrase in ids for word in phrase.split()),
            )
        return compiled

    def _compile_sample(
        self, intent: str, text: str, declared: Mapping[str, str], order: int
    ) -> _Sample:
        exact: list[str] = []
        loose: list[str] = []
        slots: list[tuple[str, _SlotType]] = []
        literal: list[str] = []
        for token in text.split():
            match = _SLOT.match(token)
            if match is None:
                words = _clean(token)
                literal.extend(words)
                exact.extend(re.escape(w) for w in words)
                loose.extend(re.escape(w) for w in words)
                continue
            slot_name = match.group(1)
            if slot_name not in declared:
                raise ValueError(f"{intent}: sample {text!r} uses undeclared slot {{{slot_name}}}")
            type_name = declared[slot_name]
            if type_name not in self._types:
                if type_name.startswith("AMAZON."):
                    raise ValueError(f"{intent}: built-in slot type {type_name} not supported")
                raise ValueError(f"{intent}: slot {slot_name} has undefined type {type_name}")
            slot_type = self._types[type_name]
            group = f"s{len(slots)}"
            slots.append((slot_name, slot_type))
            if slot_type.custom:
                article = r"(?:(?:the|a|an|my) )?"
                exact.append(rf"{article}(?P<{group}>{slot_type.pattern})")
                loose.append(rf"{article}(?P<{group}>[a-z0-9'][a-z0-9' ]*?)")
            else:
                exact.append(rf"(?P<{group}>{slot_type.pattern})")
                loose.append(rf"(?P<{group}>{slot_type.pattern})")
        has_custom = any(t.custom for _, t in slots)
        return _Sample(
            intent=intent,
            text=text,
            order=order,
            slots=tuple(slots),
            literal_words=len(literal),
            literal=frozenset(literal),
            literal_content=_content(literal),
            exact=re.compile(" ".join(exact)) if slots else None,
            carrier=re.compile(" ".join(loose)) if has_custom and literal else None,
        )

    # ------------------------------------------------------------ resolving

    def resolve(self, utterance: str) -> Resolution:
        """What ``utterance`` means in this model; unknown text gives AMAZON.FallbackIntent."""
        text = normalise(utterance)
        if self._launch.fullmatch(text):
            return Resolution("launch")
        ask = self._ask.fullmatch(text)
        if ask is not None:
            text = normalise(ask.group("rest"))
        return self._resolve_intent(text)

    def _resolve_intent(self, text: str) -> Resolution:
        if not text:
            return Resolution("intent", FALLBACK_INTENT)
        intent = self._literal.get(text)
        if intent is not None:
            return Resolution("intent", intent)
        exact = self._exact(text)
        if exact is not None:
            return exact
        words = _strip_article(text)
        bare = self._bare.get(words)
        if bare is not None:
            intent, name, slot_type = bare
            slot = ResolvedSlot(name, words, slot_type.resolve(words), True)
            return Resolution("intent", intent, {name: slot})
        carrier, suspicious = self._carrier(text)
        if carrier is not None and not suspicious:
            return carrier
        fuzzy = self._fuzzy(text)
        if fuzzy is not None:
            return fuzzy
        return carrier or Resolution("intent", FALLBACK_INTENT)

    def _exact(self, text: str) -> Resolution | None:
        best: tuple[tuple[int, int], _Sample, re.Match[str]] | None = None
        for sample in self._slotted:
            assert sample.exact is not None
            match = sample.exact.fullmatch(text)
            if match is not None:
                rank = (-sample.literal_words, sample.order)
                if best is None or rank < best[0]:
                    best = (rank, sample, match)
        if best is None:
            return None
        _, sample, match = best
        slots = {}
        for i, (name, slot_type) in enumerate(sample.slots):
            words = match.group(f"s{i}")
            slots[name] = ResolvedSlot(name, words, slot_type.resolve(words), True)
        return Resolution("intent", sample.intent, slots)

    def _carrier(self, text: str) -> tuple[Resolution | None, bool]:
        """A sample's carrier phrase around words that are not a value of its custom slot.

        Returns the resolution and whether it is suspicious: the slot's words include words the
        samples use, so the tolerant match is asked first ("let's do the other side").
        """
        for sample in self._carriers:
            assert sample.carrier is not None
            match = sample.carrier.fullmatch(text)
            if match is None:
                continue
            slots = {}
            suspicious = False
            plausible = True
            for i, (name, slot_type) in enumerate(sample.slots):
                words = match.group(f"s{i}")
                if not slot_type.custom:
                    slots[name] = ResolvedSlot(name, words, slot_type.resolve(words), True)
                    continue
                first = words.split()[0]
                if first in _STOP_WORDS:
                    plausible = False  # "do you know ..." is not the name of a pose
                    break
                ident = slot_type.ids.get(words)
                if ident is None:  # "slow it down with hold mode": the value next to the carrier
                    ending = {
                        i
                        for phrase, i in slot_type.ids.items()
                        if f" {words}".endswith(f" {phrase}")
                    }
                    ident = ending.pop() if len(ending) == 1 else None
                slots[name] = ResolvedSlot(name, words, ident, ident is not None)
                heard = _content(words.split()) - slot_type.words
                suspicious = suspicious or bool(heard & self._vocabulary)
            if plausible:
                return Resolution("intent", sample.intent, slots), suspicious
        return None, False

    def _distinctive(self, sample: _Sample, words: frozenset[str]) -> bool:
        """Whether the sample shares a word with ``words`` that only its intent uses."""
        return bool(sample.literal_content & words & self._unique_words)

    def _fuzzy(self, text: str) -> Resolution | None:
        words = text.split()
        found = self._find_values(text)
        if _avoids(words) and any(self._types[t].custom for t in found):
            return None  # "skip pigeon": neither go to pigeon nor skip the current pose
        whole = _content(words)
        said = frozenset(words)
        relative = bool(whole & _RELATIVE_STEMS)
        numbers = (
            [
                m
                for m in self._finders[NUMBER].finditer(text)
                if m.group(0) != "one"  # "one" is as often "a" or a pronoun as a number
            ]
            if NUMBER in self._finders
            else []
        )
        best: tuple[float, int, float, int] | None = None
        best_sample: _Sample | None = None
        best_slots: dict[str, ResolvedSlot] = {}
        candidates = {i for key in (*whole, *found) for i in self._said_by.get(key, ())}
        for sample in (self._samples[i] for i in sorted(candidates)):
            if not sample.literal_content and all(t.name == NUMBER for _, t in sample.slots):
                continue  # "{number}", "um {number}": a bare number is taken only as said
            key_words = self._key_words.get(sample.intent)
            if key_words is not None and not key_words <= whole:
                continue  # "what's pose three" doesn't say "step", so it isn't RepeatStep
            if relative and any(t.name == NUMBER for _, t in sample.slots):
                continue  # "five more breaths" is not "five breaths"
            remaining = whole
            slots: dict[str, ResolvedSlot] = {}
            for name, slot_type in sample.slots:
                hit = found.get(slot_type.name)
                if hit is None:
                    continue
                phrase, start, end = hit
                remaining = remaining - _content(text[start:end].split())
                slots[name] = ResolvedSlot(name, phrase, slot_type.resolve(phrase), True)
            held = sum(1 for _, t in sample.slots if t.name == NUMBER and NUMBER in found)
            unplaced = max(0, len(numbers) - held)
            shared = len(sample.literal_content & remaining) + len(slots)
            if not shared:
                continue
            recall = shared / (len(sample.literal_content) + len(sample.slots))
            precision = shared / (len(remaining) + len(slots) + unplaced)
            if recall < 1 and shared < 2 and not self._distinctive(sample, remaining):
                continue  # one common word with a longer sample is chance ("what time is it")
            score = 2 * recall * precision / (recall + precision)
            # On a tie, the sample more of whose own words were said ("say that one more time" is
            # "one more time", not "I need more time"), then the earlier one.
            fully = len(sample.literal & said) / sample.literal_words if sample.literal_words else 0
            rank = (score, shared, fully, -sample.order)
            if best is None or rank > best:
                best, best_sample, best_slots = rank, sample, slots
        if best is None or best_sample is None or best[0] < FUZZY_THRESHOLD:
            return None
        return Resolution("intent", best_sample.intent, best_slots)

    def _find_values(self, text: str) -> dict[str, tuple[str, int, int]]:
        """Type name -> (words, start, end) of the first value of each type the text holds.

        A custom type whose values are heard with two different ids ("left or right") is left
        out: the utterance doesn't choose one.
        """
        found: dict[str, tuple[str, int, int]] = {}
        for type_name, finder in self._finders.items():
            slot_type = self._types[type_name]
            ids: set[str | None] = set()
            for match in finder.finditer(text):
                if type_name == NUMBER and _is_pronoun_one(text, match):
                    continue  # "each one", "this one": not a number
                found.setdefault(type_name, (match.group(0), match.start(), match.end()))
                if not slot_type.custom:
                    break
                ids.add(slot_type.resolve(match.group(0)))
            if len(ids) > 1:
                del found[type_name]
        return found


def _avoids(words: list[str]) -> bool:
    """Whether the words say to leave something out: "skip pigeon", not "skip ahead to pigeon"."""
    return any(
        w in _AVOID and (w != "skip" or "to" not in words[i + 1 : i + 3])
        for i, w in enumerate(words)
    )


def _strip_article(text: str) -> str:
    """The text without one leading article ("the pigeon" -> "pigeon")."""
    first, _, rest = text.partition(" ")
    return rest if rest and first in ("the", "a", "an", "my") else text


_DETERMINERS = frozenset(
    ("this", "that", "each", "every", "the", "next", "other", "last", "which", "any", "no")
)


def _is_pronoun_one(text: str, match: re.Match[str]) -> bool:
    if match.group(0) != "one":
        return False
    before = text[: match.start()].split()
    return bool(before) and before[-1] in _DETERMINERS


def available_locales(models_dir: Path | None = None) -> tuple[str, ...]:
    """The locales that have a model file, sorted."""
    return tuple(sorted(p.stem for p in (models_dir or MODELS_DIR).glob("*.json")))
