"""Certificates: parsing with cryptography, trust stores, and why a chain is not trusted."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import logging
import os
import ssl
import warnings
from _ssl import ENCODING_DER as _ENCODING_DER  # for Certificate.public_bytes (private API before 3.13)

import certifi
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from .results import CertificateInfo, CertProblem, human_date

logger = logging.getLogger(__name__)

_DER = Encoding.DER


def _bundle_key(ca_bundle: str) -> tuple[str, float]:
    try:
        return ca_bundle, os.path.getmtime(ca_bundle) if ca_bundle else 0.0
    except OSError:
        return ca_bundle, 0.0


def client_context(ca_bundle: str, *, alpn: tuple[str, ...] = ("http/1.1",)) -> ssl.SSLContext:
    """A verifying client context (certifi + ``ca_bundle``), cached: loading roots costs ~10 ms."""
    return _client_context(*_bundle_key(ca_bundle), alpn)


@functools.lru_cache(maxsize=16)
def _client_context(ca_bundle: str, _mtime: float, alpn: tuple[str, ...]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            logger.warning("Could not load LAUNCHREADY_CA_BUNDLE %s: %s", ca_bundle, exc)
    context.set_alpn_protocols(list(alpn))
    return context


@functools.lru_cache(maxsize=4)
def inspecting_context(alpn: tuple[str, ...] = ("h2", "http/1.1")) -> ssl.SSLContext:
    """A context that accepts any certificate, only to look at what a server presents."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(list(alpn))
    return context


def known_ca_subjects(ca_bundle: str) -> frozenset[bytes]:
    return _known_ca_subjects(*_bundle_key(ca_bundle))


@functools.lru_cache(maxsize=4)
def _known_ca_subjects(ca_bundle: str, _mtime: float) -> frozenset[bytes]:
    """DER subjects of every CA we trust (certifi and the extra bundle)."""
    subjects: set[bytes] = set()
    for path in (certifi.where(), ca_bundle):
        if not path:
            continue
        try:
            with open(path, "rb") as handle, warnings.catch_warnings():
                # certifi carries a few old roots with non-positive serials; we only read names.
                warnings.simplefilter("ignore")
                for cert in x509.load_pem_x509_certificates(handle.read()):
                    subjects.add(cert.subject.public_bytes())
        except (OSError, ValueError) as exc:
            logger.warning("Could not read CA file %s: %s", path, exc)
    return frozenset(subjects)


def presented_chain(ssl_object: ssl.SSLObject | None) -> list[x509.Certificate]:
    """The certificates the server sent, leaf first (``get_unverified_chain`` is public from 3.13)."""
    if ssl_object is None:
        return []
    inner = getattr(ssl_object, "_sslobj", ssl_object)
    getter = getattr(ssl_object, "get_unverified_chain", None) or getattr(inner, "get_unverified_chain", None)
    ders: list[bytes] = []
    if getter is not None:
        for item in getter() or []:
            ders.append(item if isinstance(item, bytes) else item.public_bytes(_ENCODING_DER))
    if not ders:
        leaf = ssl_object.getpeercert(binary_form=True)
        ders = [leaf] if leaf else []
    chain = []
    for der in ders:
        try:
            chain.append(x509.load_der_x509_certificate(der))
        except ValueError as exc:
            logger.info("Unparseable certificate in chain: %s", exc)
    return chain


def _name_attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def describe_certificate(cert: x509.Certificate) -> CertificateInfo:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key_type, bits = "RSA", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_type, bits = "EC", key.curve.key_size
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key_type, bits = "Ed25519", 256
    elif isinstance(key, ed448.Ed448PublicKey):
        key_type, bits = "Ed448", 456
    elif isinstance(key, dsa.DSAPublicKey):
        key_type, bits = "DSA", key.key_size
    else:
        key_type, bits = type(key).__name__, None
    sans: list[str] = []
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = [
            *ext.get_values_for_type(x509.DNSName),
            *(str(ip) for ip in ext.get_values_for_type(x509.IPAddress)),
        ]
    except (x509.ExtensionNotFound, ValueError):
        pass
    is_ca = False
    try:
        is_ca = bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        pass
    ca_issuers: list[str] = []
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        ca_issuers = [
            d.access_location.value
            for d in aia
            if d.access_method == x509.oid.AuthorityInformationAccessOID.CA_ISSUERS
            and isinstance(d.access_location, x509.UniformResourceIdentifier)
        ]
    except (x509.ExtensionNotFound, ValueError):
        pass
    try:
        signature = cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else None
    except Exception:  # unsupported algorithm: informative only
        signature = None
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        common_name=_name_attr(cert.subject, NameOID.COMMON_NAME),
        sans=tuple(sans),
        issuer=cert.issuer.rfc4514_string(),
        issuer_common_name=_name_attr(cert.issuer, NameOID.COMMON_NAME),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=key_type,
        key_bits=bits,
        serial=format(cert.serial_number, "x"),
        sha256_fingerprint=hashlib.sha256(cert.public_bytes(_DER)).hexdigest(),
        signature_algorithm=signature,
        is_ca=is_ca,
        self_issued=cert.subject == cert.issuer,
        ca_issuers_urls=tuple(ca_issuers),
    )


def hostname_matches(host: str, sans: tuple[str, ...]) -> bool:
    """RFC 6125 matching: exact names, or a wildcard in the left-most label only."""
    host = host.lower().rstrip(".")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    for san in sans:
        if ip is not None:
            try:
                if ipaddress.ip_address(san) == ip:
                    return True
            except ValueError:
                continue
            continue
        pattern = san.lower().rstrip(".")
        if pattern == host:
            return True
        if pattern.startswith("*.") and "." in host:
            if host.split(".", 1)[1] == pattern[2:] and host.split(".", 1)[0]:
                return True
    return False


# OpenSSL X509_V_ERR_* codes we explain precisely.
_VERIFY_CODES = {
    9: CertProblem.NOT_YET_VALID,
    10: CertProblem.EXPIRED,
    18: CertProblem.SELF_SIGNED,
    19: CertProblem.UNTRUSTED_ROOT,
    62: CertProblem.HOSTNAME_MISMATCH,
    64: CertProblem.HOSTNAME_MISMATCH,  # IP address mismatch
    66: CertProblem.WEAK_KEY,  # EE_KEY_TOO_SMALL
    67: CertProblem.WEAK_KEY,  # CA_KEY_TOO_SMALL
    68: CertProblem.WEAK_KEY,  # CA_MD_TOO_WEAK
}
_ISSUER_CODES = {2, 20, 21}  # issuer certificate not found / leaf signature unverifiable


def classify(
    host: str,
    chain: list[x509.Certificate],
    verify_code: int | None,
    ca_bundle: str,
    now: dt.datetime | None = None,
) -> tuple[list[CertProblem], str]:
    """Every problem with the presented chain (most important first) and the sentence for the first.

    ``verify_code`` is OpenSSL's verdict (None when verification passed); the chain
    itself explains it: which certificate expired and when, which intermediate is
    missing, whether the chain ends at an untrusted root.
    """
    now = now or dt.datetime.now(dt.UTC)
    problems: list[CertProblem] = []
    if not chain:
        return [CertProblem.UNKNOWN], f"The server at {host} presented no certificate."
    leaf = chain[0]
    leaf_info = describe_certificate(leaf)
    if verify_code in _VERIFY_CODES:
        problems.append(_VERIFY_CODES[verify_code])
    elif verify_code in _ISSUER_CODES:
        problems.append(_issuer_problem(chain, ca_bundle))
    elif verify_code is not None:
        problems.append(CertProblem.INVALID)
    # Independent checks, so a certificate that is both expired and for the wrong host says both.
    if leaf.not_valid_after_utc < now:
        problems.append(CertProblem.EXPIRED)
    if leaf.not_valid_before_utc > now:
        problems.append(CertProblem.NOT_YET_VALID)
    if not hostname_matches(host, leaf_info.sans):
        problems.append(CertProblem.HOSTNAME_MISMATCH)
    if leaf_info.self_issued and len(chain) == 1 and verify_code is not None:
        problems.append(CertProblem.SELF_SIGNED)
    ordered = list(dict.fromkeys(problems))
    if not ordered:
        return [
            CertProblem.OK
        ], f"The certificate for {host} is valid until {human_date(leaf_info.not_after)}."
    return ordered, explain(ordered[0], host, chain, now)


def _chain_top(chain: list[x509.Certificate]) -> x509.Certificate:
    """The last certificate reached by following issuers through what the server sent."""
    top = chain[0]
    remaining = list(chain[1:])
    while True:
        parent = next((c for c in remaining if c.subject == top.issuer and c is not top), None)
        if parent is None:
            return top
        remaining.remove(parent)
        top = parent


def _issuer_problem(chain: list[x509.Certificate], ca_bundle: str) -> CertProblem:
    """Missing intermediate or unknown CA? Follow the presented chain to its top."""
    top = _chain_top(chain)
    if top.subject == top.issuer:
        return CertProblem.UNTRUSTED_ROOT if top is not chain[0] else CertProblem.SELF_SIGNED
    if top.issuer.public_bytes() in known_ca_subjects(ca_bundle):
        # The issuer is a CA we know, yet OpenSSL could not reach it: a link is missing.
        return CertProblem.INCOMPLETE_CHAIN
    if top is chain[0] or describe_certificate(top).ca_issuers_urls:
        # A leaf sent alone (public CAs never sign leaves from a root), or a certificate
        # naming where its issuer can be fetched: the server forgot the intermediate.
        return CertProblem.INCOMPLETE_CHAIN
    return CertProblem.UNKNOWN_ISSUER


def explain(problem: CertProblem, host: str, chain: list[x509.Certificate], now: dt.datetime) -> str:
    leaf = chain[0]
    issuer = _name_attr(leaf.issuer, NameOID.COMMON_NAME) or leaf.issuer.rfc4514_string()
    if problem == CertProblem.EXPIRED:
        expired = next((c for c in chain if c.not_valid_after_utc < now), leaf)
        if expired is leaf:
            return f"The certificate for {host} expired on {human_date(leaf.not_valid_after_utc)}."
        name = _name_attr(expired.subject, NameOID.COMMON_NAME) or "an intermediate"
        return (
            f"The intermediate certificate {name} sent by {host} expired on "
            f"{human_date(expired.not_valid_after_utc)}."
        )
    if problem == CertProblem.NOT_YET_VALID:
        return f"The certificate for {host} is not valid until {human_date(leaf.not_valid_before_utc)}."
    if problem == CertProblem.HOSTNAME_MISMATCH:
        names = describe_certificate(leaf).sans or (_name_attr(leaf.subject, NameOID.COMMON_NAME) or "?",)
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        return f"The certificate presented by {host} is for {shown}, not for {host}."
    if problem == CertProblem.WEAK_KEY:
        info = describe_certificate(leaf)
        return (
            f"The certificate for {host} uses a {info.key_bits}-bit {info.key_type} key (or a weak signature), "
            "which browsers reject as too weak."
        )
    if problem == CertProblem.SELF_SIGNED:
        return f"The certificate for {host} is self-signed, so browsers do not trust it."
    if problem == CertProblem.UNTRUSTED_ROOT:
        root = _name_attr(_chain_top(chain).subject, NameOID.COMMON_NAME) or "a private root"
        return f"The certificate for {host} chains to {root}, a root certificate that browsers do not trust."
    if problem == CertProblem.INCOMPLETE_CHAIN:
        return (
            f"The server for {host} does not send the intermediate certificate from {issuer}; "
            "some browsers, phones and API clients will reject the connection."
        )
    if problem == CertProblem.UNKNOWN_ISSUER:
        top = _chain_top(chain)
        authority = _name_attr(top.issuer, NameOID.COMMON_NAME) or top.issuer.rfc4514_string()
        return f"The certificate for {host} chains up to {authority}, a certificate authority browsers do not trust."
    return f"The certificate for {host} is not valid."
