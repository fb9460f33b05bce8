"""Forms of the monitoring pages. Secrets are write-only: never rendered back."""

from __future__ import annotations

import json
import zoneinfo

from django import forms

from .checks.specs import MAX_TIMEOUT_S
from .heartbeats import MAX_GRACE_S, MAX_PERIOD_S, MIN_PERIOD_S
from .models import AlertChannel, EscalationContact, MaintenanceWindow, Monitor
from .models.monitors import MAX_CONFIRMATIONS, MAX_INTERVAL_S, MIN_INTERVAL_S

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
    ("What to watch", ("kind", "name", "site", "severity", "depends_on")),
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


# Which fields apply to each kind of monitor; the form shows only those of the chosen kind.
_CHECKING = ("interval_s", "confirm_failures", "recover_successes")
MONITOR_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Monitor.Kind.HTTP: (*MONITOR_FIELD_GROUPS[1][1], *_CHECKING),
    Monitor.Kind.TLS_EXPIRY: ("hostname",),
    Monitor.Kind.DOMAIN_EXPIRY: ("hostname",),
    Monitor.Kind.DNS: ("hostname", "record_type", "expected_values", *_CHECKING),
    Monitor.Kind.HEARTBEAT: (*MONITOR_FIELD_GROUPS[3][1], "confirm_failures", "recover_successes"),
}
COMMON_FIELDS = MONITOR_FIELD_GROUPS[0][1]


def duration_label(seconds: int) -> str:
    """3600 → "1 hour", 90 → "90 seconds": the largest unit that divides it evenly."""
    for size, unit in ((604800, "week"), (86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{seconds} seconds"


def _steps(values: tuple[int, ...], low: int, high: int, label) -> list[tuple[int, str]]:
    return [(v, label(v)) for v in values if low <= v <= high]


MINUTE, HOUR, DAY = 60, 3600, 86400
INTERVAL_CHOICES = _steps(
    (30, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR),
    MIN_INTERVAL_S,
    MAX_INTERVAL_S,
    lambda v: f"Every {duration_label(v)}",
)
TIMEOUT_CHOICES = _steps(
    (3, 5, 10, 15, 20, 30), 1, MAX_TIMEOUT_S, lambda v: f"Give up after {duration_label(v)}"
)
PERIOD_CHOICES = _steps(
    (MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 6 * HOUR, 12 * HOUR, DAY, 7 * DAY, 30 * DAY),
    MIN_PERIOD_S,
    MAX_PERIOD_S,
    lambda v: f"Every {duration_label(v)}",
)
GRACE_CHOICES = _steps(
    (MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 6 * HOUR, DAY),
    0,
    MAX_GRACE_S,
    lambda v: f"{duration_label(v)} late",
)
CONFIRM_CHOICES = [
    (n, "At the first failed check" if n == 1 else f"After {n} failed checks in a row")
    for n in range(1, MAX_CONFIRMATIONS + 1)
]
RECOVER_CHOICES = [
    (n, "At the first good check" if n == 1 else f"After {n} good checks in a row")
    for n in range(1, MAX_CONFIRMATIONS + 1)
]


class DurationSelect(forms.Select):
    """A list of human choices for a number field; a stored value not in the list is kept and named."""

    def __init__(self, choices, unit_label=duration_label, attrs=None):
        super().__init__(attrs, choices)
        self.unit_label = unit_label

    def get_context(self, name, value, attrs):
        try:
            current = int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            current = None
        if current is not None and current not in {v for v, _ in self.choices}:
            self.choices = sorted([*self.choices, (current, self.unit_label(current))])
        return super().get_context(name, value, attrs)


def _timezones() -> list[tuple[str, str]]:
    zones = sorted(
        z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))
    )
    return [("", "The workspace's time zone"), ("UTC", "UTC"), *[(z, z.replace("_", " ")) for z in zones]]


class _TypedOrJSONField(SafeJSONField):
    """Plain lines as people type them, or the JSON the form took before: the subclass says
    how lines become a value (``from_lines``) and how a value reads as lines (``as_lines``)."""

    @staticmethod
    def _is_json(text: str) -> bool:
        return text.lstrip().startswith(("[", "{"))

    def from_lines(self, text: str):
        raise NotImplementedError

    def as_lines(self, value) -> str | None:
        return None  # None: show the value as JSON

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not self._is_json(value):
            return self.from_lines(value)
        return super().to_python(value)

    def bound_data(self, data, initial):
        if isinstance(data, str) and not self._is_json(data):
            return data
        return super().bound_data(data, initial)

    def prepare_value(self, value):
        if value in (None, [], {}, ""):
            return ""  # never "null", "[]" or "{}" in an empty box
        if isinstance(value, str):
            return value
        lines = self.as_lines(value)
        return lines if lines is not None else super().prepare_value(value)


class LinesOrJSONField(_TypedOrJSONField):
    """A list typed one item a line (what people write), or the JSON the form took before."""

    widget = forms.Textarea(attrs={"rows": 3})

    def from_lines(self, text: str):
        return [line.strip() for line in text.splitlines() if line.strip()]

    def as_lines(self, value) -> str | None:
        if isinstance(value, list) and all(isinstance(v, str) and plain_text(v) for v in value):
            return "\n".join(value)
        return None


class HeadersField(_TypedOrJSONField):
    """Request headers typed one a line ("Authorization: Bearer …"), or as a JSON object."""

    widget = forms.Textarea(attrs={"rows": 2})

    def from_lines(self, text: str):
        headers = {}
        for line in text.splitlines():
            if not line.strip():
                continue
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise forms.ValidationError("One header a line, a name and its value: “X-Token: abc”.")
            headers[name.strip()] = value.strip()
        return headers


def monitor_kind(data=None, initial: str | None = None, instance: Monitor | None = None) -> str:
    """The kind the form is for: what was posted or asked for, else the monitor's, else HTTP."""
    for value in ((data or {}).get("kind"), initial, instance.kind if instance and instance.pk else None):
        if value in Monitor.Kind.values:
            return value
    return Monitor.Kind.HTTP


class MonitorForm(forms.ModelForm):
    url = forms.URLField(required=False, max_length=1000, assume_scheme="https", label="URL")
    # Write-only, like channel credentials: the stored headers are never rendered back.
    headers = HeadersField(
        required=False,
        label="Extra request headers",
        help_text="One a line, e.g. “Authorization: Bearer …”. Stored encrypted and never shown again.",
    )
    clear_headers = forms.BooleanField(required=False, label="Remove the stored headers")
    expected_values = LinesOrJSONField(
        required=False,
        label="Expected values",
        help_text="One a line, e.g. 192.0.2.10. Empty: we alert when the answer changes.",
    )

    class Meta:
        model = Monitor
        fields = [name for _, names in MONITOR_FIELD_GROUPS for name in names]
        labels = {
            "kind": "Kind of monitor",
            "max_response_ms": "Slow when over (milliseconds)",
            "timeout_s": "Timeout",
            "interval_s": "How often to check",
            "period_s": "Expected every",
            "grace_s": "Alert when it is",
            "cron": "Cron expression",
            "tz": "Time zone of the cron expression",
            "confirm_failures": "Alert",
            "recover_successes": "Say it recovered",
            "hostname": "Host name",
            "record_type": "Record type",
            "depends_on": "Depends on",
        }
        help_texts = {
            "max_response_ms": "Optional: a check slower than this counts as failed, e.g. 2000.",
            "cron": "Five fields, e.g. “0 2 * * *” for every night at 02:00.",
            "grace_s": "How late a ping may be before we alert.",
        }
        widgets = {
            "interval_s": DurationSelect(INTERVAL_CHOICES, lambda v: f"Every {duration_label(v)}"),
            "timeout_s": DurationSelect(TIMEOUT_CHOICES, lambda v: f"Give up after {duration_label(v)}"),
            "period_s": DurationSelect(PERIOD_CHOICES, lambda v: f"Every {duration_label(v)}"),
            "grace_s": DurationSelect(GRACE_CHOICES, lambda v: f"{duration_label(v)} late"),
            "confirm_failures": DurationSelect(
                CONFIRM_CHOICES, lambda n: f"After {n} failed checks in a row"
            ),
            "recover_successes": DurationSelect(RECOVER_CHOICES, lambda n: f"After {n} good checks in a row"),
            "tz": forms.Select(choices=_timezones()),
        }

    def __init__(self, *args, workspace=None, kind: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.workspace = workspace
        self.kind = monitor_kind(self.data if self.is_bound else None, kind, self.instance)
        if not self.instance.pk:
            self.initial.setdefault("kind", self.kind)
        shown = {*COMMON_FIELDS, *MONITOR_KIND_FIELDS[self.kind]}
        for name in [n for n in self.fields if n not in shown]:
            del self.fields[name]  # not shown, not cleaned: the stored value stays as it is
        self.fields["site"].queryset = workspace.sites.all()
        self.fields["site"].required = False
        others = Monitor.objects.filter(workspace=workspace).exclude(pk=self.instance.pk)
        self.fields["depends_on"].queryset = others
        self.fields["depends_on"].empty_label = "Nothing: it alerts on its own"
        if "tz" in self.fields:
            self.fields["tz"].widget.choices[0] = ("", f"The workspace's time zone ({workspace.timezone})")
        stored = self.instance.headers if self.instance.pk else {}
        if "headers" not in self.fields:
            self.fields.pop("clear_headers", None)
        elif stored:
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

    def __init__(self, *args, kind: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        asked = self.data.get("kind") if self.is_bound else kind
        self.kind = asked if asked in AlertChannel.Kind.values else AlertChannel.Kind.EMAIL
        self.initial.setdefault("kind", self.kind)
        for fields in CREDENTIAL_FIELDS.values():
            for name in fields:
                if name not in CREDENTIAL_FIELDS[self.kind]:
                    self.fields.pop(name, None)  # only what this kind of channel needs
                else:
                    self.fields[name].required = True

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
