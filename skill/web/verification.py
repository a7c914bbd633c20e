"""Verify that an incoming request was sent by Alexa.

Alexa requires every skill hosted as a web service to check, for each request, the signing
certificate chain named in the ``SignatureCertChainUrl`` header, the ``Signature-256`` header over
the raw body, and the request timestamp (see "Verifying that the Request was Sent by Alexa" in the
Alexa Skills Kit docs, "Host a Custom Skill as a Web Service").

ask-sdk-webservice-support ships a verifier for this, but it imports certvalidator -> oscrypto,
which cannot load against the OpenSSL 3 builds we run on ("Error detecting the version of
libcrypto"). So we take only its constants and do the crypto with ``cryptography``, whose X.509
path validation (``cryptography.x509.verification``) checks the chain to a trusted root, validity
at a given time, the server-auth EKU, the CA extensions and the subject name. We add what it does
not check: the exact SAN, and a leaf key Alexa would sign with (RSA, 2048 bits or more, key usage
allowing signatures).

The chain URL comes from the request, before anything is proven, so fetching is bounded: the URL
is made canonical before any lookup (one spelling, one cache entry, one fetch), validated chains
and failed fetches are cached within fixed sizes, one fetch per URL runs at a time, and a fetch
follows no redirect and has one deadline for the whole download.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import http.client
import io
import logging
import os
import posixpath
import re
import socket
import ssl
import string
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
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
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import verification as x509_verification

from skill.alexa.dispatch import for_other_skill
from skill.settings import Settings

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

__all__ = [
    "DEFAULT_FAILURE_TTL",
    "DEFAULT_FETCH_TIMEOUT",
    "DEFAULT_MAX_CACHED_CHAINS",
    "DEFAULT_MAX_CHAIN_BYTES",
    "DEFAULT_MAX_REMEMBERED_FAILURES",
    "MIN_RSA_KEY_BITS",
    "CertificateStore",
    "RequestVerifier",
    "StoreStats",
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

DEFAULT_FETCH_TIMEOUT = 3.0
"""Seconds for the whole download of a chain (connect, TLS, request, headers and body together).

Alexa waits 8 s for an answer; a chain is fetched once and then cached.
"""

DEFAULT_MAX_CHAIN_BYTES = 64 * 1024
"""Largest certificate chain we accept; Alexa's real chain is about 7 KB."""

DEFAULT_MAX_CACHED_CHAINS = 32
"""Validated chains kept in memory (least recently used out first); Alexa uses one at a time."""

DEFAULT_FAILURE_TTL = 30.0
"""Seconds a failed fetch is remembered, so requests naming that URL meanwhile fetch nothing."""

DEFAULT_MAX_REMEMBERED_FAILURES = 256
"""Failed URLs remembered at most (oldest out first)."""

MIN_RSA_KEY_BITS = 2048
"""Smallest RSA key we accept on the signing certificate."""

_WAIT_GRACE = 2.0
"""Seconds past the fetch deadline that a request waits for another's load of the same URL."""

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

_MAX_CERT_URL_LENGTH = 1024  # Alexa's are about 60 characters
_URL_CHARS = re.compile(r"[!-~]+")  # printable ASCII, no space
_PATH_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")  # RFC 3986 path characters
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")


def validate_cert_url(url: str) -> str:
    """Check that ``url`` is one Alexa could use for its signing certificate chain.

    Scheme ``https`` and host ``s3.amazonaws.com`` (both case-insensitive), port 443 if given, no
    user info, query or fragment, and a path that starts with ``/echo.api/`` (case-sensitive)
    once escapes of unreserved characters (``%2E``) are decoded and ``.`` and ``..`` resolved.

    Returns the canonical URL, ``https://s3.amazonaws.com`` and that path: the one spelling that
    is looked up, cached and fetched, so the spellings of one URL cost one entry and one fetch.
    """
    if len(url) > _MAX_CERT_URL_LENGTH:
        raise VerificationError("certificate URL is too long")
    if not _URL_CHARS.fullmatch(url):
        raise VerificationError("certificate URL is malformed")
    if "#" in url:
        raise VerificationError("certificate URL has a fragment")
    if "?" in url:
        raise VerificationError("certificate URL has a query")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise VerificationError("certificate URL is malformed") from exc
    if parts.scheme.lower() != CERT_CHAIN_URL_PROTOCOL:
        raise VerificationError("certificate URL must use https")
    if "@" in parts.netloc:
        raise VerificationError("certificate URL has user info")
    if (parts.hostname or "") != CERT_CHAIN_URL_HOSTNAME:
        raise VerificationError("certificate URL has the wrong host")
    if port is not None and port != CERT_CHAIN_URL_PORT:
        raise VerificationError("certificate URL has the wrong port")
    if not _PATH_CHARS.fullmatch(parts.path) or _BAD_ESCAPE.search(parts.path):
        raise VerificationError("certificate URL is malformed")
    path = _ESCAPE.sub(_normalize_escape, parts.path)
    path = posixpath.normpath(path) if path else ""
    if not path.startswith(_CERT_CHAIN_URL_STARTPATH):
        raise VerificationError("certificate URL has the wrong path")
    return f"{CERT_CHAIN_URL_PROTOCOL}://{CERT_CHAIN_URL_HOSTNAME}{path}"


def _normalize_escape(match: re.Match[str]) -> str:
    """RFC 3986 6.2.2: an escaped unreserved character is the character; other escapes in caps."""
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


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
    """Name of the file in the cache directory that holds the chain for ``url``.

    The store looks files up by the canonical URL (``validate_cert_url``); Alexa's own URLs are
    already canonical.
    """
    return hashlib.sha256(url.encode("utf-8")).hexdigest() + ".pem"


# --- fetching ----------------------------------------------------------------------------------


def fetch_url(
    url: str,
    *,
    timeout: float = DEFAULT_FETCH_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_CHAIN_BYTES,
    context: ssl.SSLContext | None = None,
) -> bytes:
    """Download ``url`` within ``timeout`` seconds in all, refusing more than ``max_bytes`` bytes.

    ``timeout`` is one deadline for the whole download: each connection attempt, the TLS
    handshake, sending the request and every read of the headers and the body get only the time
    left, so a host that drips bytes is cut off when it runs out. (Resolving the host name is left
    to the system resolver's own limits.) Any answer but ``200`` fails, redirects included:
    Alexa's chains are served directly, and a redirect could lead anywhere. ``url`` is https (with
    ``context``, by default the system's CAs) or, for loopback tests, http. No proxy is used.
    """
    deadline = time.monotonic() + timeout
    try:
        return _download(url, deadline, max_bytes, context)
    except VerificationError:
        raise
    # Timeouts, refused connections and TLS failures are OSErrors; ValueError for a URL that
    # cannot be fetched; HTTPException for an answer that is not HTTP or is cut short.
    except (OSError, ValueError, http.client.HTTPException) as exc:
        log.warning("could not fetch certificate chain %.200s: %.200s", url, exc)
        raise VerificationError("could not fetch certificate chain") from exc


def _download(url: str, deadline: float, max_bytes: int, context: ssl.SSLContext | None) -> bytes:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    if scheme == "http":
        context = None
    elif context is None:
        context = ssl.create_default_context()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = _DeadlineConnection(parts.hostname, parts.port, deadline, context)
    response: http.client.HTTPResponse | None = None
    try:
        connection.request("GET", target, headers={"Connection": "close"})
        response = connection.getresponse()
        if response.status != 200:
            location = response.getheader("Location")
            refused = f", redirect to {location:.200} refused" if location else ""
            raise OSError(f"HTTP {response.status} {response.reason:.100}{refused}")
        if response.length is not None and response.length > max_bytes:
            raise VerificationError("certificate chain too large")
        data = response.read(max_bytes + 1)
        if response.length:  # fewer bytes than Content-Length said
            raise http.client.IncompleteRead(data, response.length)
    finally:
        if response is not None:  # it owns the socket once the headers are read
            response.close()
        connection.close()
    if len(data) > max_bytes:
        raise VerificationError("certificate chain too large")
    return data


def _time_left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the certificate download ran out of time")
    return left


def _connect(host: str, port: int, deadline: float) -> socket.socket:
    """A TCP connection to ``host``, trying its addresses in turn in the time left."""
    error: OSError = OSError(f"no address for {host}")
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(_time_left(deadline))
            sock.connect(address)
        except OSError as exc:
            sock.close()
            error = exc
        else:
            return sock
    raise error


class _DeadlineConnection(http.client.HTTPConnection):
    """HTTP, or HTTPS with a ``context``, in which every socket operation gets the time left."""

    def __init__(
        self, host: str, port: int | None, deadline: float, context: ssl.SSLContext | None
    ) -> None:
        if context is not None:
            self.default_port = http.client.HTTPS_PORT
        super().__init__(host, port)
        self._deadline = deadline
        self._context = context

    def connect(self) -> None:
        sock = _connect(self.host, self.port, self._deadline)
        if self._context is not None:
            try:
                sock.settimeout(_time_left(self._deadline))  # one limit for the whole handshake
                sock = self._context.wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
        self.sock = _DeadlineSocket(sock, self._deadline)


class _DeadlineSocket:
    """What ``http.client`` uses of a socket (sendall, makefile, close), bound by a deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def sendall(self, data: ReadableBuffer) -> None:
        self._sock.settimeout(_time_left(self._deadline))  # sendall's timeout is for the call
        self._sock.sendall(data)

    def makefile(self, mode: str = "rb") -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))

    def close(self) -> None:
        self._sock.close()  # the socket stays open while a reader made by makefile is


class _DeadlineReader(io.RawIOBase):
    """Reads a socket, giving each read only the time left (the headers are read this way too)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int | None:
        self._sock.settimeout(_time_left(self._deadline))
        return self._raw.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


# --- the store ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CachedChain:
    leaf: x509.Certificate
    valid_from: datetime
    valid_until: datetime


class _Load:
    """One load of a chain URL in progress; other requests for the URL wait for its outcome."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.waiting = 0
        self.chain: _CachedChain | None = None
        self.error: BaseException | None = None


@dataclass(frozen=True)
class StoreStats:
    """What a ``CertificateStore`` holds: validated chains, remembered failures, loads running."""

    chains: int
    failures: int
    loading: int
    waiting: int


class CertificateStore:
    """Finds, validates and caches Alexa's signing certificate chains.

    A chain URL is made canonical (``validate_cert_url``), looked up in memory, then in
    ``cache_dir`` (a file named ``cache_file_name(url)``), then fetched. Whatever its source, a
    chain is validated the same way before use, and a validated chain is kept in memory for as
    long as every certificate in it is valid, among the ``max_chains`` most recently used. A file
    in ``cache_dir`` takes the place of the fetch: if it does not validate, the request is
    rejected rather than fetched. The cache directory is only read.

    A failed fetch is remembered for ``failure_ttl`` seconds (``max_failures`` URLs at most):
    requests naming that URL meanwhile are rejected without fetching. A chain that was fetched
    but did not validate is not remembered. While one request loads a URL, others that miss the
    cache for it wait for that load (up to ``timeout`` and a little more) rather than fetch too.
    """

    def __init__(
        self,
        trust_roots: Sequence[x509.Certificate] | str | os.PathLike[str] | None = None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        fetch: Fetch | None = None,
        max_bytes: int = DEFAULT_MAX_CHAIN_BYTES,
        timeout: float = DEFAULT_FETCH_TIMEOUT,
        max_chains: int = DEFAULT_MAX_CACHED_CHAINS,
        failure_ttl: float = DEFAULT_FAILURE_TTL,
        max_failures: int = DEFAULT_MAX_REMEMBERED_FAILURES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``monotonic``: the clock failures expire by (tests pass their own)."""
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
        self._wait = timeout + _WAIT_GRACE
        self._max_chains = max(1, max_chains)
        self._failure_ttl = failure_ttl
        self._max_failures = max(1, max_failures)
        self._monotonic = monotonic
        self._chains: OrderedDict[str, _CachedChain] = OrderedDict()
        self._failures: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._loads: dict[str, _Load] = {}
        self._lock = threading.Lock()

    def stats(self) -> StoreStats:
        """How many chains and failures are held, loads are running and requests wait for them."""
        with self._lock:
            return StoreStats(
                chains=len(self._chains),
                failures=len(self._failures),
                loading=len(self._loads),
                waiting=sum(load.waiting for load in self._loads.values()),
            )

    def signing_certificate(self, url: str, now: datetime) -> x509.Certificate:
        """The validated leaf certificate of the chain at ``url``, or ``VerificationError``.

        An unreadable cache directory (other than a missing file) is a server fault and raises
        ``OSError``. Only chains that validated are kept, so the memory cache cannot be filled
        with attacker-chosen entries.
        """
        key = validate_cert_url(url)
        now = _as_utc(now)
        with self._lock:
            cached = self._cached(key, now)
            if cached is not None:
                return cached.leaf
            self._raise_if_failed_recently(key)
            load = self._loads.get(key)
            leading = load is None
            if load is None:
                load = self._loads[key] = _Load()
            else:
                load.waiting += 1
        if leading:
            return self._lead(key, now, load)
        return self._follow(key, now, load)

    def _cached(self, key: str, now: datetime) -> _CachedChain | None:
        """The chain cached for ``key`` if it is valid at ``now`` (call with the lock held)."""
        cached = self._chains.get(key)
        if cached is None:
            return None
        if now > cached.valid_until:
            del self._chains[key]
            return None
        if now < cached.valid_from:
            return None
        self._chains.move_to_end(key)
        return cached

    def _raise_if_failed_recently(self, key: str) -> None:
        """Reject ``key`` if fetching it failed within ``failure_ttl`` (with the lock held)."""
        remembered = self._failures.get(key)
        if remembered is None:
            return
        until, reason = remembered
        if self._monotonic() < until:
            raise VerificationError(reason)
        del self._failures[key]

    def _remember_failure(self, key: str, reason: str) -> None:
        if self._failure_ttl <= 0:
            return
        with self._lock:
            self._failures[key] = (self._monotonic() + self._failure_ttl, reason)
            self._failures.move_to_end(key)
            while len(self._failures) > self._max_failures:
                self._failures.popitem(last=False)

    def _lead(self, key: str, now: datetime, load: _Load) -> x509.Certificate:
        """Load ``key`` for this request and every request that waits for it."""
        try:
            load.chain = self._load(key, now)
            return load.chain.leaf
        except BaseException as exc:
            load.error = exc
            raise
        finally:
            with self._lock:
                del self._loads[key]
            load.done.set()

    def _follow(self, key: str, now: datetime, load: _Load) -> x509.Certificate:
        """Wait for another request's load of ``key`` and share its outcome."""
        finished = load.done.wait(self._wait)
        with self._lock:
            load.waiting -= 1
        if not finished:
            log.warning("gave up waiting for certificate chain %.200s", key)
            raise VerificationError("could not fetch certificate chain")
        if load.error is not None:
            reason = (
                str(load.error)
                if isinstance(load.error, VerificationError)
                else "could not fetch certificate chain"
            )
            raise VerificationError(reason) from load.error
        chain = load.chain
        if chain is None:  # cannot happen: a finished load has a chain or an error
            raise VerificationError("could not fetch certificate chain")
        _check_validity(chain.valid_from, chain.valid_until, now)
        return chain.leaf

    def _load(self, key: str, now: datetime) -> _CachedChain:
        data = self._read_cached_file(key)
        if data is None:
            data = self._fetch_chain(key)
        if len(data) > self._max_bytes:
            raise VerificationError("certificate chain too large")
        chain = self._validate(data, now)
        with self._lock:
            self._chains[key] = chain
            self._chains.move_to_end(key)
            while len(self._chains) > self._max_chains:
                self._chains.popitem(last=False)
        return chain

    def _fetch_chain(self, key: str) -> bytes:
        """Fetch ``key``, remembering a failure for ``failure_ttl``."""
        try:
            data = self._fetch(key)
        except VerificationError as exc:
            self._remember_failure(key, str(exc))
            raise
        except Exception as exc:  # the injected fetch may fail in any way
            log.warning("could not fetch certificate chain %.200s: %.200s", key, exc)
            self._remember_failure(key, "could not fetch certificate chain")
            raise VerificationError("could not fetch certificate chain") from exc
        if len(data) > self._max_bytes:
            self._remember_failure(key, "certificate chain too large")
            raise VerificationError("certificate chain too large")
        return data

    def _read_cached_file(self, key: str) -> bytes | None:
        if self._cache_dir is None:
            return None
        try:
            return (self._cache_dir / cache_file_name(key)).read_bytes()
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
        _check_validity(leaf.not_valid_before_utc, leaf.not_valid_after_utc, now)
        try:
            if not _names_alexa_domain(leaf):
                raise VerificationError(f"certificate is not for {CERT_CHAIN_DOMAIN}")
            _check_signing_key(leaf)
        except ValueError as exc:  # an extension cryptography cannot parse
            raise VerificationError("certificate chain is malformed") from exc
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


def _check_validity(valid_from: datetime, valid_until: datetime, now: datetime) -> None:
    if now < valid_from:
        raise VerificationError("certificate not yet valid")
    if now > valid_until:  # RFC 5280: both bounds are inclusive
        raise VerificationError("certificate expired")


def _names_alexa_domain(cert: x509.Certificate) -> bool:
    """True if the SAN lists exactly echo-api.amazon.com (a wildcard does not count)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return any(name.lower() == CERT_CHAIN_DOMAIN for name in san.get_values_for_type(x509.DNSName))


def _check_signing_key(leaf: x509.Certificate) -> None:
    """A key Alexa would sign with: RSA of ``MIN_RSA_KEY_BITS`` or more, usable for signatures.

    The path verifier checks the keys that sign certificates, not the leaf's own key.
    """
    try:
        key = leaf.public_key()
    except UnsupportedAlgorithm as exc:
        raise VerificationError("certificate key is not RSA") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise VerificationError("certificate key is not RSA")
    if key.key_size < MIN_RSA_KEY_BITS:
        raise VerificationError("certificate key is too short")
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.digital_signature:
        raise VerificationError("certificate key usage excludes signatures")


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
    request_type = _get(envelope, "request", "type")
    if isinstance(request_type, str) and request_type in ALEXA_SKILL_EVENT_LIST:
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
