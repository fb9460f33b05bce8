"""Invitation emails are limited, and a workspace name cannot dress one up as something else.

Anyone can sign up, name a workspace "URGENT: your bank account is locked" and invite
strangers: without limits that is a free spam relay under our domain. Limits hold per
workspace and per inviter (across their workspaces) in the shared cache; each resend is
an email too, and one invitation can be resent only after a pause.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from launchready.models import Invitation, Membership, Role, Workspace

NINE_TEN = datetime(2026, 3, 2, 9, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_limits_at_a_fixed_time(settings):
    cache.clear()
    settings.INVITATION_LIMIT_PER_WORKSPACE_PER_HOUR = 3
    settings.INVITATION_LIMIT_PER_INVITER_PER_HOUR = 3
    settings.INVITATION_RESEND_INTERVAL_MINUTES = 5
    with time_machine.travel(NINE_TEN, tick=False) as traveller:
        yield traveller


@pytest.fixture
def clock(_fresh_limits_at_a_fixed_time):
    return _fresh_limits_at_a_fixed_time


def _invite(client, workspace, email: str):
    return client.post(
        reverse("member_invite", kwargs={"workspace": workspace.uuid}), {"email": email, "role": Role.MEMBER}
    )


def _resend(client, workspace, invitation):
    url = reverse("invitation_resend", kwargs={"workspace": workspace.uuid, "invitation": invitation.uuid})
    return client.post(url, follow=True)


def test_the_workspace_limit_refuses_the_next_invitation_and_keeps_the_form(
    client_as, owner, admin, workspace
):
    for n in range(2):
        assert _invite(client_as(owner), workspace, f"a{n}@example.com").status_code == 302
    assert _invite(client_as(admin), workspace, "a2@example.com").status_code == 302

    refused = _invite(client_as(admin), workspace, "a3@example.com")
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "This workspace has sent 3 invitation emails this hour, the most allowed" in page
    assert "Try again in 50 minutes" in page
    assert 'value="a3@example.com"' in page  # what was typed is still there
    assert Invitation.objects.filter(workspace=workspace).count() == 3
    assert len(mail.outbox) == 3


def test_another_workspace_is_not_affected(client_as, owner, workspace, stranger):
    for n in range(3):
        _invite(client_as(owner), workspace, f"a{n}@example.com")
    assert _invite(client_as(owner), workspace, "a3@example.com").status_code == 429

    theirs = Membership.objects.get(user=stranger).workspace
    assert _invite(client_as(stranger), theirs, "friend@example.com").status_code == 302
    assert Invitation.objects.filter(workspace=theirs).count() == 1


def test_the_inviter_limit_holds_across_their_workspaces(client_as, owner, admin, workspace, settings):
    settings.INVITATION_LIMIT_PER_WORKSPACE_PER_HOUR = 20
    second = Workspace.objects.create(name="Second store")
    Membership.objects.create(workspace=second, user=owner, role=Role.OWNER)
    for n in range(3):
        target = workspace if n % 2 else second
        assert _invite(client_as(owner), target, f"a{n}@example.com").status_code == 302

    refused = _invite(client_as(owner), workspace, "a3@example.com")
    assert refused.status_code == 429
    assert (
        "You have sent 3 invitation emails this hour, the most allowed per person" in refused.content.decode()
    )
    # Someone else in the same workspace still can.
    assert _invite(client_as(admin), workspace, "a3@example.com").status_code == 302


def test_the_limit_lifts_in_the_next_hour(client_as, owner, workspace, clock):
    for n in range(3):
        _invite(client_as(owner), workspace, f"a{n}@example.com")
    assert _invite(client_as(owner), workspace, "a3@example.com").status_code == 429
    clock.move_to(NINE_TEN + timedelta(minutes=50))
    assert _invite(client_as(owner), workspace, "a3@example.com").status_code == 302


def test_a_resend_waits_a_few_minutes_and_the_old_link_keeps_working(
    client, client_as, owner, workspace, clock
):
    _invite(client_as(owner), workspace, "late@example.com")
    inv = Invitation.objects.get(workspace=workspace)
    link = mail.outbox[0].body.split("http://127.0.0.1:8000", 1)[1].split()[0]

    refused = _resend(client_as(owner), workspace, inv)
    assert (
        "This invitation was emailed less than 5 minutes ago. Try again in 5 minutes."
        in refused.content.decode()
    )
    assert len(mail.outbox) == 1
    assert client.get(link).status_code == 200  # a refused resend does not replace the link

    clock.move_to(NINE_TEN + timedelta(minutes=5))
    done = _resend(client_as(owner), workspace, inv)
    assert "Invitation sent again to late@example.com" in done.content.decode()
    assert len(mail.outbox) == 2


def test_resends_count_towards_the_workspace_limit(client_as, owner, workspace, clock):
    _invite(client_as(owner), workspace, "a0@example.com")
    inv = Invitation.objects.get()
    for minutes in (5, 10):
        clock.move_to(NINE_TEN + timedelta(minutes=minutes))
        _resend(client_as(owner), workspace, inv)
    assert len(mail.outbox) == 3
    clock.move_to(NINE_TEN + timedelta(minutes=15))
    refused = _resend(client_as(owner), workspace, inv)
    assert "This workspace has sent 3 invitation emails this hour" in refused.content.decode()
    assert len(mail.outbox) == 3
    assert _invite(client_as(owner), workspace, "a1@example.com").status_code == 429


def test_a_hostile_workspace_name_stays_out_of_the_subject_and_is_labelled_in_the_body(
    client_as, owner, workspace
):
    workspace.name = "URGENT: your bank account is locked, visit bank-help.example\n\nClick now"
    workspace.save()
    _invite(client_as(owner), workspace, "victim@example.com")
    (message,) = mail.outbox
    assert message.subject == "[Launch Ready] Invitation to join a workspace"
    quoted = '"URGENT: your bank account is locked, visit bank-help.example Click now"'
    assert f"The workspace is named {quoted}" in message.body  # one line, quoted, labelled
    html, _ = message.alternatives[0]
    assert "The workspace is named “<strong>URGENT: your bank account is locked" in html
