"""Template helpers: ``{% load launchready %}``."""

from __future__ import annotations

from django import template
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_current(context, url: str, exact: bool = False) -> str:
    """``aria-current="page"`` when the current page is ``url`` (or below it, unless exact)."""
    request = context.get("request")
    if request is None:
        return ""
    path = request.path
    if path == url or (not exact and path.startswith(url)):
        return format_html('aria-current="{}"', "page")
    return ""


@register.filter
def budget(ms: int | None) -> str:
    return "" if ms is None else f"{ms:,} ms"


@register.simple_tag(takes_context=True)
def include_first(context, *names: str) -> str:
    """Render the first of ``names`` that exists, or nothing.

    This is how other apps plug into core pages without editing them: e.g. the site
    page renders ``{% include_first "audits/site_audit_panel.html" "sites/_audit_panel.html" %}``,
    so an app template ``audits/templates/audits/site_audit_panel.html`` replaces the
    placeholder as soon as it exists.
    """
    try:
        template = select_template(list(names))
    except TemplateDoesNotExist:
        return ""
    # In the page's own context, as {% include %} does: rendering it anew ran every context
    # processor again for each card (50 site cards: half the workspace overview's time).
    with context.push():
        return template.template.render(context)
