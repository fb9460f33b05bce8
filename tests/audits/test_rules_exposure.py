"""Rules of audits/rules/exposure.py: public secrets and source, debug pages, open
admin/staging hosts (exposure.*) and deploy.staging_not_separated. A failing input per
check id, the good store passes, and a host or probe that could not be looked at is
"inconclusive" with its reason (or "skipped" when nothing applies), never a pass."""

from __future__ import annotations

import pytest

from audits.facts import DnsStatus, ExposureProbe, PageFacts, Sniff, Unavailable
from audits.findings import Status
from audits.rules import evaluate
from tests.audits.factories import (
    DOMAIN,
    HOME,
    NOW,
    WWW,
    failing,
    good_facts,
    host,
    html,
    outcome,
    page,
    replace,
    with_dns,
    with_exposure,
    with_host,
    with_page,
)

G = good_facts()
APP = f"app.{DOMAIN}"
STAGING = f"staging.{DOMAIN}"
ADMIN = f"admin.{DOMAIN}"
NO_ANSWER = "the host did not answer within 10 s."
TIMEOUT = DnsStatus.TIMEOUT


def _probe(path: str, sniff: Sniff, detail: str = "", content_type: str = "text/plain"):
    return with_exposure(G, ExposureProbe(f"https://{WWW}{path}", 200, content_type, sniff, detail))


def _open_host(name: str, **kw):
    return with_page(G, page(f"https://{name}/", "", html=html(title="Staging"), body_sha256="other", **kw))


def _staging_copy():
    facts = with_host(G, host(STAGING, "104.16.1.9"))
    return with_page(facts, page(f"https://{STAGING}/", "", body_sha256="home-hash"))


FAIL_CASES = [
    pytest.param(
        "exposure.env_file",
        _probe("/.env", Sniff.ENV_FILE, "2 variables: DB_URL, STRIPE_KEY"),
        "blocker",
        WWW,
        id="env",
    ),
    pytest.param(
        "exposure.git",
        _probe("/.git/HEAD", Sniff.GIT_HEAD, "ref: refs/heads/main"),
        "blocker",
        WWW,
        id="git-head",
    ),
    pytest.param(
        "exposure.debug_page",
        with_page(G, page(f"https://{WWW}/cart", "cart", status=500, html=html(debug_page="Django"))),
        "blocker",
        WWW,
        id="django-debug",
    ),
    pytest.param(
        "exposure.debug_page",
        _probe("/phpinfo.php", Sniff.DEBUG_PAGE, "phpinfo"),
        "blocker",
        WWW,
        id="phpinfo",
    ),
    pytest.param(
        "exposure.directory_listing",
        _probe("/uploads/", Sniff.DIRECTORY_LISTING),
        "medium",
        WWW,
        id="autoindex",
    ),
    pytest.param("exposure.admin_public", _open_host(ADMIN), "high", ADMIN, id="open-admin"),
    pytest.param("exposure.admin_public", _open_host(STAGING), "high", STAGING, id="open-staging"),
    pytest.param("exposure.staging_indexable", _open_host(STAGING), "medium", STAGING, id="indexable"),
    pytest.param(
        "exposure.source_maps", _probe("/assets/app.js.map", Sniff.SOURCE_MAP), "low", WWW, id="map"
    ),
    pytest.param("deploy.staging_not_separated", _staging_copy(), "medium", STAGING, id="same-page"),
]


@pytest.mark.parametrize(("check", "facts", "severity", "subject"), FAIL_CASES)
def test_check_fails(check, facts, severity, subject) -> None:
    assert (check, severity, subject) in failing(facts, check)


@pytest.mark.parametrize("check", sorted({p.values[0] for p in FAIL_CASES}))
def test_good_store_passes(check) -> None:
    assert failing(G, check) == []
    assert outcome(G, check) == "pass"


def test_protected_admin_host_passes() -> None:
    for protected in (
        _open_host(ADMIN, status=401),
        _open_host(ADMIN, final_url=f"https://{ADMIN}/login"),
        _open_host(ADMIN, final_url="https://example.cloudflareaccess.com/cdn-cgi/access/login"),
    ):
        assert failing(protected, "exposure.admin_public") == []


def test_noindex_staging_is_not_indexable() -> None:
    facts = _open_host(STAGING, headers={"x-robots-tag": "noindex, nofollow", "content-type": "text/html"})
    assert failing(facts, "exposure.staging_indexable") == []


def test_env_probe_blocked_is_inconclusive() -> None:

    facts = with_exposure(
        G, ExposureProbe(f"https://{WWW}/.env", None, unavailable=Unavailable("rate limited"))
    )
    findings = evaluate(facts, NOW, ["exposure.env_file"]).findings
    assert [(f.status, f.subject) for f in findings] == [(Status.INCONCLUSIVE, WWW)]


def test_staging_cname_of_the_production_apex_is_not_separated() -> None:
    facts = with_host(G, host(STAGING, "104.16.1.1", chain=[DOMAIN]))
    (finding,) = evaluate(facts, NOW, ["deploy.staging_not_separated"]).findings
    assert finding.subject == STAGING
    assert "CNAME of the production host example.com" in finding.evidence


def test_staging_on_the_same_origin_address_is_not_separated() -> None:
    facts = with_host(G, host(DOMAIN, "203.0.113.10", source="apex"))
    facts = with_host(facts, host(STAGING, "203.0.113.10"))
    assert failing(facts, "deploy.staging_not_separated") == [
        ("deploy.staging_not_separated", "medium", STAGING)
    ]


def test_shared_cdn_address_is_not_the_same_origin() -> None:
    assert failing(with_host(G, host(STAGING, "104.16.1.1")), "deploy.staging_not_separated") == []


def test_admin_host_redirecting_to_the_store_is_not_an_open_admin() -> None:
    facts = with_page(G, page(f"https://{ADMIN}/", "", final_url=HOME, html=html(title="Example Store")))
    assert failing(facts, "exposure.admin_public") == []


# --- hosts and probes that could not be looked at -------------------------------------


def _findings(facts, check):
    return [(str(f.status), f.subject) for f in evaluate(facts, NOW, [check]).findings]


def _evidence(facts, check) -> str:
    (finding,) = evaluate(facts, NOW, [check]).findings
    return finding.evidence


def _no_name_answered():
    return with_dns(G, hosts=[host(h.name, source=h.source, status=TIMEOUT) for h in G.dns.hosts])


def _app_unanswered():
    return with_page(G, PageFacts(url=f"https://{APP}/", error=NO_ANSWER))


def test_debug_pages_and_listings_are_inconclusive_for_a_host_that_never_answered() -> None:
    facts = _app_unanswered()
    for check in ("exposure.debug_page", "exposure.directory_listing"):
        assert _findings(facts, check) == [("inconclusive", APP)], check
        assert NO_ANSWER in _evidence(facts, check)
    # The same host answering once (a probed path) is enough to have looked at it.
    answered = replace(facts, exposure=[*facts.exposure, ExposureProbe(f"https://{APP}/.env", 404)])
    assert outcome(answered, "exposure.debug_page") == "pass"


def _without_map_probe(facts):
    return replace(facts, exposure=[p for p in facts.exposure if not p.url.endswith(".map")])


def test_source_maps_are_inconclusive_when_the_homepage_could_not_be_read() -> None:
    unread_home = with_page(G, PageFacts(url=f"https://{WWW}/", route="home", error=NO_ANSWER))
    facts = _without_map_probe(unread_home)
    assert _findings(facts, "exposure.source_maps") == [("inconclusive", WWW)]
    assert "source maps were not looked for" in _evidence(facts, "exposure.source_maps")
    # A readable homepage with no script of the store's own has no source map to expose.
    assert outcome(_without_map_probe(G), "exposure.source_maps") == "pass"


def test_an_admin_host_that_did_not_answer_is_not_a_protected_one() -> None:
    facts = with_page(G, PageFacts(url=f"https://{ADMIN}/", error=NO_ANSWER))
    assert _findings(facts, "exposure.admin_public") == [("inconclusive", ADMIN)]
    assert NO_ANSWER in _evidence(facts, "exposure.admin_public")


def test_open_host_checks_are_inconclusive_when_no_name_could_be_looked_up() -> None:
    facts = _no_name_answered()
    for check in ("exposure.admin_public", "exposure.staging_indexable", "deploy.staging_not_separated"):
        assert _findings(facts, check) == [("inconclusive", DOMAIN)], check
        assert "could not be looked for" in _evidence(facts, check)


def test_open_host_checks_are_skipped_when_nothing_was_looked_up_or_fetched() -> None:
    facts = replace(G, dns=None, pages=[])
    for check in ("exposure.admin_public", "exposure.staging_indexable", "deploy.staging_not_separated"):
        assert outcome(facts, check) == "skipped", check
