"""Rules of the ``deploy`` stage that come from the site's own records: the env-var
inventory and its CI gate, deploys with their smoke tests, rollback rehearsals.

The records exist only for a site in a workspace. The CLI has none, so these checks
are skipped there with that reason: never counted as passed without a look.
"""

from __future__ import annotations

from datetime import timedelta

from audits.facts import DeployRecords
from audits.findings import FindingData
from audits.rules.base import RuleContext, Skip, rule
from launchready.formats import human_date, human_datetime

GATE_MAX_AGE = timedelta(days=30)
# The reason of every deploy.* check that had no record to read: the stage summary says
# "2 not checked: needs your deploy records…", and how to start keeping them.
NEEDS_RECORDS = "needs your deploy records"
HOW_TO_RECORD = (
    "add the site to a workspace, report each deploy to the deploy hook (POST /api/v1/deploys, "
    "which runs the smoke test), and list your environment variables and rollback rehearsals "
    "on the site's Handover tab"
)
ROLLBACK_MAX_AGE = timedelta(days=90)
ROLLBACK_MAX_MINUTES = 10


def _records(ctx: RuleContext) -> DeployRecords:
    records = ctx.facts.deploy_records
    if records is None:
        raise Skip(f"{NEEDS_RECORDS} (a one-off CLI audit has none): {HOW_TO_RECORD}")
    return records


@rule("deploy.env_inventory_missing")
def env_inventory_missing(ctx: RuleContext) -> list[FindingData]:
    if _records(ctx).has_env_inventory:
        return []
    return [
        ctx.fail(
            "deploy.env_inventory_missing",
            ctx.site.domain,
            "no environment variable is recorded for the site",
        )
    ]


@rule("deploy.env_undocumented")
def env_undocumented(ctx: RuleContext) -> list[FindingData]:
    records = _records(ctx)
    if not records.has_env_inventory:
        raise Skip(
            f"{NEEDS_RECORDS}: no environment variable is recorded yet, so there is nothing to document; "
            "list them on the site's Handover tab (names and purposes, never values)"
        )
    return [
        ctx.fail("deploy.env_undocumented", name, "required, but its purpose or storage place is empty")
        for name in records.env_undocumented
    ]


@rule("deploy.env_gate_missing")
def env_gate_missing(ctx: RuleContext) -> list[FindingData]:
    last = _records(ctx).env_gate_last_call
    if last is None:
        evidence = "the env-check gate (POST /api/v1/env-check) has never been called for this site"
    elif ctx.now - last > GATE_MAX_AGE:
        evidence = f"the env-check gate was last called on {human_date(last)}, more than 30 days ago"
    else:
        return []
    return [ctx.fail("deploy.env_gate_missing", ctx.site.domain, evidence)]


@rule("deploy.smoke_missing")
def smoke_missing(ctx: RuleContext) -> list[FindingData]:
    if _records(ctx).has_deploys:
        return []
    return [
        ctx.fail(
            "deploy.smoke_missing",
            ctx.site.domain,
            "no deploy has reported through the deploy hook (POST /api/v1/deploys)",
        )
    ]


@rule("deploy.smoke_failed")
def smoke_failed(ctx: RuleContext) -> list[FindingData]:
    records = _records(ctx)
    if records.last_smoke_passed is None:
        raise Skip(
            f"{NEEDS_RECORDS}: no post-deploy smoke test has finished yet; report each deploy to "
            "the deploy hook (POST /api/v1/deploys) and it runs one"
        )
    if records.last_smoke_passed:
        return []
    when = human_datetime(records.last_smoke_at) if records.last_smoke_at else "last deploy"
    return [
        ctx.fail(
            "deploy.smoke_failed",
            ctx.site.domain,
            [f"smoke test of {when} failed", *records.last_smoke_failures],
        )
    ]


@rule("deploy.rollback_unrehearsed")
def rollback_unrehearsed(ctx: RuleContext) -> list[FindingData]:
    records = _records(ctx)
    when, minutes = records.last_rollback_at, records.last_rollback_minutes
    kind = "rehearsal" if records.last_rollback_kind == "rehearsal" else "rollback"
    if when is None:
        evidence = "no rollback rehearsal or real rollback is recorded"
    elif ctx.now - when > ROLLBACK_MAX_AGE:
        evidence = f"the last {kind} was on {human_date(when)}, more than 90 days ago"
    elif minutes is not None and minutes > ROLLBACK_MAX_MINUTES:
        evidence = f"the last {kind} ({human_date(when)}) took {minutes:.0f} minutes, more than 10"
    else:
        return []
    return [ctx.fail("deploy.rollback_unrehearsed", ctx.site.domain, evidence)]
