"""TLS facts: the presented chain, whether clients trust it (and precisely why not), and
which protocol versions a server accepts.

Verification is OpenSSL's own (the same verdict a Python or curl client reaches),
against certifi plus ``LAUNCHREADY_CA_BUNDLE``. When it fails, a second handshake
that accepts anything captures the chain, so the reason can be explained from the
certificates themselves (which one expired and when, which intermediate is missing).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import ssl
import tempfile
import time
import warnings
from collections.abc import Collection

from .certs import classify, client_context, describe_certificate, inspecting_context, presented_chain
from .config import NetConfig, resolve_config
from .guard import vet_url
from .results import (
    CertProblem,
    ErrorKind,
    NetError,
    ProtocolProbe,
    TlsProtocolSupport,
    TlsResult,
    seconds,
)
from .transport import Connection, Target, TlsFailure, connect, resolve_target

logger = logging.getLogger(__name__)

_ALPN = ("h2", "http/1.1")


async def _prepare(host: str, port: int, config: NetConfig) -> tuple[str, Target] | NetError:
    vetted = vet_url(f"https://{'[' + host + ']' if ':' in host else host}:{port}/", config)
    if isinstance(vetted, NetError):
        return vetted
    target = await resolve_target(vetted.host, config, literal=vetted.address)
    if isinstance(target, NetError):
        return target
    return vetted.host, target


async def tls_handshake(
    host: str, port: int = 443, *, config: NetConfig | None = None, timeout: float | None = None
) -> TlsResult:
    """Handshake with ``host`` as a browser would and report the chain and the verdict."""
    config = resolve_config(config)
    wait = timeout if timeout is not None else config.connect_timeout
    try:
        async with asyncio.timeout(wait * 3):
            return await _tls_handshake(host, port, config, wait)
    except TimeoutError:
        error = NetError(
            ErrorKind.TOTAL_TIMEOUT, f"The TLS check of {host} took longer than {seconds(wait * 3)}."
        )
        return TlsResult(host=host, port=port, error=error, reason_message=error.message)


async def _tls_handshake(host: str, port: int, config: NetConfig, wait: float) -> TlsResult:
    prepared = await _prepare(host, port, config)
    if isinstance(prepared, NetError):
        return TlsResult(host=host, port=port, error=prepared, reason_message=prepared.message)
    name, target = prepared
    context = client_context(config.ca_bundle, alpn=_ALPN)
    verify_code: int | None = None
    try:
        conn = await connect(target, port, config, tls=context, server_hostname=name, connect_timeout=wait)
    except TlsFailure as failure:
        verify_code = failure.verify_code
        # Look again without verifying, at the same address, to see what was presented.
        retry = Target(target.host, (failure.address,), target.dns_ms)
        try:
            conn = await connect(
                retry, port, config, tls=inspecting_context(_ALPN), server_hostname=name, connect_timeout=wait
            )
        except TlsFailure:  # cannot happen with CERT_NONE; keep the layer exception-free anyway
            conn = NetError(ErrorKind.TLS_ERROR, f"The secure connection (TLS) to {name} failed.")
        if isinstance(conn, NetError):
            message = f"The certificate for {name} is not trusted ({failure.verify_message})."
            error = NetError(ErrorKind.TLS_CERTIFICATE, message, failure.verify_message or "")
            return TlsResult(
                host=name, port=port, address=failure.address, error=error, reason_message=message
            )
    if isinstance(conn, NetError):
        return TlsResult(host=name, port=port, error=conn, reason_message=conn.message)
    return _result(name, port, conn, verify_code, config)


def _result(host: str, port: int, conn: Connection, verify_code: int | None, config: NetConfig) -> TlsResult:
    try:
        chain = presented_chain(conn.ssl_object)
        cipher = conn.ssl_object.cipher() if conn.ssl_object else None
        protocol = conn.ssl_object.version() if conn.ssl_object else None
        alpn = conn.ssl_object.selected_alpn_protocol() if conn.ssl_object else None
    finally:
        conn.abort()
    problems, message = classify(host, chain, verify_code, config.ca_bundle)
    trusted = verify_code is None
    if trusted and problems != [CertProblem.OK]:
        # OpenSSL accepted it but our own reading disagrees (should not happen); trust OpenSSL
        # and keep the observation in ``problems``.
        logger.info("TLS verdict differs for %s: OpenSSL ok, classify %s", host, problems)
    error = (
        None
        if trusted
        else NetError(ErrorKind.TLS_CERTIFICATE, message, f"OpenSSL verify code {verify_code}")
    )
    return TlsResult(
        host=host,
        port=port,
        address=conn.address,
        protocol=protocol,
        cipher=cipher[0] if cipher else None,
        cipher_bits=cipher[2] if cipher else None,
        alpn=alpn,
        chain=tuple(describe_certificate(c) for c in chain),
        trusted=trusted,
        reason=CertProblem.OK if trusted else problems[0],
        reason_message=message,
        problems=tuple(p for p in problems if p != CertProblem.OK),
        handshake_ms=conn.tls_ms,
        error=error,
    )


# --- protocol version probes ----------------------------------------------------------

_VERSIONS = {
    "tls1_0": ssl.TLSVersion.TLSv1,
    "tls1_1": ssl.TLSVersion.TLSv1_1,
    "tls1_2": ssl.TLSVersion.TLSv1_2,
    "tls1_3": ssl.TLSVersion.TLSv1_3,
}
_LABELS = {"tls1_0": "TLS 1.0", "tls1_1": "TLS 1.1", "tls1_2": "TLS 1.2", "tls1_3": "TLS 1.3"}


def _version_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if version < ssl.TLSVersion.TLSv1_2:
        # OpenSSL 3 refuses old protocols at the default security level; lower it for the probe only.
        context.set_ciphers("ALL:@SECLEVEL=0")
    _pin_version(context, version)
    return context


def _pin_version(context: ssl.SSLContext, version: ssl.TLSVersion) -> None:
    with warnings.catch_warnings():
        # Python flags TLS 1.0/1.1 as deprecated; offering them is the point of the probe.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = version
        context.maximum_version = version


@functools.lru_cache(maxsize=8)
def local_support(key: str) -> str | None:
    """None when this machine's OpenSSL can really speak ``key``; otherwise the reason it cannot.

    Checked by a handshake in memory between two local contexts restricted to that
    version, so a build or a system policy (security level, disabled protocols) that
    silently drops the old versions is caught.
    """
    version = _VERSIONS[key]
    label = _LABELS[key]
    flag = {"tls1_0": "HAS_TLSv1", "tls1_1": "HAS_TLSv1_1", "tls1_2": "HAS_TLSv1_2", "tls1_3": "HAS_TLSv1_3"}[
        key
    ]
    if not getattr(ssl, flag, False):
        return f"this machine's OpenSSL ({ssl.OPENSSL_VERSION}) was built without {label}"
    try:
        client = _version_context(version)
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if version < ssl.TLSVersion.TLSv1_2:
            server.set_ciphers("ALL:@SECLEVEL=0")
        _pin_version(server, version)
        cert, key_file = _self_test_certificate()
        server.load_cert_chain(cert, key_file)
        if _memory_handshake(client, server) != version.name.replace("_", ".").replace("TLSv1.0", "TLSv1"):
            return f"this machine's OpenSSL ({ssl.OPENSSL_VERSION}) did not negotiate {label} with itself"
    except (ssl.SSLError, ValueError, OSError) as exc:
        return f"this machine's OpenSSL ({ssl.OPENSSL_VERSION}) cannot offer {label} ({exc})"
    return None


def _memory_handshake(client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext) -> str | None:
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(20):
        for side, obj in (("client", client), ("server", server)):
            if not done[side]:
                try:
                    obj.do_handshake()
                    done[side] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            return client.version()
    return None


@functools.lru_cache(maxsize=1)
def _self_test_certificate() -> tuple[str, str]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    # RSA, because TLS 1.0/1.1 cipher suites need it for a fair self-test.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "launchready-self-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    folder = tempfile.mkdtemp(prefix="launchready-tls-selftest-")
    cert_path, key_path = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return cert_path, key_path


_REFUSAL_MARKERS = (
    "protocol version",
    "unsupported protocol",
    "handshake failure",
    "no shared cipher",
    "wrong version number",
    "insufficient security",
    "inappropriate fallback",
    "no ciphers available",
    "illegal parameter",
)


async def _probe(
    key: str, name: str, target: Target, port: int, config: NetConfig, wait: float
) -> ProtocolProbe:
    label = _LABELS[key]
    reason = local_support(key)
    if reason is not None:
        return ProtocolProbe(None, f"Could not test {label}: {reason}.")
    context = _version_context(_VERSIONS[key])
    try:
        conn = await connect(target, port, config, tls=context, server_hostname=name, connect_timeout=wait)
    except TlsFailure:  # not raised with CERT_NONE
        return ProtocolProbe(True, f"{name} accepts {label}.")
    if isinstance(conn, Connection):
        negotiated = conn.ssl_object.version() if conn.ssl_object else None
        conn.abort()
        return ProtocolProbe(True, f"{name} accepts {label} (negotiated {negotiated}).")
    detail = conn.detail.lower().replace("_", " ")
    if conn.kind == ErrorKind.TLS_ERROR and any(marker in detail for marker in _REFUSAL_MARKERS):
        return ProtocolProbe(False, f"{name} refuses {label}.")
    if conn.kind == ErrorKind.TLS_ERROR and ("eof" in detail or "reset" in detail or "closed" in detail):
        # Many servers just hang up on a version they do not speak.
        return ProtocolProbe(False, f"{name} closes the connection when offered only {label}.")
    return ProtocolProbe(None, f"Could not test {label}: {conn.message}")


async def tls_protocol_support(
    host: str,
    port: int = 443,
    *,
    config: NetConfig | None = None,
    timeout: float | None = None,
    versions: Collection[str] | None = None,
) -> TlsProtocolSupport:
    """Which of TLS 1.0, 1.1, 1.2 and 1.3 ``host`` accepts; None (inconclusive) when we cannot tell.

    ``versions`` (keys such as ``"tls1_0"``): only these are tried, one handshake each; the
    others are reported as not tested (None). Default: all four."""
    asked = tuple(_VERSIONS) if versions is None else tuple(versions)
    unknown_keys = [key for key in asked if key not in _VERSIONS]
    if unknown_keys:
        raise ValueError(f"unknown TLS versions: {', '.join(unknown_keys)}")
    config = resolve_config(config)
    wait = timeout if timeout is not None else config.connect_timeout
    started = time.perf_counter()
    prepared = await _prepare(host, port, config)
    if isinstance(prepared, NetError):
        unknown = ProtocolProbe(None, prepared.message)
        return TlsProtocolSupport(host, port, unknown, unknown, unknown, unknown)
    name, target = prepared
    tried = await asyncio.gather(*(_probe(key, name, target, port, config, wait) for key in asked))
    found = dict(zip(asked, tried, strict=True))
    probes = [found.get(key) or ProtocolProbe(None, f"{_LABELS[key]} was not tested.") for key in _VERSIONS]
    logger.debug("TLS protocol probes for %s took %.0f ms", name, (time.perf_counter() - started) * 1000)
    return TlsProtocolSupport(name, port, *probes)


async def explain_certificate_failure(
    name: str, failure: TlsFailure, port: int, config: NetConfig, wait: float
) -> NetError:
    """Turn OpenSSL's refusal into the precise sentence, by looking at the chain once more."""
    retry = Target(name, (failure.address,), None)
    try:
        conn = await connect(
            retry,
            port,
            config,
            tls=inspecting_context(("http/1.1",)),
            server_hostname=name,
            connect_timeout=wait,
        )
    except TlsFailure:
        conn = NetError(ErrorKind.TLS_ERROR, "")
    detail = f"OpenSSL: {failure.verify_message} (code {failure.verify_code})"
    if isinstance(conn, NetError):
        return NetError(
            ErrorKind.TLS_CERTIFICATE,
            f"The certificate for {name} is not trusted ({failure.verify_message}).",
            detail,
        )
    try:
        chain = presented_chain(conn.ssl_object)
    finally:
        conn.abort()
    problems, message = classify(name, chain, failure.verify_code, config.ca_bundle)
    return NetError(ErrorKind.TLS_CERTIFICATE, message, f"{problems[0].value}; {detail}")
