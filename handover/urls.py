"""Env-var inventory pages of a site, mounted at ``/w/<uuid:workspace>/sites/<uuid:site>/env/``."""

from django.urls import path

from . import views_env

urlpatterns = [
    path("", views_env.env_overview, name="env_overview"),
    path("variables/", views_env.env_variable_add, name="env_variable_add"),
    path("variables/<uuid:envvar>/", views_env.env_variable_edit, name="env_variable_edit"),
    path("variables/<uuid:envvar>/delete/", views_env.env_variable_delete, name="env_variable_delete"),
    path("copy/", views_env.env_copy_missing, name="env_copy_missing"),
    path("import/", views_env.env_import, name="env_import"),
    path("export/", views_env.env_export, name="env_export"),
]
