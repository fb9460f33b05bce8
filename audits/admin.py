"""Django admin for audit runs, findings, accepted risks, audit settings and share links.

Read-mostly: runs and findings are written by the audit task, so their fields are
read-only here. Share link token hashes are never shown.
"""

from django.contrib import admin

from .email_models import DmarcReport, DmarcReportRecord, InboundAddress, SiteEmailState, TestMessage
from .models import AcceptedRisk, AuditRun, Finding, ShareLink, SiteAuditSettings


class FindingInline(admin.TabularInline):
    model = Finding
    extra = 0
    can_delete = False
    fields = ["check_id", "severity", "status", "subject", "title", "change"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditRun)
class AuditRunAdmin(admin.ModelAdmin):
    list_display = [
        "site",
        "status",
        "verdict",
        "trigger",
        "created_at",
        "duration_ms",
        "new_count",
        "resolved_count",
    ]
    list_filter = ["status", "verdict", "trigger"]
    search_fields = ["site__domain", "uuid"]
    list_select_related = ["site"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "uuid", "site", "status", "trigger", "requested_by", "created_at", "started_at", "finished_at",
        "duration_ms", "verdict", "severity_counts", "stage_counts", "progress", "new_count",
        "resolved_count", "facts", "error",
    ]  # fmt: skip
    inlines = [FindingInline]


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    """A finding records what one audit observed: staff may look, never add, edit or delete
    (no Save button; a finding goes away with its run, or is fixed on the store)."""

    list_display = ["check_id", "severity", "status", "subject", "change", "run"]
    list_filter = ["severity", "status", "stage", "change"]
    search_fields = ["check_id", "subject", "title", "run__site__domain"]
    list_select_related = ["run__site"]
    readonly_fields = [
        "uuid", "run", "check_id", "severity", "stage", "subject", "status", "title", "impact",
        "evidence", "fix", "change",
    ]  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AcceptedRisk)
class AcceptedRiskAdmin(admin.ModelAdmin):
    list_display = ["check_id", "subject", "site", "expires_at", "accepted_by"]
    list_filter = ["expires_at"]
    search_fields = ["check_id", "subject", "site__domain", "reason"]
    list_select_related = ["site", "accepted_by"]
    raw_id_fields = ["site", "accepted_by"]


@admin.register(SiteAuditSettings)
class SiteAuditSettingsAdmin(admin.ModelAdmin):
    list_display = ["site", "daily_enabled", "next_daily_at", "verified_at", "verified_method"]
    list_filter = ["daily_enabled", "verified_method"]
    search_fields = ["site__domain"]
    list_select_related = ["site"]
    raw_id_fields = ["site"]
    # Verification is proven by the check (DNS record or file) for one domain, never typed in.
    readonly_fields = [
        "verified_at",
        "verified_method",
        "verified_domain",
        "verification_checked_at",
        "verification_error",
    ]


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ["site", "created_by", "created_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["site__domain", "uuid"]
    list_select_related = ["site", "created_by"]
    fields = ["uuid", "site", "created_by", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["uuid", "site", "created_by", "created_at"]


# --- email deliverability ---------------------------------------------------------------


@admin.register(InboundAddress)
class InboundAddressAdmin(admin.ModelAdmin):
    list_display = ["kind", "workspace", "site", "created_at"]
    list_filter = ["kind"]
    search_fields = ["workspace__name", "site__domain"]
    list_select_related = ["workspace", "site"]
    exclude = ["token"]  # the address itself is a credential: it lets anyone post results


@admin.register(SiteEmailState)
class SiteEmailStateAdmin(admin.ModelAdmin):
    list_display = ["site", "dmarc_policy", "dmarc_none_since", "updated_at"]
    list_filter = ["dmarc_policy"]
    search_fields = ["site__domain"]
    list_select_related = ["site"]


@admin.register(TestMessage)
class TestMessageAdmin(admin.ModelAdmin):
    list_display = ["site", "received_at", "header_from", "spf_result", "subject"]
    list_filter = ["spf_result", "received_at"]
    search_fields = ["site__domain", "header_from", "subject"]
    list_select_related = ["site"]


@admin.register(DmarcReport)
class DmarcReportAdmin(admin.ModelAdmin):
    list_display = ["policy_domain", "org_name", "date_begin", "date_end", "message_count", "source"]
    list_filter = ["source", "policy_p"]
    search_fields = ["policy_domain", "org_name", "report_id"]


@admin.register(DmarcReportRecord)
class DmarcReportRecordAdmin(admin.ModelAdmin):
    list_display = ["report", "source_ip", "count", "service", "dkim_aligned", "spf_aligned"]
    list_filter = ["dkim_aligned", "spf_aligned", "service"]
    search_fields = ["source_ip", "service", "report__policy_domain"]
    list_select_related = ["report"]
