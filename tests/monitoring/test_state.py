"""The state machine with literal inputs: blips, confirmation, recovery, flapping, maintenance."""

from datetime import UTC, datetime, timedelta

from monitoring import state as sm

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = sm.Policy(confirm_failures=2, recover_successes=1)


def run(results, snap=None, policy=POLICY, maintenance=(), start=0):
    """Feed results one minute apart from ``start``; return the final snapshot and events."""
    snap = snap or sm.Snapshot(state=sm.UP)
    events = []
    for i, ok in enumerate(results):
        at = T0 + timedelta(minutes=start + i)
        d = sm.advance(snap, ok, at, policy, in_maintenance=i in maintenance)
        snap = d.snapshot
        if d.event != sm.Event.NONE:
            events.append((i, d.event))
    return snap, events


def test_single_blip_never_alerts():
    snap, events = run([True, False, True, True])
    assert events == []
    assert snap.state == sm.UP


def test_first_failure_asks_for_immediate_recheck():
    d = sm.advance(sm.Snapshot(state=sm.UP), False, T0, POLICY)
    assert d.needs_recheck is True
    assert d.snapshot.state == sm.UP


def test_n_failures_open_exactly_one_incident():
    snap, events = run([False, False, False, False, False])
    assert events == [(1, sm.Event.OPENED)]
    assert snap.state == sm.DOWN and snap.incident_open


def test_recovery_resolves_once():
    snap, events = run([False, False, False, True, True, True])
    assert events == [(1, sm.Event.OPENED), (3, sm.Event.RESOLVED)]
    assert snap.state == sm.UP and not snap.incident_open


def test_recover_needs_m_successes():
    policy = sm.Policy(confirm_failures=2, recover_successes=3)
    _, events = run([False, False, True, True, False, True, True, True], policy=policy)
    assert events == [(1, sm.Event.OPENED), (7, sm.Event.RESOLVED)]


def test_flapping_is_one_incident_not_twenty():
    pattern = [False, False, True] * 20  # down, confirmed, up, sixty minutes long
    snap, events = run(pattern)
    kinds = [e for _, e in events]
    # Opened, recovered, back down within the hour: reopened as flapping, then silence.
    assert kinds == [sm.Event.OPENED, sm.Event.RESOLVED, sm.Event.REOPENED]
    assert snap.incident_open  # still flapping at the end: not yet quiet for 30 minutes


def test_flapping_incident_resolves_after_quiet_period():
    snap, _ = run([False, False, True] * 4)
    assert snap.incident_open and snap.incident_flapping
    quiet = [True] * 40
    snap2, events = run(quiet, snap=snap, start=12)
    assert [e for _, e in events] == [sm.Event.RESOLVED]
    assert not snap2.incident_open


def test_maintenance_suppresses_then_opens_if_still_down():
    snap, events = run([False, False, False, False], maintenance={0, 1, 2})
    assert events == [(3, sm.Event.OPENED)]
    assert snap.state == sm.DOWN


def test_down_again_after_flap_window_is_a_new_incident():
    snap, _ = run([False, False, True])
    assert snap.last_resolved_at is not None
    _, events = run([False, False], snap=snap, start=120)
    assert [e for _, e in events] == [sm.Event.OPENED]


def test_maintenance_recovery_inside_window_alerts_nothing():
    _, events = run([False, False, True], maintenance={0, 1, 2})
    assert events == []


def test_paused_monitor_does_not_move():
    d = sm.advance(sm.Snapshot(state=sm.PAUSED), False, T0, POLICY)
    assert d.snapshot.state == sm.PAUSED and d.event == sm.Event.NONE


def test_unknown_becomes_up_on_first_success_without_event():
    d = sm.advance(sm.Snapshot(), True, T0, POLICY)
    assert d.snapshot.state == sm.UP and d.event == sm.Event.NONE


def test_expiry_thresholds_each_alert_once():
    assert sm.expiry_threshold(45) is None
    assert sm.expiry_threshold(30) == 30
    assert sm.expiry_threshold(13.5) == 14
    assert sm.expiry_threshold(0.5) == 1
    s = sm.expiry_step(29, None)
    assert (s.threshold, s.open_new, s.severity) == (30, True, "warning")
    assert sm.expiry_step(28, 30).open_new is False
    s = sm.expiry_step(6, 30)
    assert (s.threshold, s.open_new, s.severity) == (7, True, "critical")
    renewed = sm.expiry_step(89, 7)
    assert renewed.resolve is True and renewed.threshold is None
