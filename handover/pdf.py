"""The handover document as a PDF, with fpdf2.

fpdf2 is pure Python (its own dependencies, Pillow and fontTools, install from wheels),
so ``make run`` keeps working on a fresh machine with no system libraries. It ships no
Unicode TTF font, and we do not bundle one: the PDF uses the standard Helvetica in the
Windows-1252 encoding, which covers Western European text and typographic quotes and
dashes; anything else is transliterated (accents dropped, arrows spelled out) and what
is left becomes "?", so no text from a store can make the PDF fail.

The PDF shows the same sections as the Markdown (``handover.markdown_doc``), in plain
text: nothing in it is ever read as markup.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .document import Handover
from .markdown_doc import NOT_RECORDED, day, ms

ENCODING = "windows-1252"
_SPELLED = {
    "→": "->",
    "←": "<-",
    "⇒": "=>",
    "≥": ">=",
    "≤": "<=",
    "≠": "!=",
    "✓": "v",
    "✔": "v",
    "✗": "x",
    "✘": "x",
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "ı": "i",
    "\u2009": " ",
    "\u202f": " ",
    "\u2060": "",
    "\u200b": "",
}


def pdf_text(value: object) -> str:
    """``value`` in characters Helvetica (Windows-1252) can show; never raises."""
    out = []
    for ch in str(value):
        if ch in "\n\t" or (ch.isprintable() and _encodable(ch)):
            out.append(ch)
        elif ch in _SPELLED:
            out.append(_SPELLED[ch])
        elif not ch.isprintable():
            out.append(" " if unicodedata.category(ch) in ("Zl", "Zp") else "")
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(base if base and _encodable(base) else "?")
    return "".join(out)


def _encodable(text: str) -> bool:
    try:
        text.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


class _Pdf(FPDF):
    def __init__(self, doc: Handover) -> None:
        super().__init__(format="A4")
        self.core_fonts_encoding = ENCODING
        self.doc = doc
        self.set_margins(16, 16, 16)
        self.set_auto_page_break(auto=True, margin=16)
        self.set_title(pdf_text(f"Handover: {doc.name}"))
        self.set_creator("Launch Ready")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(110)
        self.cell(0, 6, pdf_text(f"Handover of {self.doc.domain} · page {self.page_no()}"), align="C")
        self.set_text_color(0)

    # -- building blocks --

    def heading(self, text: str, level: int = 2) -> None:
        size = {1: 18, 2: 13, 3: 11}[level]
        if self.will_page_break(25):  # never leave a heading alone at the bottom of a page
            self.add_page()
        if level == 2:
            self.ln(3)
        self.set_font("Helvetica", "B", size)
        self.multi_cell(0, size * 0.5, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)
        self.set_font("Helvetica", size=10)

    def para(self, text: str, *, size: int = 10) -> None:
        self.set_font("Helvetica", size=size)
        self.multi_cell(0, 5, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)

    def items(self, lines: Iterable[str], *, numbered: bool = False, marks: Sequence[str] = ()) -> None:
        self.set_font("Helvetica", size=10)
        for i, line in enumerate(lines, start=1):
            mark = marks[i - 1] if marks else f"{i}." if numbered else "•"
            self.cell(8, 5, pdf_text(mark))
            self.multi_cell(0, 5, pdf_text(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)

    def table(self, head: Sequence[str], rows: Iterable[Sequence[str]], widths: Sequence[int]) -> None:
        self.set_font("Helvetica", size=8)
        with super().table(col_widths=widths, line_height=4, text_align="LEFT", padding=1) as table:
            heading = table.row()
            for cell in head:
                heading.cell(pdf_text(cell))
            for row in rows:
                line = table.row()
                for cell in row:
                    line.cell(pdf_text(cell or ""))
        self.ln(2)
        self.set_font("Helvetica", size=10)


def render(doc: Handover) -> bytes:
    pdf = _Pdf(doc)
    pdf.add_page()
    pdf.heading(f"Handover: {doc.name}", level=1)
    pdf.para(f"{doc.domain} · generated on {day(doc.generated_at, doc)} by Launch Ready.", size=9)
    for part in (
        _checklist,
        _changes,
        _open,
        _accepted,
        _secrets,
        _deploy,
        _alerts,
        _owners,
        _contacts,
        _week_one,
    ):
        part(pdf, doc)
    return bytes(pdf.output())


def _checklist(pdf: _Pdf, doc: Handover) -> None:
    pdf.heading("Handover checklist")
    pdf.para(f"{doc.checklist_done} of {len(doc.checklist)} done.")
    lines = []
    for line in doc.checklist:
        state = f"{line.label} (done on {day(line.done_at, doc)}" if line.done else line.label
        if line.done:
            state += f" by {line.done_by})" if line.done_by else ")"
        lines.append(state)
    pdf.items(lines, marks=["[x]" if line.done else "[  ]" for line in doc.checklist])


def _changes(pdf: _Pdf, doc: Handover) -> None:
    a = doc.audits
    pdf.heading("What changed since the first audit")
    if not a.runs:
        pdf.para("No audit has finished yet.")
        return
    pdf.para(
        f"First audit: {day(a.first_at, doc)}, {a.first_label}. "
        f"Latest audit: {day(a.latest_at, doc)}, {a.latest_label} ({a.runs} audits)."
    )
    if not doc.resolved:
        pdf.para("Nothing has been fixed between the first and the latest audit yet.")
        return
    rows = [
        (day(r.resolved_on, doc), r.severity.capitalize(), r.title, r.subject, day(r.found_on, doc))
        for r in doc.resolved
    ]
    pdf.table(("Fixed on", "Severity", "What was fixed", "Where", "First found"), rows, (22, 16, 70, 46, 24))


def _open(pdf: _Pdf, doc: Handover) -> None:
    pdf.heading("What is still open")
    if not doc.open:
        pdf.para("Nothing: the latest audit found no open problem." if doc.audits.runs else "No audit yet.")
        return
    rows = [
        (i.severity.capitalize(), i.title, i.subject, day(i.since, doc), i.fix.replace("`", ""))
        for i in doc.open
    ]
    pdf.table(("Severity", "Problem", "Where", "Open since", "How to fix"), rows, (16, 48, 36, 22, 56))


def _accepted(pdf: _Pdf, doc: Handover) -> None:
    pdf.heading("Accepted risks")
    if not doc.accepted:
        pdf.para("None.")
        return
    rows = [
        (
            a.title,
            a.subject,
            a.reason,
            day(a.expires_at, doc) + (f" ({a.accepted_by})" if a.accepted_by else ""),
        )
        for a in doc.accepted
    ]
    pdf.table(("Risk", "Where", "Why it is accepted", "Accepted until"), rows, (50, 36, 62, 30))


def _secrets(pdf: _Pdf, doc: Handover) -> None:
    pdf.heading("Where secrets live")
    pdf.para("Names and places only: Launch Ready never stores a value.")
    if not doc.secrets:
        pdf.para("No environment variables are recorded yet.")
        return
    for env in doc.environments:
        pdf.heading(env, level=3)
        rows = [
            (
                s.name,
                s.purpose,
                "required" if s.required else "optional",
                s.stored_in or NOT_RECORDED,
                s.owner,
                day(s.last_rotated),
            )
            for s in doc.secrets_in(env)
        ]
        pdf.table(
            ("Variable", "Purpose", "Needed", "Value kept in", "Owner", "Rotated"),
            rows,
            (44, 44, 16, 38, 18, 18),
        )


def _deploy(pdf: _Pdf, doc: Handover) -> None:
    d = doc.deploy
    pdf.heading("How to deploy and roll back")
    if d.own_deploy_steps:
        pdf.heading("Deploying this store", level=3)
        pdf.items(d.own_deploy_steps, numbered=True)
    if d.own_rollback_steps:
        pdf.heading("Rolling this store back", level=3)
        pdf.items(d.own_rollback_steps, numbered=True)
    pdf.heading(f"On {d.guide.name}" + (f" ({d.hosting})" if d.hosting else ""), level=3)
    pdf.para("Deploy:")
    pdf.items((s.replace("`", "") for s in d.guide.deploy), numbered=True)
    pdf.para("Roll back:")
    pdf.items((s.replace("`", "") for s in d.guide.rollback), numbered=True)
    if d.guide.docs_url:
        pdf.para(f"The host's own guide: {d.guide.docs_url}")
    if d.last_known_good:
        good = "; ".join(
            f"{g.environment}: {g.version} ({day(g.deployed_at, doc)})" for g in d.last_known_good
        )
        pdf.para(f"Last known good version: {good}.")
    if d.last_rollback_at:
        kind = "rehearsal" if d.last_rollback_kind == "rehearsal" else "rollback"
        took = f", {d.last_rollback_minutes:g} minutes" if d.last_rollback_minutes is not None else ""
        pdf.para(f"Last {kind}: {day(d.last_rollback_at, doc)}{took}.")
    else:
        pdf.para("No rollback has been rehearsed yet.")


def _alerts(pdf: _Pdf, doc: Handover) -> None:
    pdf.heading("Alerts and who gets them")
    if doc.alerts:
        rows = [(a.monitor, a.watches, a.severity, ", ".join(a.channels) or "nobody") for a in doc.alerts]
        pdf.table(("Alert", "Watches", "Severity", "Who gets it"), rows, (50, 52, 18, 58))
    else:
        pdf.para("No monitors watch this store yet.")
    pdf.heading("By severity", level=3)
    rows = [(r.severity, ", ".join(r.channels) or "nobody", r.note) for r in doc.routing]
    pdf.table(("Severity", "Who gets it", "When"), rows, (20, 70, 88))
    pdf.para(
        f"A critical incident nobody acknowledges within {doc.escalate_after_minutes} minutes "
        "goes to the next escalation contact."
    )


def _owners(pdf: _Pdf, doc: Handover) -> None:
    pdf.heading("Who owns each service")
    if doc.services:
        rows = [
            (
                s.service,
                s.provider,
                s.owner or (NOT_RECORDED if not s.recorded else ""),
                s.access,
                s.credentials_location,
                day(s.renews_on),
                s.notes if s.recorded else "detected by the audit",
            )
            for s in doc.services
        ]
        pdf.table(
            ("Service", "Provider", "Owner", "Who has access", "Credentials live in", "Renews", "Notes"),
            rows,
            (22, 26, 22, 28, 30, 20, 30),
        )
    else:
        pdf.para("No services recorded yet.")
    if doc.subdomains:
        pdf.heading("Subdomains", level=3)
        pdf.table(
            ("Host", "Purpose", "Owner"), [(s.host, s.purpose, s.owner) for s in doc.subdomains], (60, 78, 40)
        )


def _contacts(pdf: _Pdf, doc: Handover) -> None:
    pdf.heading("Escalation contacts")
    if not doc.contacts:
        pdf.para("None yet: add them on the monitoring page.")
        return
    pdf.items(
        (f"{c.name}: {c.email}" + (f", {c.phone}" if c.phone else "") for c in doc.contacts), numbered=True
    )


def _week_one(pdf: _Pdf, doc: Handover) -> None:
    w = doc.week_one
    pdf.heading("Week one: what good looks like")
    pdf.heading("Critical routes today", level=3)
    rows = [
        (
            r.name,
            r.path,
            f"{r.budget_ms:,} ms",
            "no data" if r.uptime_today is None else f"{r.uptime_today:.2f} %",
            ms(r.p95_ms),
            {True: "yes", False: "NO", None: "no data"}[r.within_budget],
        )
        for r in w.routes
    ]
    pdf.table(
        ("Route", "Path", "Budget (p95)", "Uptime today", "p95", "Within budget"),
        rows,
        (24, 50, 26, 26, 26, 26),
    )
    pdf.heading("Certificate and domain dates", level=3)
    if w.dates:
        rows = [(d.what, day(d.expires_at, doc), str(d.days_left), d.source) for d in w.dates]
        pdf.table(("What", "Expires", "Days left", "From"), rows, (80, 38, 24, 36))
    else:
        pdf.para("Not known yet: the expiry monitors have not run and no audit has read them.")
    pdf.heading("If you get an alert", level=3)
    rows = [(g.alert, g.severity, g.meaning, g.first_step) for g in w.guides]
    pdf.table(("Alert", "Severity", "What it means", "First thing to do"), rows, (38, 18, 61, 61))
