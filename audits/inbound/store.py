"""Database side of inbound mail: rate limits, saving test messages and reports, and
the summaries the site page and the rules read. Synchronous (Django ORM); the SMTP
receiver calls these through ``sync_to_async``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import Message

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from audits.email.dmarc import organizational_domain
from audits.email.sending_services import service_for_domain
from audits.email_models import DmarcReport, DmarcReportRecord, InboundAddress, SiteEmailState, TestMessage
from audits.facts.email import EmailFacts, ReportSource, ReportSummary, TestMessageFacts
from launchready.models import Site, Workspace

from .auth import AuthResult
from .content import readable_parts
from .reports import AggregateReport

logger = logging.getLogger(__name__)

REPORT_RETENTION_DAYS = 400  # a year of reports, for "since you moved to quarantine" comparisons


def rate_limited(address: InboundAddress, now: datetime | None = None) -> bool:
    """True when the address already took its hourly share (INBOUND_RATE_LIMIT_PER_HOUR)."""
    since = (now or timezone.now()) - timedelta(hours=1)
    limit = settings.INBOUND_RATE_LIMIT_PER_HOUR
    if address.kind == InboundAddress.Kind.CHECK:
        count = TestMessage.objects.filter(site_id=address.site_id, received_at__gte=since).count()
    else:
        count = DmarcReport.objects.filter(
            workspace_id=address.workspace_id, source=DmarcReport.Source.EMAIL, received_at__gte=since
        ).count()
    return count >= limit


def save_test_message(
    address: InboundAddress,
    *,
    message: Message,
    size: int,
    peer_ip: str,
    helo: str,
    mail_from: str,
    auth: AuthResult,
) -> TestMessage:
    html, text = readable_parts(message)
    dmarc = auth.dmarc
    return TestMessage.objects.create(
        site_id=address.site_id,
        expires_at=TestMessage.default_expiry(),
        peer_ip=peer_ip,
        helo=helo[:255],
        mail_from=mail_from[:320],
        header_from=(dmarc.header_from if dmarc else "")[:320],
        subject=str(message.get("Subject", ""))[:300],
        size=size,
        spf_result=auth.spf.result,
        spf_domain=auth.spf.domain[:255],
        spf_reason=auth.spf.reason,
        dkim_result=auth.dkim_result,
        dkim_domain=next(
            (d.domain for d in auth.dkim if d.result == "pass"), auth.dkim[0].domain if auth.dkim else ""
        )[:255],
        dkim_reason=auth.dkim_summary,
        dmarc_result=dmarc.result if dmarc else "fail",
        dmarc_reason=dmarc.reason if dmarc else "",
        authentication_results=auth.header(settings.INBOUND_DOMAIN),
        details=auth.details(),
        html=html,
        text=text,
    )


def _site_for(workspace: Workspace, domain: str) -> Site | None:
    candidates = {domain, organizational_domain(domain)}
    return Site.objects.filter(workspace=workspace, domain__in=candidates).first()


def save_report(
    workspace: Workspace, report: AggregateReport, source: str = DmarcReport.Source.EMAIL
) -> tuple[DmarcReport, bool]:
    """Store a parsed report; (report, created). A report seen before is not stored twice."""
    existing = DmarcReport.objects.filter(
        workspace=workspace, org_name=report.org_name, report_id=report.report_id
    ).first()
    if existing is not None:
        return existing, False
    site = _site_for(workspace, report.policy_domain)
    try:
        with transaction.atomic():
            stored = DmarcReport.objects.create(
                workspace=workspace,
                site=site,
                source=source,
                org_name=report.org_name,
                report_id=report.report_id,
                policy_domain=report.policy_domain,
                policy_p=report.policy_p,
                date_begin=report.begin,
                date_end=report.end,
                message_count=report.message_count,
            )
            DmarcReportRecord.objects.bulk_create(
                [
                    DmarcReportRecord(
                        report=stored,
                        source_ip=row.source_ip,
                        count=row.count,
                        disposition=row.disposition,
                        header_from=row.header_from,
                        dkim_result=row.dkim,
                        spf_result=row.spf,
                        dkim_domains=",".join(row.dkim_domains)[:500],
                        spf_domains=",".join(row.spf_domains)[:500],
                        dkim_aligned=row.dkim == "pass",
                        spf_aligned=row.spf == "pass",
                        service=_service(row.dkim_domains + row.spf_domains),
                    )
                    for row in report.rows
                ],
                batch_size=1000,
            )
    except IntegrityError:  # the same report arrived twice at once
        return DmarcReport.objects.get(
            workspace=workspace, org_name=report.org_name, report_id=report.report_id
        ), False
    return stored, True


def _service(domain_results: list[str]) -> str:
    for item in domain_results:
        service = service_for_domain(item.partition("=")[0])
        if service:
            return service
    return ""


def report_summary(site: Site, days: int = 7, now: datetime | None = None) -> ReportSummary:
    """Who sent as the site's domain over the last ``days``, per source address."""
    since = (now or timezone.now()) - timedelta(days=days)
    reports = DmarcReport.objects.filter(site=site, date_end__gte=since)
    rows = DmarcReportRecord.objects.filter(report__in=reports)
    sources: dict[str, dict] = {}
    for row in rows.values("source_ip", "service", "count", "dkim_aligned", "spf_aligned"):
        entry = sources.setdefault(
            row["source_ip"], {"service": row["service"], "messages": 0, "dkim": 0, "spf": 0, "dmarc": 0}
        )
        entry["messages"] += row["count"]
        entry["dkim"] += row["count"] if row["dkim_aligned"] else 0
        entry["spf"] += row["count"] if row["spf_aligned"] else 0
        # Per row, not max(dkim, spf) per source: one row may pass by DKIM and another by SPF.
        entry["dmarc"] += row["count"] if row["dkim_aligned"] or row["spf_aligned"] else 0
        entry["service"] = entry["service"] or row["service"]
    total = rows.aggregate(n=Sum("count"))["n"] or 0
    passing = sum(r["count"] for r in rows.filter(dkim_aligned=True).values("count")) + sum(
        r["count"] for r in rows.filter(dkim_aligned=False, spf_aligned=True).values("count")
    )
    return ReportSummary(
        days=days,
        reports=reports.count(),
        messages=total,
        dmarc_pass=passing,
        sources=sorted(
            (
                ReportSource(
                    source_ip=ip,
                    service=e["service"],
                    messages=e["messages"],
                    dkim_aligned=e["dkim"],
                    spf_aligned=e["spf"],
                    dmarc_aligned=e["dmarc"],
                )
                for ip, e in sources.items()
            ),
            key=lambda s: -s.messages,
        ),
    )


def latest_test_message(site: Site) -> TestMessageFacts | None:
    msg = TestMessage.objects.filter(site=site, expires_at__gt=timezone.now()).first()
    if msg is None:
        return None
    return TestMessageFacts(
        received_at=msg.received_at,
        mail_from=msg.mail_from,
        header_from=msg.header_from,
        spf=msg.spf_result,
        spf_reason=msg.spf_reason,
        dkim=msg.dkim_result,
        dkim_reason=msg.dkim_reason,
        dmarc=msg.dmarc_result,
        dmarc_reason=msg.dmarc_reason,
    )


def purge_expired(now: datetime | None = None) -> tuple[int, int]:
    """Delete test messages past retention and reports older than a year; (messages, reports)."""
    now = now or timezone.now()
    messages, _ = TestMessage.objects.filter(expires_at__lte=now).delete()
    reports, _ = DmarcReport.objects.filter(date_end__lt=now - timedelta(days=REPORT_RETENTION_DAYS)).delete()
    return messages, reports


def enrich_facts(site: Site, facts: EmailFacts, now: datetime | None = None) -> EmailFacts:
    """Add what Launch Ready knows from its own records to freshly probed email facts,
    and remember the DMARC policy seen now (for "p=none since …")."""
    now = now or timezone.now()
    none_since = None
    if facts.dmarc is not None and len(facts.dmarc.records) == 1 and not facts.dmarc.errors:
        state = SiteEmailState.record_policy(site, facts.dmarc.policy, now)
        none_since = state.dmarc_none_since
    return replace(
        facts,
        dmarc_none_since=none_since,
        reports=report_summary(site, now=now),
        test_message=latest_test_message(site),
    )
