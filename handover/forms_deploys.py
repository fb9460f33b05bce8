"""Forms of the deploy pages: smoke-test settings, rollback steps, a rollback record."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from monitoring.forms import plain_text

from .models.deploys import Rollback, RollbackPlan

ONE_LINE = ("performed_by", "from_version", "to_version")


class RollbackRecordForm(forms.ModelForm):
    """A rehearsal (or a real rollback done outside the deploy hook) typed in by hand."""

    class Meta:
        model = Rollback
        fields = [
            "kind",
            "performed_at",
            "performed_by",
            "environment",
            "from_version",
            "to_version",
            "minutes",
            "what_went_wrong",
        ]
        labels = {
            "performed_at": "When",
            "performed_by": "Who did it",
            "from_version": "From version",
            "to_version": "Back to version",
            "minutes": "Minutes taken",
        }
        help_texts = {
            "minutes": "From starting the rollback until the store worked again.",
            "environment": "production, staging, …",
        }
        widgets = {
            "performed_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "what_went_wrong": forms.Textarea(attrs={"rows": 3}),
            "minutes": forms.NumberInput(attrs={"step": "0.5", "min": "0"}),
        }

    def __init__(self, *args, site, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.site = site
        self.instance.recorded_by = user if user is not None and user.is_authenticated else None
        self.fields["minutes"].required = True
        self.fields["performed_by"].required = True
        if not self.is_bound:
            self.initial.setdefault("performed_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_performed_at(self):
        when = self.cleaned_data["performed_at"]
        now = timezone.now()
        if when > now + timedelta(hours=1):
            raise forms.ValidationError("Record a rollback once it has happened.")
        if when < now - timedelta(days=3 * 365):
            raise forms.ValidationError("Choose a date within the last three years.")
        return when

    def clean(self):
        cleaned = super().clean()
        for name in ONE_LINE:
            value = (cleaned.get(name) or "").strip()
            if not plain_text(value):
                self.add_error(name, "Use one line of plain text.")
            cleaned[name] = value
        return cleaned


class RollbackPlanForm(forms.ModelForm):
    class Meta:
        model = RollbackPlan
        fields = ["steps"]
        labels = {"steps": "This store's rollback steps"}
        help_texts = {
            "steps": "One step per line: the host's rollback command, who to call, what to check. "
            "They come before the general steps below."
        }
        widgets = {"steps": forms.Textarea(attrs={"rows": 6})}

    def clean_steps(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["steps"].splitlines()]
        return "\n".join(line for line in lines if line)


class SmokeRouteForm(forms.Form):
    """One route's row on the smoke-test settings page (prefixed by the route name)."""

    included = forms.BooleanField(required=False, label="Test after each deploy")
    smoke_keyword = forms.CharField(
        required=False,
        max_length=200,
        label="Expected text",
        help_text="The page must contain it (not case-sensitive); empty: not checked.",
    )

    def clean_smoke_keyword(self) -> str:
        value = self.cleaned_data["smoke_keyword"].strip()
        if not plain_text(value):
            raise forms.ValidationError("Use one line of plain text.")
        return value
