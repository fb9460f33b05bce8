"""The monitor state machine: pure functions from (state, observation) to a decision.

No ORM and no clock: the caller passes the time. The rules, so alerts are rare and right:
- a monitor goes down only after ``confirm_failures`` consecutive failures (the
  runner rechecks immediately after a first failure, so N=2 is confirmed within
  seconds, not one interval later); one blip never alerts;
- it recovers after ``recover_successes`` consecutive successes;
- flapping is one incident, not twenty: a monitor confirmed down again within
  ``flap_window`` of its last recovery reopens that incident, flagged flapping (one
  "flapping" alert), and a flapping incident (or one seeing ``flap_threshold``
  state changes within the window) stays open through recoveries until the
  monitor has stayed up for ``flap_quiet``;
- inside a maintenance window the state still moves but no incident opens; if the
  monitor is still down when the window ends, the next failing check opens one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

UP, DOWN, UNKNOWN, PAUSED = "up", "down", "unknown", "paused"


class Event(enum.StrEnum):
    NONE = "none"
    OPENED = "opened"  # open an incident (and alert unless in maintenance)
    RESOLVED = "resolved"  # close the open incident (alert if its opening was alerted)
    FLAPPING = "flapping"  # mark the open incident as flapping; no alert
    REOPENED = "reopened"  # down again soon after resolving: reopen that incident as flapping, alert once


@dataclass(frozen=True)
class Policy:
    confirm_failures: int = 2
    recover_successes: int = 1
    flap_window: timedelta = timedelta(hours=1)
    flap_threshold: int = 4
    flap_quiet: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class Snapshot:
    state: str = UNKNOWN
    failures: int = 0
    successes: int = 0
    incident_open: bool = False
    incident_flapping: bool = False
    transitions: tuple[datetime, ...] = field(default_factory=tuple)
    last_resolved_at: datetime | None = None  # when this monitor's last incident ended


@dataclass(frozen=True)
class Decision:
    snapshot: Snapshot
    event: Event = Event.NONE
    needs_recheck: bool = False  # failed but not yet confirmed: check again now


def _record_transition(snap: Snapshot, at: datetime, policy: Policy) -> tuple[datetime, ...]:
    horizon = at - policy.flap_window
    return tuple(t for t in snap.transitions if t > horizon) + (at,)


def is_flapping(transitions: tuple[datetime, ...], at: datetime, policy: Policy) -> bool:
    horizon = at - policy.flap_window
    return sum(1 for t in transitions if t > horizon) >= policy.flap_threshold


def advance(
    snap: Snapshot, ok: bool, at: datetime, policy: Policy = Policy(), *, in_maintenance: bool = False
) -> Decision:
    """Apply one check result to a snapshot."""
    if snap.state == PAUSED:
        return Decision(snap)
    if ok:
        return _on_success(snap, at, policy)
    return _on_failure(snap, at, policy, in_maintenance)


def _on_failure(snap: Snapshot, at: datetime, policy: Policy, in_maintenance: bool) -> Decision:
    failures = snap.failures + 1
    snap = replace(snap, failures=failures, successes=0)
    if snap.state == DOWN:
        # Already down: open the incident now if maintenance kept it closed.
        if not snap.incident_open and not in_maintenance:
            return Decision(replace(snap, incident_open=True), Event.OPENED)
        return Decision(snap)
    if failures < policy.confirm_failures:
        return Decision(snap, needs_recheck=True)
    transitions = _record_transition(snap, at, policy)
    snap = replace(snap, state=DOWN, transitions=transitions)
    if snap.incident_open:
        # Down again while a flapping incident is still open: same incident, no alert.
        if not snap.incident_flapping and is_flapping(transitions, at, policy):
            return Decision(replace(snap, incident_flapping=True), Event.FLAPPING)
        return Decision(snap)
    if snap.last_resolved_at is not None and at - snap.last_resolved_at < policy.flap_window:
        # Back down within the flap window: the same incident, reopened and flagged.
        return Decision(replace(snap, incident_open=True, incident_flapping=True), Event.REOPENED)
    if in_maintenance:
        return Decision(snap)
    return Decision(replace(snap, incident_open=True), Event.OPENED)


def _on_success(snap: Snapshot, at: datetime, policy: Policy) -> Decision:
    successes = snap.successes + 1
    snap = replace(snap, successes=successes, failures=0)
    if snap.state == UNKNOWN:
        return Decision(replace(snap, state=UP))
    if snap.state == DOWN:
        if successes < policy.recover_successes:
            return Decision(snap)
        transitions = _record_transition(snap, at, policy)
        snap = replace(snap, state=UP, transitions=transitions)
        if not snap.incident_open:
            return Decision(snap)
        if snap.incident_flapping or is_flapping(transitions, at, policy):
            # Keep the one incident open until the monitor has been quiet a while.
            event = Event.NONE if snap.incident_flapping else Event.FLAPPING
            return Decision(replace(snap, incident_flapping=True), event)
        return Decision(replace(snap, incident_open=False, last_resolved_at=at), Event.RESOLVED)
    # Up already: a flapping incident resolves once quiet long enough.
    if snap.incident_open and (not snap.transitions or at - snap.transitions[-1] >= policy.flap_quiet):
        return Decision(
            replace(snap, incident_open=False, incident_flapping=False, last_resolved_at=at), Event.RESOLVED
        )
    return Decision(snap)


# Expiry thresholds (days before the certificate or domain expires), most distant first.
EXPIRY_THRESHOLDS_DAYS: tuple[int, ...] = (30, 14, 7, 1)
CRITICAL_EXPIRY_DAYS = 7


def expiry_threshold(days_left: float, thresholds: tuple[int, ...] = EXPIRY_THRESHOLDS_DAYS) -> int | None:
    """The smallest threshold already crossed (``days_left`` ≤ threshold), or None if far off."""
    crossed = [t for t in thresholds if days_left <= t]
    return min(crossed) if crossed else None


@dataclass(frozen=True)
class ExpiryDecision:
    threshold: int | None  # what to store as the alerted threshold
    open_new: bool  # a new threshold was crossed: open a (new) incident
    resolve: bool  # renewed: close the open incident
    severity: str


def expiry_step(days_left: float | None, alerted: int | None) -> ExpiryDecision:
    """Each threshold alerts once; renewal resolves. ``days_left`` None: expiry unknown."""
    if days_left is None:
        return ExpiryDecision(alerted, False, False, "warning")
    crossed = expiry_threshold(days_left)
    severity = "critical" if crossed is not None and crossed <= CRITICAL_EXPIRY_DAYS else "warning"
    if crossed is None:
        return ExpiryDecision(None, False, alerted is not None, severity)
    if alerted is None or crossed < alerted:
        return ExpiryDecision(crossed, True, False, severity)
    return ExpiryDecision(alerted, False, False, severity)
