"""Rules of edge.* (audits/rules/edge.py): a failing input per check id with its severity
and subject, the good store passes, and static files that could not be fetched make
edge.static_not_cached inconclusive with the reason, never a silent pass."""

from __future__ import annotations

import pytest

from audits.facts import AssetFacts, OriginProbe, Unavailable
from audits.findings import Status
from audits.rules import evaluate
from tests.audits.factories import (
    DOMAIN,
    NOW,
    WWW,
    failing,
    good_facts,
    headers,
    host,
    outcome,
    page,
    replace,
    tls,
    with_host,
    with_page,
    with_tls,
)

G = good_facts()


def _no_cdn():
    facts = with_host(G, host(WWW, "203.0.113.10", source="www"))
    return with_page(facts, page(headers=headers(server="nginx", cf_ray=None)))


def _asset(kind: str, **changes):
    facts = G
    assets = [replace(a, **changes) if a.kind == kind else a for a in facts.assets]
    return replace(facts, assets=assets)


FAIL_CASES = [
    pytest.param("edge.no_cdn", _no_cdn(), "medium", WWW, id="origin-only"),
    pytest.param(
        "edge.origin_exposed",
        replace(G, origin_probes=[OriginProbe(f"direct.{DOMAIN}", "203.0.113.10", True, "same <title>")]),
        "medium",
        f"direct.{DOMAIN}",
        id="direct-host",
    ),
    pytest.param(
        "edge.static_not_cached", _asset("css", cache_control="max-age=300"), "medium", WWW, id="5-minutes"
    ),
    pytest.param("edge.static_not_cached", _asset("image", cache_control=""), "medium", WWW, id="no-header"),
    pytest.param("edge.no_compression", _asset("js", content_encoding=""), "medium", WWW, id="plain-js"),
    pytest.param("edge.no_http2", with_tls(G, tls(WWW, http2=False)), "low", WWW, id="http1-only"),
]


@pytest.mark.parametrize(("check", "facts", "severity", "subject"), FAIL_CASES)
def test_check_fails(check, facts, severity, subject) -> None:
    assert (check, severity, subject) in failing(facts, check)


@pytest.mark.parametrize("check", sorted({p.values[0] for p in FAIL_CASES}))
def test_good_store_passes(check) -> None:
    assert failing(G, check) == []
    assert outcome(G, check) == "pass"


@pytest.mark.parametrize(
    ("facts", "check", "subject"),
    [
        pytest.param(with_tls(G, tls(WWW, http2=None)), "edge.no_http2", WWW, id="alpn-unclear"),
    ],
)
def test_blocked_or_untestable_is_inconclusive(facts, check, subject) -> None:
    findings = evaluate(facts, NOW, [check]).findings
    assert [(f.status, f.subject) for f in findings] == [(Status.INCONCLUSIVE, subject)]


def test_small_files_need_no_compression_but_a_page_does() -> None:
    small = _asset("js", content_encoding="", size=150)
    assert failing(small, "edge.no_compression") == []
    page_plain = _asset("html", content_encoding="", size=900)
    assert failing(page_plain, "edge.no_compression") == [("edge.no_compression", "medium", WWW)]


# --- files that could not be fetched ---------------------------------------------------


def _statuses(facts, check):
    return [(str(f.status), f.subject) for f in evaluate(facts, NOW, [check]).findings]


def _assets(**changes):
    return replace(G, assets=[a if a.kind == "html" else replace(a, **changes) for a in G.assets])


def test_static_not_cached_is_inconclusive_when_every_file_failed() -> None:
    facts = _assets(status=None, unavailable=Unavailable("www.example.com refused the connection."))
    findings = evaluate(facts, NOW, ["edge.static_not_cached"]).findings
    assert [(str(f.status), f.subject) for f in findings] == [("inconclusive", WWW)]
    assert "refused the connection" in findings[0].evidence
    all_404 = _assets(status=404)
    assert _statuses(all_404, "edge.static_not_cached") == [("inconclusive", WWW)]


def test_static_files_of_an_unread_homepage_are_inconclusive_not_skipped() -> None:
    facts = replace(with_page(G, page(status=None, error="Connection timed out.", html=None)), assets=[])
    findings = evaluate(facts, NOW, ["edge.static_not_cached"]).findings
    assert [(str(f.status), f.subject) for f in findings] == [("inconclusive", WWW)]
    assert "timed out" in findings[0].evidence
    no_files = replace(G, assets=[a for a in G.assets if a.kind == "html"])
    assert outcome(no_files, "edge.static_not_cached") == "skipped"


def test_files_read_past_a_refused_certificate_are_judged_and_say_so() -> None:
    facts = replace(
        G,
        assets=[
            AssetFacts(f"https://{WWW}/app.css", "css", 200, "", "br", read_past_certificate=True),
        ],
    )
    (finding,) = evaluate(facts, NOW, ["edge.static_not_cached"]).findings
    assert finding.status == Status.FAIL and "read past the certificate" in finding.evidence
