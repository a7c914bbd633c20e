"""The skill's configuration: read from the environment once, at start-up, and passed down.

Every ``YOGA_*`` (and ``ALEXA_*``) variable the README lists is read here and nowhere else.
"""

# No `from __future__ import annotations` here: NamedTuple would compile each string annotation
# at every cold start (README, "Performance").

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, NamedTuple

from skill.resources import AUDIO_DIR

DEFAULT_LOCALE = "en-GB"
LOCALES = ("en-GB", "en-US", "en-AU", "en-CA", "en-IN")
"""The locales the skill has interaction models for."""
ENGLISH_FALLBACKS = {
    "nz": "en-AU",
    "ie": "en-GB",
    "za": "en-GB",
    "sg": "en-GB",
    "hk": "en-GB",
    "my": "en-GB",
    "mt": "en-GB",
    "pk": "en-IN",
    "lk": "en-IN",
    "bd": "en-IN",
    "np": "en-IN",
    "ph": "en-US",
    "pr": "en-US",
}
"""English regions without a model of their own, by the nearest supported locale; any other
English region gets :data:`DEFAULT_LOCALE`."""
_SUPPORTED = frozenset(LOCALES)
_LOCALES_BY_KEY = {locale.lower(): locale for locale in LOCALES}
MAX_BODY_BYTES = 128 * 1024
"""Alexa's requests are a few kilobytes; anything far larger is not from Alexa."""
DEFAULT_DYNAMODB_TABLE = "post-run-yoga-progress"

Backend = Literal["sqlite", "dynamodb", "none"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "dynamodb", "none")
_OFF = frozenset({"0", "false", "no", "off"})
_ON = frozenset({"1", "true", "yes", "on"})


def supported_locale(locale: object) -> str:
    """The supported locale for a request's ``locale``: itself when the skill has it (in any
    case, with ``-`` or ``_``), the nearest for another English region (:data:`ENGLISH_FALLBACKS`),
    else :data:`DEFAULT_LOCALE`. Always one of :data:`LOCALES`: what a request says is never a
    file name or a cache key."""
    if not isinstance(locale, str):
        return DEFAULT_LOCALE
    if locale in _SUPPORTED:
        return locale
    key = locale[:16].strip().replace("_", "-").lower()
    found = _LOCALES_BY_KEY.get(key)
    if found is not None:
        return found
    language, _, region = key.partition("-")
    if language == "en":
        return ENGLISH_FALLBACKS.get(region, DEFAULT_LOCALE)
    return DEFAULT_LOCALE


def default_sqlite_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/post-run-yoga/progress.sqlite3`` (XDG default ``~/.local/share``)."""
    data_home = environ.get("XDG_DATA_HOME")
    if data_home and os.path.isabs(data_home):
        base = Path(data_home)
    else:
        home = environ.get("HOME")
        base = (Path(home) if home else Path.home()) / ".local" / "share"
    return base / "post-run-yoga" / "progress.sqlite3"


class Settings(NamedTuple):
    """Everything an entry point needs to build and serve the skill."""

    skill_id: str | None = None
    """Requests for any other skill are refused; ``None`` accepts any."""
    verify: bool = True
    """Verify that webhook requests come from Alexa."""
    dev: bool = False
    """Local development: loopback only, and a page to try the skill by typing at ``/try``."""
    persistence: Backend = "none"
    db_path: Path | None = None
    dynamodb_table: str = DEFAULT_DYNAMODB_TABLE
    dynamodb_create_table: bool = False
    dynamodb_endpoint: str | None = None
    aws_region: str | None = None
    audio_base_url: str | None = None
    """HTTPS base URL of the prerendered clips: responses then play them."""
    audio_dir: Path | None = AUDIO_DIR
    """Where the webhook serves ``/audio/`` from; ``None`` serves nothing."""
    trust_store: str | None = None
    cert_cache_dir: str | None = None
    max_body_bytes: int = MAX_BODY_BYTES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, dev: bool = False) -> "Settings":
        """The settings the environment gives (see the README); defaults are embedded.

        An unknown ``YOGA_PERSISTENCE`` raises ``ValueError``.
        """
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return (env.get(name) or "").strip() or None

        backend_name = (get("YOGA_PERSISTENCE") or "sqlite").lower()
        backend = next((b for b in BACKENDS if b == backend_name), None)
        if backend is None:
            raise ValueError(
                f"YOGA_PERSISTENCE must be one of {', '.join(BACKENDS)}; got "
                f"{env.get('YOGA_PERSISTENCE')!r}"
            )
        db = get("YOGA_DB")
        return cls(
            skill_id=get("YOGA_SKILL_ID"),
            verify=not dev and (get("YOGA_VERIFY") or "").lower() not in _OFF,
            dev=dev,
            persistence=backend,
            db_path=Path(db).expanduser() if db else default_sqlite_path(env),
            dynamodb_table=get("YOGA_DYNAMODB_TABLE") or DEFAULT_DYNAMODB_TABLE,
            dynamodb_create_table=(get("YOGA_DYNAMODB_CREATE_TABLE") or "").lower() in _ON,
            dynamodb_endpoint=get("AWS_ENDPOINT_URL_DYNAMODB") or get("AWS_ENDPOINT_URL"),
            aws_region=get("AWS_REGION") or get("AWS_DEFAULT_REGION"),
            audio_base_url=get("YOGA_AUDIO_BASE_URL"),
            trust_store=get("ALEXA_TRUST_STORE"),
            cert_cache_dir=get("ALEXA_CERT_CACHE_DIR"),
        )
