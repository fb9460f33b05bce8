"""The ownership inventory: services with provider, owner, access and where credentials live
(never a credential), on the site page with the subdomains and escalation contacts; admin."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from handover import ownership
from handover.models import Service
from launchready.models import Subdomain
from monitoring.models import EscalationContact

pytestmark = pytest.mark.django_db

SECRETS = {
    "credentials_location": "sk_live_51HxQz8Lk2mN4pR7sT9vWq",
    "access": "AKIAIOSFODNN7EXAMPLE",
    "notes": "admin password: Tr0ub4dor&3x",
    "owner": "xoxb-123456789012-abcdefghijkl",
}


def add_url(workspace, site) -> str:
    return reverse("handover_service_add", kwargs={"workspace": workspace.uuid, "site": site.uuid})


def edit_url(workspace, site, service) -> str:
    return reverse(
        "handover_service_edit",
        kwargs={"workspace": workspace.uuid, "site": site.uuid, "service": service.uuid},
    )


def form(**fields) -> dict:
    data = {
        "kind": "hosting",
        "name": "",
        "provider": "Vercel",
        "owner": "Ana Silva",
        "access": "Ana, agency",
        "credentials_location": "1Password vault Shop / Vercel",
        "renews_on": "",
        "notes": "",
    }
    data.update(fields)
    return data


def test_member_records_a_service(client_as, member, workspace, site):
    response = client_as(member).post(add_url(workspace, site), form(renews_on="2027-03-01"))
    assert response.status_code == 302 and response["Location"].endswith("#owners")
    service = Service.objects.get(site=site)
    assert (service.kind, service.provider, service.credentials_location) == (
        "hosting",
        "Vercel",
        "1Password vault Shop / Vercel",
    )
    assert str(service.renews_on) == "2027-03-01"


@pytest.mark.parametrize("field, value", SECRETS.items())
def test_a_credential_is_refused_with_the_reason(client_as, member, workspace, site, field, value):
    response = client_as(member).post(add_url(workspace, site), form(**{field: value}))
    assert response.status_code == 400
    body = response.content.decode()
    assert "This looks like a secret" in body and "never the secret itself" in body
    assert value not in body, "the refused text is not echoed back"
    assert not Service.objects.exists()


def test_editing_keeps_the_saved_row_when_refused(client_as, member, workspace, site, service):
    url = edit_url(workspace, site, service)
    assert (
        client_as(member)
        .post(url, form(kind="dns", credentials_location=SECRETS["credentials_location"]))
        .status_code
        == 400
    )
    service.refresh_from_db()
    assert service.credentials_location == "1Password vault “Shop” / Cloudflare"
    assert client_as(member).post(url, form(kind="dns", owner="Bram")).status_code == 302
    service.refresh_from_db()
    assert service.owner == "Bram"


def test_other_needs_a_name_and_one_line_fields_stay_one_line(client_as, member, workspace, site):
    body = client_as(member).post(add_url(workspace, site), form(kind="other")).content.decode()
    assert "Say what this service does" in body
    body = client_as(member).post(add_url(workspace, site), form(owner="Ana\nBram")).content.decode()
    assert "Use one line of plain text." in body
    assert not Service.objects.exists()


def test_provider_is_prefilled_from_what_is_known(client_as, member, workspace, site):
    site.sending_service = "klaviyo"
    site.save()
    body = client_as(member).get(add_url(workspace, site) + "?kind=email").content.decode()
    assert 'value="Klaviyo"' in body
    assert '<option value="email" selected>' in body


def test_delete(client_as, member, viewer, workspace, site, service):
    url = reverse(
        "handover_service_delete",
        kwargs={"workspace": workspace.uuid, "site": site.uuid, "service": service.uuid},
    )
    assert client_as(viewer).post(url).status_code == 403
    assert client_as(member).post(url).status_code == 302
    assert not Service.objects.exists()


def test_viewer_reads_but_cannot_write(client_as, viewer, workspace, site, service):
    assert client_as(viewer).get(add_url(workspace, site)).status_code == 403
    assert client_as(viewer).post(add_url(workspace, site), form()).status_code == 403
    assert client_as(viewer).post(edit_url(workspace, site, service), form(owner="x")).status_code == 403
    panel = reverse("handover_owners_panel", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    body = client_as(viewer).get(panel).content.decode()
    assert "Who owns what" in body and "Ana Silva" in body
    assert "Record a service" not in body and ">Edit<" not in body


def test_stranger_gets_404(client_as, stranger, workspace, site, service):
    assert client_as(stranger).get(edit_url(workspace, site, service)).status_code == 404
    assert client_as(stranger).post(add_url(workspace, site), form()).status_code == 404
    assert Service.objects.count() == 1


def test_site_page_joins_services_subdomains_and_contacts(client_as, member, workspace, site, service):
    Subdomain.objects.create(site=site, name="admin", purpose="Back office", owner="Bram")
    EscalationContact.objects.create(workspace=workspace, name="Carla on call", email="carla@example.com")
    page = client_as(member).get(
        reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    )
    panel_url = reverse("handover_owners_panel", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    assert f'hx-get="{panel_url}" hx-trigger="load"' in page.content.decode()  # loaded right after the page
    section = client_as(member).get(panel_url, HTTP_HX_REQUEST="true").content.decode()
    assert '<section id="owners"' in section and "{#" not in section
    assert (
        "Cloudflare" in section
        and "Ana Silva" in section
        and "1Password vault “Shop” / Cloudflare" in section
    )
    assert "admin.shop.example.com (Bram)" in section
    assert "1. Carla on call" in section
    assert "Not recorded: Domain registrar, Hosting" in section


def test_inventory_reads_in_a_fixed_number_of_queries(site, service, django_assert_num_queries, make_run):
    make_run(site)
    for kind in ("hosting", "payments", "analytics"):
        Service.objects.create(site=site, kind=kind, provider=kind)
    Subdomain.objects.create(site=site, name="admin")
    with django_assert_num_queries(4):  # latest run, services, subdomains, contacts
        rows = ownership.ownership(site).rows
    assert [r.kind for r in rows] == ["dns", "hosting", "payments", "analytics"]


def test_rows_order_recorded_services_then_detections():
    detected = {
        "registrar": ownership.DetectedProvider("registrar", "Gandi", "RDAP"),
        "dns": ownership.DetectedProvider("dns", "Cloudflare", "NS ns1.cloudflare.com"),
    }
    services = [
        Service(kind="payments", provider="Stripe", id=2),
        Service(kind="dns", provider="Route 53", id=3),
    ]
    rows = ownership.ownership_rows(services, detected)
    assert [(r.kind, r.provider, r.is_recorded) for r in rows] == [
        ("dns", "Route 53", True),
        ("payments", "Stripe", True),
        ("registrar", "Gandi", False),
    ]
    assert rows[0].differs_from_detection  # recorded Route 53, the audit saw Cloudflare


@pytest.fixture
def staff(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def test_admin_lists_filters_and_searches(staff, service):
    url = reverse("admin:handover_service_changelist")
    body = staff.get(url).content.decode()
    assert "Cloudflare" in body and "Ana Silva" in body and "shop.example.com" in body
    assert "By kind" in body or "kind" in body
    assert "Cloudflare" in staff.get(url, {"q": "Ana"}).content.decode()
    assert "Cloudflare" not in staff.get(url, {"q": "nobody-like-this"}).content.decode()
    assert "Cloudflare" not in staff.get(url, {"kind__exact": "payments"}).content.decode()
    for name in ("handoverdocument", "checklistitem", "handovershare"):
        assert staff.get(reverse(f"admin:handover_{name}_changelist")).status_code == 200


def test_admin_refuses_a_credential(staff, site):
    url = reverse("admin:handover_service_add")
    data = form(site=site.pk, credentials_location=SECRETS["credentials_location"])
    response = staff.post(url, data)
    assert response.status_code == 200 and "This looks like a secret" in response.content.decode()
    assert not Service.objects.exists()
    assert staff.post(url, form(site=site.pk)).status_code == 302
    assert Service.objects.get().provider == "Vercel"
