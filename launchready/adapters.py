"""django-allauth hooks (ACCOUNT_ADAPTER). Workspace creation on sign-up is in signals.py."""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .clientip import client_ip

PRODUCT_NAME = "Launch Ready"


def product_site() -> SimpleNamespace:
    """What account emails call "the site": the product's name and public host.

    Without the sites framework allauth names the request's host, so development
    emails said "Hello from 127.0.0.1:8000!".
    """
    return SimpleNamespace(name=PRODUCT_NAME, domain=urlsplit(settings.SITE_URL).netloc)


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        super().send_mail(template_prefix, email, {"current_site": product_site(), **context})

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address allauth's rate limits key on: ours, so every limit agrees on who is asking.

        allauth reads the same two settings, but answers a short ``X-Forwarded-For``
        (a request that bypassed the outer proxy) with a server error; ours falls back
        to the connecting address.
        """
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine the client address.")
        return ip

    def is_email_verified(self, request: HttpRequest, email: str) -> bool:
        """An address counts as verified when it received a still-open invitation.

        The invitation link proves the person reads that mailbox, so someone who signs
        up from it with the same address skips the verification email.
        """
        from . import selectors
        from .signals import INVITATION_SESSION_KEY

        invitation_uuid = request.session.get(INVITATION_SESSION_KEY) if request is not None else None
        if not invitation_uuid:
            return False
        try:
            invitation = selectors.invitation_by_uuid(invitation_uuid)
        except Exception:  # an unknown invitation simply proves nothing
            return False
        return invitation.is_open and invitation.email.lower() == (email or "").strip().lower()
