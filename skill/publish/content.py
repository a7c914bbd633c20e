"""The store listing and manifest settings, from ``skill/publish/manifest.yaml``, checked.

Malformed content fails with :class:`PublishError` naming the field. What Alexa's rules say about
the values (lengths, phrase forms, URL schemes) is checked on the built package, by
:mod:`skill.publish.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skill.resources import PACKAGE_DIR

PUBLISH_DIR = PACKAGE_DIR / "publish"
MANIFEST_SOURCE = PUBLISH_DIR / "manifest.yaml"
ICON_SOURCE = PUBLISH_DIR / "icon.svg"

COMPLIANCE_FLAGS = (
    "allowsPurchases",
    "usesPersonalInfo",
    "isChildDirected",
    "isExportCompliant",
    "containsAds",
    "usesHealthInfo",
)
"""The privacyAndCompliance answers the developer console asks for, in its order."""


class PublishError(ValueError):
    """The publishing sources are malformed, or disagree with the interaction models."""


@dataclass(frozen=True)
class Listing:
    """One locale's store texts."""

    name: str
    summary: str
    description: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class LaunchPhrase:
    """ "Alexa, <verb> <invocation name>." """

    verb: str


@dataclass(frozen=True)
class OneShotPhrase:
    """ "Alexa, ask <invocation name> to <sample, slots filled>." """

    intent: str
    sample: str
    slots: Mapping[str, str]


PhraseSpec = LaunchPhrase | OneShotPhrase


@dataclass(frozen=True)
class StoreContent:
    category: str
    distribution_countries: tuple[str, ...]
    example_phrases: tuple[PhraseSpec, ...]
    compliance: Mapping[str, bool]
    events: tuple[str, ...]
    interfaces: tuple[str, ...]
    permissions: tuple[str, ...]
    testing_instructions: str
    listings: Mapping[str, Listing]


def _text(value: Any, where: str, *, keep_lines: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PublishError(f"{where}: expected text, got {value!r}")
    return value.strip() if keep_lines else " ".join(value.split())


def _texts(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise PublishError(f"{where}: expected a non-empty list")
    return tuple(_text(item, f"{where}[{i}]") for i, item in enumerate(value))


def _names(value: Any, where: str) -> tuple[str, ...]:
    """A list that may be empty."""
    if not isinstance(value, list):
        raise PublishError(f"{where}: expected a list (empty for none)")
    return tuple(_text(item, f"{where}[{i}]") for i, item in enumerate(value))


def _exact_keys(value: Any, keys: set[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != keys:
        found = sorted(value) if isinstance(value, dict) else value
        raise PublishError(f"{where}: expected exactly {sorted(keys)}, got {found!r}")
    return value


def _phrase(value: Any, where: str) -> PhraseSpec:
    if isinstance(value, dict) and set(value) == {"launch"}:
        return LaunchPhrase(_text(value["launch"], f"{where}.launch"))
    raw = _exact_keys(value, {"intent", "sample", "slots"}, where)
    slots = raw["slots"]
    if not isinstance(slots, dict):
        raise PublishError(f"{where}.slots: expected a mapping of slot names to values")
    return OneShotPhrase(
        intent=_text(raw["intent"], f"{where}.intent"),
        sample=_text(raw["sample"], f"{where}.sample"),
        slots={
            _text(name, f"{where}.slots"): _text(v, f"{where}.slots.{name}")
            for name, v in slots.items()
        },
    )


def _listing(value: Any, where: str) -> Listing:
    raw = _exact_keys(value, {"name", "summary", "description", "keywords"}, where)
    return Listing(
        name=_text(raw["name"], f"{where}.name"),
        summary=_text(raw["summary"], f"{where}.summary"),
        description=_text(raw["description"], f"{where}.description", keep_lines=True),
        keywords=_texts(raw["keywords"], f"{where}.keywords"),
    )


def load_content(path: Path = MANIFEST_SOURCE) -> StoreContent:
    """The content of ``manifest.yaml``, every field checked for shape."""
    import yaml  # here: the webhook's phone player imports this module for ICON_SOURCE alone

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    keys = {
        "category",
        "distribution_countries",
        "example_phrases",
        "privacy_and_compliance",
        "events",
        "interfaces",
        "permissions",
        "testing_instructions",
        "listing",
    }
    raw = _exact_keys(data, keys, path.name)
    compliance = _exact_keys(
        raw["privacy_and_compliance"], set(COMPLIANCE_FLAGS), "privacy_and_compliance"
    )
    for flag, answer in compliance.items():
        if not isinstance(answer, bool):
            raise PublishError(f"privacy_and_compliance.{flag}: expected true or false")
    phrases = raw["example_phrases"]
    if not isinstance(phrases, list) or not phrases:
        raise PublishError("example_phrases: expected a non-empty list")
    listings = raw["listing"]
    if not isinstance(listings, dict) or not listings:
        raise PublishError("listing: expected a mapping of locales to store texts")
    return StoreContent(
        category=_text(raw["category"], "category"),
        distribution_countries=_texts(raw["distribution_countries"], "distribution_countries"),
        example_phrases=tuple(_phrase(p, f"example_phrases[{i}]") for i, p in enumerate(phrases)),
        compliance={flag: bool(compliance[flag]) for flag in COMPLIANCE_FLAGS},
        events=_texts(raw["events"], "events"),
        interfaces=_names(raw["interfaces"], "interfaces"),
        permissions=_names(raw["permissions"], "permissions"),
        testing_instructions=_text(raw["testing_instructions"], "testing_instructions"),
        listings={
            _text(locale, "listing"): _listing(listing, f"listing.{locale}")
            for locale, listing in listings.items()
        },
    )
