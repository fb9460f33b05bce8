"""Invitations: send, accept, decline, revoke, expiry, wrong user, sign-up from an invitation."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from launchready.models import Invitation, Membership, Role

from ..fixtures_core import PASSWORD


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def _invite(client, workspace, email: str, role: str = Role.MEMBER):
    return client.post(
        reverse("member_invite", kwargs={"workspace": workspace.uuid}), {"email": email, "role": role}
    )


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/invitations/[^/\s]+/)", message.body).group(1)


@pytest.fixture
def invitation(workspace, owner):
    return Invitation.objects.create(
        workspace=workspace, email="newbie@example.com", role=Role.ADMIN, invited_by=owner
    )


def test_owner_invites_by_email_with_text_and_html(client_as, owner, workspace):
    response = _invite(client_as(owner), workspace, "Newbie@Example.com", Role.ADMIN)
    assert response.status_code == 302
    inv = Invitation.objects.get(workspace=workspace)
    assert (inv.email, inv.role, inv.status) == ("newbie@example.com", Role.ADMIN, Invitation.Status.PENDING)

    (message,) = mail.outbox
    assert message.to == ["newbie@example.com"]
    assert message.subject == "[Launch Ready] Invitation to join a workspace"  # no user-chosen text
    assert 'The workspace is named "Acme Store"' in message.body
    link = _link(message)
    token = link.split("/")[-2]
    assert inv.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.filter(pk=inv.pk).values().get())  # only the hash is stored
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and link in html
    assert client_as(owner).get(link).status_code in (200, 403)  # the link opens the invitation


def test_admin_cannot_invite_an_owner_or_admin(client_as, admin, workspace):
    for role in (Role.OWNER, Role.ADMIN):
        response = _invite(client_as(admin), workspace, "x@example.com", role)
        assert response.status_code == 200
        assert b"Select a valid choice" in response.content
    assert not Invitation.objects.exists()


def test_member_cannot_invite(client_as, member, workspace):
    assert _invite(client_as(member), workspace, "x@example.com").status_code == 403


def test_inviting_a_member_or_pending_address_is_refused(client_as, owner, member, workspace):
    c = client_as(owner)
    response = _invite(c, workspace, "member@example.com")
    assert b"already a member" in response.content
    _invite(c, workspace, "new@example.com")
    response = _invite(c, workspace, "NEW@example.com")
    assert b"already has a pending invitation" in response.content
    assert Invitation.objects.count() == 1


def test_existing_user_accepts(client_as, workspace, owner, stranger):
    inv = Invitation.objects.create(
        workspace=workspace, email=stranger.email, role=Role.VIEWER, invited_by=owner
    )
    c = client_as(stranger)
    page = c.get(reverse("invitation_detail", kwargs={"token": inv.token}))
    assert page.status_code == 200 and b"Accept and join" in page.content

    response = c.post(reverse("invitation_accept", kwargs={"token": inv.token}))
    assert response.status_code == 302
    assert response["Location"] == reverse("workspace_overview", kwargs={"workspace": workspace.uuid})
    assert Membership.objects.get(workspace=workspace, user=stranger).role == Role.VIEWER
    inv.refresh_from_db()
    assert inv.status == Invitation.Status.ACCEPTED and inv.responded_at
    # The joined workspace is now the one "/" opens.
    assert c.get("/")["Location"] == reverse("workspace_overview", kwargs={"workspace": workspace.uuid})


def test_expired_invitation_says_so_and_joins_nothing(client_as, workspace, owner, stranger):
    inv = Invitation.objects.create(
        workspace=workspace,
        email=stranger.email,
        invited_by=owner,
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    c = client_as(stranger)
    page = c.get(reverse("invitation_detail", kwargs={"token": inv.token}))
    assert page.status_code == 410 and b"This invitation expired on" in page.content
    response = c.post(reverse("invitation_accept", kwargs={"token": inv.token}))
    assert response.status_code == 410 and b"expired" in response.content
    assert not Membership.objects.filter(workspace=workspace, user=stranger).exists()


def test_revoked_invitation_link_stops_working(client_as, workspace, owner, stranger):
    inv = Invitation.objects.create(workspace=workspace, email=stranger.email, invited_by=owner)
    revoke = client_as(owner).post(
        reverse("invitation_revoke", kwargs={"workspace": workspace.uuid, "invitation": inv.uuid})
    )
    assert revoke.status_code == 302
    inv.refresh_from_db()
    assert inv.status == Invitation.Status.REVOKED

    response = client_as(stranger).post(reverse("invitation_accept", kwargs={"token": inv.token}))
    assert response.status_code == 410 and b"withdrawn" in response.content
    assert not Membership.objects.filter(workspace=workspace, user=stranger).exists()


def test_declined_invitation_cannot_be_accepted_later(client_as, workspace, owner, stranger):
    inv = Invitation.objects.create(workspace=workspace, email=stranger.email, invited_by=owner)
    c = client_as(stranger)
    assert c.post(reverse("invitation_decline", kwargs={"token": inv.token})).status_code == 302
    inv.refresh_from_db()
    assert inv.status == Invitation.Status.DECLINED
    response = c.post(reverse("invitation_accept", kwargs={"token": inv.token}))
    assert response.status_code == 410 and b"declined" in response.content
    assert not Membership.objects.filter(workspace=workspace, user=stranger).exists()


def test_wrong_user_gets_a_clear_message_and_joins_nothing(client_as, invitation, workspace, stranger):
    c = client_as(stranger)
    page = c.get(reverse("invitation_detail", kwargs={"token": invitation.token}))
    assert page.status_code == 403
    assert b"sent to newbie@example.com" in page.content and b"stranger@example.com" in page.content
    response = c.post(reverse("invitation_accept", kwargs={"token": invitation.token}))
    assert response.status_code == 403 and b"sent to newbie@example.com" in response.content
    assert not Membership.objects.filter(workspace=workspace, user=stranger).exists()
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
    # Nor can they decline someone else's invitation.
    assert c.post(reverse("invitation_decline", kwargs={"token": invitation.token})).status_code == 403
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_unknown_token_is_404(client, db):
    assert client.get(reverse("invitation_detail", kwargs={"token": "nope"})).status_code == 404


def test_new_user_signs_up_from_the_invitation_straight_into_the_workspace(client, invitation, workspace):
    page = client.get(reverse("invitation_detail", kwargs={"token": invitation.token}))
    assert page.status_code == 200 and b"Sign up as newbie@example.com" in page.content
    signup_page = client.get(reverse("account_signup"), {"email": "newbie@example.com"})
    assert b'value="newbie@example.com"' in signup_page.content
    mail.outbox.clear()

    response = client.post(
        reverse("account_signup"),
        {"email": "newbie@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    # No verification email: the invitation proved the address; logged in at once.
    assert response.status_code == 302
    assert mail.outbox == []
    user = get_user_model().objects.get(email="newbie@example.com")
    assert user.emailaddress_set.get().verified
    memberships = Membership.objects.filter(user=user)
    assert [(m.workspace_id, m.role) for m in memberships] == [(workspace.pk, Role.ADMIN)]
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED
    landing = client.get(response["Location"], follow=True)
    assert landing.request["PATH_INFO"] == reverse("workspace_overview", kwargs={"workspace": workspace.uuid})


def test_sign_up_from_invitation_with_another_address_gets_a_normal_account(client, invitation, workspace):
    client.get(reverse("invitation_detail", kwargs={"token": invitation.token}))
    mail.outbox.clear()
    client.post(
        reverse("account_signup"),
        {"email": "other@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert len(mail.outbox) == 1  # verification needed for an address the invitation does not prove
    user = get_user_model().objects.get(email="other@example.com")
    assert not user.emailaddress_set.get().verified
    m = Membership.objects.get(user=user)
    assert m.workspace != workspace and m.role == Role.OWNER
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_anonymous_accept_goes_to_login(client, invitation):
    response = client.post(reverse("invitation_accept", kwargs={"token": invitation.token}))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert not Membership.objects.filter(workspace=invitation.workspace, role=Role.ADMIN).exists()


def test_resend_extends_expiry_and_sends_again(client, client_as, owner, workspace):
    inv = Invitation.objects.create(
        workspace=workspace,
        email="late@example.com",
        invited_by=owner,
        expires_at=timezone.now() - timedelta(days=1),
    )
    client_as(owner).post(
        reverse("invitation_resend", kwargs={"workspace": workspace.uuid, "invitation": inv.uuid})
    )
    old_link = reverse("invitation_detail", kwargs={"token": inv.token})
    inv.refresh_from_db()
    assert inv.is_open
    assert len(mail.outbox) == 1
    new_link = _link(mail.outbox[0])
    # Only a hash is stored, so the resend carries a new token and the old link is dead.
    assert new_link != old_link
    assert client.get(new_link).status_code == 200
    assert client.get(old_link).status_code == 404


def test_members_page_lists_pending_invitations(client_as, owner, invitation, workspace):
    page = client_as(owner).get(reverse("member_list", kwargs={"workspace": workspace.uuid}))
    assert b"newbie@example.com" in page.content and b"owner@example.com" in page.content


def test_received_invitation_is_accepted_from_the_workspaces_page(client_as, owner, workspace, stranger):
    inv = Invitation.objects.create(workspace=workspace, email="stranger@example.com", invited_by=owner)
    response = client_as(stranger).post(
        reverse("invitation_received_accept", kwargs={"invitation": inv.uuid})
    )
    assert response.status_code == 302
    assert Membership.objects.filter(workspace=workspace, user=stranger, role=Role.MEMBER).exists()


def test_received_invitation_is_declined_from_the_workspaces_page(client_as, owner, workspace, stranger):
    inv = Invitation.objects.create(workspace=workspace, email="stranger@example.com", invited_by=owner)
    client_as(stranger).post(reverse("invitation_received_decline", kwargs={"invitation": inv.uuid}))
    inv.refresh_from_db()
    assert inv.status == Invitation.Status.DECLINED


def test_someone_elses_invitation_cannot_be_answered_by_uuid(client_as, client, owner, workspace, viewer):
    inv = Invitation.objects.create(workspace=workspace, email="stranger@example.com", invited_by=owner)
    for name in ("invitation_received_accept", "invitation_received_decline"):
        url = reverse(name, kwargs={"invitation": inv.uuid})
        assert client_as(viewer).post(url).status_code == 404
        assert client.post(url).status_code == 302  # anonymous: to the login page
        assert client_as(viewer).get(url).status_code == 405
    inv.refresh_from_db()
    assert inv.status == Invitation.Status.PENDING


def test_only_the_token_hash_is_stored_and_a_session_holds_no_token(client, invitation):
    token = invitation.token
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in str(stored)
    client.get(reverse("invitation_detail", kwargs={"token": token}))
    assert token not in str(dict(client.session))
