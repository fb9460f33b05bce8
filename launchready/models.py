"""Tenancy (workspaces, members, invitations) and the sites they watch.

Tenant data is never queried directly from views, tasks or the API: go through
``launchready.selectors``, which scopes every queryset to the workspaces a user
belongs to, so a stranger gets 404 and a viewer 403 on writes.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from . import routes
from .domains import normalize_domain, subdomain_label
from .formats import human_datetime

TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


# Who may do what. Writes to sites, monitors and findings need at least "member";
# managing people needs "admin"; ownership changes need "owner".
ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Workspace(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, default="UTC", choices=TIMEZONE_CHOICES)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    # Public id for member URLs (integer keys never appear in URLs).
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the user last switched to this workspace: "/" opens the most recent one.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="unique_membership")]
        ordering = ["workspace__name"]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    def can(self, needed: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(needed)]


def _invitation_token() -> str:
    # Kept for migration 0001, which names it as the old column's default.
    return secrets.token_urlsafe(32)


def hash_invitation_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _invitation_expiry():
    return timezone.now() + timedelta(days=7)


class Invitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    # Only the sha256 of the link's token is stored: a leaked database holds no usable links.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    # The plain token lives only in memory after issue_token(), long enough to email it.
    token: str | None = None

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.workspace}"

    def save(self, *args, **kwargs) -> None:
        if not self.token_hash:
            self.issue_token()
        super().save(*args, **kwargs)

    def issue_token(self) -> str:
        """A fresh link token (any earlier link stops working once saved)."""
        self.token = secrets.token_urlsafe(32)
        self.token_hash = hash_invitation_token(self.token)
        return self.token

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PENDING and not self.is_expired


# Services a store sends its email through (Site.sending_service). The value is
# what the deliverability checks key on; "other" means "we know, but not listed".
SENDING_SERVICES = [
    ("shopify", "Shopify Email"),
    ("google", "Google Workspace"),
    ("microsoft", "Microsoft 365"),
    ("sendgrid", "SendGrid"),
    ("mailgun", "Mailgun"),
    ("ses", "Amazon SES"),
    ("postmark", "Postmark"),
    ("mailchimp", "Mailchimp / Mandrill"),
    ("klaviyo", "Klaviyo"),
    ("brevo", "Brevo (Sendinblue)"),
    ("zoho", "Zoho Mail"),
    ("resend", "Resend"),
    ("other", "Other"),
]


class Site(models.Model):
    class Canonical(models.TextChoices):
        APEX = "apex", "Apex (example.com)"
        WWW = "www", "www (www.example.com)"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="sites")
    domain = models.CharField(max_length=253)
    name = models.CharField(max_length=100, blank=True)
    canonical = models.CharField(max_length=4, choices=Canonical.choices, default=Canonical.WWW)
    sending_service = models.CharField(max_length=40, blank=True, choices=SENDING_SERVICES)
    from_address = models.EmailField(blank=True)
    dkim_selectors = models.JSONField(default=list, blank=True)
    # Services the owner declares because the audit cannot see them from outside (a
    # server-side analytics or error tracker): the monitoring checks then use them.
    analytics_service = models.CharField(max_length=40, blank=True)
    error_tracking_service = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "domain"], name="unique_site_per_workspace")
        ]

    def __str__(self) -> str:
        return self.domain

    def clean(self) -> None:
        if self.domain:
            self.domain = normalize_domain(self.domain)

    @property
    def canonical_host(self) -> str:
        return f"www.{self.domain}" if self.canonical == self.Canonical.WWW else self.domain

    @property
    def display_name(self) -> str:
        return self.name or self.domain


class Subdomain(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="subdomains")
    name = models.CharField(max_length=63, help_text="The label before your domain, e.g. “admin”.")
    purpose = models.CharField(max_length=200, blank=True)
    owner = models.CharField(max_length=100, blank=True, help_text="Who is responsible for it.")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="unique_subdomain_per_site")]

    def __str__(self) -> str:
        return f"{self.name}.{self.site.domain}"

    def clean(self) -> None:
        label = (self.name or "").strip().lower().rstrip(".")
        if self.site_id:
            label = subdomain_label(label, self.site.domain) or label
        self.name = label
        try:
            normalize_domain(f"{label}.example.com")
        except ValidationError as exc:
            raise ValidationError({"name": exc.messages}) from None


class CriticalRoute(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Kind(models.TextChoices):
        PAGE = "page", "Page"
        API = "api", "API call"

    PAGE_BUDGET_MS = routes.PAGE_BUDGET_MS
    API_BUDGET_MS = routes.API_BUDGET_MS
    STANDARD = routes.STANDARD_ROUTES

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="routes")
    name = models.SlugField(max_length=40)
    path = models.CharField(max_length=500)
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.PAGE)
    budget_ms = models.PositiveIntegerField(default=PAGE_BUDGET_MS)

    class Source(models.TextChoices):
        USER = "user", "Added by you"
        STANDARD = "standard", "Standard guess"
        SITEMAP = "sitemap", "Found in the sitemap"
        HOMEPAGE = "homepage", "Linked from the homepage"
        PLATFORM = "platform", "The platform's convention"

    # Where the path came from, and whether the owner confirmed it: only confirmed
    # routes are timed as critical and get a monitor.
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.USER)
    confirmed = models.BooleanField(default=True)
    # A 4xx answer is "down" unless the owner says this route may answer one.
    accept_client_errors = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="unique_route_per_site")]

    def __str__(self) -> str:
        return f"{self.name} {self.path}"

    def clean(self) -> None:
        if not (self.path or "").startswith("/"):
            raise ValidationError({"path": "A route path starts with “/”, for example /cart."})

    @classmethod
    def kind_for(cls, name: str, path: str) -> str:
        return cls.Kind(routes.route_kind(name, path))

    @classmethod
    def build(cls, site: Site, name: str, path: str, **fields) -> CriticalRoute:
        """An unsaved route whose kind and p95 budget follow from its name and path."""
        kind = cls.kind_for(name, path)
        return cls(site=site, name=name, path=path, kind=kind, budget_ms=cls.default_budget(kind), **fields)

    @classmethod
    def default_budget(cls, kind: str) -> int:
        return routes.default_budget(kind)


class CampaignURL(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="campaign_urls")
    url = models.URLField(max_length=1000)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["site", "url"], name="unique_campaign_url_per_site")]
        verbose_name = "campaign URL"
        verbose_name_plural = "campaign URLs"

    def __str__(self) -> str:
        return self.url


class WorkerHeartbeat(models.Model):
    """When each background process last proved it is alive (shown on the status page)."""

    name = models.CharField(max_length=50, unique=True)
    last_seen_at = models.DateTimeField()
    hostname = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.name} last seen {human_datetime(self.last_seen_at)}"
