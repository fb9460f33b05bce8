"""The handover document's pages: the checklist a consultant ticks (who, when), the notes
and deploy steps, and the workspace's handover tab."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from handover import document, links, markdown_doc
from handover.models import ChecklistItem, HandoverDocument, Service
from launchready import fragments
from launchready.models import Site
from launchready.views_sites import add_standard_routes
from monitoring.models import AlertChannel, DailyRollup, Monitor
from monitoring.sites import sync_site_monitors

pytestmark = pytest.mark.django_db


def url(name: str, workspace, site, **extra) -> str:
    return reverse(name, kwargs={"workspace": workspace.uuid, "site": site.uuid, **extra})


def test_member_ticks_a_standard_item_and_the_document_shows_who_and_when(client_as, member, workspace, site):
    with time_machine.travel("2026-11-03 10:00:00Z"):
        response = client_as(member).post(
            url("handover_checklist_tick", workspace, site), {"item": "rollback", "done": "on"}
        )
    assert response.status_code == 302 and response["Location"].endswith("#checklist")
    item = ChecklistItem.objects.get(site=site, standard="rollback")
    assert item.done_by == member and item.done_at.isoformat().startswith("2026-11-03T10:00")
    lines = {line.key: line for line in document.checklist(site)}
    assert lines["rollback"].done and lines["rollback"].done_by == "member@example.com"
    assert not lines["access"].done and not lines["contacts"].done  # not saved yet, still listed
    body = client_as(member).get(url("handover_document", workspace, site)).content.decode()
    assert "1 of 3 done." in body and "done 3 November 2026 by member@example.com" in body
    # Unticking keeps the row and clears who and when.
    client_as(member).post(url("handover_checklist_tick", workspace, site), {"item": "rollback"})
    item.refresh_from_db()
    assert item.done_at is None and item.done_by is None


def test_custom_items(client_as, member, workspace, site):
    client = client_as(member)
    client.post(
        url("handover_checklist_add", workspace, site), {"label": "Payment account moved to the client"}
    )
    item = ChecklistItem.objects.get(site=site, standard="")
    client.post(url("handover_checklist_tick", workspace, site), {"item": str(item.uuid), "done": "on"})
    item.refresh_from_db()
    assert item.is_done
    assert "2 of 4 done." not in client.get(url("handover_document", workspace, site)).content.decode()
    assert "1 of 4 done." in client.get(url("handover_document", workspace, site)).content.decode()
    delete = url("handover_checklist_delete", workspace, site, checklist_item=item.uuid)
    assert client.post(delete).status_code == 302
    assert not ChecklistItem.objects.exists()


def test_checklist_refuses_secrets_unknown_items_and_standard_deletes(client_as, member, workspace, site):
    client = client_as(member)
    response = client.post(
        url("handover_checklist_add", workspace, site),
        {"label": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"},
        follow=True,
    )
    assert "This looks like a secret" in response.content.decode()
    assert not ChecklistItem.objects.exists()
    assert (
        client.post(url("handover_checklist_tick", workspace, site), {"item": "nonsense"}).status_code == 404
    )
    other = Site.objects.create(workspace=workspace, domain="other.example.com")
    foreign = ChecklistItem.objects.create(site=other, label="Other site's item")
    assert (
        client.post(
            url("handover_checklist_tick", workspace, site), {"item": str(foreign.uuid), "done": "on"}
        ).status_code
        == 404
    )
    foreign.refresh_from_db()
    assert not foreign.is_done
    client.post(url("handover_checklist_tick", workspace, site), {"item": "access", "done": "on"})
    standard = ChecklistItem.objects.get(site=site, standard="access")
    assert (
        client.post(
            url("handover_checklist_delete", workspace, site, checklist_item=standard.uuid)
        ).status_code
        == 404
    )


def test_viewer_reads_the_checklist_but_cannot_tick(client_as, viewer, workspace, site):
    assert (
        client_as(viewer)
        .post(url("handover_checklist_tick", workspace, site), {"item": "access", "done": "on"})
        .status_code
        == 403
    )
    assert (
        client_as(viewer).post(url("handover_checklist_add", workspace, site), {"label": "x"}).status_code
        == 403
    )
    assert not ChecklistItem.objects.exists()
    body = client_as(viewer).get(url("handover_document", workspace, site)).content.decode()
    assert "Access to every service transferred to the client" in body and "Mark done" not in body


def test_notes_and_deploy_steps(client_as, member, workspace, site):
    edit = url("handover_edit", workspace, site)
    response = client_as(member).post(
        edit,
        {
            "deploy_steps": "  Merge to main\n\n  Watch the smoke test  ",
            "internal_notes": "Invoice after handover",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("#deploy")
    own = HandoverDocument.objects.get(site=site)
    assert own.deploy_steps == "Merge to main\nWatch the smoke test" and own.updated_by == member
    body = client_as(member).get(url("handover_document", workspace, site)).content.decode()
    assert "<li>Merge to main</li>" in body and "Invoice after handover" in body
    refused = client_as(member).post(
        edit, {"deploy_steps": "export DATABASE_URL=postgres://shop:hunter2@db/shop", "internal_notes": ""}
    )
    assert refused.status_code == 400 and "hunter2" not in refused.content.decode()
    own.refresh_from_db()
    assert own.deploy_steps == "Merge to main\nWatch the smoke test"


def test_host_guide_follows_the_recorded_hosting(site):
    assert document.build(site).deploy.guide.slug == "generic"
    Service.objects.create(site=site, kind="hosting", provider="Render")
    deploy = document.build(site).deploy
    assert deploy.guide.name == "Render" and deploy.hosting == "Render"
    assert any("Rollback" in step for step in deploy.guide.rollback)


def test_workspace_tab_shows_each_site_in_a_fixed_number_of_queries(
    client_as, member, owner, workspace, site, django_assert_num_queries, django_assert_max_num_queries
):
    client = client_as(member)
    client.get(reverse("workspace_handover", kwargs={"workspace": workspace.uuid}))  # session warm-up
    fragments.bump(workspace.pk)  # the sites' states drawn again, as after the changes below
    # 9: the header's workspace switcher comes from the cache after the warm-up (8 with the
    # session read from Redis: cached_db sessions when the cache is Redis).
    with django_assert_max_num_queries(9) as one:
        client.get(reverse("workspace_handover", kwargs={"workspace": workspace.uuid}))
    for domain in ("b.example.com", "c.example.com"):
        other = Site.objects.create(workspace=workspace, domain=domain)
        add_standard_routes(other)
        ChecklistItem.objects.create(site=other, standard="access", label="Access")
        Service.objects.create(site=other, kind="dns", provider="Cloudflare")
        links.create_link(other, user=owner, days=3)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(reverse("workspace_handover", kwargs={"workspace": workspace.uuid}))
    body = response.content.decode()
    assert body.count("Open the document") == 3
    assert "1 active link" in body and "Checklist 0 of 3" in body
    assert "Handover is coming" not in body


def test_workspace_tab_states(workspace, site, owner):
    ChecklistItem.objects.create(site=site, label="Custom", done_at="2026-11-01T00:00Z")
    for key in ChecklistItem.Standard.values:
        client_done = ChecklistItem(site=site, standard=key, label=key, done_at="2026-11-01T00:00Z")
        client_done.save()
    link, _ = links.create_link(site, user=owner, days=3)
    links.revoke(link)
    (state,) = document.workspace_states([site])
    assert (state.checklist_done, state.checklist_total, state.complete) == (4, 4, True)
    assert state.active_links == 0


def test_alerts_routing_and_week_one_from_the_monitoring_setup(site, email_channel):
    sms = AlertChannel(
        workspace=site.workspace, kind=AlertChannel.Kind.SMS, name="On call", label="+31 6 •••• 12 34"
    )
    sms.save()
    sync_site_monitors(site)
    monitors = {m.auto_key: m for m in Monitor.objects.filter(site=site)}
    today = timezone.now().date()
    DailyRollup.objects.create(
        monitor=monitors["home"], day=today, checks=200, failures=2, p50_ms=300, p95_ms=950
    )
    DailyRollup.objects.create(
        monitor=monitors["route:checkout"], day=today, checks=100, failures=0, p95_ms=420
    )
    DailyRollup.objects.create(  # yesterday does not count as today
        monitor=monitors["route:cart"], day=today - dt.timedelta(days=1), checks=100, failures=50, p95_ms=9000
    )
    expiry = timezone.now() + dt.timedelta(days=40)
    Monitor.objects.filter(pk=monitors["cert"].pk).update(expires_at=expiry)

    doc = document.build(site)
    routes = {r.name: r for r in doc.week_one.routes}
    assert (routes["home"].uptime_today, routes["home"].p95_ms, routes["home"].within_budget) == (
        99.0,
        950,
        False,
    )
    assert (routes["checkout"].uptime_today, routes["checkout"].within_budget) == (100.0, True)
    assert routes["cart"].uptime_today is None and routes["cart"].within_budget is None
    (cert,) = [d for d in doc.week_one.dates if d.source == "monitor"]
    assert cert.what == "Certificate of www.shop.example.com" and cert.days_left in (39, 40)

    alerts = {a.monitor: a for a in doc.alerts}
    home = alerts["Homepage (www.shop.example.com)"]
    assert home.severity == "Critical" and home.channels == [
        "Email: Ops mail (ops@example.com)",
        "SMS (Twilio): On call (+31 6 •••• 12 34)",
    ]
    assert alerts["Certificate of www.shop.example.com"].channels == ["Email: Ops mail (ops@example.com)"]
    routing = {r.severity: r.channels for r in doc.routing}
    assert len(routing["Critical"]) == 2 and len(routing["Warning"]) == 1 and routing["Info"] == []

    guides = {g.alert: g for g in doc.week_one.guides}
    checkout = guides["Checkout (www.shop.example.com/checkout) is down"]
    assert checkout.meaning.startswith("Customers cannot pay") and "test order" in checkout.first_step
    assert "Deploy smoke test failed" in guides and "New audit blocker" in guides
    markdown = markdown_doc.render(doc)
    assert "| home | / | 800 ms | 99.00 % | 950 ms | **no** |" in markdown


def test_document_reads_in_a_fixed_number_of_queries(
    site, owner, make_run, django_assert_num_queries, django_assert_max_num_queries
):
    site = Site.objects.select_related("workspace").get(pk=site.pk)
    make_run(site, ago_minutes=300)
    make_run(site)
    with django_assert_max_num_queries(25) as few:  # counted, then held constant below
        document.build(site)
    for i in range(6):
        make_run(site, ago_minutes=200 - i)
        Service.objects.create(site=site, kind="other", name=f"Service {i}", provider="x")
        ChecklistItem.objects.create(site=site, label=f"Item {i}", done_at=timezone.now(), done_by=owner)
        links.create_link(site, user=owner, days=2)
    with django_assert_num_queries(len(few.captured_queries)):
        doc = document.build(site)
    assert len(doc.services) == 6 and doc.audits.runs == 8 and len(doc.checklist) == 9
