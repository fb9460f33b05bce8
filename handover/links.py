"""Share links to the handover document, made with the audit's mechanism (``audits.sharing``).

A handover link *is* an ``audits.ShareLink`` (random token shown once, only its sha256
stored, 1–30 days, revocable) marked by a ``HandoverShare`` row, so hashing, expiry and
revocation live in one place. An audit report link without that mark never opens the
handover document.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from audits import sharing
from audits.models import ShareLink
from launchready.models import Site

from .models.ownership import HandoverShare


def create_link(site: Site, *, user, days: int) -> tuple[ShareLink, str]:
    """A new handover link valid for ``days``; returns it with its token (shown once, never stored)."""
    with transaction.atomic():
        link, token = sharing.create_link(site, user=user, days=days)
        HandoverShare.objects.create(link=link)
    return link, token


def links_of(site: Site) -> QuerySet[ShareLink]:
    return ShareLink.objects.filter(site=site, handover__isnull=False).select_related("created_by")


def link_in(site: Site, link_uuid) -> ShareLink:
    """One handover link of ``site``, or 404 (an audit report link is not one)."""
    link = links_of(site).filter(uuid=link_uuid).first()
    if link is None:
        raise Http404
    return link


def link_for_token(token: str) -> ShareLink | None:
    """The handover link a token opens, active or not; None for unknown tokens and audit links."""
    link = sharing.link_for_token(token)
    if link is None or not HandoverShare.objects.filter(link=link).exists():
        return None
    return link


revoke = sharing.revoke
