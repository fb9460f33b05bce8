"""Declared services on the site settings page: analytics and error tracking the audit cannot
see from outside, saved on the site and used by the audit (engine.declaration_for)."""

import pytest
from django.urls import reverse

from audits.engine import declaration_for


def _edit(workspace, site):
    return reverse("site_edit", kwargs={"workspace": workspace.uuid, "site": site.uuid})


@pytest.mark.django_db
def test_edit_page_offers_the_services_with_labels_and_help(client_as, member, workspace, site):
    page = client_as(member).get(_edit(workspace, site)).content.decode()
    assert "Services you use" in page
    assert '<label for="id_analytics_service">Analytics you use</label>' in page
    assert '<label for="id_error_tracking_service">Error tracking you use</label>' in page
    assert 'list="error-tracking-suggestions"' in page and '<option value="Sentry">' in page
    assert "Leave empty and the audit looks for it." in page


@pytest.mark.django_db
def test_declared_services_are_saved_and_reach_the_audit(client_as, member, workspace, site):
    response = client_as(member).post(
        _edit(workspace, site),
        {
            "domain": site.domain,
            "canonical": "www",
            "analytics_service": "  Matomo   (self-hosted) ",
            "error_tracking_service": "Sentry (server side)",
        },
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.analytics_service, site.error_tracking_service) == (
        "Matomo (self-hosted)",
        "Sentry (server side)",
    )
    declaration = declaration_for(site)
    assert declaration.analytics_declared == "Matomo (self-hosted)"
    assert declaration.error_tracking_declared == "Sentry (server side)"


@pytest.mark.django_db
def test_a_service_name_with_control_characters_is_refused(client_as, member, workspace, site):
    response = client_as(member).post(
        _edit(workspace, site),
        {"domain": site.domain, "canonical": "www", "analytics_service": "GA\x074"},
    )
    assert response.status_code == 200
    assert "plain letters" in response.content.decode()
    site.refresh_from_db()
    assert site.analytics_service == ""


@pytest.mark.django_db
def test_strangers_cannot_declare_services(client_as, stranger, workspace, site):
    response = client_as(stranger).post(
        _edit(workspace, site), {"domain": site.domain, "canonical": "www", "analytics_service": "X"}
    )
    assert response.status_code == 404
    site.refresh_from_db()
    assert site.analytics_service == ""
