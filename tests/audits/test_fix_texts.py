"""Fixes that fit the store: steps for the web server and provider that were detected,
record examples with the store's own names, jargon explained once per finding, and the
services the owner declared taken at their word."""

from __future__ import annotations

import dataclasses

import pytest

from audits.checks import CATALOGUE, glossary, glossed_terms
from audits.facts import AuditFacts, SiteDeclaration
from audits.rules import evaluate
from audits.rules.base import checks_needing_workspace
from tests.audits.factories import (
    GOOD_HEADERS,
    HOME,
    NOW,
    WWW,
    chain,
    good_facts,
    host,
    ok_hop,
    page,
    replace,
    with_chain,
    with_host,
    with_page,
)
from tests.audits.test_rules_registry import fail_cases
from tests.email.test_rules import DOMAIN as MAIL_DOMAIN
from tests.email.test_rules import run as run_email

G = good_facts()


def _served_by(server: str | None, **changes: str | None) -> AuditFacts:
    """The good store answered by an origin whose Server header is ``server`` (no CDN)."""
    headers = {k: v for k, v in GOOD_HEADERS.items() if k not in ("cf-ray", "server")}
    if server is not None:
        headers["server"] = server
    for key, value in changes.items():
        if value is None:
            headers.pop(key.replace("_", "-"), None)
        else:
            headers[key.replace("_", "-")] = value
    facts = with_host(G, host(WWW, "203.0.113.10", source="www"))  # an origin address, no CDN's
    facts = with_chain(facts, chain(HOME, replace(ok_hop(), headers=headers)))
    return with_page(facts, page(headers=headers))


def _finding(facts: AuditFacts, check: str):
    (finding,) = [f for f in evaluate(facts, NOW, [check]).findings if f.check == check]
    return finding


@pytest.mark.parametrize(
    ("server", "expected", "foreign"),
    [
        ("Apache/2.4.57 (Debian)", "Header always set X-Content-Type-Options", "add_header"),
        ("nginx/1.25.3", "add_header X-Content-Type-Options", "Header always set"),
        ("Caddy", "header X-Content-Type-Options nosniff", "add_header"),
        ("Microsoft-IIS/10.0", "web.config", "add_header"),
        ("LiteSpeed", ".htaccess", "add_header"),
    ],
)
def test_header_fix_is_written_for_the_server_that_answered(server, expected, foreign) -> None:
    finding = _finding(_served_by(server, x_content_type_options=None), "http.nosniff_missing")
    assert expected in finding.fix
    assert foreign not in finding.fix


def test_apache_gets_apache_advice_for_a_version_banner() -> None:
    fix = _finding(_served_by("Apache/2.4.41 (Ubuntu)"), "http.version_leak").fix
    assert "ServerTokens Prod" in fix and "server_tokens" not in fix


def test_tomcat_is_not_taken_for_apache() -> None:
    fix = _finding(_served_by("Apache-Coyote/1.1", x_content_type_options=None), "http.nosniff_missing").fix
    assert fix.startswith(CATALOGUE["http.nosniff_missing"].fix)


def test_no_server_detected_gives_the_generic_fix() -> None:
    finding = _finding(_served_by(None, x_content_type_options=None), "http.nosniff_missing")
    assert finding.fix.startswith(CATALOGUE["http.nosniff_missing"].fix)


def test_cdn_steps_win_over_the_origin_server() -> None:
    # The good store is behind Cloudflare: its HSTS is set at the edge, whatever the origin runs.
    facts = _served_by("nginx", strict_transport_security=None, cf_ray="8c-AMS")
    assert _finding(facts, "http.hsts_missing").fix.startswith("Cloudflare → SSL/TLS")


def test_fix_names_the_store_canonical_host() -> None:
    facts = _served_by("nginx")
    fix = (
        evaluate(
            with_chain(facts, chain(f"http://{WWW}/", replace(ok_hop(f"http://{WWW}/"), status=200))),
            NOW,
            ["http.no_https_redirect"],
        )
        .findings[0]
        .fix
    )
    assert "return 301 https://www.example.com$request_uri;" in fix
    assert "{canonical_host}" not in fix and "{domain}" not in fix


def test_dmarc_record_example_uses_the_store_domain() -> None:
    [finding] = run_email("email.dmarc_missing", dmarc=dataclasses.replace(_no_dmarc(), domain=MAIL_DOMAIN))
    assert f"`_dmarc.{MAIL_DOMAIN}`" in finding.fix
    assert f"rua=mailto:dmarc@{MAIL_DOMAIN}" in finding.fix
    assert "yourdomain" not in finding.fix
    assert "DMARC is a DNS record telling mailbox providers" in finding.fix


def _no_dmarc():
    from tests.email.test_rules import GOOD

    return dataclasses.replace(GOOD.dmarc, records=[], policy="", rua=[])


# --- One line of plain words for the jargon of every finding ------------------------------

ALL_FAIL_CASES = [c for c in fail_cases() if hasattr(c, "values")]


def _case_facts() -> list[tuple[str, AuditFacts]]:
    return [(c.id or c.values[0], c.values[1]) for c in ALL_FAIL_CASES]


def test_every_finding_explains_the_jargon_it_uses() -> None:
    seen_terms: set[str] = set()
    checked = 0
    for case, facts in _case_facts():
        for f in evaluate(facts, NOW).findings:
            body, _, gloss = f.fix.rpartition("\n") if "\nIn plain words: " in f.fix else (f.fix, "", "")
            terms = glossed_terms(f.title, f.impact, f.evidence, body)
            for term in terms:
                assert f"{term} is {glossary()[term]}" in gloss, (case, f.check, term)
            # Once per finding, never repeated.
            assert f.fix.count("In plain words: ") == (1 if terms else 0), (case, f.check)
            seen_terms |= set(terms)
            checked += 1
    assert checked > 100
    assert {"NXDOMAIN", "HSTS", "p95", "CAA", "clientTransferProhibited"} <= seen_terms


def test_email_findings_explain_spf_and_permerror() -> None:
    [finding] = run_email("email.spf_invalid", spf=_broken_spf())
    assert "permerror" in finding.impact
    assert "SPF is a DNS record listing" in finding.fix
    assert "permerror is a permanent error" in finding.fix


def _broken_spf():
    from tests.email.test_rules import GOOD

    return dataclasses.replace(
        GOOD.spf, error="Unknown mechanism.", error_term="inclde:x.test", error_domain=MAIL_DOMAIN
    )


# --- Services the owner declared -------------------------------------------------------


def _without_trackers(**site_changes: str) -> AuditFacts:
    facts = replace(
        G, pages=[replace(p, html=replace(p.html, error_tracking=[], analytics=[])) for p in G.pages]
    )
    return replace(facts, site=replace(facts.site, **site_changes))


def test_undeclared_and_unseen_services_fail_with_the_way_to_declare_them() -> None:
    finding = _finding(_without_trackers(), "monitoring.analytics_missing")
    assert finding.is_fail and str(finding.severity) == "low"
    assert "Services you use" in finding.fix and "--analytics NAME" in finding.fix


@pytest.mark.parametrize(
    ("check", "field", "name", "what"),
    [
        (
            "monitoring.error_tracking_missing",
            "error_tracking_declared",
            "Sentry (server side)",
            "Error tracking",
        ),
        ("monitoring.analytics_missing", "analytics_declared", "Matomo", "Analytics"),
    ],
)
def test_a_declared_service_passes_and_says_so(check, field, name, what) -> None:
    evaluation = evaluate(_without_trackers(**{field: name}), NOW, [check])
    (result,) = evaluation.results
    assert str(result.outcome) == "pass"
    (finding,) = evaluation.findings
    assert str(finding.severity) == "info"
    assert finding.title == f"{what} declared by you: {name}"
    assert f"declared by you: {name}" in finding.evidence


def test_a_service_seen_on_the_page_needs_no_declaration() -> None:
    facts = replace(G, site=replace(G.site, analytics_declared="Matomo"))
    assert evaluate(facts, NOW, ["monitoring.analytics_missing"]).findings == []


# --- Checks that need a workspace ------------------------------------------------------


def test_cli_facts_leave_out_the_workspace_checks() -> None:
    cli = AuditFacts(site=SiteDeclaration(domain="example.com"))
    left_out = checks_needing_workspace(cli)
    assert {
        "monitoring.alert_channel_missing",
        "monitoring.escalation_contact_missing",
        "monitoring.heartbeat_missing",
        "deploy.rollback_unrehearsed",
    } <= set(left_out)
    assert all(CATALOGUE[c].needs_workspace for c in left_out)
    assert checks_needing_workspace(G) == []  # the web audit has the workspace's records
