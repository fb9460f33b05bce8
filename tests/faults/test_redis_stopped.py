"""Redis stopped (the broker and the cache) for a minute while the product runs: the
web app keeps serving, heartbeat pings are accepted and recorded, dispatch resumes once
Redis is back, and the alert the outage delayed is delivered once.

About 100 s on an idle 2-core machine, most of it the outage: slow, and while it waits
the other xdist worker runs the rest of the suite.

Real processes on PostgreSQL and a redis-server of the test's own: gunicorn, a worker
and a beat. Redis comes back empty, as one that kept nothing on disk: what was queued
before is gone, and the outbox's sweep is what sends the alert.
"""

from __future__ import annotations

import time
import urllib.request

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitoring.models import AlertChannel, CheckResult, HeartbeatPing, Monitor, Notification

from .procs import OwnRedis, send_task, wait_for

pytestmark = pytest.mark.slow

SCENARIO = {
    "name": "faults_redis",
    "hosts": [{"name": "www.redisshop.test", "routes": [{"path": "/", "body": "Welcome"}]}],
}
OUTAGE_S = 60  # the minute: every process notices, retries and keeps going
PROBE_EVERY_S = 10  # during the outage: the app, a page and a ping, six times


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def _get(url: str, cookie: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _sweeps(worker, event: str) -> int:
    """Outbox sweeps the worker logged as ``received`` or ``succeeded`` (it runs one task at a time)."""
    return sum(
        1
        for line in worker.output().splitlines()
        if "deliver_due_notifications[" in line and f"] {event}" in line
    )


def _delivered(sb, n: Notification) -> list:
    return [r for r in sb.webhook_requests if str(n.uuid) in str(r.headers.values())]


def test_redis_stopped_the_app_serves_pings_count_and_the_alert_goes_once(sb, processes, workspace, owner):
    redis = OwnRedis(processes)
    redis.start()
    processes.env.update(sb.env)
    processes.env.update({"CELERY_BROKER_URL": redis.url(0), "CACHE_URL": redis.url(1)})
    sb.recorder.clear()
    channel = AlertChannel(workspace=workspace, kind=AlertChannel.Kind.WEBHOOK, name="Ops hook", label="hook")
    channel.credentials = {
        "url": "https://hooks.sandbox.test/launchready",
        "signing_secret": "s3cret-for-tests",
    }
    channel.save()
    heartbeat = Monitor.objects.create(
        workspace=workspace, kind=Monitor.Kind.HEARTBEAT, name="Nightly export", period_s=3600, grace_s=300
    )
    site_check = Monitor.objects.create(
        workspace=workspace,
        kind=Monitor.Kind.HTTP,
        name="Shop",
        url="https://www.redisshop.test/",
        interval_s=30,
        next_check_at=timezone.now(),
    )
    worker = processes.worker()
    processes.beat()
    web, base = processes.web()
    logs = [p.log for p in processes.started]
    wait_for(lambda: CheckResult.objects.filter(monitor=site_check).exists(), 90, "a first check", logs)

    client = Client()
    client.force_login(owner)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    page = base + reverse(
        "monitoring:monitor_detail", kwargs={"workspace": workspace.uuid, "monitor": heartbeat.uuid}
    )
    ping = base + reverse("monitoring_ping_fail", kwargs={"uuid": heartbeat.uuid})

    redis.stop()
    stopped_at = time.monotonic()
    # The whole minute, every 10 s: the app answers, the page shows, the job's failure
    # ping is accepted and recorded; its alert is written once and waits.
    fail_pings = 0
    while (elapsed := time.monotonic() - stopped_at) < OUTAGE_S:
        assert _get(base + "/healthz") == (200, "ok"), f"after {elapsed:.0f} s without Redis"
        status, body = _get(page, cookie)
        assert status == 200 and "Nightly export" in body, f"after {elapsed:.0f} s without Redis"
        assert _get(ping) == (200, "OK\n"), web.output()[-3000:]
        fail_pings += 1
        recorded = HeartbeatPing.objects.filter(monitor=heartbeat, kind=HeartbeatPing.Kind.FAIL).count()
        assert recorded == fail_pings, f"after {elapsed:.0f} s without Redis"
        alert = Notification.objects.get(channel=channel)
        assert alert.status == Notification.Status.PENDING and not _delivered(sb, alert)
        time.sleep(max(0.0, min(PROBE_EVERY_S * fail_pings - elapsed, OUTAGE_S - elapsed)))
    assert fail_pings >= OUTAGE_S // PROBE_EVERY_S
    assert _get(base + "/healthz") == (200, "ok")

    redis.start()  # back, empty, a minute later
    back_at = timezone.now()
    # By themselves, waited for together: the outbox's sweep (every 30 s) sends the alert,
    # and a check runs that only a dispatch after the restart can have claimed (the last
    # tick before the outage claimed at most 30 s ahead, a minute earlier).
    wait_for(
        lambda: (
            _delivered(sb, alert)
            and CheckResult.objects.filter(monitor=site_check, checked_at__gt=back_at).exists()
        ),
        120,
        "the alert after the outage and dispatch to resume",
        logs,
    )
    # One more sweep after the one that sent it, queued now rather than waited for: every
    # sweep the worker has received so far, and then this one, has run.
    received = _sweeps(worker, "received")
    send_task(redis.url(0), "monitoring.tasks.deliver_due_notifications")
    wait_for(lambda: _sweeps(worker, "succeeded") > received, 60, "another sweep of the outbox", logs)
    alert.refresh_from_db()
    assert alert.status == Notification.Status.SENT
    assert len(_delivered(sb, alert)) == 1  # not doubled, not lost
    assert Notification.objects.filter(channel=channel).count() == 1  # six failure pings, one alert
    assert web.popen.poll() is None  # the web app never stopped
