"""Django admin for the core models (staff only)."""

from django.contrib import admin

from .models import (
    CampaignURL,
    CriticalRoute,
    Invitation,
    Membership,
    Site,
    Subdomain,
    WorkerHeartbeat,
    Workspace,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role", "created_at", "last_used_at"]
    readonly_fields = ["created_at", "last_used_at"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "uuid", "timezone", "created_at"]
    list_filter = ["timezone", "created_at"]
    search_fields = ["name", "uuid", "memberships__user__email"]
    readonly_fields = ["uuid", "created_at"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at", "last_used_at"]
    list_filter = ["role", "created_at"]
    search_fields = ["user__email", "workspace__name", "uuid"]
    list_select_related = ["user", "workspace"]
    raw_id_fields = ["user", "workspace"]
    readonly_fields = ["uuid", "created_at", "last_used_at"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "workspace", "role", "status", "invited_by", "created_at", "expires_at"]
    list_filter = ["status", "role", "created_at", "expires_at"]
    search_fields = ["email", "workspace__name", "uuid"]
    list_select_related = ["workspace", "invited_by"]
    raw_id_fields = ["workspace", "invited_by"]
    # Only the token's hash is stored; it is not shown either (it is useless to staff).
    exclude = ["token_hash"]
    readonly_fields = ["uuid", "created_at", "responded_at"]


class SubdomainInline(admin.TabularInline):
    model = Subdomain
    extra = 0
    exclude = ["uuid"]


class CriticalRouteInline(admin.TabularInline):
    model = CriticalRoute
    extra = 0
    exclude = ["uuid"]


class CampaignURLInline(admin.TabularInline):
    model = CampaignURL
    extra = 0
    exclude = ["uuid"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["domain", "name", "workspace", "canonical", "sending_service", "created_at"]
    list_filter = ["canonical", "sending_service", "created_at"]
    search_fields = ["domain", "name", "workspace__name", "uuid"]
    list_select_related = ["workspace"]
    raw_id_fields = ["workspace"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    inlines = [CriticalRouteInline, SubdomainInline, CampaignURLInline]


@admin.register(Subdomain)
class SubdomainAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "purpose", "owner"]
    list_filter = ["site__workspace"]
    search_fields = ["name", "site__domain", "purpose", "owner"]
    list_select_related = ["site"]
    raw_id_fields = ["site"]


@admin.register(CriticalRoute)
class CriticalRouteAdmin(admin.ModelAdmin):
    list_display = ["name", "path", "site", "kind", "budget_ms"]
    list_filter = ["kind", "name"]
    search_fields = ["name", "path", "site__domain"]
    list_select_related = ["site"]
    raw_id_fields = ["site"]


@admin.register(CampaignURL)
class CampaignURLAdmin(admin.ModelAdmin):
    list_display = ["url", "site", "note"]
    search_fields = ["url", "note", "site__domain"]
    list_filter = ["site__workspace"]
    list_select_related = ["site"]
    raw_id_fields = ["site"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_seen_at", "hostname"]
    search_fields = ["name", "hostname"]
    list_filter = ["name"]
    readonly_fields = ["name", "last_seen_at", "hostname"]
