"""Test PKI for the sandbox: a root CA, an intermediate and leaf certificate profiles.

The CA pair is generated once and cached on disk (in one file, replaced atomically, so
parallel test workers never mix a root with another worker's intermediate). Leaf keys
are cached per key type; leaf certificates are issued fresh at every start because
their validity windows are relative to "now".
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

logger = logging.getLogger(__name__)

PROFILES = (
    "valid",
    "expired",
    "not_yet_valid",
    "expiring",
    "wrong_host",
    "self_signed",
    "missing_intermediate",
    "weak_key",
)
KEY_TYPES = ("ec256", "ec384", "rsa1024", "rsa2048")
CA_CACHE_VERSION = "v1"


def cache_dir() -> Path:
    """Where generated keys are kept between runs (not secret: test-only material)."""
    base = os.environ.get("LAUNCHREADY_SANDBOX_CACHE")
    if base:
        path = Path(base)
    else:
        path = Path(tempfile.gettempdir()) / f"launchready-sandbox-pki-{os.getuid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _generate_key(key_type: str):
    if key_type == "ec256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    if key_type == "rsa1024":
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the weak_key profile)
    if key_type == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unknown key type {key_type!r}; expected one of {KEY_TYPES}")


@functools.cache
def cached_key(key_type: str):
    """A private key of that type, generated once and reused (RSA generation is slow).

    Kept in memory too: loading an RSA key checks it, which costs milliseconds per host.
    """
    path = cache_dir() / f"leaf-{key_type}.key.pem"
    if path.exists():
        try:
            return serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError:
            logger.warning("Regenerating unreadable cached key %s", path)
    key = _generate_key(key_type)
    _atomic_write(path, _pem_key(key))
    return key


def _name(common_name: str, org: str = "Launch Ready Sandbox") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_cert(subject, issuer, public_key, signing_key, not_before, not_after, path_length):
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    return builder.sign(signing_key, hashes.SHA256())


@dataclass
class CertificateAuthority:
    """The sandbox root and intermediate (both EC P-256)."""

    root_key: object
    root_cert: x509.Certificate
    intermediate_key: object
    intermediate_cert: x509.Certificate

    @property
    def root_pem(self) -> bytes:
        return _pem_cert(self.root_cert)

    @property
    def intermediate_pem(self) -> bytes:
        return _pem_cert(self.intermediate_cert)

    @classmethod
    def generate(cls) -> CertificateAuthority:
        now = _now()
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name("Launch Ready Sandbox Root CA")
        root_cert = _ca_cert(
            root_name,
            root_name,
            root_key.public_key(),
            root_key,
            now - dt.timedelta(days=1),
            now + dt.timedelta(days=3650),
            path_length=1,
        )
        inter_key = ec.generate_private_key(ec.SECP256R1())
        inter_cert = _ca_cert(
            _name("Launch Ready Sandbox Intermediate CA"),
            root_name,
            inter_key.public_key(),
            root_key,
            now - dt.timedelta(days=1),
            now + dt.timedelta(days=1825),
            path_length=0,
        )
        return cls(root_key, root_cert, inter_key, inter_cert)

    @classmethod
    def load_or_create(cls) -> CertificateAuthority:
        path = cache_dir() / f"ca-{CA_CACHE_VERSION}.pem"
        if path.exists():
            try:
                return cls._from_bundle(path.read_bytes())
            except (ValueError, IndexError):
                logger.warning("Regenerating unreadable sandbox CA cache %s", path)
        ca = cls.generate()
        bundle = _pem_key(ca.root_key) + ca.root_pem + _pem_key(ca.intermediate_key) + ca.intermediate_pem
        _atomic_write(path, bundle)
        return ca

    @classmethod
    def _from_bundle(cls, data: bytes) -> CertificateAuthority:
        blocks = [b"-----BEGIN" + part for part in data.split(b"-----BEGIN")[1:]]
        root_key = serialization.load_pem_private_key(blocks[0], password=None)
        root_cert = x509.load_pem_x509_certificate(blocks[1])
        inter_key = serialization.load_pem_private_key(blocks[2], password=None)
        inter_cert = x509.load_pem_x509_certificate(blocks[3])
        if root_cert.not_valid_after_utc < _now() + dt.timedelta(days=30):
            raise ValueError("cached CA about to expire")
        return cls(root_key, root_cert, inter_key, inter_cert)


@dataclass
class CertSpec:
    """What a host asks for: a profile plus its parameters."""

    profile: str = "valid"
    days: int = 5  # for "expiring": days until notAfter
    names: list[str] = field(default_factory=list)  # SANs; defaults to the host name (+ extra SANs)
    key: str = ""  # key type; defaults to ec256 (rsa1024 for weak_key)


@dataclass
class IssuedCert:
    cert: x509.Certificate
    key: object
    chain_pem: bytes  # what the server sends: leaf (+ intermediate)
    key_pem: bytes


def issue(ca: CertificateAuthority, host: str, spec: CertSpec) -> IssuedCert:
    """Issue a leaf certificate for ``host`` following ``spec.profile``."""
    if spec.profile not in PROFILES:
        raise ValueError(f"unknown certificate profile {spec.profile!r}; expected one of {PROFILES}")
    now = _now()
    key_type = spec.key or ("rsa1024" if spec.profile == "weak_key" else "ec256")
    key = cached_key(key_type)
    names = list(spec.names) or [host]
    if spec.profile == "wrong_host" and not spec.names:
        names = ["wrong-host.sandbox.test"]
    not_before, not_after = now - dt.timedelta(days=30), now + dt.timedelta(days=60)
    if spec.profile == "expired":
        not_before, not_after = now - dt.timedelta(days=120), now - dt.timedelta(days=3)
    elif spec.profile == "not_yet_valid":
        not_before, not_after = now + dt.timedelta(days=5), now + dt.timedelta(days=95)
    elif spec.profile == "expiring":
        not_before, not_after = now - dt.timedelta(days=60), now + dt.timedelta(days=spec.days)

    subject = _name(names[0], org="Sandbox Hosting")
    self_signed = spec.profile == "self_signed"
    issuer = subject if self_signed else ca.intermediate_cert.subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if not self_signed:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.intermediate_key.public_key()),
            critical=False,
        )
    signing_key = key if self_signed else ca.intermediate_key
    cert = builder.sign(signing_key, hashes.SHA256())
    chain = _pem_cert(cert)
    if not self_signed and spec.profile != "missing_intermediate":
        chain += ca.intermediate_pem
    return IssuedCert(cert=cert, key=key, chain_pem=chain, key_pem=_pem_key(key))
