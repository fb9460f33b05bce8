"""Django admin for the handover app (staff only). Each area adds its admin classes here."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from .envfile import name_problem
from .forms_env import refuse_secret
from .models import EnvCheck, EnvVar


class EnvVarAdminForm(forms.ModelForm):
    """The admin refuses secret-looking text like the site's own forms do."""

    class Meta:
        model = EnvVar
        fields = [
            "site",
            "environment",
            "name",
            "purpose",
            "required",
            "storage",
            "storage_detail",
            "owner",
            "last_rotated",
            "notes",
        ]

    def clean_name(self) -> str:
        problem = name_problem(self.cleaned_data["name"])
        if problem:
            raise ValidationError(problem)
        return self.cleaned_data["name"]

    def clean(self) -> dict:
        data = super().clean()
        for field in ("environment", "purpose", "storage_detail", "owner", "notes"):
            if data.get(field):
                try:
                    refuse_secret(data[field])
                except ValidationError as exc:
                    self.add_error(field, exc)
        return data


@admin.register(EnvVar)
class EnvVarAdmin(admin.ModelAdmin):
    form = EnvVarAdminForm
    list_display = [
        "name",
        "environment",
        "site",
        "required",
        "storage",
        "owner",
        "last_rotated",
        "updated_at",
    ]
    list_filter = ["environment", "required", "storage", "last_rotated"]
    search_fields = ["name", "purpose", "owner", "site__domain", "site__workspace__name"]
    list_select_related = ["site"]
    raw_id_fields = ["site"]
    readonly_fields = ["uuid", "created_at", "updated_at"]


@admin.register(EnvCheck)
class EnvCheckAdmin(admin.ModelAdmin):
    list_display = ["checked_at", "site", "environment", "ok", "names_count", "token_name"]
    list_filter = ["ok", "environment", "checked_at"]
    search_fields = ["site__domain", "site__workspace__name", "token_name", "environment"]
    list_select_related = ["site"]
    raw_id_fields = ["site"]
    readonly_fields = [f.name for f in EnvCheck._meta.fields]
    date_hierarchy = "checked_at"


# Deploys, smoke results and rollbacks register themselves in their own module.
# The ownership inventory, handover notes and checklists register themselves in theirs.
from . import admin_deploys, admin_ownership  # noqa: E402, F401
