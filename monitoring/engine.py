"""Applying check outcomes: results in bulk, the state machine, incidents and the outbox.

One transaction per batch: raw results, monitor state, incidents and the
notification rows (the outbox) commit together, so an alert exists if and only if
its state change does. Sending happens afterwards (``outbox.deliver``).

The monitors' rows are written in bulk (no signals): the workspaces whose monitors
changed state get new page versions here (``launchready.fragments.bump``, again when the
batch commits), so no cached page shows a down monitor as up; a monitor whose check could
not run gets a new version of its own page (``fragments.bump_monitor``), which says so at
once. The other columns (last check, latency, message) show within the pages' lifetime.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from launchready import fragments
from launchready.formats import human_date
from launchready.models import Workspace

from . import bulk, correlation
from . import state as sm
from .checks import rules
from .checks.rules import evaluate_expiry
from .checks.specs import Cause, CauseKind, CheckOutcome
from .heartbeats import ScheduleError
from .models import AlertChannel, CheckResult, Incident, MaintenanceWindow, Monitor, Notification
from .models.monitors import MAX_CONFIRMATIONS, SEVERITY_RANK
from .routing import wants

logger = logging.getLogger(__name__)

EXPIRY_KINDS = (Monitor.Kind.TLS_EXPIRY, Monitor.Kind.DOMAIN_EXPIRY)


def _bounded(value: int) -> int:
    return min(max(value or 1, 1), MAX_CONFIRMATIONS)


def policy_for(m: Monitor) -> sm.Policy:
    # A heartbeat's grace period already is its confirmation.
    confirm = 1 if m.kind == Monitor.Kind.HEARTBEAT else _bounded(m.confirm_failures)
    return sm.Policy(confirm_failures=confirm, recover_successes=_bounded(m.recover_successes))


def _parsed_transitions(values) -> tuple[datetime, ...]:
    """Recent state-change times; anything unreadable is dropped (they only detect flapping)."""
    times = []
    for value in values if isinstance(values, list) else ():
        try:
            when = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            when = None
        if when is not None and when.tzinfo is not None:
            times.append(when)
    return tuple(times)


def snapshot_of(
    m: Monitor, open_incident: Incident | None, last_closed: Incident | None = None
) -> sm.Snapshot:
    transitions = _parsed_transitions(m.transitions)
    return sm.Snapshot(
        state=m.state,
        failures=m.consecutive_failures,
        successes=m.consecutive_successes,
        incident_open=open_incident is not None,
        incident_flapping=bool(open_incident and open_incident.flapping),
        transitions=transitions,
        last_resolved_at=last_closed.ended_at if last_closed else None,
    )


@dataclass
class Applied:
    notification_ids: list[int] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)  # incident ids
    resolved: list[int] = field(default_factory=list)
    could_not_run: list[int] = field(default_factory=list)  # monitor ids whose results could not be recorded

    def add(self, other: Applied) -> None:
        self.notification_ids += other.notification_ids
        self.opened += other.opened
        self.resolved += other.resolved
        self.could_not_run += other.could_not_run


INTERNAL_PROBLEM = (
    "This check could not run because of a problem on our side; we have been notified. "
    "Editing and saving the monitor often fixes it."
)


def could_not_run_message(exc: BaseException) -> str:
    """What the monitor's page says: a schedule's own sentence, else a plain apology."""
    if isinstance(exc, ScheduleError):
        return f"This check could not run: {exc}"[:300]
    return INTERNAL_PROBLEM


def mark_could_not_run(monitor_id: int, exc: BaseException, now: datetime) -> None:
    """Say on the monitor that its check could not run, and why; never a pass.

    An "up" monitor becomes "unknown" (we did not see it up); a "down" one keeps its
    open incident, which nothing new contradicts.
    """
    try:
        Monitor.objects.filter(pk=monitor_id).exclude(state=Monitor.State.PAUSED).update(
            last_checked_at=now, last_message=could_not_run_message(exc)
        )
        changed = Monitor.objects.filter(pk=monitor_id, state=Monitor.State.UP).update(
            state=Monitor.State.UNKNOWN
        )
        # Its page says why at once; a change of state shows on every page of the workspace.
        monitor_uuid, workspace_id = Monitor.objects.filter(pk=monitor_id).values_list(
            "uuid", "workspace_id"
        ).first() or (None, None)
        fragments.bump_monitor(monitor_uuid)
        if changed:
            fragments.bump(workspace_id)
    except Exception:  # the row itself is unusable; the log is all we can do
        logger.exception("monitor %s: could not record that its check could not run", monitor_id)


def in_maintenance(windows: Iterable[MaintenanceWindow], m: Monitor, at: datetime) -> bool:
    return any(w.workspace_id == m.workspace_id and w.covers(m, at) for w in windows)


def _stale_heartbeat(m: Monitor | None, o: CheckOutcome) -> bool:
    """A "late" verdict from before a ping that has since arrived (read under the row lock).

    The batch judged the heartbeat late, then a ping came in before its result was
    written: applying it would leave the job down (and nothing would bring it up
    before the next ping) although it just reported in.
    """
    return (
        m is not None
        and m.kind == Monitor.Kind.HEARTBEAT
        and not o.ok
        and m.last_ping_at is not None
        and o.checked_at < m.last_ping_at
    )


def apply_outcomes(outcomes: list[CheckOutcome], now: datetime | None = None) -> Applied:
    """Write ``outcomes`` (several per monitor allowed, in order) and act on state changes.

    The whole batch is written in one transaction; if that fails, each monitor is
    written in a transaction of its own, so one monitor's unwritable data costs
    only that monitor's result (marked "could not run"), not the batch's.
    """
    now = now or timezone.now()
    if not outcomes:
        return Applied()
    try:
        with transaction.atomic():
            return _apply(outcomes, now)
    except Exception:  # retried one monitor at a time below
        logger.warning(
            "writing a batch of %d outcomes failed; writing them monitor by monitor", len(outcomes)
        )
    by_monitor: dict[int, list[CheckOutcome]] = defaultdict(list)
    for o in outcomes:
        by_monitor[o.monitor_id].append(o)
    applied = Applied()
    for pk, group in by_monitor.items():
        try:
            with transaction.atomic():
                applied.add(_apply(group, now))
        except Exception as exc:  # this monitor only
            logger.exception("the results of monitor %s could not be recorded", pk)
            mark_could_not_run(pk, exc, now)
            applied.could_not_run.append(pk)
    return applied


def _apply(outcomes: list[CheckOutcome], now: datetime) -> Applied:
    applied = Applied()
    by_monitor: dict[int, list[CheckOutcome]] = defaultdict(list)
    for o in outcomes:
        if not o.internal_error:
            by_monitor[o.monitor_id].append(o)
    for o in outcomes:
        if o.internal_error and o.monitor_id not in by_monitor:
            mark_could_not_run(o.monitor_id, RuntimeError(o.message), now)
            applied.could_not_run.append(o.monitor_id)
    monitors = {
        m.pk: m
        for m in Monitor.objects.select_for_update(of=("self",))
        .select_related("workspace")
        .filter(pk__in=by_monitor)
    }
    for pk, m in list(monitors.items()):
        by_monitor[pk] = [o for o in by_monitor[pk] if not _stale_heartbeat(m, o)]
        if not by_monitor[pk]:
            del monitors[pk]
    outcomes = [o for pk in monitors for o in by_monitor[pk]]
    CheckResult.objects.bulk_create(
        [
            CheckResult(
                monitor_id=o.monitor_id,
                checked_at=o.checked_at,
                ok=o.ok,
                latency_ms=o.latency_ms,
                status_code=o.status_code,
                message=o.message[:300],
                snippet=o.snippet[:500],
            )
            for o in outcomes
            if o.monitor_id in monitors
        ]
    )
    open_incidents = {
        i.monitor_id: i for i in Incident.objects.filter(monitor_id__in=monitors, ended_at__isnull=True)
    }
    # Recently closed incidents: a monitor back down within the flap window reopens its own.
    recently_closed = {
        i.monitor_id: i
        for i in Incident.objects.filter(
            monitor_id__in=monitors, ended_at__gte=now - sm.Policy().flap_window
        ).order_by("ended_at")
    }
    workspace_ids = {m.workspace_id for m in monitors.values()}
    windows = list(
        MaintenanceWindow.objects.filter(workspace_id__in=workspace_ids, starts_at__lte=now, ends_at__gt=now)
    )
    batch = _Batch(windows=windows, applied=applied)
    states_before = {pk: m.state for pk, m in monitors.items()}
    # Monitors without a dependency first: a dependent one then finds its dependency's incident.
    for pk, m in sorted(monitors.items(), key=lambda item: item[1].depends_on_id is not None):
        results = by_monitor[pk]
        if m.kind in EXPIRY_KINDS:
            _apply_expiry(batch, m, results[-1], open_incidents.get(pk))
        else:
            _apply_state(batch, m, results, open_incidents.get(pk), recently_closed.get(pk))
        last = results[-1]
        m.last_checked_at = last.checked_at
        m.last_latency_ms = last.latency_ms
        m.last_message = last.message[:300]
        # A changed DNS answer becomes the new baseline only once the change is
        # confirmed (the immediate recheck must still see it as a change).
        if last.values is not None and (last.ok or m.state == Monitor.State.DOWN):
            m.last_values = list(last.values)
    bulk.update_in_bulk(
        monitors.values(),
        [
            "state",
            "consecutive_failures",
            "consecutive_successes",
            "transitions",
            "last_checked_at",
            "last_latency_ms",
            "last_message",
            "last_values",
            "expires_at",
            "alerted_threshold_days",
        ],
    )
    for workspace_id in {m.workspace_id for pk, m in monitors.items() if m.state != states_before[pk]}:
        fragments.bump(workspace_id)
    applied.notification_ids = queue_notifications(batch.to_notify)
    return applied


@dataclass
class _Batch:
    """What the monitors of one batch share: the outbox rows to write and the primaries opened."""

    windows: list[MaintenanceWindow]
    applied: Applied
    to_notify: list[tuple[Incident, str]] = field(default_factory=list)
    primaries: dict[tuple[int, str], Incident] = field(default_factory=dict)  # (workspace, cause key)
    locked: set[int] = field(default_factory=set)  # workspaces whose row this transaction holds

    def quiet(self, m: Monitor, at: datetime) -> bool:
        return in_maintenance(self.windows, m, at)


def _apply_state(batch: _Batch, m: Monitor, results, incident, last_closed) -> None:
    snap = snapshot_of(m, incident, last_closed)
    policy = policy_for(m)
    for o in results:
        quiet = batch.quiet(m, o.checked_at)
        decision = sm.advance(snap, o.ok, o.checked_at, policy, in_maintenance=quiet)
        snap = decision.snapshot
        if decision.event == sm.Event.OPENED and incident is None:
            failing = [r for r in results if not r.ok]
            cause = failing[-1] if failing else o
            incident = _open_part(
                batch,
                m,
                at=o.checked_at,
                text=cause.message[:300] or "The check failed.",
                snippet=cause.snippet[:500],
                severity=m.severity,
                severity_reason=correlation.monitor_severity_reason(m.name),
                cause=cause.cause,
                quiet=quiet,
            )
        elif decision.event == sm.Event.REOPENED and incident is None and last_closed is not None:
            incident = last_closed
            _reopen_part(batch, incident, quiet)
        elif decision.event == sm.Event.FLAPPING and incident is not None:
            incident.flapping = True
            incident.save(update_fields=["flapping"])
        elif decision.event == sm.Event.RESOLVED and incident is not None:
            _close_part(batch, incident, o.checked_at)
            last_closed, incident = incident, None
    if incident is not None and incident.is_open and _severity_changed(m, incident):
        _follow_monitor_severity(batch, m, incident)
    m.state = snap.state
    m.consecutive_failures = snap.failures
    m.consecutive_successes = snap.successes
    m.transitions = [t.isoformat() for t in snap.transitions]


def _open_groups():
    """Primary incidents still going on: open themselves, or with a part still open."""
    open_part = Incident.objects.filter(primary=OuterRef("pk"), ended_at__isnull=True)
    return Incident.objects.filter(primary__isnull=True).filter(Q(ended_at__isnull=True) | Exists(open_part))


def _lock_workspace(batch: _Batch, workspace_id: int) -> None:
    """Serialize incident opening per workspace, so two batches failing for one cause open one incident."""
    if workspace_id not in batch.locked:
        list(Workspace.objects.select_for_update().filter(pk=workspace_id).values_list("pk", flat=True))
        batch.locked.add(workspace_id)


def _primary_for(batch: _Batch, m: Monitor, key: str, quiet: bool) -> Incident | None:
    """The open incident this failure belongs to: same cause, a dependency that is down, or its host's."""
    _lock_workspace(batch, m.workspace_id)
    groups = _open_groups().filter(workspace_id=m.workspace_id)
    if not quiet:  # an alerting failure never hides in an incident nobody was told about
        groups = groups.filter(notified=True)
    if key:
        known = batch.primaries.get((m.workspace_id, key))
        if known is not None and (quiet or known.notified):
            return known
        found = groups.filter(cause_key=key).order_by("started_at").first()
        if found is not None:
            return found
    if m.depends_on_id:
        dependency = (
            Incident.objects.filter(
                monitor_id=m.depends_on_id, workspace_id=m.workspace_id, ended_at__isnull=True
            )
            .select_related("primary")
            .first()
        )
        if dependency is not None and (quiet or dependency.group.notified):
            return dependency.group
    host = rules.host_key(m.host)
    if not key and host:
        # A page failing while its whole host is down is part of the host's incident.
        host_keys = [Cause(kind, host).key for kind in CauseKind]
        return groups.filter(cause_key__in=host_keys).order_by("started_at").first()
    return None


def _open_part(
    batch: _Batch,
    m: Monitor,
    *,
    at: datetime,
    text: str,
    severity: str,
    severity_reason: str,
    cause: Cause | None,
    quiet: bool,
    snippet: str = "",
) -> Incident:
    """Open ``m``'s incident: a new primary that alerts, or a silent part of an open one."""
    key = cause.key if cause else ""
    primary = _primary_for(batch, m, key, quiet)
    incident = Incident.objects.create(
        monitor=m,
        workspace_id=m.workspace_id,
        severity=severity,
        severity_reason=severity_reason,
        started_at=at,
        cause=text,
        snippet=snippet,
        cause_key=key,
        primary=primary,
        notified=not quiet,
    )
    batch.applied.opened.append(incident.pk)
    if primary is not None:
        _update_primary(batch, primary)
        return incident
    if key:
        batch.primaries[(m.workspace_id, key)] = incident
    if incident.notified:
        batch.to_notify.append((incident, Notification.Event.OPENED))
    return incident


def _update_primary(batch: _Batch, primary: Incident, own: tuple[str, str] | None = None) -> None:
    """After a part joined or changed: the primary's severity is its parts' highest; its cause lists them.

    ``own`` is the primary's own monitor's (severity, reason) when that changed.
    """
    parts = list(primary.parts.select_related("monitor").order_by("started_at", "pk"))
    if own is None and primary.monitor.kind not in EXPIRY_KINDS:
        own = (primary.monitor.severity, correlation.monitor_severity_reason(primary.monitor.name))
    candidates = [own or (primary.severity, primary.severity_reason)]
    candidates += [(p.severity, p.severity_reason) for p in parts]
    severity, reason = max(candidates, key=lambda c: SEVERITY_RANK.get(c[0], 1))
    fields = []
    if (severity, reason) != (primary.severity, primary.severity_reason):
        raised = SEVERITY_RANK.get(severity, 1) > SEVERITY_RANK.get(primary.severity, 1)
        primary.severity, primary.severity_reason = severity, reason
        fields += ["severity", "severity_reason"]
        if raised and primary.notified:
            # Channels that did not hear of it at the lower severity (SMS for critical) hear now;
            # those that did are not told twice (one row per channel and event).
            batch.to_notify.append((primary, Notification.Event.OPENED))
    if primary.cause_key:
        names: list[str] = []
        for i in [primary, *parts]:
            if i.monitor.kind != Monitor.Kind.TLS_EXPIRY and i.monitor.name not in names:
                names.append(i.monitor.name)
        cause = correlation.group_cause(primary.cause_key, names, primary.cause)
        if cause != primary.cause:
            primary.cause = cause
            fields.append("cause")
    if fields:
        primary.save(update_fields=fields)


def _severity_changed(m: Monitor, incident: Incident) -> bool:
    """Whether ``m``'s severity no longer agrees with its open incident (a primary may be higher)."""
    if incident.severity == m.severity:
        return False
    if incident.primary_id or incident.severity_reason == correlation.monitor_severity_reason(m.name):
        return True
    return SEVERITY_RANK.get(m.severity, 1) > SEVERITY_RANK.get(incident.severity, 1)


def _follow_monitor_severity(batch: _Batch, m: Monitor, incident: Incident) -> None:
    """The founder changed the monitor's severity while it is down: its open incident follows."""
    if m.kind in EXPIRY_KINDS:
        return  # an expiry incident's severity is the date's (7 days or less: critical)
    own = (m.severity, correlation.monitor_severity_reason(m.name))
    if incident.primary_id is None:
        _update_primary(batch, incident, own)
        return
    incident.severity, incident.severity_reason = own
    incident.save(update_fields=["severity", "severity_reason"])
    _update_primary(batch, incident.primary)


def _reopen_part(batch: _Batch, incident: Incident, quiet: bool) -> None:
    """Down again soon after recovering: the same incident, flapping; one alert unless its group is still on."""
    group = incident.group
    already_on = group.group_is_open()
    incident.ended_at = None
    incident.flapping = True
    incident.save(update_fields=["ended_at", "flapping"])
    if group.pk != incident.pk and not already_on and not group.flapping:
        group.flapping = True
        group.save(update_fields=["flapping"])
    if group.notified and not quiet and not already_on:
        batch.to_notify.append((group, Notification.Event.ESCALATED))


def _close_part(batch: _Batch, incident: Incident, at: datetime, *, quietly: bool = False) -> None:
    """This monitor recovered; the incident of its cause resolves (one alert) once every part has."""
    incident.ended_at = at
    incident.save(update_fields=["ended_at"])
    if quietly:
        return
    batch.applied.resolved.append(incident.pk)
    group = incident.group
    if group.notified and not group.group_is_open():
        batch.to_notify.append((group, _resolved_event(group)))


def _resolved_event(incident: Incident) -> str:
    """RESOLVED, or SETTLED for a reopened (flapping) incident whose "resolved" already went out."""
    if incident.notifications.filter(event=Notification.Event.RESOLVED).exists():
        return Notification.Event.SETTLED
    return Notification.Event.RESOLVED


def _apply_expiry(batch: _Batch, m: Monitor, o: CheckOutcome, incident) -> None:
    """Certificate and domain expiry: one incident per threshold crossed (30/14/7/1 days)."""
    what = "certificate" if m.kind == Monitor.Kind.TLS_EXPIRY else "domain"
    days_left = None
    if o.expires_at is not None:
        m.expires_at = o.expires_at
        days_left = (o.expires_at - o.checked_at).total_seconds() / 86400
    m.state = Monitor.State.UP if o.ok else Monitor.State.DOWN
    step = sm.expiry_step(days_left, m.alerted_threshold_days)
    quiet = batch.quiet(m, o.checked_at)
    if step.open_new:
        if incident is not None:  # superseded by the nearer threshold: closed quietly
            _close_part(batch, incident, o.checked_at, quietly=True)
        cause = evaluate_expiry(what=what, error_message=None, days_left=days_left).message
        if days_left > 0:
            cause = f"The {what} expires on {human_date(o.expires_at)}, in {int(days_left)} days."
        _open_part(
            batch,
            m,
            at=o.checked_at,
            text=cause,
            severity=step.severity,
            severity_reason=correlation.expiry_severity_reason(what, days_left, step.threshold),
            # Only an expired certificate takes pages down; a warning ahead of the date stands alone.
            cause=o.cause if days_left <= 0 else None,
            quiet=quiet,
        )
        m.state = Monitor.State.DOWN
    elif incident is not None and days_left is not None and step.threshold is None:
        # Renewed, or readable again after a failed read: far from every threshold.
        _close_part(batch, incident, o.checked_at)
    elif not o.ok and o.expires_at is None and m.kind == Monitor.Kind.DOMAIN_EXPIRY:
        # No date from RDAP (many country registries publish none, or the service is
        # down): the store itself is fine, so this is shown on the monitor, never alerted.
        m.state = Monitor.State.UNKNOWN
    elif not o.ok and o.expires_at is None and incident is None:
        # The certificate could not be read at all (handshake failed): a plain incident.
        _open_part(
            batch,
            m,
            at=o.checked_at,
            text=o.message[:300],
            severity=m.severity,
            severity_reason=correlation.monitor_severity_reason(m.name),
            cause=o.cause,
            quiet=quiet,
        )
    m.alerted_threshold_days = step.threshold


def queue_notifications(items: list[tuple[Incident, str]]) -> list[int]:
    """Write outbox rows for these incident events, one per routed channel; duplicates ignored."""
    if not items:
        return []
    workspace_ids = {inc.workspace_id for inc, _ in items}
    channels = list(AlertChannel.objects.filter(workspace_id__in=workspace_ids, disabled_at__isnull=True))
    rows = [
        Notification(workspace_id=inc.workspace_id, incident=inc, channel=ch, event=event)
        for inc, event in items
        for ch in channels
        if ch.workspace_id == inc.workspace_id and wants(ch.kind, inc.severity)
    ]
    if not rows:
        return []
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    keys = Q()
    for inc, event in items:
        keys |= Q(incident=inc, event=event)
    return list(
        Notification.objects.filter(
            keys, status=Notification.Status.PENDING, channel__isnull=False
        ).values_list("id", flat=True)
    )
