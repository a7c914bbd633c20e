"""The skill's configuration: read from the environment once, at start-up, and passed down.

Every ``YOGA_*`` (and ``ALEXA_*``) variable the README lists is read here and nowhere else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from skill.resources import AUDIO_DIR

DEFAULT_LOCALE = "en-GB"
LOCALES = ("en-GB", "en-US", "en-AU", "en-CA", "en-IN")
"""The locales the skill has interaction models for."""
MAX_BODY_BYTES = 128 * 1024
"""Alexa's requests are a few kilobytes; anything far larger is not from Alexa."""
DEFAULT_DYNAMODB_TABLE = "post-run-yoga-progress"

Backend = Literal["sqlite", "dynamodb", "none"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "dynamodb", "none")
_OFF = frozenset({"0", "false", "no", "off"})
_ON = frozenset({"1", "true", "yes", "on"})


def default_sqlite_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/post-run-yoga/progress.sqlite3`` (XDG default ``~/.local/share``)."""
    data_home = environ.get("XDG_DATA_HOME")
    if data_home and os.path.isabs(data_home):
        base = Path(data_home)
    else:
        home = environ.get("HOME")
        base = (Path(home) if home else Path.home()) / ".local" / "share"
    return base / "post-run-yoga" / "progress.sqlite3"


@dataclass(frozen=True)
class Settings:
    """Everything an entry point needs to build and serve the skill."""

    skill_id: str | None = None
    """Requests for any other skill are refused; ``None`` accepts any."""
    verify: bool = True
    """Verify that webhook requests come from Alexa."""
    dev: bool = False
    """Local development: loopback only, and a page to try the skill by typing at ``/``."""
    persistence: Backend = "none"
    db_path: Path | None = None
    dynamodb_table: str = DEFAULT_DYNAMODB_TABLE
    dynamodb_create_table: bool = False
    dynamodb_endpoint: str | None = None
    aws_region: str | None = None
    audio_base_url: str | None = None
    """HTTPS base URL of the prerendered clips: responses then play them."""
    audio_dir: Path | None = field(default=AUDIO_DIR)
    """Where the webhook serves ``/audio/`` from; ``None`` serves nothing."""
    trust_store: str | None = None
    cert_cache_dir: str | None = None
    max_body_bytes: int = MAX_BODY_BYTES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, dev: bool = False) -> Settings:
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
