"""What an audit waits for before what (audits/probes/collect.py): the store's own host is
probed (TLS, exposure paths) as soon as its own name is resolved, not after the whole DNS
stage (nameservers, CNAME checks, the registry…), because the route samples wait for the
audit's requests to that host. Read from the sandbox's own log of the requests it got,
at the moment the audit reports the DNS stage done."""

from __future__ import annotations

import asyncio

from audits import detect
from audits.engine import collect, default_options
from audits.facts import RouteSpec, SiteDeclaration

SLOW_DNS_MS = 300  # every answer of the zone this late: the DNS stage takes several in a row
SCENARIO = {
    "name": "audit_schedule",
    "zones": {"early-store.test": {"delay_ms": SLOW_DNS_MS, "records": []}},
    "hosts": [
        {"name": "www.early-store.test", "routes": [{"path": "/", "html": {"title": "Early"}}]},
        {"name": "shop.early-store.test", "routes": [{"path": "/", "html": {"title": "Shop"}}]},
    ],
}


def test_the_stores_own_host_is_probed_once_its_name_is_resolved(sandbox_scenario) -> None:
    sandbox = sandbox_scenario(SCENARIO)
    site = SiteDeclaration(
        domain="early-store.test", subdomains=["shop"], routes=[RouteSpec.standard("home", "/")]
    )
    when_dns_done: list[list[tuple[str, str]]] = []

    def progress(state: dict[str, str]) -> None:
        if state.get("dns") == "done" and not when_dns_done:
            when_dns_done.append([(r.host, r.path) for r in sandbox.http_requests])

    collected = asyncio.run(collect(site, options=default_options(samples=2), progress=progress))
    [received] = when_dns_done
    own_paths = {path for host, path in received if host == "www.early-store.test"}
    assert set(detect.EXPOSURE_PATHS) <= own_paths, sorted(own_paths)
    # The other hosts wait for the DNS stage, which names them.
    assert not any(host == "shop.early-store.test" for host, _ in received)
    facts = collected.facts
    assert {p.host for p in facts.exposure} == {"www.early-store.test", "shop.early-store.test"}
    assert {t.host for t in facts.tls} == {"www.early-store.test", "shop.early-store.test"}
