"""Tests for skill.web.verification: every check Alexa requires of a web-service skill.

Only the network boundary (Amazon's certificate host) is faked: chains are real X.509 chains
from throwaway CAs (tests/certs.py), signatures are real RSA signatures, and one test uses the
chain Alexa really served in 2019-2020 against this machine's CA bundle.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from certs import CERT_URL, SigningChain, make_chain, rsa_key, trusted_root
from conftest import FIXTURES
from cryptography.hazmat.primitives import serialization

from skill.settings import Settings
from skill.web.verification import (
    DEFAULT_MAX_CHAIN_BYTES,
    CertificateStore,
    RequestVerifier,
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


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/big":
            body = b"x" * (DEFAULT_MAX_CHAIN_BYTES + 1)
            self.send_response(200)
        else:
            body = b"not found"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    """A loopback HTTP server, to exercise the real urllib fetch without leaving the machine."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_fetch_url_enforces_the_size_cap(local_server: str) -> None:
    with pytest.raises(VerificationError, match="too large"):
        fetch_url(local_server + "/big", timeout=5)
    assert len(fetch_url(local_server + "/big", max_bytes=DEFAULT_MAX_CHAIN_BYTES + 1)) > 0


def test_fetch_url_failure_is_a_verification_error(local_server: str) -> None:
    with pytest.raises(VerificationError, match="could not fetch"):
        fetch_url(local_server + "/missing", timeout=5)


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
