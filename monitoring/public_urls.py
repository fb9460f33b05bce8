"""Public monitoring endpoints (no session): heartbeat pings, acknowledge links, status pages.

The maintenance-window API moved to the public API (launchready/api/), which keeps
its URL and its name ``monitoring_api_maintenance``.
"""

from django.urls import path

from . import views_public

urlpatterns = [
    path("ping/<uuid:uuid>", views_public.ping, name="monitoring_ping"),
    path("ping/<uuid:uuid>/start", views_public.ping_start, name="monitoring_ping_start"),
    path("ping/<uuid:uuid>/fail", views_public.ping_fail, name="monitoring_ping_fail"),
    path("ack/<str:token>/", views_public.acknowledge, name="monitoring_ack"),
    path("status/<uuid:uuid>/", views_public.status_page, name="monitoring_status_page"),
]
