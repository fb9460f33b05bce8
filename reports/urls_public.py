"""Pages outside a workspace: unsubscribe links from emails (no login) and email preferences."""

from django.urls import path

from . import views_public

urlpatterns = [
    path("reports/unsubscribe/<str:token>/", views_public.unsubscribe, name="reports_unsubscribe"),
    path("reports/preferences/", views_public.preferences, name="reports_preferences"),
]
