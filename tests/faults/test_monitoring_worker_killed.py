"""``kill -9`` of a Celery worker in the middle of a check batch and of a notification send.

A batch's monitors were moved to their next slot when they were claimed: if the worker
dies, nobody checks this slot again, and a real beat with a new worker checks each of
them in its next slot. A notification claimed by the dead worker keeps its claim until
the lease runs out (no one sends it twice meanwhile), then the beat's outbox sweep
sends it, and the message that the broker gives back later finds it sent: the receiver
counts one delivery.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from monitoring import outbox
from monitoring.models import AlertChannel, CheckResult, Monitor, Notification
from monitoring.scheduler import DEFAULT_HORIZON, next_slot
from monitoring.tasks import deliver_due_notifications, send_notification

from .procs import send_task, wait_for

pytestmark = pytest.mark.slow

SCENARIO = {
    "name": "faults_monitoring",
    # The receiver's name answers late at every DNS server: a send is under way for a
    # moment before its request leaves, which is when the test kills the worker.
    "zones": {"slowdns.test": {"delay_ms": 1500}},
    "hosts": [
        {"name": "www.slowshop.test", "routes": [{"path": "/", "latency": 5000, "body": "Welcome"}]},
        {"name": "hooks.slowdns.test", "kind": "webhook"},
    ],
}
INTERVAL_S = 30


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def _delivery_id(request) -> str:
    return {k.lower(): v for k, v in request.headers.items()}.get("x-launchready-delivery", "")


def _claimed(n: Notification) -> bool:
    n.refresh_from_db()
    return n.status == Notification.Status.SENDING


def test_monitors_of_a_batch_whose_worker_died_are_checked_in_their_next_slot(
    sb, processes, broker_url, workspace
):
    processes.env.update(sb.env)
    worker = processes.worker()
    monitors = [
        Monitor.objects.create(
            workspace=workspace,
            kind=Monitor.Kind.HTTP,
            name=f"Shop {i}",
            url="https://www.slowshop.test/",
            interval_s=INTERVAL_S,
            timeout_s=15,
            next_check_at=timezone.now() - timedelta(seconds=1),
        )
        for i in range(4)
    ]
    slots = {m.pk: m.next_check_at for m in monitors}
    send_task(broker_url, "monitoring.tasks.dispatch_due_monitors")  # what the beat sends
    wait_for(lambda: "run_checks" in worker.output(), 60, "the batch to start", [worker.log])
    time.sleep(1.5)  # the checks are waiting for the slow store
    worker.kill9()

    assert not CheckResult.objects.filter(monitor__in=monitors).exists()  # the batch died with it
    claimed = {m.pk: m.next_check_at for m in Monitor.objects.filter(pk__in=slots)}
    for pk, slot in slots.items():
        # Claimed: moved to the next slot, so no one checks the dead batch's slot twice.
        # (the first of its own slots after the dispatcher's look-ahead, which it claimed too).
        assert claimed[pk] == next_slot(pk, INTERVAL_S, claimed[pk] - timedelta(seconds=INTERVAL_S))
        assert slot < claimed[pk] <= slot + timedelta(seconds=INTERVAL_S + 5) + DEFAULT_HORIZON

    processes.worker("worker-after")
    processes.beat()
    latest = max(claimed.values())
    wait_for(
        lambda: CheckResult.objects.filter(monitor__in=monitors).values("monitor").distinct().count() == 4,
        INTERVAL_S + 60,
        "every monitor to be checked again",
        [p.log for p in processes.started],
    )
    for m in monitors:
        first = CheckResult.objects.filter(monitor=m).order_by("checked_at").first()
        # Checked in its next slot: not before it, and before the slot after it.
        assert claimed[m.pk] - timedelta(seconds=1) <= first.checked_at
        assert first.checked_at < claimed[m.pk] + timedelta(seconds=INTERVAL_S)
    assert latest < timezone.now()


def test_a_notification_whose_worker_died_mid_send_is_delivered_exactly_once(
    sb, processes, broker_url, workspace
):
    processes.env.update(sb.env)
    sb.recorder.clear()
    channel = AlertChannel(workspace=workspace, kind=AlertChannel.Kind.WEBHOOK, name="Ops hook", label="hook")
    channel.credentials = {
        "url": "https://hooks.slowdns.test/launchready",
        "signing_secret": "s3cret-for-tests",
    }
    channel.save()
    n = outbox.queue_test(channel)
    worker = processes.worker()
    send_task(broker_url, "monitoring.tasks.send_notification", n.pk)
    wait_for(lambda: _claimed(n), 60, "the worker to claim the notification", [worker.log])
    worker.kill9()  # claimed, its request not yet sent (the receiver's name resolves slowly)

    n.refresh_from_db()
    assert n.status == Notification.Status.SENDING and n.claimed_until > timezone.now()
    assert sb.webhook_requests == []
    # The claim survives its worker: while the lease runs, the outbox sweep leaves it alone.
    assert deliver_due_notifications() == 0
    with time_machine.travel(n.claimed_until + timedelta(seconds=1), tick=True):
        sent = deliver_due_notifications()
        n.refresh_from_db()
        assert sent == 1, (n.status, n.last_error)  # the lease ran out: re-claimed and sent
        # The message the broker gives back (acks_late) finds it sent.
        assert send_notification(n.pk) is False
        assert deliver_due_notifications() == 0

    n.refresh_from_db()
    assert n.status == Notification.Status.SENT and n.attempts == 1
    deliveries = [r for r in sb.webhook_requests if _delivery_id(r) == str(n.uuid)]
    assert len(deliveries) == 1
    assert len(sb.webhook_requests) == 1
