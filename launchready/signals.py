"""Account hooks: a new user joins the workspace that invited them, or gets their own."""

from __future__ import annotations

import logging

from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from . import selectors, tenancy
from .views_common import SESSION_WORKSPACE_KEY

logger = logging.getLogger(__name__)

# The uuid of the invitation whose link was opened while logged out (views_invitations).
INVITATION_SESSION_KEY = "launchready_invitation"


@receiver(user_signed_up, dispatch_uid="launchready.workspace_on_signup")
def workspace_on_signup(sender, request, user, **kwargs) -> None:
    """Accept the invitation the user came from if it is for their address; else a personal workspace.

    An invited sign-up does not also get a personal workspace: they came to work in
    the inviting one, and can create their own from the Workspaces page.
    """
    invitation_uuid = request.session.pop(INVITATION_SESSION_KEY, None) if request is not None else None
    if invitation_uuid:
        try:
            invitation = selectors.invitation_by_uuid(invitation_uuid)
            m = tenancy.accept_invitation(invitation, user)
        except Exception as exc:  # any failure falls back to a personal workspace
            logger.info("sign-up invitation not used: %s", exc)
        else:
            request.session[SESSION_WORKSPACE_KEY] = str(m.workspace.uuid)
            return
    m = tenancy.create_personal_workspace(user)
    if request is not None:
        request.session[SESSION_WORKSPACE_KEY] = str(m.workspace.uuid)
