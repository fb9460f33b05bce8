"""Query counts of list pages stay constant as the lists grow."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits import sharing
from launchready.models import Invitation, Membership, Role


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_members_page_queries_do_not_grow(client_as, owner, workspace, make_user, django_assert_num_queries):
    c = client_as(owner)
    url = reverse("member_list", kwargs={"workspace": workspace.uuid})
    c.get(url)
    baseline = _count(c, url)
    for i in range(6):
        Membership.objects.create(workspace=workspace, user=make_user(f"extra{i}"), role=Role.MEMBER)
        Invitation.objects.create(workspace=workspace, email=f"invitee{i}@example.com", invited_by=owner)
    with django_assert_num_queries(baseline):
        response = c.get(url)
    page = response.content.decode()
    assert page.count("extra") >= 6 and page.count("invitee") >= 6


def test_share_links_page_queries_do_not_grow(
    client_as, owner, member, workspace, site, django_assert_num_queries
):
    c = client_as(owner)
    url = reverse("audit_share_links", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    sharing.create_link(site, user=owner, days=7)
    c.get(url)
    baseline = _count(c, url)
    for who in (owner, member) * 4:
        sharing.create_link(site, user=who, days=3)
    with django_assert_num_queries(baseline):
        c.get(url)
