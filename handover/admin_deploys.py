"""Admin pages for deploys, their smoke results and rollbacks (imported by handover/admin.py)."""

from django.contrib import admin
from django.db import models

from .models.deploys import Deploy, Rollback, RollbackPlan, SmokeResult, SmokeRouteSetting


class SmokeResultInline(admin.TabularInline):
    model = SmokeResult
    extra = 0
    can_delete = False
    fields = ("route_name", "passed", "status_code", "elapsed_ms", "budget_ms", "keyword", "reason", "url")
    readonly_fields = fields


@admin.register(Deploy)
class DeployAdmin(admin.ModelAdmin):
    list_display = (
        "version",
        "site",
        "environment",
        "kind",
        "state",
        "deployed_by",
        "created_at",
        "smoke_finished_at",
    )
    list_filter = ("state", "kind", "environment", "created_at")
    search_fields = ("version", "site__domain", "deployed_by", "uuid")
    list_select_related = ("site",)
    raw_id_fields = ("site", "rollback_of", "maintenance_window")
    readonly_fields = ("uuid", "smoke_started_at", "smoke_finished_at")
    date_hierarchy = "created_at"
    inlines = [SmokeResultInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(SmokeResult)
class SmokeResultAdmin(admin.ModelAdmin):
    list_display = (
        "route_name",
        "deploy",
        "passed",
        "status_code",
        "elapsed_ms",
        "budget_ms",
        "reason",
        "checked_at",
    )
    list_filter = ("passed", "route_name", "checked_at")
    search_fields = ("route_name", "reason", "url", "deploy__version", "deploy__site__domain")
    list_select_related = ("deploy",)
    raw_id_fields = ("deploy",)


@admin.register(Rollback)
class RollbackAdmin(admin.ModelAdmin):
    list_display = (
        "site",
        "kind",
        "environment",
        "from_version",
        "to_version",
        "minutes",
        "performed_by",
        "performed_at",
    )
    list_filter = ("kind", "environment", "performed_at")
    search_fields = ("site__domain", "from_version", "to_version", "performed_by", "what_went_wrong")
    list_select_related = ("site",)
    raw_id_fields = ("site", "deploy", "recorded_by")


@admin.register(SmokeRouteSetting)
class SmokeRouteSettingAdmin(admin.ModelAdmin):
    list_display = ("site", "route_name", "included", "smoke_keyword")
    list_filter = ("included",)
    search_fields = ("site__domain", "route_name", "smoke_keyword")
    list_select_related = ("site",)
    raw_id_fields = ("site",)


@admin.register(RollbackPlan)
class RollbackPlanAdmin(admin.ModelAdmin):
    list_display = ("site", "updated_at")
    search_fields = ("site__domain", "steps")
    raw_id_fields = ("site",)
