"""edge.origin_exposed: the origin that the CDN hides answers directly. A host at the
CDN's own address, a CNAME to the proxied host, an answer with the CDN's headers, or a
separate deployment naming itself canonical is not an exposed origin; the evidence shows
the CDN is absent for the address it reports."""

from __future__ import annotations

import pytest

from audits.engine import default_options, run_audit
from audits.facts import OriginProbe, SiteDeclaration
from audits.rules import evaluate
from tests.audits.factories import (
    DOMAIN,
    GOOD_HEADERS,
    NOW,
    WWW,
    failing,
    good_facts,
    host,
    outcome,
    replace,
    with_host,
)

G = good_facts()  # www behind Cloudflare (cf-ray, 104.16.1.2)
ORIGIN_HEADERS = {"content-type": "text/html", "server": "nginx"}
SAME_TITLE = "https://{}/ answers HTTP 200 with the storefront's title “Example Store”"


def probe(name: str, address: str, *, headers=None, canonical_link: str = "") -> OriginProbe:
    return OriginProbe(
        host=name,
        address=address,
        serves_site=True,
        evidence=SAME_TITLE.format(name),
        status=200,
        headers=dict(ORIGIN_HEADERS if headers is None else headers),
        canonical_link=canonical_link,
    )


def facts_with(found: OriginProbe, *, chain=()):
    facts = with_host(G, host(found.host, found.address, chain=chain))
    return replace(facts, origin_probes=[found])


def test_an_origin_on_its_own_address_without_the_cdn_is_exposed() -> None:
    facts = facts_with(probe(f"origin.{DOMAIN}", "203.0.113.10", canonical_link=f"https://{WWW}/"))
    assert failing(facts, "edge.origin_exposed") == [("edge.origin_exposed", "medium", f"origin.{DOMAIN}")]


def test_the_evidence_shows_the_cdn_is_absent_for_that_address() -> None:
    facts = facts_with(probe(f"origin.{DOMAIN}", "203.0.113.10"))
    (finding,) = evaluate(facts, NOW, ["edge.origin_exposed"]).findings
    lines = finding.evidence.splitlines()
    assert lines[0].startswith(f"{WWW} is behind Cloudflare") and "104.16.1.2" in lines[0]
    assert (
        f"origin.{DOMAIN} resolves to 203.0.113.10: not a Cloudflare address, not a CNAME to {WWW}" in lines
    )
    assert f"https://origin.{DOMAIN}/ answered HTTP 200 with no Cloudflare header (Server: nginx)" in lines


@pytest.mark.parametrize(
    ("found", "chain"),
    [
        # The proxied host's own address: the CDN's edge, whatever its range (no range known).
        pytest.param(probe(f"shop.{DOMAIN}", "104.16.1.2"), (), id="same-address-as-www"),
        pytest.param(probe(f"shop.{DOMAIN}", "198.51.100.7"), (), id="control-own-address"),
        # A CNAME to the proxied host.
        pytest.param(probe(f"store.{DOMAIN}", "198.51.100.8"), (WWW,), id="cname-to-www"),
        # The answer carries the CDN's headers: the CDN answers for this name too.
        pytest.param(probe(f"cached.{DOMAIN}", "198.51.100.9", headers=GOOD_HEADERS), (), id="cdn-headers"),
        # A separate deployment that names itself canonical is not production's origin.
        pytest.param(
            probe(f"preview.{DOMAIN}", "198.51.100.10", canonical_link=f"https://preview.{DOMAIN}/"),
            (),
            id="self-canonical-deployment",
        ),
    ],
)
def test_hosts_the_cdn_answers_for_or_other_deployments_are_not_exposed_origins(found, chain) -> None:
    facts = facts_with(found, chain=chain)
    exposed = failing(facts, "edge.origin_exposed")
    if found.address == "198.51.100.7":  # the control: the same probe on its own address fails
        assert exposed == [("edge.origin_exposed", "medium", found.host)]
    else:
        assert exposed == [] and outcome(facts, "edge.origin_exposed") == "pass"


def test_without_a_cdn_there_is_no_hidden_origin_to_expose() -> None:
    no_cdn = replace(
        with_host(G, host(WWW, "203.0.113.5", source="www")),
        pages=[replace(p, headers=ORIGIN_HEADERS) for p in G.pages],
        origin_probes=[probe(f"origin.{DOMAIN}", "203.0.113.10")],
    )
    assert outcome(no_cdn, "edge.origin_exposed") == "skipped"


# --- against the sandbox: report_lab.yaml's edge-store.test -------------------------------

EDGE = SiteDeclaration(domain="edge-store.test", subdomains=["origin", "cached", "preview", "store", "shop"])


@pytest.fixture(scope="module")
def edge_audit(sandbox_scenario):
    sandbox_scenario("report_lab")
    return run_audit(EDGE, options=default_options(samples=2))


def test_only_the_real_origin_is_reported_on_the_sandbox_store(edge_audit) -> None:
    probed = {p.host for p in edge_audit.facts.origin_probes}
    # Every look-alike was really probed and served the store's page…
    assert {f"{n}.edge-store.test" for n in ("shop", "store", "cached", "preview", "origin")} <= probed
    assert all(p.serves_site for p in edge_audit.facts.origin_probes)
    # …but only origin. bypasses the CDN.
    findings = [f for f in edge_audit.evaluation.findings if f.check == "edge.origin_exposed"]
    assert [(str(f.status), f.subject) for f in findings] == [("fail", "origin.edge-store.test")]
    assert "with no Cloudflare header" in findings[0].evidence


def test_the_probe_reads_the_direct_answer_headers_and_canonical_link(edge_audit) -> None:
    by_host = {p.host: p for p in edge_audit.facts.origin_probes}
    assert by_host["preview.edge-store.test"].canonical_link == "https://preview.edge-store.test/"
    assert by_host["origin.edge-store.test"].canonical_link == "https://www.edge-store.test/"
    assert "cf-ray" in by_host["cached.edge-store.test"].headers
    assert "cf-ray" not in by_host["origin.edge-store.test"].headers
