"""Never a silent pass: every registered rule, run over facts in which nothing was
observed, says "inconclusive" (or "skipped", with its reason), never "pass".

Two ways of seeing nothing: no probe ran at all (only the site's declaration), and
every probe ran and failed (every name timed out, no host answered, every request
errored, the workspace has no records). A check that passes on either has not looked.
Every check id of the catalogue is held to it: none is exempt.
"""

from __future__ import annotations

import pytest

from audits.facts import (
    AuditFacts,
    DeployRecords,
    DnsAnswer,
    DnsFacts,
    DnsStatus,
    ExposureProbe,
    HostDns,
    HttpHop,
    LighthouseFacts,
    PageFacts,
    RdapFacts,
    RedirectChain,
    RouteTiming,
    TlsFacts,
    Unavailable,
    UnavailableKind,
)
from audits.facts.email import EmailFacts
from audits.rules import RULES, evaluate
from tests.audits.factories import NOW, good_facts

SITE = good_facts().site
TIMEOUT = "The name server did not answer within 5 s."
NO_ANSWER = "the host did not answer within 10 s."


def _timed_out(name: str, rtype: str) -> DnsAnswer:
    return DnsAnswer(name=name, rtype=rtype, status=DnsStatus.TIMEOUT, error=TIMEOUT)


def _hosts() -> list[str]:
    return [SITE.apex, SITE.www, *SITE.declared_hosts()]


def _chain(url: str, kind: str = "entry") -> RedirectChain:
    return RedirectChain(
        entry_url=url,
        kind=kind,
        hops=[HttpHop(url=url, status=None, error=NO_ANSWER)],
        error=NO_ANSWER,
        error_kind="read_timeout",
    )


def nothing_collected() -> AuditFacts:
    """No probe ran: only what the owner declared."""
    return AuditFacts(site=SITE, collected_at=NOW)


def everything_failed() -> AuditFacts:
    """Every probe ran and every one of them failed; the workspace has no records yet."""
    base = f"https://{SITE.canonical_host}"
    entries = [f"{s}://{h}/" for h in (SITE.apex, SITE.www) for s in ("http", "https")]
    dns = DnsFacts(
        domain=SITE.domain,
        ns=_timed_out(SITE.domain, "NS"),
        caa=_timed_out(SITE.domain, "CAA"),
        hosts=[
            HostDns(name=h, source="declared", a=_timed_out(h, "A"), aaaa=_timed_out(h, "AAAA"))
            for h in _hosts()
        ],
        ct_unavailable=Unavailable("The certificate-transparency source did not answer."),
    )
    unavailable = Unavailable(NO_ANSWER, UnavailableKind.TIMEOUT)
    return AuditFacts(
        site=SITE,
        collected_at=NOW,
        dns=dns,
        rdap=RdapFacts(SITE.domain, unavailable=Unavailable("The registry (RDAP) did not answer.")),
        redirects=[_chain(u) for u in entries] + [_chain(u, "campaign") for u in SITE.campaign_urls],
        pages=[PageFacts(url=base + r.path, route=r.name, error=NO_ANSWER) for r in SITE.routes]
        + [PageFacts(url=f"https://{h}/", error=NO_ANSWER) for h in _hosts()],
        tls=[TlsFacts(host=h, handshake_ok=False, error=NO_ANSWER) for h in _hosts()],
        exposure=[
            ExposureProbe(url=f"https://{h}{p}", unavailable=unavailable)
            for h in _hosts()
            for p in ("/.env", "/.git/HEAD", "/.git/config")
        ],
        routes=[
            RouteTiming(
                name=r.name,
                url=base + r.path,
                kind=r.kind,
                budget_ms=r.budget_ms,
                samples=5,
                errors=5,
                error_examples=[NO_ANSWER],
            )
            for r in SITE.routes
        ],
        lighthouse=LighthouseFacts(url=f"{base}/", source="PageSpeed Insights", unavailable=unavailable),
        email=EmailFacts(domain=SITE.domain),
        deploy_records=DeployRecords(),
    )


VARIANTS = {"nothing-collected": nothing_collected, "everything-failed": everything_failed}


def _cases():
    for variant in VARIANTS:
        for check in sorted(RULES):
            yield pytest.param(variant, check, id=f"{variant}:{check}")


@pytest.mark.parametrize(("variant", "check"), list(_cases()))
def test_a_check_that_saw_nothing_does_not_pass(variant, check) -> None:
    evaluation = evaluate(VARIANTS[variant](), NOW, [check])
    (result,) = evaluation.results
    assert str(result.outcome) != "pass", f"{check} passed although nothing was observed"
    if str(result.outcome) == "inconclusive":
        reasons = [f.evidence for f in evaluation.findings if f.status == "inconclusive"]
        assert reasons and all(r.startswith("Could not be checked: ") and len(r) > 25 for r in reasons)
    if str(result.outcome) == "skipped":
        assert result.reason


def test_the_variants_really_saw_nothing() -> None:
    # The guard is only as good as its facts: nothing in them may be a successful observation.
    failed = everything_failed()
    assert all(c.failed for c in failed.redirects)
    assert all(p.status is None for p in failed.pages)
    assert all(not r.ttfb_ms for r in failed.routes)
    assert all(not t.handshake_ok for t in failed.tls)
    assert all(not h.resolves for h in failed.dns.hosts)
