"""Audit pages of a site, mounted at /w/<uuid:workspace>/sites/<uuid:site>/audits/."""

from django.urls import path

from . import views

urlpatterns = [
    path("run/", views.audit_start, name="audit_start"),
    path("runs/<uuid:run>/", views.run_detail, name="audit_run_detail"),
    path("runs/<uuid:run>/progress/", views.run_progress, name="audit_run_progress"),
    path("runs/<uuid:run>/export.md", views.run_export, name="audit_run_export"),
    path("findings/<uuid:finding>/accept/", views.finding_accept, name="audit_finding_accept"),
    path("accepted/<uuid:accepted_risk>/revoke/", views.acceptance_revoke, name="audit_acceptance_revoke"),
    path("share/", views.share_links, name="audit_share_links"),
    path("share/<uuid:share>/revoke/", views.share_revoke, name="audit_share_revoke"),
    path("daily/", views.daily_toggle, name="audit_daily_toggle"),
    path("ownership/check/", views.ownership_check, name="audit_ownership_check"),
]
