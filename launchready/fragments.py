"""Rendered pages and page fragments in Django's cache (Redis in production: ``CACHE_URL``),
dropped by the events that change what they show. Whole pages are kept by
``launchready.pagecache`` under the same versions.

Each workspace has a version in the cache. A fragment's key carries the version of the
workspace it shows, so ``bump()`` makes every cached fragment and page of that workspace
a miss at once, in every web process. The receivers below bump it whenever a row that
belongs to a workspace is saved or deleted: the workspace itself and every model with a
``workspace`` or ``site`` foreign key (discovered in the project's apps, so a new model is
covered without being listed: sites, routes, audit runs, accepted risks, monitors,
incidents, deploys, env vars, services, memberships …). A bump happens at once and again
when the transaction commits, so a page drawn by another request between a save and its
commit (from the old rows, under the new version) is dropped too. Every successful write
request of a workspace bumps it as well (``pagecache.WritesShowMiddleware``), which covers
the actions that use ``queryset.update()``. Work done outside a request with
``queryset.update()`` bumps where it is done: the check loop for the workspaces whose
monitors changed state (``monitoring.engine``), the outbox for an alert claimed or failed
and an incident acknowledged from an alert's link (``monitoring.outbox``; a transport's
delivery and a channel it disables show through the alert's own save), an audit that fails
(``audits.tasks``), a deploy's smoke test and the maintenance window it ends
(``handover.deploys``).

Each user has a version of their own (``user_key``) for what is drawn per user across
workspaces (the header's workspace switcher, the portfolio, the workspaces page), bumped
when the user, one of their memberships or addresses is saved or deleted, when a workspace
they belong to is saved (renamed), and when an invitation to one of their addresses is.
The hourly rollup has its own version (``monitoring.rollups.bars_version``).

What changes often, outside any request, has narrower versions that only the pages showing
it carry in their keys (``versions=`` of ``key``, ``page_versions`` and the page decorators),
so that a busy workspace's heartbeats, pinging every minute, do not drop every kept page
of the workspace each time:
- each monitor's own (``monitor_version_key``, by its public id, which the page's URL holds,
  so the key needs no query; kept ``MONITOR_VERSION_TTL``): its page, for its recent pings
  and the message of a check that could not run (``engine.mark_could_not_run``);
- each workspace's ``pings_version_key``: the heartbeats API list (last ping and last start,
  to the millisecond), moved by every success and start ping;
- each workspace's ``ping_ages_version_key``: the monitoring overview, which says how long
  ago each heartbeat pinged in minutes, moved by a success ping only when the heartbeat's
  previous ping is a minute old or more (a kept overview then says "N minutes ago" where it
  now says "0 minutes ago"; within the minute both say "0 minutes ago").
A ping changes nothing else (``monitoring.runner.record_ping``); a change of state, which
every page shows, still bumps the workspace. What changes without any of these events (the
check loop's last-checked times, latencies and messages of monitors that stay in their
state) shows within ``TTL``.

A missing or evicted version starts again from the clock, never from a number an older
fragment may carry. With the cache down (``launchready.cache.TolerantRedisCache``) every
read misses and every page is drawn from the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger(__name__)

TTL = 60  # seconds: the longest a change without an event takes to show
# A monitor's version lives a day after it was first read or bumped (then starts again from
# the clock): a member asking for made-up monitor ids leaves no key behind for long.
MONITOR_VERSION_TTL = 86400

# The apps whose models are searched for rows that belong to a workspace.
PROJECT_APPS = ("launchready", "audits", "monitoring", "handover", "reports")


def _key(workspace_id: int) -> str:
    return f"fragments:workspace:{workspace_id}"


def _user_key(user_id: int) -> str:
    return f"fragments:user:{user_id}"


def monitor_version_key(monitor_uuid: object) -> str:
    """The version of one monitor's own page (its pings, why its check could not run)."""
    return f"fragments:monitor:{monitor_uuid}"


def pings_version_key(workspace_id: int) -> str:
    """The version of what lists every heartbeat's last ping and start to the millisecond."""
    return f"fragments:pings:{workspace_id}"


def ping_ages_version_key(workspace_id: int) -> str:
    """The version of what says how long ago each heartbeat pinged, in minutes."""
    return f"fragments:ping-ages:{workspace_id}"


def _timeout(k: str) -> int | None:
    return MONITOR_VERSION_TTL if k.startswith(monitor_version_key("")) else None


def _current(keys: list[str]) -> dict[str, int]:
    """The versions under ``keys`` (one cache round trip); a missing one starts from the clock."""
    found = cache.get_many(keys)
    missing = {k: time.time_ns() for k in keys if found.get(k) is None}
    for timeout in {_timeout(k) for k in missing}:
        cache.set_many({k: v for k, v in missing.items() if _timeout(k) == timeout}, timeout=timeout)
    return {k: found.get(k) or missing[k] for k in keys}


def versions(workspace_ids: Iterable[int]) -> dict[int, int]:
    """The current version of each workspace (one cache round trip)."""
    ids = list(workspace_ids)
    current = _current([_key(i) for i in ids])
    return {i: current[_key(i)] for i in ids}


def version(workspace_id: int) -> int:
    return versions([workspace_id])[workspace_id]


def page_versions(
    workspace_ids: Iterable[int], user_id: int, versions: Iterable[str] = ()
) -> tuple[int, ...]:
    """The versions a whole page of ``user_id`` showing these workspaces depends on: each
    workspace's, in order, the user's, then the narrower ``versions`` the page names (their
    keys: ``monitor_version_key`` …), all in one cache round trip."""
    keys = [_key(i) for i in workspace_ids] + [_user_key(user_id)] + list(versions)
    current = _current(keys)
    return tuple(current[k] for k in keys)


def _incr(k: str) -> None:
    try:
        cache.incr(k)
    except ValueError:  # not there (never read, or evicted)
        cache.set(k, time.time_ns(), timeout=_timeout(k))


def _bump_key(k: str, what: str) -> None:
    """Bump now and, inside a transaction, again once it commits: a page drawn by another
    request in between read the old rows and must not be kept under the new version."""

    def bump_once() -> None:
        try:
            _incr(k)
        except Exception:  # a cache outage must not fail the write; pages expire after TTL
            logger.exception("could not drop the cached pages of %s", what)

    bump_once()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(bump_once)


def bump(workspace_id: int | None) -> None:
    """Drop the workspace's cached fragments and pages (never raises)."""
    if workspace_id is not None:
        _bump_key(_key(workspace_id), f"workspace {workspace_id}")


def bump_monitor(monitor_uuid: object) -> None:
    """Drop the monitor's kept page (``monitor_version_key``; never raises)."""
    if monitor_uuid is not None:
        _bump_key(monitor_version_key(monitor_uuid), f"monitor {monitor_uuid}")


def bump_pings(workspace_id: int | None, *, ages: bool) -> None:
    """Drop what shows the workspace's heartbeats' last pings and starts; with ``ages``, also
    what says how long ago they pinged (never raises)."""
    if workspace_id is None:
        return
    _bump_key(pings_version_key(workspace_id), f"the pings of workspace {workspace_id}")
    if ages:
        _bump_key(ping_ages_version_key(workspace_id), f"the ping ages of workspace {workspace_id}")


def key(name: str, workspace_id: int, *parts: object, versions: Iterable[str] = ()) -> str:
    """A fragment's cache key: its name, its workspace's current version, the narrower
    ``versions`` it names (one cache round trip for all) and what else it varies on."""
    names = [_key(workspace_id), *versions]
    current = _current(names)
    return ":".join(
        ["fragment", name, str(workspace_id), *(str(current[k]) for k in names), *map(str, parts)]
    )


def keys(name: str, workspace_ids: Iterable[int], *parts: object) -> dict[int, str]:
    """Each workspace's key of the fragment ``name`` (one cache round trip for all versions)."""
    current = versions(workspace_ids)
    return {i: ":".join(["fragment", name, str(i), str(v), *map(str, parts)]) for i, v in current.items()}


def cached(
    name: str, workspace_id: int, parts: tuple, build: Callable[[], object], ttl: int | None = None
) -> object:
    """The fragment from the cache, or ``build()`` stored for next time."""
    return cached_at(key(name, workspace_id, *parts), build, ttl)


def cached_at(k: str, build: Callable[[], object], ttl: int | None = None) -> object:
    value = cache.get(k)
    if value is None:
        value = build()
        cache.set(k, value, TTL if ttl is None else ttl)
    return value


def user_key(name: str, user_id: int, *parts: object) -> str:
    """The key of a fragment drawn for one user across workspaces (the header's workspace
    switcher): it changes when one of the user's memberships, or a workspace's name, does."""
    current = _current([_user_key(user_id)])[_user_key(user_id)]
    return ":".join(["fragment", name, "user", str(user_id), str(current), *map(str, parts)])


def bump_user(user_id: int | None) -> None:
    """Drop the user's cached fragments and pages (``user_key``; never raises)."""
    if user_id is not None:
        _bump_key(_user_key(user_id), f"user {user_id}")


# ----------------------------------------------------------------------------- receivers


def _user_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    """The user's own row (their email and staff flag are in the header)."""
    if not raw:
        bump_user(instance.pk)


def _user_row_changed(sender, instance, raw: bool = False, **kwargs) -> None:
    """A row that names a user (a membership, an email address) saved or deleted."""
    if not raw:
        bump_user(instance.user_id)


def _workspace_changed(sender, instance, raw: bool = False, **kwargs) -> None:
    """A workspace renamed (or its time zone changed): every member's switcher shows it."""
    if raw:
        return
    for user_id in instance.memberships.values_list("user_id", flat=True):
        bump_user(user_id)


def _invitation_changed(sender, instance, raw: bool = False, **kwargs) -> None:
    """The invitee's workspaces page lists their open invitations."""
    if raw:
        return
    user_ids = set(
        apps.get_model(settings.AUTH_USER_MODEL)
        .objects.filter(email__iexact=instance.email)
        .values_list("pk", flat=True)
    )
    if apps.is_installed("allauth.account"):
        addresses = apps.get_model("account", "EmailAddress").objects.filter(email__iexact=instance.email)
        user_ids.update(addresses.values_list("user_id", flat=True))
    for user_id in user_ids:
        bump_user(user_id)


def _workspace_of(instance: models.Model, via: str) -> int | None:
    if via != "site":
        return getattr(instance, via)
    site = instance._state.fields_cache.get("site")  # loaded already: no query
    if site is not None:
        return site.workspace_id
    site_model = apps.get_model("launchready", "Site")
    return site_model.objects.filter(pk=instance.site_id).values_list("workspace_id", flat=True).first()


def _receiver(via: str) -> Callable[..., None]:
    def changed(sender, instance, raw: bool = False, **kwargs) -> None:
        if raw:
            return
        try:
            workspace_id = _workspace_of(instance, via)
        except Exception:  # its site went first in a cascade: the site's own delete bumps
            logger.debug("no workspace found for a %s", sender.__name__, exc_info=True)
            return
        bump(workspace_id)

    return changed


def tracked_models() -> Iterator[tuple[type[models.Model], str]]:
    """Every project model whose rows belong to a workspace, and how a row leads to it:
    ``pk`` (the workspace), ``workspace_id`` or ``site`` (its site's workspace)."""
    workspace_model = apps.get_model("launchready", "Workspace")
    site_model = apps.get_model("launchready", "Site")
    for label in PROJECT_APPS:
        if label not in {config.label for config in apps.get_app_configs()}:
            continue
        for model in apps.get_app_config(label).get_models():
            fields = {f.name: f for f in model._meta.fields if f.is_relation}
            if model is workspace_model:
                yield model, "pk"
            elif "workspace" in fields and fields["workspace"].related_model is workspace_model:
                yield model, "workspace_id"
            elif "site" in fields and fields["site"].related_model is site_model:
                yield model, "site"


_receivers: list = []  # strong references: the signals hold weak ones


def connect() -> None:
    """Connect the receivers (``LaunchReadyConfig.ready``)."""
    for model, via in tracked_models():
        receiver = _receiver(via)
        _receivers.append(receiver)
        label = model._meta.label
        post_save.connect(receiver, sender=model, dispatch_uid=f"fragments.saved.{label}")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"fragments.deleted.{label}")
    user = apps.get_model(settings.AUTH_USER_MODEL)
    post_save.connect(_user_saved, sender=user, dispatch_uid="fragments.user.saved")
    user_rows = [apps.get_model("launchready", "Membership")]
    if apps.is_installed("allauth.account"):
        user_rows.append(apps.get_model("account", "EmailAddress"))
    for model in user_rows:
        label = model._meta.label
        post_save.connect(_user_row_changed, sender=model, dispatch_uid=f"fragments.user.saved.{label}")
        post_delete.connect(_user_row_changed, sender=model, dispatch_uid=f"fragments.user.deleted.{label}")
    post_save.connect(
        _workspace_changed,
        sender=apps.get_model("launchready", "Workspace"),
        dispatch_uid="fragments.user.workspace.saved",
    )
    invitation = apps.get_model("launchready", "Invitation")
    post_save.connect(_invitation_changed, sender=invitation, dispatch_uid="fragments.user.invitation.saved")
    post_delete.connect(
        _invitation_changed, sender=invitation, dispatch_uid="fragments.user.invitation.deleted"
    )
