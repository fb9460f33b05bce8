"""Read-only share links: a random token in the URL, only its sha256 in the database.

The token is shown once when the link is created; a leaked database therefore holds no
usable links. A link expires (1–30 days) and can be revoked.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from django.utils import timezone

from audits.models import ShareLink
from launchready.models import Site

logger = logging.getLogger(__name__)

TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_link(site: Site, *, user, days: int) -> tuple[ShareLink, str]:
    """A new link valid for ``days``; returns it with the token (shown once, never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink.objects.create(
        site=site,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        expires_at=timezone.now() + timedelta(days=days),
        token_hash=hash_token(token),
    )
    logger.info("share link created site=%s link=%s days=%d", site.uuid, link.uuid, days)
    return link, token


def link_for_token(token: str) -> ShareLink | None:
    """The link a token opens, active or not; None when no link has this token."""
    if not token or len(token) > 200:
        return None
    return ShareLink.objects.select_related("site__workspace").filter(token_hash=hash_token(token)).first()


def revoke(link: ShareLink) -> None:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        logger.info("share link revoked link=%s", link.uuid)
