"""The audit CLI's route arguments (DESIGN.md, "The audit CLI"): kinds and budgets; without
--route the audit discovers the store's routes (README) and budgets apply to what it finds."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audits.facts import DiscoveredRoute, RouteDiscovery, RouteSpec
from audits.management.commands.audit import Command
from audits.probes.route_discovery import specs_for


def _options(*argv: str) -> dict:
    return vars(Command().create_parser("manage.py", "audit").parse_args(["shop.example", *argv]))


def _routes(*argv: str) -> dict[str, RouteSpec]:
    return {r.name: r for r in Command().declaration(_options(*argv)).routes}


def test_standard_names_know_their_kind_and_budget() -> None:
    routes = _routes("--route", "product=/p/1", "--route", "order=/orders")
    assert (routes["product"].kind, routes["product"].budget_ms) == ("page", 800)
    assert (routes["order"].kind, routes["order"].budget_ms) == ("api", 500)


def test_a_path_under_api_is_an_api_call_and_budget_overrides() -> None:
    routes = _routes("--route", "stock=/api/stock", "--route", "faq=/faq", "--budget", "faq=1200")
    assert (routes["stock"].kind, routes["stock"].budget_ms) == ("api", 500)
    assert (routes["faq"].kind, routes["faq"].budget_ms) == ("page", 1200)


def test_without_routes_none_is_declared_so_the_audit_discovers_them() -> None:
    # No placeholder paths (/products/example…) that the store may not have: the audit finds
    # the real ones and lists them under routes_used (test_demo_discovery.py runs it).
    assert _routes("--budget", "cart=650") == {}


def test_a_budget_without_routes_applies_to_the_route_found_under_that_name() -> None:
    budgets = Command.budgets(_options("--budget", "cart=650"))
    found = RouteDiscovery(routes=[DiscoveredRoute("cart", "/basket", "homepage")])
    specs = {s.name: s for s in specs_for(found, budgets)}
    assert (specs["cart"].path, specs["cart"].budget_ms, specs["cart"].source) == ("/basket", 650, "homepage")
    assert (specs["home"].budget_ms, specs["home"].source) == (800, "homepage")


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(("--budget", "basket=650"), id="not-a-standard-name"),
        pytest.param(("--route", "home=/", "--budget", "cart=650"), id="not-a-given-route"),
    ],
)
def test_a_budget_for_a_route_that_is_not_audited_is_refused(argv) -> None:
    with pytest.raises(CommandError, match="--budget names a route that is not audited") as caught:
        _routes(*argv)
    assert caught.value.returncode == 2


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
