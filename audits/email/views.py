"""Site page pieces for email deliverability: the test address and latest test
message, the DMARC report address and summary, and the manual report upload.

Mounted under ``/w/<uuid:workspace>/sites/<uuid:site>/email/…`` (``audits.email.urls``).
The partials under ``audits/email/`` can be included in the site page with the
context from ``panel_context(site)``.
"""

from __future__ import annotations

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin

from audits.email_models import DmarcReport, InboundAddress, TestMessage
from audits.inbound import store
from audits.inbound.reports import ReportError, read_report
from launchready.models import Membership, Role, Site
from launchready.views_common import workspace_view

from .sending_services import service_named

logger = logging.getLogger(__name__)

# The sanitised email HTML is shown in a sandboxed iframe; this policy is a second
# wall: nothing may load or run even if something slipped through the sanitiser.
MESSAGE_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"


class ReportUploadForm(forms.Form):
    report = forms.FileField(
        help_text="A DMARC aggregate report: .xml, .xml.gz or .zip, as the receiver sent it."
    )


def panel_context(site: Site) -> dict:
    """Everything the email partials need, in a few queries."""
    check = InboundAddress.objects.filter(kind=InboundAddress.Kind.CHECK, site=site).first()
    dmarc = InboundAddress.objects.filter(
        kind=InboundAddress.Kind.DMARC, workspace_id=site.workspace_id
    ).first()
    summary = store.report_summary(site)
    return {
        "site": site,
        "check_address": check,
        "report_address": dmarc,
        "test_message": current_test_message(site),
        "report_summary": summary,
        "report_advice": report_advice(summary),
        "inbound_domain": settings.INBOUND_DOMAIN,
        # In development the inbound domain is not on the internet: the page says how
        # to hand a message to the local receiver (the "smtp" process of make run).
        "local_receiver": (
            f"{settings.INBOUND_SMTP_HOST}:{settings.INBOUND_SMTP_PORT}" if settings.DEBUG else ""
        ),
    }


def current_test_message(site: Site) -> TestMessage | None:
    """The latest test message still within retention (the purge task runs only daily)."""
    return TestMessage.objects.filter(site=site, expires_at__gt=timezone.now()).first()


def report_advice(summary) -> list[str]:  # ReportSummary
    """Join report senders to what to publish: "Klaviyo sent 1,240 messages … publish its DKIM CNAMEs"."""
    lines = []
    for source in sorted(summary.sources, key=lambda s: -s.failing):
        if source.failing <= 0:
            continue
        who = source.service or source.source_ip
        line = f"{who} sent {source.failing:,} messages in the last {summary.days} days that fail DMARC alignment"
        service = service_named(source.service)
        if service is not None:
            line += f": {service.dkim_setup} Do this before moving to p=quarantine."
        lines.append(line)
    return lines[:5]


@workspace_view(read=Role.VIEWER)
def email_overview(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    context = panel_context(site)
    context["can_edit"] = m.can(Role.MEMBER)
    return render(request, "audits/email/overview.html", context)


@workspace_view(write=Role.MEMBER, read=Role.MEMBER, methods=("POST",))
def test_address_create(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    address = InboundAddress.for_site(site)
    messages.success(request, f"Send an order confirmation to {address.address} to test it.")
    return redirect("email_overview", workspace=m.workspace.uuid, site=site.uuid)


@workspace_view(write=Role.MEMBER, read=Role.MEMBER, methods=("POST",))
def report_address_create(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    address = InboundAddress.for_workspace(m.workspace)
    messages.success(request, f"Add rua=mailto:{address.address} to your DMARC record.")
    return redirect("email_overview", workspace=m.workspace.uuid, site=site.uuid)


@workspace_view(read=Role.VIEWER)
def test_message_detail(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    message = current_test_message(site)
    context = panel_context(site) if message is None else {"site": site, "test_message": message}
    context["can_edit"] = m.can(Role.MEMBER)
    return render(request, "audits/email/test_message.html", context)


@xframe_options_sameorigin
@workspace_view(read=Role.VIEWER)
def test_message_html(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    message = current_test_message(site)
    body = message.html if message is not None and message.html else "<p>No HTML part to show.</p>"
    document = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body>{body}</body></html>"
    )
    response = HttpResponse(document, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = MESSAGE_CSP
    response["X-Content-Type-Options"] = "nosniff"
    return response


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)
def report_upload(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    form = ReportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["report"]
        limit = settings.INBOUND_MAX_REPORT_BYTES
        if upload.size > limit:
            form.add_error("report", f"The file is larger than {limit // (1024 * 1024)} MB.")
        else:
            try:
                report = read_report(upload.read(), limit, upload.name)
            except ReportError as exc:
                form.add_error("report", str(exc))
            else:
                stored, created = store.save_report(m.workspace, report, source=DmarcReport.Source.UPLOAD)
                if created:
                    messages.success(request, f"Report {stored.report_id} from {stored.org_name} added.")
                else:
                    messages.info(
                        request, f"Report {stored.report_id} from {stored.org_name} was already here."
                    )
                return redirect("email_overview", workspace=m.workspace.uuid, site=site.uuid)
    return render(request, "audits/email/report_upload.html", {"site": site, "form": form})
