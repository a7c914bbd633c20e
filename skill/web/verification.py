"""Verify that an incoming request was sent by Alexa.

Alexa requires every skill hosted as a web service to check, for each request, the signing
certificate chain named in the ``SignatureCertChainUrl`` header, the ``Signature-256`` header over
the raw body, and the request timestamp (see "Verifying that the Request was Sent by Alexa" in the
Alexa Skills Kit docs, "Host a Custom Skill as a Web Service").

ask-sdk-webservice-support ships a verifier for this, but it imports certvalidator -> oscrypto,
which cannot load against the OpenSSL 3 builds we run on ("Error detecting the version of
libcrypto"). So we take only its constants and do the crypto with ``cryptography``, whose X.509
path validation (``cryptography.x509.verification``) checks the chain to a trusted root, validity
at a given time, the server-auth EKU, the CA extensions and the subject name.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import http.client
import logging
import os
import posixpath
import re
import ssl
import threading
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from ask_sdk_webservice_support.verifier_constants import (
    ALEXA_SKILL_EVENT_LIST,
    CERT_CHAIN_DOMAIN,
    CERT_CHAIN_URL_HOSTNAME,
    CERT_CHAIN_URL_PORT,
    CERT_CHAIN_URL_PROTOCOL,
    CERT_CHAIN_URL_STARTPATH,
    MAX_NORMAL_REQUEST_TOLERANCE_IN_MILLIS,
    MAX_SKILL_EVENT_TOLERANCE_IN_MILLIS,
    SIGNATURE_CERT_CHAIN_URL_HEADER,
    SIGNATURE_HEADER,
)
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import verification as x509_verification

from skill.alexa.dispatch import for_other_skill
from skill.settings import Settings

__all__ = [
    "DEFAULT_FETCH_TIMEOUT",
    "DEFAULT_MAX_CHAIN_BYTES",
    "CertificateStore",
    "RequestVerifier",
    "VerificationError",
    "cache_file_name",
    "default_trust_store_path",
    "fetch_url",
    "load_trust_roots",
    "parse_pem_certificates",
    "validate_cert_url",
    "verify_application_id",
    "verify_timestamp",
]

log = logging.getLogger(__name__)

DEFAULT_FETCH_TIMEOUT = 5.0
"""Seconds to wait for Amazon's certificate host."""

DEFAULT_MAX_CHAIN_BYTES = 64 * 1024
"""Largest certificate chain we accept; Alexa's real chain is about 7 KB."""

# The SDK builds this with os.path.sep; a URL path always uses "/".
_CERT_CHAIN_URL_STARTPATH = CERT_CHAIN_URL_STARTPATH.replace(os.sep, "/")

_FALLBACK_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")

_PEM_CERT_RE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n.+?-----END CERTIFICATE-----",
    re.DOTALL,
)

Fetch = Callable[[str], bytes]
Clock = Callable[[], datetime]


class VerificationError(Exception):
    """The request cannot be shown to come from Alexa; ``str(err)`` is a short reason."""


# --- certificate URL ---------------------------------------------------------------------------


def validate_cert_url(url: str) -> None:
    """Check that ``url`` is one Alexa could use for its signing certificate chain.

    Scheme ``https`` and host ``s3.amazonaws.com`` (both case-insensitive), port 443 if given, and
    a path that starts with ``/echo.api/`` (case-sensitive) once ``.`` and ``..`` are resolved.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise VerificationError("certificate URL is malformed") from exc
    if parts.scheme.lower() != CERT_CHAIN_URL_PROTOCOL:
        raise VerificationError("certificate URL must use https")
    if (parts.hostname or "") != CERT_CHAIN_URL_HOSTNAME:
        raise VerificationError("certificate URL has the wrong host")
    if port is not None and port != CERT_CHAIN_URL_PORT:
        raise VerificationError("certificate URL has the wrong port")
    path = posixpath.normpath(parts.path) if parts.path else ""
    if not path.startswith(_CERT_CHAIN_URL_STARTPATH):
        raise VerificationError("certificate URL has the wrong path")


# --- certificates ------------------------------------------------------------------------------


def parse_pem_certificates(data: bytes, *, skip_invalid: bool = False) -> list[x509.Certificate]:
    """Parse every PEM certificate in ``data``, in order.

    ``cryptography`` warns (CryptographyDeprecationWarning) about certificates with a serial
    number that is not positive; several long-lived public roots have serial 0. That is no reason
    to fail, and with warnings turned into errors it would make every load fail, so the warning is
    silenced here, around parsing only. With ``skip_invalid`` a certificate that cannot be parsed
    at all is skipped (for CA bundles); otherwise it raises ``ValueError``.
    """
    certs: list[x509.Certificate] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        for match in _PEM_CERT_RE.finditer(data):
            try:
                certs.append(x509.load_pem_x509_certificate(match.group(0)))
            except ValueError:
                if not skip_invalid:
                    raise
                log.debug("skipping a certificate that cryptography cannot parse")
    return certs


def default_trust_store_path() -> Path:
    """The system CA bundle: what OpenSSL would use, else a well-known path, else certifi's."""
    candidates = [ssl.get_default_verify_paths().cafile, *_FALLBACK_CA_BUNDLES]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    try:
        import certifi
    except ImportError:
        raise FileNotFoundError("no system CA bundle found; set ALEXA_TRUST_STORE") from None
    return Path(certifi.where())


@functools.cache
def load_trust_roots(path: Path) -> tuple[x509.Certificate, ...]:
    """Load a PEM bundle of trusted roots once per path, skipping what cannot be parsed."""
    roots = tuple(parse_pem_certificates(path.read_bytes(), skip_invalid=True))
    if not roots:
        raise ValueError(f"no usable certificates in trust store {path}")
    return roots


def cache_file_name(url: str) -> str:
    """Name of the file in the cache directory that holds the chain for ``url``."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest() + ".pem"


def fetch_url(
    url: str, *, timeout: float = DEFAULT_FETCH_TIMEOUT, max_bytes: int = DEFAULT_MAX_CHAIN_BYTES
) -> bytes:
    """Download ``url``, refusing more than ``max_bytes`` bytes.

    ``timeout`` bounds each blocking socket operation (connect, each read), not the whole
    download; with the size cap that is enough to keep a slow host from holding a worker long.
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data: bytes = response.read(max_bytes + 1)
    # URLError, HTTPError and timeouts are OSErrors; ValueError for a URL urllib cannot open.
    except (OSError, ValueError, http.client.HTTPException) as exc:
        log.warning("could not fetch certificate chain %.200s: %.200s", url, exc)
        raise VerificationError("could not fetch certificate chain") from exc
    if len(data) > max_bytes:
        raise VerificationError("certificate chain too large")
    return data


@dataclass(frozen=True)
class _CachedChain:
    leaf: x509.Certificate
    valid_from: datetime
    valid_until: datetime


class CertificateStore:
    """Finds, validates and caches Alexa's signing certificate chains.

    A chain URL is looked up in memory, then in ``cache_dir`` (a file named
    ``cache_file_name(url)``), then fetched. Whatever its source, a chain is validated the same
    way before use, and a validated chain is kept in memory for as long as every certificate in
    it is valid. A file in ``cache_dir`` takes the place of the fetch: if it does not validate,
    the request is rejected rather than fetched. The cache directory is only read.
    """

    def __init__(
        self,
        trust_roots: Sequence[x509.Certificate] | str | os.PathLike[str] | None = None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        fetch: Fetch | None = None,
        max_bytes: int = DEFAULT_MAX_CHAIN_BYTES,
        timeout: float = DEFAULT_FETCH_TIMEOUT,
    ) -> None:
        if trust_roots is None or isinstance(trust_roots, str | os.PathLike):
            path = Path(trust_roots) if trust_roots is not None else default_trust_store_path()
            roots = load_trust_roots(path.resolve())
        else:
            roots = tuple(trust_roots)
        if not roots:
            raise ValueError("no trust roots")
        self._trust = x509_verification.Store(list(roots))
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._max_bytes = max_bytes
        self._fetch: Fetch = fetch or functools.partial(
            fetch_url, timeout=timeout, max_bytes=max_bytes
        )
        self._chains: dict[str, _CachedChain] = {}
        self._lock = threading.Lock()

    def signing_certificate(self, url: str, now: datetime) -> x509.Certificate:
        """The validated leaf certificate of the chain at ``url``, or ``VerificationError``.

        An unreadable cache directory (other than a missing file) is a server fault and raises
        ``OSError``. Only chains that validated are kept, so the memory cache cannot be filled
        with attacker-chosen entries.
        """
        validate_cert_url(url)
        now = _as_utc(now)
        with self._lock:
            cached = self._chains.get(url)
        if cached is not None and cached.valid_from <= now <= cached.valid_until:
            return cached.leaf
        data = self._read_cached_file(url)
        if data is None:
            try:
                data = self._fetch(url)
            except VerificationError:
                raise
            except Exception as exc:  # the injected fetch may fail in any way
                log.warning("could not fetch certificate chain %.200s: %.200s", url, exc)
                raise VerificationError("could not fetch certificate chain") from exc
        if len(data) > self._max_bytes:
            raise VerificationError("certificate chain too large")
        entry = self._validate(data, now)
        with self._lock:
            self._chains[url] = entry
        return entry.leaf

    def _read_cached_file(self, url: str) -> bytes | None:
        if self._cache_dir is None:
            return None
        try:
            return (self._cache_dir / cache_file_name(url)).read_bytes()
        except FileNotFoundError:
            return None

    def _validate(self, data: bytes, now: datetime) -> _CachedChain:
        try:
            chain = parse_pem_certificates(data)
        except ValueError as exc:
            raise VerificationError("certificate chain is malformed") from exc
        if not chain:
            raise VerificationError("certificate chain is empty")
        leaf, intermediates = chain[0], chain[1:]
        # The verifier checks validity too; checking it first gives a clearer reason. The SAN
        # check is stricter than the verifier's, which would let *.amazon.com through.
        if now < leaf.not_valid_before_utc:
            raise VerificationError("certificate not yet valid")
        if now > leaf.not_valid_after_utc:  # RFC 5280: both bounds are inclusive
            raise VerificationError("certificate expired")
        if not _names_alexa_domain(leaf):
            raise VerificationError(f"certificate is not for {CERT_CHAIN_DOMAIN}")
        verifier = (
            x509_verification.PolicyBuilder()
            .store(self._trust)
            .time(now)
            .build_server_verifier(x509.DNSName(CERT_CHAIN_DOMAIN))
        )
        try:
            path = verifier.verify(leaf, intermediates)
        except x509_verification.VerificationError as exc:
            log.warning("certificate chain rejected: %s", exc)
            raise VerificationError("certificate chain not trusted") from exc
        return _CachedChain(
            leaf=leaf,
            valid_from=max(cert.not_valid_before_utc for cert in path),
            valid_until=min(cert.not_valid_after_utc for cert in path),
        )


def _as_utc(moment: datetime) -> datetime:
    """Treat a naive datetime as UTC, so it compares with certificate dates."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _names_alexa_domain(cert: x509.Certificate) -> bool:
    """True if the SAN lists exactly echo-api.amazon.com (a wildcard does not count)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return any(name.lower() == CERT_CHAIN_DOMAIN for name in san.get_values_for_type(x509.DNSName))


# --- request checks ----------------------------------------------------------------------------


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def verify_timestamp(envelope: Mapping[str, Any], now: datetime) -> None:
    """Check ``request.timestamp`` is within 150 s of ``now`` (one hour for skill events)."""
    raw = _get(envelope, "request", "timestamp")
    if not isinstance(raw, str):
        raise VerificationError("timestamp missing")
    try:
        timestamp = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise VerificationError("timestamp malformed") from exc
    timestamp = _as_utc(timestamp)
    now = _as_utc(now)
    if _get(envelope, "request", "type") in ALEXA_SKILL_EVENT_LIST:
        tolerance = timedelta(milliseconds=MAX_SKILL_EVENT_TOLERANCE_IN_MILLIS)
    else:
        tolerance = timedelta(milliseconds=MAX_NORMAL_REQUEST_TOLERANCE_IN_MILLIS)
    if now - timestamp > tolerance:
        raise VerificationError("timestamp too old")
    if timestamp - now > tolerance:
        raise VerificationError("timestamp in the future")


def verify_application_id(envelope: Mapping[str, Any], skill_id: str | None) -> None:
    """Check the request is for ``skill_id`` (skipped when no skill id is configured)."""
    if for_other_skill(envelope, skill_id):
        raise VerificationError("application id does not match")


class Headers(Protocol):
    """HTTP request headers: a plain mapping, or werkzeug's ``Headers`` (not a ``Mapping``)."""

    def get(self, key: str, /) -> str | None: ...

    def items(self) -> Iterable[tuple[str, str]]: ...


def _header(headers: Headers, name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _check_signature(leaf: x509.Certificate, signature_b64: str, raw_body: bytes) -> None:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VerificationError("signature is not valid base64") from exc
    public_key = leaf.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise VerificationError("certificate key is not RSA")
    try:
        public_key.verify(signature, raw_body, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise VerificationError("signature does not match body") from exc


class RequestVerifier:
    """Runs every check Alexa requires on one request; ``verify`` raises or returns ``None``."""

    def __init__(
        self,
        skill_id: str | None = None,
        *,
        trust_store: Sequence[x509.Certificate] | str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        fetch: Fetch | None = None,
        clock: Clock | None = None,
    ) -> None:
        """``trust_store``: a PEM bundle path or certificates (default: the system bundle)."""
        self.skill_id = skill_id or None
        self.store = CertificateStore(trust_store, cache_dir=cache_dir, fetch=fetch)
        self._clock: Clock = clock or (lambda: datetime.now(UTC))

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        fetch: Fetch | None = None,
        clock: Clock | None = None,
    ) -> RequestVerifier:
        """Configured by the trust store, chain cache and skill id settings."""
        return cls(
            skill_id=settings.skill_id,
            trust_store=settings.trust_store,
            cache_dir=settings.cert_cache_dir,
            fetch=fetch,
            clock=clock,
        )

    def verify(
        self,
        headers: Headers,
        raw_body: bytes,
        envelope: Mapping[str, Any],
        now: datetime | None = None,
    ) -> None:
        """Check headers, certificate URL and chain, signature, timestamp and application id."""
        now = _as_utc(now or self._clock())
        cert_url = _header(headers, SIGNATURE_CERT_CHAIN_URL_HEADER)
        if not cert_url:
            raise VerificationError(f"missing {SIGNATURE_CERT_CHAIN_URL_HEADER} header")
        signature = _header(headers, SIGNATURE_HEADER)
        if not signature:
            raise VerificationError(f"missing {SIGNATURE_HEADER} header")
        # The cheap checks first, so a stale or foreign request never makes us fetch a chain.
        validate_cert_url(cert_url)
        verify_timestamp(envelope, now)
        verify_application_id(envelope, self.skill_id)
        leaf = self.store.signing_certificate(cert_url, now)
        _check_signature(leaf, signature, raw_body)
