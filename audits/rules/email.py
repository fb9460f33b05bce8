"""Rules of the ``email`` stage: one pure function per ``email.*`` check id.

They read ``ctx.facts.email`` (``audits.facts.email.EmailFacts``) and register in the
shared registry (``audits.rules.base.rule``), so importing this module is enough.
"""

from __future__ import annotations

import re
from datetime import timedelta

from audits.checks import Severity
from audits.email.dmarc import aligned
from audits.email.sending_services import get_service
from audits.email.spf import LOOKUP_LIMIT, VOID_LIMIT
from audits.facts.email import DkimFacts, DmarcFacts, EmailFacts, ReportSummary, SpfFacts
from audits.findings import FindingData
from audits.rules.base import RuleContext, Skip, rule
from launchready.formats import human_date, human_datetime

MONITORING_GRACE = timedelta(days=60)


def _email(ctx: RuleContext) -> EmailFacts:
    facts = ctx.facts.email
    if facts is None:
        raise Skip("email was not probed in this run")
    return facts


def _spf(ctx: RuleContext) -> SpfFacts:
    spf = _email(ctx).spf
    if spf is None:
        raise Skip("SPF was not probed in this run")
    return spf


def _dmarc(ctx: RuleContext) -> DmarcFacts:
    dmarc = _email(ctx).dmarc
    if dmarc is None:
        raise Skip("DMARC was not probed in this run")
    return dmarc


def _dkim(ctx: RuleContext) -> DkimFacts:
    dkim = _email(ctx).dkim
    if dkim is None:
        raise Skip("DKIM was not probed in this run")
    return dkim


def _service_note(ctx: RuleContext, attr: str) -> str:
    """The sending service's own setup steps, its examples written for this store: the
    table says "send.example.com" where the founder must read "send.mystore.com"."""
    service = get_service(_email(ctx).sending_service)
    note = getattr(service, attr) if service is not None else ""
    return _EXAMPLE_DOMAIN.sub(ctx.site.domain, note)


_EXAMPLE_DOMAIN = re.compile(r"(?<![\w-])example\.com(?![\w-])")


# --- MX -------------------------------------------------------------------------------


@rule("email.mx_missing")
def mx_missing(ctx: RuleContext) -> list[FindingData]:
    mx = _email(ctx).mx
    if mx is None:
        raise Skip("MX was not probed in this run")
    if mx.unavailable:
        return [ctx.inconclusive("email.mx_missing", mx.domain, mx.unavailable)]
    if mx.null_mx:
        return [
            ctx.fail(
                "email.mx_missing", mx.domain, f"{mx.domain} MX: 0 . (null MX: the domain refuses all mail)"
            )
        ]
    if not mx.hosts:
        return [ctx.fail("email.mx_missing", mx.domain, f"{mx.domain} MX: {mx.status.upper()}")]
    return []


# --- SPF ------------------------------------------------------------------------------


@rule("email.spf_missing")
def spf_missing(ctx: RuleContext) -> list[FindingData]:
    spf = _spf(ctx)
    if spf.unavailable:
        return [ctx.inconclusive("email.spf_missing", spf.domain, spf.unavailable)]
    if spf.records:
        return []
    note = _service_note(ctx, "spf_setup")
    return [
        ctx.fail(
            "email.spf_missing", spf.domain, f"{spf.domain} TXT: no record starts with v=spf1", fix_note=note
        )
    ]


@rule("email.spf_multiple")
def spf_multiple(ctx: RuleContext) -> list[FindingData]:
    spf = _spf(ctx)
    if len(spf.records) <= 1:
        return []
    return [ctx.fail("email.spf_multiple", spf.domain, [f"{spf.domain} TXT: {r}" for r in spf.records])]


@rule("email.spf_invalid")
def spf_invalid(ctx: RuleContext) -> list[FindingData]:
    spf = _spf(ctx)
    evidence: list[str] = []
    if spf.error:
        where = (
            "" if spf.error_domain == spf.domain else f" (in {spf.error_domain}, reached through an include)"
        )
        evidence.append(f"{spf.error}{where} Term: “{spf.error_term}”.")
    evidence += [p for p in spf.problems if "permerror" in p]
    evidence += [f"Include loop: {loop}" for loop in spf.loops]
    if not evidence:
        return []
    return [ctx.fail("email.spf_invalid", spf.domain, [f"{spf.domain} TXT: {spf.records[0]}", *evidence])]


@rule("email.spf_too_many_lookups")
def spf_too_many_lookups(ctx: RuleContext) -> list[FindingData]:
    spf = _spf(ctx)
    if spf.lookup_count <= LOOKUP_LIMIT and spf.void_lookups <= VOID_LIMIT:
        return []
    evidence = [f"{spf.lookup_count} DNS-querying terms after expanding includes (limit {LOOKUP_LIMIT}):"]
    evidence += [f"  {t}" for t in spf.lookup_terms]
    if spf.void_lookups:
        evidence.append(f"{spf.void_lookups} lookups returned nothing (limit {VOID_LIMIT}):")
        evidence += [f"  {t}" for t in spf.void_terms]
    return [ctx.fail("email.spf_too_many_lookups", spf.domain, evidence)]


@rule("email.spf_permissive")
def spf_permissive(ctx: RuleContext) -> list[FindingData]:
    spf = _spf(ctx)
    if not spf.records or not spf.permissive:
        return []
    evidence = [f"{spf.domain} TXT: {spf.records[0]}"]
    if spf.all_qualifier in ("+", "?"):
        evidence[0] += f" (ends in {spf.all_qualifier}all)"
    evidence += [
        f"{inc} names a record ending in +all, so it matches every sender" for inc in spf.permissive_includes
    ]
    return [ctx.fail("email.spf_permissive", spf.domain, evidence)]


@rule("email.spf_sender_unauthorized")
def spf_sender_unauthorized(ctx: RuleContext) -> list[FindingData]:
    email = _email(ctx)
    spf = _spf(ctx)
    service = get_service(email.sending_service)
    if service is None:
        raise Skip("no known sending service is declared for this site")
    if not service.spf_on_apex:
        return []  # the service's own return-path domain carries SPF
    if spf.unavailable:
        return [ctx.inconclusive("email.spf_sender_unauthorized", spf.domain, spf.unavailable)]
    if spf.records and service.authorises(spf.includes):
        return []
    wanted = " or ".join(f"include:{d}" for d in service.spf_includes)
    evidence = [f"Declared sending service: {service.name} (expects {wanted})"]
    evidence.append(f"{spf.domain} TXT: {spf.records[0]}" if spf.records else f"{spf.domain}: no SPF record")
    if spf.includes:
        evidence.append("Includes found: " + ", ".join(spf.includes))
    return [ctx.fail("email.spf_sender_unauthorized", spf.domain, evidence, fix_note=service.spf_setup)]


# --- DKIM -----------------------------------------------------------------------------


@rule("email.dkim_missing")
def dkim_missing(ctx: RuleContext) -> list[FindingData]:
    dkim = _dkim(ctx)
    if dkim.unavailable:
        return [ctx.inconclusive("email.dkim_missing", dkim.domain, dkim.unavailable)]
    if not dkim.selectors:
        return [
            ctx.inconclusive(
                "email.dkim_missing",
                dkim.domain,
                "no DKIM selector to look at: declare your sending service or its DKIM selector in the site "
                "settings (Email sending), or with --sender / --dkim-selector on the audit command line",
            )
        ]
    if dkim.found:
        return []
    evidence = [f"{s.name} TXT: {s.error or s.status.upper()}" for s in dkim.selectors]
    if all(s.error for s in dkim.selectors):  # every lookup failed: nothing is known
        return [ctx.inconclusive("email.dkim_missing", dkim.domain, "; ".join(evidence))]
    where = ", ".join(f"`{s.name}`" for s in dkim.selectors[:3])
    note = f"{_service_note(ctx, 'dkim_setup')} We looked for the key at {where}.".strip()
    return [ctx.fail("email.dkim_missing", dkim.domain, evidence, fix_note=note)]


@rule("email.dkim_invalid")
def dkim_invalid(ctx: RuleContext) -> list[FindingData]:
    findings = []
    for sel in _dkim(ctx).found:
        if sel.revoked:
            evidence = [f"{sel.name} TXT: {sel.record}", "p= is empty: the key is revoked."]
        elif sel.errors:
            evidence = [f"{sel.name} TXT: {sel.record}", *sel.errors]
        else:
            continue
        findings.append(
            ctx.fail("email.dkim_invalid", sel.name, evidence, fix_note=_service_note(ctx, "dkim_setup"))
        )
    return findings


@rule("email.dkim_weak_key")
def dkim_weak_key(ctx: RuleContext) -> list[FindingData]:
    findings = []
    for sel in _dkim(ctx).found:
        if sel.key_type != "rsa" or sel.bits is None or sel.bits >= 2048 or sel.errors:
            continue
        severity = Severity.HIGH if sel.bits < 1024 else Severity.MEDIUM
        evidence = f"{sel.name}: {sel.bits}-bit RSA key (2048 bits recommended)"
        findings.append(ctx.fail("email.dkim_weak_key", sel.name, evidence, severity=severity))
    return findings


# --- DMARC ----------------------------------------------------------------------------


def _looks_like_dmarc(text: str) -> bool:
    return "dmarc" in text.lower()


@rule("email.dmarc_missing")
def dmarc_missing(ctx: RuleContext) -> list[FindingData]:
    dmarc = _dmarc(ctx)
    name = f"_dmarc.{dmarc.domain}"
    if dmarc.unavailable:
        return [ctx.inconclusive("email.dmarc_missing", name, dmarc.unavailable)]
    if dmarc.records or any(_looks_like_dmarc(t) for t in dmarc.other_txt):
        return []  # present (perhaps broken: that is email.dmarc_invalid)
    return [ctx.fail("email.dmarc_missing", name, f"{name} TXT: {dmarc.status.upper()}")]


@rule("email.dmarc_invalid")
def dmarc_invalid(ctx: RuleContext) -> list[FindingData]:
    dmarc = _dmarc(ctx)
    name = f"_dmarc.{dmarc.domain}"
    misplaced = [t for t in dmarc.other_txt if _looks_like_dmarc(t)]
    if not dmarc.records and misplaced:
        evidence = [f"{name} TXT: {t}" for t in misplaced] + ["The record must start with v=DMARC1;"]
        return [ctx.fail("email.dmarc_invalid", name, evidence)]
    if not dmarc.errors:
        return []
    return [ctx.fail("email.dmarc_invalid", name, [f"{name} TXT: {r}" for r in dmarc.records] + dmarc.errors)]


def _record_evidence(dmarc: DmarcFacts) -> list[str]:
    lines = [f"_dmarc.{dmarc.domain} TXT: {dmarc.records[0]}"]
    if dmarc.inherited_from:
        lines.append(
            f"{dmarc.inherited_from} has no DMARC record of its own, so this one applies to it"
            f" (policy for subdomains: p={dmarc.policy})."
        )
    return lines


def _valid_dmarc(ctx: RuleContext) -> DmarcFacts:
    dmarc = _dmarc(ctx)
    if len(dmarc.records) != 1 or dmarc.errors:
        raise Skip("no valid DMARC record")
    return dmarc


@rule("email.dmarc_no_reporting")
def dmarc_no_reporting(ctx: RuleContext) -> list[FindingData]:
    dmarc = _valid_dmarc(ctx)
    if dmarc.rua:
        return []
    return [
        ctx.fail(
            "email.dmarc_no_reporting",
            f"_dmarc.{dmarc.domain}",
            _record_evidence(dmarc),
        )
    ]


@rule("email.dmarc_monitoring_only")
def dmarc_monitoring_only(ctx: RuleContext) -> list[FindingData]:
    email = _email(ctx)
    dmarc = _valid_dmarc(ctx)
    if dmarc.policy != "none":
        return []
    since = email.dmarc_none_since
    evidence = _record_evidence(dmarc)
    if since is not None:
        evidence.append(f"p=none since {human_date(since)} ({(ctx.now - since).days} days).")
    evidence += report_evidence(email.reports)
    if since is not None and ctx.now - since >= MONITORING_GRACE:
        failing = failing_sources(email.reports)
        note = (
            "Fix these senders first, then move to p=quarantine: " + "; ".join(failing)
            if failing
            else "The reports show your senders pass: move to p=quarantine now, and to p=reject a few weeks later."
        )
        return [
            ctx.fail(
                "email.dmarc_monitoring_only",
                f"_dmarc.{dmarc.domain}",
                evidence,
                severity=Severity.LOW,
                title="DMARC has been in monitoring mode for over 60 days: time to tighten it",
                fix_note=note,
            )
        ]
    return [
        ctx.fail(
            "email.dmarc_monitoring_only",
            f"_dmarc.{dmarc.domain}",
            evidence,
            severity=Severity.INFO,
            title="DMARC is in monitoring mode (p=none): right for now",
            fix_note="Keep p=none while the aggregate reports come in; Launch Ready tells you when to tighten it.",
        )
    ]


def report_evidence(reports: ReportSummary | None) -> list[str]:
    if reports is None or not reports.reports:
        return ["No DMARC aggregate reports received yet."]
    share = 100 * reports.dmarc_pass / reports.messages if reports.messages else 0
    lines = [
        f"Aggregate reports, last {reports.days} days: {reports.reports} reports, "
        f"{reports.messages:,} messages, {share:.0f}% pass DMARC."
    ]
    return lines + [f"  {line}" for line in failing_sources(reports)]


def failing_sources(reports: ReportSummary | None) -> list[str]:
    """ "Klaviyo (192.0.2.10) sent 1,240 messages that fail DKIM and SPF alignment"."""
    if reports is None:
        return []
    lines = []
    for source in sorted(reports.sources, key=lambda s: -s.failing):
        if source.failing <= 0:
            continue
        who = f"{source.service} ({source.source_ip})" if source.service else source.source_ip
        lines.append(f"{who} sent {source.failing:,} messages that fail DKIM and SPF alignment")
    return lines[:5]


@rule("email.dmarc_external_rua_unauthorized")
def dmarc_external_rua_unauthorized(ctx: RuleContext) -> list[FindingData]:
    dmarc = _valid_dmarc(ctx)
    findings = []
    for ext in dmarc.external_rua:
        if ext.authorised is None:
            findings.append(ctx.inconclusive("email.dmarc_external_rua_unauthorized", ext.uri, ext.evidence))
        elif not ext.authorised:
            evidence = [f"rua={ext.uri} is on {ext.report_domain}", ext.evidence]
            note = f"The record {ext.report_domain} must publish: `{ext.authorization_name}` TXT `v=DMARC1`."
            findings.append(
                ctx.fail("email.dmarc_external_rua_unauthorized", ext.uri, evidence, fix_note=note)
            )
    return findings


# --- From domain, MTA-STS, test message -----------------------------------------------


@rule("email.from_domain_mismatch")
def from_domain_mismatch(ctx: RuleContext) -> list[FindingData]:
    email = _email(ctx)
    if not email.from_address:
        raise Skip("no From address is declared for this site")
    from_domain = email.from_address.rpartition("@")[2].lower()
    if aligned(from_domain, email.domain, "r"):
        return []
    evidence = f"From address {email.from_address} is on {from_domain}, not on {email.domain}"
    return [ctx.fail("email.from_domain_mismatch", email.from_address, evidence)]


@rule("email.mta_sts_missing")
def mta_sts_missing(ctx: RuleContext) -> list[FindingData]:
    email = _email(ctx)
    sts = email.mta_sts
    if sts is None:
        raise Skip("MTA-STS was not probed in this run")
    if email.mx is not None and (email.mx.null_mx or not email.mx.hosts):
        raise Skip("the domain receives no mail")
    if sts.unavailable:
        return [ctx.inconclusive("email.mta_sts_missing", sts.domain, sts.unavailable)]
    evidence = []
    if not sts.txt_records:
        evidence.append(f"_mta-sts.{sts.domain} TXT: no v=STSv1 record")
    elif sts.txt_error:
        evidence.append(sts.txt_error)
    elif not sts.policy_fetched or sts.policy_errors:
        evidence += [f"{sts.policy_url}: {e}" for e in sts.policy_errors]
    if not sts.tls_rpt_records:
        evidence.append(f"_smtp._tls.{sts.domain} TXT: no v=TLSRPTv1 record")
    evidence += sts.tls_rpt_errors
    if not evidence:
        return []
    return [ctx.fail("email.mta_sts_missing", sts.domain, evidence)]


@rule("email.test_message_failed")
def test_message_failed(ctx: RuleContext) -> list[FindingData]:
    email = _email(ctx)
    msg = email.test_message
    if msg is None:
        raise Skip("no test message has been received yet")
    if msg.passed:
        return []
    evidence = [
        f"Test message received {human_datetime(msg.received_at)} from {msg.header_from or msg.mail_from}",
        f"SPF: {msg.spf} ({msg.spf_reason})",
        f"DKIM: {msg.dkim} ({msg.dkim_reason})",
        f"DMARC: {msg.dmarc} ({msg.dmarc_reason})",
    ]
    return [ctx.fail("email.test_message_failed", email.domain, evidence)]
