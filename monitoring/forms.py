"""Forms of the monitoring pages. Secrets are write-only: never rendered back."""

from __future__ import annotations

import json

from django import forms

from .models import AlertChannel, EscalationContact, MaintenanceWindow, Monitor

MAX_EXPECTED_VALUES = 50
MAX_VALUE_CHARS = 500


def plain_text(value: str) -> bool:
    """One line of text a database can store: no control characters, no lone surrogates."""
    return not any(ch < " " or ch == "\x7f" or "\ud800" <= ch <= "\udfff" for ch in value)


class SafeJSONField(forms.JSONField):
    """JSON input that answers absurd nesting with a sentence instead of a crash."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except RecursionError:
            raise forms.ValidationError("This JSON is nested too deeply.") from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)

    def prepare_value(self, value):
        shown = super().prepare_value(value)
        # A lone surrogate ("\ud800" typed as JSON) cannot be sent back in the page: escape it.
        if isinstance(value, forms.fields.InvalidJSONInput) or plain_text(shown.replace("\n", " ")):
            return shown
        return json.dumps(value, ensure_ascii=True, cls=self.encoder)


# The monitor form's fields in sections, so it reads by monitor kind without JavaScript.
MONITOR_FIELD_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("What to watch", ("kind", "name", "site", "severity")),
    (
        "HTTP(S) checks",
        (
            "url",
            "method",
            "expected_statuses",
            "keyword",
            "keyword_mode",
            "max_response_ms",
            "headers",
            "clear_headers",
            "follow_redirects",
            "timeout_s",
        ),
    ),
    ("Certificate, domain and DNS", ("hostname", "record_type", "expected_values")),
    ("Heartbeats", ("schedule", "period_s", "grace_s", "cron", "tz")),
    ("How often, and when to alert", ("interval_s", "confirm_failures", "recover_successes")),
)


class MonitorForm(forms.ModelForm):
    url = forms.URLField(required=False, max_length=1000, assume_scheme="https", label="URL")
    # Write-only, like channel credentials: the stored headers are never rendered back.
    headers = SafeJSONField(
        required=False,
        help_text='e.g. {"Authorization": "Bearer …"}. Stored encrypted and never shown again.',
    )
    clear_headers = forms.BooleanField(required=False, label="Remove the stored headers")
    expected_values = SafeJSONField(required=False, initial=list, help_text='DNS only, e.g. ["192.0.2.10"]')

    class Meta:
        model = Monitor
        fields = [name for _, names in MONITOR_FIELD_GROUPS for name in names]

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.workspace = workspace
        self.fields["site"].queryset = workspace.sites.all()
        self.fields["site"].required = False
        stored = self.instance.headers if self.instance.pk else {}
        if stored:
            names = ", ".join(sorted(stored))
            self.fields[
                "headers"
            ].help_text = (
                f"Stored (encrypted): {names}. Leave empty to keep them, or enter new ones to replace them."
            )
        else:
            del self.fields["clear_headers"]

    def save(self, commit: bool = True):
        headers = self.cleaned_data.get("headers") or {}
        if headers:
            self.instance.headers = headers
        elif self.cleaned_data.get("clear_headers"):
            self.instance.headers = {}
        return super().save(commit=commit)

    GROUPS = MONITOR_FIELD_GROUPS

    def groups(self) -> list[tuple[str, list]]:
        """Fields in sections, so the form reads by monitor kind without JavaScript."""
        return [
            (title, [self[name] for name in names if name in self.fields]) for title, names in self.GROUPS
        ]

    def clean_headers(self):
        value = self.cleaned_data.get("headers") or {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise forms.ValidationError(
                'Headers are names and text values, e.g. {"Authorization": "Bearer …"}.'
            )
        if not all(plain_text(k + v) for k, v in value.items()):
            raise forms.ValidationError(
                "A header name or value cannot contain a line break or control characters."
            )
        return value

    def clean_expected_values(self):
        value = self.cleaned_data.get("expected_values") or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise forms.ValidationError('A list of record values, e.g. ["192.0.2.10"].')
        if len(value) > MAX_EXPECTED_VALUES or any(len(v) > MAX_VALUE_CHARS for v in value):
            raise forms.ValidationError(
                f"At most {MAX_EXPECTED_VALUES} values of at most {MAX_VALUE_CHARS} characters each."
            )
        if not all(plain_text(v) for v in value):
            raise forms.ValidationError("A record value cannot contain control characters.")
        return value


def phone_number(value: str) -> str:
    """``+31 6 1234 5678`` → ``+31612345678`` (E.164, what Twilio takes); a sentence otherwise."""
    digits = "".join(ch for ch in value if ch not in " -().")
    if not (digits.startswith("+") and digits[1:].isdigit() and 8 <= len(digits) - 1 <= 15):
        raise forms.ValidationError(
            "Enter the number in international format, starting with + and the country code, e.g. +31 6 1234 5678."
        )
    return digits


CREDENTIAL_FIELDS = {
    AlertChannel.Kind.EMAIL: ("address",),
    AlertChannel.Kind.SLACK: ("webhook_url",),
    AlertChannel.Kind.SMS: ("account_sid", "auth_token", "from_number", "to_number"),
    AlertChannel.Kind.WEBHOOK: ("url", "signing_secret"),
}


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=AlertChannel.Kind.choices)
    name = forms.CharField(max_length=100)
    address = forms.EmailField(required=False, label="Email address")
    webhook_url = forms.URLField(required=False, label="Slack incoming webhook URL", assume_scheme="https")
    account_sid = forms.CharField(required=False, max_length=64, label="Twilio account SID")
    auth_token = forms.CharField(
        required=False, max_length=64, label="Twilio auth token", widget=forms.PasswordInput
    )
    from_number = forms.CharField(required=False, max_length=20, label="Send from (Twilio number)")
    to_number = forms.CharField(required=False, max_length=20, label="Send to (mobile number)")
    url = forms.URLField(required=False, label="Webhook URL", assume_scheme="https")
    signing_secret = forms.CharField(
        required=False, max_length=128, label="Signing secret", widget=forms.PasswordInput
    )

    def clean_from_number(self) -> str:
        value = self.cleaned_data.get("from_number") or ""
        return phone_number(value) if value else ""

    def clean_to_number(self) -> str:
        value = self.cleaned_data.get("to_number") or ""
        return phone_number(value) if value else ""

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        for name in CREDENTIAL_FIELDS.get(kind, ()):
            if not data.get(name):
                self.add_error(name, "Required for this kind of channel.")
        return data

    def save(self, workspace) -> AlertChannel:
        kind = self.cleaned_data["kind"]
        creds = {k: self.cleaned_data[k] for k in CREDENTIAL_FIELDS[kind]}
        channel = AlertChannel(
            workspace=workspace, kind=kind, name=self.cleaned_data["name"], label=label_for(kind, creds)
        )
        channel.credentials = creds
        channel.save()
        return channel


def label_for(kind: str, creds: dict) -> str:
    """What the UI may show of a channel without revealing its secret."""
    if kind == AlertChannel.Kind.EMAIL:
        return creds["address"]
    if kind == AlertChannel.Kind.SMS:
        return f"to …{creds['to_number'][-4:]}"
    url = creds.get("webhook_url") or creds.get("url") or ""
    host = url.split("//", 1)[-1].split("/", 1)[0]
    return f"{host}/…"


class MaintenanceForm(forms.ModelForm):
    class Meta:
        model = MaintenanceWindow
        fields = ["site", "starts_at", "ends_at", "reason"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.workspace = workspace
        self.fields["site"].queryset = workspace.sites.all()
        self.fields["site"].required = False


class ContactForm(forms.ModelForm):
    class Meta:
        model = EscalationContact
        fields = ["name", "email", "phone", "position"]
        help_texts = {"phone": "Optional: they also get a text message, e.g. +31 6 1234 5678."}

    def clean_phone(self) -> str:
        value = self.cleaned_data.get("phone") or ""
        return phone_number(value) if value else ""


class ApiTokenForm(forms.Form):
    """A new API token: a name, the whole workspace or one site, read-write or read-only."""

    name = forms.CharField(
        max_length=100, initial="Deploy script", help_text="Where it is used, e.g. “GitHub Actions”."
    )
    site = forms.ModelChoiceField(
        queryset=None,
        required=False,
        to_field_name="uuid",  # UUIDs in the page, never integer keys
        empty_label="Whole workspace",
        label="Scope",
        help_text="A site token sees and changes that site only.",
    )
    access = forms.ChoiceField(
        choices=[("read_write", "Read and write"), ("read_only", "Read only")],
        initial="read_write",
        required=False,  # scripts written before scopes post only a name: read and write
        widget=forms.RadioSelect,
        help_text="Read-only tokens suit dashboards; deploy scripts need read and write.",
    )

    def __init__(self, *args, workspace=None, **kwargs):
        # Its own ids: the maintenance form on the same page has a "site" field too.
        kwargs.setdefault("auto_id", "token_%s")
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = workspace.sites.all()

    def clean_access(self) -> str:
        return self.cleaned_data["access"] or "read_write"

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not plain_text(name):
            raise forms.ValidationError("One line of text, without control characters.")
        return name
