"""Forms for workspaces, members and sites. Error messages are sentences for founders."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

from .domains import normalize_domain, subdomain_label
from .models import SENDING_SERVICES, CampaignURL, CriticalRoute, Role, Site, Subdomain, Workspace


class WorkspaceForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = ["name", "timezone"]
        help_texts = {
            "name": "For example the store or client name.",
            "timezone": "Reports and schedules use this time zone.",
        }


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address", help_text="We send the invitation link to this address.")
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args, roles: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]
        self.fields["role"].initial = Role.MEMBER if Role.MEMBER in roles else (roles[-1] if roles else None)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


# Suggestions for the declared services (free text: a self-hosted or server-side tool counts).
SERVICE_SUGGESTIONS = {
    "analytics-suggestions": [
        "Google Analytics 4",
        "Plausible",
        "Fathom",
        "Matomo",
        "Segment",
        "PostHog",
        "Shopify Analytics",
        "Server-side analytics",
    ],
    "error-tracking-suggestions": [
        "Sentry",
        "Sentry (server side)",
        "Bugsnag",
        "Datadog",
        "Rollbar",
        "New Relic",
        "Honeybadger",
        "AppSignal",
    ],
}


class SiteForm(forms.ModelForm):
    """Add or edit a site; ``workspace`` is needed for the one-site-per-domain check.

    The edit page also declares the services the audit cannot see from outside (server-side
    analytics or error tracking): the monitoring checks then pass with "declared by you".
    """

    class Meta:
        model = Site
        fields = ["domain", "name", "canonical", "analytics_service", "error_tracking_service"]
        labels = {
            "domain": "Store domain",
            "name": "Display name",
            "canonical": "Preferred address",
            "analytics_service": "Analytics you use",
            "error_tracking_service": "Error tracking you use",
        }
        help_texts = {
            "domain": "Paste the address of your store, e.g. https://www.shop.example.com/ — we keep the domain.",
            "name": "Optional. Shown instead of the domain.",
            "canonical": "The host your customers should end up on; the other one should redirect to it.",
            "analytics_service": "Only needed when the audit cannot see it on your pages (server-side or "
            "self-hosted analytics). Leave empty and the audit looks for it.",
            "error_tracking_service": "The service that tells you about errors your customers hit, e.g. "
            "Sentry on your server. Leave empty and the audit looks for it.",
        }
        widgets = {
            "canonical": forms.RadioSelect,
            "analytics_service": forms.TextInput(
                attrs={"list": "analytics-suggestions", "autocomplete": "off"}
            ),
            "error_tracking_service": forms.TextInput(
                attrs={"list": "error-tracking-suggestions", "autocomplete": "off"}
            ),
        }

    suggestions = SERVICE_SUGGESTIONS

    def __init__(self, *args, workspace: Workspace, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.fields["domain"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_domain(self) -> str:
        domain = normalize_domain(self.cleaned_data.get("domain", ""))
        # Someone who pastes "www.example.com" means the store at example.com with www preferred.
        if domain.startswith("www.") and domain.count(".") >= 2:
            domain = domain[4:]
        clash = Site.objects.filter(workspace=self.workspace, domain=domain).exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(f"{domain} is already a site in this workspace.")
        return domain

    def _clean_service(self, name: str) -> str:
        value = " ".join((self.cleaned_data.get(name) or "").split())
        if not all(ch.isprintable() for ch in value):
            raise ValidationError("Write the service's name in plain letters, e.g. “Sentry”.")
        return value

    def clean_analytics_service(self) -> str:
        return self._clean_service("analytics_service")

    def clean_error_tracking_service(self) -> str:
        return self._clean_service("error_tracking_service")


class SiteEmailForm(forms.ModelForm):
    dkim_selectors = forms.CharField(
        label="DKIM selectors",
        required=False,
        help_text="Comma-separated, e.g. “google, s1, s2”. Your sending service tells you these.",
    )

    class Meta:
        model = Site
        fields = ["sending_service", "from_address", "dkim_selectors"]
        labels = {"sending_service": "Sending service", "from_address": "From address"}
        help_texts = {
            "sending_service": "Who sends your order confirmations.",
            "from_address": "The address your order confirmations come from, e.g. orders@example.com.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sending_service"].choices = [("", "Not set"), *SENDING_SERVICES]
        if not self.is_bound:
            self.initial["dkim_selectors"] = ", ".join(self.instance.dkim_selectors or [])

    def clean_dkim_selectors(self) -> list[str]:
        raw = self.cleaned_data.get("dkim_selectors") or ""
        selectors = []
        for part in re.split(r"[\s,]+", raw.strip()):
            if not part:
                continue
            sel = part.lower().removesuffix("._domainkey").strip(".")
            if not re.fullmatch(
                r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*", sel
            ):
                raise ValidationError(
                    f"“{part}” is not a valid DKIM selector: use letters, digits and hyphens."
                )
            if sel not in selectors:
                selectors.append(sel)
        return selectors


class RouteForm(forms.ModelForm):
    budget_ms = forms.IntegerField(
        label="p95 budget (ms)",
        required=False,
        min_value=50,
        max_value=60000,
        help_text="Leave empty for the default: 800 ms for pages, 500 ms for API calls.",
    )

    class Meta:
        model = CriticalRoute
        fields = ["name", "path", "kind", "budget_ms", "accept_client_errors"]
        labels = {
            "name": "Name",
            "path": "Path",
            "kind": "Type",
            "accept_client_errors": "A 4xx answer is normal here",
        }
        help_texts = {
            "accept_client_errors": "Tick for an API call that answers a plain visit with 401 or 405; "
            "otherwise any 4xx (such as 404 “not found”) counts as down."
        }

    def __init__(self, *args, site: Site, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        self.instance.site = site

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].lower()
        clash = CriticalRoute.objects.filter(site=self.site, name=name).exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(f"There is already a route called “{name}”.")
        return name

    def clean_path(self) -> str:
        path = self.cleaned_data["path"].strip()
        if not path.startswith("/"):
            raise ValidationError("A route path starts with “/”, for example /cart.")
        return path

    def clean(self) -> dict:
        data = super().clean()
        if data.get("budget_ms") is None and data.get("kind"):
            data["budget_ms"] = CriticalRoute.default_budget(data["kind"])
        return data

    def save(self, commit: bool = True) -> CriticalRoute:
        # Saving a route is the owner's word that it exists: it is timed and watched from now on.
        self.instance.confirmed = True
        if self.instance.pk is None:
            self.instance.source = CriticalRoute.Source.USER
        return super().save(commit=commit)


class SubdomainForm(forms.ModelForm):
    class Meta:
        model = Subdomain
        fields = ["name", "purpose", "owner"]
        labels = {"name": "Subdomain", "purpose": "What it is for", "owner": "Owner"}

    def __init__(self, *args, site: Site, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        self.instance.site = site

    def clean_name(self) -> str:
        label = self.cleaned_data["name"].strip().lower().rstrip(".")
        label = subdomain_label(label, self.site.domain) or label
        try:
            normalize_domain(f"{label}.example.com")
        except ValidationError:
            raise ValidationError(
                f"“{label}” is not a valid subdomain: use letters, digits and hyphens, e.g. admin or shop.eu."
            ) from None
        if Subdomain.objects.filter(site=self.site, name=label).exclude(pk=self.instance.pk).exists():
            raise ValidationError(f"{label}.{self.site.domain} is already listed.")
        return label


class CampaignURLForm(forms.ModelForm):
    url = forms.URLField(label="Campaign URL", max_length=1000, assume_scheme="https")

    class Meta:
        model = CampaignURL
        fields = ["url", "note"]
        labels = {"url": "Campaign URL", "note": "Note"}
        help_texts = {"url": "An old link from ads, emails or print that must keep working."}

    def __init__(self, *args, site: Site, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        self.instance.site = site

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if CampaignURL.objects.filter(site=self.site, url=url).exclude(pk=self.instance.pk).exists():
            raise ValidationError("That URL is already listed.")
        return url
