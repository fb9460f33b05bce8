"""Template helpers: ``{% load launchready %}``."""

from __future__ import annotations

from django import template
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
