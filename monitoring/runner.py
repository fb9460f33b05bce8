"""Running one claimed batch: all its checks concurrently, rechecks, then one write.

``run_batch()`` is what the Celery task calls. Network checks wait for their exact
slot (the dispatcher claims a few seconds ahead), run together under
``asyncio.gather`` through ``launchready.net``, and a failure that is not yet
confirmed is rechecked at once, so N=2 confirms within seconds. Heartbeats need
no network: they are late or not. Everything found is written by ``engine``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from launchready import fragments, net

from . import engine, heartbeats
from . import state as sm
from .checks import probes
from .checks.specs import CheckOutcome, CheckSpec
from .models import HeartbeatPing, Monitor
from .scheduler import Claim

logger = logging.getLogger(__name__)

RECHECK_DELAY_S = 1.0
# Checking a batch must end well inside ``tasks.run_checks``'s soft time limit (75 s):
# a batch killed by the limit writes nothing, so the very monitor that hangs (and
# needs its incident) would take its 199 neighbours' results with it. A recheck round
# that might not finish in time is left to the next scheduled check instead; the
# state machine counts consecutive failures across batches all the same.
CHECK_BUDGET_S = 60.0


async def _at_slot(spec: CheckSpec, due: datetime, config, lags: list[float]) -> CheckOutcome:
    wait = (due - datetime.now(UTC)).total_seconds()
    if wait > 0:
        await asyncio.sleep(wait)
    lags.append(max(0.0, (datetime.now(UTC) - due).total_seconds()))
    return await probes.run_one(spec, config)


def _round_s(specs: list[CheckSpec]) -> float:
    """The longest a recheck round can take: the delay, then the slowest probe's timeout."""
    return RECHECK_DELAY_S + max(s.timeout_s + probes.TIMEOUT_MARGIN_S for s in specs)


async def check_concurrently(
    specs: list[tuple[CheckSpec, datetime]],
    snapshots: dict[int, tuple[sm.Snapshot, sm.Policy]],
    config=None,
    budget_s: float | None = None,
) -> tuple[list[CheckOutcome], list[float]]:
    """Run every check at its slot, then recheck unconfirmed failures while the budget allows.

    Returns outcomes and lags.
    """
    deadline = time.monotonic() + (CHECK_BUDGET_S if budget_s is None else budget_s)
    lags: list[float] = []
    outcomes = list(await asyncio.gather(*(_at_slot(s, due, config, lags) for s, due in specs)))
    by_id = {s.monitor_id: s for s, _ in specs}
    pending = outcomes
    for _ in range(max((p.confirm_failures for _, p in snapshots.values()), default=1)):
        recheck = []
        for o in pending:
            if o.internal_error:
                continue
            snap, policy = snapshots[o.monitor_id]
            decision = sm.advance(snap, o.ok, o.checked_at, policy)
            snapshots[o.monitor_id] = (decision.snapshot, policy)
            if decision.needs_recheck:
                recheck.append(by_id[o.monitor_id])
        if not recheck:
            break
        if time.monotonic() + _round_s(recheck) > deadline:
            logger.warning("%d rechecks left to the next check: the batch is out of time", len(recheck))
            break
        await asyncio.sleep(RECHECK_DELAY_S)
        pending = list(await asyncio.gather(*(probes.run_one(s, config) for s in recheck)))
        outcomes.extend(pending)
    return outcomes, lags


def _deadline(m: Monitor, last_ping_at: datetime | None) -> datetime:
    return heartbeats.deadline(
        schedule=m.schedule,
        period_s=m.period_s,
        grace_s=m.grace_s,
        cron=m.cron,
        tz=m.timezone_name,
        last_ping_at=last_ping_at,
        created_at=m.created_at,
    )


def heartbeat_outcome(m: Monitor, now: datetime) -> CheckOutcome | None:
    """A late heartbeat is a failed check; one that pinged in time needs no result."""
    due = _deadline(m, m.last_ping_at)
    if now < due:
        Monitor.objects.filter(pk=m.pk).update(next_check_at=due)
        return None
    return CheckOutcome(m.pk, False, now, heartbeats.describe_late(m.last_ping_at, due, m.timezone_name))


def _prepare(m: Monitor, due: datetime, now: datetime, outcomes, specs, snapshots) -> None:
    """Turn one claimed monitor into a heartbeat outcome or a network check to run."""
    if m.kind == Monitor.Kind.HEARTBEAT:
        o = heartbeat_outcome(m, now)
        if o is not None:
            outcomes.append(o)
        return
    spec = CheckSpec.from_monitor(m)
    # Expiry checks are rechecked too: a daily check that fails once (a dropped
    # handshake) would otherwise alert on a blip; the engine judges the last result.
    snapshots[m.pk] = (engine.snapshot_of(m, None), engine.policy_for(m))
    specs.append((spec, due))


def run_batch(claims: list[Claim], config: net.NetConfig | None = None) -> dict:
    """Check one claimed batch and apply the results. Returns counts and the lags seen.

    The batch holds monitors of many workspaces: a monitor that cannot even be
    prepared (a schedule that cannot be computed, unreadable stored data) becomes that
    monitor's "could not run", logged for us and shown on its page, and the others
    are checked as usual.
    """
    due_by_id = {c.monitor_id: c.due_at for c in claims}
    monitors = list(
        Monitor.objects.select_related("workspace")
        .filter(pk__in=due_by_id)
        .exclude(state=Monitor.State.PAUSED)
    )
    now = timezone.now()
    outcomes: list[CheckOutcome] = []
    specs: list[tuple[CheckSpec, datetime]] = []
    snapshots: dict[int, tuple[sm.Snapshot, sm.Policy]] = {}
    could_not_run = 0
    for m in monitors:
        try:
            _prepare(m, due_by_id[m.pk], now, outcomes, specs, snapshots)
        except Exception as exc:  # one monitor's bad data never stops the batch
            logger.exception("monitor %s could not be prepared for its check", m.pk)
            engine.mark_could_not_run(m.pk, exc, now)
            could_not_run += 1
    lags: list[float] = []
    if specs:
        found, lags = asyncio.run(check_concurrently(specs, snapshots, config))
        outcomes.extend(found)
    applied = engine.apply_outcomes(outcomes)
    return {
        "checked": len(specs),
        "outcomes": len(outcomes),
        "opened": len(applied.opened),
        "could_not_run": could_not_run + len(applied.could_not_run),
        "lags": lags,
        "notification_ids": list(applied.notification_ids),
    }


def record_ping(m: Monitor, kind: str, now: datetime | None = None) -> list[int]:
    """A heartbeat ping: success recovers at once, fail goes down at once, start is noted.

    Returns the ids of the notifications it wrote, for the caller to queue."""
    now = now or timezone.now()
    previous = m.last_ping_at
    notification_ids = _record(m, kind, now)
    _show(m, kind, previous, now)
    return notification_ids


def _record(m: Monitor, kind: str, now: datetime) -> list[int]:
    if kind == HeartbeatPing.Kind.START:
        Monitor.objects.filter(pk=m.pk).update(last_start_at=now)
        return []
    if kind == HeartbeatPing.Kind.SUCCESS:
        m.last_ping_at = now
        try:
            due = _deadline(m, now)
        except heartbeats.ScheduleError as exc:
            # The ping is real and is kept; the schedule's problem is shown on the monitor.
            Monitor.objects.filter(pk=m.pk).update(last_ping_at=now)
            engine.mark_could_not_run(m.pk, exc, now)
            return []
        Monitor.objects.filter(pk=m.pk).update(last_ping_at=now, next_check_at=due)
        if m.state == Monitor.State.UP:
            return []  # the common case: nothing changes, no result row needed
        outcome = CheckOutcome(m.pk, True, now, "Ping received.")
    else:
        outcome = CheckOutcome(m.pk, False, now, "The job reported a failure (/fail ping).")
    return list(engine.apply_outcomes([outcome], now).notification_ids)


# The monitoring overview says how long ago a heartbeat pinged in whole minutes.
PING_AGE_STEP = timedelta(minutes=1)


def _show(m: Monitor, kind: str, previous: datetime | None, now: datetime) -> None:
    """Drop the kept pages that show this ping, and only those (``launchready.fragments``):
    the heartbeat's own page (its recent pings), what lists last pings and starts (the
    heartbeats API), and the monitoring overview when its "N minutes ago" would change. A
    change of state, which every page shows, is the engine's bump of the whole workspace."""
    fragments.bump_monitor(m.uuid)
    if kind == HeartbeatPing.Kind.FAIL:
        return  # neither its last ping nor its last start moved
    aged = kind == HeartbeatPing.Kind.SUCCESS and (previous is None or now - previous >= PING_AGE_STEP)
    fragments.bump_pings(m.workspace_id, ages=aged)
