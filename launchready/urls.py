"""URLs. Workspace pages live under ``/w/<uuid:workspace>/``; see views_common for the
kwarg naming convention (``workspace``, ``site``, then lower-case model names) that
the URLconf walk test in tests/core relies on. Other apps add their pages with
``path("w/<uuid:workspace>/<area>/", include("<app>.urls"))`` below.
"""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from . import (
    devmail,
    views_invitations,
    views_members,
    views_portfolio,
    views_site_rows,
    views_sites,
    views_workspaces,
)


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


site_patterns = [
    path("", views_sites.site_detail, name="site_detail"),
    path("inputs/", views_sites.site_inputs, name="site_inputs"),
    path("edit/", views_sites.site_edit, name="site_edit"),
    path("email/", views_sites.site_email, name="site_email"),
    path("delete/", views_sites.site_delete, name="site_delete"),
    path("routes/", views_site_rows.route_add, name="route_add"),
    path("routes/confirm/", views_site_rows.route_confirm_all, name="route_confirm_all"),
    path("routes/<uuid:route>/", views_site_rows.route_update, name="route_update"),
    path("routes/<uuid:route>/delete/", views_site_rows.route_delete, name="route_delete"),
    path("subdomains/", views_site_rows.subdomain_add, name="subdomain_add"),
    path("subdomains/<uuid:subdomain>/delete/", views_site_rows.subdomain_delete, name="subdomain_delete"),
    path("campaign-urls/", views_site_rows.campaign_url_add, name="campaign_url_add"),
    path(
        "campaign-urls/<uuid:campaign_url>/delete/",
        views_site_rows.campaign_url_delete,
        name="campaign_url_delete",
    ),
]

workspace_patterns = [
    path("", views_workspaces.workspace_overview, name="workspace_overview"),
    path("settings/", views_workspaces.workspace_settings, name="workspace_settings"),
    path("handover/", views_workspaces.workspace_handover, name="workspace_handover"),
    path("settings/leave/", views_members.workspace_leave, name="workspace_leave"),
    path("settings/members/", views_members.member_list, name="member_list"),
    path("settings/members/invite/", views_members.member_invite, name="member_invite"),
    path("settings/members/<uuid:member>/role/", views_members.member_role, name="member_role"),
    path("settings/members/<uuid:member>/remove/", views_members.member_remove, name="member_remove"),
    path(
        "settings/invitations/<uuid:invitation>/revoke/",
        views_members.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "settings/invitations/<uuid:invitation>/resend/",
        views_members.invitation_resend,
        name="invitation_resend",
    ),
    path("sites/", views_sites.site_list, name="site_list"),
    path("sites/new/", views_sites.site_create, name="site_create"),
    path("sites/<uuid:site>/", include(site_patterns)),
]

urlpatterns = [
    path("", views_workspaces.home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("healthz", healthz, name="healthz"),
    path("dev/mail/", devmail.mailbox, name="dev_mailbox"),  # 404 unless in development
    path("workspaces/", views_workspaces.workspace_list, name="workspace_list"),
    path("workspaces/new/", views_workspaces.workspace_create, name="workspace_create"),
    path("portfolio/", views_portfolio.portfolio_page, name="portfolio"),
    path(
        "invitations/received/<uuid:invitation>/accept/",
        views_invitations.received_accept,
        name="invitation_received_accept",
    ),
    path(
        "invitations/received/<uuid:invitation>/decline/",
        views_invitations.received_decline,
        name="invitation_received_decline",
    ),
    path("invitations/<str:token>/", views_invitations.invitation_detail, name="invitation_detail"),
    path("invitations/<str:token>/accept/", views_invitations.invitation_accept, name="invitation_accept"),
    path("invitations/<str:token>/decline/", views_invitations.invitation_decline, name="invitation_decline"),
    path("w/<uuid:workspace>/monitoring/", include("monitoring.urls")),
    path("w/<uuid:workspace>/sites/<uuid:site>/email/", include("audits.email.urls")),
    path("w/<uuid:workspace>/sites/<uuid:site>/env/", include("handover.urls")),
    path("w/<uuid:workspace>/sites/<uuid:site>/audits/", include("audits.urls")),
    path("w/<uuid:workspace>/sites/<uuid:site>/deploys/", include("handover.urls_deploys")),
    path("", include("handover.urls_handover")),  # …/sites/<site>/handover/ and /handover/<token>/
    path("w/<uuid:workspace>/", include(workspace_patterns)),
    path("", include("launchready.api.urls")),  # /api/v1/: the public JSON API
    path("w/<uuid:workspace>/reports/", include("reports.urls")),
    path("", include("reports.urls_public")),  # unsubscribe links (no login) and email preferences
    path("", include("monitoring.public_urls")),
    path("", include("audits.public_urls")),
]
