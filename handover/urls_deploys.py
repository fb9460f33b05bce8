"""Deploy pages of a site, mounted at ``/w/<uuid:workspace>/sites/<uuid:site>/deploys/``."""

from django.urls import path

from . import views_deploys

urlpatterns = [
    path("", views_deploys.deploy_list, name="deploy_list"),
    path("smoke-test/", views_deploys.smoke_settings, name="deploy_smoke_settings"),
    path("rollback/", views_deploys.rollback_checklist, name="deploy_rollback"),
    path("rollback/steps/", views_deploys.rollback_steps, name="deploy_rollback_steps"),
    path("<uuid:deploy>/", views_deploys.deploy_detail, name="deploy_detail"),
]
