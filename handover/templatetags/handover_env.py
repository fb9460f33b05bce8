"""``{% load handover_env %}``: the env-var panel of the site page."""

from __future__ import annotations

from django import template

from ..services_env import EnvPanel, env_panel

register = template.Library()


@register.simple_tag
def env_inventory_panel(site) -> EnvPanel:
    """Environments with their counts, what is undocumented, the diff, the last gate call (five queries)."""
    return env_panel(site)
