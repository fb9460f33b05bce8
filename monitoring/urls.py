"""Workspace monitoring pages, mounted at ``/w/<uuid:workspace>/monitoring/``."""

from django.urls import path

from . import views, views_alerts

app_name = "monitoring"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("sites/<uuid:site>/", views.site_overview, name="site_overview"),
    path("sites/<uuid:site>/status-page/", views.status_page_toggle, name="status_page_toggle"),
    path("monitors/new/", views.monitor_create, name="monitor_create"),
    path("monitors/<uuid:monitor>/", views.monitor_detail, name="monitor_detail"),
    path("monitors/<uuid:monitor>/edit/", views.monitor_edit, name="monitor_edit"),
    path("monitors/<uuid:monitor>/pause/", views.monitor_pause, name="monitor_pause"),
    path("monitors/<uuid:monitor>/delete/", views.monitor_delete, name="monitor_delete"),
    path("incidents/<uuid:incident>/", views.incident_detail, name="incident"),
    path("incidents/<uuid:incident>/ack/", views.incident_ack, name="incident_ack"),
    path("channels/", views_alerts.channels, name="channels"),
    path("channels/<uuid:channel>/test/", views_alerts.channel_test, name="channel_test"),
    path("channels/<uuid:channel>/enable/", views_alerts.channel_enable, name="channel_enable"),
    path("channels/<uuid:channel>/delete/", views_alerts.channel_delete, name="channel_delete"),
    path("contacts/", views_alerts.contact_add, name="contact_add"),
    path("contacts/<uuid:contact>/delete/", views_alerts.contact_delete, name="contact_delete"),
    path("maintenance/", views_alerts.maintenance, name="maintenance"),
    path("maintenance/<uuid:window>/delete/", views_alerts.window_delete, name="window_delete"),
    path("tokens/", views_alerts.token_create, name="token_create"),
    path("tokens/<uuid:token>/delete/", views_alerts.token_delete, name="token_delete"),
]
