"""Throwaway certificate authorities that look like Alexa's request-signing chain.

``make_chain()`` gives a root, an intermediate and a leaf for echo-api.amazon.com with their keys,
the chain PEM Alexa would serve (leaf first) and ``sign()`` for the Signature-256 header. Trust
``trusted_root()`` (or ``chain.root_cert``) in the verifier under test. Keys are RSA 2048 (the
smallest ``cryptography``'s verifier accepts for a CA) and are generated once per test session;
``make_chain(leaf_key_bits=1024, key_usage=...)`` makes the leaf Alexa would never use.

    chain = make_chain()
    verifier = RequestVerifier(trust_store=[trusted_root()], fetch=lambda url: chain.chain_pem)
    headers = chain.headers(body)
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ALEXA_DOMAIN = "echo-api.amazon.com"
CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"

_TRUSTED_ROOT_NAME = "Yoga Test Root CA"
_UNTRUSTED_ROOT_NAME = "Yoga Untrusted Root CA"


@functools.cache
def rsa_key(name: str, key_size: int = 2048) -> rsa.RSAPrivateKey:
    """One RSA key per name and size for the whole session (generating keys is the slow part).

    ``cryptography`` generates no key under 1024 bits; a smaller one is built from primes here.
    """
    if key_size >= 1024:
        return rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    return _small_rsa_key(key_size)


def _small_rsa_key(key_size: int) -> rsa.RSAPrivateKey:
    e = 65537
    p = _prime(key_size // 2, e)
    q = _prime(key_size - key_size // 2, e)
    while q == p:
        q = _prime(key_size - key_size // 2, e)
    d = pow(e, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(e, p * q)
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), rsa.rsa_crt_iqmp(p, q), public
    )
    return numbers.private_key()


def _prime(bits: int, e: int) -> int:
    """A random prime of exactly ``bits`` bits (top two bits set) with ``p - 1`` prime to ``e``."""
    while True:
        candidate = secrets.randbits(bits) | (0b11 << (bits - 2)) | 1
        if (candidate - 1) % e and _probably_prime(candidate):
            return candidate


def _probably_prime(n: int, rounds: int = 40) -> bool:
    """Miller-Rabin."""
    for small in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % small == 0:
            return n == small
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "post-run-yoga tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_cert(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: str,
    issuer_key: rsa.RSAPrivateKey,
    *,
    path_length: int | None,
) -> x509.Certificate:
    start = datetime(2000, 1, 1, tzinfo=UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * 100))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer_key is not key:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


@functools.cache
def _root(common_name: str) -> x509.Certificate:
    key = rsa_key(common_name)
    return _ca_cert(common_name, key, common_name, key, path_length=None)


@functools.cache
def _intermediate(root_name: str) -> x509.Certificate:
    name = f"{root_name} Intermediate"
    return _ca_cert(name, rsa_key(name), root_name, rsa_key(root_name), path_length=0)


def trusted_root() -> x509.Certificate:
    """The root that tests trust; the same certificate for the whole session."""
    return _root(_TRUSTED_ROOT_NAME)


def leaf_key_usage(
    *, digital_signature: bool = True, key_encipherment: bool = True
) -> x509.KeyUsage:
    """A leaf's KeyUsage; Alexa's own says digitalSignature and keyEncipherment."""
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


ALEXA_KEY_USAGE = leaf_key_usage()


@dataclass(frozen=True)
class SigningChain:
    """A root, an intermediate and a leaf, with their keys."""

    root_cert: x509.Certificate
    root_key: rsa.RSAPrivateKey
    intermediate_cert: x509.Certificate
    intermediate_key: rsa.RSAPrivateKey
    leaf_cert: x509.Certificate
    leaf_key: rsa.RSAPrivateKey

    @property
    def chain_pem(self) -> bytes:
        """Leaf then intermediate, as served at the SignatureCertChainUrl."""
        return b"".join(
            cert.public_bytes(serialization.Encoding.PEM)
            for cert in (self.leaf_cert, self.intermediate_cert)
        )

    @property
    def root_pem(self) -> bytes:
        return self.root_cert.public_bytes(serialization.Encoding.PEM)

    def sign(self, body: bytes) -> str:
        """The Signature-256 header value for ``body``: base64 RSA PKCS1v15 SHA-256."""
        signature = self.leaf_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")

    def headers(self, body: bytes, cert_url: str = CERT_URL) -> dict[str, str]:
        """The two headers Alexa sends with ``body``."""
        return {"SignatureCertChainUrl": cert_url, "Signature-256": self.sign(body)}


def make_chain(
    *,
    now: datetime | None = None,
    expired: bool = False,
    with_san: bool = True,
    dns_names: tuple[str, ...] = (ALEXA_DOMAIN,),
    untrusted_root: bool = False,
    leaf_key_bits: int = 2048,
    key_usage: x509.KeyUsage | None = ALEXA_KEY_USAGE,
) -> SigningChain:
    """A chain whose leaf is valid around ``now`` (default: the real now).

    ``expired``: the leaf ended a day before ``now``. ``with_san=False``: no SAN at all (the
    subject CN still says echo-api.amazon.com). ``dns_names``: the SAN's names.
    ``untrusted_root``: the chain leads to a root other than ``trusted_root()``.
    ``leaf_key_bits``: the size of the leaf's RSA key (``sign()`` signs with it).
    ``key_usage``: the leaf's KeyUsage extension (critical), ``None`` for none at all.
    """
    now = now or datetime.now(UTC)
    root_name = _UNTRUSTED_ROOT_NAME if untrusted_root else _TRUSTED_ROOT_NAME
    root_cert = _root(root_name)
    intermediate_cert = _intermediate(root_name)
    intermediate_key = rsa_key(f"{root_name} Intermediate")
    leaf_key = rsa_key("leaf", leaf_key_bits)
    if expired:
        not_before, not_after = now - timedelta(days=30), now - timedelta(days=1)
    else:
        not_before, not_after = now - timedelta(days=1), now + timedelta(days=30)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ALEXA_DOMAIN)]))
        .issuer_name(intermediate_cert.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(intermediate_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
    )
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    if with_san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]),
            critical=False,
        )
    leaf_cert = builder.sign(intermediate_key, hashes.SHA256())
    return SigningChain(
        root_cert=root_cert,
        root_key=rsa_key(root_name),
        intermediate_cert=intermediate_cert,
        intermediate_key=intermediate_key,
        leaf_cert=leaf_cert,
        leaf_key=leaf_key,
    )


def tls_server_files(directory: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A TLS server certificate for ``host`` and 127.0.0.1 from the trusted test CA, for loopback
    HTTPS servers: the chain (leaf, intermediate) and key PEM files written in ``directory``.
    A client trusts it with ``ssl.create_default_context(cadata=trusted_root_pem())``."""
    intermediate_name = f"{_TRUSTED_ROOT_NAME} Intermediate"
    intermediate_cert = _intermediate(_TRUSTED_ROOT_NAME)
    key = rsa_key("tls-server")
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(intermediate_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(rsa_key(intermediate_name), hashes.SHA256())
    )
    chain_file, key_file = directory / "tls-chain.pem", directory / "tls-key.pem"
    chain_file.write_bytes(
        b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (cert, intermediate_cert))
    )
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return chain_file, key_file


def trusted_root_pem() -> str:
    return trusted_root().public_bytes(serialization.Encoding.PEM).decode("ascii")
