"""Audit settings follow the site: created with it, and its ownership proof forgotten
when its domain changes (the proof was for the old domain)."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from audits.models import AuditRun, SiteAuditSettings
from launchready.models import Site
from launchready.site_routes import propose_found_routes


@receiver(post_save, sender=Site, dispatch_uid="audits-site-settings")
def create_audit_settings(sender, instance: Site, created: bool, **kwargs) -> None:
    if created:
        SiteAuditSettings.objects.get_or_create(site=instance, defaults={"next_daily_at": timezone.now()})


@receiver(post_save, sender=Site, dispatch_uid="audits-site-domain-verification")
def forget_verification_of_another_domain(
    sender, instance: Site, created: bool, update_fields=None, **kwargs
) -> None:
    """Whatever saved the site (the web form, the admin, a script), a new domain is unproven.

    ``SiteAuditSettings.is_verified`` also compares the domains, which covers bulk updates
    that skip this signal; clearing the row here makes the page say so plainly.
    """
    if created or (update_fields is not None and "domain" not in update_fields):
        return
    row = (
        SiteAuditSettings.objects.filter(site=instance, verified_at__isnull=False)
        .exclude(verified_domain=instance.domain)
        .first()
    )
    if row is None:
        return
    row.forget_verification(
        f"Ownership was proven for {row.verified_domain or 'the previous domain'}; the domain is now "
        f"{instance.domain}, so prove it again for the new domain."
    )
    row.save(update_fields=["verified_at", "verified_method", "verified_domain", "verification_error"])


@receiver(post_save, sender=AuditRun, dispatch_uid="audits-propose-found-routes")
def propose_routes_found_by_the_audit(sender, instance: AuditRun, raw: bool = False, **kwargs) -> None:
    """The routes a finished audit found on the store wait on the site page for confirmation."""
    if raw or instance.status != AuditRun.Status.DONE:
        return
    found = (instance.facts or {}).get("discovered_routes") or {}
    routes = [
        (r["name"], r["path"], r["source"]) for r in found.get("routes") or [] if r.get("name") != "home"
    ]
    if routes:
        propose_found_routes(instance.site, routes)
