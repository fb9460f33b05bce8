"""``kill -9`` of a Celery worker in the middle of an audit, on real processes.

A killed pool process gives its message back (``acks_late`` with
``reject_on_worker_lost``) and the run is started again and completes, writing its
findings once. A killed worker (the whole process, its pool with it) leaves its run
"running": the reaper, a beat task, marks it failed with the reason, the page says so,
and a late redelivery of the message does not run it again.
"""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from audits import services
from audits.models import AuditRun
from audits.tasks import RUNNING_STUCK_AFTER, WORKER_DIED, reap_stuck, reap_stuck_runs, run_audit_task
from launchready.models import CriticalRoute, Site

from .procs import send_task, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def broken(sandbox_scenario):
    return sandbox_scenario("demo_broken")


def _queue_audit(broker_url: str, workspace) -> AuditRun:
    site = Site.objects.create(workspace=workspace, domain="broken-store.test")
    # The product page answers in 450 ms at the median: its 20 samples keep the audit going
    # for seconds, so there is a middle to kill it in, however fast the rest of it is (the
    # whole audit of the homepage alone takes under a second).
    CriticalRoute.objects.create(site=site, name="product", path="/products/mug")
    run, created = services.open_run(site)
    assert created
    send_task(broker_url, "audits.tasks.run_audit_task", run.pk)
    return run


def _probing(run: AuditRun) -> bool:
    """Started, some stage done and some still to do: the middle of the audit."""
    run.refresh_from_db()
    states = set(run.progress.values())
    return run.status == AuditRun.Status.RUNNING and "done" in states and states - {"done"}


def _finished(run: AuditRun) -> AuditRun | None:
    run.refresh_from_db()
    return run if run.is_finished else None


def test_a_killed_pool_process_gives_the_audit_back_and_the_run_completes(
    broken, processes, broker_url, workspace
):
    processes.env.update(broken.env)
    worker = processes.worker()
    run = _queue_audit(broker_url, workspace)
    wait_for(lambda: _probing(run), 120, "the audit to be half-way", [worker.log])
    [pool_process] = worker.children()
    os.kill(pool_process, signal.SIGKILL)

    done = wait_for(lambda: _finished(run), 300, "the redelivered audit to finish", [worker.log])
    assert done.status == AuditRun.Status.DONE, done.error
    assert done.attempts == 2  # started, killed, started again
    assert "SIGKILL" in worker.output()  # the worker saw its pool process die
    findings = list(done.findings.values_list("check_id", "subject"))
    assert findings and len(findings) == len(set(findings))  # written once
    assert done.verdict == "not_ready"


def test_a_killed_worker_leaves_a_run_the_reaper_fails_and_the_page_says_so(
    broken, processes, broker_url, workspace, owner, client_as
):
    processes.env.update(broken.env)
    worker = processes.worker()
    run = _queue_audit(broker_url, workspace)
    wait_for(lambda: _probing(run), 120, "the audit to be half-way", [worker.log])
    worker.kill9()  # the worker and its pool: nothing is left to give the message back

    run.refresh_from_db()
    assert run.status == AuditRun.Status.RUNNING
    assert reap_stuck(timezone.now()) == 0  # a run that may still be going is left alone
    with time_machine.travel(run.started_at + RUNNING_STUCK_AFTER + timedelta(seconds=1), tick=False):
        assert reap_stuck_runs() == 1  # the beat task

    run.refresh_from_db()
    assert run.status == AuditRun.Status.FAILED
    assert run.error == WORKER_DIED
    site = run.site
    page = client_as(owner).get(
        reverse("audit_run_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid, "run": run.uuid})
    )
    assert page.status_code == 200
    assert "This audit stopped without finishing: the worker died. Run it again." in page.content.decode()
    # The message comes back from the broker much later: the failed run is not run again.
    assert run_audit_task(run.pk).startswith("skipped")
    run.refresh_from_db()
    assert run.status == AuditRun.Status.FAILED


@pytest.mark.django_db
def test_a_run_whose_worker_died_on_every_attempt_fails_instead_of_looping(site):
    run, _ = services.open_run(site)
    AuditRun.objects.filter(pk=run.pk).update(status=AuditRun.Status.RUNNING, attempts=2)
    assert run_audit_task(run.pk).startswith("failed")
    run.refresh_from_db()
    assert run.status == AuditRun.Status.FAILED and run.error == WORKER_DIED


@pytest.mark.django_db
def test_the_reaper_fails_a_run_whose_message_was_lost(site):
    run, _ = services.open_run(site)
    assert reap_stuck(timezone.now() + timedelta(minutes=59)) == 0
    assert reap_stuck(timezone.now() + timedelta(hours=1, minutes=1)) == 1
    run.refresh_from_db()
    assert run.status == AuditRun.Status.FAILED
    assert "never started" in run.error and "Run it again" in run.error
