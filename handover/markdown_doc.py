"""The handover document as Markdown (the download, and the client's copy behind a share link).

Every text that came from the store, its settings or a person (subjects, names, purposes,
owners, notes, steps, versions) goes through ``audits.markdown``'s escapers, so a hostile
value reads as the same characters and never as a link, HTML or a table cell break.
Texts we wrote ourselves (the catalogue's titles and fixes, the host guides) are authored
Markdown and are not escaped, as in the audit's own export.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from audits.markdown import md_code, md_text
from launchready.formats import human_date

from .document import Handover

NOT_RECORDED = "not recorded"


def day(value: date | datetime | None, doc: Handover | None = None) -> str:
    """``5 December 2026`` (in the workspace's time zone for instants)."""
    if value is None:
        return ""
    if isinstance(value, datetime) and doc is not None:
        value = doc.local(value)
    return human_date(value, value.tzinfo if isinstance(value, datetime) else None)


def ms(value: float | None) -> str:
    return "no data" if value is None else f"{value:,.0f} ms"


def _table(head: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    """A GFM table. Cells must already be escaped with ``md_text``, which escapes ``|``
    (a code span would not: GFM splits cells on a ``|`` even inside one)."""
    head = list(head)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _t(value: object) -> str:
    return md_text(value) if value not in (None, "") else ""


def _steps(steps: Iterable[str], *, authored: bool = False) -> list[str]:
    return [f"{i}. {step if authored else md_text(step)}" for i, step in enumerate(steps, start=1)]


def render(doc: Handover) -> str:
    out: list[str] = [f"# Handover: {md_text(doc.name)}", ""]
    if doc.name != doc.domain:
        out += [f"Store: {md_code(doc.domain)}", ""]
    out += [f"Generated on {day(doc.generated_at, doc)} by Launch Ready.", ""]
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
        out += part(doc)
    return "\n".join(out).rstrip() + "\n"


def _checklist(doc: Handover) -> list[str]:
    out = ["## Handover checklist", "", f"{doc.checklist_done} of {len(doc.checklist)} done.", ""]
    for line in doc.checklist:
        done = f" (done on {day(line.done_at, doc)}{f' by {md_text(line.done_by)}' if line.done_by else ''})"
        out.append(f"- [{'x' if line.done else ' '}] {md_text(line.label)}{done if line.done else ''}")
    return [*out, ""]


def _changes(doc: Handover) -> list[str]:
    a = doc.audits
    out = ["## What changed since the first audit", ""]
    if not a.runs:
        return [*out, "No audit has finished yet.", ""]
    out += [
        f"First audit: {day(a.first_at, doc)}, {a.first_label}. "
        f"Latest audit: {day(a.latest_at, doc)}, {a.latest_label} ({a.runs} audits).",
        "",
    ]
    if not doc.resolved:
        return [*out, "Nothing has been fixed between the first and the latest audit yet.", ""]
    rows = [
        (day(r.resolved_on, doc), r.severity.capitalize(), r.title, _t(r.subject), day(r.found_on, doc))
        for r in doc.resolved
    ]
    return out + _table(("Fixed on", "Severity", "What was fixed", "Where", "First found"), rows)


def _open(doc: Handover) -> list[str]:
    out = ["## What is still open", ""]
    if not doc.open:
        return [
            *out,
            "Nothing: the latest audit found no open problem." if doc.audits.runs else "No audit yet.",
            "",
        ]
    for item in doc.open:
        since = f", open since {day(item.since, doc)}" if item.since else ""
        out.append(f"- **{item.severity.capitalize()}**: {item.title} ({md_code(item.subject)}{since})")
        if item.fix:
            out.append(f"  How to fix: {item.fix}")
    return [*out, ""]


def _accepted(doc: Handover) -> list[str]:
    out = ["## Accepted risks", ""]
    if not doc.accepted:
        return [*out, "None.", ""]
    for a in doc.accepted:
        by = f" (accepted by {md_text(a.accepted_by)})" if a.accepted_by else ""
        out.append(
            f"- {a.title} ({md_code(a.subject)}): {md_text(a.reason)} Accepted until {day(a.expires_at, doc)}{by}."
        )
    return [*out, ""]


def _secrets(doc: Handover) -> list[str]:
    out = [
        "## Where secrets live",
        "",
        "Names and places only: Launch Ready never stores a value.",
        "",
    ]
    if not doc.secrets:
        return [*out, "No environment variables are recorded yet.", ""]
    for env in doc.environments:
        rows = [
            (
                _t(s.name),
                _t(s.purpose),
                "required" if s.required else "optional",
                _t(s.stored_in) or f"**{NOT_RECORDED}**",
                _t(s.owner),
                day(s.last_rotated),
            )
            for s in doc.secrets_in(env)
        ]
        out += [f"### {md_text(env)}", ""]
        out += _table(("Variable", "Purpose", "Needed", "Value kept in", "Owner", "Last rotated"), rows)
    return out


def _deploy(doc: Handover) -> list[str]:
    d = doc.deploy
    out = ["## How to deploy and roll back", ""]
    if d.own_deploy_steps:
        out += ["### Deploying this store", "", *_steps(d.own_deploy_steps), ""]
    if d.own_rollback_steps:
        out += ["### Rolling this store back", "", *_steps(d.own_rollback_steps), ""]
    host = f" ({md_text(d.hosting)})" if d.hosting else ""
    out += [f"### On {d.guide.name}{host}", "", "Deploy:", "", *_steps(d.guide.deploy, authored=True), ""]
    out += ["Roll back:", "", *_steps(d.guide.rollback, authored=True), ""]
    if d.guide.docs_url:
        out += [f"The host's own guide: <{d.guide.docs_url}>", ""]
    if d.last_known_good:
        good = "; ".join(
            f"{md_text(g.environment)}: {md_code(g.version)} ({day(g.deployed_at, doc)})"
            for g in d.last_known_good
        )
        out += [f"Last known good version: {good}.", ""]
    if d.last_rollback_at:
        kind = "rehearsal" if d.last_rollback_kind == "rehearsal" else "rollback"
        took = f", {d.last_rollback_minutes:g} minutes" if d.last_rollback_minutes is not None else ""
        out += [f"Last {kind}: {day(d.last_rollback_at, doc)}{took}.", ""]
    else:
        out += ["No rollback has been rehearsed yet.", ""]
    return out


def _alerts(doc: Handover) -> list[str]:
    out = ["## Alerts and who gets them", ""]
    if doc.alerts:
        rows = [
            (_t(a.monitor), _t(a.watches), a.severity, _t(", ".join(a.channels)) or "nobody")
            for a in doc.alerts
        ]
        out += _table(("Alert", "Watches", "Severity", "Who gets it"), rows)
    else:
        out += ["No monitors watch this store yet.", ""]
    rows = [(r.severity, _t(", ".join(r.channels)) or "nobody", r.note) for r in doc.routing]
    out += ["### By severity", "", *_table(("Severity", "Who gets it", "When"), rows)]
    out += [
        f"A critical incident nobody acknowledges within {doc.escalate_after_minutes} minutes "
        "goes to the next escalation contact.",
        "",
    ]
    return out


def _owners(doc: Handover) -> list[str]:
    out = ["## Who owns each service", ""]
    if doc.services:
        rows = [
            (
                _t(s.service),
                _t(s.provider),
                _t(s.owner) or (f"**{NOT_RECORDED}**" if not s.recorded else ""),
                _t(s.access),
                _t(s.credentials_location),
                day(s.renews_on),
                _t(s.notes) if s.recorded else "detected by the audit",
            )
            for s in doc.services
        ]
        out += _table(
            ("Service", "Provider", "Owner", "Who has access", "Credentials live in", "Renews", "Notes"), rows
        )
    else:
        out += ["No services recorded yet.", ""]
    if doc.subdomains:
        rows = [(_t(s.host), _t(s.purpose), _t(s.owner)) for s in doc.subdomains]
        out += ["### Subdomains", "", *_table(("Host", "Purpose", "Owner"), rows)]
    return out


def _contacts(doc: Handover) -> list[str]:
    out = ["## Escalation contacts", ""]
    if not doc.contacts:
        return [*out, "None yet: add them on the monitoring page.", ""]
    for c in doc.contacts:
        phone = f", {md_text(c.phone)}" if c.phone else ""
        out.append(f"{c.position}. {md_text(c.name)}: {md_text(c.email)}{phone}")
    return [*out, ""]


def _week_one(doc: Handover) -> list[str]:
    w = doc.week_one
    out = ["## Week one: what good looks like", "", "### Critical routes today", ""]
    rows = []
    for r in w.routes:
        uptime = "no data" if r.uptime_today is None else f"{r.uptime_today:.2f} %"
        verdict = {True: "yes", False: "**no**", None: "no data"}[r.within_budget]
        rows.append((_t(r.name), _t(r.path), f"{r.budget_ms:,} ms", uptime, ms(r.p95_ms), verdict))
    out += _table(("Route", "Path", "Budget (p95)", "Uptime today", "p95", "Within budget"), rows)
    out += ["### Certificate and domain dates", ""]
    if w.dates:
        rows = [(_t(d.what), day(d.expires_at, doc), str(d.days_left), d.source) for d in w.dates]
        out += _table(("What", "Expires", "Days left", "From"), rows)
    else:
        out += ["Not known yet: the expiry monitors have not run and no audit has read them.", ""]
    out += ["### If you get an alert", ""]
    rows = [(_t(g.alert), g.severity, g.meaning, g.first_step) for g in w.guides]
    return out + _table(("Alert", "Severity", "What it means", "First thing to do"), rows)
