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

        invitation_uuid = request.session.get(INVITATION_SESSION_KEY) if request is not None else None
        if not invitation_uuid:
            return False
        try:
            invitation = selectors.invitation_by_uuid(invitation_uuid)
        except Exception:  # noqa: BLE001 - an unknown invitation simply proves nothing
            return False
        return invitation.is_open and invitation.email.lower() == (email or "").strip().lower()
