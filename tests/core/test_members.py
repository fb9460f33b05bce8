"""Role changes, removal, leaving, and the last-owner rule."""

import pytest
from django.urls import reverse

from launchready.models import Membership, Role


def _m(user, workspace) -> Membership:
    return Membership.objects.get(user=user, workspace=workspace)


def _set_role(client, workspace, target: Membership, role: str):
    url = reverse("member_role", kwargs={"workspace": workspace.uuid, "member": target.uuid})
    return client.post(url, {"role": role}, follow=True)


def _remove(client, workspace, target: Membership):
    url = reverse("member_remove", kwargs={"workspace": workspace.uuid, "member": target.uuid})
    return client.post(url, follow=True)


def test_owner_promotes_and_demotes(client_as, owner, member, workspace):
    c = client_as(owner)
    target = _m(member, workspace)
    _set_role(c, workspace, target, Role.ADMIN)
    assert _m(member, workspace).role == Role.ADMIN
    _set_role(c, workspace, target, Role.OWNER)
    assert _m(member, workspace).role == Role.OWNER
    _set_role(c, workspace, target, Role.VIEWER)
    assert _m(member, workspace).role == Role.VIEWER


def test_admin_manages_members_and_viewers_only(client_as, admin, member, viewer, owner, workspace):
    c = client_as(admin)
    _set_role(c, workspace, _m(member, workspace), Role.VIEWER)
    assert _m(member, workspace).role == Role.VIEWER
    _set_role(c, workspace, _m(viewer, workspace), Role.MEMBER)
    assert _m(viewer, workspace).role == Role.MEMBER

    page = _set_role(c, workspace, _m(member, workspace), Role.OWNER)
    assert "Only an owner can make someone owner" in page.content.decode()
    assert _m(member, workspace).role == Role.VIEWER

    page = _set_role(c, workspace, _m(owner, workspace), Role.VIEWER)
    assert "Only an owner can change the role" in page.content.decode()
    assert _m(owner, workspace).role == Role.OWNER

    page = _remove(c, workspace, _m(owner, workspace))
    assert "Only an owner can remove" in page.content.decode()
    assert Membership.objects.filter(user=owner, workspace=workspace).exists()

    _remove(c, workspace, _m(member, workspace))
    assert not Membership.objects.filter(user=member, workspace=workspace).exists()


def test_admin_cannot_promote_self(client_as, admin, workspace):
    page = _set_role(client_as(admin), workspace, _m(admin, workspace), Role.OWNER)
    assert "You cannot change your own role" in page.content.decode()
    assert _m(admin, workspace).role == Role.ADMIN


def test_last_owner_cannot_be_demoted(client_as, owner, workspace):
    page = _set_role(client_as(owner), workspace, _m(owner, workspace), Role.ADMIN)
    assert "last owner" in page.content.decode()
    assert _m(owner, workspace).role == Role.OWNER


def test_an_owner_can_step_down_when_another_owner_exists(client_as, owner, member, workspace):
    c = client_as(owner)
    _set_role(c, workspace, _m(member, workspace), Role.OWNER)
    _set_role(c, workspace, _m(owner, workspace), Role.ADMIN)
    assert _m(owner, workspace).role == Role.ADMIN
    # Now the former member is the last owner; the new admin cannot touch them.
    page = _set_role(c, workspace, _m(member, workspace), Role.MEMBER)
    assert _m(member, workspace).role == Role.OWNER
    assert "Only an owner" in page.content.decode()


def test_last_owner_cannot_leave(client_as, owner, workspace):
    page = client_as(owner).post(
        reverse("workspace_leave", kwargs={"workspace": workspace.uuid}), follow=True
    )
    assert "You are the last owner" in page.content.decode()
    assert _m(owner, workspace).role == Role.OWNER


@pytest.mark.parametrize("who", ["viewer", "member", "admin"])
def test_anyone_else_can_leave(request, client_as, owner, workspace, who):
    user = request.getfixturevalue(who)
    c = client_as(user)
    assert c.get(reverse("workspace_leave", kwargs={"workspace": workspace.uuid})).status_code == 200
    response = c.post(reverse("workspace_leave", kwargs={"workspace": workspace.uuid}))
    assert response.status_code == 302
    assert not Membership.objects.filter(user=user, workspace=workspace).exists()
    # Gone means gone: the workspace is now a 404 for them.
    assert c.get(reverse("workspace_overview", kwargs={"workspace": workspace.uuid})).status_code == 404


def test_owner_can_leave_when_another_owner_exists(client_as, owner, admin, workspace):
    Membership.objects.filter(user=admin).update(role=Role.OWNER)
    client_as(owner).post(reverse("workspace_leave", kwargs={"workspace": workspace.uuid}))
    assert not Membership.objects.filter(user=owner, workspace=workspace).exists()


def test_last_owner_cannot_be_removed_even_by_an_owner(owner, workspace):
    from launchready import tenancy

    m = _m(owner, workspace)
    with pytest.raises(tenancy.TenancyError, match="remove yourself"):
        tenancy.remove_member(m, m)


def test_member_of_another_workspace_cannot_be_targeted(client_as, owner, stranger, workspace):
    foreign = Membership.objects.get(user=stranger)
    url = reverse("member_role", kwargs={"workspace": workspace.uuid, "member": foreign.uuid})
    assert client_as(owner).post(url, {"role": Role.VIEWER}).status_code == 404
    assert Membership.objects.get(user=stranger).role == Role.OWNER


def test_members_page_shows_controls_only_to_managers(client_as, owner, member, viewer, workspace):
    url = reverse("member_list", kwargs={"workspace": workspace.uuid})
    assert b"Send invitation" in client_as(owner).get(url).content
    viewer_page = client_as(viewer).get(url).content
    assert b"Send invitation" not in viewer_page and b"member@example.com" in viewer_page
