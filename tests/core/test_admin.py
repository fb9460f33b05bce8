"""Django admin: every core model is registered with search and filters, staff only."""

import pytest
from django.contrib import admin
from django.urls import reverse

from launchready.models import CampaignURL, CriticalRoute, Invitation, Membership, Site, Subdomain, Workspace

CORE_MODELS = [Workspace, Membership, Invitation, Site, Subdomain, CriticalRoute, CampaignURL]


@pytest.mark.parametrize("model", CORE_MODELS, ids=lambda m: m.__name__)
def test_registered_with_list_display_filters_and_search(model):
    model_admin = admin.site._registry[model]
    assert len(model_admin.list_display) > 1
    assert model_admin.list_filter and model_admin.search_fields


@pytest.mark.parametrize("model", CORE_MODELS, ids=lambda m: m.__name__)
def test_changelist_with_search_renders_for_staff(client_as, owner, site, url_kwarg_subdomain, model):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    url = reverse(f"admin:launchready_{model._meta.model_name}_changelist")
    response = client_as(owner).get(url, {"q": "example"})
    assert response.status_code == 200


def test_admin_is_staff_only(client_as, member):
    response = client_as(member).get(reverse("admin:launchready_site_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_invitation_token_is_not_shown_in_admin(client_as, owner, url_kwarg_invitation):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    url = reverse("admin:launchready_invitation_change", args=[url_kwarg_invitation.pk])
    assert url_kwarg_invitation.token not in client_as(owner).get(url).content.decode()


def test_every_model_of_the_project_is_in_the_admin():
    from django.apps import apps

    ours = ("launchready", "audits", "monitoring", "handover")
    missing = [
        m.__name__ for m in apps.get_models() if m._meta.app_label in ours and not admin.site.is_registered(m)
    ]
    assert missing == []


@pytest.mark.django_db
def test_every_changelist_of_the_project_renders(admin_client):
    ours = ("launchready", "audits", "monitoring", "handover")
    for model in admin.site._registry:
        if model._meta.app_label in ours:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            assert admin_client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    ("model_name", "search"), [("maintenancewindow", "deploy"), ("escalationcontact", "dana")]
)
def test_escalation_contacts_and_maintenance_windows_have_admin_pages(
    admin_client, workspace, model_name, search
):
    from datetime import timedelta

    from django.utils import timezone

    from monitoring.models import EscalationContact, MaintenanceWindow

    now = timezone.now()
    MaintenanceWindow.objects.create(
        workspace=workspace, starts_at=now, ends_at=now + timedelta(hours=1), reason="deploy"
    )
    EscalationContact.objects.create(
        workspace=workspace, name="Dana", email="dana@example.com", phone="+31612345678"
    )
    model_admin = next(a for m, a in admin.site._registry.items() if m._meta.model_name == model_name)
    assert len(model_admin.list_display) > 2 and model_admin.list_filter and model_admin.search_fields
    response = admin_client.get(reverse(f"admin:monitoring_{model_name}_changelist"), {"q": search})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
