"""Check a skill package as certification would, before anyone submits it.

``skill.json`` is loaded into ask-smapi-model's types (Amazon's published model of the manifest),
and must come back out of them unchanged: a key the schema does not know, or a value of the
wrong shape, is lost on the way and reported. The types accept any value, so the rules here
check what they do not: required fields and their lengths, URL schemes, the example phrases
against the interaction models, the invocation name, the icons' sizes, locale coverage, the
interfaces and events the skill actually handles, and that the package's interaction models are
the repository's.

A package can be valid but a draft: :attr:`Report.missing` lists what only a deployment can give
(the endpoint, the events it receives, the privacy policy and terms of use URLs).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from skill.publish.deployment import LAMBDA_ARN
from skill.publish.icons import ICON_SIZES, read_png
from skill.publish.phrases import MAX_PHRASES, Model, ReadPhrase, read_phrase
from skill.resources import INTERACTION_MODELS_DIR
from skill.settings import LOCALES

MANIFEST_TYPE = "ask_smapi_model.v1.skill.manifest.skill_manifest_envelope.SkillManifestEnvelope"
MODELS_IN_PACKAGE = Path("interactionModels") / "custom"

MAX_NAME = 50
MAX_SUMMARY = 160
MAX_DESCRIPTION = 4000
MAX_KEYWORDS = 30
MAX_TESTING_INSTRUCTIONS = 4000


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


HANDLED_EVENTS = frozenset({"SKILL_DISABLED"})
"""Skill events the skill has a handler for (skill.alexa.handlers)."""
SUPPORTED_INTERFACES: frozenset[str] = frozenset({"ALEXA_PRESENTATION_APL", "AUDIO_PLAYER"})
"""Interfaces the skill's responses use beyond plain speech (skill.alexa.screens, and
skill.alexa.audioplayer for the hands-free play-through)."""
SUPPORTED_PERMISSIONS: frozenset[str] = frozenset({"alexa::alerts:reminders:skill:readwrite"})
"""Permissions the skill uses: the reminders (skill.alexa.habits)."""

CATEGORIES = _words(
    """
    ALARMS_AND_CLOCKS ASTROLOGY BUSINESS_AND_FINANCE CALCULATORS CALENDARS_AND_REMINDERS
    CHILDRENS_EDUCATION_AND_REFERENCE CHILDRENS_GAMES CHILDRENS_MUSIC_AND_AUDIO
    CHILDRENS_NOVELTY_AND_HUMOR COMMUNICATION CONNECTED_CAR COOKING_AND_RECIPE
    CURRENCY_GUIDES_AND_CONVERTERS DATING DELIVERY_AND_TAKEOUT DEVICE_TRACKING
    EDUCATION_AND_REFERENCE EVENT_FINDERS EXERCISE_AND_WORKOUT FASHION_AND_STYLE FLIGHT_FINDERS
    FRIENDS_AND_FAMILY GAME_INFO_AND_ACCESSORY GAMES HEALTH_AND_FITNESS HOTEL_FINDERS
    KNOWLEDGE_AND_TRIVIA MOVIE_AND_TV_KNOWLEDGE_AND_TRIVIA MOVIE_INFO_AND_REVIEWS MOVIE_SHOWTIMES
    MUSIC_AND_AUDIO_ACCESSORIES MUSIC_AND_AUDIO_KNOWLEDGE_AND_TRIVIA
    MUSIC_INFO_REVIEWS_AND_RECOGNITION_SERVICE NAVIGATION_AND_TRIP_PLANNER NEWS NOVELTY
    ORGANIZERS_AND_ASSISTANTS PETS_AND_ANIMAL PODCAST PUBLIC_TRANSPORTATION
    RELIGION_AND_SPIRITUALITY RESTAURANT_BOOKING_INFO_AND_REVIEW SCHOOLS SCORE_KEEPING
    SELF_IMPROVEMENT SHOPPING SMART_HOME SOCIAL_NETWORKING SPORTS_GAMES SPORTS_NEWS
    STREAMING_SERVICE TAXI_AND_RIDESHARING TO_DO_LISTS_AND_NOTES TRANSLATORS TV_GUIDES
    UNIT_CONVERTERS WEATHER WINE_AND_BEVERAGE ZIP_CODE_LOOKUP
    """
)
"""The store categories of a custom skill."""

#: Words an invocation name may not contain: the wake words, "skill" and "app", the launch
#: phrases Alexa's invocation name requirements name, and the connecting words.
FORBIDDEN_INVOCATION_WORDS = _words(
    """
    alexa amazon echo computer skill app
    launch ask tell load begin enable
    to from in using with about for that by if and whether
    """
)
_INVOCATION = re.compile(r"[a-z]+(?:'[a-z]+)?(?: [a-z]+(?:'[a-z]+)?)*")


@dataclass(frozen=True)
class Report:
    """What is wrong with a package, and what a draft still lacks."""

    problems: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def ready(self) -> bool:
        """Valid and complete: it can go to certification."""
        return not self.problems and not self.missing


def invocation_name_problems(name: str) -> list[str]:
    """What breaks Alexa's invocation name rules: lower-case letters (apostrophes in words) and
    single spaces, at least two words, no wake word, launch phrase or connecting word."""
    problems = []
    if not _INVOCATION.fullmatch(name):
        problems.append(f"{name!r}: lower-case words, single spaces, no digits or marks")
    words = name.split()
    if len(words) < 2:
        problems.append(f"{name!r}: at least two words")
    bad = sorted(set(words) & FORBIDDEN_INVOCATION_WORDS)
    if bad:
        problems.append(f"{name!r}: no wake words, launch phrases or connecting words ({bad})")
    return problems


def load_manifest(data: Mapping[str, Any]) -> Any:
    """``skill.json`` in ask-smapi-model's types; ``ValueError`` when they cannot hold it."""
    from ask_sdk_model_runtime.exceptions import SerializationException
    from ask_sdk_model_runtime.serializer import DefaultSerializer

    serializer = DefaultSerializer()
    try:
        typed = serializer.deserialize(json.dumps(data), MANIFEST_TYPE)
    except SerializationException as exc:
        raise ValueError(f"not a skill manifest: {exc}") from None
    back = serializer.serialize(typed)
    lost = list(_differences(data, back, ""))
    if lost:
        raise ValueError("not in the manifest schema: " + ", ".join(lost[:10]))
    return typed


def _differences(ours: Any, theirs: Any, where: str) -> Iterator[str]:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs)):
            yield from _differences(ours.get(key), theirs.get(key), f"{where}.{key}".lstrip("."))
    elif isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            yield from _differences(a, b, f"{where}[{i}]")
    elif ours != theirs:
        yield where or "the whole manifest"


def _https(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)


def _value(enum_or_str: Any) -> Any:
    return getattr(enum_or_str, "value", enum_or_str)


class _Checker:
    def __init__(self, root: Path, models_dir: Path, locales: Sequence[str]) -> None:
        self.root = root
        self.models_dir = models_dir
        self.locales = tuple(locales)
        self.problems: list[str] = []
        self.missing: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    # ------------------------------------------------------------------ the whole package

    def run(self) -> Report:
        models = self.check_models()
        manifest_file = self.root / "skill.json"
        try:
            data = json.loads(manifest_file.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            envelope = load_manifest(data)
        except (OSError, ValueError) as exc:
            self.problem(f"skill.json: {exc}")
            return self.report()
        manifest = envelope.manifest
        if manifest is None:
            self.problem("skill.json: no manifest")
            return self.report()
        if _value(manifest.manifest_version) != "1.0":
            self.problem(f"manifestVersion: 1.0, not {_value(manifest.manifest_version)!r}")
        self.check_publishing(manifest.publishing_information, models)
        self.check_privacy(manifest.privacy_and_compliance)
        endpoint = self.check_apis(manifest.apis)
        self.check_events(manifest.events, endpoint)
        self.check_permissions(manifest.permissions)
        return self.report()

    def check_permissions(self, permissions: Any) -> None:
        """Exactly the permissions the skill uses: asking for more is refused at certification,
        and without the reminders permission the skill can't ask the runner for it."""
        names = {str(_value(getattr(p, "name", p))) for p in permissions or []}
        if names != SUPPORTED_PERMISSIONS:
            self.problem(f"permissions: {sorted(SUPPORTED_PERMISSIONS)}, not {sorted(names)}")

    def report(self) -> Report:
        return Report(tuple(self.problems), tuple(self.missing))

    # ------------------------------------------------------------------ interaction models

    def check_models(self) -> dict[str, Model]:
        folder = self.root / MODELS_IN_PACKAGE
        present = sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []
        wanted = sorted(f"{locale}.json" for locale in self.locales)
        if present != wanted:
            self.problem(f"{MODELS_IN_PACKAGE}: holds {present}, expected {wanted}")
        models: dict[str, Model] = {}
        for locale in self.locales:
            packaged = folder / f"{locale}.json"
            source = self.models_dir / f"{locale}.json"
            if not packaged.is_file():
                continue
            if not source.is_file() or packaged.read_bytes() != source.read_bytes():
                self.problem(
                    f"{MODELS_IN_PACKAGE / packaged.name}: differs from "
                    f"interaction_models/{source.name}: run yoga-skill package"
                )
            model = Model.from_json(json.loads(packaged.read_text(encoding="utf-8")))
            for text in invocation_name_problems(model.invocation_name):
                self.problem(f"{locale} invocation name {text}")
            models[locale] = model
        return models

    # ------------------------------------------------------------------ publishing information

    def check_publishing(self, info: Any, models: Mapping[str, Model]) -> None:
        if info is None:
            self.problem("publishingInformation: missing")
            return
        if info.category not in CATEGORIES:
            self.problem(f"category: {info.category!r} is not a store category")
        instructions = info.testing_instructions or ""
        if not instructions.strip() or len(instructions) > MAX_TESTING_INSTRUCTIONS:
            self.problem(f"testingInstructions: 1 to {MAX_TESTING_INSTRUCTIONS} characters")
        if info.is_available_worldwide is not True and not info.distribution_countries:
            self.problem("distributionCountries: none, and not available worldwide")
        if _value(info.distribution_mode) != "PUBLIC":
            self.problem(f"distributionMode: PUBLIC, not {_value(info.distribution_mode)!r}")
        locales = dict(info.locales or {})
        if sorted(locales) != sorted(self.locales):
            self.problem(
                f"publishingInformation.locales: {sorted(locales)}, expected {sorted(self.locales)}"
            )
        for locale, listing in locales.items():
            self.check_listing(locale, listing, models.get(locale))

    def check_listing(self, locale: str, listing: Any, model: Model | None) -> None:
        for field, limit in (
            ("name", MAX_NAME),
            ("summary", MAX_SUMMARY),
            ("description", MAX_DESCRIPTION),
        ):
            text = getattr(listing, field) or ""
            if not text.strip():
                self.problem(f"{locale}.{field}: missing")
            elif len(text) > limit:
                self.problem(f"{locale}.{field}: {len(text)} characters, at most {limit}")
        keywords = listing.keywords or []
        if not 1 <= len(keywords) <= MAX_KEYWORDS or not all(
            isinstance(k, str) and k.strip() for k in keywords
        ):
            self.problem(f"{locale}.keywords: 1 to {MAX_KEYWORDS} words or phrases")
        for field, size in ICON_SIZES.items():
            self.check_icon(f"{locale}.{field}", getattr(listing, _snake(field)), size)
        self.check_phrases(locale, listing.example_phrases or [], model)

    def check_icon(self, where: str, uri: Any, size: int) -> None:
        if _https(uri):
            return  # hosted elsewhere: its size cannot be read from here
        if not isinstance(uri, str) or not uri.startswith("file://"):
            self.problem(f"{where}: an https:// URL or a file:// path in the package, not {uri!r}")
            return
        path = (self.root / uri.removeprefix("file://")).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            self.problem(f"{where}: {uri} is not a file in the package")
            return
        try:
            png = read_png(path.read_bytes())
        except ValueError as exc:
            self.problem(f"{where}: {exc}")
            return
        if (png.width, png.height) != (size, size):
            self.problem(f"{where}: {png.width}x{png.height} pixels, expected {size}x{size}")
        if not png.opaque:
            self.problem(f"{where}: has transparent pixels")

    def check_phrases(self, locale: str, phrases: Sequence[str], model: Model | None) -> None:
        if not 1 <= len(phrases) <= MAX_PHRASES:
            self.problem(f"{locale}.examplePhrases: 1 to {MAX_PHRASES} phrases, not {len(phrases)}")
        if len(set(phrases)) != len(phrases):
            self.problem(f"{locale}.examplePhrases: a phrase is there twice")
        if model is None:
            return
        for i, phrase in enumerate(phrases):
            where = f"{locale}.examplePhrases[{i}] {phrase!r}"
            read = read_phrase(phrase, model.invocation_name)
            if not isinstance(read, ReadPhrase):
                self.problem(f"{where}: {read}")
            elif i == 0 and not read.launch:
                self.problem(f'{where}: the first phrase opens the skill ("Alexa, open ...")')
            elif read.utterance is not None and not model.intents_of(read.utterance):
                self.problem(f"{where}: {read.utterance!r} is not a sample utterance")

    # ------------------------------------------------------------------ privacy and compliance

    def check_privacy(self, privacy: Any) -> None:
        if privacy is None:
            self.problem("privacyAndCompliance: missing")
            return
        for field in (
            "allows_purchases",
            "uses_personal_info",
            "is_child_directed",
            "is_export_compliant",
            "contains_ads",
            "uses_health_info",
        ):
            if not isinstance(getattr(privacy, field), bool):
                self.problem(f"privacyAndCompliance.{_camel(field)}: true or false")
        locales = dict(privacy.locales or {})
        if not locales:
            self.missing.append("privacy policy and terms of use URLs (publish.yaml: site)")
            return
        if sorted(locales) != sorted(self.locales):
            self.problem(f"privacyAndCompliance.locales: {sorted(locales)}")
        for locale, urls in locales.items():
            for field in ("privacy_policy_url", "terms_of_use_url"):
                url = getattr(urls, field)
                if not _https(url):
                    self.problem(f"{locale}.{_camel(field)}: an https:// URL, not {url!r}")

    # ------------------------------------------------------------------ endpoint and events

    def check_apis(self, apis: Any) -> Any:
        custom = getattr(apis, "custom", None)
        if custom is None:
            self.problem("apis.custom: missing (a custom skill)")
            return None
        interfaces = {str(_value(getattr(i, "object_type", i))) for i in custom.interfaces or []}
        unsupported = interfaces - SUPPORTED_INTERFACES
        if unsupported:
            self.problem(f"apis.custom.interfaces: the skill does not use {sorted(unsupported)}")
        endpoint = custom.endpoint
        if endpoint is None:
            self.missing.append("the endpoint (publish.yaml: endpoint)")
            return None
        self.check_endpoint("apis.custom.endpoint", endpoint)
        return endpoint

    def check_endpoint(self, where: str, endpoint: Any) -> None:
        uri = endpoint.uri or ""
        certificate = _value(endpoint.ssl_certificate_type)
        if LAMBDA_ARN.fullmatch(uri):
            if certificate is not None:
                self.problem(f"{where}: a Lambda endpoint has no certificate type")
        elif _https(uri):
            if certificate not in ("Trusted", "Wildcard"):
                self.problem(
                    f"{where}: certification needs a Trusted or Wildcard certificate, "
                    f"not {certificate!r}"
                )
        else:
            self.problem(f"{where}: a Lambda function ARN or an https:// URL, not {uri!r}")

    def check_events(self, events: Any, endpoint: Any) -> None:
        if events is None:
            if endpoint is not None:
                self.problem("events: subscribe to SKILL_DISABLED (its handler deletes progress)")
            else:
                self.missing.append("events (sent to the endpoint)")
            return
        names = {str(_value(s.event_name)) for s in events.subscriptions or []}
        if names != HANDLED_EVENTS:
            self.problem(f"events.subscriptions: {sorted(HANDLED_EVENTS)}, not {sorted(names)}")
        if events.endpoint is None or endpoint is None:
            self.problem("events.endpoint: the skill's endpoint")
        elif events.endpoint.to_dict() != endpoint.to_dict():
            self.problem("events.endpoint: not the skill's endpoint")


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(word.capitalize() for word in rest)


def check_package(
    root: Path,
    *,
    models_dir: Path = INTERACTION_MODELS_DIR,
    locales: Sequence[str] = LOCALES,
) -> Report:
    """Everything wrong with the skill package in ``root``, and what a draft still lacks."""
    return _Checker(root, models_dir, locales).run()
