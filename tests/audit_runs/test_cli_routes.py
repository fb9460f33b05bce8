"""The audit CLI's route arguments (DESIGN.md, "The audit CLI"): kinds and budgets."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audits.facts import RouteSpec
from audits.management.commands.audit import Command


def _routes(*argv: str) -> dict[str, RouteSpec]:
    command = Command()
    options = vars(command.create_parser("manage.py", "audit").parse_args(["shop.example", *argv]))
    return {r.name: r for r in command.declaration(options).routes}


def test_standard_names_know_their_kind_and_budget() -> None:
    routes = _routes("--route", "product=/p/1", "--route", "order=/orders")
    assert (routes["product"].kind, routes["product"].budget_ms) == ("page", 800)
    assert (routes["order"].kind, routes["order"].budget_ms) == ("api", 500)


def test_a_path_under_api_is_an_api_call_and_budget_overrides() -> None:
    routes = _routes("--route", "stock=/api/stock", "--route", "faq=/faq", "--budget", "faq=1200")
    assert (routes["stock"].kind, routes["stock"].budget_ms) == ("api", 500)
    assert (routes["faq"].kind, routes["faq"].budget_ms) == ("page", 1200)


def test_without_routes_the_standard_ones_are_audited() -> None:
    routes = _routes("--budget", "cart=650")
    assert {"home", "listing", "product", "cart", "login", "checkout", "order"} <= set(routes)
    assert routes["cart"].budget_ms == 650


def test_help_explains_every_contract_option() -> None:
    text = Command().create_parser("manage.py", "audit").format_help()
    for option in ("--route", "--budget", "--fail-on", "--samples", "--canonical", "--sender"):
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(option))
        assert len(line.split(None, 2)) == 3 or option in ("--canonical", "--fail-on"), line
    assert "status 3" in text and "/api/" in text


def test_bad_network_settings_give_a_clear_error(settings) -> None:
    settings.LAUNCHREADY_DNS_SERVERS = ["garbage"]
    with pytest.raises(CommandError, match="LAUNCHREADY_DNS_SERVERS") as caught:
        call_command("audit", "shop.example", "--samples", "1", stdout=StringIO())
    assert caught.value.returncode == 2 and "garbage" in str(caught.value)
