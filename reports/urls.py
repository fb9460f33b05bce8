"""Weekly report pages of a workspace, mounted at ``/w/<uuid:workspace>/reports/``."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.current, name="current"),
    path("settings/", views.schedule_settings, name="settings"),
    path("preview/", views.preview, name="preview"),
    path("subscription/", views.subscription, name="subscription"),
    path("<uuid:report>/", views.detail, name="detail"),
]
