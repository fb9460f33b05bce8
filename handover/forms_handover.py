"""Forms of the ownership inventory and the handover document.

Every text field refuses what looks like a credential with the env inventory's detector
(``handover.envfile``): the inventory says *where* a password lives, never what it is.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django import forms
from django.utils import timezone

from monitoring.forms import plain_text

from .models.ownership import ChecklistItem, HandoverDocument, Service
from .ownership import refuse_secret

ONE_LINE_SERVICE_FIELDS = ("name", "provider", "owner", "access", "credentials_location")
MULTI_LINE_SERVICE_FIELDS = ("notes",)
RENEWAL_YEARS = 20


def clean_text(form: forms.Form, names: tuple[str, ...], *, one_line: bool) -> None:
    """Strip each field; refuse secrets (and line breaks or control characters in one-line fields).

    A refused secret is never rendered back: it is blanked in the form's bound data, so the
    page that shows the error does not hold it either.
    """
    for name in names:
        value = form.cleaned_data.get(name)
        if not value:
            continue
        value = value.strip()
        form.cleaned_data[name] = value
        problem = refuse_secret(value)
        if problem:
            form.add_error(name, problem)
            form.data = form.data.copy()
            form.data[form.add_prefix(name)] = ""
        elif one_line and not plain_text(value):
            form.add_error(name, "Use one line of plain text.")
        elif "\x00" in value:
            form.add_error(name, "This text contains a character that cannot be stored.")


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = ["kind", "name", "provider", "owner", "access", "credentials_location", "renews_on", "notes"]
        labels = {"kind": "Service", "name": "What it does", "access": "Who holds access"}
        widgets = {
            "renews_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_renews_on(self):
        renews = self.cleaned_data.get("renews_on")
        today = timezone.localdate()
        if renews and not (
            today - timedelta(days=366) <= renews <= today + timedelta(days=366 * RENEWAL_YEARS)
        ):
            raise forms.ValidationError(
                f"Choose a date between a year ago and {RENEWAL_YEARS} years from now."
            )
        return renews

    def clean(self):
        cleaned = super().clean()
        clean_text(self, ONE_LINE_SERVICE_FIELDS, one_line=True)
        clean_text(self, MULTI_LINE_SERVICE_FIELDS, one_line=False)
        if (
            cleaned.get("kind") == Service.Kind.OTHER
            and not cleaned.get("name")
            and "name" not in self.errors
        ):
            self.add_error("name", "Say what this service does, e.g. “Search” or “Reviews”.")
        return cleaned


class HandoverDocumentForm(forms.ModelForm):
    class Meta:
        model = HandoverDocument
        fields = ["deploy_steps", "internal_notes"]
        labels = {"deploy_steps": "How this store is deployed", "internal_notes": "Internal notes"}
        widgets = {
            "deploy_steps": forms.Textarea(attrs={"rows": 6}),
            "internal_notes": forms.Textarea(attrs={"rows": 4}),
        }

    def clean(self):
        cleaned = super().clean()
        clean_text(self, ("deploy_steps", "internal_notes"), one_line=False)
        steps = cleaned.get("deploy_steps")
        if steps and "deploy_steps" not in self.errors:
            cleaned["deploy_steps"] = "\n".join(line.strip() for line in steps.splitlines() if line.strip())
        return cleaned


class ChecklistAddForm(forms.Form):
    label = forms.CharField(
        max_length=200,
        label="Add an item",
        help_text="Something to do before the handover is complete, e.g. “Payment account moved to the client”.",
    )

    def clean(self):
        cleaned = super().clean()
        clean_text(self, ("label",), one_line=True)
        return cleaned


class ChecklistTickForm(forms.Form):
    """Tick or untick one item: a standard key (``access``…) or a custom item's UUID."""

    item = forms.CharField(max_length=40)
    done = forms.BooleanField(required=False)

    def clean_item(self) -> str:
        item = self.cleaned_data["item"].strip()
        if item in ChecklistItem.Standard.values:
            return item
        try:
            return str(uuid.UUID(item))
        except ValueError:
            raise forms.ValidationError("No such checklist item.") from None
