"""The audit CLI: --analytics and --error-tracking declare what the pages cannot show, and the
report says how many checks only a workspace can run (a line of text, a JSON key)."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audits.checks import CATALOGUE
from audits.management.commands.audit import Command

# A store that answers with Apache, sends no HSTS and shows neither analytics nor error tracking.
SCENARIO = {
    "zones": {"plain-store.test": {"records": [{"name": "@", "type": "A", "value": "127.77.3.1"}]}},
    "hosts": [
        {
            "name": "www.plain-store.test",
            "address": "127.77.3.2",
            "https_redirect": 301,
            "headers": {"Server": "Apache/2.4.57 (Debian)"},
            "routes": [
                {
                    "path": "/",
                    "headers": {"Content-Type": "text/html; charset=utf-8"},
                    "body": "<!doctype html><html><head><title>Plain</title></head><body>Shop</body></html>",
                },
            ],
        },
        {"name": "plain-store.test", "address": "127.77.3.1", "redirect_to": "https://www.plain-store.test"},
    ],
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def _audit(*argv: str) -> dict:
    out = StringIO()
    call_command(
        "audit",
        "plain-store.test",
        "--samples",
        "1",
        "--route",
        "home=/",
        "--format",
        "json",
        *argv,
        stdout=out,
    )
    return json.loads(out.getvalue())


def _finding(document: dict, check: str) -> dict:
    (finding,) = [f for f in document["findings"] if f["check"] == check]
    return finding


def test_declared_services_pass_with_the_owner_word(sb) -> None:
    bare = _audit()
    assert _finding(bare, "monitoring.analytics_missing")["severity"] == "low"
    assert "--analytics NAME" in _finding(bare, "monitoring.analytics_missing")["fix"]

    declared = _audit("--analytics", "Matomo (server side)", "--error-tracking", "Sentry")
    analytics = _finding(declared, "monitoring.analytics_missing")
    assert (analytics["severity"], analytics["title"]) == (
        "info",
        "Analytics declared by you: Matomo (server side)",
    )
    tracking = _finding(declared, "monitoring.error_tracking_missing")
    assert tracking["severity"] == "info" and "declared by you: Sentry" in tracking["evidence"]
    assert declared["facts"]["site"]["analytics_declared"] == "Matomo (server side)"


def test_fixes_are_written_for_the_apache_server_that_answered(sb) -> None:
    document = _audit()
    hsts = _finding(document, "http.hsts_missing")
    assert "Header always set Strict-Transport-Security" in hsts["fix"]
    assert "add_header" not in hsts["fix"]
    assert "HSTS is a header telling browsers" in hsts["fix"]


def test_json_and_text_say_how_many_checks_need_a_workspace(sb) -> None:
    document = _audit()
    expected = sorted(c.id for c in CATALOGUE.values() if c.needs_workspace)
    assert sorted(document["workspace_checks"]) == expected
    out = StringIO()
    call_command("audit", "plain-store.test", "--samples", "1", "--route", "home=/", stdout=out)
    text = out.getvalue()
    assert f"{len(expected)} checks need a workspace and did not run here" in text
    assert "alert channels, escalation contacts, heartbeats" in text


@pytest.mark.parametrize("flag", ["--analytics", "--error-tracking"])
def test_bad_service_names_are_refused_in_plain_words(flag) -> None:
    with pytest.raises(CommandError, match="give the service's name") as caught:
        call_command("audit", "plain-store.test", flag, "x" * 41, stdout=StringIO())
    assert caught.value.returncode == 2


def test_help_lists_the_declaration_flags() -> None:
    text = Command().create_parser("manage.py", "audit").format_help()
    assert "--analytics NAME" in text and "--error-tracking NAME" in text
