"""Rules of monitoring.* (audits/rules/monitoring.py): error tracking and analytics seen
on the store's pages, and the workspace's monitoring set-up. A failing input per check
id, the good store passes, and without an account (the CLI) the set-up checks are
skipped, never passed."""

from __future__ import annotations

import pytest

from audits.facts import PageFacts
from audits.findings import Status
from audits.rules import evaluate
from tests.audits.factories import (
    DOMAIN,
    HOME,
    NOW,
    WWW,
    failing,
    good_facts,
    html,
    outcome,
    page,
    replace,
    with_page,
)

G = good_facts()
ADMIN = f"admin.{DOMAIN}"


def _all_pages(**html_changes):
    return replace(G, pages=[replace(p, html=replace(p.html, **html_changes)) for p in G.pages])


FAIL_CASES = [
    pytest.param(
        "monitoring.error_tracking_missing", _all_pages(error_tracking=[]), "medium", WWW, id="no-tracker"
    ),
    pytest.param("monitoring.analytics_missing", _all_pages(analytics=[]), "low", WWW, id="no-analytics"),
    pytest.param(
        "monitoring.uptime_routes_missing",
        replace(G, monitoring_setup=replace(G.monitoring_setup, monitored_urls=[f"https://{WWW}/"])),
        "high",
        G.site.domain,
        id="homepage-only",
    ),
    pytest.param(
        "monitoring.alert_channel_missing",
        replace(
            G,
            monitoring_setup=replace(
                G.monitoring_setup, verified_channels=[], unverified_channels=["Email: a@b"]
            ),
        ),
        "high",
        G.site.domain,
        id="unverified-only",
    ),
    pytest.param(
        "monitoring.escalation_contact_missing",
        replace(G, monitoring_setup=replace(G.monitoring_setup, escalation_contacts=[])),
        "medium",
        G.site.domain,
        id="no-contact",
    ),
    pytest.param(
        "monitoring.heartbeat_missing",
        replace(G, monitoring_setup=replace(G.monitoring_setup, heartbeats=[])),
        "low",
        G.site.domain,
        id="no-heartbeat",
    ),
]


@pytest.mark.parametrize(("check", "facts", "severity", "subject"), FAIL_CASES)
def test_check_fails(check, facts, severity, subject) -> None:
    assert (check, severity, subject) in failing(facts, check)


@pytest.mark.parametrize("check", sorted({p.values[0] for p in FAIL_CASES}))
def test_good_store_passes(check) -> None:
    assert failing(G, check) == []
    assert outcome(G, check) == "pass"


def test_inventory_checks_are_skipped_without_an_account() -> None:
    facts = replace(G, monitoring_setup=None)  # the CLI: nothing to read
    for check in ("monitoring.uptime_routes_missing", "monitoring.alert_channel_missing"):
        assert outcome(facts, check) == "skipped"


def test_declared_error_tracking_satisfies_the_check() -> None:
    facts = _all_pages(error_tracking=[])
    facts = replace(facts, site=replace(facts.site, error_tracking_declared="Sentry (server side)"))
    # It passes on the owner's word, and the report says so (an info line, not a failure).
    assert outcome(facts, "monitoring.error_tracking_missing") == "pass"
    assert failing(facts, "monitoring.error_tracking_missing") == [
        ("monitoring.error_tracking_missing", "info", WWW)
    ]


def test_shopify_counts_as_platform_analytics() -> None:
    facts = _all_pages(analytics=[])
    facts = with_page(
        facts,
        replace(page(html=html(analytics=[])), headers={"x-shopid": "123", "content-type": "text/html"}),
    )
    assert failing(facts, "monitoring.analytics_missing") == []


def test_no_readable_page_makes_detection_inconclusive() -> None:
    facts = replace(G, pages=[PageFacts(url=HOME, route="home", error="timed out")])
    findings = evaluate(facts, NOW, ["monitoring.analytics_missing"]).findings
    assert [f.status for f in findings] == [Status.INCONCLUSIVE]


def test_tracker_on_an_admin_host_does_not_count_for_the_storefront() -> None:
    facts = _all_pages(error_tracking=[])
    facts = with_page(facts, page(f"https://{ADMIN}/", "", html=html(error_tracking=["Sentry"])))
    assert failing(facts, "monitoring.error_tracking_missing") == [
        ("monitoring.error_tracking_missing", "medium", WWW)
    ]


def test_apex_root_counts_as_storefront_when_www_is_unreadable() -> None:
    # www's pages could not be read; the apex serves the store itself, without trackers.
    unreadable = [replace(p, status=None, html=None, error="certificate expired") for p in G.pages if p.route]
    apex = page(f"https://{DOMAIN}/", "", html=html(error_tracking=[], analytics=[]))
    facts = replace(G, pages=[*unreadable, apex])
    assert failing(facts, "monitoring.error_tracking_missing") == [
        ("monitoring.error_tracking_missing", "medium", WWW)
    ]
