"""Deploys, their smoke tests, and rollbacks (rehearsed or real).

A CI pipeline reports each deploy (``POST /api/v1/deploys``); a smoke test then
requests the site's critical routes once each and stores one ``SmokeResult`` per
route. The newest passing deploy of an environment is its "last known good"
version. A rollback reported through the API is a ``Deploy`` of kind rollback and
gets a ``Rollback`` record, timed when its smoke test passes; rehearsals are
recorded by hand on the rollback checklist page.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from launchready.models import Site

__all__ = ["Deploy", "Rollback", "RollbackPlan", "SmokeResult", "SmokeRouteSetting"]

# The routes a smoke test requests unless the site's settings say otherwise. Login is
# left out (a GET says little about it) and so are API calls (they often refuse GET).
DEFAULT_SMOKE_ROUTES = ("home", "listing", "product", "cart", "checkout")


class Deploy(models.Model):
    class Kind(models.TextChoices):
        DEPLOY = "deploy", "Deploy"
        ROLLBACK = "rollback", "Rollback"

    class State(models.TextChoices):
        QUEUED = "queued", "Smoke test queued"
        RUNNING = "running", "Smoke test running"
        PASSED = "passed", "Smoke test passed"
        FAILED = "failed", "Smoke test failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="deploys")
    environment = models.SlugField(max_length=40, help_text="production, staging, …")
    version = models.CharField(max_length=100)
    commit_url = models.URLField(max_length=500, blank=True)
    # None: the pipeline did not say.
    migrations_ran = models.BooleanField(null=True, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.DEPLOY)
    rollback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rollbacks"
    )
    deployed_by = models.CharField(max_length=200, blank=True, help_text="Who or what reported it.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    maintenance_window = models.ForeignKey(
        "monitoring.MaintenanceWindow", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    smoke_started_at = models.DateTimeField(null=True, blank=True)
    smoke_finished_at = models.DateTimeField(null=True, blank=True)
    # Why the smoke test as a whole could not run (no routes, out of time); per-route
    # reasons are on the results.
    smoke_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "environment", "-created_at"], name="deploy_history")]

    def __str__(self) -> str:
        return f"{self.version} to {self.environment} ({self.get_state_display().lower()})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.PASSED, self.State.FAILED)

    @property
    def is_rollback(self) -> bool:
        return self.kind == self.Kind.ROLLBACK


class SmokeResult(models.Model):
    """One route of one smoke test: a single GET, judged on status, keyword and time."""

    deploy = models.ForeignKey(Deploy, on_delete=models.CASCADE, related_name="smoke_results")
    route_name = models.SlugField(max_length=40)
    url = models.CharField(max_length=600)
    passed = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    elapsed_ms = models.PositiveIntegerField(null=True, blank=True)
    budget_ms = models.PositiveIntegerField()
    keyword = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=300)
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["deploy", "route_name"], name="one_smoke_result_per_route")
        ]

    def __str__(self) -> str:
        return f"{self.route_name}: {'passed' if self.passed else 'failed'}"


class SmokeRouteSetting(models.Model):
    """Per site and route name: whether the smoke test requests it, and the text it expects."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="smoke_route_settings")
    route_name = models.SlugField(max_length=40)
    included = models.BooleanField(default=True)
    smoke_keyword = models.CharField(
        max_length=200,
        blank=True,
        help_text="Text the page must contain, e.g. “Add to cart” (not case-sensitive). Empty: not checked.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "route_name"], name="one_smoke_setting_per_route")
        ]

    def __str__(self) -> str:
        return f"{self.route_name} on {self.site_id}"


class RollbackPlan(models.Model):
    """The site's own rollback steps, written by the consultant, shown before the default list."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="rollback_plan")
    steps = models.TextField(blank=True, max_length=5000, help_text="One step per line.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Rollback plan of {self.site_id}"

    @property
    def step_list(self) -> list[str]:
        return [line.strip() for line in self.steps.splitlines() if line.strip()]


class Rollback(models.Model):
    """A rollback on record: rehearsed on purpose, or a real one (reported through the API)."""

    class Kind(models.TextChoices):
        REHEARSAL = "rehearsal", "Rehearsal"
        REAL = "real", "Real rollback"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="rollbacks")
    kind = models.CharField(max_length=9, choices=Kind.choices, default=Kind.REHEARSAL)
    environment = models.SlugField(max_length=40, default="production")
    performed_at = models.DateTimeField(default=timezone.now)
    performed_by = models.CharField(max_length=200, blank=True)
    from_version = models.CharField(max_length=100, blank=True)
    to_version = models.CharField(max_length=100, blank=True)
    # None while a reported rollback waits for a passing smoke test.
    minutes = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10000)]
    )
    what_went_wrong = models.TextField(blank=True, max_length=5000)
    # The rollback deploy reported through the API (empty for records typed in by hand).
    deploy = models.OneToOneField(
        Deploy, null=True, blank=True, on_delete=models.CASCADE, related_name="rollback_record"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-performed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.from_version} → {self.to_version}"

    @property
    def is_verified(self) -> bool:
        return self.minutes is not None
