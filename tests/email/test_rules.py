"""Each email.* rule with literal facts: one failing and one passing input (more where
the severity or the advice changes)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

import audits.rules  # noqa: F401 - registers the rules
from audits.checks import CATALOGUE, Severity
from audits.facts import AuditFacts, DnsStatus, SiteDeclaration, Unavailable
from audits.facts.email import (
    DkimFacts,
    DkimSelectorFacts,
    DmarcFacts,
    EmailFacts,
    ExternalRua,
    MtaStsFacts,
    MxFacts,
    ReportSource,
    ReportSummary,
    SpfFacts,
    TestMessageFacts,
)
from audits.findings import Status
from audits.rules.base import RULES, RuleContext, Skip

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DOMAIN = "shop.test"

if "email" in {f.name for f in dataclasses.fields(AuditFacts)}:
    _Facts = AuditFacts
else:  # until AuditFacts carries the email section

    @dataclasses.dataclass(frozen=True)
    class _Facts(AuditFacts):  # type: ignore[no-redef]
        email: EmailFacts | None = None


GOOD_SPF = SpfFacts(
    domain=DOMAIN,
    records=["v=spf1 include:_spf.google.com -all"],
    all_qualifier="-",
    lookup_count=1,
    includes=["_spf.google.com"],
)
GOOD_DMARC = DmarcFacts(
    domain=DOMAIN,
    records=["v=DMARC1; p=reject; rua=mailto:dmarc@shop.test"],
    policy="reject",
    rua=["mailto:dmarc@shop.test"],
)
GOOD_KEY = DkimSelectorFacts(
    selector="google",
    name=f"google._domainkey.{DOMAIN}",
    status=DnsStatus.OK,
    record="v=DKIM1; k=rsa; p=MIIB…",
    key_type="rsa",
    bits=2048,
)
GOOD = EmailFacts(
    domain=DOMAIN,
    sending_service="google",
    from_address="orders@shop.test",
    mx=MxFacts(domain=DOMAIN, hosts=["1 smtp.google.com"]),
    spf=GOOD_SPF,
    dkim=DkimFacts(domain=DOMAIN, selectors=[GOOD_KEY]),
    dmarc=GOOD_DMARC,
    mta_sts=MtaStsFacts(
        domain=DOMAIN,
        txt_records=["v=STSv1; id=1"],
        policy_url="https://mta-sts.shop.test/.well-known/mta-sts.txt",
        policy_fetched=True,
        policy_mode="enforce",
        tls_rpt_records=["v=TLSRPTv1; rua=mailto:tls@shop.test"],
    ),
    test_message=TestMessageFacts(received_at=NOW, spf="pass", dkim="pass", dmarc="pass"),
)


def run(check_id: str, email: EmailFacts | None = GOOD, **changes: object):
    if changes:
        email = dataclasses.replace(email, **changes)
    facts = _Facts(site=SiteDeclaration(domain=DOMAIN), email=email)
    return RULES[check_id](RuleContext(facts=facts, now=NOW))


EMAIL_IDS = sorted(c for c in CATALOGUE if c.startswith("email."))


@pytest.mark.parametrize("check_id", EMAIL_IDS)
def test_every_email_check_has_a_rule_that_passes_good_facts(check_id: str) -> None:
    assert check_id in RULES
    assert run(check_id) == []


@pytest.mark.parametrize("check_id", EMAIL_IDS)
def test_every_email_rule_skips_without_email_facts(check_id: str) -> None:
    with pytest.raises(Skip):
        run(check_id, email=None)


def one(findings):
    assert len(findings) == 1, findings
    return findings[0]


def test_mx_missing() -> None:
    f = one(run("email.mx_missing", mx=MxFacts(domain=DOMAIN, status=DnsStatus.NODATA)))
    assert f.check == "email.mx_missing" and "NODATA" in f.evidence
    assert (
        one(run("email.mx_missing", mx=MxFacts(domain=DOMAIN, hosts=["0 ."], null_mx=True))).status
        == Status.FAIL
    )
    timeout = MxFacts(domain=DOMAIN, status=DnsStatus.TIMEOUT, unavailable=Unavailable("timed out"))
    assert one(run("email.mx_missing", mx=timeout)).status == Status.INCONCLUSIVE


def test_spf_missing() -> None:
    f = one(run("email.spf_missing", spf=SpfFacts(domain=DOMAIN, status=DnsStatus.NXDOMAIN)))
    assert "v=spf1" in f.evidence and "_spf.google.com" in f.fix


def test_spf_multiple() -> None:
    spf = dataclasses.replace(GOOD_SPF, records=["v=spf1 -all", "v=spf1 include:sendgrid.net -all"])
    assert "sendgrid" in one(run("email.spf_multiple", spf=spf)).evidence


def test_spf_invalid_names_the_term_and_the_nested_domain() -> None:
    spf = dataclasses.replace(
        GOOD_SPF, error="Unknown mechanism “ip5”.", error_term="ip5:1.2.3.4", error_domain="spf.vendor.test"
    )
    f = one(run("email.spf_invalid", spf=spf))
    assert "ip5:1.2.3.4" in f.evidence and "spf.vendor.test" in f.evidence
    loop = dataclasses.replace(GOOD_SPF, loops=["shop.test → a.test → shop.test"])
    assert "loop" in one(run("email.spf_invalid", spf=loop)).evidence


def test_spf_too_many_lookups() -> None:
    terms = [f"{DOMAIN}: include:s{i}.test" for i in range(11)]
    spf = dataclasses.replace(GOOD_SPF, lookup_count=11, lookup_terms=terms)
    assert "11 DNS-querying terms" in one(run("email.spf_too_many_lookups", spf=spf)).evidence
    voids = dataclasses.replace(GOOD_SPF, void_lookups=3, void_terms=["a", "b", "c"])
    assert "3 lookups returned nothing" in one(run("email.spf_too_many_lookups", spf=voids)).evidence
    assert run("email.spf_too_many_lookups", spf=dataclasses.replace(GOOD_SPF, lookup_count=10)) == []


@pytest.mark.parametrize(("qualifier", "fails"), [("+", True), ("?", True), ("~", False), ("-", False)])
def test_spf_permissive(qualifier: str, fails: bool) -> None:
    spf = dataclasses.replace(GOOD_SPF, all_qualifier=qualifier)
    assert bool(run("email.spf_permissive", spf=spf)) is fails


def test_spf_sender_unauthorized() -> None:
    spf = dataclasses.replace(
        GOOD_SPF, includes=["sendgrid.net"], records=["v=spf1 include:sendgrid.net -all"]
    )
    f = one(run("email.spf_sender_unauthorized", spf=spf))
    assert "Google Workspace" in f.evidence and "_spf.google.com" in f.fix
    with pytest.raises(Skip):
        run("email.spf_sender_unauthorized", sending_service="other")
    # Klaviyo bounces to its own subdomain: nothing needed at the apex.
    assert run("email.spf_sender_unauthorized", spf=spf, sending_service="klaviyo") == []


def test_dkim_missing() -> None:
    absent = dataclasses.replace(GOOD_KEY, status=DnsStatus.NXDOMAIN, record="")
    f = one(run("email.dkim_missing", dkim=DkimFacts(domain=DOMAIN, selectors=[absent])))
    assert "google._domainkey.shop.test" in f.evidence and "Authenticate email" in f.fix
    nothing = one(run("email.dkim_missing", dkim=DkimFacts(domain=DOMAIN, selectors=[])))
    assert nothing.status == Status.INCONCLUSIVE


def test_dkim_invalid() -> None:
    revoked = dataclasses.replace(GOOD_KEY, record="v=DKIM1; p=", revoked=True, bits=None)
    assert (
        "revoked"
        in one(run("email.dkim_invalid", dkim=DkimFacts(domain=DOMAIN, selectors=[revoked]))).evidence
    )
    broken = dataclasses.replace(GOOD_KEY, errors=["p= is not valid base64."], bits=None)
    assert (
        "base64" in one(run("email.dkim_invalid", dkim=DkimFacts(domain=DOMAIN, selectors=[broken]))).evidence
    )


@pytest.mark.parametrize(("bits", "severity"), [(512, Severity.HIGH), (1024, Severity.MEDIUM), (2048, None)])
def test_dkim_weak_key(bits: int, severity: Severity | None) -> None:
    key = dataclasses.replace(GOOD_KEY, bits=bits)
    findings = run("email.dkim_weak_key", dkim=DkimFacts(domain=DOMAIN, selectors=[key]))
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_dmarc_missing_and_misplaced_record() -> None:
    missing = DmarcFacts(domain=DOMAIN, status=DnsStatus.NXDOMAIN)
    assert one(run("email.dmarc_missing", dmarc=missing)).subject == "_dmarc.shop.test"
    misplaced = DmarcFacts(domain=DOMAIN, other_txt=["p=none; v=DMARC1"])
    assert run("email.dmarc_missing", dmarc=misplaced) == []
    assert "must start with v=DMARC1" in one(run("email.dmarc_invalid", dmarc=misplaced)).evidence


def test_dmarc_invalid() -> None:
    bad = dataclasses.replace(GOOD_DMARC, errors=["pct=150 is not a percentage from 0 to 100."])
    assert "pct=150" in one(run("email.dmarc_invalid", dmarc=bad)).evidence
    two = dataclasses.replace(
        GOOD_DMARC, records=["v=DMARC1; p=none", "v=DMARC1; p=reject"], errors=["2 records"]
    )
    assert one(run("email.dmarc_invalid", dmarc=two))


def test_dmarc_no_reporting() -> None:
    assert one(run("email.dmarc_no_reporting", dmarc=dataclasses.replace(GOOD_DMARC, rua=[])))


def test_dmarc_monitoring_only_is_info_when_fresh_and_low_after_60_days() -> None:
    none = dataclasses.replace(
        GOOD_DMARC, policy="none", records=["v=DMARC1; p=none; rua=mailto:d@shop.test"]
    )
    fresh = one(run("email.dmarc_monitoring_only", dmarc=none, dmarc_none_since=NOW - timedelta(days=5)))
    assert fresh.severity == Severity.INFO and "right for now" in fresh.title
    reports = ReportSummary(
        days=7,
        reports=12,
        messages=5000,
        dmarc_pass=3760,
        sources=[
            ReportSource(
                source_ip="192.0.2.10", service="Klaviyo", messages=1240, dkim_aligned=0, spf_aligned=0
            )
        ],
    )
    old = one(
        run(
            "email.dmarc_monitoring_only",
            dmarc=none,
            dmarc_none_since=NOW - timedelta(days=61),
            reports=reports,
        )
    )
    assert old.severity == Severity.LOW and "tighten" in old.title
    assert "Klaviyo (192.0.2.10) sent 1,240 messages" in old.evidence and "Klaviyo" in old.fix


def test_dmarc_external_rua_unauthorized() -> None:
    ext = ExternalRua(
        "mailto:r@reports.test", "reports.test", "shop.test._report._dmarc.reports.test", False, "NXDOMAIN"
    )
    assert one(
        run(
            "email.dmarc_external_rua_unauthorized", dmarc=dataclasses.replace(GOOD_DMARC, external_rua=[ext])
        )
    )
    ok = dataclasses.replace(ext, authorised=True)
    assert (
        run("email.dmarc_external_rua_unauthorized", dmarc=dataclasses.replace(GOOD_DMARC, external_rua=[ok]))
        == []
    )


def test_from_domain_mismatch() -> None:
    assert one(run("email.from_domain_mismatch", from_address="shop@gmail.test")).subject == "shop@gmail.test"
    assert run("email.from_domain_mismatch", from_address="orders@mail.shop.test") == []  # relaxed alignment


def test_mta_sts_missing() -> None:
    f = one(run("email.mta_sts_missing", mta_sts=MtaStsFacts(domain=DOMAIN)))
    assert "_mta-sts.shop.test" in f.evidence and "_smtp._tls.shop.test" in f.evidence
    with pytest.raises(Skip):
        run("email.mta_sts_missing", mta_sts=MtaStsFacts(domain=DOMAIN), mx=MxFacts(domain=DOMAIN, hosts=[]))


def test_test_message_failed() -> None:
    failed = TestMessageFacts(
        received_at=NOW, spf="fail", spf_reason="not allowed", dkim="fail", dmarc="fail"
    )
    f = one(run("email.test_message_failed", test_message=failed))
    assert "SPF: fail (not allowed)" in f.evidence and f.severity == Severity.HIGH
