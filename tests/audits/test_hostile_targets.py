"""Hostile targets: servers that attack the scanner end as findings or inconclusive results
within the audit's time cap, and the next, ordinary audit after them works.

The stores of ``sandbox/scenarios/hostile_lab.yaml`` stream an endless body, trickle a
byte a second, send 10,000 headers, answer TLS with garbage, redirect to ``file://``,
to a private name and to the cloud metadata address, publish 2,000 TXT and 2,000 MX
records, and answer DNS after 30 seconds. Each is audited with the real engine under a
time cap; a watchdog fails the test if an audit outlives its cap by far (a hang), not
if it is slow. Then a calm store is audited in the same process and must come out whole.
"""

from __future__ import annotations

import threading

import pytest

from audits.engine import AuditOutcome, default_options, run_audit
from audits.facts import SiteDeclaration
from audits.findings import Status
from launchready.net import NetConfig

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

# The test's own cap (production's is audits.tasks.AUDIT_TIME_BUDGET_S, 120 s), with each
# fetch capped at 8 s: the same mechanism at a scale a test can wait for.
CAP_S = 30.0
HANG_MARGIN_S = 45.0  # an audit alive this long after its cap has ignored it: a hang

CHECKS_THE_SCANNER_COULD_NOT_RUN = "the check itself failed"


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario("hostile_lab")


def audit(domain: str, **declared) -> AuditOutcome:
    """Audit ``domain`` in a thread of its own; fail if it outlives the cap by far."""
    config = NetConfig.from_settings(read_timeout=4.0, total_timeout=8.0)
    options = default_options(time_budget_s=CAP_S, samples=3, load_max_s=3.0, load_max_requests=20)
    outcome: list[AuditOutcome] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            outcome.append(
                run_audit(SiteDeclaration(domain=domain, **declared), config=config, options=options)
            )
        except BaseException as exc:  # raised again below
            failure.append(exc)

    thread = threading.Thread(target=work, name=f"hostile-{domain}", daemon=True)
    thread.start()
    thread.join(CAP_S + HANG_MARGIN_S)
    assert not thread.is_alive(), f"the audit of {domain} hung past its {CAP_S:g} s cap"
    if failure:
        raise failure[0]
    (result,) = outcome
    for finding in result.evaluation.findings:
        assert CHECKS_THE_SCANNER_COULD_NOT_RUN not in finding.evidence, (finding.check, finding.evidence)
    return result


def findings(outcome: AuditOutcome, check: str) -> list:
    return [f for f in outcome.evaluation.findings if f.check == check]


def statuses(outcome: AuditOutcome, check: str) -> set[str]:
    return {str(f.status) for f in findings(outcome, check)}


@pytest.fixture(scope="module")
def outcomes(sb) -> dict[str, AuditOutcome]:
    return {}


def audited(outcomes, domain: str) -> AuditOutcome:
    if domain not in outcomes:
        outcomes[domain] = audit(domain)
    return outcomes[domain]


# (store, check, status, what the evidence says)
CASES = [
    ("endless-body.test", "perf.page_heavy", "fail", "read capped"),
    ("trickle.test", "perf.route_slow", "inconclusive", "did not answer in full within 8 s"),
    ("header-flood.test", "http.hsts_missing", "inconclusive", "more response headers than allowed"),
    ("tls-garbage.test", "tls.handshake_failed", "fail", "does not speak TLS"),
    ("file-redirect.test", "http.hsts_missing", "inconclusive", "file:///etc/passwd, which was not followed"),
    (
        "private-redirect.test",
        "http.hsts_missing",
        "inconclusive",
        "intranet.private-redirect.test/admin, which was not followed",
    ),
    ("many-records.test", "email.spf_multiple", "fail", "v=spf1 -all"),
    ("slow-dns.test", "dns.domain_unresolvable", "inconclusive", "timed out"),
]


@pytest.mark.parametrize(("store", "check", "status", "evidence"), CASES, ids=[c[0] for c in CASES])
def test_a_hostile_store_ends_as_a_finding_or_inconclusive_within_the_cap(
    outcomes, store, check, status, evidence
):
    outcome = audited(outcomes, store)
    found = findings(outcome, check)
    assert found, f"{store}: no {check} finding"
    assert {str(f.status) for f in found} == {status}, [(f.status, f.evidence) for f in found]
    assert any(evidence in f.evidence for f in found), [f.evidence for f in found]


def test_the_next_ordinary_audit_after_the_hostile_ones_is_whole(outcomes):
    """Every hostile store first (in this process, as a worker would have run them), then
    a calm store: its pages are read, nothing is cut short, nothing is inconclusive for
    want of an answer."""
    for store, *_ in CASES:
        audited(outcomes, store)
    calm = audit("calm-store.test")
    assert not calm.facts.stage_unavailable
    home = next(p for p in calm.facts.pages if p.url == "https://www.calm-store.test/")
    assert home.status == 200 and not home.error and home.html is not None
    assert not findings(calm, "http.unreachable") and not findings(calm, "http.hsts_missing")
    assert not findings(calm, "http.no_https_redirect")
    web = [
        f
        for f in calm.evaluation.findings
        if f.check.startswith(("http.", "tls.")) and f.status == Status.INCONCLUSIVE
    ]
    assert not web, [(f.check, f.evidence) for f in web]
