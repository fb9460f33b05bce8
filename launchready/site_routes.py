"""A site's critical routes: what a new site starts with, the routes an audit found on the
store (proposed, not yet confirmed) and the owner's confirmation.

Only confirmed routes are timed as critical and get a monitor (monitoring.sites). A new
site starts with its homepage only: every other path is found on the store by the first
audit (audits/probes/route_discovery.py) and waits for the owner to confirm it, so no
guessed path is ever timed or watched as if it were real.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from .models import CriticalRoute, Site

logger = logging.getLogger(__name__)


def add_starting_routes(site: Site) -> None:
    """The homepage: the one path every store has, confirmed from the start."""
    CriticalRoute.objects.get_or_create(
        site=site,
        name="home",
        defaults={
            "path": "/",
            "kind": CriticalRoute.Kind.PAGE,
            "budget_ms": CriticalRoute.PAGE_BUDGET_MS,
            "source": CriticalRoute.Source.STANDARD,
            "confirmed": True,
        },
    )


def propose_found_routes(site: Site, found: Iterable[tuple[str, str, str]]) -> int:
    """Record (name, path, source) found on the store as routes to confirm; returns how many
    rows changed. A confirmed route (the owner's word) is never touched; an unconfirmed one
    follows what the latest audit found."""
    sources = set(CriticalRoute.Source.values)
    existing = {r.name: r for r in site.routes.all()}
    changed = 0
    with transaction.atomic():
        for name, path, source in found:
            if source not in sources or not path.startswith("/") or len(path) > 500:
                continue
            route = existing.get(name)
            if route is None:
                CriticalRoute.build(site, name, path, source=source, confirmed=False).save()
                changed += 1
            elif not route.confirmed and (route.path, route.source) != (path, source):
                route.path, route.source = path, source
                route.save(update_fields=["path", "source"])
                changed += 1
    if changed:
        logger.info("routes proposed site=%s changed=%d", site.uuid, changed)
    return changed


def confirm_all(site: Site) -> int:
    """Confirm every route still waiting; each save syncs its monitor (monitoring.signals)."""
    waiting = list(site.routes.filter(confirmed=False))
    with transaction.atomic():
        for route in waiting:
            route.confirmed = True
            route.save(update_fields=["confirmed"])
    return len(waiting)
