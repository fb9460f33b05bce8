"""Rules of the ``monitoring`` stage that come from the storefront's HTML: is there error
tracking and analytics? And the inventory checks: what the workspace set up to watch
the store (monitored routes, alert channels, escalation contacts, heartbeats)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from audits.detect import ANALYTICS, ERROR_TRACKERS
from audits.facts import HtmlFacts, MonitoringSetup
from audits.findings import FindingData
from audits.rules.base import RuleContext, Skip, rule

# Hosted shop builders whose own analytics is always on.
PLATFORM_ANALYTICS = {
    "shopify": "Shopify Analytics",
    "squarespace": "Squarespace Analytics",
    "wix": "Wix Analytics",
}


def _detection_rule(
    ctx: RuleContext,
    check_id: str,
    what: str,
    flag: str,
    declared: str,
    found: Callable[[HtmlFacts], list[str]],
    looked_for: list[str],
) -> list[FindingData]:
    host = ctx.site.canonical_host
    # The storefront only: a tracker on an admin or staging host does not watch customers.
    pages = ctx.facts.storefront_pages()
    if any(found(p.html) for p in pages if p.html):
        return []
    if declared:
        # Server-side tools never show in the page: the owner's word settles the check, and
        # the report says so instead of claiming we saw it.
        seen = (
            f"not visible in the {len(pages)} storefront page(s) read (expected for a server-side service)"
            if pages
            else "no storefront page could be read to look for it"
        )
        return [ctx.declared(check_id, host, what, declared, seen)]
    if not pages:
        home = ctx.facts.home()
        reason = (
            home.unavailable if home and home.unavailable else "no HTML page of the storefront could be read"
        )
        return [ctx.inconclusive(check_id, host, reason)]
    evidence = [
        f"read {len(pages)} page(s): {', '.join(p.url for p in pages[:5])}",
        f"looked for {', '.join(looked_for)}: none found, and none declared for the site",
    ]
    note = (
        "If you use one that the pages do not show (a server-side service), declare it under "
        f"Edit site → Services you use, or with {flag} NAME on the audit command line."
    )
    return [ctx.fail(check_id, host, evidence, fix_note=note)]


@rule("monitoring.error_tracking_missing")
def error_tracking_missing(ctx: RuleContext) -> list[FindingData]:
    return _detection_rule(
        ctx,
        "monitoring.error_tracking_missing",
        "Error tracking",
        "--error-tracking",
        ctx.site.error_tracking_declared,
        lambda html: html.error_tracking,
        list(ERROR_TRACKERS),
    )


@rule("monitoring.analytics_missing")
def analytics_missing(ctx: RuleContext) -> list[FindingData]:
    hosting = ctx.profile.hosting
    if hosting and hosting.slug in PLATFORM_ANALYTICS:
        return []
    return _detection_rule(
        ctx,
        "monitoring.analytics_missing",
        "Analytics",
        "--analytics",
        ctx.site.analytics_declared,
        lambda html: html.analytics,
        list(ANALYTICS),
    )


# --- Inventory checks: what the workspace set up in Launch Ready (audit task only) -------

# The three flows a store must watch, and the path words that say a monitor covers one.
WATCHED_FLOWS: dict[str, tuple[str, ...]] = {
    "homepage": (),
    "login/account": ("login", "signin", "sign-in", "account"),
    "order flow": ("cart", "checkout", "order", "basket"),
}


def _setup(ctx: RuleContext) -> MonitoringSetup:
    setup = ctx.facts.monitoring_setup
    if setup is None:
        raise Skip("checked only for sites in a workspace (the CLI has no monitoring set-up to read)")
    return setup


def _flow_of(url: str) -> str:
    path = urlsplit(url).path.lower()
    if path in ("", "/"):
        return "homepage"
    for flow, words in WATCHED_FLOWS.items():
        if any(word in path for word in words):
            return flow
    return ""


@rule("monitoring.uptime_routes_missing")
def uptime_routes_missing(ctx: RuleContext) -> list[FindingData]:
    setup = _setup(ctx)
    covered = {_flow_of(url) for url in setup.monitored_urls} - {""}
    missing = [flow for flow in WATCHED_FLOWS if flow not in covered]
    if not missing and len(setup.monitored_urls) >= 3:
        return []
    evidence = [f"monitored: {', '.join(setup.monitored_urls) or 'nothing'}"]
    if missing:
        evidence.append(f"not monitored: {', '.join(missing)}")
    return [ctx.fail("monitoring.uptime_routes_missing", ctx.site.domain, evidence)]


@rule("monitoring.alert_channel_missing")
def alert_channel_missing(ctx: RuleContext) -> list[FindingData]:
    setup = _setup(ctx)
    if setup.verified_channels:
        return []
    evidence = "no verified alert channel"
    if setup.unverified_channels:
        evidence += f"; added but not verified or disabled: {', '.join(setup.unverified_channels)}"
    return [ctx.fail("monitoring.alert_channel_missing", ctx.site.domain, evidence)]


@rule("monitoring.escalation_contact_missing")
def escalation_contact_missing(ctx: RuleContext) -> list[FindingData]:
    if _setup(ctx).escalation_contacts:
        return []
    return [
        ctx.fail(
            "monitoring.escalation_contact_missing", ctx.site.domain, "no escalation contact in the workspace"
        )
    ]


@rule("monitoring.heartbeat_missing")
def heartbeat_missing(ctx: RuleContext) -> list[FindingData]:
    if _setup(ctx).heartbeats:
        return []
    return [
        ctx.fail(
            "monitoring.heartbeat_missing",
            ctx.site.domain,
            "no heartbeat monitor for background jobs or payment webhooks",
        )
    ]
