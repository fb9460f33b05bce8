"""Sign-up → verification email → confirm → personal workspace; home and landing."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from launchready.models import Membership, Role

from ..fixtures_core import PASSWORD


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth's rate limits live in the cache; tests sign up many times a minute.
    cache.clear()


def _sign_up(client, email: str):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


def test_sign_up_verify_and_land_in_personal_workspace(client, db):
    response = _sign_up(client, "Alice@Example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")

    user = get_user_model().objects.get(email__iexact="alice@example.com")
    m = Membership.objects.get(user=user)
    assert m.role == Role.OWNER
    assert m.workspace.name == "alice's workspace"

    # Mandatory verification: not logged in yet, the workspace is not reachable.
    assert (
        client.get(reverse("workspace_overview", kwargs={"workspace": m.workspace.uuid})).status_code == 302
    )

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body).group(1)

    assert client.get(link).status_code == 200
    confirmed = client.post(link)
    assert confirmed.status_code == 302
    home = client.get(confirmed["Location"], follow=True)
    assert home.status_code == 200
    assert home.request["PATH_INFO"] == reverse("workspace_overview", kwargs={"workspace": m.workspace.uuid})
    assert b"Add your first site" in home.content


def test_login_before_verification_is_refused_and_resends(client, db):
    _sign_up(client, "bob@example.com")
    client.logout()
    mail.outbox.clear()
    response = client.post(reverse("account_login"), {"login": "bob@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("workspace_list")).status_code == 302


def test_anonymous_home_is_the_landing_page(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert reverse("account_signup").encode() in response.content
    assert reverse("account_login").encode() in response.content


def test_home_without_workspaces_goes_to_workspace_list(client_as, make_user):
    response = client_as(make_user("loner")).get("/")
    assert response.status_code == 302 and response["Location"] == reverse("workspace_list")


def test_pages_carry_the_csp_and_no_inline_script(client):
    response = client.get("/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert "<script>" not in html and "style=" not in html
    assert "/static/vendor/htmx.min.js" in html


@pytest.mark.parametrize("name", ["account_login", "account_signup", "account_reset_password"])
def test_account_pages_use_our_layout(client, db, name):
    page = client.get(reverse(name)).content.decode()
    assert 'class="skip-link"' in page and "account-page" in page and "<label" in page


@pytest.mark.parametrize("name", ["account_email", "account_change_password"])
def test_account_management_pages_use_our_layout(client_as, owner, name):
    page = client_as(owner).get(reverse(name)).content.decode()
    assert 'class="skip-link"' in page and "Log out" in page
