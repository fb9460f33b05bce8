"""The environment-variable inventory of a site, and the CI gate's calls.

There is no value field anywhere, on purpose: the inventory records what a variable
is for and where its value lives, never the value. Forms and the import refuse text
that looks like a secret (``handover.envfile``).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from handover.envfile import ENVIRONMENT_MAX_LENGTH, NAME_MAX_LENGTH, PURPOSE_MAX_LENGTH
from launchready.formats import human_datetime
from launchready.models import Site

__all__ = ["EnvCheck", "EnvVar"]


class EnvVar(models.Model):
    """One variable a site needs in one environment (production, staging, …)."""

    class Storage(models.TextChoices):
        HOSTING = "hosting", "Hosting dashboard"
        SECRET_MANAGER = "secret_manager", "Secret manager"
        CI = "ci", "CI secrets"
        PASSWORD_MANAGER = "password_manager", "Password manager"
        SERVER_FILE = "server_file", ".env file on the server"
        OTHER = "other", "Other"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="env_vars")
    environment = models.CharField(max_length=ENVIRONMENT_MAX_LENGTH)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    purpose = models.CharField(max_length=PURPOSE_MAX_LENGTH, blank=True)
    required = models.BooleanField(default=True)
    storage = models.CharField(max_length=20, choices=Storage.choices, blank=True)
    storage_detail = models.CharField(max_length=200, blank=True)
    owner = models.CharField(max_length=100, blank=True)
    last_rotated = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["environment", "name"]
        verbose_name = "environment variable"
        constraints = [
            models.UniqueConstraint(
                fields=["site", "environment", "name"], name="unique_env_var_per_environment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.environment})"

    @property
    def storage_label(self) -> str:
        if self.storage == self.Storage.OTHER and self.storage_detail:
            return self.storage_detail
        label = self.get_storage_display() if self.storage else ""
        return f"{label}: {self.storage_detail}" if label and self.storage_detail else label


class EnvCheck(models.Model):
    """One call of the CI gate (``POST /api/v1/env-check``): what was missing, when, by which token."""

    # Older calls are dropped beyond this many per site (the last one is what matters).
    KEEP_PER_SITE = 100

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="env_checks")
    environment = models.CharField(max_length=ENVIRONMENT_MAX_LENGTH)
    names_count = models.PositiveIntegerField()
    missing = models.JSONField(default=list, blank=True)  # required names that were not sent
    unknown = models.JSONField(default=list, blank=True)  # sent names the inventory does not list
    ok = models.BooleanField()
    token_name = models.CharField(max_length=100, blank=True)
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-checked_at"]
        verbose_name = "env check"
        indexes = [models.Index(fields=["site", "-checked_at"], name="env_check_site_recent")]

    def __str__(self) -> str:
        return f"{self.site} {self.environment} {'ok' if self.ok else 'missing'} at {human_datetime(self.checked_at)}"
