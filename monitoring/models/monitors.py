"""Monitors, their raw results and rollups, incidents, maintenance windows, heartbeat pings."""

from __future__ import annotations

import ipaddress
import re
import uuid
import zoneinfo
from datetime import UTC, timedelta
from urllib.parse import urlsplit

import idna
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from launchready import net
from launchready.domains import split_host_port
from launchready.formats import human_datetime
from launchready.models import Site, Workspace

from ..checks.specs import MAX_TIMEOUT_S
from ..crypto import decrypt_json, encrypt_json
from ..heartbeats import MAX_GRACE_S, MAX_PERIOD_S, MIN_PERIOD_S, ScheduleError, validate_cron

MIN_INTERVAL_S = 30
MAX_INTERVAL_S = 3600
EXPIRY_INTERVAL_S = 86400  # certificate and domain expiry are checked daily
DNS_RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "TXT", "CAA")
MAX_RESPONSE_MS = 60_000
MAX_WINDOW_AGE = timedelta(days=7)  # maintenance windows: recorded after the fact at the latest a week on
MAX_WINDOW_AHEAD = timedelta(days=366)
MAX_CONFIRMATIONS = 10
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def host_problem(hostname: str, *, with_port: bool) -> str | None:
    """Why ``hostname`` cannot be watched (a sentence), or None.

    The network layer's policy applies before anything is saved: no local or
    internal names (``localhost``, ``.internal``, ``.local``…), no private addresses.
    ``with_port`` allows ``host:port`` and ``[IPv6]:port`` (certificate checks).
    """
    text = hostname.strip()
    if with_port:
        try:
            text, _ = split_host_port(text)
        except ValueError as exc:
            return str(exc)
    elif text.startswith("[") or text.count(":") == 1:
        return "Enter a host name without a port, e.g. shop.example.com."
    host = text.rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        if not with_port:
            return "Enter a host name, not an IP address."
        problem = net.address_problem(host)
        return f"{host} is {problem}; only public addresses are checked." if problem else None
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return f"“{hostname}” is not a valid host name."
    labels = host.split(".")
    if len(host) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        return f"“{hostname}” is not a valid host name: letters, digits, hyphens and dots only."
    problem = net.name_problem(host)
    return f"{host} is {problem}; only public names are checked." if problem else None


class AlertSeverity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    WARNING = "warning", "Warning"
    INFO = "info", "Info"


class Monitor(models.Model):
    class Kind(models.TextChoices):
        HTTP = "http", "HTTP(S)"
        TLS_EXPIRY = "tls_expiry", "Certificate expiry"
        DOMAIN_EXPIRY = "domain_expiry", "Domain expiry"
        DNS = "dns", "DNS records"
        HEARTBEAT = "heartbeat", "Heartbeat"

    class State(models.TextChoices):
        UP = "up", "Up"
        DOWN = "down", "Down"
        UNKNOWN = "unknown", "Unknown"
        PAUSED = "paused", "Paused"

    class Method(models.TextChoices):
        GET = "GET", "GET"
        HEAD = "HEAD", "HEAD"
        POST = "POST", "POST"

    class KeywordMode(models.TextChoices):
        PRESENT = "present", "must be present"
        ABSENT = "absent", "must be absent"

    class Schedule(models.TextChoices):
        PERIOD = "period", "Every period"
        CRON = "cron", "Cron expression"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="monitors")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="monitors")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.HTTP)
    name = models.CharField(max_length=100)
    severity = models.CharField(max_length=10, choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    # "Checkout depends on the homepage host": while the dependency is down, this monitor's
    # failures join the dependency's incident instead of alerting on their own.
    depends_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dependents",
        help_text="While that monitor is down, this one's failures are part of its incident (no second alert).",
    )
    # Which automatically created monitor this is ("home", "login", "cert"…), so
    # re-saving a site does not create it twice; empty for monitors added by hand.
    auto_key = models.CharField(max_length=40, blank=True)

    # HTTP
    url = models.URLField(max_length=1000, blank=True)
    method = models.CharField(max_length=4, choices=Method.choices, default=Method.GET)
    expected_statuses = models.CharField(
        max_length=100, default="200-399", help_text="Codes and ranges, e.g. “200-299,301”."
    )
    keyword = models.CharField(max_length=200, blank=True)
    keyword_mode = models.CharField(max_length=8, choices=KeywordMode.choices, default=KeywordMode.PRESENT)
    max_response_ms = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_RESPONSE_MS)]
    )
    # Custom request headers often carry a token: MultiFernet ciphertext, like channel
    # credentials (read and write through the ``headers`` property).
    headers_secret = models.TextField(blank=True, editable=False)
    follow_redirects = models.BooleanField(default=True)
    timeout_s = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(MAX_TIMEOUT_S)]
    )

    # TLS expiry, domain expiry, DNS
    hostname = models.CharField(max_length=253, blank=True)
    record_type = models.CharField(max_length=6, default="A", blank=True)
    expected_values = models.JSONField(default=list, blank=True)
    last_values = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    alerted_threshold_days = models.PositiveSmallIntegerField(null=True, blank=True)

    # Heartbeat
    schedule = models.CharField(max_length=6, choices=Schedule.choices, default=Schedule.PERIOD)
    period_s = models.PositiveIntegerField(
        default=3600, validators=[MinValueValidator(MIN_PERIOD_S), MaxValueValidator(MAX_PERIOD_S)]
    )
    grace_s = models.PositiveIntegerField(default=300, validators=[MaxValueValidator(MAX_GRACE_S)])
    cron = models.CharField(max_length=100, blank=True)
    tz = models.CharField(max_length=64, blank=True, help_text="Empty: the workspace's time zone.")
    last_ping_at = models.DateTimeField(null=True, blank=True)
    last_start_at = models.DateTimeField(null=True, blank=True)

    # Scheduling and state
    interval_s = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(MIN_INTERVAL_S), MaxValueValidator(EXPIRY_INTERVAL_S)]
    )
    next_check_at = models.DateTimeField(default=timezone.now, db_index=True)
    claim_token = models.UUIDField(null=True, blank=True, db_index=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.UNKNOWN)
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    confirm_failures = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(MAX_CONFIRMATIONS)]
    )
    recover_successes = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_CONFIRMATIONS)]
    )
    transitions = models.JSONField(default=list, blank=True)  # recent state-change times (ISO), for flapping
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["state", "next_check_at"], name="monitor_due"),
            # The dispatcher's claim (``scheduler.candidates``): paused monitors keep a slot in
            # the past, and a claim walking the plain next-check index stepped over each of them.
            models.Index(
                fields=["next_check_at"], condition=~models.Q(state="paused"), name="monitor_claimable"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "auto_key"],
                condition=~models.Q(auto_key=""),
                name="unique_auto_monitor_per_site",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def state_label(self) -> str:
        """The state in words a founder reads right: an expiry monitor is not "down"."""
        if self.state == self.State.DOWN:
            labels = {
                self.Kind.DOMAIN_EXPIRY: "Expires soon",
                self.Kind.TLS_EXPIRY: "Certificate problem",
                self.Kind.HEARTBEAT: "Late",
            }
            return labels.get(self.kind, self.get_state_display())
        return self.get_state_display()

    @property
    def headers(self) -> dict[str, str]:
        return decrypt_json(self.headers_secret) if self.headers_secret else {}

    @headers.setter
    def headers(self, value: dict[str, str] | None) -> None:
        self.headers_secret = encrypt_json(value) if value else ""

    def clean(self) -> None:
        from ..checks.rules import parse_statuses

        self._clean_dependency()
        if self.kind in (self.Kind.TLS_EXPIRY, self.Kind.DOMAIN_EXPIRY):
            self.interval_s = EXPIRY_INTERVAL_S
        elif not MIN_INTERVAL_S <= self.interval_s <= MAX_INTERVAL_S:
            raise ValidationError({"interval_s": "Choose an interval from 30 seconds to 1 hour."})
        if self.kind == self.Kind.HTTP:
            if not self.url.startswith(("http://", "https://")):
                raise ValidationError({"url": "Enter a full http:// or https:// address."})
            try:
                parse_statuses(self.expected_statuses)
            except ValueError as exc:
                raise ValidationError({"expected_statuses": str(exc)}) from None
            if not isinstance(self.headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items()
            ):
                raise ValidationError({"headers": "Headers are a mapping of names to text values."})
        elif self.kind in (self.Kind.TLS_EXPIRY, self.Kind.DOMAIN_EXPIRY, self.Kind.DNS):
            if not self.hostname:
                raise ValidationError({"hostname": "Enter the host name to watch."})
            problem = host_problem(self.hostname, with_port=self.kind == self.Kind.TLS_EXPIRY)
            if problem:
                raise ValidationError({"hostname": problem})
        if self.kind == self.Kind.DNS:
            self.record_type = (self.record_type or "A").strip().upper()
            if self.record_type not in DNS_RECORD_TYPES:
                raise ValidationError({"record_type": f"Choose one of {', '.join(DNS_RECORD_TYPES)}."})
        if self.kind == self.Kind.HEARTBEAT:
            if self.schedule == self.Schedule.CRON:
                try:
                    validate_cron(self.cron)
                except ScheduleError as exc:
                    raise ValidationError({"cron": str(exc)}) from None
            elif not MIN_PERIOD_S <= self.period_s <= MAX_PERIOD_S:
                raise ValidationError({"period_s": "A heartbeat period is from one minute to one year."})
            if self.tz and self.tz not in zoneinfo.available_timezones():
                raise ValidationError({"tz": "Unknown time zone."})

    def _clean_dependency(self) -> None:
        dependency = self.depends_on
        if dependency is None:
            return
        if dependency.workspace_id != self.workspace_id:
            raise ValidationError({"depends_on": "Choose a monitor of this workspace."})
        seen = set()
        while dependency is not None and dependency.pk not in seen:
            if self.pk is not None and dependency.pk == self.pk:
                raise ValidationError(
                    {"depends_on": "A monitor cannot depend on itself, even through another monitor."}
                )
            seen.add(dependency.pk)
            dependency = dependency.depends_on

    @property
    def host(self) -> str:
        """The host this monitor reaches (lower case, no port), or "" (heartbeats)."""
        if self.kind == self.Kind.HTTP:
            try:
                return (urlsplit(self.url).hostname or "").rstrip(".")
            except ValueError:
                return ""
        if self.kind in (self.Kind.TLS_EXPIRY, self.Kind.DNS):
            try:
                return split_host_port(self.hostname)[0].rstrip(".").lower()
            except ValueError:
                return self.hostname.rstrip(".").lower()
        return ""

    @property
    def timezone_name(self) -> str:
        return self.tz or self.workspace.timezone

    @property
    def is_paused(self) -> bool:
        return self.state == self.State.PAUSED

    @property
    def target(self) -> str:
        return self.url if self.kind == self.Kind.HTTP else self.hostname


class CheckResult(models.Model):
    """One raw check; written in bulk, kept ``MONITORING_RESULT_RETENTION_DAYS``."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="results")
    checked_at = models.DateTimeField()
    ok = models.BooleanField()
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)
    snippet = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["monitor", "-checked_at"], name="result_recent"),
            # The hourly rollup reads the last hours of every monitor, and pruning the oldest rows.
            models.Index(fields=["checked_at"], name="result_checked_at"),
        ]
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.monitor_id} {'ok' if self.ok else 'failed'} at {human_datetime(self.checked_at)}"


class HourlyRollup(models.Model):
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="hourly")
    hour = models.DateTimeField()
    checks = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    p50_ms = models.PositiveIntegerField(null=True)
    p95_ms = models.PositiveIntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["monitor", "hour"], name="unique_hourly_rollup")]
        indexes = [models.Index(fields=["hour"], name="hourly_rollup_hour")]  # pruning

    def __str__(self) -> str:
        return f"{self.monitor_id} {human_datetime(self.hour)}"

    @property
    def uptime_pct(self) -> float | None:
        return 100.0 * (self.checks - self.failures) / self.checks if self.checks else None


class DailyRollup(models.Model):
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="daily")
    day = models.DateField()
    checks = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    p50_ms = models.PositiveIntegerField(null=True)
    p95_ms = models.PositiveIntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["monitor", "day"], name="unique_daily_rollup")]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.day}"

    @property
    def uptime_pct(self) -> float | None:
        return 100.0 * (self.checks - self.failures) / self.checks if self.checks else None


class ClosedDay(models.Model):
    """A UTC day whose daily rollups were computed exactly from raw results once it was over.

    Until then a day's rows come from its hourly rollups (``monitoring.rollups``); the
    hourly job closes each day once, so it never rereads a whole day of raw results again.
    """

    day = models.DateField(primary_key=True)
    closed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.day} closed at {human_datetime(self.closed_at)}"


SEVERITY_RANK = {AlertSeverity.INFO: 0, AlertSeverity.WARNING: 1, AlertSeverity.CRITICAL: 2}


class Incident(models.Model):
    """One monitor's outage (its "part"); parts failing for one cause share a primary incident.

    ``ended_at`` is always this monitor's own recovery, so per-monitor history stays true.
    The primary (``primary`` empty) alerts, escalates and is acknowledged for all its parts;
    it is over when it and every part have ended (``group_is_open``).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="incidents")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="incidents")
    severity = models.CharField(max_length=10, choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    # Where the severity comes from, in words: "the Checkout monitor's severity".
    severity_reason = models.CharField(max_length=200, blank=True)
    # The incident this one is part of (same cause, or a dependency that is down); empty: a primary.
    primary = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="parts"
    )
    # A host-level cause ("tls-expired:www.shop.com", "dns:…", "tcp:…"); empty for a page-level one.
    cause_key = models.CharField(max_length=300, blank=True, db_index=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    cause = models.CharField(max_length=300)
    snippet = models.CharField(max_length=500, blank=True)
    flapping = models.BooleanField(default=False)
    # False when opened inside a maintenance window: nobody was told, so no "resolved" either.
    notified = models.BooleanField(default=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalation_step = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["workspace", "-started_at"], name="incident_timeline")]
        constraints = [
            # One open incident per monitor, whatever the number of workers.
            models.UniqueConstraint(
                fields=["monitor"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_incident_per_monitor",
            )
        ]

    def __str__(self) -> str:
        return f"{self.monitor} — {self.cause}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def group(self) -> Incident:
        """The incident that speaks for this one: its primary, or itself."""
        return self.primary if self.primary_id else self

    def group_is_open(self) -> bool:
        """Whether this primary or any of its parts is still going on."""
        return self.ended_at is None or self.parts.filter(ended_at__isnull=True).exists()

    @property
    def duration(self) -> timedelta:
        return (self.ended_at or timezone.now()) - self.started_at


class MaintenanceWindow(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="maintenance_windows")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"Maintenance {human_datetime(self.starts_at)} – {human_datetime(self.ends_at)}"

    def clean(self) -> None:
        now = timezone.now()
        for name in ("starts_at", "ends_at"):
            when = getattr(self, name)
            try:
                in_range = when is None or now - MAX_WINDOW_AGE <= when <= now + MAX_WINDOW_AHEAD
                if when is not None:
                    when.astimezone(UTC)  # year 1 at +14:00 is not a storable instant
            except OverflowError:
                in_range = False
            if not in_range:
                raise ValidationError({name: "Choose a time between a week ago and one year from now."})
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "A window ends after it starts."})

    def covers(self, monitor: Monitor, at) -> bool:
        return self.starts_at <= at < self.ends_at and (
            self.site_id is None or self.site_id == monitor.site_id
        )


class HeartbeatPing(models.Model):
    class Kind(models.TextChoices):
        SUCCESS = "success", "Success"
        START = "start", "Start"
        FAIL = "fail", "Fail"

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="pings")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    received_at = models.DateTimeField(default=timezone.now)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["monitor", "-received_at"], name="ping_recent"),
            models.Index(fields=["received_at"], name="ping_received_at"),  # pruning
        ]

    def __str__(self) -> str:
        return f"{self.kind} ping at {human_datetime(self.received_at)}"


class StatusPage(models.Model):
    """An optional public page per site: current status and 90-day uptime, no internals."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="status_page")
    enabled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Status page of {self.site}"
