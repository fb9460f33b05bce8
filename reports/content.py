"""What a workspace's weekly report says: read from the stored data, no rendering here.

``build(workspace, start, end)`` returns a ``WeeklyContent``: the headline (the
subject line), a sentence saying the same, and sections of items, each with the
absolute URL of the page that fixes it. A section the product had no data for says
so ("No uptime checks ran this week"); missing data is never shown as good.
``build_many(workspaces, start, end)`` builds a batch of reports with one query per
kind of row for the whole batch (about a dozen), so the weekly run of a thousand
workspaces costs a few dozen queries, not ten thousand.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse

from audits.checks import Verdict
from audits.models import Finding
from handover.models import Deploy
from launchready.formats import human_date, human_datetime
from launchready.models import Workspace
from monitoring.messages import human_duration
from monitoring.models import AlertSeverity, Incident, Monitor
from monitoring.rollups import Summary

from .week import WeekFacts, read

EXPIRY_HORIZON = timedelta(days=30)
SUBJECT_PARTS = 2
TONE_COLOURS = {"bad": "#b91c1c", "warn": "#92400e", "good": "#166534", "": "#1a1f2b"}


@dataclass(frozen=True)
class Item:
    """One line of a section; ``url`` opens the page where it is fixed or explained."""

    text: str
    url: str
    detail: str = ""
    tone: str = ""  # "bad", "warn", "good" or "" (neutral)
    bar: float | None = None  # 0..1 for a bar drawn beside the line (uptime, p95 vs budget)

    @property
    def colour(self) -> str:
        return TONE_COLOURS.get(self.tone, TONE_COLOURS[""])

    @property
    def bar_pct(self) -> int:
        """The bar's filled share in whole percent, 1..99 so both cells keep a width."""
        return max(1, min(99, round((self.bar or 0) * 100)))


@dataclass
class Section:
    key: str
    title: str
    items: list[Item] = field(default_factory=list)
    empty: str = ""  # the one line shown when there are no items


@dataclass
class WeeklyContent:
    workspace_name: str
    period_start: datetime
    period_end: datetime
    timezone: str
    subject: str
    sentence: str
    healthy: bool
    sections: list[Section]
    report_url: str = ""
    settings_url: str = ""

    @property
    def shown_sections(self) -> list[Section]:
        return [s for s in self.sections if s.items or s.empty]


def absolute(name: str, **kwargs) -> str:
    return settings.SITE_URL + reverse(name, kwargs=kwargs)


def format_pct(value: float) -> str:
    """99.987 → "99.98%": rounded down, so a week with any failure never reads 100%."""
    floored = math.floor(value * 100) / 100
    return "100%" if floored >= 100 else f"{floored:.2f}%"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def _on_subjects(xs: list[Finding]) -> str:
    """Says "on 3 subjects" when a problem covers several (one finding per subject)."""
    return f" on {len(xs)} subjects" if len(xs) > 1 else ""


def _age(since: datetime, now: datetime) -> str:
    days = (now - since).days
    return "since today" if days < 1 else f"open {_plural(days, 'day')}"


def _verdict_label(value: str) -> str:
    return Verdict(value).label if value in {v.value for v in Verdict} else "no verdict"


def _verdict_and_findings(f: WeekFacts) -> list[Section]:
    ws = f.workspace.uuid
    rows, runs, findings = f.site_runs, f.runs, f.findings
    site_by_pk = {s.pk: s for s in f.sites}
    verdicts = Section("verdict", "Launch verdict")
    open_items = Section(
        "open",
        "Open blockers and high-severity problems",
        empty="No blockers or high-severity problems are open.",
    )
    resolved = Section("resolved", "Fixed this week")
    # One problem once, as the plan counts it: a check failing at one severity on several
    # subjects of a site is one item (site, check, severity) -> (its findings, run URL).
    open_problems: dict[tuple[int, str, str], tuple[list[Finding], str]] = {}
    resolved_problems: dict[tuple[int, str], tuple[list[Finding], str]] = {}
    for site_pk, now_pk, before_pk in rows:
        s = site_by_pk[site_pk]
        site_url = absolute("site_detail", workspace=ws, site=s.uuid)
        if not now_pk:
            verdicts.items.append(
                Item(
                    f"{s.display_name}: no audit yet",
                    site_url,
                    "Run an audit to get the launch verdict.",
                    "warn",
                )
            )
            f.problem(5, f"no audit of {s.domain} yet", f"{s.domain} has not been audited yet")
            continue
        run = runs[now_pk]
        run_url = absolute("audit_run_detail", workspace=ws, site=s.uuid, run=run.uuid)
        label = _verdict_label(run.verdict)
        before = runs.get(before_pk) if before_pk else None
        if before is None:
            change = "first verdict this week"
        elif before.verdict == run.verdict:
            change = "unchanged since last week"
        else:
            was = _verdict_label(before.verdict)
            change = f"was {was} last week"
        tone = {Verdict.READY: "good", Verdict.READY_WITH_RISKS: "warn"}.get(run.verdict, "bad")
        verdicts.items.append(Item(f"{s.display_name}: {label}", run_url, change, tone))
        current = findings.get(now_pk, [])
        current_keys = {x.key for x in current}
        for x in current:
            if x.severity in ("blocker", "high"):
                open_problems.setdefault((site_pk, x.check_id, x.severity), ([], run_url))[0].append(x)
        for x in findings.get(before_pk, []) if before_pk else []:
            if x.key not in current_keys:
                resolved_problems.setdefault((site_pk, x.check_id), ([], run_url))[0].append(x)
    first_seen = f.first_seen
    blockers = sum(severity == "blocker" for _site, _check, severity in open_problems)
    highs = sum(severity == "high" for _site, _check, severity in open_problems)
    ordered = sorted(open_problems.items(), key=lambda kv: (kv[0][2] != "blocker", kv[1][0][0].title))
    for (site_pk, _check, severity), (xs, run_url) in ordered:
        seen = [first_seen[key] for x in xs if (key := (site_pk, x.check_id, x.subject)) in first_seen]
        where = site_by_pk[site_pk].display_name + _on_subjects(xs)
        age = _age(min(seen), f.end) if seen else ""
        tone = "bad" if severity == "blocker" else "warn"
        open_items.items.append(
            Item(
                f"{severity.capitalize()}: {xs[0].title}",
                run_url,
                ", ".join(filter(None, [where, age])),
                tone,
            )
        )
    for (site_pk, _check), (xs, run_url) in resolved_problems.items():
        title = f"{site_by_pk[site_pk].display_name}: {xs[0].title}"
        resolved.items.append(Item(title, run_url, "No longer found" + _on_subjects(xs) + ".", "good"))
    if blockers:
        f.problem(0, f"{_plural(blockers, 'blocker')} open", f"{_plural(blockers, 'blocker')} open")
    elif highs:
        f.problem(
            2,
            f"{_plural(highs, 'high-severity problem')} open",
            f"{_plural(highs, 'high-severity problem')} open",
        )
    if not verdicts.items:
        verdicts.empty = "No site has been audited yet."
    return [verdicts, open_items, resolved]


def _monitor_url(f: WeekFacts, m: Monitor) -> str:
    return absolute("monitoring:monitor_detail", workspace=f.workspace.uuid, monitor=m.uuid)


def _uptime_and_speed(f: WeekFacts) -> list[Section]:
    http = [m for m in f.monitors if m.kind == Monitor.Kind.HTTP and m.state != Monitor.State.PAUSED]
    critical = [m for m in http if m.severity == AlertSeverity.CRITICAL]
    this_week, last_week = f.this_week, f.last_week
    uptime = Section("uptime", "Uptime of critical pages")
    if not critical:
        uptime.empty = "No critical page is monitored, so uptime was not measured."
    checks = failures = 0
    for m in critical:
        now, before = this_week.get(m.pk), last_week.get(m.pk)
        if now is None or now.uptime_pct is None:
            uptime.items.append(
                Item(f"{m.name}: no checks recorded", _monitor_url(f, m), "Not measured this week.", "warn")
            )
            continue
        checks += now.checks
        failures += now.failures
        was = (
            f"last week {format_pct(before.uptime_pct)}"
            if before and before.uptime_pct is not None
            else "no figure for last week"
        )
        tone = "good" if now.failures == 0 else ("warn" if now.uptime_pct >= 99.9 else "bad")
        uptime.items.append(
            Item(
                f"{m.name}: {format_pct(now.uptime_pct)}", _monitor_url(f, m), was, tone, now.uptime_pct / 100
            )
        )
    overall = 100.0 * (checks - failures) / checks if checks else None
    if overall is not None and overall < 99.9:
        f.problem(
            1, f"uptime {format_pct(overall)}", f"critical pages were up {format_pct(overall)} of the time"
        )
    speed = _route_speed(f, http, this_week, last_week)
    f.overall_uptime = overall
    return [uptime, speed]


def _route_speed(
    f: WeekFacts, http: list[Monitor], this_week: dict[int, Summary], last_week: dict[int, Summary]
) -> Section:
    section = Section("speed", "Response time (p95) of critical routes")
    by_key = {(m.site_id, m.auto_key): m for m in http}
    for route in f.routes:
        key = "home" if route.path == "/" else f"route:{route.name}"
        m = by_key.get((route.site_id, key))
        if m is None:
            continue
        now, before = this_week.get(m.pk), last_week.get(m.pk)
        url = _monitor_url(f, m)
        if now is None or now.p95_ms is None:
            section.items.append(
                Item(f"{route.name}: not measured", url, "No successful timed check this week.", "warn")
            )
            continue
        p95, budget = now.p95_ms, route.budget_ms
        if before is None or before.p95_ms is None:
            trend = "no figure for last week"
        elif abs(p95 - before.p95_ms) < max(20, before.p95_ms // 10):
            trend = f"steady (last week {before.p95_ms} ms)"
        else:
            trend = f"{'slower' if p95 > before.p95_ms else 'faster'} than last week ({before.p95_ms} ms)"
        over = p95 > budget
        section.items.append(
            Item(
                f"{route.name}: {p95} ms (budget {budget} ms)",
                url,
                trend,
                "bad" if over else "good",
                min(1.0, p95 / (2 * budget)) if budget else None,
            )
        )
        if over:
            f.problem(
                3,
                f"{route.name} p95 {p95} ms",
                f"{route.name} took {p95} ms at p95, over its {budget} ms budget",
            )
    if not section.items:
        section.empty = "No critical route was timed this week."
    return section


def _outages(parts: list[Incident], end: datetime) -> list[tuple[float, Incident]]:
    """Each outage once (parts of one primary are one outage): its seconds, from the first
    monitor down to the last one back, within the week."""
    by_primary: dict[int, list[Incident]] = defaultdict(list)
    for part in parts:
        by_primary[part.primary_id or part.pk].append(part)
    outages = []
    for members in by_primary.values():
        first = min(members, key=lambda i: i.started_at)
        ends = [i.ended_at or end for i in members]
        outages.append((max(0.0, (min(max(ends), end) - first.started_at).total_seconds()), first))
    return outages


def _incidents(f: WeekFacts) -> list[Section]:
    incidents = f.incidents
    ws = f.workspace.uuid
    grouped: dict[str, list[Incident]] = defaultdict(list)
    heartbeats = Section("heartbeats", "Missed heartbeats")
    info = Section("info", "For your information")
    open_now = 0
    for inc in incidents:
        url = absolute("monitoring:incident", workspace=ws, incident=inc.uuid)
        started_in_week = inc.started_at >= f.start
        if inc.severity == AlertSeverity.INFO:
            if started_in_week:
                info.items.append(
                    Item(
                        f"{inc.monitor.name}: {inc.cause}",
                        url,
                        human_datetime(inc.started_at, f.workspace.timezone),
                    )
                )
            continue
        if inc.monitor.kind == Monitor.Kind.HEARTBEAT:
            if started_in_week:
                heartbeats.items.append(
                    Item(
                        f"{inc.monitor.name} missed a ping",
                        url,
                        f"{human_datetime(inc.started_at, f.workspace.timezone)} — {inc.cause}",
                        "bad",
                    )
                )
            continue
        if inc.monitor.kind in (Monitor.Kind.TLS_EXPIRY, Monitor.Kind.DOMAIN_EXPIRY):
            continue  # the expiry section says it with the date
        # Monitors that failed for one cause share a primary incident: one outage, told
        # once, in the words of the primary (which names the cause and its monitors).
        grouped[(inc.group.cause_key or inc.group.cause)].append(inc)
    section = Section("incidents", "Incidents", empty="No incidents this week.")
    outages = {key: _outages(group, f.end) for key, group in grouped.items()}
    for key, group in sorted(grouped.items(), key=lambda g: -sum(seconds for seconds, _ in outages[g[0]])):
        events = outages[key]
        total = sum(seconds for seconds, _ in events)
        names = ", ".join(sorted({i.monitor.name for i in group}))
        still = " — still open" if any(i.ended_at is None for i in group) else ""
        open_now += any(i.ended_at is None for i in group)
        latest = max(group, key=lambda i: i.started_at).group
        url = absolute("monitoring:incident", workspace=ws, incident=latest.uuid)
        section.items.append(
            Item(
                f"{latest.cause} ({_plural(len(events), 'time')}, {human_duration(total)} in all){still}",
                url,
                names,
                "bad" if still else "warn",
            )
        )
    if open_now:
        f.problem(0, f"{_plural(open_now, 'incident')} open", f"{_plural(open_now, 'incident')} still open")
    if heartbeats.items:
        n = len(heartbeats.items)
        f.problem(4, f"{_plural(n, 'missed heartbeat')}", f"{_plural(n, 'job')} missed a heartbeat")
    elif any(m.kind == Monitor.Kind.HEARTBEAT for m in f.monitors):
        heartbeats.empty = "Every heartbeat arrived on time."
    return [section, heartbeats, info]


def _expiry(f: WeekFacts) -> Section:
    section = Section("expiry", "Certificates and domains expiring within 30 days")
    watched = [m for m in f.monitors if m.kind in (Monitor.Kind.TLS_EXPIRY, Monitor.Kind.DOMAIN_EXPIRY)]
    for m in sorted(watched, key=lambda m: (m.expires_at is not None, m.expires_at or f.end)):
        url = _monitor_url(f, m)
        if m.expires_at is None:
            if m.last_checked_at is not None:
                section.items.append(
                    Item(
                        f"{m.name}: expiry date unknown",
                        url,
                        m.last_message or "We could not read the date.",
                        "warn",
                    )
                )
            continue
        left = (m.expires_at - f.end).days
        if m.expires_at - f.end > EXPIRY_HORIZON:
            continue
        tone = "bad" if left <= 14 else "warn"
        when = "expired" if left < 0 else f"expires in {_plural(left, 'day')}"
        section.items.append(
            Item(f"{m.name} {when}", url, f"on {human_date(m.expires_at, f.workspace.timezone)}", tone)
        )
        if left <= 14:
            f.problem(1, f"{m.hostname} {when}", f"{m.hostname} {when}")
    if not section.items:
        section.empty = (
            "Nothing expires within 30 days." if watched else "No certificate or domain expiry is monitored."
        )
    return section


def _deploys(f: WeekFacts) -> Section:
    section = Section("deploys", "Deploys and smoke tests")
    ws = f.workspace.uuid
    failed = 0
    for d in f.deploys:
        url = absolute("deploy_detail", workspace=ws, site=d.site.uuid, deploy=d.uuid)
        result = {
            Deploy.State.PASSED: ("smoke test passed", "good"),
            Deploy.State.FAILED: (f"smoke test failed{': ' + d.smoke_error if d.smoke_error else ''}", "bad"),
        }.get(d.state, ("smoke test not finished", "warn"))
        failed += d.state == Deploy.State.FAILED
        what = "Rollback" if d.kind == Deploy.Kind.ROLLBACK else "Deploy"
        section.items.append(
            Item(
                f"{what} {d.version} to {d.environment} ({d.site.domain})",
                url,
                f"{human_date(d.created_at, f.workspace.timezone)} — {result[0]}",
                result[1],
            )
        )
    if failed:
        f.problem(
            4, f"{_plural(failed, 'failed smoke test')}", f"{_plural(failed, 'deploy')} failed its smoke test"
        )
    if not section.items:
        section.empty = "No deploys were reported this week."
    return section


def _dmarc(f: WeekFacts) -> Section:
    section = Section("dmarc", "Email authentication (DMARC reports)")
    if not f.sites:
        return section
    first_site = f.sites[0]
    url = absolute("email_overview", workspace=f.workspace.uuid, site=first_site.uuid)
    volume = passed = 0
    unknown: set[str] = set()
    for count, dkim, spf, service, ip in f.dmarc_rows:
        volume += count
        ok = dkim == "pass" or spf == "pass"
        passed += count if ok else 0
        if not ok and not service:
            unknown.add(ip)
    if not volume:
        has_address = f.has_dmarc_address
        section.empty = (
            "No DMARC reports arrived this week, so we cannot say how your email authenticated."
            if has_address
            else "No DMARC report address is set up, so we cannot see who sends email as you."
        )
        if not has_address:
            section.items.append(Item("Set up a DMARC report address", url, section.empty, "warn"))
        return section
    rate = 100.0 * passed / volume
    section.items.append(
        Item(
            f"{_plural(volume, 'message')} reported, {format_pct(rate)} passed",
            url,
            "",
            "good" if rate >= 98 else "warn",
            rate / 100,
        )
    )
    if unknown:
        section.items.append(
            Item(
                f"{_plural(len(unknown), 'unknown sender')} failed authentication",
                url,
                "Someone else may be sending email as your domain, or a service you use is not set up.",
                "bad",
            )
        )
        f.problem(
            6,
            f"{_plural(len(unknown), 'unknown sender')}",
            f"{_plural(len(unknown), 'unknown server')} sent email as your domain",
        )
    return section


def build(workspace: Workspace, start: datetime, end: datetime) -> WeeklyContent:
    return build_many([workspace], start, end)[workspace.pk]


def build_many(workspaces: Sequence[Workspace], start: datetime, end: datetime) -> dict[int, WeeklyContent]:
    """The reports of these workspaces for one period, by workspace id, read in one batch."""
    batch = [WeekFacts(ws, start, end) for ws in {ws.pk: ws for ws in workspaces}.values()]
    read(batch, start, end)
    return {f.workspace.pk: _content(f) for f in batch}


def _content(f: WeekFacts) -> WeeklyContent:
    workspace, start, end = f.workspace, f.start, f.end
    sections = _verdict_and_findings(f)
    sections += _uptime_and_speed(f)
    incidents, heartbeats, info = _incidents(f)
    sections += [incidents, _expiry(f), heartbeats, _deploys(f), _dmarc(f), info]
    order = [
        "verdict",
        "open",
        "resolved",
        "uptime",
        "incidents",
        "speed",
        "expiry",
        "heartbeats",
        "deploys",
        "dmarc",
        "info",
    ]
    sections.sort(key=lambda s: order.index(s.key))
    subject, sentence, healthy = headline(f)
    return WeeklyContent(
        workspace_name=" ".join(workspace.name.split()),
        period_start=start,
        period_end=end,
        timezone=workspace.timezone,
        subject=subject,
        sentence=sentence,
        healthy=healthy,
        sections=sections,
        settings_url=absolute("reports:settings", workspace=workspace.uuid),
    )


def headline(f: WeekFacts) -> tuple[str, str, bool]:
    """The subject (what to fix, most urgent first) and the same as a sentence."""
    overall = f.overall_uptime
    problems = sorted(f.problems, key=lambda p: p[0])
    if problems:
        shorts = [p[1] for p in problems[:SUBJECT_PARTS]]
        more = len(problems) - SUBJECT_PARTS
        subject = " · ".join(shorts) + (f" · {more} more" if more > 0 else "")
        parts = [p[2] for p in problems]
        sentence = (
            "This week: "
            + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])
            + "."
        )
        return subject[0].upper() + subject[1:], sentence, False
    if overall is None:
        return (
            "Nothing to fix, but no uptime was measured this week",
            "No problem was found this week, but no uptime checks ran, so we cannot say the store was up.",
            False,
        )
    return (
        f"All good: {format_pct(overall)} uptime, nothing to do",
        f"All good this week: your critical pages were up {format_pct(overall)} of the time and nothing needs fixing.",
        True,
    )
