"""Where this deployment runs, from ``publish.yaml`` at the top of the repository.

Each value may be left empty (a draft package); a value that is given must be well formed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from skill.publish.content import PublishError
from skill.resources import PACKAGE_DIR

REPO_DIR = PACKAGE_DIR.parent
DEPLOYMENT_FILE = REPO_DIR / "publish.yaml"

LAMBDA_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}"
    r"(?::[A-Za-z0-9_$-]{1,128})?"
)
"""A Lambda function's ARN, optionally qualified by a version or an alias."""
CERTIFICATES = ("Trusted", "Wildcard", "SelfSigned")
"""The ``sslCertificateType`` values of an HTTPS endpoint."""


@dataclass(frozen=True)
class Endpoint:
    uri: str
    certificate: str | None = None

    @property
    def is_lambda(self) -> bool:
        return self.certificate is None

    def to_manifest(self) -> dict[str, str]:
        out = {"uri": self.uri}
        if self.certificate is not None:
            out["sslCertificateType"] = self.certificate
        return out


@dataclass(frozen=True)
class Deployment:
    endpoint: Endpoint | None = None
    site: str | None = None
    """The HTTPS origin of ``/privacy`` and ``/terms``, without a trailing slash."""

    @property
    def privacy_url(self) -> str | None:
        return f"{self.site}/privacy" if self.site else None

    @property
    def terms_url(self) -> str | None:
        return f"{self.site}/terms" if self.site else None


def _optional(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PublishError(f"{where}: expected text or nothing, got {value!r}")
    return value.strip() or None


def https_origin(url: str, where: str) -> str:
    """``url`` as an HTTPS origin or base path with no trailing slash, or PublishError."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise PublishError(f"{where}: expected an https:// address, got {url!r}")
    if parts.query or parts.fragment:
        raise PublishError(f"{where}: expected no query or fragment in {url!r}")
    return url.rstrip("/")


def endpoint_of(uri: str, certificate: str | None) -> Endpoint:
    """The endpoint for a Lambda ARN, or an HTTPS URL with its certificate type."""
    if uri.startswith("arn:"):
        if not LAMBDA_ARN.fullmatch(uri):
            raise PublishError(f"endpoint: {uri!r} is not a Lambda function ARN")
        if certificate is not None:
            raise PublishError("certificate: only an https endpoint has a certificate type")
        return Endpoint(uri)
    https_origin(uri, "endpoint")
    if certificate not in CERTIFICATES:
        raise PublishError(
            f"certificate: an https endpoint needs one of {', '.join(CERTIFICATES)}, "
            f"not {certificate!r}"
        )
    return Endpoint(uri, certificate)


def load_deployment(path: Path = DEPLOYMENT_FILE) -> Deployment:
    """The deployment ``path`` describes; a missing file is a draft with nothing set."""
    if not path.is_file():
        return Deployment()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not set(data) <= {"endpoint", "certificate", "site"}:
        raise PublishError(f"{path.name}: expected only endpoint, certificate and site")
    uri = _optional(data.get("endpoint"), "endpoint")
    certificate = _optional(data.get("certificate"), "certificate")
    site = _optional(data.get("site"), "site")
    if uri is None and certificate is not None:
        raise PublishError("certificate: set the endpoint it belongs to")
    return Deployment(
        endpoint=endpoint_of(uri, certificate) if uri is not None else None,
        site=https_origin(site, "site") if site is not None else None,
    )
