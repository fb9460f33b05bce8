"""Alert channels, the notification outbox, escalation contacts and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from launchready.models import Site, Workspace

from ..crypto import decrypt_json, encrypt_json
from .monitors import Incident


class AlertChannel(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack"
        SMS = "sms", "SMS (Twilio)"
        WEBHOOK = "webhook", "Webhook"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="alert_channels")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=100)
    # What the UI may show: an email address, "hooks.slack.com/…", "+31 6 •••• 12 34".
    label = models.CharField(max_length=200, blank=True)
    # Webhook URLs, tokens and numbers, as MultiFernet ciphertext (monitoring.crypto).
    secret = models.TextField(blank=True, editable=False)
    verified = models.BooleanField(default=False)
    disabled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    def __repr__(self) -> str:  # never show the credentials, even in a traceback
        return f"<AlertChannel {self.pk} {self.kind}>"

    @property
    def credentials(self) -> dict:
        return decrypt_json(self.secret) if self.secret else {}

    @credentials.setter
    def credentials(self, value: dict) -> None:
        self.secret = encrypt_json(value)

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None


class EscalationContact(models.Model):
    """Who to tell, in order, when an incident stays unacknowledged (a simple list for now)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="escalation_contacts")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=100)
    email = models.EmailField()
    phone = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """The outbox: written in the same transaction as the state change, sent afterwards."""

    class Event(models.TextChoices):
        OPENED = "opened", "Incident opened"
        RESOLVED = "resolved", "Incident resolved"
        ESCALATED = "escalated", "Incident escalated"
        # A flapping incident already sent its "resolved" before going down again:
        # its final recovery needs its own event to reach the channels once more.
        SETTLED = "settled", "Incident stable again"
        AUDIT_BLOCKER = "audit", "New audit blocker"
        DEPLOY_FAILED = "deploy", "Deploy smoke test failed"
        TEST = "test", "Test"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.ForeignKey(
        AlertChannel, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    contact = models.ForeignKey(
        EscalationContact, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    # For "audit" events: the run that found new blockers (critical: every channel).
    audit_run = models.ForeignKey(
        "audits.AuditRun", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    # For "deploy" events: the deploy whose smoke test failed (critical: every channel).
    deploy = models.ForeignKey(
        "handover.Deploy", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(max_length=10, choices=Event.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]
        constraints = [
            # Each incident event reaches each channel once…
            models.UniqueConstraint(
                fields=["incident", "channel", "event"],
                condition=models.Q(channel__isnull=False, incident__isnull=False, contact__isnull=True),
                name="one_notification_per_channel_event",
            ),
            # …and each escalation contact once by email (no channel)…
            models.UniqueConstraint(
                fields=["incident", "contact", "event"],
                condition=models.Q(contact__isnull=False, channel__isnull=True),
                name="one_notification_per_contact_event",
            ),
            # …and once by text message through the workspace's SMS channel.
            models.UniqueConstraint(
                fields=["incident", "contact", "channel", "event"],
                condition=models.Q(contact__isnull=False, channel__isnull=False),
                name="one_sms_per_contact_event",
            ),
            # A run's new blockers reach each channel once.
            models.UniqueConstraint(
                fields=["audit_run", "channel", "event"],
                condition=models.Q(audit_run__isnull=False, channel__isnull=False),
                name="one_notification_per_audit_run_channel",
            ),
            # A failed deploy reaches each channel once.
            models.UniqueConstraint(
                fields=["deploy", "channel", "event"],
                condition=models.Q(deploy__isnull=False, channel__isnull=False),
                name="one_notification_per_deploy_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.channel or self.contact} ({self.status})"


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A token for scripts and CI: the public API under ``/api/v1/``. Hashed at rest.

    Scope: the whole workspace, or one ``site`` of it; ``read_only`` tokens cannot
    write. Tokens made before scopes existed are workspace-wide and read-write.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_tokens")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens")
    read_only = models.BooleanField(default=False)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    # last_used_at is a day-to-day hint ("is this token still in use?"), so a busy CI
    # token writes it at most once a minute instead of on every request.
    LAST_USED_RESOLUTION = timedelta(minutes=1)

    class Meta:
        ordering = ["name"]
        verbose_name = "API token"
        verbose_name_plural = "API tokens"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_label(self) -> str:
        where = f"site {self.site.domain}" if self.site_id else "whole workspace"
        return f"{where}, {'read-only' if self.read_only else 'read-write'}"

    @classmethod
    def issue(
        cls, workspace: Workspace, name: str, user=None, *, site: Site | None = None, read_only: bool = False
    ) -> tuple[ApiToken, str]:
        """Create a token; the plain value is returned once and never stored."""
        if site is not None and site.workspace_id != workspace.pk:
            raise ValueError("A token's site belongs to its workspace.")
        plain = "lr_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            workspace=workspace,
            site=site,
            read_only=read_only,
            name=name,
            prefix=plain[:10],
            token_hash=_hash_token(plain),
            created_by=user,
        )
        return token, plain

    @classmethod
    def authenticate(cls, plain: str) -> ApiToken | None:
        """The token for a plain value, or None; records ``last_used_at``."""
        if not plain.startswith("lr_"):
            return None
        token = cls.objects.select_related("workspace", "site").filter(token_hash=_hash_token(plain)).first()
        if token:
            now = timezone.now()
            if token.last_used_at is None or now - token.last_used_at >= cls.LAST_USED_RESOLUTION:
                cls.objects.filter(pk=token.pk).update(last_used_at=now)
                token.last_used_at = now
        return token
