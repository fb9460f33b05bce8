"""Walk the URLconf: every workspace URL hides from strangers and refuses viewers' writes.

Patterns are found by their ``workspace`` kwarg, so URLs added later by any app are
covered without touching this file. Conventions it relies on (see
launchready/views_common.py):
- workspace URLs are named and take ``<uuid:workspace>``; other objects are UUID
  kwargs named after the model (``site``, ``route``, ``finding``, ``monitor`` …);
- each kwarg ``X`` has a fixture ``url_kwarg_X`` returning an object of the
  ``workspace`` fixture (tests/fixtures_core.py shows how; add yours in your
  area's fixture plugin);
- views use ``@workspace_view(write=..., read=...)``, whose ``workspace_write_role``
  says which role a POST needs (None: read-only, so POST is 405) and
  ``workspace_read_role`` which role a GET needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from launchready.models import ROLE_RANK, Role


@dataclass(frozen=True)
class WorkspaceURL:
    name: str
    kwargs: tuple[str, ...]
    view: object

    @property
    def write_role(self) -> str | None:
        return getattr(self.view, "workspace_write_role", None)


def _walk(resolver: URLResolver, namespace: str = "", converters: tuple[str, ...] = ()):
    for p in resolver.url_patterns:
        here = converters + tuple(getattr(p.pattern, "converters", {}).keys())
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p, ns, here)
        elif isinstance(p, URLPattern) and "workspace" in here:
            yield WorkspaceURL(name=f"{namespace}{p.name}" if p.name else "", kwargs=here, view=p.callback)


WORKSPACE_URLS = list(_walk(get_resolver()))


def test_the_walk_finds_the_core_workspace_urls():
    names = {u.name for u in WORKSPACE_URLS}
    assert {"workspace_overview", "site_detail", "route_delete", "member_remove"} <= names
    assert len(WORKSPACE_URLS) >= 20


@pytest.mark.parametrize("url", WORKSPACE_URLS, ids=lambda u: u.name or "unnamed")
def test_workspace_url_is_named_and_uses_workspace_view(url):
    assert url.name, "name every workspace URL so it can be reversed and walked"
    assert hasattr(url.view, "workspace_write_role"), (
        f"{url.name}: decorate the view with launchready.views_common.workspace_view"
    )


@pytest.fixture
def resolve_url(request):
    def build(url: WorkspaceURL) -> str:
        values = {}
        for kwarg in url.kwargs:
            try:
                value = request.getfixturevalue(f"url_kwarg_{kwarg}")
            except pytest.FixtureLookupError:
                pytest.fail(f"{url.name}: define a fixture url_kwarg_{kwarg} (see tests/fixtures_core.py)")
            values[kwarg] = getattr(value, "uuid", value)
        return reverse(url.name, kwargs=values)

    return build


@pytest.mark.parametrize("url", WORKSPACE_URLS, ids=lambda u: u.name or "unnamed")
def test_access_rules(url, resolve_url, client_as, client, owner, member, viewer, stranger):
    path = resolve_url(url)

    as_stranger = client_as(stranger)
    assert as_stranger.get(path).status_code == 404, f"stranger GET {path}"
    assert as_stranger.post(path, {"name": "x"}).status_code == 404, f"stranger POST {path}"

    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]

    read = getattr(url.view, "workspace_read_role", Role.VIEWER)
    viewer_get = client_as(viewer).get(path).status_code
    if ROLE_RANK[Role(read)] > ROLE_RANK[Role.VIEWER]:
        assert viewer_get == 403, f"viewer GET {path} of a write-only page"
    else:
        assert viewer_get in (200, 405), f"viewer GET {path}: {viewer_get}"

    role = url.write_role
    if role is None:
        assert client_as(viewer).post(path, {"name": "x"}).status_code == 405, (
            f"read-only {path} accepted a POST"
        )
    elif ROLE_RANK[Role(role)] > ROLE_RANK[Role.VIEWER]:
        assert client_as(viewer).post(path, {"name": "x"}).status_code == 403, f"viewer POST {path}"
    # (write=Role.VIEWER, e.g. "leave", is a write viewers may make: not posted here.)
    if role is not None and ROLE_RANK[Role(role)] > ROLE_RANK[Role.MEMBER]:
        assert client_as(member).post(path, {"name": "x"}).status_code == 403, f"member POST {path}"

    owner_get = client_as(owner).get(path)
    assert owner_get.status_code in (200, 405), f"owner GET {path}: {owner_get.status_code}"


OBJECT_URLS = [u for u in WORKSPACE_URLS if set(u.kwargs) - {"workspace"}]


@pytest.mark.parametrize("url", OBJECT_URLS, ids=lambda u: u.name or "unnamed")
def test_objects_of_another_workspace_are_404_under_your_own(url, request, client_as, stranger):
    """The leak a forgotten filter causes: your own workspace in the URL, someone else's
    object after it. The stranger owns their workspace (every role check passes), so only
    the view's scoping of each object stands between them and the owner's data."""
    own = stranger.memberships.get().workspace
    values = {"workspace": own.uuid}
    for kwarg in url.kwargs:
        if kwarg != "workspace":
            value = request.getfixturevalue(f"url_kwarg_{kwarg}")  # objects of the owner's workspace
            values[kwarg] = getattr(value, "uuid", value)
    path = reverse(url.name, kwargs=values)
    as_owner_of_own = client_as(stranger)
    assert as_owner_of_own.get(path).status_code in (404, 405), (
        f"GET {path} reached another workspace's object"
    )
    if url.write_role is not None:
        assert as_owner_of_own.post(path, {"name": "x"}).status_code == 404, f"POST {path}"
