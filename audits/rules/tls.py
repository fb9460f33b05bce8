"""Rules of the ``edge`` stage for certificates and TLS (``tls.*``), one finding per host."""

from __future__ import annotations

from collections.abc import Callable

from audits.checks import Severity
from audits.facts import CertInfo, TlsFacts, VerifyError
from audits.findings import FindingData
from audits.rules.base import RuleContext, Skip, rule
from launchready.formats import human_datetime

EXPIRING = ((7, Severity.BLOCKER), (14, Severity.HIGH), (30, Severity.MEDIUM))
MIN_KEY_BITS = {"RSA": 2048, "DSA": 2048, "EC": 256}


def hostname_matches(host: str, names: list[str]) -> bool:
    """RFC 6125: a wildcard covers exactly one left-most label (``*.example.com`` ≠ ``example.com``)."""
    host = host.lower().rstrip(".")
    for name in names:
        name = name.lower().rstrip(".")
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            label, rest = host.split(".", 1)
            if label and rest == name[2:]:
                return True
    return False


def _cert_line(cert: CertInfo) -> str:
    after = human_datetime(cert.not_after) if cert.not_after else "unknown"
    return f"certificate for {cert.subject} issued by {cert.issuer or 'unknown'}, valid until {after}"


CertTest = Callable[[RuleContext, TlsFacts, CertInfo], FindingData | None]


def _each_host(ctx: RuleContext, check_id: str, test: CertTest) -> list[FindingData]:
    """Run ``test`` for every host that completed a handshake; blocked hosts are inconclusive."""
    if not ctx.facts.tls:
        raise Skip("TLS was not probed in this run")
    findings = []
    for tls in ctx.facts.tls:
        if tls.unavailable:
            findings.append(ctx.inconclusive(check_id, tls.host, tls.unavailable))
        elif tls.handshake_ok and tls.cert is not None and (found := test(ctx, tls, tls.cert)):
            findings.append(found)
    if not any(t.handshake_ok and t.cert is not None and not t.unavailable for t in ctx.facts.tls):
        # No host completed a handshake: not one certificate was seen, so none passed.
        findings += _no_certificate_seen(ctx, check_id, findings)
    return findings


def _no_certificate_seen(ctx: RuleContext, check_id: str, already: list[FindingData]) -> list[FindingData]:
    if already:
        return []  # the unavailable hosts already say why
    host = ctx.site.canonical_host
    tls = ctx.facts.tls_for(host) or ctx.facts.tls[0]
    reason = (
        "no secure (HTTPS) connection could be opened to any host, so no certificate was received "
        f"({tls.host}: {tls.error or 'no answer'})"
    )
    return [ctx.inconclusive(check_id, tls.host, reason)]


@rule("tls.handshake_failed")
def handshake_failed(ctx: RuleContext) -> list[FindingData]:
    if not ctx.facts.tls:
        raise Skip("TLS was not probed in this run")
    findings = []
    for tls in ctx.facts.tls:
        if tls.unavailable:
            findings.append(ctx.inconclusive("tls.handshake_failed", tls.host, tls.unavailable))
        elif not tls.handshake_ok:
            evidence = f"{tls.host}:443: {tls.error or 'TLS handshake failed'}"
            findings.append(ctx.fail("tls.handshake_failed", tls.host, evidence))
    return findings


@rule("tls.cert_expired")
def cert_expired(ctx: RuleContext) -> list[FindingData]:
    def test(ctx: RuleContext, tls: TlsFacts, cert: CertInfo) -> FindingData | None:
        expired = VerifyError.EXPIRED in tls.verify_errors or (cert.not_after and cert.not_after <= ctx.now)
        early = VerifyError.NOT_YET_VALID in tls.verify_errors or (
            cert.not_before and cert.not_before > ctx.now
        )
        if not (expired or early):
            return None
        if expired:
            state = "expired"
        else:
            state = (
                f"not valid before {human_datetime(cert.not_before)}" if cert.not_before else "not valid yet"
            )
        return ctx.fail(
            "tls.cert_expired", tls.host, [f"{tls.host}: {_cert_line(cert)}", f"the certificate is {state}"]
        )

    return _each_host(ctx, "tls.cert_expired", test)


@rule("tls.cert_expiring")
def cert_expiring(ctx: RuleContext) -> list[FindingData]:
    def test(ctx: RuleContext, tls: TlsFacts, cert: CertInfo) -> FindingData | None:
        if cert.not_after is None or cert.not_after <= ctx.now:
            return None  # expired: tls.cert_expired
        days = (cert.not_after - ctx.now).total_seconds() / 86_400
        for limit, severity in EXPIRING:
            if days < limit:
                evidence = [f"{tls.host}: {_cert_line(cert)}", f"expires in {days:.1f} days"]
                return ctx.fail("tls.cert_expiring", tls.host, evidence, severity=severity)
        return None

    return _each_host(ctx, "tls.cert_expiring", test)


@rule("tls.hostname_mismatch")
def hostname_mismatch(ctx: RuleContext) -> list[FindingData]:
    def test(ctx: RuleContext, tls: TlsFacts, cert: CertInfo) -> FindingData | None:
        flagged = VerifyError.HOSTNAME_MISMATCH in tls.verify_errors
        if not flagged and (not cert.sans or hostname_matches(tls.host, cert.sans)):
            return None
        names = ", ".join(cert.sans) or cert.subject
        return ctx.fail(
            "tls.hostname_mismatch", tls.host, f"{tls.host} is not among the certificate's names: {names}"
        )

    return _each_host(ctx, "tls.hostname_mismatch", test)


@rule("tls.untrusted")
def untrusted(ctx: RuleContext) -> list[FindingData]:
    def test(ctx: RuleContext, tls: TlsFacts, cert: CertInfo) -> FindingData | None:
        if cert.self_signed or VerifyError.SELF_SIGNED in tls.verify_errors:
            why = "the certificate is self-signed"
        elif VerifyError.UNTRUSTED in tls.verify_errors:
            why = f"the issuer ({cert.issuer or 'unknown'}) is not a trusted certificate authority"
        else:
            return None
        return ctx.fail("tls.untrusted", tls.host, [f"{tls.host}: {_cert_line(cert)}", why])

    return _each_host(ctx, "tls.untrusted", test)


@rule("tls.chain_incomplete")
def chain_incomplete(ctx: RuleContext) -> list[FindingData]:
    def test(ctx: RuleContext, tls: TlsFacts, cert: CertInfo) -> FindingData | None:
        if VerifyError.INCOMPLETE_CHAIN not in tls.verify_errors:
            return None
        served = " → ".join(c.subject for c in tls.chain) or cert.subject
        evidence = [
            f"{tls.host} serves: {served}",
            f"the intermediate certificate of {cert.issuer} is missing",
        ]
        return ctx.fail("tls.chain_incomplete", tls.host, evidence)

    return _each_host(ctx, "tls.chain_incomplete", test)


@rule("tls.legacy_protocol")
def legacy_protocol(ctx: RuleContext) -> list[FindingData]:
    findings = []
    for f in _each_host(ctx, "tls.legacy_protocol", lambda *_: None):
        findings.append(f)  # the inconclusive ones of blocked hosts
    for tls in ctx.facts.tls:
        if not tls.handshake_ok or tls.unavailable:
            continue
        accepted = [name for name, ok in (("TLS 1.0", tls.tls10), ("TLS 1.1", tls.tls11)) if ok]
        if accepted:
            evidence = f"{tls.host}:443 accepts {' and '.join(accepted)}"
            findings.append(ctx.fail("tls.legacy_protocol", tls.host, evidence))
        elif tls.tls10 is None and tls.tls11 is None:
            reason = tls.protocol_reason or "TLS 1.0/1.1 support could not be tested"
            findings.append(ctx.inconclusive("tls.legacy_protocol", tls.host, reason))
    return findings


@rule("tls.no_tls13")
def no_tls13(ctx: RuleContext) -> list[FindingData]:
    findings = list(_each_host(ctx, "tls.no_tls13", lambda *_: None))
    for tls in ctx.facts.tls:
        if not tls.handshake_ok or tls.unavailable:
            continue
        if tls.tls13 is False:
            findings.append(
                ctx.fail("tls.no_tls13", tls.host, f"{tls.host}:443 refused a TLS 1.3-only handshake")
            )
        elif tls.tls13 is None:
            reason = tls.protocol_reason or "TLS 1.3 support could not be tested"
            findings.append(ctx.inconclusive("tls.no_tls13", tls.host, reason))
    return findings


@rule("tls.weak_key")
def weak_key(ctx: RuleContext) -> list[FindingData]:
    def test(ctx: RuleContext, tls: TlsFacts, cert: CertInfo) -> FindingData | None:
        minimum = MIN_KEY_BITS.get(cert.key_type.upper())
        if minimum is None or cert.key_bits is None or cert.key_bits >= minimum:
            return None
        evidence = f"{tls.host}: {cert.key_type} key of {cert.key_bits} bits (at least {minimum} needed)"
        return ctx.fail("tls.weak_key", tls.host, evidence)

    return _each_host(ctx, "tls.weak_key", test)
