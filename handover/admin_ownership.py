"""Admin for the ownership inventory, the handover documents' notes and checklists (staff only).

The forms refuse secret-looking text like the site's own forms (``handover.forms_handover``).
"""

from django import forms
from django.contrib import admin

from .forms_handover import HandoverDocumentForm, ServiceForm, clean_text
from .models.ownership import ChecklistItem, HandoverDocument, HandoverShare, Service


class ServiceAdminForm(ServiceForm):
    class Meta(ServiceForm.Meta):
        fields = ["site", *ServiceForm.Meta.fields]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceAdminForm
    list_display = [
        "kind",
        "provider",
        "site",
        "owner",
        "access",
        "credentials_location",
        "renews_on",
        "updated_at",
    ]
    list_filter = ["kind", "renews_on", "updated_at"]
    search_fields = [
        "provider",
        "name",
        "owner",
        "access",
        "credentials_location",
        "site__domain",
        "site__workspace__name",
    ]
    list_select_related = ["site"]
    raw_id_fields = ["site"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    date_hierarchy = "renews_on"


class HandoverDocumentAdminForm(HandoverDocumentForm):
    class Meta(HandoverDocumentForm.Meta):
        fields = ["site", *HandoverDocumentForm.Meta.fields]


class ChecklistItemAdminForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ["site", "standard", "label", "done_at", "done_by"]

    def clean(self):
        cleaned = super().clean()
        clean_text(self, ("label",), one_line=True)
        return cleaned


@admin.register(HandoverDocument)
class HandoverDocumentAdmin(admin.ModelAdmin):
    form = HandoverDocumentAdminForm
    list_display = ["site", "updated_at", "updated_by"]
    list_filter = ["updated_at"]
    search_fields = ["site__domain", "site__workspace__name", "deploy_steps"]
    list_select_related = ["site", "updated_by"]
    raw_id_fields = ["site", "updated_by"]
    readonly_fields = ["updated_at"]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    form = ChecklistItemAdminForm
    list_display = ["label", "site", "standard", "done_at", "done_by"]
    list_filter = ["standard", ("done_at", admin.EmptyFieldListFilter), "done_at"]
    search_fields = ["label", "site__domain", "site__workspace__name"]
    list_select_related = ["site", "done_by"]
    raw_id_fields = ["site", "done_by"]
    readonly_fields = ["uuid", "created_at"]


@admin.register(HandoverShare)
class HandoverShareAdmin(admin.ModelAdmin):
    list_display = ["link", "site", "expires_at", "revoked_at"]
    list_select_related = ["link__site"]
    search_fields = ["link__site__domain", "link__site__workspace__name"]
    raw_id_fields = ["link"]

    @admin.display(description="site", ordering="link__site__domain")
    def site(self, obj: HandoverShare):
        return obj.link.site

    @admin.display(description="expires", ordering="link__expires_at")
    def expires_at(self, obj: HandoverShare):
        return obj.link.expires_at

    @admin.display(description="revoked", ordering="link__revoked_at")
    def revoked_at(self, obj: HandoverShare):
        return obj.link.revoked_at
