"""The handover document's Markdown and PDF: hostile site text stays text, the PDF holds the sections.

Site-supplied text (subdomain purposes, owners, env purposes, checklist labels, finding
subjects, accepted-risk reasons) is written to the database like a consultant or a store
would, then the document is built and rendered as the download does.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone

from audits.markdown import md_code
from audits.models import AcceptedRisk
from handover import document, markdown_doc, pdf
from handover.models import ChecklistItem, EnvVar, HandoverDocument, Service
from launchready.models import Subdomain
from monitoring.models import EscalationContact
from tests.fixtures_audits import finding

pytestmark = pytest.mark.django_db

HOSTILE = "[click](http://evil.example) <script>alert(1)</script> **bold** | cell | `tick` _x_ ~~gone~~ &amp;"
SECTIONS = (
    "Handover checklist",
    "What changed since the first audit",
    "What is still open",
    "Accepted risks",
    "Where secrets live",
    "How to deploy and roll back",
    "Alerts and who gets them",
    "Who owns each service",
    "Escalation contacts",
    "Week one: what good looks like",
    "If you get an alert",
)


@pytest.fixture
def hostile_site(site, owner, make_run):
    """Every free-text field the document shows holds the same hostile text."""
    site.name = HOSTILE
    site.save()
    make_run(site, [finding("http.hsts_missing", "high", "edge", subject=f"www.shop.example.com/{HOSTILE}")])
    Subdomain.objects.create(site=site, name="admin", purpose=HOSTILE, owner=HOSTILE)
    Service.objects.create(
        site=site, kind=Service.Kind.HOSTING, provider="Vercel", owner=HOSTILE, notes=HOSTILE
    )
    EnvVar.objects.create(
        site=site,
        environment="production",
        name="STRIPE_SECRET_KEY",
        purpose=HOSTILE,
        storage="other",
        storage_detail=HOSTILE,
    )
    ChecklistItem.objects.create(site=site, label=HOSTILE)
    HandoverDocument.objects.create(
        site=site, deploy_steps=f"{HOSTILE}\n# not a heading", internal_notes="staff only"
    )
    EscalationContact.objects.create(workspace=site.workspace, name=HOSTILE, email="ana@example.com")
    AcceptedRisk.objects.create(
        site=site,
        check_id="dns.single_nameserver",
        subject=HOSTILE,
        reason=HOSTILE,
        expires_at=timezone.now() + dt.timedelta(days=30),
        accepted_by=owner,
    )
    return site


def test_markdown_escapes_every_hostile_value(hostile_site):
    text = markdown_doc.render(document.build(hostile_site, public=True))
    escaped = markdown_doc.md_text(HOSTILE)
    assert escaped.count("\\|") == 2 and "\\[click\\]" in escaped  # the escaper did its job
    # Outside code spans (which show text exactly and are never read as Markdown) the raw
    # text appears nowhere: no live link, no HTML, no table cell break.
    spans = [md_code(HOSTILE), md_code(f"www.shop.example.com/{HOSTILE}")]
    assert any(span in text for span in spans)
    for span in spans:
        text = text.replace(span, "CODE")
    assert HOSTILE not in text
    assert "](http://evil.example)" not in text.replace("\\](http://evil.example)", "")
    assert "<script>" not in text
    assert text.count(escaped) >= 8, "name, subject, purposes, owners, notes, labels, reason, contact"
    # A step that starts with "#" stays a list item, never a heading.
    assert "1. \\# not a heading" not in text and "2. # not a heading" in text
    assert not re.search(r"^# not a heading", text, re.M)
    # Every table row keeps its column count: the escaped "|" does not open a cell.
    for block in re.findall(r"(?:^\|.*\n)+", text, re.M):
        rows = block.splitlines()
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
        assert len(widths) == 1, rows


def test_markdown_is_the_clients_copy(hostile_site, owner):
    text = markdown_doc.render(document.build(hostile_site, public=True))
    assert "staff only" not in text
    assert owner.email not in text


def test_pdf_text_holds_the_key_sections(hostile_site):
    data = pdf.render(document.build(hostile_site, public=True))
    assert data.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    for section in SECTIONS:
        assert section in text, section
    assert "STRIPE_SECRET_KEY" in text and "Vercel" in text
    assert "staff only" not in text


def test_pdf_survives_text_outside_its_font(site):
    site.name = "Café Ünïcode 中文店 → ✓ 🛒 \u2028 end"
    site.save()
    data = pdf.render(document.build(site, public=True))
    text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "Handover: Café Ünïcode ??? -> v ? end" in " ".join(text.split())


def test_pdf_text_replaces_what_it_cannot_show():
    assert pdf.pdf_text("“quoted” – café …") == "“quoted” – café …"  # Windows-1252 has these
    assert pdf.pdf_text("Łódź → ✓") == "Lódz -> v"  # ó is in Windows-1252, ź is not
    assert pdf.pdf_text("中\x00\x1b") == "?"


def test_downloads_from_the_workspace(client_as, member, workspace, hostile_site):
    kwargs = {"workspace": workspace.uuid, "site": hostile_site.uuid}
    md = client_as(member).get(reverse("handover_markdown", kwargs=kwargs))
    assert md.status_code == 200 and md["Content-Type"].startswith("text/markdown")
    assert 'attachment; filename="handover-shop.example.com-' in md["Content-Disposition"]
    assert "staff only" not in md.content.decode()
    response = client_as(member).get(reverse("handover_pdf", kwargs=kwargs))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_the_page_escapes_html(client_as, member, workspace, hostile_site):
    kwargs = {"workspace": workspace.uuid, "site": hostile_site.uuid}
    body = client_as(member).get(reverse("handover_document", kwargs=kwargs)).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "staff only" in body  # the team's own page shows its internal notes
