"""Shared fixtures for every area: people with roles in one workspace, and a site.

``workspace`` ("Acme Store") has ``owner``, ``admin``, ``member`` and ``viewer``;
``stranger`` is a verified user who owns a different workspace. Every user has a
verified email (``<name>@example.com``) and password ``PASSWORD``. ``site`` is
shop.example.com in ``workspace`` with the standard critical routes.
``client_as(user)`` returns a Django test client logged in as that user.

URLconf walk (tests/core/test_url_walk.py): every URL kwarg ``X`` of a workspace
URL is filled from the fixture ``url_kwarg_X``, which returns an object (its
``uuid`` is used) or a value that belongs to ``workspace``. An app that adds a URL
with a new kwarg, e.g. ``<uuid:finding>``, defines ``url_kwarg_finding`` in its own
fixture plugin (returning a finding of ``site``) and is then walked automatically.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client

from launchready.models import (
    CampaignURL,
    CriticalRoute,
    Invitation,
    Membership,
    Role,
    Site,
    Subdomain,
    Workspace,
)
from launchready.views_sites import add_standard_routes

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def make_user(db) -> Callable[..., object]:
    """``make_user("alice")`` → a user alice@example.com with a verified email."""

    def make(name: str, email: str | None = None):
        email = email or f"{name}@example.com"
        user = get_user_model().objects.create_user(username=name, email=email, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    return make


@pytest.fixture
def workspace(db) -> Workspace:
    return Workspace.objects.create(name="Acme Store", timezone="Europe/Amsterdam")


def _member(make_user, workspace: Workspace, name: str, role: str):
    user = make_user(name)
    Membership.objects.create(workspace=workspace, user=user, role=role)
    return user


@pytest.fixture
def owner(make_user, workspace):
    return _member(make_user, workspace, "owner", Role.OWNER)


@pytest.fixture
def admin(make_user, workspace):
    return _member(make_user, workspace, "admin", Role.ADMIN)


@pytest.fixture
def member(make_user, workspace):
    return _member(make_user, workspace, "member", Role.MEMBER)


@pytest.fixture
def viewer(make_user, workspace):
    return _member(make_user, workspace, "viewer", Role.VIEWER)


@pytest.fixture
def stranger(make_user):
    """A verified user in another workspace of their own, not in ``workspace``."""
    user = make_user("stranger")
    other = Workspace.objects.create(name="Stranger's workspace")
    Membership.objects.create(workspace=other, user=user, role=Role.OWNER)
    return user


@pytest.fixture
def site(workspace) -> Site:
    s = Site.objects.create(workspace=workspace, domain="shop.example.com", canonical=Site.Canonical.WWW)
    add_standard_routes(s)
    add_confirmed_routes(s)  # a store whose owner confirmed its critical routes
    return s


CONFIRMED_ROUTES = {
    "listing": "/collections/all",
    "product": "/products/mug",
    "cart": "/cart",
    "login": "/account/login",
    "checkout": "/checkout",
    "order": "/api/orders",
}


def add_confirmed_routes(site: Site, routes: dict[str, str] | None = None) -> None:
    """Critical routes as an owner confirms them (a new site starts with home only); an API
    route accepts client errors (an order API answers 401 to a stranger)."""
    for name, path in (CONFIRMED_ROUTES if routes is None else routes).items():
        route = CriticalRoute.build(site, name, path)
        route.accept_client_errors = route.kind == CriticalRoute.Kind.API
        route.save()


@pytest.fixture
def client_as(db) -> Callable[[object], Client]:
    def make(user) -> Client:
        c = Client()
        c.force_login(user)
        return c

    return make


# Values for URL kwargs in the URLconf walk; all belong to ``workspace``.
@pytest.fixture
def url_kwarg_workspace(workspace):
    return workspace


@pytest.fixture
def url_kwarg_site(site):
    return site


@pytest.fixture
def url_kwarg_route(site):
    return site.routes.first()


@pytest.fixture
def url_kwarg_subdomain(site):
    return Subdomain.objects.create(site=site, name="admin", purpose="Back office", owner="Ops")


@pytest.fixture
def url_kwarg_campaign_url(site):
    return CampaignURL.objects.create(site=site, url="https://shop.example.com/spring-sale", note="2025 ads")


@pytest.fixture
def url_kwarg_member(member, workspace):
    return Membership.objects.get(user=member, workspace=workspace)


@pytest.fixture
def url_kwarg_invitation(workspace, owner):
    return Invitation.objects.create(workspace=workspace, email="invitee@example.com", invited_by=owner)
