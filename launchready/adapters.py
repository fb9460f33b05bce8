"""django-allauth hooks (ACCOUNT_ADAPTER). Workspace creation on sign-up is in signals.py."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_email_verified(self, request: HttpRequest, email: str) -> bool:
        """An address counts as verified when it received a still-open invitation.

        The invitation link proves the person reads that mailbox, so someone who signs
        up from it with the same address skips the verification email.
        """
        from . import selectors
        from .signals import INVITATION_SESSION_KEY

        token = request.session.get(INVITATION_SESSION_KEY) if request is not None else None
        if not token:
            return False
        try:
            invitation = selectors.invitation_by_token(token)
        except Exception:  # noqa: BLE001 - an unknown token simply proves nothing
            return False
        return invitation.is_open and invitation.email.lower() == (email or "").strip().lower()
