"""Ownership inventory and handover document fixtures (a pytest plugin, registered in
tests/conftest.py).

``service`` is the DNS provider of ``site`` with an owner and a credentials place;
``handover_link`` is ``(link, token)``, an active 7-day link to the handover document.
URL kwargs for the URLconf walk: ``service``, ``checklist_item``, ``handover_link``.
"""

from __future__ import annotations

import pytest

from handover import links
from handover.models import ChecklistItem, Service


@pytest.fixture
def service(site) -> Service:
    return Service.objects.create(
        site=site,
        kind=Service.Kind.DNS,
        provider="Cloudflare",
        owner="Ana Silva",
        access="Ana (admin), Northwind agency (until handover)",
        credentials_location="1Password vault “Shop” / Cloudflare",
    )


@pytest.fixture
def checklist_item(site) -> ChecklistItem:
    return ChecklistItem.objects.create(site=site, label="Payment account moved to the client")


@pytest.fixture
def handover_link(site, owner):
    return links.create_link(site, user=owner, days=7)


@pytest.fixture
def url_kwarg_service(service):
    return service


@pytest.fixture
def url_kwarg_checklist_item(checklist_item):
    return checklist_item


@pytest.fixture
def url_kwarg_handover_link(handover_link):
    return handover_link[0]
