"""DMARC report summaries joined to advice: per-source failure counts and service names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from audits.email.views import report_advice
from audits.inbound import store
from audits.inbound.reports import AggregateReport, ReportRow
from launchready.models import Site

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def save(workspace, rows: list[ReportRow], report_id: str = "r-1") -> None:
    report = AggregateReport(
        org_name="google.com",
        report_id=report_id,
        begin=NOW - timedelta(days=1),
        end=NOW - timedelta(hours=1),
        policy_domain="shop.test",
        policy_p="none",
        rows=rows,
    )
    store.save_report(workspace, report)


def test_a_source_passing_by_dkim_on_some_rows_and_spf_on_others_is_not_failing(workspace) -> None:
    site = Site.objects.create(workspace=workspace, domain="shop.test")
    save(
        workspace,
        [
            ReportRow("192.0.2.10", 100, dkim="pass", spf="fail", dkim_domains=["shop.test=pass"]),
            ReportRow("192.0.2.10", 100, dkim="fail", spf="pass", spf_domains=["shop.test=pass"]),
        ],
    )
    summary = store.report_summary(site, now=NOW)
    assert summary.dmarc_pass == 200
    assert summary.sources[0].failing == 0
    assert report_advice(summary) == []


@pytest.mark.parametrize(
    ("domain", "advice"),
    [("shopifyemail.com", "Shopify"), ("mandrillapp.com", "Mailchimp"), ("klaviyomail.com", "Klaviyo")],
)
def test_advice_names_what_to_publish_for_every_recognised_service(workspace, domain, advice) -> None:
    site = Site.objects.create(workspace=workspace, domain="shop.test")
    save(workspace, [ReportRow("192.0.2.20", 50, dkim="fail", spf="fail", dkim_domains=[f"{domain}=pass"])])
    lines = report_advice(store.report_summary(site, now=NOW))
    assert len(lines) == 1
    assert "50 messages" in lines[0] and "before moving to p=quarantine" in lines[0]
    assert advice in lines[0]
