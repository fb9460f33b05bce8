"""``{% load audit_tags %}``: the audit panels that plug into core pages.

The core site page and overview render our templates through ``include_first`` without
calling our code, so these tags fetch what the panels show. The overview data is
computed once per request for all sites on the page (constant queries).
"""

from __future__ import annotations

from django import template

from audits import presenters

register = template.Library()


@register.simple_tag
def site_audit_panel(site) -> presenters.SitePanel:
    return presenters.site_panel(site)


@register.simple_tag(takes_context=True)
def audit_overview(context) -> presenters.Overview:
    return presenters.overview_for_request(context.get("request"), context.get("sites") or [])


@register.simple_tag(takes_context=True)
def audit_site_status(context, site) -> presenters.SiteStatus | None:
    overview = presenters.overview_for_request(context.get("request"), context.get("sites") or [site])
    status = overview.statuses.get(site.pk)
    if status is None:  # a card for a site outside the page's list: read it alone
        status = presenters.overview([site]).statuses[site.pk]
    return status


@register.filter
def severity_class(severity) -> str:
    return f"sev sev-{severity}"


@register.filter
def audit_duration(ms: int | None) -> str:
    """``9000`` → ``"9.0 s"``, ``95000`` → ``"1 min 35 s"``."""
    if ms is None:
        return ""
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {round(seconds % 60)} s"
