"""Admin: read-mostly views for support; credentials are never shown."""

from django.contrib import admin

from .models import (
    AlertChannel,
    ApiToken,
    CheckResult,
    ClosedDay,
    DailyRollup,
    EscalationContact,
    HeartbeatPing,
    HourlyRollup,
    Incident,
    MaintenanceWindow,
    Monitor,
    Notification,
    StatusPage,
    UptimeBar,
)


@admin.register(Monitor)
class MonitorAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace", "kind", "state", "interval_s", "next_check_at", "last_checked_at")
    list_filter = ("kind", "state")
    search_fields = ("name", "url", "hostname", "uuid")
    raw_id_fields = ("workspace", "site")


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("monitor", "severity", "started_at", "ended_at", "flapping", "acknowledged_at")
    list_filter = ("severity", "flapping")
    raw_id_fields = ("monitor", "workspace", "acknowledged_by")


@admin.register(AlertChannel)
class AlertChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace", "kind", "label", "verified", "disabled_at", "last_error")
    exclude = ("secret",)
    raw_id_fields = ("workspace",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "event",
        "incident",
        "channel",
        "contact",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("status", "event")
    raw_id_fields = ("incident", "channel", "contact", "workspace")


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ("workspace", "site", "starts_at", "ends_at", "reason", "created_by")
    list_filter = ("starts_at", "ends_at")
    search_fields = ("workspace__name", "site__domain", "reason", "created_by", "uuid")
    list_select_related = ("workspace", "site")
    raw_id_fields = ("workspace", "site")
    date_hierarchy = "starts_at"


@admin.register(EscalationContact)
class EscalationContactAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace", "position", "email", "has_phone")
    list_filter = ("workspace",)
    search_fields = ("name", "email", "workspace__name")
    list_select_related = ("workspace",)
    raw_id_fields = ("workspace",)
    ordering = ("workspace", "position", "id")

    @admin.display(boolean=True, description="Phone")
    def has_phone(self, contact: EscalationContact) -> bool:
        return bool(contact.phone)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace", "prefix", "created_at", "last_used_at")
    exclude = ("token_hash",)


@admin.register(CheckResult)
class CheckResultAdmin(admin.ModelAdmin):
    list_display = ("monitor", "checked_at", "ok", "status_code", "latency_ms", "message")
    list_filter = ("ok", "checked_at")
    search_fields = ("monitor__name", "message")
    list_select_related = ("monitor",)
    raw_id_fields = ("monitor",)


@admin.register(HourlyRollup)
class HourlyRollupAdmin(admin.ModelAdmin):
    list_display = ("monitor", "hour", "checks", "failures", "p50_ms", "p95_ms")
    list_filter = ("hour",)
    search_fields = ("monitor__name",)
    list_select_related = ("monitor",)
    raw_id_fields = ("monitor",)


@admin.register(DailyRollup)
class DailyRollupAdmin(admin.ModelAdmin):
    list_display = ("monitor", "day", "checks", "failures", "p50_ms", "p95_ms")
    list_filter = ("day",)
    search_fields = ("monitor__name",)
    list_select_related = ("monitor",)
    raw_id_fields = ("monitor",)


@admin.register(ClosedDay)
class ClosedDayAdmin(admin.ModelAdmin):
    """The hourly job's record of the days it recomputed exactly from raw results (once
    each): staff may look, never add, edit or delete one."""

    list_display = ("day", "closed_at")
    date_hierarchy = "day"
    readonly_fields = ("day", "closed_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UptimeBar)
class UptimeBarAdmin(admin.ModelAdmin):
    list_display = ("monitor", "through", "checks", "failures")
    list_filter = ("through",)
    search_fields = ("monitor__name",)
    list_select_related = ("monitor",)
    raw_id_fields = ("monitor",)
    readonly_fields = ("svg",)


@admin.register(HeartbeatPing)
class HeartbeatPingAdmin(admin.ModelAdmin):
    list_display = ("monitor", "kind", "received_at", "remote_addr")
    list_filter = ("kind", "received_at")
    search_fields = ("monitor__name",)
    list_select_related = ("monitor",)
    raw_id_fields = ("monitor",)


@admin.register(StatusPage)
class StatusPageAdmin(admin.ModelAdmin):
    list_display = ("site", "enabled", "created_at")
    list_filter = ("enabled",)
    search_fields = ("site__domain",)
    list_select_related = ("site",)
