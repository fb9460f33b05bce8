"""``python manage.py audit DOMAIN`` — a full launch audit with no account and no database.

The arguments and the JSON document are a public contract (DESIGN.md, "The audit CLI").
Exit codes: 0 done, 2 bad arguments, 3 a finding at or above ``--fail-on`` exists.
"""

from __future__ import annotations

import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audits.email.sending_services import SERVICES, get_service
from audits.engine import default_options, run_audit
from audits.facts import API_BUDGET_MS, PAGE_BUDGET_MS, STANDARD_ROUTES, RouteSpec, SiteDeclaration
from audits.report_text import render_text
from audits.rules.base import checks_needing_workspace
from launchready import net
from launchready.domains import normalize_domain, subdomain_label

FAIL_ON_RANK = {"blocker": 0, "high": 1}
SEVERITY_RANK = {"blocker": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def workspace_line(check_ids: list[str]) -> str:
    """One line saying which checks only the web app runs, so the CLI's "ready" and the web's
    "ready with risks" never look like a contradiction."""
    if not check_ids:
        return ""
    return (
        f"\n{len(check_ids)} checks need a workspace and did not run here (alert channels, escalation "
        "contacts, heartbeats, uptime monitors, deploy records): add the site in the web app to run "
        "them; its verdict can be lower than this one.\n"
    )


def _names(kind: str) -> str:
    return ", ".join(name for name, (_path, k) in STANDARD_ROUTES.items() if k == kind)


def routes_used(routes: list[RouteSpec]) -> list[dict[str, str]]:
    """The JSON's ``routes_used``: each timed route and where its path came from."""
    return [{"name": r.name, "path": r.path, "source": r.source or "given"} for r in routes]


def routes_sentence(used: list[dict[str, str]], *, discovered: bool) -> str:
    listed = ", ".join(f"{r['name']} {r['path']}" + (f" ({r['source']})" if discovered else "") for r in used)
    if discovered:
        return (
            f"\nRoutes timed: none were given with --route, so these were found on the store: {listed or 'none'}."
            "\nGive --route NAME=PATH to time others.\n"
        )
    return f"\nRoutes timed (given with --route): {listed}.\n"


class Command(BaseCommand):
    help = "Audit a store's domain and print the launch verdict with the 48-hour fix plan."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("domain", help="the store's domain, e.g. shop.example.com")
        parser.add_argument(
            "--format",
            choices=["text", "json"],
            default="text",
            help="a readable report (default) or one JSON document",
        )
        parser.add_argument(
            "--canonical",
            choices=["apex", "www"],
            default="www",
            help="the host visitors should end on (default: www)",
        )
        parser.add_argument(
            "--subdomain",
            action="append",
            default=[],
            metavar="NAME",
            help="a declared subdomain, e.g. app (repeatable)",
        )
        parser.add_argument(
            "--route",
            action="append",
            default=[],
            metavar="NAME=PATH",
            help="a critical route, e.g. cart=/cart (repeatable; default: the routes found on the store "
            "from its sitemap, homepage links and platform). "
            f"Pages ({PAGE_BUDGET_MS} ms p95): {_names('page')}; API calls ({API_BUDGET_MS} ms): "
            f"{_names('api')} and any path under /api/",
        )
        parser.add_argument(
            "--budget",
            action="append",
            default=[],
            metavar="NAME=MS",
            help="override a route's p95 budget, e.g. cart=600",
        )
        parser.add_argument(
            "--campaign-url",
            action="append",
            default=[],
            metavar="URL",
            help="an old campaign URL that must still work",
        )
        parser.add_argument(
            "--dkim-selector",
            action="append",
            default=[],
            metavar="SEL",
            help="a DKIM selector to check (repeatable)",
        )
        parser.add_argument(
            "--sender",
            default="",
            metavar="SERVICE",
            help="the sending service, e.g. google, shopify, klaviyo",
        )
        parser.add_argument(
            "--from-address", default="", metavar="ADDR", help="the From address of order emails"
        )
        parser.add_argument(
            "--analytics",
            default="",
            metavar="NAME",
            help="the analytics you use when the pages do not show it, e.g. 'Matomo (server side)'",
        )
        parser.add_argument(
            "--error-tracking",
            default="",
            metavar="NAME",
            help="the error tracking you use when the pages do not show it, e.g. 'Sentry (server side)'",
        )
        parser.add_argument(
            "--samples",
            type=int,
            default=20,
            metavar="N",
            help="timing samples per route, 1-200 (default 20)",
        )
        parser.add_argument(
            "--fail-on",
            choices=["blocker", "high"],
            help="exit with status 3 when a finding at or above this severity exists (for CI)",
        )

    def handle(self, *args, **options):
        declaration = self.declaration(options)
        if not 1 <= options["samples"] <= 200:
            raise CommandError("--samples must be between 1 and 200.", returncode=2)
        try:
            config = net.NetConfig.from_settings()
        except ValueError as exc:
            raise CommandError(
                f"The network settings are invalid ({exc}). Check LAUNCHREADY_DNS_SERVERS "
                "(ip[:port], comma-separated), LAUNCHREADY_ALLOWED_TARGET_NETWORKS (CIDRs) and "
                "LAUNCHREADY_PORT_MAP (from:to, comma-separated).",
                returncode=2,
            ) from None
        discover = not declaration.routes
        outcome = run_audit(
            declaration,
            config=config,
            options=default_options(
                samples=options["samples"],
                time_discovered_routes=discover,
                route_budgets=self.budgets(options) if discover else {},
            ),
        )
        used = routes_used(outcome.facts.site.routes)
        if options["format"] == "json":
            document = outcome.to_json()
            document["routes_used"] = used
            # Added keys (findings stay one per subject): each problem once, in the plan's
            # order, and the verdict's counts as distinct problems.
            document["problems"] = [p.to_dict() for p in outcome.report.problems]
            document["problem_counts"] = outcome.report.problem_counts
            self.stdout.write(json.dumps(document, indent=2, default=str))
        else:
            self.stdout.write(render_text(outcome))
            self.stdout.write(routes_sentence(used, discovered=discover))
            self.stdout.write(workspace_line(checks_needing_workspace(outcome.facts)))
        fail_on = options["fail_on"]
        if fail_on:
            limit = FAIL_ON_RANK[fail_on]
            if any(
                f.status == "fail" and SEVERITY_RANK[str(f.severity)] <= limit
                for f in outcome.evaluation.findings
            ):
                sys.stdout.flush()
                raise SystemExit(3)

    @staticmethod
    def budgets(options) -> dict[str, int]:
        budgets = {}
        for raw in options["budget"]:
            name, sep, ms = raw.partition("=")
            if not sep or not ms.strip().isdigit() or int(ms) <= 0:
                raise CommandError(f"--budget {raw!r}: use NAME=MS, e.g. --budget cart=600.", returncode=2)
            budgets[name.strip()] = int(ms)
        return budgets

    def declaration(self, options) -> SiteDeclaration:
        try:
            domain = normalize_domain(options["domain"])
        except ValidationError as exc:
            raise CommandError(f"{options['domain']!r}: {' '.join(exc.messages)}", returncode=2) from None
        subdomains = []
        for raw in options["subdomain"]:
            label = raw.strip().lower().rstrip(".")
            label = subdomain_label(label, domain) or label
            try:
                normalize_domain(f"{label}.example.com")
            except ValidationError:
                raise CommandError(f"--subdomain {raw!r} is not a valid host label.", returncode=2) from None
            subdomains.append(label)
        budgets = self.budgets(options)
        routes = []
        for raw in options["route"]:
            name, sep, path = raw.partition("=")
            name, path = name.strip(), path.strip()
            if not sep or not name or not path.startswith("/"):
                raise CommandError(
                    f"--route {raw!r}: use NAME=PATH with a path starting with /.", returncode=2
                )
            routes.append(RouteSpec.standard(name, path, budgets.get(name)))
        # Without --route, the routes found on the store are timed: any standard name may get a budget.
        unknown = set(budgets) - ({r.name for r in routes} if routes else set(STANDARD_ROUTES))
        if unknown:
            raise CommandError(
                f"--budget names a route that is not audited: {', '.join(sorted(unknown))}.", returncode=2
            )
        sender = options["sender"].strip().lower()
        if sender and sender != "other" and get_service(sender) is None:
            raise CommandError(
                f"--sender {options['sender']!r} is not a known sending service; use one of: "
                + ", ".join(sorted([*SERVICES, "other"])),
                returncode=2,
            )
        if options["from_address"] and "@" not in options["from_address"]:
            raise CommandError(
                f"--from-address {options['from_address']!r} is not an email address.", returncode=2
            )
        for url in options["campaign_url"]:
            if not url.startswith(("http://", "https://")):
                raise CommandError(f"--campaign-url {url!r}: give a full http(s) URL.", returncode=2)
        declared = {}
        for flag, key in (("--analytics", "analytics"), ("--error-tracking", "error_tracking")):
            name = " ".join(options[key].split())
            if len(name) > 40 or not name.isprintable():
                raise CommandError(
                    f"{flag} {options[key]!r}: give the service's name (40 characters at most).", returncode=2
                )
            declared[key] = name
        return SiteDeclaration(
            domain=domain,
            canonical=options["canonical"],
            subdomains=subdomains,
            campaign_urls=list(options["campaign_url"]),
            routes=routes,
            sending_service=options["sender"].strip().lower(),
            from_address=options["from_address"].strip(),
            dkim_selectors=[s.strip().lower() for s in options["dkim_selector"] if s.strip()],
            analytics_declared=declared["analytics"],
            error_tracking_declared=declared["error_tracking"],
        )
