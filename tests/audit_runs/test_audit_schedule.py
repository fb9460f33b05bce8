"""What an audit waits for before what (audits/probes/collect.py), read from the sandbox's
own log of the requests it received.

The route samples wait until none of the audit's other requests to the store's own host
is in flight (audits/probes/turns.py), so those requests are the chain the audit waits
on: they start as soon as they can (the own host's TLS and exposure paths once its name
is resolved, not after the whole DNS stage), and the rest (DNS, the registry, email,
the other hosts: the side loop) starts once the own host has answered its route pages."""

from __future__ import annotations

import asyncio

from django.test import override_settings

from audits import detect
from audits.engine import collect, default_options
from audits.facts import RouteSpec, SiteDeclaration
from sandbox.runner import Sandbox

OWN = "www.early-store.test"
OTHER = "shop.early-store.test"
SITE = SiteDeclaration(
    domain="early-store.test", subdomains=["shop"], routes=[RouteSpec.standard("home", "/")]
)


def scenario(*, dns_delay_ms: int = 0, home_latency_ms: int = 0) -> dict:
    return {
        "name": "audit_schedule",
        "zones": {"early-store.test": {"delay_ms": dns_delay_ms, "records": []}},
        "registrations": {"early-store.test": {"expires": "+365d"}},
        "hosts": [
            {"name": OWN, "routes": [{"path": "/", "html": {"title": "Early"}, "latency": home_latency_ms}]},
            {"name": OTHER, "routes": [{"path": "/", "html": {"title": "Shop"}}]},
        ],
    }


def test_the_stores_own_host_is_probed_once_its_name_is_resolved() -> None:
    # Every DNS answer late: the DNS stage takes several in a row, the own name one.
    with Sandbox(scenario(dns_delay_ms=300)) as sandbox, override_settings(**sandbox.settings):
        when_dns_done: list[list[tuple[str, str]]] = []

        def progress(state: dict[str, str]) -> None:
            if state.get("dns") == "done" and not when_dns_done:
                when_dns_done.append([(r.host, r.path) for r in sandbox.http_requests])

        collected = asyncio.run(collect(SITE, options=default_options(samples=2), progress=progress))
    [received] = when_dns_done
    own_paths = {path for host, path in received if host == OWN}
    assert set(detect.EXPOSURE_PATHS) <= own_paths, sorted(own_paths)
    # The other hosts wait for the DNS stage, which names them.
    assert not any(host == OTHER for host, _ in received)
    assert {p.host for p in collected.facts.exposure} == {OWN, OTHER}
    assert {t.host for t in collected.facts.tls} == {OWN, OTHER}


def test_the_rest_waits_for_the_stores_own_host_to_answer_its_pages() -> None:
    # The homepage answers late: the registry (RDAP, on the side loop) is asked only after
    # the own host's first requests, its exposure paths included, have gone out.
    with Sandbox(scenario(home_latency_ms=1500)) as sandbox, override_settings(**sandbox.settings):
        collected = asyncio.run(collect(SITE, options=default_options(samples=1)))
        seen = [(r.host, r.path) for r in sandbox.http_requests]
    rdap = [i for i, (_host, path) in enumerate(seen) if path.startswith("/rdap/")]
    own_exposure = [i for i, (host, path) in enumerate(seen) if host == OWN and path in detect.EXPOSURE_PATHS]
    assert len(rdap) == 1 and len(own_exposure) == len(detect.EXPOSURE_PATHS), seen
    assert max(own_exposure) < rdap[0]
    assert collected.facts.rdap is not None and collected.facts.rdap.unavailable is None
