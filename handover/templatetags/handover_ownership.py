"""``{% load handover_ownership %}``: the ownership panel of the site page, and code spans in our own texts."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..ownership import Ownership, ownership

register = template.Library()

_CODE = re.compile(r"`([^`]+)`")


@register.simple_tag
def ownership_panel(site) -> Ownership:
    """Services with what the latest audit detected, subdomains and escalation contacts (five queries)."""
    return ownership(site)


@register.filter
def code_spans(text: str) -> SafeString:
    """Our own guide texts write commands as `code`: escape everything, then show those as <code>."""
    return mark_safe(_CODE.sub(r"<code>\1</code>", escape(text)))  # noqa: S308 - escaped first
