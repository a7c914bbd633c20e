"""Example phrases: made from the interaction models' own samples, and read back against them.

Alexa's rules for the phrases the store shows under "Try saying": at most three; each begins
with the wake word and names the invocation name; the first opens the skill ("Alexa, open post
run yoga."); the others are one-shot requests whose words after the connecting word are, word
for word, a sample utterance of the locale's model with its slots filled by valid values; plain
words only, ending in a full stop or a question mark.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from skill.publish.content import LaunchPhrase, OneShotPhrase, PhraseSpec, PublishError
from skill.routine.names import NUMBER_WORDS

WAKE_WORD = "Alexa"
LAUNCH_VERBS = ("open", "start", "launch", "begin", "talk to", "use", "load", "run", "play")
"""Launch phrases that open a skill with no request."""
ONE_SHOT_VERBS = ("ask", "tell")
CONNECTING_WORDS = ("to", "for", "about", "if", "whether", "that")
MAX_PHRASES = 3
PHRASE_ENDINGS = (".", "?")

_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLAIN = re.compile(r"[A-Za-z][A-Za-z' ,]*[.?]")
_NUMBER = r"(?:\d+|" + "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True)) + ")"


def squash(text: str) -> str:
    """Lower case, one space between words, no final full stop or question mark."""
    return " ".join(text.lower().rstrip(".?").split())


@dataclass
class Model:
    """What example phrases need of one locale's interaction model."""

    invocation_name: str
    samples: Mapping[str, tuple[str, ...]]
    """intent -> its sample utterances."""
    slot_types: Mapping[str, Mapping[str, str]]
    """intent -> slot -> slot type."""
    values: Mapping[str, frozenset[str]]
    """custom slot type -> every value and synonym, lower case."""
    _compiled: dict[tuple[str, str], re.Pattern[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Model:
        """From a model file's JSON (``{"interactionModel": {"languageModel": ...}}``)."""
        language = data["interactionModel"]["languageModel"]
        return cls(
            invocation_name=str(language["invocationName"]),
            samples={i["name"]: tuple(i.get("samples", [])) for i in language["intents"]},
            slot_types={
                i["name"]: {s["name"]: s["type"] for s in i.get("slots", [])}
                for i in language["intents"]
            },
            values={
                kind["name"]: frozenset(
                    phrase.lower()
                    for value in kind.get("values", [])
                    for phrase in (value["name"]["value"], *value["name"].get("synonyms", []))
                )
                for kind in language.get("types", [])
            },
        )

    def fill(self, intent: str, sample: str, slots: Mapping[str, str]) -> str:
        """``sample`` of ``intent`` with its slots filled, checked against the model."""
        if sample not in self.samples.get(intent, ()):
            raise PublishError(f"{sample!r} is not a sample utterance of {intent}")
        named = _SLOT.findall(sample)
        if set(named) != set(slots):
            raise PublishError(f"{sample!r} has slots {sorted(named)}, given {sorted(slots)}")
        for name, value in slots.items():
            slot_type = self.slot_types[intent].get(name, "")
            if not self._slot_pattern(slot_type).fullmatch(value.lower()):
                raise PublishError(f"{value!r} is not a value of {name} ({slot_type})")
        return _SLOT.sub(lambda m: slots[m.group(1)], sample)

    def intents_of(self, utterance: str) -> set[str]:
        """The intents with a sample that, slots filled with valid values, is ``utterance``."""
        said = squash(utterance)
        words = set(said.replace("'", " ").split()) | set(said.split())
        found = set()
        for intent, samples in self.samples.items():
            for sample in samples:
                literal = _SLOT.sub(" ", sample).split()
                if not all(word in words for word in literal):
                    continue
                if self._sample_pattern(intent, sample).fullmatch(said):
                    found.add(intent)
                    break
        return found

    def _slot_pattern(self, slot_type: str) -> re.Pattern[str]:
        if slot_type == "AMAZON.NUMBER":
            return re.compile(_NUMBER)
        phrases = sorted(self.values.get(slot_type, ()), key=len, reverse=True)
        if not phrases:
            return re.compile(r"(?!)")  # a type with no values this module can read
        return re.compile("(?:" + "|".join(map(re.escape, phrases)) + ")")

    def _sample_pattern(self, intent: str, sample: str) -> re.Pattern[str]:
        key = (intent, sample)
        if key not in self._compiled:
            types = self.slot_types.get(intent, {})
            parts = []
            for piece in re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", sample.lower()):
                slot = _SLOT.fullmatch(piece)
                if slot is None:
                    parts.append(re.escape(piece))
                else:
                    parts.append(self._slot_pattern(types.get(slot.group(1), "")).pattern)
            self._compiled[key] = re.compile(" ".join("".join(parts).split()))
        return self._compiled[key]


def make_phrases(specs: tuple[PhraseSpec, ...], model: Model) -> list[str]:
    """The example phrases the specs describe, in this locale's words."""
    name = model.invocation_name
    phrases = []
    for spec in specs:
        if isinstance(spec, LaunchPhrase):
            phrases.append(f"{WAKE_WORD}, {spec.verb} {name}.")
        elif isinstance(spec, OneShotPhrase):
            said = model.fill(spec.intent, spec.sample, spec.slots)
            phrases.append(f"{WAKE_WORD}, ask {name} to {said}.")
    return phrases


@dataclass(frozen=True)
class ReadPhrase:
    """An example phrase as Alexa would hear it."""

    text: str
    launch: bool
    """It opens the skill with no request."""
    utterance: str | None
    """What follows the connecting word of a one-shot phrase."""


def read_phrase(phrase: str, invocation_name: str) -> ReadPhrase | str:
    """The phrase's parts, or what is wrong with it (a sentence)."""
    if not _PLAIN.fullmatch(phrase) or ",," in phrase:
        return "use plain words, end with a full stop or a question mark"
    prefix = f"{WAKE_WORD}, "
    if not phrase.startswith(prefix):
        return f'begin with the wake word: "{prefix}"'
    said = squash(phrase[len(prefix) :].replace(",", " "))
    name = squash(invocation_name)
    if f" {name} " not in f" {said} ":
        return f'say the invocation name "{name}"'
    for verb in LAUNCH_VERBS:
        if said in (f"{verb} {name}", f"{verb} the {name}"):
            return ReadPhrase(phrase, True, None)
    for verb in ONE_SHOT_VERBS:
        for connecting in CONNECTING_WORDS:
            lead = f"{verb} {name} {connecting} "
            if said.startswith(lead) and len(said) > len(lead):
                return ReadPhrase(phrase, False, said[len(lead) :])
    return (
        f'open the skill ("{WAKE_WORD}, open {name}.") or ask it for something '
        f'("{WAKE_WORD}, ask {name} to ...")'
    )
