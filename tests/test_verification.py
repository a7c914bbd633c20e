"""Tests for skill.web.verification: every check Alexa requires of a web-service skill.

Only the network boundary (Amazon's certificate host) is faked: chains are real X.509 chains
from throwaway CAs (tests/certs.py), signatures are real RSA signatures, and one test uses the
chain Alexa really served in 2019-2020 against this machine's CA bundle.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from certs import (
    CERT_URL,
    SigningChain,
    leaf_key_usage,
    make_chain,
    rsa_key,
    tls_server_files,
    trusted_root,
    trusted_root_pem,
)
from conftest import FIXTURES
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from skill.settings import Settings
from skill.web.verification import (
    DEFAULT_FAILURE_TTL,
    DEFAULT_MAX_CACHED_CHAINS,
    DEFAULT_MAX_CHAIN_BYTES,
    DEFAULT_MAX_REMEMBERED_FAILURES,
    CertificateStore,
    RequestVerifier,
    StoreStats,
    VerificationError,
    cache_file_name,
    default_trust_store_path,
    fetch_url,
    load_trust_roots,
    validate_cert_url,
)

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000001"

NOT_FOR_ALEXA = "certificate is not for echo-api.amazon.com"

REAL_CHAIN = FIXTURES / "alexa" / "echo-api-cert-7.pem"
REAL_CHAIN_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-7.pem"


class FakeFetch:
    """Stands in for Amazon's certificate host: serves ``data`` (or raises ``error``)."""

    def __init__(self, data: bytes = b"", error: Exception | None = None) -> None:
        self.data = data
        self.error = error
        self.calls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        if self.error is not None:
            raise self.error
        return self.data


def envelope(
    *,
    timestamp: datetime = NOW,
    request_type: str = "LaunchRequest",
    app_id: str | None = SKILL_ID,
    in_session: bool = False,
) -> dict[str, Any]:
    application = {"applicationId": app_id}
    env: dict[str, Any] = {
        "version": "1.0",
        "context": {"System": {"application": application}},
        "request": {
            "type": request_type,
            "requestId": "amzn1.echo-api.request.1",
            "timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "locale": "en-US",
        },
    }
    if in_session:  # older payload shape: only the session names the application
        del env["context"]
        env["session"] = {"new": True, "sessionId": "s", "application": application}
    return env


def body_of(env: dict[str, Any]) -> bytes:
    return json.dumps(env).encode("utf-8")


@pytest.fixture(scope="session")
def chain() -> SigningChain:
    return make_chain(now=NOW)


@pytest.fixture
def fetch(chain: SigningChain) -> FakeFetch:
    return FakeFetch(chain.chain_pem)


@pytest.fixture
def verifier(fetch: FakeFetch) -> RequestVerifier:
    return RequestVerifier(SKILL_ID, trust_store=[trusted_root()], fetch=fetch, clock=lambda: NOW)


def reason(
    verifier: RequestVerifier, headers: dict[str, str], body: bytes, env: dict[str, Any]
) -> str:
    with pytest.raises(VerificationError) as info:
        verifier.verify(headers, body, env)
    return str(info.value)


# --- accepted ----------------------------------------------------------------------------------


def test_correctly_signed_request_is_accepted(
    verifier: RequestVerifier, chain: SigningChain, fetch: FakeFetch
) -> None:
    env = envelope()
    body = body_of(env)
    verifier.verify(chain.headers(body), body, env)
    assert fetch.calls == [CERT_URL]


def test_header_names_are_case_insensitive(verifier: RequestVerifier, chain: SigningChain) -> None:
    env = envelope()
    body = body_of(env)
    headers = {name.lower(): value for name, value in chain.headers(body).items()}
    verifier.verify(headers, body, env)


def test_clock_is_used_when_now_is_not_given(chain: SigningChain, fetch: FakeFetch) -> None:
    late = RequestVerifier(
        SKILL_ID, trust_store=[trusted_root()], fetch=fetch, clock=lambda: NOW + timedelta(hours=1)
    )
    env = envelope()
    body = body_of(env)
    with pytest.raises(VerificationError, match="timestamp too old"):
        late.verify(chain.headers(body), body, env)
    late.verify(chain.headers(body), body, env, now=NOW)


# --- headers and URL ---------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["SignatureCertChainUrl", "Signature-256"])
def test_missing_header_is_rejected(
    verifier: RequestVerifier, chain: SigningChain, fetch: FakeFetch, missing: str
) -> None:
    env = envelope()
    body = body_of(env)
    headers = chain.headers(body)
    del headers[missing]
    assert reason(verifier, headers, body, env) == f"missing {missing} header"
    assert fetch.calls == []


@pytest.mark.parametrize(
    "url",
    [
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
        "HTTPS://s3.AmazonAWS.com/echo.api/x.pem",
    ],
)
def test_valid_cert_urls(url: str) -> None:
    validate_cert_url(url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://s3.amazonaws.com/echo.api/echo-api-cert.pem", "https"),
        ("https://notamazon.com/echo.api/echo-api-cert.pem", "host"),
        ("https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem", "path"),
        ("https://s3.amazonaws.com/invalid.path/echo-api-cert.pem", "path"),
        ("https://s3.amazonaws.com/echo.api/../invalid.path/echo-api-cert.pem", "path"),
        ("https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem", "port"),
        ("https://s3.amazonaws.com:99999/echo.api/echo-api-cert.pem", "malformed"),
    ],
)
def test_invalid_cert_urls_are_rejected(
    verifier: RequestVerifier, chain: SigningChain, fetch: FakeFetch, url: str, why: str
) -> None:
    with pytest.raises(VerificationError, match=why):
        validate_cert_url(url)
    env = envelope()
    body = body_of(env)
    assert why in reason(verifier, chain.headers(body, cert_url=url), body, env)
    assert fetch.calls == [], "a bad URL must be rejected before anything is fetched"


# --- certificate chain -------------------------------------------------------------------------


def verifier_serving(chain: SigningChain) -> RequestVerifier:
    fetch = FakeFetch(chain.chain_pem)
    return RequestVerifier(SKILL_ID, trust_store=[trusted_root()], fetch=fetch, clock=lambda: NOW)


@pytest.mark.parametrize(
    ("bad_chain", "why"),
    [
        (make_chain(now=NOW, expired=True), "certificate expired"),
        (make_chain(now=NOW + timedelta(days=10)), "certificate not yet valid"),
        (make_chain(now=NOW, with_san=False), NOT_FOR_ALEXA),
        (make_chain(now=NOW, dns_names=("*.amazon.com",)), NOT_FOR_ALEXA),
        (make_chain(now=NOW, dns_names=("echo-api.amazon.co",)), NOT_FOR_ALEXA),
        (make_chain(now=NOW, untrusted_root=True), "certificate chain not trusted"),
    ],
    ids=["expired", "not-yet-valid", "no-san", "wildcard-san", "other-san", "untrusted-root"],
)
def test_bad_chain_is_rejected(bad_chain: SigningChain, why: str) -> None:
    env = envelope()
    body = body_of(env)
    assert reason(verifier_serving(bad_chain), bad_chain.headers(body), body, env) == why


def test_chain_missing_its_intermediate_is_not_trusted(chain: SigningChain) -> None:
    leaf_only = chain.leaf_cert.public_bytes(serialization.Encoding.PEM)
    verifier = RequestVerifier(
        SKILL_ID, trust_store=[trusted_root()], fetch=FakeFetch(leaf_only), clock=lambda: NOW
    )
    env = envelope()
    body = body_of(env)
    assert reason(verifier, chain.headers(body), body, env) == "certificate chain not trusted"


@pytest.mark.parametrize("data", [b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAA"])
def test_garbage_chain_is_rejected(chain: SigningChain, data: bytes) -> None:
    verifier = RequestVerifier(
        SKILL_ID, trust_store=[trusted_root()], fetch=FakeFetch(data), clock=lambda: NOW
    )
    env = envelope()
    body = body_of(env)
    assert "certificate chain is" in reason(verifier, chain.headers(body), body, env)


# --- signature ---------------------------------------------------------------------------------


def test_signature_by_another_key_is_rejected(
    verifier: RequestVerifier, chain: SigningChain
) -> None:
    env = envelope()
    body = body_of(env)
    impostor = dataclasses.replace(chain, leaf_key=rsa_key("impostor"))
    headers = {**chain.headers(body), "Signature-256": impostor.sign(body)}
    assert reason(verifier, headers, body, env) == "signature does not match body"


def test_body_changed_after_signing_is_rejected(
    verifier: RequestVerifier, chain: SigningChain
) -> None:
    env = envelope()
    body = body_of(env)
    headers = chain.headers(body)
    tampered = body.replace(b"LaunchRequest", b"LaunchRequesT")
    assert reason(verifier, headers, tampered, env) == "signature does not match body"


def test_signature_that_is_not_base64_is_rejected(
    verifier: RequestVerifier, chain: SigningChain
) -> None:
    env = envelope()
    body = body_of(env)
    headers = {**chain.headers(body), "Signature-256": "not base64!"}
    assert reason(verifier, headers, body, env) == "signature is not valid base64"


# --- timestamp ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "why"),
    [
        (timedelta(seconds=-151), "timestamp too old"),
        (timedelta(minutes=-30), "timestamp too old"),
        (timedelta(seconds=151), "timestamp in the future"),
        (timedelta(seconds=-149), None),
        (timedelta(seconds=149), None),
    ],
)
def test_timestamp_tolerance(
    verifier: RequestVerifier, chain: SigningChain, offset: timedelta, why: str | None
) -> None:
    env = envelope(timestamp=NOW + offset)
    body = body_of(env)
    if why is None:
        verifier.verify(chain.headers(body), body, env)
    else:
        assert reason(verifier, chain.headers(body), body, env) == why


def test_skill_event_gets_an_hour(verifier: RequestVerifier, chain: SigningChain) -> None:
    event = "AlexaSkillEvent.SkillEnabled"
    env = envelope(timestamp=NOW - timedelta(minutes=30), request_type=event)
    body = body_of(env)
    verifier.verify(chain.headers(body), body, env)

    env = envelope(timestamp=NOW - timedelta(minutes=61), request_type=event)
    body = body_of(env)
    assert reason(verifier, chain.headers(body), body, env) == "timestamp too old"


@pytest.mark.parametrize("timestamp", [None, "yesterday", 1559390400000])
def test_missing_or_malformed_timestamp_is_rejected(
    verifier: RequestVerifier, chain: SigningChain, timestamp: object
) -> None:
    env = envelope()
    env["request"]["timestamp"] = timestamp
    body = body_of(env)
    assert reason(verifier, chain.headers(body), body, env).startswith("timestamp")


JSON_KINDS: list[object] = [None, True, 0, 1.5, "", "x", [], ["LaunchRequest"], {}, {"type": "x"}]
"""A value of every JSON kind, for the fields of an envelope that a forger may fill."""


def _fields(node: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if path:
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _fields(value, (*path, key))


def test_any_kind_of_value_in_any_field_is_verified_or_refused(
    verifier: RequestVerifier, chain: SigningChain
) -> None:
    """request.type as a list once raised TypeError (a set lookup) before any signature check:
    whatever a field holds, the answer is a verdict, never another exception."""
    base = envelope()
    for path in list(_fields(base)):
        for value in JSON_KINDS:
            env = json.loads(json.dumps(base))
            node = env
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
            body = body_of(env)
            with contextlib.suppress(VerificationError):
                verifier.verify(chain.headers(body), body, env)


# --- application id ----------------------------------------------------------------------------


@pytest.mark.parametrize("in_session", [False, True])
def test_wrong_application_id_is_rejected(
    verifier: RequestVerifier, chain: SigningChain, in_session: bool
) -> None:
    env = envelope(app_id="amzn1.ask.skill.someone-else", in_session=in_session)
    body = body_of(env)
    assert reason(verifier, chain.headers(body), body, env) == "application id does not match"


def test_application_id_from_session_is_accepted(
    verifier: RequestVerifier, chain: SigningChain
) -> None:
    env = envelope(in_session=True)
    body = body_of(env)
    verifier.verify(chain.headers(body), body, env)


def test_missing_application_id_is_rejected(verifier: RequestVerifier, chain: SigningChain) -> None:
    env = envelope(app_id=None)
    body = body_of(env)
    assert reason(verifier, chain.headers(body), body, env) == "application id does not match"


def test_any_application_id_when_none_is_configured(chain: SigningChain, fetch: FakeFetch) -> None:
    verifier = RequestVerifier(None, trust_store=[trusted_root()], fetch=fetch, clock=lambda: NOW)
    env = envelope(app_id="amzn1.ask.skill.someone-else")
    body = body_of(env)
    verifier.verify(chain.headers(body), body, env)


# --- fetching and caching ----------------------------------------------------------------------


def test_validated_chain_is_fetched_once(
    verifier: RequestVerifier, chain: SigningChain, fetch: FakeFetch
) -> None:
    for minute in range(2):
        env = envelope(timestamp=NOW + timedelta(minutes=minute))
        body = body_of(env)
        verifier.verify(chain.headers(body), body, env, now=NOW + timedelta(minutes=minute))
    assert fetch.calls == [CERT_URL]


def test_cached_chain_is_dropped_when_the_leaf_expires(
    verifier: RequestVerifier, chain: SigningChain, fetch: FakeFetch
) -> None:
    env = envelope()
    body = body_of(env)
    verifier.verify(chain.headers(body), body, env)

    later = NOW + timedelta(days=60)  # the test leaf is valid for 30 days
    env = envelope(timestamp=later)
    body = body_of(env)
    with pytest.raises(VerificationError, match="certificate expired"):
        verifier.verify(chain.headers(body), body, env, now=later)
    assert fetch.calls == [CERT_URL, CERT_URL]


def test_rejected_chain_is_not_cached() -> None:
    bad = make_chain(now=NOW, untrusted_root=True)
    fetch = FakeFetch(bad.chain_pem)
    verifier = RequestVerifier(SKILL_ID, trust_store=[trusted_root()], fetch=fetch)
    env = envelope()
    body = body_of(env)
    for _ in range(2):
        with pytest.raises(VerificationError):
            verifier.verify(bad.headers(body), body, env, now=NOW)
    assert len(fetch.calls) == 2


def test_cache_dir_is_read_before_any_fetch(tmp_path: Path, chain: SigningChain) -> None:
    (tmp_path / cache_file_name(CERT_URL)).write_bytes(chain.chain_pem)
    fetch = FakeFetch(error=AssertionError("must not fetch"))
    verifier = RequestVerifier(
        SKILL_ID, trust_store=[trusted_root()], cache_dir=tmp_path, fetch=fetch, clock=lambda: NOW
    )
    env = envelope()
    body = body_of(env)
    verifier.verify(chain.headers(body), body, env)
    assert fetch.calls == []


@pytest.mark.parametrize(
    ("cached", "why"),
    [
        (make_chain(now=NOW, untrusted_root=True).chain_pem, "certificate chain not trusted"),
        (make_chain(now=NOW, with_san=False).chain_pem, "certificate is not for"),
        (b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "malformed"),
    ],
    ids=["other-root", "no-san", "corrupt"],
)
def test_tampered_cache_file_is_rejected(
    tmp_path: Path, chain: SigningChain, cached: bytes, why: str
) -> None:
    (tmp_path / cache_file_name(CERT_URL)).write_bytes(cached)
    fetch = FakeFetch(chain.chain_pem)
    verifier = RequestVerifier(
        SKILL_ID, trust_store=[trusted_root()], cache_dir=tmp_path, fetch=fetch, clock=lambda: NOW
    )
    env = envelope()
    body = body_of(env)
    assert why in reason(verifier, chain.headers(body), body, env)
    assert fetch.calls == []


def test_chain_over_the_size_cap_is_rejected(chain: SigningChain) -> None:
    padded = chain.chain_pem + b"\n" * (DEFAULT_MAX_CHAIN_BYTES + 1 - len(chain.chain_pem))
    verifier = RequestVerifier(
        SKILL_ID, trust_store=[trusted_root()], fetch=FakeFetch(padded), clock=lambda: NOW
    )
    env = envelope()
    body = body_of(env)
    assert reason(verifier, chain.headers(body), body, env) == "certificate chain too large"


@pytest.mark.parametrize("error", [OSError("connection refused"), TimeoutError(), ValueError()])
def test_fetch_failure_is_a_verification_error(chain: SigningChain, error: Exception) -> None:
    verifier = RequestVerifier(
        SKILL_ID, trust_store=[trusted_root()], fetch=FakeFetch(error=error), clock=lambda: NOW
    )
    env = envelope()
    body = body_of(env)
    assert reason(verifier, chain.headers(body), body, env) == "could not fetch certificate chain"


DRIP_INTERVAL = 0.5
"""Seconds between the bytes a dripping loopback server sends."""

DRIP_BYTES = 40
"""Bytes a dripping server sends at most, so that a test is bounded even if the fetch never gives
up (20 s)."""


class _LoopbackServer(ThreadingHTTPServer):
    """Serves the paths below and records each one asked for."""

    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.tls = tls is not None
        self.paths: list[str] = []
        self.stop = threading.Event()
        self.chain_pem = make_chain(now=NOW).chain_pem

    @property
    def url(self) -> str:
        origin = "https://localhost" if self.tls else "http://127.0.0.1"
        return f"{origin}:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    """``/big``: one byte over the cap. ``.../chain``: a test chain. ``.../redirect-NNN``: status
    NNN to ``/echo.api/chain``. ``.../drip-body`` and ``.../drip-headers``: one byte every
    ``DRIP_INTERVAL``. ``.../short``: less body than its Content-Length. Anything else: 404."""

    server: _LoopbackServer

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        name = self.path.rsplit("/", 1)[-1]
        if name.startswith("redirect-"):
            self.send_response(int(name.removeprefix("redirect-")))
            self.send_header("Location", "/echo.api/chain")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if name == "drip-headers":
            self._drip(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc")
            return
        if name == "drip-body":
            self.send_response(200)
            self.send_header("Content-Length", str(DRIP_BYTES))
            self.end_headers()
            self._drip(b"x" * DRIP_BYTES)
            return
        if name == "short":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            return
        if self.path == "/big":
            body = b"x" * (DEFAULT_MAX_CHAIN_BYTES + 1)
            self.send_response(200)
        elif name == "chain":
            body = self.server.chain_pem
            self.send_response(200)
        else:
            body = b"not found"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drip(self, data: bytes) -> None:
        for index in range(len(data)):
            if self.server.stop.wait(DRIP_INTERVAL):
                return
            try:
                self.wfile.write(data[index : index + 1])
                self.wfile.flush()
            except OSError:  # the client gave up
                return

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[_LoopbackServer]:
    """A loopback HTTP server, to exercise the real fetch without leaving the machine."""
    yield from _serving(_LoopbackServer())


@pytest.fixture
def tls_loopback(tmp_path: Path) -> Iterator[_LoopbackServer]:
    """The same over TLS, with a certificate for localhost from the throwaway CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_server_files(tmp_path))
    yield from _serving(_LoopbackServer(context))


def _serving(server: _LoopbackServer) -> Iterator[_LoopbackServer]:
    # A short poll interval: shutting the server down waits for one poll.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def local_server(loopback: _LoopbackServer) -> str:
    return loopback.url


def test_fetch_url_enforces_the_size_cap(local_server: str) -> None:
    with pytest.raises(VerificationError, match="too large"):
        fetch_url(local_server + "/big", timeout=5)
    assert len(fetch_url(local_server + "/big", max_bytes=DEFAULT_MAX_CHAIN_BYTES + 1)) > 0


def test_fetch_url_failure_is_a_verification_error(local_server: str) -> None:
    with pytest.raises(VerificationError, match="could not fetch"):
        fetch_url(local_server + "/missing", timeout=5)


def test_fetch_url_reads_a_chain(loopback: _LoopbackServer) -> None:
    assert fetch_url(loopback.url + "/echo.api/chain", timeout=5) == loopback.chain_pem


def test_fetch_url_reads_a_chain_over_tls(tls_loopback: _LoopbackServer) -> None:
    context = ssl.create_default_context(cadata=trusted_root_pem())
    data = fetch_url(tls_loopback.url + "/echo.api/chain", timeout=5, context=context)
    assert data == tls_loopback.chain_pem


def test_fetch_url_checks_the_tls_certificate(tls_loopback: _LoopbackServer) -> None:
    """By default only the system's CAs are trusted, and the throwaway CA is not one of them."""
    with pytest.raises(VerificationError, match="could not fetch"):
        fetch_url(tls_loopback.url + "/echo.api/chain", timeout=5)
    assert tls_loopback.paths == []


def test_fetch_url_gives_up_on_a_host_that_never_answers_the_tls_handshake() -> None:
    with socket.socket() as listener:  # the kernel completes the connection; nobody answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(VerificationError, match="could not fetch"):
            fetch_url(f"https://127.0.0.1:{port}/echo.api/chain", timeout=1.0)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_fetch_url_follows_no_redirect(loopback: _LoopbackServer, status: int) -> None:
    with pytest.raises(VerificationError, match="could not fetch"):
        fetch_url(f"{loopback.url}/echo.api/redirect-{status}", timeout=5)
    assert loopback.paths == [f"/echo.api/redirect-{status}"], "the redirect must not be followed"


def test_fetch_url_refuses_a_body_cut_short(loopback: _LoopbackServer) -> None:
    with pytest.raises(VerificationError, match="could not fetch"):
        fetch_url(loopback.url + "/echo.api/short", timeout=5)


@pytest.mark.parametrize("path", ["/echo.api/drip-body", "/echo.api/drip-headers"])
def test_fetch_url_has_one_deadline_for_the_whole_download(
    loopback: _LoopbackServer, path: str
) -> None:
    """One byte every 0.5 s never trips a per-read timeout of 1 s; the total deadline of 1 s must.

    Were the deadline per read, the fetch would take the whole drip (20 s) and then succeed.
    """
    with pytest.raises(VerificationError, match="could not fetch"):
        fetch_url(loopback.url + path, timeout=1.0)


def loopback_store(loopback: _LoopbackServer, **options: Any) -> CertificateStore:
    """A store whose fetch is the real one, sent to the loopback server instead of Amazon's host.

    The store asks for the canonical https://s3.amazonaws.com URL; only the origin changes.
    """

    def fetch(url: str) -> bytes:
        return fetch_url(loopback.url + urlsplit(url).path, timeout=1.0)

    return CertificateStore([trusted_root()], fetch=fetch, **options)


def test_store_fetches_for_real_through_loopback(loopback: _LoopbackServer) -> None:
    store = loopback_store(loopback)
    leaf = store.signing_certificate("https://S3.AmazonAWS.com:443/echo.api/./x/../chain", NOW)
    assert leaf.subject.rfc4514_string() == "CN=echo-api.amazon.com"
    assert loopback.paths == ["/echo.api/chain"]


@pytest.mark.parametrize("path", ["/echo.api/redirect-302", "/echo.api/drip-body"])
def test_store_fails_closed_and_remembers_it(loopback: _LoopbackServer, path: str) -> None:
    store = loopback_store(loopback)
    for _ in range(3):
        with pytest.raises(VerificationError, match="could not fetch certificate chain"):
            store.signing_certificate("https://s3.amazonaws.com" + path, NOW)
    assert loopback.paths == [path]
    assert store.stats().failures == 1


# --- canonical URLs ----------------------------------------------------------------------------

CANONICAL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"


@pytest.mark.parametrize(
    "spelling",
    [
        "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem",
        "HTTPS://S3.AMAZONAWS.COM/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com:443/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com:/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com/echo.api/./././echo-api-cert-test.pem",
        "https://s3.amazonaws.com/echo.api/a/b/../../echo-api-cert-test.pem",
        "https://s3.amazonaws.com/echo.api//echo-api-cert-test.pem",
        "https://s3.amazonaws.com/echo.api/%2E/echo-api-cert-test.pem",
        "https://s3.amazonaws.com/%65cho.api/echo-api-cert-%74est.pem",
    ],
)
def test_spellings_of_one_url_have_one_canonical_form(spelling: str) -> None:
    assert validate_cert_url(spelling) == CANONICAL


def test_escapes_of_reserved_characters_stay_escaped_in_capitals() -> None:
    canonical = validate_cert_url("https://s3.amazonaws.com/echo.api/a%2fb.pem")
    assert canonical == "https://s3.amazonaws.com/echo.api/a%2Fb.pem"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        (CANONICAL + "#", "fragment"),
        (CANONICAL + "#1", "fragment"),
        (CANONICAL + "?", "query"),
        (CANONICAL + "?x=1", "query"),
        ("https://s3.amazonaws.com/echo.api/x.pem?#", "fragment"),
        ("https://user@s3.amazonaws.com/echo.api/x.pem", "user info"),
        ("https://user:pw@s3.amazonaws.com/echo.api/x.pem", "user info"),
        ("https://s3.amazonaws.com@evil.example/echo.api/x.pem", "user info"),
        ("https://s3.amazonaws.com/echo.api/x y.pem", "malformed"),
        ("https://s3.amazonaws.com/echo.api/x\n.pem", "malformed"),
        ("https://s3.amazonaws.com/echo.api/\u00e9.pem", "malformed"),
        ("https://s3.amazonaws.com/echo.api/%zz.pem", "malformed"),
        ("https://s3.amazonaws.com/echo.api/x\\..\\y.pem", "malformed"),
        ("https://s3.amazonaws.com./echo.api/x.pem", "host"),
        ("https://s3.amazonaws.com/echo.api/%2E%2E/x.pem", "path"),
        ("https://s3.amazonaws.com/echo.api", "path"),
        ("https://s3.amazonaws.com/echo.api/" + "a" * 1000, "too long"),
    ],
)
def test_cert_url_with_fragment_query_user_info_or_odd_characters_is_refused(
    verifier: RequestVerifier, chain: SigningChain, fetch: FakeFetch, url: str, why: str
) -> None:
    with pytest.raises(VerificationError, match=why):
        validate_cert_url(url)
    env = envelope()
    body = body_of(env)
    assert why in reason(verifier, chain.headers(body, cert_url=url), body, env)
    assert fetch.calls == [], "a refused URL must be refused before anything is fetched"


def spellings_of(url: str, count: int) -> list[str]:
    """``count`` different spellings of ``url`` (https://s3.amazonaws.com/echo.api/NAME)."""
    name = url.rsplit("/", 1)[1]
    letters = "samazonawscom"  # the letters of s3.amazonaws.com, each in either case
    found: list[str] = []
    for variant in range(count):
        cased = iter(c.upper() if variant >> i & 1 else c for i, c in enumerate(letters))
        host = "".join(next(cased) if c.isalpha() else c for c in "s3.amazonaws.com")
        port = ":443" if variant >> len(letters) & 1 else ""
        dots = "./" * (variant >> (len(letters) + 1))
        found.append(f"HtTpS://{host}{port}/echo.api/{dots}x/../{name}")
    return found


def test_three_thousand_spellings_make_one_fetch(chain: SigningChain) -> None:
    """The issue's figure: 3,000 spellings of one URL made 3,000 fetches and cache entries."""
    fetch = FakeFetch(chain.chain_pem)
    store = CertificateStore([trusted_root()], fetch=fetch)
    spellings = spellings_of(CERT_URL, 3000)
    assert len(set(spellings)) == 3000
    for spelling in spellings:
        store.signing_certificate(spelling, NOW)
    assert fetch.calls == [CERT_URL]
    assert store.stats().chains == 1


def test_spellings_through_the_verifier_make_one_fetch(
    verifier: RequestVerifier, chain: SigningChain, fetch: FakeFetch
) -> None:
    env = envelope()
    body = body_of(env)
    for spelling in spellings_of(CERT_URL, 20):
        verifier.verify(chain.headers(body, cert_url=spelling), body, env)
    assert fetch.calls == [CERT_URL]


def test_cache_dir_is_read_by_the_canonical_url(tmp_path: Path, chain: SigningChain) -> None:
    (tmp_path / cache_file_name(CERT_URL)).write_bytes(chain.chain_pem)
    fetch = FakeFetch(error=AssertionError("must not fetch"))
    store = CertificateStore([trusted_root()], cache_dir=tmp_path, fetch=fetch)
    for spelling in spellings_of(CERT_URL, 5):
        store.signing_certificate(spelling, NOW)
    assert fetch.calls == []


# --- bounded caches ----------------------------------------------------------------------------


def test_chain_cache_is_bounded(chain: SigningChain) -> None:
    fetch = FakeFetch(chain.chain_pem)
    store = CertificateStore([trusted_root()], fetch=fetch)
    urls = [f"https://s3.amazonaws.com/echo.api/echo-api-cert-{n}.pem" for n in range(100)]
    for url in urls:
        store.signing_certificate(url, NOW)
    assert store.stats().chains == DEFAULT_MAX_CACHED_CHAINS
    assert len(fetch.calls) == 100


def test_chain_cache_drops_the_least_recently_used(chain: SigningChain) -> None:
    fetch = FakeFetch(chain.chain_pem)
    store = CertificateStore([trusted_root()], fetch=fetch, max_chains=2)
    first, second, third = (f"https://s3.amazonaws.com/echo.api/c{n}.pem" for n in range(3))
    store.signing_certificate(first, NOW)
    store.signing_certificate(second, NOW)
    store.signing_certificate(first, NOW)  # used: second is now the least recently used
    store.signing_certificate(third, NOW)
    fetch.calls.clear()
    store.signing_certificate(first, NOW)
    store.signing_certificate(third, NOW)
    assert fetch.calls == []
    store.signing_certificate(second, NOW)
    assert fetch.calls == [second]
    assert store.stats().chains == 2


class FakeMonotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("error", "why"),
    [
        (OSError("connection refused"), "could not fetch certificate chain"),
        (VerificationError("certificate chain too large"), "certificate chain too large"),
    ],
)
def test_failed_fetch_is_remembered_for_a_while(error: Exception, why: str) -> None:
    fetch = FakeFetch(error=error)
    clock = FakeMonotonic()
    store = CertificateStore([trusted_root()], fetch=fetch, monotonic=clock)
    spellings = spellings_of(CERT_URL, 200)
    for spelling in spellings:
        with pytest.raises(VerificationError) as info:
            store.signing_certificate(spelling, NOW)
        assert str(info.value) == why
    assert fetch.calls == [CERT_URL]

    clock.now += DEFAULT_FAILURE_TTL - 1
    with pytest.raises(VerificationError):
        store.signing_certificate(CERT_URL, NOW)
    assert len(fetch.calls) == 1

    clock.now += 2  # the failure is forgotten: the next request fetches again
    with pytest.raises(VerificationError):
        store.signing_certificate(CERT_URL, NOW)
    assert len(fetch.calls) == 2


def test_oversized_chain_from_the_fetch_is_remembered(chain: SigningChain) -> None:
    padded = chain.chain_pem + b"\n" * DEFAULT_MAX_CHAIN_BYTES
    fetch = FakeFetch(padded)
    store = CertificateStore([trusted_root()], fetch=fetch)
    for _ in range(3):
        with pytest.raises(VerificationError, match="too large"):
            store.signing_certificate(CERT_URL, NOW)
    assert len(fetch.calls) == 1


def test_a_failure_is_forgotten_once_the_url_validates(chain: SigningChain) -> None:
    fetch = FakeFetch(error=OSError("down"))
    clock = FakeMonotonic()
    store = CertificateStore([trusted_root()], fetch=fetch, monotonic=clock)
    with pytest.raises(VerificationError):
        store.signing_certificate(CERT_URL, NOW)
    fetch.error, fetch.data = None, chain.chain_pem
    clock.now += DEFAULT_FAILURE_TTL + 1
    store.signing_certificate(CERT_URL, NOW)
    assert store.stats() == StoreStats(chains=1, failures=0, loading=0, waiting=0)


def test_remembered_failures_are_bounded() -> None:
    fetch = FakeFetch(error=OSError("down"))
    store = CertificateStore([trusted_root()], fetch=fetch, max_failures=8)
    for n in range(50):
        with pytest.raises(VerificationError):
            store.signing_certificate(f"https://s3.amazonaws.com/echo.api/{n}.pem", NOW)
    assert store.stats().failures == 8
    assert len(fetch.calls) == 50
    with pytest.raises(VerificationError):  # the newest is still remembered
        store.signing_certificate("https://s3.amazonaws.com/echo.api/49.pem", NOW)
    assert len(fetch.calls) == 50


def test_default_failure_memory_is_bounded() -> None:
    fetch = FakeFetch(error=OSError("down"))
    store = CertificateStore([trusted_root()], fetch=fetch)
    for n in range(DEFAULT_MAX_REMEMBERED_FAILURES + 50):
        with pytest.raises(VerificationError):
            store.signing_certificate(f"https://s3.amazonaws.com/echo.api/{n}.pem", NOW)
    assert store.stats().failures == DEFAULT_MAX_REMEMBERED_FAILURES


# --- one fetch in flight per URL ---------------------------------------------------------------


def wait_until(condition: Callable[[], bool], limit: float = 10.0) -> None:
    """Poll ``condition`` until it holds, failing after ``limit`` seconds (a bound, not a check)."""
    give_up = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < give_up, "the condition never held"
        time.sleep(0.005)


@pytest.mark.parametrize("outcome", ["valid", "fetch fails", "untrusted"])
def test_concurrent_misses_wait_for_one_fetch(outcome: str) -> None:
    served = make_chain(now=NOW, untrusted_root=outcome == "untrusted").chain_pem
    release = threading.Event()
    calls: list[str] = []

    def fetch(url: str) -> bytes:
        calls.append(url)
        if not release.wait(10):
            raise AssertionError("the test never released the fetch")
        if outcome == "fetch fails":
            raise OSError("connection reset")
        return served

    store = CertificateStore([trusted_root()], fetch=fetch, timeout=30)
    results: list[object] = [None] * 16

    def ask(index: int) -> None:
        try:
            results[index] = store.signing_certificate(spellings_of(CERT_URL, 16)[index], NOW)
        except VerificationError as exc:
            results[index] = str(exc)

    threads = [threading.Thread(target=ask, args=(index,)) for index in range(16)]
    for thread in threads:
        thread.start()
    wait_until(lambda: store.stats().waiting == 15)  # one fetches, fifteen wait for it
    assert store.stats().loading == 1
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)

    assert calls == [CERT_URL]
    expected = {
        "valid": "CN=echo-api.amazon.com",
        "fetch fails": "could not fetch certificate chain",
        "untrusted": "certificate chain not trusted",
    }[outcome]
    seen = {r.subject.rfc4514_string() if isinstance(r, x509.Certificate) else r for r in results}
    assert seen == {expected}
    assert store.stats().loading == store.stats().waiting == 0


# --- keys Alexa would use ----------------------------------------------------------------------


@pytest.mark.parametrize("bits", [512, 1024, 2047])
def test_leaf_with_a_short_rsa_key_is_rejected(bits: int) -> None:
    weak = make_chain(now=NOW, leaf_key_bits=bits)
    env = envelope()
    body = body_of(env)
    assert reason(verifier_serving(weak), weak.headers(body), body, env) == (
        "certificate key is too short"
    )


def test_leaf_with_a_longer_rsa_key_is_accepted() -> None:
    strong = make_chain(now=NOW, leaf_key_bits=2112)
    env = envelope()
    body = body_of(env)
    verifier_serving(strong).verify(strong.headers(body), body, env)


def test_leaf_whose_key_usage_excludes_signatures_is_rejected() -> None:
    bad = make_chain(now=NOW, key_usage=leaf_key_usage(digital_signature=False))
    env = envelope()
    body = body_of(env)
    assert reason(verifier_serving(bad), bad.headers(body), body, env) == (
        "certificate key usage excludes signatures"
    )


@pytest.mark.parametrize(
    "usage",
    [None, leaf_key_usage(key_encipherment=False)],
    ids=["no-key-usage", "signatures-only"],
)
def test_leaf_key_usage_allowing_signatures_or_absent_is_accepted(
    usage: x509.KeyUsage | None,
) -> None:
    leaf = make_chain(now=NOW, key_usage=usage)
    env = envelope()
    body = body_of(env)
    verifier_serving(leaf).verify(leaf.headers(body), body, env)


def test_weak_key_in_the_cache_dir_is_rejected_too(tmp_path: Path) -> None:
    weak = make_chain(now=NOW, leaf_key_bits=1024)
    (tmp_path / cache_file_name(CERT_URL)).write_bytes(weak.chain_pem)
    store = CertificateStore([trusted_root()], cache_dir=tmp_path, fetch=FakeFetch())
    with pytest.raises(VerificationError, match="too short"):
        store.signing_certificate(CERT_URL, NOW)


# --- configuration -----------------------------------------------------------------------------


def test_from_env(tmp_path: Path, chain: SigningChain) -> None:
    bundle = tmp_path / "roots.pem"
    unparsable = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    bundle.write_bytes(unparsable + chain.root_pem)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / cache_file_name(CERT_URL)).write_bytes(chain.chain_pem)
    verifier = RequestVerifier.from_settings(
        Settings.from_env(
            {
                "ALEXA_TRUST_STORE": str(bundle),
                "ALEXA_CERT_CACHE_DIR": str(cache),
                "YOGA_SKILL_ID": SKILL_ID,
            }
        ),
        fetch=FakeFetch(error=AssertionError("must not fetch")),
        clock=lambda: NOW,
    )
    assert verifier.skill_id == SKILL_ID
    env = envelope()
    body = body_of(env)
    verifier.verify(chain.headers(body), body, env)
    env = envelope(app_id="amzn1.ask.skill.someone-else")
    body = body_of(env)
    assert reason(verifier, chain.headers(body), body, env) == "application id does not match"


def test_trust_store_replaces_the_default_roots(tmp_path: Path) -> None:
    """With ALEXA_TRUST_STORE set, the system roots are not trusted."""
    bundle = tmp_path / "roots.pem"
    bundle.write_bytes(make_chain(now=NOW).root_pem)
    store = CertificateStore(bundle, fetch=FakeFetch(REAL_CHAIN.read_bytes()))
    with pytest.raises(VerificationError, match="not trusted"):
        store.signing_certificate(REAL_CHAIN_URL, datetime(2019, 8, 1, tzinfo=UTC))


def test_trust_store_without_usable_certificates_is_a_config_error(tmp_path: Path) -> None:
    bundle = tmp_path / "roots.pem"
    bundle.write_bytes(b"nothing here")
    with pytest.raises(ValueError, match="no usable certificates"):
        CertificateStore(bundle)


# --- the real chain Alexa served in 2019-2020 --------------------------------------------------


def test_system_bundle_has_the_roots_of_alexas_chain() -> None:
    # Loading the system bundle also proves the serial-number deprecation warnings some public
    # roots trigger are handled: pytest turns warnings into errors here.
    subjects = {
        root.subject.rfc4514_string() for root in load_trust_roots(default_trust_store_path())
    }
    assert "CN=Amazon Root CA 1,O=Amazon,C=US" in subjects
    assert any("Starfield Services Root Certificate Authority - G2" in s for s in subjects)
    assert any("Starfield Class 2 Certification Authority" in s for s in subjects)


@pytest.fixture
def real_chain_verifier(tmp_path: Path) -> RequestVerifier:
    """Default (system) roots; the real chain sits in the cache dir, as a deployment may seed it."""
    (tmp_path / cache_file_name(REAL_CHAIN_URL)).write_bytes(REAL_CHAIN.read_bytes())
    return RequestVerifier(cache_dir=tmp_path, fetch=FakeFetch(error=AssertionError("no fetch")))


def test_real_alexa_chain_validates_in_2019(real_chain_verifier: RequestVerifier) -> None:
    leaf = real_chain_verifier.store.signing_certificate(
        REAL_CHAIN_URL, datetime(2019, 8, 1, tzinfo=UTC)
    )
    assert leaf.subject.rfc4514_string() == "CN=echo-api.amazon.com"


def test_real_alexa_chain_is_expired_today(real_chain_verifier: RequestVerifier) -> None:
    with pytest.raises(VerificationError, match="certificate expired"):
        real_chain_verifier.store.signing_certificate(REAL_CHAIN_URL, datetime.now(UTC))
