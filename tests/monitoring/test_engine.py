"""The engine with the database: flapping reopens one incident, DNS changes, rollups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from monitoring import engine, rollups
from monitoring.checks.specs import CheckOutcome
from monitoring.models import CheckResult, DailyRollup, HourlyRollup, Incident, Monitor, Notification

pytestmark = pytest.mark.django_db


def feed(monitor, pattern, start, step=timedelta(minutes=1)):
    for i, ok in enumerate(pattern):
        at = start + step * i
        engine.apply_outcomes(
            [CheckOutcome(monitor.pk, ok, at, "ok" if ok else "Status 503 (expected 200-399).")], now=at
        )


def test_flapping_is_one_incident_with_one_flapping_alert(http_monitor, email_channel):
    start = timezone.now() - timedelta(hours=2)
    feed(http_monitor, [False, False, True] * 10, start)
    assert Incident.objects.count() == 1
    incident = Incident.objects.get()
    assert incident.flapping
    events = sorted(Notification.objects.values_list("event", flat=True))
    assert events == ["escalated", "opened", "resolved"]  # opened, first recovery, "flapping" — never twenty


def test_dns_change_is_confirmed_then_adopted(workspace):
    m = Monitor.objects.create(
        workspace=workspace, kind="dns", name="www", hostname="www.shop.test", last_values=["a"]
    )
    t = timezone.now()
    changed = CheckOutcome(m.pk, False, t, "Records changed from a to b.", values=("b",))
    engine.apply_outcomes([changed])  # first sighting: not yet confirmed, baseline kept
    m.refresh_from_db()
    assert m.last_values == ["a"] and m.state != "down"
    engine.apply_outcomes(
        [CheckOutcome(m.pk, False, t + timedelta(seconds=1), "Records changed from a to b.", values=("b",))]
    )
    m.refresh_from_db()
    assert m.state == "down" and m.last_values == ["b"]
    assert Incident.objects.get(monitor=m).cause == "Records changed from a to b."


def test_rollups_compute_uptime_and_percentiles_and_prune(http_monitor, settings):
    settings.MONITORING_RESULT_RETENTION_DAYS = 7
    now = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
    hour = now.replace(minute=0)
    rows = [
        CheckResult(
            monitor=http_monitor, checked_at=hour + timedelta(minutes=i), ok=i != 0, latency_ms=(i + 1) * 10
        )
        for i in range(20)
    ]
    rows.append(CheckResult(monitor=http_monitor, checked_at=now - timedelta(days=8), ok=True, latency_ms=5))
    CheckResult.objects.bulk_create(rows)
    result = rollups.rollup_and_prune(now)
    h = HourlyRollup.objects.get(monitor=http_monitor, hour=hour)
    assert (h.checks, h.failures) == (20, 1)
    assert h.uptime_pct == 95.0
    assert h.p50_ms == 110 and h.p95_ms == 200  # the 19 successes only: 20…200 ms, nearest rank
    d = DailyRollup.objects.get(monitor=http_monitor, day=now.date())
    assert (d.checks, d.failures) == (20, 1)
    assert result["pruned_results"] == 1
    assert rollups.rollup_and_prune(now)["hours"] == 1  # idempotent: recomputed, not doubled
    assert HourlyRollup.objects.get(monitor=http_monitor, hour=hour).checks == 20


def test_percentile_nearest_rank():
    assert rollups.percentile([], 95) is None
    assert rollups.percentile([5], 95) == 5
    assert rollups.percentile(list(range(1, 101)), 95) == 95


def test_weekly_summary_from_daily_rollups(http_monitor):
    from datetime import date

    days = [
        (date(2026, 3, d), 1440, f, 100 + d, 300 + d)
        for d, f in zip(range(1, 8), [0, 0, 14, 0, 0, 0, 0], strict=True)
    ]
    DailyRollup.objects.bulk_create(
        [
            DailyRollup(monitor=http_monitor, day=d, checks=c, failures=f, p50_ms=p50, p95_ms=p95)
            for d, c, f, p50, p95 in days
        ]
    )
    s = rollups.summarize([http_monitor.pk], date(2026, 3, 1), date(2026, 3, 7))[http_monitor.pk]
    assert s.checks == 7 * 1440 and s.failures == 14
    assert round(s.uptime_pct, 3) == round(100 * (1 - 14 / 10080), 3)
    assert s.p50_ms == 104 and s.p95_ms == 307
    assert rollups.summarize([http_monitor.pk], date(2026, 4, 1), date(2026, 4, 7)) == {}


def test_flapping_incident_that_settles_tells_the_channels_once(http_monitor, email_channel):
    from monitoring.messages import build

    start = timezone.now() - timedelta(hours=3)
    feed(http_monitor, [False, False, True] * 4 + [True] * 40, start)
    incident = Incident.objects.get()
    assert incident.ended_at is not None
    events = sorted(Notification.objects.values_list("event", flat=True))
    # The founder last heard "flapping": the final recovery must reach them too.
    assert events == ["escalated", "opened", "resolved", "settled"]
    settled = Notification.objects.get(event="settled")
    msg = build(settled)
    assert msg.title.startswith(f"RESOLVED: {http_monitor.name} is stable again")
    assert msg.ack_url == ""


@pytest.mark.parametrize(
    ("kind", "auto_key", "words"),
    [
        ("http", "route:checkout", "cannot pay"),
        ("http", "home", "homepage is unreachable"),
        ("http", "", "lost visits and sales"),
        ("tls_expiry", "cert", "security warning"),
        ("domain_expiry", "domain", "someone else can register"),
        ("dns", "", "wrong place"),
        ("heartbeat", "", "unprocessed"),
    ],
)
def test_every_alert_says_why_it_costs_money_and_what_to_do(workspace, email_channel, kind, auto_key, words):
    from monitoring.messages import build

    m = Monitor.objects.create(
        workspace=workspace, kind=kind, auto_key=auto_key, name="Watched", url="https://shop.example.com/"
    )
    incident = Incident.objects.create(
        monitor=m, workspace=workspace, started_at=timezone.now(), cause="Broken."
    )
    n = Notification.objects.create(
        workspace=workspace, incident=incident, channel=email_channel, event="opened"
    )
    msg = build(n)
    assert words in msg.impact
    assert msg.action
    assert f"Why it matters: {msg.impact}" in msg.text and f"What to do: {msg.action}" in msg.text
    assert msg.as_payload()["action"] == msg.action
