"""Rendered page fragments in Django's cache (Redis in production: ``CACHE_URL``),
dropped by the events that change what they show.

Each workspace has a version in the cache. A fragment's key carries the version of the
workspace it shows, so ``bump()`` makes every cached fragment of that workspace a miss
at once, in every web process. The receivers below bump it whenever a row a workspace
page shows is saved or deleted: a site, an audit run (queued, running, finished), an
accepted risk, a monitor, an incident (opening, closing, acknowledged), a deploy, a
membership. The header's workspace switcher is kept per user under a version of its own
(``user_key``), bumped when one of the user's memberships is saved or deleted and when a
workspace they belong to is saved (renamed). The hourly rollup has its own version (``monitoring.rollups.bars_version``).
What changes without any of these events (the check loop's state updates in bulk), and a
page drawn by another request between a save and its transaction's commit (it is kept
under the new version), show within ``TTL``. (Bumping again on commit would close that
window, at the price of one more on-commit callback on every save.)

A missing or evicted version starts again from the clock, never from a number an older
fragment may carry.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable

from django.apps import apps
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger(__name__)

TTL = 60  # seconds: the longest a change without an event takes to show

# The models whose rows workspace pages show, and how a row leads to its workspace.
WORKSPACE_OF: dict[str, str] = {
    "launchready.Workspace": "pk",
    "launchready.Membership": "workspace_id",
    "launchready.Site": "workspace_id",
    "audits.AuditRun": "site",
    "audits.AcceptedRisk": "site",
    "monitoring.Monitor": "workspace_id",
    "monitoring.Incident": "workspace_id",
    "handover.Deploy": "site",
}


def _key(workspace_id: int) -> str:
    return f"fragments:workspace:{workspace_id}"


def versions(workspace_ids: Iterable[int]) -> dict[int, int]:
    """The current version of each workspace (one cache round trip)."""
    ids = list(workspace_ids)
    found = cache.get_many([_key(i) for i in ids])
    result = {}
    missing = {}
    for i in ids:
        value = found.get(_key(i))
        if value is None:
            value = missing[_key(i)] = time.time_ns()
        result[i] = value
    if missing:
        cache.set_many(missing, timeout=None)
    return result


def version(workspace_id: int) -> int:
    return versions([workspace_id])[workspace_id]


def bump_now(workspace_id: int) -> None:
    try:
        cache.incr(_key(workspace_id))
    except ValueError:  # not there (never read, or evicted)
        cache.set(_key(workspace_id), time.time_ns(), timeout=None)


def bump(workspace_id: int | None) -> None:
    """Drop the workspace's cached fragments."""
    if workspace_id is not None:
        bump_now(workspace_id)


def key(name: str, workspace_id: int, *parts: object) -> str:
    """A fragment's cache key: its name, its workspace's current version and what else it varies on."""
    return ":".join(["fragment", name, str(workspace_id), str(version(workspace_id)), *map(str, parts)])


def key_for_many(name: str, workspace_ids: Iterable[int], *parts: object) -> str:
    """The key of a fragment that shows several workspaces (the portfolio): it changes with any of them."""
    current = versions(sorted(workspace_ids))
    digest = hashlib.sha256(repr(sorted(current.items())).encode()).hexdigest()[:24]
    return ":".join(["fragment", name, "many", digest, *map(str, parts)])


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


def _user_key(user_id: int) -> str:
    return f"fragments:user:{user_id}"


def user_key(name: str, user_id: int, *parts: object) -> str:
    """The key of a fragment drawn for one user across workspaces (the header's workspace
    switcher): it changes when one of the user's memberships, or a workspace's name, does."""
    k = _user_key(user_id)
    current = cache.get(k)
    if current is None:
        current = time.time_ns()
        cache.set(k, current, timeout=None)
    return ":".join(["fragment", name, "user", str(user_id), str(current), *map(str, parts)])


def bump_user(user_id: int | None) -> None:
    """Drop the user's cached fragments (``user_key``)."""
    if user_id is None:
        return
    try:
        cache.incr(_user_key(user_id))
    except ValueError:  # not there (never read, or evicted)
        cache.set(_user_key(user_id), time.time_ns(), timeout=None)


def _membership_changed(sender, instance, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    try:
        bump_user(instance.user_id)
    except Exception:  # a cache outage must not fail the write; fragments expire after TTL
        logger.exception("could not drop the cached fragments of a membership's user")


def _workspace_changed(sender, instance, raw: bool = False, **kwargs) -> None:
    """A workspace renamed (or its time zone changed): every member's switcher shows it."""
    if raw:
        return
    try:
        for user_id in instance.memberships.values_list("user_id", flat=True):
            bump_user(user_id)
    except Exception:
        logger.exception("could not drop the cached fragments of a workspace's members")


def _workspace_id(instance, via: str) -> int | None:
    if via != "site":
        return getattr(instance, via)
    site_model = apps.get_model("launchready", "Site")
    return site_model.objects.filter(pk=instance.site_id).values_list("workspace_id", flat=True).first()


def _receiver(via: str):
    def changed(sender, instance, raw: bool = False, **kwargs) -> None:
        if raw:
            return
        try:
            bump(_workspace_id(instance, via))
        except Exception:  # a cache outage must not fail the write; fragments expire after TTL
            logger.exception("could not drop the cached fragments of %s", sender.__name__)

    return changed


_receivers: list = []  # strong references: the signals hold weak ones


def connect() -> None:
    """Connect the receivers (``LaunchReadyConfig.ready``); models of apps not installed are skipped."""
    for label, via in WORKSPACE_OF.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        receiver = _receiver(via)
        _receivers.append(receiver)
        post_save.connect(receiver, sender=model, dispatch_uid=f"fragments.saved.{label}")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"fragments.deleted.{label}")
    membership = apps.get_model("launchready", "Membership")
    post_save.connect(_membership_changed, sender=membership, dispatch_uid="fragments.user.membership.saved")
    post_delete.connect(
        _membership_changed, sender=membership, dispatch_uid="fragments.user.membership.deleted"
    )
    post_save.connect(
        _workspace_changed,
        sender=apps.get_model("launchready", "Workspace"),
        dispatch_uid="fragments.user.workspace.saved",
    )
