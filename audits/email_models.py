"""Email deliverability records: inbound addresses, live test messages, DMARC aggregate
reports, and the per-site DMARC state ("p=none first seen on …").

Imported into ``audits.models`` so they belong to the ``audits`` app.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from launchready.formats import human_datetime
from launchready.models import Site, Workspace

__all__ = ["DmarcReport", "DmarcReportRecord", "InboundAddress", "SiteEmailState", "TestMessage"]


def _token() -> str:
    # 12 lower-case base32-ish characters: unguessable, and safe in any mail system.
    return secrets.token_hex(6)


class InboundAddress(models.Model):
    """``check-<token>@INBOUND_DOMAIN`` (one per site) or ``dmarc-<token>@…`` (one per workspace)."""

    class Kind(models.TextChoices):
        CHECK = "check", "Test message"
        DMARC = "dmarc", "DMARC reports"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=5, choices=Kind.choices)
    token = models.CharField(max_length=32, unique=True, default=_token)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="inbound_addresses")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="inbound_addresses"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "inbound addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["site"], condition=models.Q(kind="check"), name="one_check_address_per_site"
            ),
            models.UniqueConstraint(
                fields=["workspace"], condition=models.Q(kind="dmarc"), name="one_dmarc_address_per_workspace"
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def local_part(self) -> str:
        return f"{self.kind}-{self.token}"

    @property
    def address(self) -> str:
        return f"{self.local_part}@{settings.INBOUND_DOMAIN}"

    @classmethod
    def for_site(cls, site: Site) -> InboundAddress:
        address, _ = cls.objects.get_or_create(
            kind=cls.Kind.CHECK, site=site, defaults={"workspace_id": site.workspace_id}
        )
        return address

    @classmethod
    def for_workspace(cls, workspace: Workspace) -> InboundAddress:
        address, _ = cls.objects.get_or_create(kind=cls.Kind.DMARC, workspace=workspace, site=None)
        return address

    @classmethod
    def lookup(cls, recipient: str) -> InboundAddress | None:
        """The address a recipient names, or None (unknown local part or another domain)."""
        local, _, domain = recipient.strip("<>").rpartition("@")
        if domain.lower() != settings.INBOUND_DOMAIN.lower():
            return None
        kind, _, token = local.lower().partition("-")
        if kind not in cls.Kind.values or not token:
            return None
        return cls.objects.select_related("site", "workspace").filter(kind=kind, token=token).first()


class SiteEmailState(models.Model):
    """What Launch Ready remembers about a site's DMARC policy between audits."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="email_state")
    dmarc_policy = models.CharField(max_length=12, blank=True)  # last seen: none / quarantine / reject
    dmarc_none_since = models.DateTimeField(null=True, blank=True)  # first audit that saw p=none
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Email state of {self.site}"

    @classmethod
    def record_policy(cls, site: Site, policy: str, now: datetime | None = None) -> SiteEmailState:
        """Remember the policy; ``dmarc_none_since`` starts when p=none is first seen and resets when it changes."""
        now = now or timezone.now()
        state, _ = cls.objects.get_or_create(site=site)
        if policy == "none" and state.dmarc_none_since is None:
            state.dmarc_none_since = now
        elif policy != "none":
            state.dmarc_none_since = None
        state.dmarc_policy = policy
        state.save()
        return state


class TestMessage(models.Model):
    """A message received at a site's check address, with its authentication results."""

    __test__ = False  # not a pytest test class

    class Result(models.TextChoices):
        PASS = "pass"  # noqa: S105 - a result, not a password
        FAIL = "fail"
        SOFTFAIL = "softfail"
        NEUTRAL = "neutral"
        NONE = "none"
        PERMERROR = "permerror"
        TEMPERROR = "temperror"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="test_messages")
    received_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    peer_ip = models.GenericIPAddressField()
    helo = models.CharField(max_length=255, blank=True)
    mail_from = models.CharField(max_length=320, blank=True)
    header_from = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    size = models.PositiveIntegerField(default=0)
    spf_result = models.CharField(max_length=10, choices=Result.choices)
    spf_domain = models.CharField(max_length=255, blank=True)
    spf_reason = models.TextField(blank=True)
    dkim_result = models.CharField(max_length=10, choices=Result.choices)
    dkim_domain = models.CharField(max_length=255, blank=True)
    dkim_reason = models.TextField(blank=True)
    dmarc_result = models.CharField(max_length=10, choices=Result.choices)
    dmarc_reason = models.TextField(blank=True)
    authentication_results = models.TextField(blank=True)  # the header we would add, for copy-paste
    details = models.JSONField(default=dict, blank=True)  # SPF trace, DKIM signatures, alignment
    html = models.TextField(blank=True)  # sanitised: no scripts, handlers or remote loads
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["site", "-received_at"]), models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"Test message for {self.site} at {human_datetime(self.received_at)}"

    @property
    def passed(self) -> bool:
        return self.spf_result == self.dkim_result == self.dmarc_result == self.Result.PASS

    @staticmethod
    def default_expiry(now: datetime | None = None) -> datetime:
        return (now or timezone.now()) + timedelta(days=settings.INBOUND_RETENTION_DAYS)


class DmarcReport(models.Model):
    """One aggregate (rua) report, from the report address or a manual upload."""

    class Source(models.TextChoices):
        EMAIL = "email", "Received by email"
        UPLOAD = "upload", "Uploaded"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="dmarc_reports")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="dmarc_reports"
    )
    source = models.CharField(max_length=6, choices=Source.choices, default=Source.EMAIL)
    org_name = models.CharField(max_length=255)
    report_id = models.CharField(max_length=255)
    policy_domain = models.CharField(max_length=253)
    policy_p = models.CharField(max_length=12, blank=True)
    date_begin = models.DateTimeField()
    date_end = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "DMARC report"
        ordering = ["-date_end"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "org_name", "report_id"], name="unique_dmarc_report")
        ]
        indexes = [models.Index(fields=["site", "-date_end"])]

    def __str__(self) -> str:
        return f"DMARC report {self.report_id} from {self.org_name}"


class DmarcReportRecord(models.Model):
    """One <record> row: a source address, how many messages, and how they authenticated."""

    report = models.ForeignKey(DmarcReport, on_delete=models.CASCADE, related_name="records")
    source_ip = models.GenericIPAddressField()
    count = models.PositiveIntegerField()
    disposition = models.CharField(max_length=12, blank=True)
    header_from = models.CharField(max_length=253, blank=True)
    dkim_result = models.CharField(max_length=10, blank=True)  # policy_evaluated: pass / fail
    spf_result = models.CharField(max_length=10, blank=True)
    dkim_domains = models.CharField(max_length=500, blank=True)  # auth_results, comma-separated
    spf_domains = models.CharField(max_length=500, blank=True)
    dkim_aligned = models.BooleanField(default=False)
    spf_aligned = models.BooleanField(default=False)
    service = models.CharField(max_length=60, blank=True)  # recognised sender ("Klaviyo")

    class Meta:
        verbose_name = "DMARC report record"

    def __str__(self) -> str:
        return f"{self.source_ip} × {self.count}"
