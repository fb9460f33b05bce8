"""``{% load handover_deploys %}``: the deploy panel of the site page."""

from __future__ import annotations

from django import template

from ..deploys import EnvironmentHistory, history

register = template.Library()


@register.simple_tag
def deploy_panel(site) -> list[EnvironmentHistory]:
    """The newest deploys of each environment with its last known good (three queries)."""
    return history(site, per_environment=5)
