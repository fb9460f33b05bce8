"""``{{ seconds|duration }}``: "1 hour", "5 minutes", "90 seconds", the words the forms use."""

from __future__ import annotations

from django import template

from ..forms import duration_label

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """A number of seconds in the largest unit that divides it; "" for no value."""
    if seconds in (None, ""):
        return ""
    return duration_label(int(seconds))
