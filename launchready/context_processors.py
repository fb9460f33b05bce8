def workspaces(request):
    """The signed-in user's workspaces, for the header switcher."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    from .selectors import memberships_for

    return {"my_memberships": memberships_for(user)}
