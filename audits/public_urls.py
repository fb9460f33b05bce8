"""Public audit pages (no login): the read-only report a share link opens."""

from django.urls import path

from . import views

urlpatterns = [
    path("share/<str:token>/", views.shared_report, name="audit_shared_report"),
]
