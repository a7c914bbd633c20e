"""How much of what runners say the skill understands: the phrasing suite (tests/phrasings.yaml).

Every phrasing of the suite is resolved two ways, for every locale:

- **local**: the local resolver (``Resolver.for_locale(locale).resolve(text)``), the stand-in for
  Alexa's language understanding behind ``yoga-skill dialog``;
- **model**: virtual-alexa (``tests/virtual_alexa/resolve.js``), an outside client that matches an
  utterance to the interaction model's samples exactly, driving the real webhook
  (``yoga-skill serve --dev`` on a free loopback port), one node process per locale. The intent
  and slots are read from the request it actually sent; it sends numbers as words ("eight"),
  which are compared as digits, as Alexa sends them.

A phrasing is understood when the intent matches and every slot the suite lists has the listed
id. The overall rate per locale must be at least ``LOCAL_MIN_RATE`` (local) and
``MODEL_MIN_RATE`` (model). With ``PHRASINGS_REPORT=1`` the table of rates per family and locale
is printed and written to ``tests/phrasings-report.md``; ``bench/phrasings.py`` prints it too.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SUITE = REPO / "tests" / "phrasings.yaml"
MODELS_DIR = REPO / "interaction_models"
HARNESS_DIR = REPO / "tests" / "virtual_alexa"
HARNESS = HARNESS_DIR / "resolve.js"
REPORT = REPO / "tests" / "phrasings-report.md"
REPORT_ENV = "PHRASINGS_REPORT"
LOCALES = ("en-GB", "en-US", "en-AU", "en-CA", "en-IN")

#: Overall understood rate each locale must reach, through the local resolver and the model.
LOCAL_MIN_RATE = 0.8
MODEL_MIN_RATE = 0.5

#: Where the local resolver lives, newest first (skill/nlu.py moves to skill/local/resolver.py).
RESOLVER_MODULES = ("skill.local.resolver", "skill.nlu")
#: The routine whose pose ids the suite's `pose` slots name (found anywhere under skill/).
ROUTINE_FILE = "post_run.yaml"
#: Guards against a hang, not timing assertions.
HARNESS_TIMEOUT_S = 600
SERVER_START_TIMEOUT_S = 60


# ---------------------------------------------------------------------------------- the suite


class SuiteError(ValueError):
    """tests/phrasings.yaml is malformed; the message says where."""


@dataclass(frozen=True)
class Phrasing:
    """One thing a runner says, and what it should mean."""

    family: str
    text: str
    intent: str
    slots: Mapping[str, str]


@dataclass(frozen=True)
class Family:
    id: str
    title: str
    phrasings: tuple[Phrasing, ...]


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SuiteError(f'{where}: expected text, got {value!r} (quote numbers: "8")')
    return value


def _phrasing(entry: object, family: str, intent: str, where: str) -> Phrasing:
    if isinstance(entry, str):
        return Phrasing(family, _text(entry, where), intent, {})
    if not isinstance(entry, dict):
        raise SuiteError(f"{where}: expected words or a mapping with `say`, got {entry!r}")
    unknown = set(entry) - {"say", "intent", "slots"}
    if unknown:
        raise SuiteError(f"{where}: unknown keys {sorted(unknown)}")
    slots = entry.get("slots", {})
    if not isinstance(slots, dict):
        raise SuiteError(f"{where}: `slots` must map slot names to value ids")
    return Phrasing(
        family=family,
        text=_text(entry.get("say"), f"{where}.say"),
        intent=_text(entry.get("intent", intent), f"{where}.intent"),
        slots={
            _text(name, f"{where}.slots"): _text(ident, f"{where}.slots.{name}")
            for name, ident in slots.items()
        },
    )


def _squash(text: str) -> str:
    """Lower case, punctuation out, spaces folded: what makes two phrasings the same words."""
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("\u2019", "'")).split())


def load_suite(path: Path = SUITE) -> tuple[Family, ...]:
    """The suite's families, checked: known keys, text everywhere, no phrasing twice."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("families"), list):
        raise SuiteError(f"{path.name}: expected a top-level `families` list")
    families: list[Family] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(data["families"]):
        where = f"{path.name}: families[{i}]"
        if not isinstance(raw, dict) or set(raw) != {"id", "title", "intent", "phrasings"}:
            raise SuiteError(f"{where}: expected exactly id, title, intent and phrasings")
        family_id = _text(raw["id"], f"{where}.id")
        where = f"{path.name}: {family_id}"
        if any(f.id == family_id for f in families):
            raise SuiteError(f"{where}: family id used twice")
        entries = raw["phrasings"]
        if not isinstance(entries, list) or not entries:
            raise SuiteError(f"{where}: `phrasings` must be a non-empty list")
        intent = _text(raw["intent"], f"{where}.intent")
        phrasings = tuple(
            _phrasing(entry, family_id, intent, f"{where}.phrasings[{j}]")
            for j, entry in enumerate(entries)
        )
        for phrasing in phrasings:
            key = _squash(phrasing.text)
            if key in seen:
                raise SuiteError(f"{where}: {phrasing.text!r} is already in {seen[key]}")
            seen[key] = family_id
        families.append(Family(family_id, _text(raw["title"], f"{where}.title"), phrasings))
    return tuple(families)


def all_phrasings(families: Sequence[Family]) -> list[Phrasing]:
    return [p for family in families for p in family.phrasings]


# ---------------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Heard:
    """What a phrasing resolved to: the intent (None: nothing matched) and slot value ids."""

    intent: str | None
    slots: Mapping[str, str | None]
    note: str | None = None
    #: The sample virtual-alexa matched (model runs only).
    sample: str | None = None


def understood(phrasing: Phrasing, heard: Heard) -> bool:
    """The intent matches and every slot the suite lists has its id."""
    return heard.intent == phrasing.intent and all(
        heard.slots.get(name) == ident for name, ident in phrasing.slots.items()
    )


@dataclass(frozen=True)
class Rates:
    """Understood rates of one resolution of the suite (one way, one locale)."""

    by_family: Mapping[str, float]
    overall: float
    misses: tuple[tuple[Phrasing, Heard], ...]


def rates_of(families: Sequence[Family], heard: Sequence[Heard]) -> Rates:
    """Rates per family and overall (over all phrasings), ``heard`` in suite order."""
    phrasings = all_phrasings(families)
    if len(heard) != len(phrasings):
        raise ValueError(f"{len(heard)} resolutions for {len(phrasings)} phrasings")
    ok = [understood(p, h) for p, h in zip(phrasings, heard, strict=True)]
    by_family: dict[str, float] = {}
    start = 0
    for family in families:
        part = ok[start : start + len(family.phrasings)]
        by_family[family.id] = sum(part) / len(part)
        start += len(family.phrasings)
    misses = tuple((p, h) for p, h, good in zip(phrasings, heard, ok, strict=True) if not good)
    return Rates(by_family, sum(ok) / len(ok), misses)


def describe_misses(misses: Sequence[tuple[Phrasing, Heard]], limit: int = 400) -> str:
    """One line per misunderstood phrasing: what was wanted and what was heard."""
    lines = []
    for phrasing, heard in misses[:limit]:
        want = phrasing.intent + "".join(f" {k}={v}" for k, v in phrasing.slots.items())
        got = str(heard.intent) + "".join(f" {k}={v}" for k, v in heard.slots.items())
        note = f" ({heard.note})" if heard.note else ""
        lines.append(f"  [{phrasing.family}] {phrasing.text!r}: want {want}, got {got}{note}")
    if len(misses) > limit:
        lines.append(f"  ... and {len(misses) - limit} more")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- local


class _Resolver(Protocol):
    def resolve(self, utterance: str) -> Any: ...


def _resolver_module() -> Any:
    """The module of the local resolver, wherever the package keeps it."""
    for name in RESOLVER_MODULES:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Only the module itself missing means "look elsewhere"; a broken import inside it
            # is an error to see.
            if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
                raise
    raise ImportError(f"no local resolver: none of {', '.join(RESOLVER_MODULES)} exists")


def local_resolver(locale: str) -> _Resolver:
    resolver: _Resolver = _resolver_module().Resolver.for_locale(locale)
    return resolver


def resolve_locally(locale: str, texts: Sequence[str]) -> list[Heard]:
    resolver = local_resolver(locale)
    heard = []
    for text in texts:
        resolution = resolver.resolve(text)
        slots = {name: slot.id for name, slot in resolution.slots.items()}
        note = None if resolution.intent is not None else f"resolved as {resolution.kind}"
        heard.append(Heard(resolution.intent, slots, note))
    return heard


def local_rates_for(
    families: Sequence[Family], locales: Sequence[str] = LOCALES
) -> dict[str, Rates]:
    texts = [p.text for p in all_phrasings(families)]
    return {locale: rates_of(families, resolve_locally(locale, texts)) for locale in locales}


# ---------------------------------------------------------------------------------- numbers


def _words(text: str) -> list[str]:
    return text.split()


_UNITS = _words(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen"""
)
_TENS = _words("twenty thirty forty fifty sixty seventy eighty ninety")
_ORDINALS = _words(
    """zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth
    thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"""
)


def _number_words() -> dict[str, int]:
    words = {w: n for n, w in enumerate(_UNITS)} | {w: n for n, w in enumerate(_ORDINALS)}
    for i, tens in enumerate(_TENS):
        base = 20 + 10 * i
        words[tens] = base
        for unit in range(1, 10):
            words[f"{tens} {_UNITS[unit]}"] = words[f"{tens} {_ORDINALS[unit]}"] = base + unit
    return words


NUMBER_WORDS: Mapping[str, int] = _number_words()
_DIGITS = re.compile(r"(\d+)(?:st|nd|rd|th)?")


def as_digits(words: str) -> str | None:
    """A number or ordinal as digits, as Alexa fills AMAZON.NUMBER ("eight", "third" -> digits)."""
    words = " ".join(words.lower().replace("-", " ").split())
    digits = _DIGITS.fullmatch(words)
    if digits is not None:
        return str(int(digits.group(1)))
    number = NUMBER_WORDS.get(words)
    return None if number is None else str(number)


# ---------------------------------------------------------------------------------- model


class HarnessError(RuntimeError):
    """virtual-alexa or the webhook could not be run, or said something unexpected."""


def harness_problem() -> str | None:
    """Why virtual-alexa can't run here, or None."""
    where = HARNESS_DIR.relative_to(REPO)
    if shutil.which("node") is None:
        return "node is not installed: the interaction-model half of the suite needs Node 18+"
    if not (HARNESS_DIR / "node_modules" / "virtual-alexa").is_dir():
        return f"{where}/node_modules is missing: `make` installs it (npm ci --prefix {where})"
    return None


def run_harness(url: str, locale: str, texts: Sequence[str]) -> list[dict[str, Any]]:
    """One node process: every utterance through virtual-alexa against the webhook at ``url``."""
    problem = harness_problem()
    if problem is not None:
        raise HarnessError(problem)
    model = MODELS_DIR / f"{locale}.json"
    proc = subprocess.run(
        ["node", str(HARNESS), url, str(model), locale],
        input=json.dumps(list(texts)),
        capture_output=True,
        text=True,
        cwd=HARNESS_DIR,
        timeout=HARNESS_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        raise HarnessError(f"resolve.js failed ({proc.returncode}) for {locale}:\n{proc.stderr}")
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if [line.get("utterance") for line in lines] != list(texts):
        raise HarnessError(f"resolve.js answered {len(lines)} lines for {len(texts)} utterances")
    return lines


def resolve_with_model(
    url: str, texts: Mapping[str, Sequence[str]]
) -> dict[str, list[dict[str, Any]]]:
    """Locale -> the harness's line per utterance; one node process per locale, side by side."""
    with ThreadPoolExecutor(max_workers=max(1, len(texts))) as pool:
        futures = {
            locale: pool.submit(run_harness, url, locale, said) for locale, said in texts.items()
        }
        return {locale: future.result() for locale, future in futures.items()}


def _heard_from_harness(line: Mapping[str, Any]) -> Heard:
    slots: dict[str, str | None] = {}
    for name, slot in (line.get("slots") or {}).items():
        # A custom type's entity-resolution id; otherwise the number the words say, as digits.
        ident = slot.get("id")
        slots[name] = ident if ident is not None else as_digits(str(slot.get("value", "")))
    notes = []
    if line.get("intent") is None:
        notes.append(f"virtual-alexa sent a {line['type']}" if line.get("type") else "no match")
    if line.get("via") == "intend":
        notes.append("launch-word quirk: sent with intend")
    if line.get("error") and line.get("type"):
        notes.append(f"webhook: {line['error']}")
    return Heard(line.get("intent"), slots, "; ".join(notes) or None, line.get("sample"))


def _language_model(locale: str) -> Mapping[str, Any]:
    model = json.loads((MODELS_DIR / f"{locale}.json").read_text(encoding="utf-8"))
    language: Mapping[str, Any] = model["interactionModel"]["languageModel"]
    return language


_SLOT_TOKEN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLAIN = re.compile(r"[A-Za-z' ]+")
#: How a built-in slot is filled in the models' own samples: the words, and the id expected.
_BUILT_IN_FILLERS = {"AMAZON.NUMBER": ("eight", "8"), "AMAZON.Ordinal": ("third", "3")}


def model_samples(locale: str) -> list[Phrasing]:
    """The model's own samples, each slot filled with a value of its type.

    virtual-alexa must understand them: the check that the harness works, so that a low rate for
    the suite is the model's and not the harness's.
    """
    language = _language_model(locale)
    fillers: dict[str, tuple[str, str]] = dict(_BUILT_IN_FILLERS)
    for kind in language.get("types", []):
        for value in kind.get("values", []):
            name = value["name"]
            plain = [p for p in (name["value"], *name.get("synonyms", [])) if _PLAIN.fullmatch(p)]
            if plain:
                fillers.setdefault(kind["name"], (plain[0], value.get("id") or name["value"]))
    samples = []
    for intent in language["intents"]:
        types = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
        for sample in intent.get("samples", []):
            words: list[str] = []
            slots: dict[str, str] = {}
            for token in sample.split():
                slot = _SLOT_TOKEN.fullmatch(token)
                if slot is None:
                    words.append(token)
                    continue
                filler = fillers.get(types[slot.group(1)])
                if filler is None:
                    break  # a slot type with nothing to fill it with here: leave the sample out
                words.append(filler[0])
                slots[slot.group(1)] = filler[1]
            else:
                samples.append(Phrasing("model samples", " ".join(words), intent["name"], slots))
    return samples


def copied_from_model(families: Sequence[Family], locale: str) -> list[str]:
    """Phrasings of the suite that are samples of the model, slots filled with their values."""
    language = _language_model(locale)
    values = {
        kind["name"]: [
            _squash(phrase)
            for value in kind.get("values", [])
            for phrase in (value["name"]["value"], *value["name"].get("synonyms", []))
        ]
        for kind in language.get("types", [])
    }
    numbers = [r"\d+(?:st|nd|rd|th)?", *map(re.escape, NUMBER_WORDS)]
    patterns = []
    for intent in language["intents"]:
        types = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
        for sample in intent.get("samples", []):
            parts: list[str] = []
            for token in sample.split():
                slot = _SLOT_TOKEN.fullmatch(token)
                if slot is None:
                    parts.extend(re.escape(word) for word in _squash(token).split())
                else:
                    phrases = values.get(types[slot.group(1)])
                    alternatives = numbers if phrases is None else map(re.escape, phrases)
                    parts.append("(?:" + "|".join(alternatives) + ")")
            patterns.append(re.compile(" ".join(parts)))
    return [
        p.text
        for p in all_phrasings(families)
        if any(pattern.fullmatch(_squash(p.text)) for pattern in patterns)
    ]


@dataclass(frozen=True)
class ModelRun:
    """The suite, and the models' own samples, through virtual-alexa and the webhook."""

    rates: Mapping[str, Rates]
    #: Per locale, the models' own samples as one family: virtual-alexa must understand them.
    controls: Mapping[str, Rates]
    #: Per locale, the harness's line per utterance (the suite's, then the samples').
    raw: Mapping[str, list[dict[str, Any]]]

    def shadowed(self, locale: str) -> list[tuple[Phrasing, Heard]]:
        """Samples virtual-alexa gave to one of its own phrases for a built-in intent instead.

        virtual-alexa adds a few phrases to the built-in intents a model declares ("skip" to
        AMAZON.NextIntent, "sure" to AMAZON.YesIntent, ...) and picks the first intent on a tie.
        """
        own = {i["name"]: set(i.get("samples", [])) for i in _language_model(locale)["intents"]}
        return [
            (p, h)
            for p, h in self.controls[locale].misses
            if h.sample is not None and h.sample not in own.get(str(h.intent), set())
        ]

    def broken(self, locale: str) -> list[tuple[Phrasing, Heard]]:
        """Samples virtual-alexa misunderstood for no reason of its own phrases."""
        shadowed = self.shadowed(locale)
        return [miss for miss in self.controls[locale].misses if miss not in shadowed]


def run_model(families: Sequence[Family], url: str, locales: Sequence[str] = LOCALES) -> ModelRun:
    """The suite and each model's own samples through virtual-alexa, against ``url``."""
    suite = all_phrasings(families)
    controls = {locale: model_samples(locale) for locale in locales}
    raw = resolve_with_model(
        url, {locale: [p.text for p in suite + controls[locale]] for locale in locales}
    )
    rates: dict[str, Rates] = {}
    checked: dict[str, Rates] = {}
    for locale, lines in raw.items():
        heard = [_heard_from_harness(line) for line in lines]
        rates[locale] = rates_of(families, heard[: len(suite)])
        control = Family("model samples", "model samples", tuple(controls[locale]))
        checked[locale] = rates_of([control], heard[len(suite) :])
    return ModelRun(rates, checked, raw)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_webhook(extra_env: Mapping[str, str] | None = None) -> Iterator[str]:
    """``yoga-skill serve --dev`` on a free loopback port, no persistence (unless
    ``extra_env`` says otherwise); yields POST /alexa."""
    port = free_port()
    env = {**os.environ, "YOGA_PERSISTENCE": "none"}
    for name in ("YOGA_SKILL_ID", "YOGA_VERIFY", "YOGA_AUDIO_BASE_URL"):
        env.pop(name, None)  # virtual-alexa's requests carry a random skill id and no signature
    env.update(extra_env or {})
    argv = [sys.executable, "-m", "skill.cli", "serve", "--dev", "--host", "127.0.0.1"]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [*argv, "--port", str(port)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while True:
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        output = log.read().decode(errors="replace")
                        raise HarnessError(f"the webhook did not start:\n{output}") from None
                    time.sleep(0.1)
            yield base + "/alexa"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ---------------------------------------------------------------------------------- report


def _percent(rate: float) -> str:
    return f"{100 * rate:.0f}%"


def markdown_table(
    families: Sequence[Family],
    local: Mapping[str, Rates],
    model: ModelRun | None = None,
) -> str:
    """Rates per family and locale (each cell "local / model" when the model was run)."""
    locales = list(local)
    total = len(all_phrasings(families))

    def cell(locale: str, family: str | None) -> str:
        def one(rates: Rates) -> str:
            return _percent(rates.overall if family is None else rates.by_family[family])

        if model is None:
            return one(local[locale])
        return f"{one(local[locale])} / {one(model.rates[locale])}"

    what = "local resolver / interaction model (virtual-alexa)" if model else "local resolver"
    lines = [
        f"Understood rate of `tests/phrasings.yaml` ({total} phrasings, {len(families)} "
        f"families) per locale: {what}.",
        "",
        "| family | phrasings | " + " | ".join(locales) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in locales) + " |",
    ]
    for family in families:
        cells = " | ".join(cell(locale, family.id) for locale in locales)
        lines.append(f"| {family.title} | {len(family.phrasings)} | {cells} |")
    overall = " | ".join(f"**{cell(locale, None)}**" for locale in locales)
    lines += [f"| **overall** | **{total}** | {overall} |", ""]
    copied = ", ".join(f"{loc} {len(copied_from_model(families, loc))}" for loc in locales)
    lines.append(f"Phrasings that are word for word a sample of the model: {copied}.")
    if model is not None:
        shadowed = sorted(
            {
                f'"{p.text}" ({p.intent} taken by {h.intent})'
                for locale in locales
                for p, h in model.shadowed(locale)
            }
        )
        if shadowed:
            lines.append(
                "Samples virtual-alexa gives to its own phrases for built-in intents: "
                + ", ".join(shadowed)
                + "."
            )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def suite() -> tuple[Family, ...]:
    return load_suite()


@pytest.fixture(scope="module")
def local_rates(suite: tuple[Family, ...]) -> dict[str, Rates]:
    return local_rates_for(suite)


@pytest.fixture(scope="module")
def model_run(suite: tuple[Family, ...], local_rates: dict[str, Rates]) -> ModelRun:
    problem = harness_problem()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    with running_webhook() as url:
        run = run_model(suite, url)
    if os.environ.get(REPORT_ENV) == "1":
        table = markdown_table(suite, local_rates, run)
        print("\n" + table)
        REPORT.write_text(table, encoding="utf-8")
    return run


def _routine_pose_ids() -> set[str]:
    found = sorted((REPO / "skill").rglob(ROUTINE_FILE))
    assert found, f"no {ROUTINE_FILE} under skill/"
    ids: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("id"), str) and "name" in node:
                ids.add(node["id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(found[0].read_text(encoding="utf-8"))["poses"])
    return ids


def test_suite_is_well_formed(suite: tuple[Family, ...]) -> None:
    phrasings = all_phrasings(suite)
    assert len(suite) >= 20
    assert all(len(family.phrasings) >= 5 for family in suite)
    unknown = {p.slots["pose"] for p in phrasings if "pose" in p.slots} - _routine_pose_ids()
    assert not unknown, f"pose ids not in the routine: {sorted(unknown)}"
    numbers = [v for p in phrasings for k, v in p.slots.items() if k in ("breaths", "number")]
    assert all(v.isdigit() for v in numbers), "numbers are expected as digits"


@pytest.mark.parametrize("locale", LOCALES)
def test_local_resolver_understands_the_suite(local_rates: dict[str, Rates], locale: str) -> None:
    rates = local_rates[locale]
    assert rates.overall >= LOCAL_MIN_RATE, (
        f"{locale}: the local resolver understands {_percent(rates.overall)} of the suite "
        f"(at least {_percent(LOCAL_MIN_RATE)} wanted); misunderstood:\n"
        + describe_misses(rates.misses)
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_interaction_model_understands_the_suite(model_run: ModelRun, locale: str) -> None:
    rates = model_run.rates[locale]
    assert rates.overall >= MODEL_MIN_RATE, (
        f"{locale}: the interaction model (through virtual-alexa) understands "
        f"{_percent(rates.overall)} of the suite (at least {_percent(MODEL_MIN_RATE)} wanted); "
        f"misunderstood:\n" + describe_misses(rates.misses)
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_virtual_alexa_understands_the_models_own_samples(model_run: ModelRun, locale: str) -> None:
    """The harness works: a low rate for the suite is the model's, not the harness's.

    A sample virtual-alexa gives to one of its own phrases for a built-in intent is not a harness
    fault; the report lists those.
    """
    broken = model_run.broken(locale)
    assert not broken, f"{locale}: samples misunderstood:\n{describe_misses(broken)}"


def test_webhook_answered_every_request_virtual_alexa_sent(model_run: ModelRun) -> None:
    """The harness really drove the skill: every request it sent was answered."""
    sent = [line for lines in model_run.raw.values() for line in lines if line["type"]]
    assert sent, "virtual-alexa sent no request at all"
    failed = [(line["utterance"], line["error"]) for line in sent if not line["answered"]]
    assert not failed, f"requests the webhook did not answer: {failed}"
