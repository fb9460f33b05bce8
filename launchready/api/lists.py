"""List answers: pages on request, and the serialised answer kept per workspace version.

Pages are an extension that changes nothing for a client that does not ask for them:
``?limit=N`` answers at most N items (the body is still the JSON array of before) and, when
more follow, a ``Link: <…?limit=N&cursor=…>; rel="next"`` header (RFC 8288) whose URL gives
the next page. The cursor is opaque (signed: a changed or foreign one is a 400) and pages
are cut on the list's own order plus the id, so a row added meanwhile neither repeats nor
hides one. A list that always had a ``limit`` (incidents, a site's audits) keeps its
default and now says when more follow.

The serialised answer is kept in the cache (``launchready.fragments``) per list, query
string and token scope (workspace, and site for a site token), under the workspace's
version: any change in the workspace (a save, a write request, a monitor changing state)
draws it again; a list may name narrower versions too (the heartbeats list: the
workspace's pings, so a ping shows at once); the check loop's last-check times show
within ``fragments.TTL``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.cache import cache
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from pydantic import TypeAdapter

from launchready import fragments

from . import api
from .auth import token_of
from .errors import ApiError

CURSOR_SALT = "launchready.api.lists.cursor"
BAD_CURSOR = "This cursor is not one this list gave: start again without it."
LIMIT_DESCRIPTION = (
    'At most this many items; when more follow, the answer\'s `Link` header (rel="next") '
    "gives the URL of the next page."
)
CURSOR_DESCRIPTION = "Where the page starts: copied from the `Link` header of the page before."
# The 200 answer's header, in the schema of every paged list.
LINK_HEADER = {
    "responses": {
        200: {
            "description": "OK",
            "headers": {
                "Link": {
                    "description": 'The next page, when one follows: `<URL>; rel="next"` (RFC 8288).',
                    "schema": {"type": "string"},
                }
            },
        }
    }
}


@dataclass(frozen=True)
class Order:
    """A list's order: fields, each ascending or descending, ending with a unique one."""

    fields: Sequence[tuple[str, bool]]  # (field, descending)

    def apply(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by(*(f"-{name}" if desc else name for name, desc in self.fields))

    def after(self, queryset: QuerySet, values: Sequence[Any]) -> QuerySet:
        """Rows after the row whose order values are ``values`` (keyset: no offset to drift)."""
        condition = Q()
        for i, (name, desc) in enumerate(self.fields):
            equal = {earlier: values[j] for j, (earlier, _) in enumerate(self.fields[:i])}
            condition |= Q(**equal, **{f"{name}__{'lt' if desc else 'gt'}": values[i]})
        return queryset.filter(condition)

    def values_of(self, row: Model) -> list[Any]:
        return [_plain(getattr(row, name)) for name, _ in self.fields]


def _plain(value: Any) -> Any:
    """A value as JSON keeps it and a filter reads it back (dates as ISO text, ids as text)."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def page(
    request: HttpRequest, queryset: QuerySet, order: Order, limit: int | None, cursor: str | None
) -> tuple[list[Model], str | None]:
    """(the page's rows, the next page's URL or None)."""
    queryset = order.apply(queryset)
    if cursor:
        try:
            values = signing.loads(cursor, salt=CURSOR_SALT)
        except signing.BadSignature:
            raise ApiError(400, BAD_CURSOR) from None
        if not isinstance(values, list) or len(values) != len(order.fields):
            raise ApiError(400, BAD_CURSOR)
        queryset = order.after(queryset, values)
    if limit is None:
        return list(queryset), None
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    query = QueryDict(mutable=True)
    query.update(request.GET)
    query["cursor"] = signing.dumps(order.values_of(rows[-1]), salt=CURSOR_SALT, compress=True)
    return rows, request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def answer(
    request: HttpRequest,
    name: str,
    schema: type,
    params: tuple,
    draw: Callable[[], tuple[list[Any], str | None]],
    versions: Callable[[int], Iterable[str]] | None = None,
) -> HttpResponse:
    """The list's JSON answer from the cache, or ``draw()`` (items, next URL) serialised with
    ``schema`` as the endpoint's own answer would be, and kept for next time. ``params``: the
    query's values the list reads (other parameters make no entry of their own).
    ``versions(workspace_id)``: the narrower versions of ``fragments`` the list shows."""
    token = token_of(request)
    digest = hashlib.sha256(repr(params).encode()).hexdigest()
    key = fragments.key(
        f"api-{name}",
        token.workspace_id,
        token.site_id or "",
        digest,
        versions=versions(token.workspace_id) if versions is not None else (),
    )
    kept = cache.get(key)
    if kept is None:
        items, next_url = draw()
        adapter = TypeAdapter(list[schema])
        data = adapter.dump_python(adapter.validate_python(items, context={"request": request}))
        kept = (api.renderer.render(request, data, response_status=200), next_url)
        cache.set(key, kept, fragments.TTL)
    body, next_url = kept
    response = HttpResponse(body, content_type=api.get_content_type())
    if next_url:
        response["Link"] = f'<{next_url}>; rel="next"'
    return response
