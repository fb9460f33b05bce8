"""The audit's API calls, RDAP and certificate transparency, through the network layer's
httpx client against the sandbox: real servers on loopback, assertions on the facts and
on the request budget that counts them."""

from __future__ import annotations

import asyncio

import pytest

from audits.engine import default_options
from audits.facts import HtmlFacts, PageFacts, ScriptRef, SiteDeclaration
from audits.probes import ProbeRun
from audits.probes.dns import ct_names, probe_rdap
from audits.probes.exposure import probe_source_maps

CT_URL = "https://ct.guesslab.test/?q={domain}&output=json"


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario("guess_lab")


def _run(domain: str, **options) -> ProbeRun:
    return ProbeRun(SiteDeclaration(domain=domain), options=default_options(**options))


def test_rdap_reads_the_registration_through_the_api_client(sb):
    run = _run("wild-store.test")
    rdap = asyncio.run(probe_rdap(run))
    assert rdap.unavailable is None
    assert rdap.registrar == "Sandbox Registrar"
    assert rdap.expires_at is not None and "client transfer prohibited" in rdap.statuses
    assert run.requests == 1  # counted against the audit's request budget


def test_rdap_of_a_subdomain_site_asks_about_the_registered_domain(sb):
    rdap = asyncio.run(probe_rdap(_run("app.wild-store.test")))
    assert rdap.domain == "wild-store.test" and rdap.registrar == "Sandbox Registrar"


def test_rdap_without_a_record_is_unavailable_with_a_sentence(sb):
    rdap = asyncio.run(probe_rdap(_run("unregistered-store.test")))
    assert rdap.expires_at is None
    assert rdap.unavailable is not None and "no record of this domain" in rdap.unavailable.reason


def test_rdap_on_a_spent_budget_is_unavailable_and_sends_nothing(sb):
    run = _run("wild-store.test", request_budget=0)
    rdap = asyncio.run(probe_rdap(run))
    assert rdap.unavailable is not None and "request budget (0 requests)" in rdap.unavailable.reason
    assert rdap.registrar == "" and rdap.expires_at is None


def test_certificate_transparency_names_under_the_domain_only(sb):
    run = _run("wild-store.test", ct_url=CT_URL)
    names, unavailable = asyncio.run(ct_names(run))
    assert unavailable is None
    # Not the domain itself, not notwild-store.test, not wild-store.test.evil.test.
    assert names == ["checkout.wild-store.test", "old-shop.wild-store.test", "www.wild-store.test"]
    assert run.requests == 1


def test_certificate_transparency_goes_through_the_ssrf_guard(sb):
    run = _run("wild-store.test", ct_url="http://127.0.0.1:9/ct?q={domain}")
    names, unavailable = asyncio.run(ct_names(run))
    assert names == []
    assert unavailable is not None and "could not be reached" in unavailable.reason
    assert "127.0.0.1" in unavailable.reason


def test_certificate_transparency_that_is_not_a_list_is_unavailable(sb):
    run = _run("wild-store.test", ct_url="https://www.wild-store.test/")
    names, unavailable = asyncio.run(ct_names(run))
    assert names == [] and unavailable is not None and "not JSON" in unavailable.reason


def test_source_maps_are_looked_for_on_the_stores_own_hosts_only(sb):
    run = _run("wild-store.test")
    scripts = [
        ScriptRef(src="https://www.wild-store.test/app.js"),
        ScriptRef(src="https://cdn.notwild-store.test/app.js"),  # someone else's domain
    ]
    home = PageFacts(url="https://www.wild-store.test/", route="home", html=HtmlFacts(scripts=scripts))
    probes = asyncio.run(probe_source_maps(run, [home]))
    assert [p.url for p in probes] == ["https://www.wild-store.test/app.js.map"]
