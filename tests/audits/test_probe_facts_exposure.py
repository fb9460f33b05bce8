"""The exposure probe against the sandbox's real HTTPS servers: what each well-known path
holds, as typed facts (like ``tests/email/test_probe.py`` for email). Secret values never
reach the facts, only variable names."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from audits import detect
from audits.engine import default_options
from audits.facts import ExposureProbe, PageFacts, SiteDeclaration
from audits.facts.exposure import Sniff
from audits.facts.web import HtmlFacts, ScriptRef
from audits.probes.base import ProbeRun
from audits.probes.exposure import probe_exposure, probe_source_maps
from launchready.domains import hostname_under
from launchready.net import NetConfig
from sandbox.runner import Sandbox

ENV = "# production\nDATABASE_URL=postgres://shop:hunter2@db/shop\nSTRIPE_SECRET_KEY=sk_live_abc\n"
DJANGO_404 = "<html><body><h1>Page not found (404)</h1><p>You're seeing this because DEBUG = True</p>"
SCENARIO = {
    "name": "exposure_facts",
    "hosts": [
        {
            "name": "leaky.exposure.test",
            "routes": [
                {"path": "/.env", "body": ENV, "content_type": "text/plain"},
                {"path": "/.git/HEAD", "body": "ref: refs/heads/main\n", "content_type": "text/plain"},
                {"path": "/uploads/", "body": "<html><title>Index of /uploads</title></html>"},
                {"path": "/static/app.js.map", "body": '{"version": 3, "mappings": "AAAA"}'},
                {"path": "/launchready-check-*", "status": 404, "body": DJANGO_404},
            ],
        },
        {"name": "tidy.exposure.test", "routes": [{"path": "/", "body": "<html>shop</html>"}]},
        {"name": "walled.exposure.test", "routes": [{"path": "/*", "status": 429}]},
    ],
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def run() -> ProbeRun:
    return ProbeRun(SiteDeclaration(domain="exposure.test"), options=default_options())


@pytest.fixture(scope="module")
def probes(sb) -> dict[str, ExposureProbe]:
    hosts = ["leaky.exposure.test", "tidy.exposure.test", "walled.exposure.test"]
    return {p.url: p for p in asyncio.run(probe_exposure(run(), hosts))}


def test_an_exposed_env_file_is_named_by_its_variables_never_its_values(probes):
    env = probes["https://leaky.exposure.test/.env"]
    assert (env.status, env.sniff) == (200, Sniff.ENV_FILE)
    assert env.detail == "2 variables: DATABASE_URL, STRIPE_SECRET_KEY"
    assert "hunter2" not in str(env.to_dict()) and "sk_live" not in str(env.to_dict())


def test_git_metadata_and_a_directory_listing(probes):
    head = probes["https://leaky.exposure.test/.git/HEAD"]
    assert head.sniff == Sniff.GIT_HEAD and head.detail == "ref: refs/heads/main"
    assert probes["https://leaky.exposure.test/uploads/"].sniff == Sniff.DIRECTORY_LISTING


def test_a_debug_page_on_a_path_that_cannot_exist(probes):
    (debug,) = [p for p in probes.values() if "leaky" in p.url and "/launchready-check-" in p.url]
    assert (debug.status, debug.sniff) == (404, Sniff.DEBUG_PAGE)
    assert debug.detail == "a Django debug page / stack trace"


def test_a_tidy_host_exposes_nothing(probes):
    tidy = [p for p in probes.values() if p.url.startswith("https://tidy.")]
    assert tidy and all(p.status == 404 and p.sniff == Sniff.NOTHING for p in tidy)
    assert all(p.unavailable is None for p in tidy)


def test_a_rate_limited_host_could_not_be_looked_at(probes):
    walled = [p for p in probes.values() if p.url.startswith("https://walled.")]
    assert walled and all(p.sniff == Sniff.NOTHING and p.unavailable is not None for p in walled)
    assert "rate limited" in walled[0].unavailable.reason


def test_source_maps_of_the_homepage_bundles(sb):
    home = PageFacts(
        url="https://leaky.exposure.test/",
        route="home",
        status=200,
        html=HtmlFacts(
            scripts=[
                ScriptRef(src="https://leaky.exposure.test/static/app.js"),
                ScriptRef(src="https://cdn.elsewhere.test/lib.js"),  # not the store's: not probed
            ]
        ),
    )
    (found,) = asyncio.run(probe_source_maps(run(), [home]))
    assert found.url == "https://leaky.exposure.test/static/app.js.map"
    assert (found.sniff, found.detail) == (Sniff.SOURCE_MAP, "a JavaScript source map")


def test_exposure_facts_round_trip_through_json(probes):
    for probe in probes.values():
        assert ExposureProbe.from_dict(probe.to_dict()) == probe


# The demo stores, each probed twice: over kept-alive connections (the default) and with a
# fresh connection per path. The facts must not differ; only the connections do.
DEMO_DOMAINS = {"demo_good": "good-store.test", "demo_broken": "broken-store.test"}


@pytest.fixture(scope="module", params=sorted(DEMO_DOMAINS))
def demo(request):
    with Sandbox(request.param) as sandbox:  # its own settings below, none of the module's
        yield sandbox


def demo_exposure(sandbox: Sandbox, keep_alive: bool) -> tuple[list[str], int, list[tuple[str, int]]]:
    """The facts (the random path's name masked), the requests charged to the budget, and
    (host, connection number) of each request the store's servers received."""
    domain = DEMO_DOMAINS[sandbox.scenario.name]
    hosts = [h.name for h in sandbox.scenario.hosts if h.https and hostname_under(h.name, domain)]
    probe_run = ProbeRun(
        SiteDeclaration(domain=domain),
        config=NetConfig.from_env(sandbox.env),
        options=default_options(exposure_keep_alive=keep_alive),
    )
    sandbox.clear_http_requests()
    found = asyncio.run(probe_exposure(probe_run, hosts))
    masked = [
        re.sub(r"launchready-check-[0-9a-f]{8}", "launchready-check-*", json.dumps(p.to_dict()))
        for p in found
    ]
    return masked, probe_run.requests, [(r.host, r.connection) for r in sandbox.http_requests]


def test_kept_alive_connections_find_the_same_exposure_facts_on_the_demo_stores(demo):
    kept, kept_charged, kept_seen = demo_exposure(demo, keep_alive=True)
    fresh, fresh_charged, fresh_seen = demo_exposure(demo, keep_alive=False)
    assert kept == fresh
    hosts = {host for host, _ in fresh_seen}
    assert len(kept) == len(hosts) * (len(detect.EXPOSURE_PATHS) + 1)
    # Every request is charged to the budget. Fewer are sent: on a host whose certificate is
    # refused, the paths after the first are read past it at once instead of tried twice.
    assert len(kept) <= kept_charged <= fresh_charged
    assert len(set(fresh_seen)) == len(fresh_seen)  # without a session: a connection per request
    assert len(kept_seen) == len(fresh_seen) == len(kept)  # each path read once, either way
    # With one: a few connections per host (exposure_connections), whatever the number of
    # paths; the store's own host, whose route samples wait for these, all at once.
    lanes = default_options().exposure_connections
    assert 1 <= lanes < len(detect.EXPOSURE_PATHS)
    own = SiteDeclaration(domain=DEMO_DOMAINS[demo.scenario.name]).canonical_host
    per_host = {host: {n for h, n in kept_seen if h == host} for host in hosts - {own}}
    assert len(per_host) >= 4 and all(len(numbers) <= lanes for numbers in per_host.values()), per_host
