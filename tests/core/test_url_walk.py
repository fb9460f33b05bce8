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

The public API under /api/v1/ is walked the same way from its OpenAPI schema (see
tests/api/walk.py): path parameters named after a model take the same fixtures.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from launchready.models import ROLE_RANK, Role
from monitoring.models import ApiToken, Monitor
from tests.api import walk as api_walk


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


# --- the public API -----------------------------------------------------------------
# The same rule for /api/v1/: a token of another workspace gets 404 for every object
# of this one, on every route, read or write. Routes come from the API's OpenAPI
# schema (tests/api/walk.py), so an endpoint added later by any app is walked too.

API_ROUTES = api_walk.api_routes()


def test_the_walk_finds_the_core_api_routes():
    routes = {str(r) for r in API_ROUTES}
    assert {
        "GET /api/v1/sites/{site}",
        "GET /api/v1/monitors/{monitor}",
        "GET /api/v1/incidents/{incident}",
        "POST /api/v1/maintenance-windows",
        "POST /api/v1/sites/{site}/audits",
        "GET /api/v1/audits/{run}",
    } <= routes


@pytest.fixture
def other_workspace_token(stranger):
    """A read-write token of the stranger's own workspace: every scope check passes but tenancy."""
    _, plain = ApiToken.issue(stranger.memberships.get().workspace, "Walk")
    return plain


@pytest.fixture
def workspace_objects(request, workspace):
    """The UUIDs of an object of ``workspace`` for every name the API's routes take, and a heartbeat."""
    Monitor.objects.create(workspace=workspace, kind=Monitor.Kind.HEARTBEAT, name="Nightly backup")
    found = {str(m.uuid) for m in Monitor.objects.filter(workspace=workspace)}
    for name in sorted({n for r in API_ROUTES for n in r.params + r.query} | {"site", "incident", "run"}):
        try:  # a route whose fixture is missing fails on its own, saying which one to add
            found.add(str(request.getfixturevalue(f"url_kwarg_{name}").uuid))
        except pytest.FixtureLookupError:
            continue
    return found


@pytest.mark.parametrize("route", API_ROUTES, ids=str)
def test_api_route_hides_another_workspaces_objects(
    route, request, client, other_workspace_token, workspace_objects
):
    filled = api_walk.fill(route, request)
    response = api_walk.call(client, route, filled.url, other_workspace_token, filled.body)
    assert response["Content-Type"].startswith("application/json"), f"{route}: {response.content[:200]!r}"
    if filled.objects:
        assert response.status_code == 404, f"{route} with another workspace's objects: {response.content!r}"
        assert response.json()["error"]
    leaked = {u for u in workspace_objects if u in response.content.decode()}
    assert not leaked, f"{route} answered with another workspace's objects"


@pytest.mark.parametrize("route", API_ROUTES, ids=str)
def test_api_route_needs_a_token(route, request, client, db):
    filled = api_walk.fill(route, request)
    for plain in (None, "lr_" + "x" * 43, "not-even-our-format"):
        response = api_walk.call(client, route, filled.url, plain, filled.body)
        assert response.status_code == 401, f"{route} with token {plain!r}"
        assert response.json()["error"]
