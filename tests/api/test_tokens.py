"""API tokens: hashed at rest, shown once, scoped, revocable, last use recorded; the token page."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from launchready.models import Site, Workspace
from monitoring.models import ApiToken


def _tokens_url(workspace) -> str:
    return reverse("monitoring:token_create", kwargs={"workspace": workspace.uuid})


def _page_url(workspace) -> str:
    return reverse("monitoring:maintenance", kwargs={"workspace": workspace.uuid})


def plain_tokens(response) -> list[str]:
    return re.findall(r"lr_[A-Za-z0-9_-]{40,}", response.content.decode())


def _sites(client, plain: str):
    return client.get("/api/v1/sites", HTTP_AUTHORIZATION=f"Bearer {plain}")


def test_a_token_is_stored_as_a_hash_only(workspace):
    token, plain = ApiToken.issue(workspace, "CI")
    token.refresh_from_db()
    assert plain.startswith("lr_") and len(plain) > 40
    assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    stored = [str(v) for v in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert not any(plain in v or plain[3:] in v for v in stored)
    assert token.prefix == plain[:10]
    assert ApiToken.authenticate(plain) == token
    assert ApiToken.authenticate(plain + "x") is None and ApiToken.authenticate(plain[3:]) is None


def test_tokens_made_without_a_scope_are_workspace_wide_and_read_write(workspace):
    token, _ = ApiToken.issue(workspace, "Deploy")
    assert token.site is None and token.read_only is False
    assert token.scope_label == "whole workspace, read-write"


def test_a_token_cannot_be_scoped_to_another_workspaces_site(workspace):
    elsewhere = Site.objects.create(workspace=Workspace.objects.create(name="Other"), domain="other.example")
    with pytest.raises(ValueError):
        ApiToken.issue(workspace, "CI", site=elsewhere)
    assert not ApiToken.objects.exists()


def test_last_use_is_recorded_at_most_once_a_minute(client, workspace):
    token, plain = ApiToken.issue(workspace, "CI")
    assert token.last_used_at is None
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert _sites(client, plain).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        _sites(client, plain)
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        _sites(client, plain)
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(minutes=2)


def test_an_admin_creates_a_workspace_token_and_sees_it_once(client_as, admin, workspace, client):
    as_admin = client_as(admin)
    response = as_admin.post(_tokens_url(workspace), {"name": "GitHub Actions", "access": "read_write"})
    assert response.status_code == 302 and plain_tokens(response) == []
    shown = as_admin.get(response["Location"])
    assert "no-store" in shown["Cache-Control"]
    (plain,) = plain_tokens(shown)
    token = ApiToken.objects.get()
    assert (token.name, token.site, token.read_only, token.created_by) == (
        "GitHub Actions",
        None,
        False,
        admin,
    )
    assert _sites(client, plain).status_code == 200
    again = as_admin.get(_page_url(workspace))
    assert plain_tokens(again) == [] and "GitHub Actions" in again.content.decode()
    assert plain[:10] in again.content.decode()


def test_an_admin_creates_a_read_only_token_for_one_site(client_as, admin, workspace, site, client):
    data = {"name": "Status board", "site": str(site.uuid), "access": "read_only"}
    response = client_as(admin).post(_tokens_url(workspace), data)
    assert response.status_code == 302
    token = ApiToken.objects.get()
    assert token.site == site and token.read_only
    page = client_as(admin).get(_page_url(workspace)).content.decode()
    assert "shop.example.com" in page and "Read only" in page


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "access": "read_write"},
        {"name": "CI\u0000", "access": "read_write"},
        {"name": "CI", "access": "admin"},
        {"name": "CI", "access": "read_write", "site": "not-a-uuid"},
    ],
)
def test_a_bad_token_form_says_why_and_creates_nothing(client_as, admin, workspace, data):
    response = client_as(admin).post(_tokens_url(workspace), data)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_site_of_another_workspace_cannot_be_chosen(client_as, admin, workspace):
    elsewhere = Site.objects.create(workspace=Workspace.objects.create(name="Other"), domain="other.example")
    data = {"name": "CI", "access": "read_write", "site": str(elsewhere.uuid)}
    assert client_as(admin).post(_tokens_url(workspace), data).status_code == 400
    assert not ApiToken.objects.exists()


def test_a_revoked_token_stops_working(client_as, admin, workspace, client):
    token, plain = ApiToken.issue(workspace, "Old CI")
    assert _sites(client, plain).status_code == 200
    url = reverse("monitoring:token_delete", kwargs={"workspace": workspace.uuid, "token": token.uuid})
    assert client_as(admin).post(url).status_code == 302
    assert not ApiToken.objects.exists()
    response = _sites(client, plain)
    assert response.status_code == 401 and response.json()["error"]


def test_members_see_tokens_but_cannot_make_or_revoke_them(client_as, member, workspace):
    ApiToken.issue(workspace, "Deploy")
    page = client_as(member).get(_page_url(workspace)).content.decode()
    assert "Deploy" in page and "Revoke" not in page and "Create token" not in page
    assert (
        client_as(member).post(_tokens_url(workspace), {"name": "x", "access": "read_write"}).status_code
        == 403
    )


def test_the_token_form_and_the_window_form_share_no_element_ids(client_as, admin, workspace, site):
    """Both forms have a "site" field; a shared id would tie the token form's label to the other."""
    page = client_as(admin).get(_page_url(workspace)).content.decode()
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert "token_site" in ids and len(ids) == len(set(ids))
