"""Read-only share links: create, open without login, expire, revoke."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import time_machine
from django.urls import reverse
from django.utils import timezone

from audits.models import ShareLink


def links_url(workspace, site) -> str:
    return reverse("audit_share_links", kwargs={"workspace": workspace.uuid, "site": site.uuid})


def public_url(token: str) -> str:
    return reverse("audit_shared_report", kwargs={"token": token})


def created_token(response) -> str:
    match = re.search(r'value="http://testserver/share/([^/"]+)/"', response.content.decode())
    assert match, "the new link is shown once"
    return match.group(1)


def test_member_creates_a_link_shown_once_and_stored_hashed(client_as, member, workspace, site, audit_run):
    response = client_as(member).post(links_url(workspace, site), {"days": "14"})
    assert response.status_code == 200
    token = created_token(response)
    assert len(token) >= 40
    link = ShareLink.objects.get(site=site)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(link.__dict__)
    assert abs(link.expires_at - (timezone.now() + dt.timedelta(days=14))) < dt.timedelta(minutes=1)
    # The list no longer shows the token.
    listing = client_as(member).get(links_url(workspace, site)).content.decode()
    assert token not in listing and "Active" in listing


def test_link_length_must_be_1_to_30_days(client_as, member, workspace, site):
    client = client_as(member)
    for days, message in (("0", "at least 1 day"), ("31", "at most 30 days"), ("", "how many days")):
        body = client.post(links_url(workspace, site), {"days": days}).content.decode()
        assert message in body
    assert not ShareLink.objects.exists()


def test_viewer_cannot_manage_links(client_as, viewer, workspace, site):
    assert client_as(viewer).get(links_url(workspace, site)).status_code == 403
    assert client_as(viewer).post(links_url(workspace, site), {"days": "7"}).status_code == 403


def test_public_page_shows_the_latest_report_without_login(client, site, audit_run, share_link):
    _, token = share_link
    response = client.get(public_url(token))
    assert response.status_code == 200
    body = response.content.decode()
    assert "shop.example.com" in body and ">Not ready<" in body
    assert "Title of exposure.env_file" in body and "Fix exposure.env_file like this." in body
    assert '<meta name="robots" content="noindex, nofollow">' in body
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    # Read-only and no workspace navigation.
    assert 'class="section-nav"' not in body and "Acme Store" not in body
    assert (
        "Accept risk" not in body
        and "Run audit now" not in body
        and "<form" not in body.split("</header>")[1]
    )
    assert str(audit_run.uuid) not in body


def test_public_page_follows_newer_runs(client, site, make_run, share_link):
    _, token = share_link
    make_run(site, ago_minutes=60)
    make_run(site, [])
    body = client.get(public_url(token)).content.decode()
    assert ">Ready<" in body and "Title of exposure.env_file" not in body


def test_expired_link_is_gone(client, site, audit_run, share_link):
    link, token = share_link
    with time_machine.travel(link.expires_at + dt.timedelta(seconds=1)):
        response = client.get(public_url(token))
    assert response.status_code == 410
    body = response.content.decode()
    assert "This link no longer works" in body and "expired" in body
    assert "Title of exposure.env_file" not in body


def test_revoked_link_is_gone(client_as, member, client, workspace, site, audit_run, share_link):
    link, token = share_link
    revoke = reverse(
        "audit_share_revoke", kwargs={"workspace": workspace.uuid, "site": site.uuid, "share": link.uuid}
    )
    page = reverse("audit_share_links", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    assert f'action="{revoke}"' in client_as(member).get(page).content.decode()  # the page's button
    assert client_as(member).post(revoke).status_code == 302
    response = client.get(public_url(token))
    assert response.status_code == 410 and "revoked" in response.content.decode()
    assert "Revoked" in client_as(member).get(links_url(workspace, site)).content.decode()


def test_unknown_token_is_not_found(client, share_link):
    _, token = share_link
    assert client.get(public_url(token[:-2] + "xx")).status_code == 404
    assert client.get(public_url(hashlib.sha256(token.encode()).hexdigest())).status_code == 404


def test_public_page_before_any_audit(client, site, share_link):
    _, token = share_link
    response = client.get(public_url(token))
    assert response.status_code == 200 and "No audit has finished" in response.content.decode()


def test_public_page_refuses_post(client, share_link):
    _, token = share_link
    assert client.post(public_url(token)).status_code == 405


def test_public_page_shows_accepted_risks_without_the_internal_reason(
    client, owner, site, audit_run, share_link
):
    from audits.models import AcceptedRisk

    finding = audit_run.findings.first()
    AcceptedRisk.objects.create(
        site=site,
        check_id=finding.check_id,
        subject=finding.subject,
        reason="Client will not pay for this fix",
        expires_at=timezone.now() + dt.timedelta(days=30),
        accepted_by=owner,
    )
    _, token = share_link
    body = client.get(public_url(token)).content.decode()
    assert "Accepted by the team until" in body
    assert "Client will not pay" not in body and owner.email not in body
