"""The Celery tasks are thin: JSON arguments in, plain functions called."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from launchready.models import Workspace
from monitoring import tasks
from monitoring.models import Monitor

pytestmark = pytest.mark.django_db


def test_dispatch_enqueues_one_task_per_batch_with_json_arguments(
    workspace, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.MONITORING_BATCH_SIZE = 3
    now = timezone.now()
    for i in range(7):
        Monitor.objects.create(
            workspace=workspace, name=f"m{i}", url="https://a.test/", next_check_at=now - timedelta(seconds=1)
        )
    sent = []
    countdowns = []

    def apply_async(args, countdown):
        sent.append(args[0])
        countdowns.append(countdown)

    monkeypatch.setattr(tasks.run_checks, "apply_async", apply_async)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert tasks.dispatch_due_monitors() == 7
        assert sent == []  # nothing is queued before the claims are committed
    assert len(queued) == 3
    assert [len(batch) for batch in sent] == [3, 3, 1]
    pk, due = sent[0][0]
    assert isinstance(pk, int) and isinstance(due, str)
    assert countdowns == [0.0, 0.0, 0.0]  # already due: start now


def test_a_batch_due_later_in_the_tick_starts_at_its_first_slot(
    workspace, monkeypatch, django_capture_on_commit_callbacks
):
    Monitor.objects.create(
        workspace=workspace,
        name="soon",
        url="https://a.test/",
        next_check_at=timezone.now() + timedelta(seconds=6),
    )
    countdowns = []
    monkeypatch.setattr(tasks.run_checks, "apply_async", lambda args, countdown: countdowns.append(countdown))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.dispatch_due_monitors() == 1
    assert 5 < countdowns[0] <= 6


def test_run_checks_accepts_what_dispatch_sends(workspace):
    hb = Monitor.objects.create(workspace=workspace, kind="heartbeat", name="Job", period_s=3600)
    # A heartbeat that is not late needs no network and writes no result: 0 outcomes.
    assert tasks.run_checks.apply(args=[[[hb.pk, timezone.now().isoformat()]]]).get() == 0
    hb.refresh_from_db()
    assert hb.next_check_at > timezone.now() + timedelta(minutes=59)


def test_objects_of_another_workspace_are_404_even_for_an_owner(client_as, owner, workspace):
    other = Workspace.objects.create(name="Other")
    foreign = Monitor.objects.create(workspace=other, name="Theirs", url="https://other.test/")
    url = reverse("monitoring:monitor_detail", kwargs={"workspace": workspace.uuid, "monitor": foreign.uuid})
    assert client_as(owner).get(url).status_code == 404
    delete = reverse(
        "monitoring:monitor_delete", kwargs={"workspace": workspace.uuid, "monitor": foreign.uuid}
    )
    assert client_as(owner).post(delete).status_code == 404
    assert Monitor.objects.filter(pk=foreign.pk).exists()
