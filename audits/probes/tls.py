"""Probes of the ``tls`` checks: one handshake and the protocol versions of each host.

The handshake offers every version a browser does, so the version it settles on tells
whether the host speaks TLS 1.3; only TLS 1.0 and 1.1 need handshakes of their own
(three per host instead of five: most of the TLS stage's CPU is handshakes)."""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from dataclasses import replace

from audits.facts import CertInfo, TlsFacts, Unavailable, VerifyError
from launchready import net

from .base import ProbeRun

_CERT_PROBLEM_TO_VERIFY = {
    net.CertProblem.EXPIRED: VerifyError.EXPIRED,
    net.CertProblem.NOT_YET_VALID: VerifyError.NOT_YET_VALID,
    net.CertProblem.HOSTNAME_MISMATCH: VerifyError.HOSTNAME_MISMATCH,
    net.CertProblem.SELF_SIGNED: VerifyError.SELF_SIGNED,
    net.CertProblem.UNTRUSTED_ROOT: VerifyError.UNTRUSTED,
    net.CertProblem.UNKNOWN_ISSUER: VerifyError.UNTRUSTED,
    net.CertProblem.INCOMPLETE_CHAIN: VerifyError.INCOMPLETE_CHAIN,
    net.CertProblem.INVALID: VerifyError.UNTRUSTED,
}


async def probe_tls(
    run: ProbeRun, hosts: list[str], limit: asyncio.Semaphore | None = None
) -> list[TlsFacts]:
    """The handshakes of every host; each host's hold ``limit`` (when given) while they run."""
    return list(await asyncio.gather(*(tls_host(run, h, limit) for h in hosts)))


async def tls_host(run: ProbeRun, host: str, limit: asyncio.Semaphore | None = None) -> TlsFacts:
    async with limit if limit is not None else nullcontext():
        with run.clock(), run.turns.request(host):  # the handshakes load the host too
            handshake, protocols = await asyncio.gather(
                net.tls_handshake(host, config=run.config),
                net.tls_protocol_support(host, config=run.config, versions=OLD_VERSIONS),
            )
            tls13 = tls13_from_handshake(handshake)
            if tls13 is None:  # no handshake to read it from: try TLS 1.3 on its own
                only13 = await net.tls_protocol_support(host, config=run.config, versions=("tls1_3",))
                tls13 = only13.tls1_3
    return tls_fact(host, handshake, replace(protocols, tls1_3=tls13))


OLD_VERSIONS = ("tls1_0", "tls1_1")


def tls13_from_handshake(handshake: net.TlsResult) -> net.ProtocolProbe | None:
    """Whether the host accepts TLS 1.3, read from a handshake that offered it (as every
    browser does): a server that speaks 1.3 chooses it. None when no version was agreed."""
    if not handshake.protocol:
        return None
    if handshake.protocol == "TLSv1.3":
        return net.ProtocolProbe(True, f"{handshake.host} accepts TLS 1.3 (chosen in the handshake).")
    return net.ProtocolProbe(False, f"{handshake.host} refuses TLS 1.3 (chose {handshake.protocol}).")


# --- conversions from the network layer's results to facts (pure) ---------------------


def cert_fact(cert: net.CertificateInfo) -> CertInfo:
    return CertInfo(
        subject=cert.common_name or cert.subject,
        sans=list(cert.sans),
        issuer=cert.issuer_common_name or cert.issuer,
        not_before=cert.not_before,
        not_after=cert.not_after,
        key_type=cert.key_type,
        key_bits=cert.key_bits,
        self_signed=cert.self_issued,
    )


def tls_fact(host: str, handshake: net.TlsResult, protocols: net.TlsProtocolSupport) -> TlsFacts:
    if handshake.error and handshake.error.kind == net.ErrorKind.BLOCKED:
        # The SSRF guard kept us from connecting (a private address…): nothing was tried,
        # so nothing failed. dns.private_address reports such a host.
        return TlsFacts(host=host, handshake_ok=False, unavailable=Unavailable(handshake.error.message))
    chain = [cert_fact(c) for c in handshake.chain]
    handshake_ok = bool(handshake.protocol or handshake.chain)
    verify = [_CERT_PROBLEM_TO_VERIFY[p] for p in handshake.problems if p in _CERT_PROBLEM_TO_VERIFY]
    reasons = [
        p.reason
        for p in (protocols.tls1_0, protocols.tls1_1, protocols.tls1_3)
        if p.accepted is None and p.reason
    ]
    return TlsFacts(
        host=host,
        handshake_ok=handshake_ok,
        error=(handshake.reason_message or (handshake.error.message if handshake.error else ""))
        if not handshake.trusted
        else "",
        verify_errors=list(dict.fromkeys(verify)),
        cert=chain[0] if chain else None,
        chain=chain,
        tls10=protocols.tls1_0.accepted,
        tls11=protocols.tls1_1.accepted,
        tls13=protocols.tls1_3.accepted,
        protocol_reason="; ".join(dict.fromkeys(reasons)),
        http2=(handshake.alpn == "h2") if handshake_ok else None,
    )
