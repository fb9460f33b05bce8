"""Audit runs and their findings.

Queryable things (severity, status, check id, verdict) are columns; the detail
(facts, evidence) is JSON. Runs and findings are reached through the site, which is
reached through ``launchready.selectors``.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from audits.checks import Severity, Stage, Verdict
from launchready.formats import human_datetime
from launchready.models import Site

# Choices come from the one catalogue of severities, stages and verdicts (audits.checks),
# so the columns and the rules can never disagree. Models import nothing above it.
SEVERITY_CHOICES = [(s.value, s.value.capitalize()) for s in Severity]
STAGE_CHOICES = [(s.value, s.label) for s in Stage]
VERDICT_CHOICES = [(v.value, v.label) for v in Verdict]


class AuditRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Run by a member"
        SCHEDULED = "scheduled", "Daily audit"
        API = "api", "API"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="audit_runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    verdict = models.CharField(max_length=20, choices=VERDICT_CHOICES, blank=True)
    # {"blocker": 1, "high": 3, ...} and {"dns": {"checked": 12, "failed": 2, "inconclusive": 0}, ...}
    severity_counts = models.JSONField(default=dict, blank=True)
    # Distinct problems per severity (one check failing on several subjects counts once):
    # what the plan, its badges, the overview and the portfolio count.
    problem_counts = models.JSONField(default=dict, blank=True)
    stage_counts = models.JSONField(default=dict, blank=True)
    # Live progress while running: {"dns": "done", "edge": "running", ...}
    progress = models.JSONField(default=dict, blank=True)
    new_count = models.PositiveIntegerField(default=0)
    resolved_count = models.PositiveIntegerField(default=0)
    facts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # Times a worker started this run: a run redelivered after its worker died is tried
    # once more, never in a loop (an audit that kills its worker would otherwise do so forever).
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["site", "-created_at"])]

    def __str__(self) -> str:
        # In UTC, named, like the admin that shows this title.
        return f"Audit of {self.site} at {human_datetime(self.created_at)}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class Finding(models.Model):
    class Status(models.TextChoices):
        FAIL = "fail", "Failing"
        INCONCLUSIVE = "inconclusive", "Could not be checked"

    class Change(models.TextChoices):
        NEW = "new", "New"
        PERSISTING = "persisting", "Persisting"

    # Public id for links (accept risk); integer keys never appear in URLs.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="findings")
    check_id = models.CharField(max_length=80, db_index=True)
    severity = models.CharField(max_length=10, choices=SEVERITY_CHOICES, db_index=True)
    stage = models.CharField(max_length=12, choices=STAGE_CHOICES)
    subject = models.CharField(max_length=500)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.FAIL)
    title = models.CharField(max_length=300)
    impact = models.TextField(blank=True)
    evidence = models.JSONField(default=str, blank=True)
    fix = models.TextField(blank=True)
    change = models.CharField(max_length=10, choices=Change.choices, default=Change.NEW)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "check_id", "subject"], name="unique_finding_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.check_id} on {self.subject}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.check_id, self.subject)


class AcceptedRisk(models.Model):
    """A member decided to live with a finding for now; it stays accepted across runs."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="accepted_risks")
    check_id = models.CharField(max_length=80)
    subject = models.CharField(max_length=500)
    reason = models.TextField()
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "check_id", "subject"], name="unique_accepted_risk")
        ]

    def __str__(self) -> str:
        return f"Accepted {self.check_id} on {self.subject}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()


class SiteAuditSettings(models.Model):
    """Per-site audit preferences: the daily audit and ownership verification."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="audit_settings")
    daily_enabled = models.BooleanField(default=True)
    next_daily_at = models.DateTimeField(null=True, blank=True, db_index=True)
    verification_token = models.CharField(max_length=64, default=secrets.token_hex, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_method = models.CharField(max_length=10, blank=True)  # "dns" or "file"
    # The domain the proof was found on: verification belongs to a domain, not to the row.
    verified_domain = models.CharField(max_length=253, blank=True)
    verification_checked_at = models.DateTimeField(null=True, blank=True)
    verification_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "site audit settings"
        verbose_name_plural = "site audit settings"

    def __str__(self) -> str:
        return f"Audit settings for {self.site}"

    @property
    def is_verified(self) -> bool:
        """Proven for the site's current domain. A domain changed by any path (form, admin,
        a bulk update that skips signals) no longer matches, so the proof stops counting."""
        return self.verified_at is not None and self.verified_domain == self.site.domain

    def forget_verification(self, reason: str) -> None:
        """Clear the proof (not saved): the next check starts from scratch."""
        self.verified_at = None
        self.verified_method = ""
        self.verified_domain = ""
        self.verification_error = reason


class ShareLink(models.Model):
    """A read-only, expiring link to a site's latest report that a consultant can send."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="share_links")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # sha256 of the random token in the link: the token itself is shown once and never stored.
    token_hash = models.CharField(max_length=64, db_index=True, default="", editable=False)

    def __str__(self) -> str:
        return f"Share link for {self.site}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


from .email_models import *  # noqa: E402, F403
