"""Sensible monitors for a site: homepage, login and order flow, certificate and domain expiry.

Each automatic monitor has an ``auto_key`` ("home", "route:checkout", "cert",
"domain") so syncing again updates targets instead of duplicating, and leaves what
the founder changed (interval, keyword, severity) alone.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from launchready.domains import registered_domain
from launchready.models import Site

from .models import AlertSeverity, Monitor

logger = logging.getLogger(__name__)

# Routes worth an uptime check of their own, and how bad it is when they break.
ROUTE_SEVERITY = {
    "checkout": AlertSeverity.CRITICAL,
    "order": AlertSeverity.CRITICAL,
    "cart": AlertSeverity.WARNING,
    "login": AlertSeverity.WARNING,
}


def desired_monitors(site: Site) -> dict[str, dict]:
    host = site.canonical_host
    registered = registered_domain(site.domain)
    wanted: dict[str, dict] = {
        "home": {
            "kind": Monitor.Kind.HTTP,
            "name": f"Homepage ({host})",
            "url": f"https://{host}/",
            "severity": AlertSeverity.CRITICAL,
            "interval_s": 60,
        },
        "cert": {
            "kind": Monitor.Kind.TLS_EXPIRY,
            "name": f"Certificate of {host}",
            "hostname": host,
            "severity": AlertSeverity.WARNING,
            "interval_s": 86400,
        },
        "domain": {
            "kind": Monitor.Kind.DOMAIN_EXPIRY,
            "name": f"Domain registration of {registered}",
            "hostname": registered,
            "severity": AlertSeverity.WARNING,
            "interval_s": 86400,
        },
    }
    # Only routes the owner confirmed: a guessed or merely found path is not watched.
    for route in site.routes.filter(confirmed=True):
        if route.name not in ROUTE_SEVERITY or route.path == "/":
            continue
        wanted[f"route:{route.name}"] = {
            "kind": Monitor.Kind.HTTP,
            "name": f"{route.name.capitalize()} ({host}{route.path})",
            "url": f"https://{host}{route.path}",
            "severity": ROUTE_SEVERITY[route.name],
            "interval_s": 60 if ROUTE_SEVERITY[route.name] == AlertSeverity.CRITICAL else 300,
            # Any 4xx is down (a 404 is a missing page, not an "up"), unless the owner says this
            # route answers one when healthy (an API call that wants a POST answers GET with 405).
            "expected_statuses": "200-499" if route.accept_client_errors else "200-399",
            "max_response_ms": None,
        }
    return wanted


TARGET_FIELDS = ("url", "hostname", "name", "expected_statuses")


def sync_site_monitors(site: Site) -> list[Monitor]:
    """Create missing automatic monitors and update their targets; returns the created ones."""
    existing = {m.auto_key: m for m in Monitor.objects.filter(site=site).exclude(auto_key="")}
    created = []
    now = timezone.now()
    desired = desired_monitors(site)
    # A route monitor whose route is gone or no longer confirmed watches nothing real: removed,
    # as removing the route itself does (monitoring.signals).
    stale = [m.pk for key, m in existing.items() if key.startswith("route:") and key not in desired]
    if stale:
        Monitor.objects.filter(pk__in=stale).delete()
    for key, spec in desired.items():
        m = existing.get(key)
        if m is None:
            try:
                with transaction.atomic():
                    created.append(
                        Monitor.objects.create(
                            workspace_id=site.workspace_id, site=site, auto_key=key, next_check_at=now, **spec
                        )
                    )
            except IntegrityError:  # created concurrently
                continue
        else:
            changed = [f for f in TARGET_FIELDS if f in spec and getattr(m, f) != spec[f]]
            for f in changed:
                setattr(m, f, spec[f])
            if changed:
                m.save(update_fields=changed)
    return created
