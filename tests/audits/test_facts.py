"""Facts are plain JSON on the way out (AuditRun.facts, CLI --format json) and the same
dataclasses on the way back."""

from __future__ import annotations

import json

import pytest

from audits.facts import (
    STANDARD_ROUTES,
    AuditFacts,
    DnsStatus,
    RedirectChain,
    RouteSpec,
    TlsFacts,
    Unavailable,
    UnavailableKind,
    VerifyError,
    percentile,
)
from tests.audits.factories import HOME, NOW, chain, good_facts, hop, ok_hop, replace, tls


def test_audit_facts_round_trip_through_json() -> None:
    facts = replace(
        good_facts(),
        tls=[tls(verify_errors=[VerifyError.INCOMPLETE_CHAIN], tls10=None)],
        stage_unavailable={"performance": Unavailable("out of time", UnavailableKind.OUT_OF_TIME)},
        redirects=[chain(HOME, unavailable=Unavailable("blocked by Cloudflare", UnavailableKind.BLOCKED))],
    )
    data = json.loads(json.dumps(facts.to_dict()))
    assert data["collected_at"] == NOW.isoformat()
    assert data["dns"]["hosts"][0]["a"]["status"] == "ok"
    assert data["tls"][0]["verify_errors"] == ["incomplete_chain"]
    back = AuditFacts.from_dict(data)
    assert back == facts
    assert back.tls[0].verify_errors[0] is VerifyError.INCOMPLETE_CHAIN
    assert back.tls[0].cert.not_after.tzinfo is not None
    assert back.dns.hosts[0].a.status is DnsStatus.OK


def test_missing_optional_keys_take_defaults() -> None:
    facts = TlsFacts.from_dict({"host": "www.example.com", "handshake_ok": False, "error": "refused"})
    assert facts.cert is None and facts.tls13 is None and facts.verify_errors == []


def test_redirect_chain_helpers() -> None:
    c = chain("http://example.com/", hop("http://example.com/", 301, HOME), ok_hop())
    assert (c.redirects, c.final_url, c.final_host, c.final_status, c.failed) == (
        1,
        HOME,
        "www.example.com",
        200,
        False,
    )
    assert RedirectChain("https://x.example.com/", error="timed out").failed


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 100)) == (10.0, 19.0, 20.0)
    assert percentile([], 95) is None
    assert percentile([5.0], 95) == 5.0


@pytest.mark.parametrize(
    ("name", "path", "kind", "budget"),
    [
        ("home", None, "page", 800),
        ("order", None, "api", 500),
        ("search", "/api/search", "api", 500),
        ("faq", "/faq", "page", 800),
    ],
)
def test_route_spec_standard(name, path, kind, budget) -> None:
    spec = RouteSpec.standard(name, path)
    assert (spec.kind, spec.budget_ms) == (kind, budget)
    assert RouteSpec.standard(name, path, budget_ms=300).budget_ms == 300


def test_standard_routes_match_the_model() -> None:
    from launchready.models import CriticalRoute

    assert STANDARD_ROUTES is CriticalRoute.STANDARD  # one table (launchready.routes)
    assert (CriticalRoute.PAGE_BUDGET_MS, CriticalRoute.API_BUDGET_MS) == (800, 500)


def test_site_declaration_hosts() -> None:
    site = good_facts().site
    assert (site.canonical_host, site.canonical_url) == ("www.example.com", HOME)
    assert site.declared_hosts() == ["app.example.com"]
    assert replace(site, canonical="apex").canonical_host == "example.com"


def test_cname_chain_keeps_only_targets() -> None:
    from audits.facts import DnsAnswer

    as_from_net = DnsAnswer(
        "shop.example.com", "A", DnsStatus.OK, cname_chain=["shop.example.com", "shops.myshopify.com"]
    )
    assert as_from_net.cname_chain == ["shops.myshopify.com"]
    assert DnsAnswer.from_dict(as_from_net.to_dict()) == as_from_net
    assert DnsAnswer("a.example.com", "A", DnsStatus.OK, cname_chain=["b.example.net"]).cname_chain == [
        "b.example.net"
    ]
