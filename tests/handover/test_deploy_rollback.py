"""Rollbacks: a reported rollback is verified by its smoke test and timed; the facts the audit reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from handover import deploys
from handover.models import Deploy, Rollback
from handover.smoke import RouteOutcome, SmokeTarget

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CHECKOUT = SmokeTarget("checkout", "https://www.shop.example.com/checkout", 800)


def outcome(passed: bool) -> RouteOutcome:
    reason = "Status 200 in 120 ms." if passed else "Status 502 (expected 200–399)."
    return RouteOutcome(CHECKOUT, passed, reason, datetime.now(UTC), 200 if passed else 502, 120)


def smoke_finishes(deploy: Deploy, passed: bool) -> Deploy:
    """What the worker does around the probe: claim, then save the outcome."""
    claimed = deploys.claim_smoke(deploy.pk)
    assert claimed is not None
    deploys.finish_smoke(claimed, [outcome(passed)])
    claimed.refresh_from_db()
    return claimed


def report(site, version: str, **kwargs) -> Deploy:
    return deploys.record_deploy(site, environment="production", version=version, by="API token CI", **kwargs)


def test_a_reported_rollback_is_timed_from_the_failed_deploy_to_its_passing_smoke_test(site):
    with time_machine.travel(T0, tick=False) as clock:
        bad = report(site, "v2.0.0")
        clock.shift(timedelta(minutes=1))
        assert smoke_finishes(bad, passed=False).state == Deploy.State.FAILED

        clock.shift(timedelta(minutes=3))  # 10:04: the team deploys v1.9.0 again and reports it
        rollback = report(site, "v1.9.0", rollback_of=bad.uuid)
        record = Rollback.objects.get(deploy=rollback)
        assert (record.kind, record.from_version, record.to_version) == ("real", "v2.0.0", "v1.9.0")
        assert record.minutes is None and record.performed_at == T0 + timedelta(minutes=4)
        assert deploys.deploy_facts(site).last_rollback_at is None  # not verified yet

        clock.shift(timedelta(minutes=2, seconds=30))  # 10:06:30 its smoke test passes
        assert smoke_finishes(rollback, passed=True).state == Deploy.State.PASSED

    record.refresh_from_db()
    assert record.minutes == 6.5
    assert rollback.kind == Deploy.Kind.ROLLBACK and rollback.rollback_of_id == bad.pk
    assert deploys.last_known_good(site) == {"production": rollback}
    facts = deploys.deploy_facts(site)
    assert (facts.last_rollback_at, facts.last_rollback_minutes, facts.rollback_kind) == (
        T0 + timedelta(minutes=4),
        6.5,
        "real",
    )


def test_a_rollback_whose_smoke_test_fails_is_not_a_rollback_on_record(site):
    with time_machine.travel(T0, tick=False) as clock:
        Rollback.objects.create(site=site, kind=Rollback.Kind.REHEARSAL, minutes=8, performed_at=T0)
        bad = smoke_finishes(report(site, "v2.0.0"), passed=False)
        clock.shift(timedelta(minutes=5))
        rollback = smoke_finishes(report(site, "v1.9.0", kind="rollback"), passed=False)
    assert rollback.rollback_of_id == bad.pk
    assert Rollback.objects.get(deploy=rollback).minutes is None
    facts = deploys.deploy_facts(site)
    assert (facts.rollback_kind, facts.last_rollback_minutes, facts.last_rollback_at) == ("rehearsal", 8, T0)
    assert facts.last_smoke_passed is False and facts.last_smoke_version == "v1.9.0"


def test_kind_rollback_undoes_the_newest_deploy_of_its_own_environment(site):
    older = report(site, "v1.0.0")
    newest = report(site, "v1.1.0")
    deploys.record_deploy(site, environment="staging", version="v1.2.0-rc1")
    rollback = report(site, "v1.0.0", kind="rollback")
    assert rollback.rollback_of_id == newest.pk != older.pk
    assert Rollback.objects.get(deploy=rollback).from_version == "v1.1.0"


@pytest.mark.parametrize(
    ("kwargs", "sentence"),
    [
        ({"kind": "rollback"}, "There is no earlier deploy to production to roll back."),
        (
            {"rollback_of": "00000000-0000-4000-8000-000000000000"},
            "“rollback_of” names no deploy of this site.",
        ),
    ],
)
def test_a_rollback_with_nothing_to_undo_is_refused(site, kwargs, sentence):
    with pytest.raises(deploys.DeployError, match=sentence):
        report(site, "v1.0.0", **kwargs)
    assert not Deploy.objects.exists() and not Rollback.objects.exists()


def test_a_rollback_cannot_undo_another_environments_deploy(site):
    staging = deploys.record_deploy(site, environment="staging", version="v2")
    with pytest.raises(deploys.DeployError, match="is a deploy to staging, not to production"):
        report(site, "v1", rollback_of=staging.uuid)


def test_a_rollback_cannot_undo_another_sites_deploy(site, workspace):
    from launchready.models import Site

    other = Site.objects.create(workspace=workspace, domain="blog.example.com")
    theirs = deploys.record_deploy(other, environment="production", version="v9")
    with pytest.raises(deploys.DeployError, match="names no deploy of this site"):
        report(site, "v1", rollback_of=theirs.uuid)


def test_facts_without_any_deploy(site):
    assert deploys.deploy_facts(site) == deploys.DeployFacts(
        has_deploys=False,
        last_smoke_passed=None,
        last_smoke_at=None,
        last_smoke_failures=[],
        last_rollback_at=None,
        last_rollback_minutes=None,
        rollback_kind=None,
    )


def test_facts_of_a_deploy_still_being_tested(site):
    report(site, "v1.0.0")
    facts = deploys.deploy_facts(site)
    assert facts.has_deploys is True and facts.last_smoke_passed is None


def test_facts_read_production_when_it_has_deploys_however_new_staging_is(site):
    with time_machine.travel(T0, tick=False) as clock:
        good = smoke_finishes(report(site, "v1.0.0"), passed=True)
        clock.shift(timedelta(hours=1))
        smoke_finishes(deploys.record_deploy(site, environment="staging", version="v2.0.0-rc1"), passed=False)
    facts = deploys.deploy_facts(site)
    assert facts.last_smoke_passed is True and facts.last_smoke_environment == "production"
    assert facts.last_smoke_at == good.smoke_finished_at == T0


def test_facts_of_a_site_with_only_staging_read_staging(site):
    smoke_finishes(deploys.record_deploy(site, environment="staging", version="v2.0.0-rc1"), passed=False)
    facts = deploys.deploy_facts(site)
    assert facts.last_smoke_passed is False
    assert facts.last_smoke_failures == ["checkout: Status 502 (expected 200–399)."]


def test_the_newest_rollback_on_record_is_what_the_audit_reads(site):
    Rollback.objects.create(site=site, kind="real", minutes=3, performed_at=T0 - timedelta(days=30))
    Rollback.objects.create(site=site, kind="rehearsal", minutes=12.5, performed_at=T0 - timedelta(days=2))
    facts = deploys.deploy_facts(site)
    assert (facts.rollback_kind, facts.last_rollback_minutes) == ("rehearsal", 12.5)


def test_last_known_good_is_per_environment_and_the_newest_passing(site):
    with time_machine.travel(T0, tick=False) as clock:
        v1 = smoke_finishes(report(site, "v1"), passed=True)
        clock.shift(timedelta(minutes=10))
        smoke_finishes(report(site, "v2"), passed=False)
        clock.shift(timedelta(minutes=10))
        rc = smoke_finishes(deploys.record_deploy(site, environment="staging", version="v3-rc"), passed=True)
        clock.shift(timedelta(minutes=10))
        report(site, "v3")  # still queued
    assert deploys.last_known_good(site) == {"production": v1, "staging": rc}


def test_smoke_tests_left_behind_by_a_stopped_worker_fail_with_the_reason(site):
    with time_machine.travel(T0, tick=False) as clock:
        queued = report(site, "v1")
        running = report(site, "v2")
        assert deploys.claim_smoke(running.pk) is not None
        clock.shift(timedelta(minutes=9))
        fresh = report(site, "v3")
        assert deploys.fail_stale_smoke_tests() == 0
        clock.shift(timedelta(minutes=2))
        assert deploys.fail_stale_smoke_tests() == 2
    for deploy in (queued, running):
        deploy.refresh_from_db()
        assert (deploy.state, deploy.smoke_error) == ("failed", deploys.STALE)
    fresh.refresh_from_db()
    assert fresh.state == "queued"
    # The lost task turning up later finds nothing to run.
    assert deploys.claim_smoke(queued.pk) is None
