"""The API shows incident correlation (one cause, one incident) as added fields: each
incident's primary, its cause key and where its severity comes from; a primary lists the
monitors its cause took down. Audit runs add ``problem_counts`` beside ``severity_counts``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from launchready.models import Site
from monitoring import engine
from monitoring.checks.specs import Cause, CauseKind, CheckOutcome
from monitoring.models import ApiToken, Incident, Monitor
from tests.api.test_endpoints import iso

pytestmark = pytest.mark.django_db

EXPIRED = Cause(CauseKind.CERT_EXPIRED, "www.shop.example.com")


@pytest.fixture
def call(client):
    def call(token: str, url: str, expect: int = 200):
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == expect, response.content
        return response.json()

    return call


@pytest.fixture
def token(workspace) -> str:
    return ApiToken.issue(workspace, "CI")[1]


def _fail(monitor, at, cause=None):
    engine.apply_outcomes(
        [CheckOutcome(monitor.pk, False, at, "The certificate expired.", cause=cause)] * 2, now=at
    )


@pytest.fixture
def outage(workspace, site):
    """Home, then Cart and Checkout fail on one expired certificate; Cart recovers."""
    t0 = timezone.now() - timedelta(hours=1)
    home, cart, checkout = (
        Monitor.objects.create(
            workspace=workspace, site=site, name=n, url=f"https://www.shop.example.com/{p}"
        )
        for n, p in (("Home", ""), ("Cart", "cart"), ("Checkout", "checkout"))
    )
    for i, m in enumerate((home, cart, checkout)):
        _fail(m, t0 + timedelta(minutes=i), EXPIRED)
    engine.apply_outcomes(
        [CheckOutcome(cart.pk, True, t0 + timedelta(minutes=10))] * 3, now=t0 + timedelta(minutes=10)
    )
    primary = Incident.objects.get(monitor=home)
    return primary, Incident.objects.get(monitor=cart), Incident.objects.get(monitor=checkout)


def test_a_primary_lists_the_monitors_its_cause_took_down(call, token, outage):
    primary, cart, checkout = outage
    shown = call(token, f"/api/v1/incidents/{primary.uuid}")
    assert shown["primary"] is None
    assert shown["cause_key"] == "tls-expired:www.shop.example.com"
    assert shown["severity_reason"] == primary.severity_reason and shown["severity_reason"]
    assert [(a["monitor_name"], a["incident"], a["open"]) for a in shown["affected_monitors"]] == [
        ("Home", str(primary.uuid), True),
        ("Cart", str(cart.uuid), False),
        ("Checkout", str(checkout.uuid), True),
    ]
    cart_row = shown["affected_monitors"][1]
    assert cart_row["started_at"] == iso(cart.started_at) and cart_row["ended_at"] == iso(cart.ended_at)
    assert cart_row["monitor"] == str(cart.monitor.uuid)
    # The fields clients already read are unchanged.
    assert shown["id"] == str(primary.uuid) and shown["monitor_name"] == "Home" and shown["open"] is True


def test_a_part_names_its_primary_and_lists_nothing(call, token, outage):
    primary, cart, _ = outage
    shown = call(token, f"/api/v1/incidents/{cart.uuid}")
    assert shown["primary"] == str(primary.uuid)
    assert shown["cause_key"] == "tls-expired:www.shop.example.com"
    assert shown["affected_monitors"] == []


def test_an_incident_of_its_own_lists_only_its_monitor(call, token, http_monitor):
    _fail(http_monitor, timezone.now())
    (shown,) = call(token, "/api/v1/incidents")
    assert shown["primary"] is None and shown["cause_key"] == ""
    assert [a["monitor_name"] for a in shown["affected_monitors"]] == ["Checkout"]


def test_the_list_reads_correlation_in_a_constant_number_of_queries(
    call, token, outage, workspace, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        listed = call(token, "/api/v1/incidents")
    assert len(listed) == 3
    for n in range(3):  # more incidents of their own: the same queries
        m = Monitor.objects.create(
            workspace=workspace, name=f"Page {n}", url=f"https://other.example.com/{n}"
        )
        _fail(m, timezone.now())
    with django_assert_max_num_queries(6):
        assert len(call(token, "/api/v1/incidents")) == 6


def test_a_site_token_sees_neither_another_sites_monitors_nor_their_incident(call, workspace, site, outage):
    primary, cart, _ = outage
    other = Site.objects.create(workspace=workspace, domain="other.example.com")
    stranger_part = Incident.objects.create(
        monitor=Monitor.objects.create(
            workspace=workspace, site=other, name="Other", url="https://other.example.com/"
        ),
        workspace=workspace,
        started_at=primary.started_at,
        cause="x",
        primary=primary,
        cause_key=primary.cause_key,
    )
    _, site_token = ApiToken.issue(workspace, "Site CI", site=site)
    shown = call(site_token, f"/api/v1/incidents/{primary.uuid}")
    assert "Other" not in [a["monitor_name"] for a in shown["affected_monitors"]]
    call(site_token, f"/api/v1/incidents/{stranger_part.uuid}", expect=404)
    _, other_token = ApiToken.issue(workspace, "Other CI", site=other)
    # The part is visible to its own site's token; the primary on another site is not named.
    assert call(other_token, f"/api/v1/incidents/{stranger_part.uuid}")["primary"] is None


def test_the_schema_documents_the_added_fields(client, db):
    components = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    incident = components["IncidentOut"]["properties"]
    for name in ("primary", "cause_key", "severity_reason", "affected_monitors"):
        assert incident[name].get("description"), name
    affected = components["AffectedMonitorOut"]["properties"]
    assert {"incident", "monitor", "monitor_name", "started_at", "ended_at", "open"} <= set(affected)
    for summary in ("RunSummary", "RunOut"):
        fields = components[summary]["properties"]
        assert "severity_counts" in fields and fields["problem_counts"].get("description")


def test_an_audit_run_counts_problems_beside_findings(call, token, site, make_run):
    findings = [
        {"check_id": "http.hsts_missing", "severity": "high", "stage": "http", "subject": s, "title": "x"}
        for s in ("https://www.shop.example.com/", "https://www.shop.example.com/cart")
    ]
    run = make_run(site, findings)
    shown = call(token, f"/api/v1/audits/{run.uuid}")
    assert shown["severity_counts"]["high"] == 2  # unchanged: each failing finding
    assert shown["problem_counts"] == run.problem_counts and shown["problem_counts"]["high"] == 1
    (listed,) = call(token, f"/api/v1/sites/{site.uuid}/audits")
    assert listed["problem_counts"] == run.problem_counts
