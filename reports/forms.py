from __future__ import annotations

from django import forms

from launchready.models import TIMEZONE_CHOICES

from .models import ReportSchedule


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = ReportSchedule
        fields = ["enabled", "weekday", "hour"]
        labels = {"enabled": "Send the weekly report", "weekday": "Day", "hour": "Hour"}
        help_texts = {"hour": "In the workspace's time zone (change it under Settings)."}
        widgets = {"hour": forms.Select(choices=[(h, f"{h:02d}:00") for h in range(24)])}


class DigestForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Send me the weekly portfolio digest")
    timezone = forms.ChoiceField(
        choices=TIMEZONE_CHOICES, initial="UTC", help_text="It arrives on Monday at 08:00 in this time zone."
    )
