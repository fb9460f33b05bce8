"""Rules of the ``monitoring`` stage that come from the storefront's HTML: is there error
tracking and analytics? (The inventory-based monitoring checks come with monitoring/.)"""

from __future__ import annotations

from collections.abc import Callable

from audits.detect import ANALYTICS, ERROR_TRACKERS
from audits.facts import HtmlFacts
from audits.findings import Finding
from audits.rules.base import RuleContext, rule

# Hosted shop builders whose own analytics is always on.
PLATFORM_ANALYTICS = {
    "shopify": "Shopify Analytics",
    "squarespace": "Squarespace Analytics",
    "wix": "Wix Analytics",
}


def _detection_rule(
    ctx: RuleContext,
    check_id: str,
    declared: str,
    found: Callable[[HtmlFacts], list[str]],
    looked_for: list[str],
) -> list[Finding]:
    host = ctx.site.canonical_host
    if declared:
        return []
    # The storefront only: a tracker on an admin or staging host does not watch customers.
    pages = ctx.facts.storefront_pages()
    if any(found(p.html) for p in pages if p.html):
        return []
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
    return [ctx.fail(check_id, host, evidence)]


@rule("monitoring.error_tracking_missing")
def error_tracking_missing(ctx: RuleContext) -> list[Finding]:
    return _detection_rule(
        ctx,
        "monitoring.error_tracking_missing",
        ctx.site.error_tracking_declared,
        lambda html: html.error_tracking,
        list(ERROR_TRACKERS),
    )


@rule("monitoring.analytics_missing")
def analytics_missing(ctx: RuleContext) -> list[Finding]:
    hosting = ctx.profile.hosting
    if hosting and hosting.slug in PLATFORM_ANALYTICS:
        return []
    return _detection_rule(
        ctx,
        "monitoring.analytics_missing",
        ctx.site.analytics_declared,
        lambda html: html.analytics,
        list(ANALYTICS),
    )
