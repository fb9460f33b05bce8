"""Forms of the env-var inventory.

Two rules hold for every form here: a secret-looking text is refused with a sentence
that says what it looks like (never the text), and a refused or discarded text is
never rendered back: after validation the bound data is scrubbed, so the page shows
an empty field where the secret was, and the name alone where ``NAME=value`` was.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from launchready.models import Site

from .envfile import (
    ENVIRONMENT_MAX_LENGTH,
    SUGGESTED_ENVIRONMENTS,
    environment_problem,
    name_problem,
    normalize_environment,
    parse_env,
    refusal,
    secret_reason,
    split_assignment,
)
from .models import EnvVar

IMPORT_MAX_CHARS = 100_000
IMPORT_MAX_VARIABLES = 500
NOTES_MAX_LENGTH = 2000


def refuse_secret(value: str) -> str:
    reason = secret_reason(value)
    if reason:
        raise ValidationError(refusal(reason))
    return value


def _clean_environment(value: str) -> str:
    environment = normalize_environment(value)
    problem = environment_problem(environment)
    if problem:
        raise ValidationError(problem)
    return environment


class EnvironmentField(forms.CharField):
    """A free environment name with the suggested ones offered by the browser."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", "Environment")
        kwargs.setdefault("help_text", "production, staging, or your own name.")
        # Longer than a name may be, so the too-long sentence is ours, not the browser's cut.
        super().__init__(max_length=ENVIRONMENT_MAX_LENGTH * 4, **kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false", "list": "env-environments"})


class ScrubbedMixin:
    """Re-render without any refused text; a form names its free-text fields."""

    free_text_fields: tuple[str, ...] = ()

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound:
            return
        # A secret that also broke another rule (too long…) is reported as a secret.
        for field in (*self.free_text_fields, "environment"):
            reason = secret_reason(self.data.get(self.add_prefix(field), ""))
            if reason:
                self._errors[field] = self.error_class([refusal(reason)])
                self.cleaned_data.pop(field, None)
        self.data = self.scrubbed(self.data)

    def scrubbed(self, data):
        data = data.copy()
        for field in (*self.free_text_fields, "environment"):
            key = self.add_prefix(field)
            if secret_reason(data.get(key, "")):
                data[key] = ""
        return data


class EnvVarForm(ScrubbedMixin, forms.ModelForm):
    """Add or edit one variable. ``NAME=value`` in the name keeps the name and drops the value."""

    free_text_fields = ("purpose", "storage_detail", "owner", "notes")

    environment = EnvironmentField()
    # No length limit on the raw text: a pasted "NAME=<long value>" must arrive whole to be cut.
    name = forms.CharField(
        label="Name",
        help_text="e.g. DATABASE_URL. Paste NAME=value if you like: the value is thrown away.",
        error_messages={"required": "Enter the variable's name, e.g. DATABASE_URL."},
    )
    required = forms.TypedChoiceField(
        label="Needed",
        choices=[("true", "Required"), ("false", "Optional")],
        coerce=lambda v: v == "true",
        initial="true",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose required or optional."},
    )
    storage = forms.ChoiceField(
        label="Where the value is kept",
        required=False,
        choices=[("", "Not recorded yet"), *EnvVar.Storage.choices],
        error_messages={"invalid_choice": "Choose one of the listed places."},
    )
    notes = forms.CharField(label="Notes", required=False, max_length=NOTES_MAX_LENGTH, widget=forms.Textarea)
    last_rotated = forms.DateField(
        label="Last rotated",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="When the value was last changed.",
    )

    class Meta:
        model = EnvVar
        fields = [
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
        labels = {
            "purpose": "What it is for",
            "storage_detail": "Which one, exactly",
            "owner": "Owner",
        }
        help_texts = {
            "storage_detail": "e.g. “Vercel project shop”, “1Password vault Ops”. A place, never the value.",
            "owner": "Who can change or rotate it.",
        }

    def __init__(self, *args, site: Site, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        self.instance.site = site
        self.value_discarded = False
        self.fields["notes"].widget.attrs["rows"] = 2
        for field in ("name", "purpose", "storage_detail", "owner"):
            self.fields[field].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        if self.instance.pk and not self.is_bound:
            self.initial["required"] = "true" if self.instance.required else "false"

    def clean_environment(self) -> str:
        return _clean_environment(self.cleaned_data["environment"])

    def clean_name(self) -> str:
        split = split_assignment(self.cleaned_data["name"])
        problem = name_problem(split.name)
        if problem:
            raise ValidationError(problem)
        self.value_discarded = split.had_value
        return split.name

    def clean_purpose(self) -> str:
        return refuse_secret(self.cleaned_data["purpose"])

    def clean_storage_detail(self) -> str:
        return refuse_secret(self.cleaned_data["storage_detail"])

    def clean_owner(self) -> str:
        return refuse_secret(self.cleaned_data["owner"])

    def clean_notes(self) -> str:
        return refuse_secret(self.cleaned_data["notes"])

    def clean_last_rotated(self):
        day = self.cleaned_data["last_rotated"]
        if day and day > timezone.localdate():
            raise ValidationError("The last rotation cannot be in the future.")
        return day

    def clean(self) -> dict:
        data = super().clean()
        if data.get("storage") == EnvVar.Storage.OTHER and not data.get("storage_detail"):
            self.add_error("storage_detail", "Say where: “other” alone will not help anyone find it.")
        name, environment = data.get("name"), data.get("environment")
        if name and environment:
            clash = EnvVar.objects.filter(site=self.site, environment=environment, name=name)
            if clash.exclude(pk=self.instance.pk).exists():
                self.add_error("name", f"{name} is already listed for {environment}.")
        return data

    def scrubbed(self, data):
        data = super().scrubbed(data)
        key = self.add_prefix("name")
        if key in data:
            name = split_assignment(data[key]).name
            data[key] = "" if secret_reason(name) else name
        return data


class EnvImportForm(ScrubbedMixin, forms.Form):
    """Paste a ``.env`` / ``.env.example`` or upload one: only names and comments are kept.

    The pasted text is parsed in ``clean`` and replaced by the parse result, which
    holds no values; it is never shown again, not even when the form has errors.
    """

    environment = EnvironmentField()
    text = forms.CharField(
        label="Paste a .env or .env.example",
        required=False,
        max_length=IMPORT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "autocomplete": "off"}),
        help_text="Values are thrown away before anything is stored; comments above a line become its purpose.",
    )
    file = forms.FileField(label="…or upload the file", required=False)

    def clean_environment(self) -> str:
        return _clean_environment(self.cleaned_data["environment"])

    def clean(self) -> dict:
        data = super().clean()
        text = data.pop("text", "") or ""
        upload = data.pop("file", None)
        if upload is not None:
            if upload.size > IMPORT_MAX_CHARS:
                raise ValidationError(
                    f"The file is larger than {IMPORT_MAX_CHARS // 1000} kB; is it an env file?"
                )
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError("The file is not UTF-8 text; is it an env file?") from None
        if not text.strip():
            if "text" not in self.errors:
                raise ValidationError("Paste the file's text or choose the file.")
            return data
        parsed = parse_env(text)
        if not parsed.variables:
            raise ValidationError("No NAME=… lines were found, so nothing was imported.")
        if len(parsed.variables) > IMPORT_MAX_VARIABLES:
            raise ValidationError(f"Import at most {IMPORT_MAX_VARIABLES} variables at a time.")
        data["parsed"] = parsed
        return data

    def scrubbed(self, data):
        data = super().scrubbed(data)
        data[self.add_prefix("text")] = ""
        return data


def environment_choices(existing: list[str]) -> list[str]:
    """What the environment field suggests: the site's environments, then the usual ones."""
    return list(dict.fromkeys([*existing, *SUGGESTED_ENVIRONMENTS]))
