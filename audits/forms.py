"""Forms of the audit pages. Error messages are sentences for founders."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms
from django.utils import timezone

from launchready.formats import human_date

MAX_ACCEPTANCE_DAYS = 365
SHARE_DAYS = (1, 30)


class DateInput(forms.DateInput):
    input_type = "date"


class AcceptRiskForm(forms.Form):
    reason = forms.CharField(
        label="Why you accept this risk",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=(
            "For example: “The staging site is behind a VPN; we remove it after launch.” "
            "Only your team sees this; shared reports say only that the risk was accepted."
        ),
        error_messages={"required": "Say why you accept this risk, so your team knows later."},
    )
    expires_on = forms.DateField(
        label="Accept until",
        widget=DateInput,
        help_text="At most one year from today. After that the finding counts again.",
        error_messages={
            "required": "Choose the date until which you accept this risk.",
            "invalid": "Enter a date such as 2027-03-31.",
        },
    )

    def __init__(self, *args, tz: str = "UTC", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tz = zoneinfo.ZoneInfo(tz or "UTC")

    def today(self) -> dt.date:
        return timezone.now().astimezone(self.tz).date()

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why you accept this risk, so your team knows later.")
        return reason

    def clean_expires_on(self) -> dt.date:
        day = self.cleaned_data["expires_on"]
        today = self.today()
        if day <= today:
            raise forms.ValidationError("Choose a date after today.")
        if day > today + dt.timedelta(days=MAX_ACCEPTANCE_DAYS):
            latest = today + dt.timedelta(days=MAX_ACCEPTANCE_DAYS)
            raise forms.ValidationError(f"Accept a risk for at most one year (until {human_date(latest)}).")
        return day

    def expires_at(self) -> dt.datetime:
        """The end of the chosen day in the workspace's time zone."""
        day = self.cleaned_data["expires_on"]
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=self.tz)


class ShareLinkForm(forms.Form):
    days = forms.IntegerField(
        label="Link works for (days)",
        min_value=SHARE_DAYS[0],
        max_value=SHARE_DAYS[1],
        initial=7,
        help_text="Between 1 and 30 days. You can revoke it any time.",
        error_messages={
            "required": "Say for how many days the link should work (1 to 30).",
            "min_value": "A link works for at least 1 day.",
            "max_value": "A link works for at most 30 days; create a new one later if needed.",
            "invalid": "Enter a whole number of days, 1 to 30.",
        },
    )


class DailyAuditForm(forms.Form):
    daily_enabled = forms.BooleanField(required=False, label="Audit this site every day")
