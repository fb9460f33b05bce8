"""Issuing weekly reports once per workspace per week, and sending them through an outbox.

1. ``issue_due`` claims each due ``ReportSchedule`` by moving ``next_send_at`` to the
   next slot with a conditional UPDATE (``WHERE next_send_at = <the value read>``).
   Only the sender whose UPDATE changed the row issues the report, so two schedulers
   issue one; the next slot is computed from *now*, so a scheduler that was down for
   weeks issues one report (for the latest week), not one per missed week. The report
   and one ``ReportDelivery`` per member who has not opted out are written in the same
   transaction as the claim.
2. ``deliver`` claims deliveries (``pending → sending``, again a conditional UPDATE),
   renders each for its recipient and hands it to the mail backend over one SMTP
   connection. A refused or failed send is retried with backoff; a 5xx refusal of the
   address is final. A delivery whose report cannot be built (bad data) fails alone.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from launchready.models import Membership, Site, Workspace

from . import content, digest, render
from .models import DigestSubscription, MemberReportSetting, ReportDelivery, ReportSchedule, WeeklyReport
from .schedule import DEFAULT_HOUR, DEFAULT_WEEKDAY, next_slot, period_before, previous_slot

logger = logging.getLogger(__name__)

CLAIM_TTL = timedelta(minutes=10)
BACKOFF_MINUTES = (5, 15, 60, 240)  # after the 1st, 2nd, 3rd, 4th failure; the 5th is final
ISSUE_BATCH = 500
BUILD_BATCH = 200  # workspaces whose reports are read together (one query per kind of row)
NOT_SENT = "Not sent because of a problem on our side; we have been notified."


# --- issuing -----------------------------------------------------------------------------


def ensure_schedules(now: datetime) -> int:
    """Give every workspace without a schedule the default one (Monday 08:00 local)."""
    missing = list(Workspace.objects.filter(report_schedule__isnull=True).values_list("pk", "timezone"))
    ReportSchedule.objects.bulk_create(
        [
            ReportSchedule(workspace_id=pk, next_send_at=next_slot(now, DEFAULT_WEEKDAY, DEFAULT_HOUR, tz))
            for pk, tz in missing
        ],
        ignore_conflicts=True,
    )
    return len(missing)


def reschedule(schedule: ReportSchedule, now: datetime | None = None) -> ReportSchedule:
    """After the owner changes the day, hour or time zone: the next slot from now."""
    now = now or timezone.now()
    schedule.next_send_at = next_slot(now, schedule.weekday, schedule.hour, schedule.workspace.timezone)
    return schedule


def issue_due(now: datetime | None = None) -> list[int]:
    """Issue every due weekly report once; returns the new reports' ids."""
    now = now or timezone.now()
    ensure_schedules(now)
    issued: list[int] = []
    due = list(ReportSchedule.objects.filter(next_send_at__lte=now).select_related("workspace")[:ISSUE_BATCH])
    # Read for the whole batch up front; each claim below still happens row by row.
    with_sites = set(
        Site.objects.filter(workspace_id__in=[s.workspace_id for s in due]).values_list(
            "workspace_id", flat=True
        )
    )
    members = recipients_of([s.workspace_id for s in due if s.workspace_id in with_sites])
    for schedule in due:
        try:
            report = issue(schedule, now, has_sites=schedule.workspace_id in with_sites, members=members)
        except Exception:  # one workspace's bad data never stops the others' reports
            logger.exception("weekly report of workspace %s could not be issued", schedule.workspace_id)
            continue
        if report is not None:
            issued.append(report.pk)
    return issued


def issue(
    schedule: ReportSchedule,
    now: datetime,
    *,
    has_sites: bool | None = None,
    members: dict[int, list[Membership]] | None = None,
) -> WeeklyReport | None:
    """Claim this schedule's slot and write the report with its deliveries; None if not ours.

    ``has_sites`` and ``members`` may be read beforehand for a batch of schedules.
    """
    ws = schedule.workspace
    following = next_slot(now, schedule.weekday, schedule.hour, ws.timezone)
    if has_sites is None:
        has_sites = Site.objects.filter(workspace=ws).exists()
    with transaction.atomic():
        won = ReportSchedule.objects.filter(pk=schedule.pk, next_send_at=schedule.next_send_at).update(
            next_send_at=following
        )
        if not won or not schedule.enabled or not has_sites:
            return None
        slot = previous_slot(now, schedule.weekday, schedule.hour, ws.timezone)
        start, end = period_before(slot, ws.timezone)
        try:
            with transaction.atomic():  # an insert, not a look-up first: one write per workspace
                report = WeeklyReport.objects.create(
                    workspace=ws, period_start=start, period_end=end, created_at=now
                )
        except IntegrityError:  # this week's report was issued before (the owner moved the slot back)
            return None
        ReportDelivery.objects.bulk_create(
            [
                ReportDelivery(
                    kind=ReportDelivery.Kind.WEEKLY,
                    report=report,
                    workspace=ws,
                    user=m.user,
                    to_email=m.user.email,
                    period_start=start,
                    period_end=end,
                    next_attempt_at=now,
                    created_at=now,
                )
                for m in (recipients(ws) if members is None else members.get(ws.pk, []))
            ],
            ignore_conflicts=True,
        )
    return report


def recipients(ws: Workspace) -> list[Membership]:
    """Members with an email address who have not opted out of this workspace's report."""
    return recipients_of([ws.pk]).get(ws.pk, [])


def recipients_of(workspace_ids: list[int]) -> dict[int, list[Membership]]:
    """``recipients`` of each of these workspaces, in one query."""
    found: dict[int, list[Membership]] = defaultdict(list)
    for m in (
        Membership.objects.filter(workspace_id__in=workspace_ids, user__is_active=True)
        .exclude(user__email="")
        .exclude(report_setting__opted_out_at__isnull=False)
        .select_related("user")
        .order_by("user__email")
    ):
        found[m.workspace_id].append(m)
    return found


def issue_digests(now: datetime | None = None) -> list[int]:
    """Queue each opted-in consultant's digest once per week (Monday 08:00 in their zone)."""
    now = now or timezone.now()
    created: list[int] = []
    for sub in DigestSubscription.objects.filter(enabled=True, next_send_at__lte=now).select_related("user"):
        following = next_slot(now, DEFAULT_WEEKDAY, DEFAULT_HOUR, sub.timezone)
        slot = previous_slot(now, DEFAULT_WEEKDAY, DEFAULT_HOUR, sub.timezone)
        start, end = period_before(slot, sub.timezone)
        with transaction.atomic():
            won = DigestSubscription.objects.filter(pk=sub.pk, next_send_at=sub.next_send_at).update(
                next_send_at=following
            )
            if not won or not sub.user.email:
                continue
            d, made = ReportDelivery.objects.get_or_create(
                kind=ReportDelivery.Kind.DIGEST,
                user=sub.user,
                period_end=end,
                defaults={"to_email": sub.user.email, "period_start": start, "next_attempt_at": now},
            )
            if made:
                created.append(d.pk)
    return created


def queue_preview(m: Membership, now: datetime | None = None) -> ReportDelivery:
    """A preview of this week so far, for the member who asked (not counted as the week's report)."""
    now = now or timezone.now()
    return ReportDelivery.objects.create(
        kind=ReportDelivery.Kind.PREVIEW,
        workspace=m.workspace,
        user=m.user,
        to_email=m.user.email,
        period_start=now - timedelta(days=7),
        period_end=now,
        next_attempt_at=now,
        created_at=now,
    )


# --- sending -----------------------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    return Q(status=ReportDelivery.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=ReportDelivery.Status.SENDING, claimed_until__lt=now
    )


def due_ids(now: datetime, limit: int = 5000) -> list[int]:
    return list(
        ReportDelivery.objects.filter(_claimable(now))
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )


def claim(delivery_id: int, now: datetime) -> bool:
    return bool(
        ReportDelivery.objects.filter(_claimable(now), pk=delivery_id).update(
            status=ReportDelivery.Status.SENDING, claimed_until=now + CLAIM_TTL
        )
    )


def deliver(ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Send these deliveries (default: all due ones). Returns how many were sent."""
    now = now or timezone.now()
    ids = due_ids(now) if ids is None else ids
    claimed = [pk for pk in ids if claim(pk, now)]
    if not claimed:
        return 0
    rows = ReportDelivery.objects.filter(pk__in=claimed).select_related("report", "workspace", "user")
    by_report: dict[object, list[ReportDelivery]] = defaultdict(list)
    for d in rows:
        by_report[d.report_id or ("single", d.pk)].append(d)
    groups = list(by_report.values())
    sent = 0
    # Opened by the first send, not here: a mail server that is down fails each send
    # (retried with backoff), never the whole job with the deliveries left claimed.
    connection = mail.get_connection()
    try:
        for start in range(0, len(groups), BUILD_BATCH):
            chunk = groups[start : start + BUILD_BATCH]
            built = _build_batch([g[0] for g in chunk])
            memberships = _membership_ids([d for g in chunk for d in g])
            for group in chunk:
                sent += _deliver_group(group, built.get(group[0].pk), memberships, now, connection)
    finally:
        connection.close()
    return sent


def _build_batch(firsts: list[ReportDelivery]) -> dict[int, object]:
    """The content of each group's report, by its first delivery's id; missing: could not be built.

    Weekly reports of one period are read together; if that batch fails, each is built
    alone, so one workspace's bad data fails only its own report.
    """
    built: dict[int, object] = {}
    by_period: dict[tuple[datetime, datetime], list[ReportDelivery]] = defaultdict(list)
    for d in firsts:
        if d.kind == ReportDelivery.Kind.DIGEST:
            built.update(_build_each([d]))
        else:
            by_period[(d.period_start, d.period_end)].append(d)
    for (start, end), ds in by_period.items():
        try:
            contents = content.build_many([d.workspace for d in ds], start, end)
        except Exception:
            logger.exception("a batch of %d weekly reports could not be built together", len(ds))
            built.update(_build_each(ds))
            continue
        for d in ds:
            built[d.pk] = _with_report_url(d, contents[d.workspace_id])
    return built


def _build_each(ds: list[ReportDelivery]) -> dict[int, object]:
    built: dict[int, object] = {}
    for d in ds:
        try:
            built[d.pk] = _build(d)
        except Exception:  # bad data in this workspace: its emails fail, the others go out
            logger.exception("report content for delivery %s could not be built", d.pk)
    return built


def _membership_ids(ds: list[ReportDelivery]) -> dict[tuple[int, int], object]:
    """The membership uuid (for the unsubscribe link) of each (workspace, user), in one query."""
    workspaces = {d.workspace_id for d in ds if d.kind != ReportDelivery.Kind.DIGEST}
    users = {d.user_id for d in ds if d.kind != ReportDelivery.Kind.DIGEST}
    if not workspaces:
        return {}
    return {
        (ws, user): public_id
        for ws, user, public_id in Membership.objects.filter(
            workspace_id__in=workspaces, user_id__in=users
        ).values_list("workspace_id", "user_id", "uuid")
    }


def _deliver_group(
    group: list[ReportDelivery], built, memberships: dict[tuple[int, int], object], now: datetime, connection
) -> int:
    """Deliveries of one report share its content, built once (None: it could not be built)."""
    if built is None:
        for d in group:
            _finish(d, ReportDelivery.Status.FAILED, error=NOT_SENT)
        return 0
    sent = 0
    for d in group:
        try:
            rendered, unsubscribe = _render(d, built, memberships)
            render.message(rendered, d.to_email, unsubscribe, connection=connection).send()
        except OSError as exc:  # smtplib's errors are OSErrors; only Django's backend talks SMTP
            _failed_send(d, now, exc)
            connection.close()  # a broken session is not reused for the next message
            continue
        except Exception:
            logger.exception("report delivery %s could not be rendered", d.pk)
            _finish(d, ReportDelivery.Status.FAILED, error=NOT_SENT)
            continue
        _finish(d, ReportDelivery.Status.SENT, subject=rendered.subject, sent_at=now)
        sent += 1
    return sent


def _build(d: ReportDelivery):
    if d.kind == ReportDelivery.Kind.DIGEST:
        return digest.build(d.user, d.period_end)
    return _with_report_url(d, content.build(d.workspace, d.period_start, d.period_end))


def _with_report_url(d: ReportDelivery, c: content.WeeklyContent) -> content.WeeklyContent:
    if d.report_id:
        c.report_url = content.absolute("reports:detail", workspace=d.workspace.uuid, report=d.report.uuid)
    else:
        c.report_url = content.absolute("reports:current", workspace=d.workspace.uuid)
    return c


def _render(
    d: ReportDelivery, built, memberships: dict[tuple[int, int], object]
) -> tuple[render.Rendered, str]:
    if d.kind == ReportDelivery.Kind.DIGEST:
        sub = DigestSubscription.objects.get(user_id=d.user_id)
        unsubscribe = render.unsubscribe_url("digest", sub.uuid)
        return digest.render(built, unsubscribe=unsubscribe), unsubscribe
    public_id = memberships.get((d.workspace_id, d.user_id))
    if public_id is None:
        raise Membership.DoesNotExist(f"delivery {d.pk}: the recipient is no longer a member")
    unsubscribe = render.unsubscribe_url("weekly", public_id)
    preview = d.kind == ReportDelivery.Kind.PREVIEW
    return render.weekly(built, unsubscribe=unsubscribe, preview=preview), unsubscribe


def _failed_send(d: ReportDelivery, now: datetime, exc: Exception) -> None:
    refused = getattr(exc, "recipients", None)
    permanent = isinstance(refused, dict) and refused and all(code >= 500 for code, _ in refused.values())
    code = getattr(exc, "smtp_code", None)
    permanent = permanent or (isinstance(code, int) and code >= 500)
    attempts = d.attempts + 1
    reason = f"The mail server did not accept the message ({type(exc).__name__}{f' {code}' if code else ''})."
    if permanent or attempts > len(BACKOFF_MINUTES):
        _finish(d, ReportDelivery.Status.FAILED, error=reason, attempts=attempts)
        return
    ReportDelivery.objects.filter(pk=d.pk).update(
        status=ReportDelivery.Status.PENDING,
        attempts=attempts,
        next_attempt_at=now + timedelta(minutes=BACKOFF_MINUTES[attempts - 1]),
        claimed_until=None,
        last_error=reason[:300],
    )


def _finish(d: ReportDelivery, status: str, *, error: str = "", **fields) -> None:
    ReportDelivery.objects.filter(pk=d.pk).update(
        status=status, claimed_until=None, last_error=error[:300], **fields
    )


def opt_out(m: Membership, now: datetime | None = None) -> None:
    setting, _ = MemberReportSetting.objects.get_or_create(membership=m)
    if setting.opted_out_at is None:
        setting.opted_out_at = now or timezone.now()
        setting.save(update_fields=["opted_out_at"])


def opt_in(m: Membership) -> None:
    MemberReportSetting.objects.filter(membership=m).update(opted_out_at=None)


def run(now: datetime | None = None) -> dict[str, int]:
    """The beat job: issue what is due, then send everything due (new, retries, abandoned)."""
    now = now or timezone.now()
    reports = issue_due(now)
    digests = issue_digests(now)
    return {"reports": len(reports), "digests": len(digests), "sent": deliver(now=now)}
