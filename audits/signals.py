"""A new site gets its audit settings at once, so read paths never have to create them."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from audits.models import SiteAuditSettings
from launchready.models import Site


@receiver(post_save, sender=Site, dispatch_uid="audits-site-settings")
def create_audit_settings(sender, instance: Site, created: bool, **kwargs) -> None:
    if created:
        SiteAuditSettings.objects.get_or_create(site=instance, defaults={"next_daily_at": timezone.now()})
