"""Redis stopped (the broker and the cache) while the product runs: the web app keeps
serving, heartbeat pings are accepted and recorded, dispatch resumes once Redis is
back, and the alert the outage delayed is delivered once.

Real processes on PostgreSQL and a redis-server of the test's own: gunicorn, a worker
and a beat. Redis comes back empty, as one that kept nothing on disk: what was queued
before is gone, and the outbox's sweep is what sends the alert.
"""

from __future__ import annotations

import time
import urllib.request
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitoring.models import AlertChannel, CheckResult, HeartbeatPing, Monitor, Notification

from .procs import OwnRedis, wait_for

pytestmark = pytest.mark.slow

SCENARIO = {
    "name": "faults_redis",
    "hosts": [{"name": "www.redisshop.test", "routes": [{"path": "/", "body": "Welcome"}]}],
}
OUTAGE_S = 20  # long enough for every process to notice; how long does not change the path taken


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
    assert _get(base + "/healthz") == (200, "ok")
    status, body = _get(page, cookie)
    assert status == 200 and "Nightly export" in body
    answer = _get(ping)
    assert answer == (200, "OK\n"), web.output()[-3000:]  # the job's failure is accepted ...
    assert HeartbeatPing.objects.filter(monitor=heartbeat, kind=HeartbeatPing.Kind.FAIL).count() == 1
    alert = Notification.objects.get(channel=channel)  # ... and its alert is written, waiting
    assert alert.status == Notification.Status.PENDING
    time.sleep(OUTAGE_S)
    assert _get(base + "/healthz") == (200, "ok")
    assert not _delivered(sb, alert)

    redis.start()  # back, empty
    back_at = timezone.now()
    wait_for(lambda: _delivered(sb, alert), 120, "the alert after the outage", logs)
    # A check that only a dispatch after the restart can have claimed (a batch claims 10 s ahead).
    wait_for(
        lambda: CheckResult.objects.filter(
            monitor=site_check, checked_at__gt=back_at + timedelta(seconds=15)
        ).exists(),
        90,
        "dispatch to resume",
        logs,
    )
    # Another sweep of the outbox (every 30 s) and the sends queued during the outage: still once.
    sweeps = worker.output().count("deliver_due_notifications")
    wait_for(
        lambda: worker.output().count("deliver_due_notifications") >= sweeps + 2, 90, "another sweep", logs
    )
    alert.refresh_from_db()
    assert alert.status == Notification.Status.SENT
    assert len(_delivered(sb, alert)) == 1
    assert web.popen.poll() is None  # the web app never stopped
