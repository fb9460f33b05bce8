"""No false alarms from guessed hosts: under a wildcard DNS record every guessed name
resolves, and the audit reports nothing about a name only the wildcard answers; a
subdomain its provider no longer serves is reported once, as a takeover risk.

Audited with the real engine through the sandbox (``sandbox/scenarios/guess_lab.yaml``).
"""

from __future__ import annotations

import pytest

from audits.engine import AuditOutcome, default_options, run_audit
from audits.facts import SiteDeclaration
from audits.probes import COMMON_SUBDOMAINS

SITES = {
    "wild-store.test": SiteDeclaration(domain="wild-store.test", subdomains=["app"]),
    "wildcname-store.test": SiteDeclaration(domain="wildcname-store.test", subdomains=["shop"]),
    "gone-blog-store.test": SiteDeclaration(domain="gone-blog-store.test", subdomains=["blog"]),
}


def _guessed(domain: str) -> set[str]:
    declared = {"www", *SITES[domain].subdomains}
    return {f"{label}.{domain}" for label in COMMON_SUBDOMAINS if label not in declared}


@pytest.fixture(scope="module")
def lab(sandbox_scenario):
    return sandbox_scenario("guess_lab")


@pytest.fixture(scope="module")
def audit_of(lab):
    done: dict[str, AuditOutcome] = {}

    def audit(domain: str) -> AuditOutcome:
        if domain not in done:
            done[domain] = run_audit(SITES[domain], options=default_options(samples=2))
        return done[domain]

    return audit


def _about(outcome: AuditOutcome, host: str) -> list[tuple[str, str]]:
    return [(f.check, str(f.status)) for f in outcome.evaluation.findings if host in f.subject.split("/")]


@pytest.mark.parametrize("domain", ["wild-store.test", "wildcname-store.test"])
def test_nothing_is_reported_about_a_guessed_name_only_the_wildcard_answers(audit_of, domain):
    outcome = audit_of(domain)
    guessed = _guessed(domain)
    about_guesses = [
        (f.check, f.subject) for f in outcome.evaluation.findings if any(g in f.subject for g in guessed)
    ]
    assert about_guesses == []
    dns = outcome.facts.dns
    assert not guessed & {h.name for h in dns.hosts}  # and nothing was probed on them
    assert set(dns.wildcard_guesses) == guessed


@pytest.mark.parametrize(
    ("domain", "points_at"),
    [
        ("wild-store.test", "*.wild-store.test → 127.77.80.1"),
        ("wildcname-store.test", "*.wildcname-store.test → CNAME stores.platform-host.test (127.77.81.1)"),
    ],
)
def test_the_wildcard_is_said_once_as_info_with_what_it_points_at(audit_of, domain, points_at):
    (finding,) = [f for f in audit_of(domain).evaluation.findings if f.check == "dns.wildcard_record"]
    assert (str(finding.severity), str(finding.status), finding.subject) == ("info", "fail", domain)
    assert points_at in finding.evidence
    assert "admin" in finding.evidence and "staging" in finding.evidence


@pytest.mark.parametrize(
    ("domain", "declared"), [("wild-store.test", "app"), ("wildcname-store.test", "shop")]
)
def test_a_declared_subdomain_under_a_wildcard_is_still_checked(audit_of, domain, declared):
    name = f"{declared}.{domain}"
    dns = audit_of(domain).facts.dns
    assert dns.host(name) is not None and dns.host(name).source == "declared"
    assert name in {t.host for t in audit_of(domain).facts.tls}


def test_a_store_without_a_wildcard_has_no_wildcard_finding(audit_of):
    outcome = audit_of("gone-blog-store.test")
    assert outcome.facts.dns.wildcard_probe is not None and outcome.facts.dns.wildcard is None
    assert [f for f in outcome.evaluation.findings if f.check == "dns.wildcard_record"] == []


def test_a_subdomain_its_provider_no_longer_serves_is_one_takeover_finding(audit_of):
    outcome = audit_of("gone-blog-store.test")
    blog = "blog.gone-blog-store.test"
    assert _about(outcome, blog) == [("dns.dangling_cname", "fail")]
    (finding,) = [f for f in outcome.evaluation.findings if f.subject == blog]
    assert str(finding.severity) == "blocker"
    assert "gone-blog.platform-host.test" in finding.evidence and "takes over" in finding.evidence
    assert f"{blog}: a subdomain you declared" in finding.evidence
    assert "reclaim" in finding.fix and "certificate does not help" in finding.fix
    assert "Issue a certificate" not in finding.fix
