"""One host's facts agree across the report (issue 12), audited through the sandbox
(``sandbox/scenarios/report_lab.yaml``): a www whose certificate browsers refuse, and a
www that does not answer on 443. The report never says a host "does not answer" and then
quotes content, cookies or timings of the same host, and a check that could not look at
the end of a chain says so instead of passing."""

from __future__ import annotations

import pytest

from audits.engine import default_options, run_audit
from audits.facts import SiteDeclaration


@pytest.fixture(scope="module")
def audit_of(sandbox_scenario):
    sandbox_scenario("report_lab")
    done = {}

    def audit(domain: str):
        if domain not in done:
            done[domain] = run_audit(SiteDeclaration(domain=domain), options=default_options(samples=2))
        return done[domain]

    return audit


def _findings(outcome, check):
    return [(str(f.status), f.subject) for f in outcome.evaluation.findings if f.check == check]


def _outcome(outcome, check):
    return next(str(r.outcome) for r in outcome.evaluation.results if r.check == check)


def _said_not_to_answer(outcome) -> set[str]:
    """Hosts whose https:// root the report says does not answer."""
    return {
        f.subject.removeprefix("https://").rstrip("/")
        for f in outcome.evaluation.findings
        if f.check == "http.unreachable"
    }


def _quoted(outcome) -> set[str]:
    """Hosts whose https:// content, cookies or timings the report has read."""
    facts = outcome.facts
    read = {p.host for p in facts.pages if p.is_https and p.status is not None}
    read |= {r.url.split("/")[2] for r in facts.routes if r.ttfb_ms}
    return read


@pytest.mark.parametrize("domain", ["refused-store.test", "mute-store.test"])
def test_a_host_said_not_to_answer_has_nothing_quoted(audit_of, domain) -> None:
    outcome = audit_of(domain)
    assert not (_said_not_to_answer(outcome) & _quoted(outcome))


def test_a_store_behind_a_refused_certificate_answers_and_its_pages_say_how_they_were_read(audit_of):
    outcome = audit_of("refused-store.test")
    www = "www.refused-store.test"
    assert ("fail", www) in _findings(outcome, "tls.cert_expired")
    assert _outcome(outcome, "http.unreachable") == "pass"  # it answers; tls.* says why browsers refuse
    pages = [p for p in outcome.facts.pages if p.host == www and p.status is not None]
    assert pages and all(p.read_past_certificate for p in pages)
    # HSTS, caching and compression are judged on what was read, like the cookies.
    assert _outcome(outcome, "http.hsts_missing") == "pass"
    assets = [a for a in outcome.facts.assets if a.kind in ("css", "js")]
    assert assets and all(a.status == 200 and a.read_past_certificate for a in assets)
    assert ("fail", www) in _findings(outcome, "edge.static_not_cached")


def test_a_chain_that_stopped_at_the_certificate_is_not_a_passed_chain(audit_of):
    outcome = audit_of("refused-store.test")
    chain = outcome.facts.chain("https://www.refused-store.test/")
    assert chain.error_kind == "tls_certificate"
    long_chain = {s: st for st, s in _findings(outcome, "http.redirect_chain_long")}
    assert long_chain.get("https://www.refused-store.test/") == "inconclusive"
    assert _outcome(outcome, "http.redirect_chain_long") != "pass"


def test_a_www_that_does_not_answer_is_reported_once_and_nothing_of_it_is_quoted(audit_of):
    outcome = audit_of("mute-store.test")
    assert ("fail", "https://www.mute-store.test/") in _findings(outcome, "http.unreachable")
    assert "www.mute-store.test" not in _quoted(outcome)
    for check in ("http.cookie_insecure", "http.redirect_chain_long", "edge.static_not_cached"):
        assert _outcome(outcome, check) != "pass", check
