"""The handover document, its checklist, the ownership inventory and share links.

Mounted once at the root (``path("", include("handover.urls_handover"))``): the site's
pages live under /w/<uuid:workspace>/sites/<uuid:site>/handover/ and the public pages a
share link opens under /handover/<token>/.
"""

from django.urls import include, path

from . import views_handover as v

site_patterns = [
    path("", v.handover_document, name="handover_document"),
    path("handover.md", v.handover_markdown, name="handover_markdown"),
    path("handover.pdf", v.handover_pdf, name="handover_pdf"),
    path("edit/", v.handover_edit, name="handover_edit"),
    path("checklist/", v.checklist_tick, name="handover_checklist_tick"),
    path("checklist/add/", v.checklist_add, name="handover_checklist_add"),
    path("checklist/<uuid:checklist_item>/delete/", v.checklist_delete, name="handover_checklist_delete"),
    path("owners/", v.ownership_panel, name="handover_owners_panel"),
    path("services/new/", v.service_add, name="handover_service_add"),
    path("services/<uuid:service>/", v.service_edit, name="handover_service_edit"),
    path("services/<uuid:service>/delete/", v.service_delete, name="handover_service_delete"),
    path("links/", v.handover_links, name="handover_links"),
    path("links/<uuid:handover_link>/revoke/", v.handover_link_revoke, name="handover_link_revoke"),
]

urlpatterns = [
    path("w/<uuid:workspace>/sites/<uuid:site>/handover/", include(site_patterns)),
    path("handover/<str:token>/", v.shared_document, name="handover_shared"),
    path("handover/<str:token>/handover.md", v.shared_markdown, name="handover_shared_markdown"),
    path("handover/<str:token>/handover.pdf", v.shared_pdf, name="handover_shared_pdf"),
]
