"""Handover pages of a site: the document (page, Markdown, PDF), its checklist and notes,
the ownership inventory, and share links; plus the public pages a share link opens.

Mounted by handover/urls_handover.py at /w/<uuid:workspace>/sites/<uuid:site>/handover/
and /handover/<token>/. Every object is reached through the site the decorator already
scoped to the workspace, so a stranger gets 404 and a viewer 403 on writes.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from audits.forms import ShareLinkForm
from launchready.models import Membership, Role, Site
from launchready.selectors import get_or_404
from launchready.views_common import workspace_view

from . import document, links, markdown_doc, pdf
from .forms_handover import ChecklistAddForm, ChecklistTickForm, HandoverDocumentForm, ServiceForm
from .models.ownership import ChecklistItem, HandoverDocument, Service
from .ownership import detected_providers, facts_of, latest_run, ownership

logger = logging.getLogger(__name__)


def service_in(site: Site, uuid) -> Service:
    return get_or_404(Service.objects.filter(site=site), uuid=uuid)


def checklist_item_in(site: Site, uuid) -> ChecklistItem:
    return get_or_404(ChecklistItem.objects.filter(site=site), uuid=uuid)


def _to_document(m: Membership, site: Site, anchor: str = "") -> HttpResponse:
    url = reverse("handover_document", kwargs={"workspace": m.workspace.uuid, "site": site.uuid})
    return redirect(f"{url}#{anchor}" if anchor else url)


def _to_site(m: Membership, site: Site) -> HttpResponse:
    url = reverse("site_detail", kwargs={"workspace": m.workspace.uuid, "site": site.uuid})
    return redirect(f"{url}#owners")


def _filename(doc: document.Handover, ext: str) -> str:
    return f"handover-{doc.domain}-{doc.local(doc.generated_at):%Y-%m-%d}.{ext}"


def _download(doc: document.Handover, kind: str) -> HttpResponse:
    if kind == "pdf":
        response = HttpResponse(pdf.render(doc), content_type="application/pdf")
    else:
        response = HttpResponse(markdown_doc.render(doc), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(doc, kind)}"'
    return response


# --- the document ---------------------------------------------------------------------------


@workspace_view()
def handover_document(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    site.workspace = m.workspace
    context = {"site": site, "doc": document.build(site), "add_form": ChecklistAddForm()}
    return render(request, "handover/document.html", context)


@workspace_view()
def handover_markdown(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    """The client's copy: no internal notes, no names of who accepted or ticked."""
    site.workspace = m.workspace
    return _download(document.build(site, public=True), "md")


@workspace_view()
def handover_pdf(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    site.workspace = m.workspace
    return _download(document.build(site, public=True), "pdf")


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)
def handover_edit(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    own = HandoverDocument.objects.filter(site=site).first() or HandoverDocument(site=site)
    form = HandoverDocumentForm(request.POST or None, instance=own)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.updated_by = request.user
        saved.save()
        messages.success(request, "Handover notes saved.")
        return _to_document(m, site, "deploy")
    status = 400 if request.method == "POST" else 200
    return render(request, "handover/document_edit.html", {"site": site, "form": form}, status=status)


# --- the checklist --------------------------------------------------------------------------


@workspace_view(write=Role.MEMBER, methods=("POST",))
def checklist_tick(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    form = ChecklistTickForm(request.POST)
    if not form.is_valid():
        raise Http404("No such checklist item.")
    key, done = form.cleaned_data["item"], form.cleaned_data["done"]
    values = {"done_at": timezone.now() if done else None, "done_by": request.user if done else None}
    if key in ChecklistItem.Standard.values:
        with transaction.atomic():
            item, _ = ChecklistItem.objects.select_for_update().get_or_create(
                site=site, standard=key, defaults={"label": ChecklistItem.Standard(key).label}
            )
            ChecklistItem.objects.filter(pk=item.pk).update(**values)
    else:
        item = checklist_item_in(site, key)
        ChecklistItem.objects.filter(pk=item.pk).update(**values)
    logger.info("handover checklist site=%s item=%s done=%s", site.uuid, key, done)
    return _to_document(m, site, "checklist")


@workspace_view(write=Role.MEMBER, methods=("POST",))
def checklist_add(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    form = ChecklistAddForm(request.POST)
    if form.is_valid():
        ChecklistItem.objects.create(site=site, label=form.cleaned_data["label"])
        messages.success(request, "Checklist item added.")
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return _to_document(m, site, "checklist")


@workspace_view(write=Role.MEMBER, methods=("POST",))
def checklist_delete(request: HttpRequest, m: Membership, site: Site, checklist_item) -> HttpResponse:
    item = checklist_item_in(site, checklist_item)
    if item.standard:
        raise Http404("The standard items stay on every checklist.")
    item.delete()
    messages.success(request, f"“{item.label}” removed from the checklist.")
    return _to_document(m, site, "checklist")


# --- the ownership inventory ----------------------------------------------------------------


@workspace_view()
def ownership_panel(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    """The site page's "Who owns what" section, loaded by htmx right after the page."""
    context = {"site": site, "o": ownership(site)}
    return render(request, "handover/panel_ownership_content.html", context)


def _service_page(
    request: HttpRequest, site: Site, form: ServiceForm, service: Service | None
) -> HttpResponse:
    status = 400 if request.method == "POST" else 200
    context = {"site": site, "form": form, "service": service}
    return render(request, "handover/service_form.html", context, status=status)


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)
def service_add(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    """Record a service; ``?kind=dns`` fills in the provider the latest audit detected."""
    initial = {}
    kind = request.GET.get("kind", "")
    if kind in Service.Kind.values:
        detected = detected_providers(site, facts_of(latest_run(site))).get(kind)
        initial = {"kind": kind, "provider": detected.provider if detected else ""}
    form = ServiceForm(request.POST or None, initial=initial, instance=Service(site=site))
    if request.method == "POST" and form.is_valid():
        service = form.save()
        logger.info("service recorded site=%s service=%s kind=%s", site.uuid, service.uuid, service.kind)
        messages.success(request, f"{service.label} recorded.")
        return _to_site(m, site)
    return _service_page(request, site, form, None)


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)
def service_edit(request: HttpRequest, m: Membership, site: Site, service) -> HttpResponse:
    service = service_in(site, service)
    form = ServiceForm(request.POST or None, instance=service)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"{service.label} saved.")
        return _to_site(m, site)
    if request.method == "POST":
        service.refresh_from_db()  # the failed form wrote its values onto the instance
    return _service_page(request, site, form, service)


@workspace_view(write=Role.MEMBER, methods=("POST",))
def service_delete(request: HttpRequest, m: Membership, site: Site, service) -> HttpResponse:
    service = service_in(site, service)
    service.delete()
    messages.success(request, f"{service.label} removed from the inventory.")
    return _to_site(m, site)


# --- share links ----------------------------------------------------------------------------


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)
def handover_links(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    form = ShareLinkForm(request.POST or None)
    new_url = None
    if request.method == "POST" and form.is_valid():
        try:
            _, token = links.create_link(site, user=request.user, days=form.cleaned_data["days"])
        except IntegrityError:  # a token collision: practically never, and nothing was saved
            messages.error(request, "The link could not be created; please try again.")
        else:
            new_url = request.build_absolute_uri(reverse("handover_shared", kwargs={"token": token}))
            logger.info("handover link created site=%s", site.uuid)
            form = ShareLinkForm()
    rows = list(links.links_of(site).order_by("-created_at"))
    for link in rows:
        link.revoke_url = reverse(
            "handover_link_revoke",
            kwargs={"workspace": m.workspace.uuid, "site": site.uuid, "handover_link": link.uuid},
        )
    context = {"site": site, "form": form, "links": rows, "new_url": new_url}
    return render(request, "handover/document_links.html", context)


@workspace_view(write=Role.MEMBER, methods=("POST",))
def handover_link_revoke(request: HttpRequest, m: Membership, site: Site, handover_link) -> HttpResponse:
    links.revoke(links.link_in(site, handover_link))
    messages.success(request, "The link no longer works.")
    return redirect("handover_links", workspace=m.workspace.uuid, site=site.uuid)


# --- the public pages behind a share link ---------------------------------------------------


def _private(response: HttpResponse) -> HttpResponse:
    # The token is the secret: keep it out of search engines, caches and Referer headers.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store, private"
    return response


def _shared(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    link = links.link_for_token(token)
    if link is None or link.revoked_at is not None:
        raise Http404("No such link.")  # a revoked link is as gone as one that never was
    if not link.is_active:
        return _private(render(request, "handover/document_gone.html", {"link": link}, status=410))
    doc = document.build(link.site, public=True)
    if kind != "page":
        return _private(_download(doc, kind))
    context = {"site": link.site, "doc": doc, "link": link, "token": token}
    return _private(render(request, "handover/document_shared.html", context))


@require_safe
def shared_document(request: HttpRequest, token: str) -> HttpResponse:
    return _shared(request, token, "page")


@require_safe
def shared_markdown(request: HttpRequest, token: str) -> HttpResponse:
    return _shared(request, token, "md")


@require_safe
def shared_pdf(request: HttpRequest, token: str) -> HttpResponse:
    return _shared(request, token, "pdf")
