"""Keep a site's automatic monitors in step with the site and its critical routes."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from launchready.models import CriticalRoute, Site

from .models import Monitor
from .sites import sync_site_monitors

logger = logging.getLogger(__name__)


@receiver(post_save, sender=Site, dispatch_uid="monitoring.site_monitors")
def site_saved(sender, instance: Site, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    sync_site_monitors(instance)
    # Routes added in the same transaction (bulk-created, so no signal of their own).
    transaction.on_commit(
        lambda: sync_site_monitors(instance) if Site.objects.filter(pk=instance.pk).exists() else None
    )


@receiver(post_save, sender=CriticalRoute, dispatch_uid="monitoring.route_monitor")
def route_saved(sender, instance: CriticalRoute, raw: bool = False, **kwargs) -> None:
    if not raw:
        sync_site_monitors(instance.site)


@receiver(post_delete, sender=CriticalRoute, dispatch_uid="monitoring.route_monitor_delete")
def route_deleted(sender, instance: CriticalRoute, **kwargs) -> None:
    Monitor.objects.filter(site_id=instance.site_id, auto_key=f"route:{instance.name}").delete()
