"""``{% load handover_ownership %}``: code spans in our own texts (the host guides)."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_CODE = re.compile(r"`([^`]+)`")


@register.filter
def code_spans(text: str) -> SafeString:
    """Our own guide texts write commands as `code`: escape everything, then show those as <code>."""
    return mark_safe(_CODE.sub(r"<code>\1</code>", escape(text)))  # noqa: S308 - escaped first
