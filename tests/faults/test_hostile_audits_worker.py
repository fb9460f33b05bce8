"""Hostile stores audited by a real Celery worker, as production runs audits.

The stores of ``sandbox/scenarios/hostile_lab.yaml`` (an endless body, a byte a second,
10,000 headers, TLS garbage, redirects to ``file://`` and to private addresses, 2,000
TXT and MX records, a 30-second DNS server) are queued to one worker with production's
pool (prefork, 4 processes) and network limits. Each run ends done, within its cap,
with its finding or inconclusive result; no pool process dies or is replaced; then the
same worker audits a calm store whole.

The cap: the audits are queued with a soft time limit of 60 s instead of the task's
150 s, and the task gives its probes that limit less the 30 s it keeps to save (30 s
instead of 120 s), the in-process test's cap. At production's cap the trickling and the
slow-DNS stores use up their two minutes; this way the test takes about a minute.
``tests/audits/test_hostile_targets.py`` runs the same stores in-process (on SQLite too).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from audits import services
from audits.models import AuditRun, Finding
from audits.tasks import AUDIT_TIME_BUDGET_S, probe_budget_s
from launchready.models import Site
from tests.audits.test_hostile_targets import CASES, CHECKS_THE_SCANNER_COULD_NOT_RUN

from .procs import send_task, wait_for

SOFT_LIMIT_S = 60
CAP = timedelta(seconds=SOFT_LIMIT_S)
PRODUCTION_CONCURRENCY = 4  # the Procfile's WORKER_CONCURRENCY default


@pytest.fixture(scope="module")
def lab(sandbox_scenario):
    return sandbox_scenario("hostile_lab")


def _queue(broker_url: str, workspace, domain: str) -> AuditRun:
    run, created = services.open_run(Site.objects.create(workspace=workspace, domain=domain))
    assert created
    send_task(
        broker_url,
        "audits.tasks.run_audit_task",
        run.pk,
        soft_time_limit=SOFT_LIMIT_S,
        time_limit=SOFT_LIMIT_S + 30,
    )
    return run


def _finished(runs: list[AuditRun]) -> bool:
    return not AuditRun.objects.filter(pk__in=[r.pk for r in runs], finished_at__isnull=True).exists()


@pytest.mark.slow
def test_hostile_stores_end_within_the_cap_on_a_worker_that_then_audits_a_calm_store(
    lab, processes, broker_url, workspace
):
    processes.env.update(lab.env)
    worker = processes.worker(concurrency=PRODUCTION_CONCURRENCY)
    pool = sorted(
        wait_for(
            lambda: len(worker.children()) == PRODUCTION_CONCURRENCY and worker.children(),
            30,
            "the worker's pool processes",
            [worker.log],
        )
    )
    runs = {store: _queue(broker_url, workspace, store) for store, *_ in CASES}
    wait_for(
        lambda: _finished(list(runs.values())), 3 * CAP.total_seconds(), "the hostile audits", [worker.log]
    )

    for store, check, status, _ in CASES:
        run = AuditRun.objects.get(pk=runs[store].pk)
        assert run.status == AuditRun.Status.DONE, (store, run.error)
        assert run.finished_at - run.started_at <= CAP, (store, run.finished_at - run.started_at)
        assert run.attempts == 1, store  # never given back by a pool process that died
        found = Finding.objects.filter(run=run, check_id=check)
        assert {f.status for f in found} == {status}, (store, [(f.status, f.evidence) for f in found])
        assert not [
            f.check_id for f in run.findings.all() if CHECKS_THE_SCANNER_COULD_NOT_RUN in str(f.evidence)
        ], store
    assert sorted(worker.children()) == pool  # no pool process died, hit its hard limit or was replaced

    calm = _queue(broker_url, workspace, "calm-store.test")
    wait_for(lambda: _finished([calm]), CAP.total_seconds(), "the calm audit", [worker.log])
    calm.refresh_from_db()
    assert calm.status == AuditRun.Status.DONE, calm.error
    assert not calm.findings.filter(
        check_id__in=["http.unreachable", "http.hsts_missing", "http.no_https_redirect"]
    ).exists()
    web = calm.findings.filter(check_id__regex=r"^(http|tls)\.", status=Finding.Status.INCONCLUSIVE)
    assert not web.exists(), [(f.check_id, f.evidence) for f in web]
    assert sorted(worker.children()) == pool
    assert "Hard time limit" not in worker.output() and "WorkerLostError" not in worker.output()


def test_an_audit_queued_with_a_shorter_limit_gives_its_probes_that_limit_less_the_time_to_save():
    assert probe_budget_s(None) == probe_budget_s((None, None)) == AUDIT_TIME_BUDGET_S  # as queued by the app
    assert probe_budget_s((90, 60)) == 30  # (hard, soft), as Celery hands them to the task
    assert probe_budget_s((None, 20.0)) == 10  # never less than half the limit
