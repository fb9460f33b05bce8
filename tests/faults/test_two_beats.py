"""Two beat processes by mistake (a second ``beat`` in the Procfile, two deploys at
once): every periodic task is sent twice, and two workers run the copies side by side.
No monitor is checked twice in one slot and no weekly report goes out twice.

Real processes on PostgreSQL and Redis: two ``celery beat`` and one worker with two
pool processes, production settings, emails to a real SMTP server.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.models import CheckResult, Monitor
from monitoring.scheduler import next_slot
from reports.models import ReportDelivery, ReportSchedule

from .procs import Smtp, wait_for

pytestmark = pytest.mark.slow

SCENARIO = {
    "name": "faults_beats",
    "hosts": [{"name": "www.beatshop.test", "routes": [{"path": "/", "body": "Welcome"}]}],
}
INTERVAL_S = 30


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


@pytest.fixture
def smtp():
    server = Smtp()
    server.start()
    yield server
    server.stop()


def _sent_by_both(beats, task: str) -> bool:
    return all(f"Sending due task {task}" in p.output() for p in beats)


def test_two_beats_check_each_slot_once_and_send_one_report(sb, processes, workspace, site, owner, smtp):
    processes.env.update(sb.env)
    processes.env.update(
        {
            # Production settings (the test settings keep emails in memory), mail to the receiver.
            "DJANGO_SETTINGS_MODULE": "launchready.settings",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp.handler.port}",
            "ALLOWED_HOSTS": "127.0.0.1",
        }
    )
    now = timezone.now()
    monitors = [
        Monitor.objects.create(
            workspace=workspace,
            kind=Monitor.Kind.HTTP,
            name=f"Shop {i}",
            url="https://www.beatshop.test/",
            interval_s=INTERVAL_S,
        )
        for i in range(5)
    ]
    for m in monitors:  # on their own slots from the start (a new monitor is otherwise checked at once)
        Monitor.objects.filter(pk=m.pk).update(next_check_at=next_slot(m.pk, INTERVAL_S, now))
    ReportSchedule.objects.create(workspace=workspace, next_send_at=now - timedelta(minutes=1))
    worker = processes.worker(concurrency=2)
    beats = [processes.beat("beat-a"), processes.beat("beat-b")]
    logs = [worker.log] + [b.log for b in beats]

    # Each beat sends the report job after a minute and the dispatch every 10 s.
    wait_for(lambda: _sent_by_both(beats, "reports-send-due"), 120, "both beats' report jobs", logs)
    wait_for(
        lambda: worker.output().count("reports.tasks.send_due_reports") >= 4,  # 2 received + 2 succeeded
        60,
        "the worker to run every copy of the report job",
        logs,
    )
    assert all(p.output().count("Sending due task monitoring-dispatch") >= 4 for p in beats)

    wait_for(
        lambda: all(CheckResult.objects.filter(monitor=m).count() >= 2 for m in monitors),
        INTERVAL_S + 60,
        "two slots of every monitor",
        logs,
    )
    for m in monitors:
        times = sorted(CheckResult.objects.filter(monitor=m).values_list("checked_at", flat=True))
        assert len(times) >= 2, f"{m.name} was checked {len(times)} times"
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) > INTERVAL_S / 2, f"{m.name} was checked twice in one slot: {times}"
    delivery = ReportDelivery.objects.get(user=owner)
    assert delivery.status == ReportDelivery.Status.SENT
    assert len(smtp.handler.to(owner.email)) == 1
