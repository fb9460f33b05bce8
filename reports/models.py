"""Weekly reports: each workspace's schedule, who opted out, the reports sent and their outbox.

``ReportSchedule.next_send_at`` is the claim: the sender moves it forward with a
conditional UPDATE, so a report is issued once per workspace per week however many
schedulers run, and a scheduler that was down for weeks issues one report, not several.
``ReportDelivery`` is one email to one person, sent through an outbox like alerts are.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from launchready.formats import human_date
from launchready.models import Membership, Workspace

from .schedule import DEFAULT_HOUR, DEFAULT_WEEKDAY, WEEKDAYS


class ReportSchedule(models.Model):
    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="report_schedule")
    weekday = models.PositiveSmallIntegerField(
        choices=list(enumerate(WEEKDAYS)), default=DEFAULT_WEEKDAY, validators=[MaxValueValidator(6)]
    )
    hour = models.PositiveSmallIntegerField(
        default=DEFAULT_HOUR, validators=[MinValueValidator(0), MaxValueValidator(23)]
    )
    enabled = models.BooleanField(default=True)
    next_send_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Weekly report of {self.workspace}: {WEEKDAYS[self.weekday]} {self.hour:02d}:00"


class MemberReportSetting(models.Model):
    """A member who opted out of a workspace's weekly report (no row: they get it)."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="report_setting")
    opted_out_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Weekly report for {self.membership}: {'off' if self.opted_out_at else 'on'}"


class DigestSubscription(models.Model):
    """A consultant's opt-in to one weekly email across all their workspaces."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # for the unsubscribe link
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest")
    enabled = models.BooleanField(default=False)
    timezone = models.CharField(max_length=64, default="UTC")
    next_send_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"Portfolio digest for {self.user}: {'on' if self.enabled else 'off'}"


class WeeklyReport(models.Model):
    """One week's report of one workspace, issued once; its web view is reached by ``uuid``."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="weekly_reports")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-period_end"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "period_end"], name="one_report_per_workspace_week")
        ]

    def __str__(self) -> str:
        return f"Weekly report of {self.workspace} to {human_date(self.period_end)}"


class ReportDelivery(models.Model):
    """One email to one person: a weekly report, a preview or a portfolio digest."""

    class Kind(models.TextChoices):
        WEEKLY = "weekly", "Weekly report"
        PREVIEW = "preview", "Preview"
        DIGEST = "digest", "Portfolio digest"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    report = models.ForeignKey(
        WeeklyReport, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="report_deliveries"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    to_email = models.EmailField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    subject = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "report deliveries"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="report_outbox_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "user"],
                condition=models.Q(report__isnull=False),
                name="one_report_email_per_user",
            ),
            models.UniqueConstraint(
                fields=["user", "period_end"],
                condition=models.Q(kind="digest"),
                name="one_digest_per_user_week",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to_email} ({self.status})"
