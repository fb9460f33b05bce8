"""Who owns what, and the handover document's own records.

- ``Service``: one service the store depends on (DNS, registrar, hosting, …) with its
  provider, who owns it, who holds access and *where* the credentials live. Like the
  env-var inventory there is no field for a credential: the forms and the admin refuse
  text that looks like one (``handover.envfile.secret_reason``).
- ``HandoverDocument``: what the consultant writes for the document of one site (the
  deploy steps; internal notes that never leave the workspace).
- ``ChecklistItem``: the handover checklist a consultant ticks (who, when).
- ``HandoverShare``: marks an ``audits.ShareLink`` as a link to the handover document,
  so the document is shared with the audit's mechanism (hashed token, expiry, revocation).

Escalation contacts live in monitoring (``monitoring.EscalationContact``) and the
subdomain inventory in ``launchready.Subdomain``: the handover reads them.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from launchready.models import Site

__all__ = ["ChecklistItem", "HandoverDocument", "HandoverShare", "Service"]

TEXT_MAX_LENGTH = 5000


class Service(models.Model):
    """A service the store depends on and who owns it (one row per provider of a kind)."""

    class Kind(models.TextChoices):
        DNS = "dns", "DNS"
        REGISTRAR = "registrar", "Domain registrar"
        HOSTING = "hosting", "Hosting"
        CDN = "cdn", "CDN / proxy"
        EMAIL = "email", "Email sending"
        PAYMENTS = "payments", "Payments"
        ANALYTICS = "analytics", "Analytics"
        ERROR_TRACKING = "error_tracking", "Error tracking"
        OTHER = "other", "Other"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="services")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(
        max_length=100, blank=True, help_text="What it does, for “Other”: e.g. “Search” or “Reviews”."
    )
    provider = models.CharField(max_length=100, blank=True, help_text="The company, e.g. Cloudflare.")
    owner = models.CharField(max_length=100, blank=True, help_text="Who is responsible for it.")
    access = models.CharField(
        max_length=200, blank=True, help_text="Who can log in, e.g. “Ana (admin), agency (until handover)”."
    )
    credentials_location = models.CharField(
        "where the credentials live",
        max_length=200,
        blank=True,
        help_text="A place, e.g. “1Password vault Shop / Cloudflare”. Never the password itself.",
    )
    renews_on = models.DateField("renewal date", null=True, blank=True)
    notes = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["site", "kind"], name="service_site_kind")]

    def __str__(self) -> str:
        return f"{self.label}: {self.provider or 'provider not recorded'}"

    @property
    def label(self) -> str:
        if self.kind == self.Kind.OTHER and self.name:
            return self.name
        return self.get_kind_display()


class HandoverDocument(models.Model):
    """What the consultant writes for one site's handover document."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="handover_document")
    deploy_steps = models.TextField(
        blank=True,
        max_length=TEXT_MAX_LENGTH,
        help_text="How this store is deployed, one step per line. They come before your host's own steps.",
    )
    internal_notes = models.TextField(
        blank=True,
        max_length=TEXT_MAX_LENGTH,
        help_text="For your team only: never in the shared link, the Markdown or the PDF.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Handover document of {self.site}"

    @property
    def deploy_step_list(self) -> list[str]:
        return [line.strip() for line in self.deploy_steps.splitlines() if line.strip()]


class ChecklistItem(models.Model):
    """One item of a site's handover checklist: the three standard ones, or the consultant's own."""

    class Standard(models.TextChoices):
        ACCESS = "access", "Access to every service transferred to the client"
        ROLLBACK = "rollback", "Rollback rehearsed with the client"
        CONTACTS = "contacts", "Escalation contacts confirmed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="handover_checklist")
    standard = models.CharField(max_length=10, choices=Standard.choices, blank=True)
    label = models.CharField(max_length=200)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "handover checklist item"
        constraints = [
            models.UniqueConstraint(
                fields=["site", "standard"],
                condition=~models.Q(standard=""),
                name="one_standard_checklist_item_per_site",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({'done' if self.is_done else 'open'})"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class HandoverShare(models.Model):
    """An audit share link that opens the handover document (and nothing is stored twice)."""

    link = models.OneToOneField("audits.ShareLink", on_delete=models.CASCADE, related_name="handover")

    class Meta:
        verbose_name = "handover share link"

    def __str__(self) -> str:
        return f"Handover link {self.link.uuid}"
