"""Share links to the handover document: created by members, shown once, stored hashed,
expiring and revocable, and the shared copy hides what is internal."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import time_machine
from django.urls import reverse
from django.utils import timezone

from audits.models import AcceptedRisk, ShareLink
from handover.models import ChecklistItem, HandoverDocument, HandoverShare


def links_url(workspace, site) -> str:
    return reverse("handover_links", kwargs={"workspace": workspace.uuid, "site": site.uuid})


def public_url(token: str, name: str = "handover_shared") -> str:
    return reverse(name, kwargs={"token": token})


def test_member_creates_a_link_shown_once_and_stored_hashed(client_as, member, workspace, site):
    response = client_as(member).post(links_url(workspace, site), {"days": "10"})
    assert response.status_code == 200
    match = re.search(r'value="http://testserver/handover/([^/"]+)/"', response.content.decode())
    assert match, "the new link is shown once"
    token = match.group(1)
    link = ShareLink.objects.get(site=site)
    assert HandoverShare.objects.filter(link=link).exists()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert abs(link.expires_at - (timezone.now() + dt.timedelta(days=10))) < dt.timedelta(minutes=1)
    listing = client_as(member).get(links_url(workspace, site)).content.decode()
    assert token not in listing and "Active" in listing


def test_link_length_is_1_to_30_days(client_as, member, workspace, site):
    for days in ("0", "31", "x"):
        assert client_as(member).post(links_url(workspace, site), {"days": days}).status_code == 200
    assert not ShareLink.objects.exists()


def test_shared_copy_hides_internal_notes_and_who_did_what(client, site, owner, handover_link, make_run):
    _, token = handover_link
    make_run(site)
    HandoverDocument.objects.create(
        site=site, deploy_steps="git push production", internal_notes="Client pays late"
    )
    ChecklistItem.objects.create(
        site=site, standard="access", label="Access", done_at=timezone.now(), done_by=owner
    )
    AcceptedRisk.objects.create(
        site=site,
        check_id="dns.single_nameserver",
        subject="shop.example.com",
        reason="Moving DNS next month.",
        expires_at=timezone.now() + dt.timedelta(days=20),
        accepted_by=owner,
    )
    response = client.get(public_url(token))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Handover: shop.example.com" in body and "git push production" in body
    assert "Moving DNS next month." in body and "Title of exposure.env_file" in body
    assert "Client pays late" not in body and "owner@example.com" not in body
    assert 'class="section-nav"' not in body and "Acme Store" not in body
    assert "<form" not in body.split("</header>")[1], "read-only: no checklist buttons"
    assert response["X-Robots-Tag"] == "noindex, nofollow" and response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    for name, kind in (
        ("handover_shared_markdown", "text/markdown"),
        ("handover_shared_pdf", "application/pdf"),
    ):
        download = client.get(public_url(token, name))
        assert download.status_code == 200 and download["Content-Type"].startswith(kind)
        assert b"Client pays late" not in download.content
        assert download["Referrer-Policy"] == "no-referrer"


def test_expired_link_is_gone(client, handover_link):
    link, token = handover_link
    with time_machine.travel(link.expires_at + dt.timedelta(seconds=1)):
        for name in ("handover_shared", "handover_shared_markdown", "handover_shared_pdf"):
            response = client.get(public_url(token, name))
            assert response.status_code == 410
            assert "expired" in response.content.decode() and "Handover:" not in response.content.decode()


def test_revoked_link_is_not_found(client_as, member, client, workspace, site, handover_link):
    link, token = handover_link
    revoke = reverse(
        "handover_link_revoke",
        kwargs={"workspace": workspace.uuid, "site": site.uuid, "handover_link": link.uuid},
    )
    assert client.get(public_url(token)).status_code == 200
    page = reverse("handover_links", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    assert f'action="{revoke}"' in client_as(member).get(page).content.decode()  # the page's button
    assert client_as(member).post(revoke).status_code == 302
    for name in ("handover_shared", "handover_shared_markdown", "handover_shared_pdf"):
        assert client.get(public_url(token, name)).status_code == 404
    assert "Revoked" in client_as(member).get(links_url(workspace, site)).content.decode()


def test_unknown_tokens_and_audit_report_links_do_not_open_it(client, handover_link, share_link):
    _, token = handover_link
    assert client.get(public_url(token[:-2] + "xx")).status_code == 404
    assert client.get(public_url(hashlib.sha256(token.encode()).hexdigest())).status_code == 404
    _, audit_token = share_link  # a link to the audit report only
    assert client.get(public_url(audit_token)).status_code == 404


def test_public_pages_refuse_writes(client, handover_link):
    _, token = handover_link
    assert client.post(public_url(token)).status_code == 405


def test_stranger_and_viewer(client_as, stranger, viewer, workspace, site, handover_link):
    link, token = handover_link
    revoke = reverse(
        "handover_link_revoke",
        kwargs={"workspace": workspace.uuid, "site": site.uuid, "handover_link": link.uuid},
    )
    assert client_as(stranger).get(links_url(workspace, site)).status_code == 404
    assert client_as(stranger).post(revoke).status_code == 404
    assert client_as(viewer).get(links_url(workspace, site)).status_code == 403
    assert client_as(viewer).post(links_url(workspace, site), {"days": "7"}).status_code == 403
    assert client_as(viewer).post(revoke).status_code == 403
    link.refresh_from_db()
    assert link.revoked_at is None


def test_an_audit_link_cannot_be_revoked_as_a_handover_link(client_as, member, workspace, site, share_link):
    link, _ = share_link
    revoke = reverse(
        "handover_link_revoke",
        kwargs={"workspace": workspace.uuid, "site": site.uuid, "handover_link": link.uuid},
    )
    assert client_as(member).post(revoke).status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None
