"""Deploy → smoke test against real servers in the sandbox → last known good, or a critical alert.

No HTTP mocks: the smoke test requests the stores' routes through launchready.net.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from handover import deploys, tasks
from handover.models import Deploy, SmokeRouteSetting
from launchready.models import CriticalRoute, Site
from launchready.views_sites import add_standard_routes
from monitoring import outbox
from monitoring.models import AlertChannel, MaintenanceWindow, Notification
from tests.fixtures_core import add_confirmed_routes

# The routes the store's owner confirmed (a new site starts with home only).
STORE_ROUTES = {
    "listing": "/collections/all",
    "product": "/products/example",
    "cart": "/cart",
    "login": "/account/login",
    "checkout": "/checkout",
    "order": "/api/orders",
}

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db]

PAGES = [
    {"path": "/", "body": "Welcome to the shop"},
    {"path": "/collections/all", "body": "All products"},
    {"path": "/products/example", "body": "Blue mug. Add to cart"},
    {"path": "/cart", "body": "Your cart"},
]
SCENARIO = {
    "name": "deploys",
    "hosts": [
        {
            "name": "www.good-shop.test",
            "routes": [
                *PAGES,
                # A final 200 after one redirect: the smoke test follows it like a browser.
                {"path": "/checkout", "status": 302, "redirect": "/checkout/start"},
                {"path": "/checkout/start", "body": "Secure checkout"},
                {"path": "/slow", "body": "Slow but fine", "latency": 400},
            ],
        },
        {
            "name": "www.bad-shop.test",
            "routes": [*PAGES, {"path": "/checkout", "status": 502, "body": "Bad gateway"}],
        },
    ],
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


@pytest.fixture(autouse=True)
def _clean(sb):
    sb.recorder.clear()


def store(workspace, domain: str) -> Site:
    site = Site.objects.create(workspace=workspace, domain=domain, canonical=Site.Canonical.WWW)
    add_standard_routes(site)
    add_confirmed_routes(site, STORE_ROUTES)
    return site


def channel(workspace, kind: str, **creds) -> AlertChannel:
    ch = AlertChannel(workspace=workspace, kind=kind, name=f"{kind} channel", label=kind)
    ch.credentials = creds
    ch.save()
    return ch


def smoke(site: Site, version: str = "v2.0.0", **kwargs) -> Deploy:
    """Report a deploy and run its smoke test as the worker does."""
    deploy = deploys.record_deploy(
        site, environment="production", version=version, by="API token CI", **kwargs
    )
    tasks.run_smoke_test(deploy.pk)
    deploy.refresh_from_db()
    return deploy


def test_a_healthy_store_passes_and_the_version_becomes_last_known_good(workspace, sb):
    site = store(workspace, "good-shop.test")
    SmokeRouteSetting.objects.create(site=site, route_name="product", smoke_keyword="add to cart")
    deploy = smoke(site)

    assert deploy.state == Deploy.State.PASSED
    results = {r.route_name: r for r in deploy.smoke_results.all()}
    assert sorted(results) == [
        "cart",
        "checkout",
        "home",
        "listing",
        "product",
    ]  # login and order are not GET pages
    assert all(r.passed and r.status_code == 200 for r in results.values())
    assert results["product"].keyword == "add to cart"
    assert results["checkout"].url == "https://www.good-shop.test/checkout"
    assert results["home"].reason.startswith("Status 200 in ")
    assert deploys.last_known_good(site) == {"production": deploy}
    assert not Notification.objects.exists()
    facts = deploys.deploy_facts(site)
    assert facts.has_deploys and facts.last_smoke_passed is True and facts.last_smoke_failures == []


def test_a_failing_checkout_fails_the_deploy_and_alerts_every_critical_channel_once(workspace, sb):
    site = store(workspace, "bad-shop.test")
    earlier = Deploy.objects.create(
        site=site,
        environment="production",
        version="v1.9.0",
        state=Deploy.State.PASSED,
        created_at=timezone.now() - timedelta(days=1),
    )
    email = channel(workspace, AlertChannel.Kind.EMAIL, address="ops@example.com")
    slack = channel(
        workspace, AlertChannel.Kind.SLACK, webhook_url="https://hooks.sandbox.test/services/T/B/x"
    )
    sms = channel(
        workspace,
        AlertChannel.Kind.SMS,
        account_sid="AC1",
        auth_token="t",
        from_number="+15550001",
        to="+15550002",
    )
    disabled = channel(
        workspace, AlertChannel.Kind.WEBHOOK, url="https://hooks.sandbox.test/off", signing_secret="k"
    )
    AlertChannel.objects.filter(pk=disabled.pk).update(disabled_at=timezone.now())

    deploy = smoke(site)

    assert deploy.state == Deploy.State.FAILED
    failed = list(
        deploy.smoke_results.filter(passed=False).values_list("route_name", "status_code", "reason")
    )
    assert failed == [("checkout", 502, "Status 502 (expected 200–399).")]
    assert deploy.smoke_results.filter(passed=True).count() == 4
    # One critical notification per active channel (SMS included: critical texts), none to the disabled one.
    rows = Notification.objects.filter(deploy=deploy)
    assert sorted(rows.values_list("channel_id", flat=True)) == sorted([email.pk, slack.pk, sms.pk])
    assert set(rows.values_list("event", flat=True)) == {Notification.Event.DEPLOY_FAILED}
    # The last known good version is still the earlier one.
    assert deploys.last_known_good(site) == {"production": earlier}
    # A retried task does not test or alert again.
    assert tasks.run_smoke_test(deploy.pk) == "skipped: already run"
    assert rows.count() == 3

    assert outbox.send(rows.get(channel=email).pk)
    (message,) = mail.outbox
    assert message.subject == (
        "[Launch Ready] DEPLOY FAILED: v2.0.0 to production on bad-shop.test — checkout: Status 502 (expected 200–399)."
    )
    assert "What to do: Roll back to v1.9.0, the last version whose smoke test passed" in message.body
    assert f"/deploys/{deploy.uuid}/" in message.body
    assert outbox.send(rows.get(channel=slack).pk)
    (request,) = [r for r in sb.webhook_requests if r.path.startswith("/services/")]
    assert request.json()["text"].startswith("*DEPLOY FAILED: v2.0.0 to production on bad-shop.test")

    facts = deploys.deploy_facts(site)
    assert facts.last_smoke_passed is False
    assert facts.last_smoke_failures == ["checkout: Status 502 (expected 200–399)."]
    assert facts.last_smoke_version == "v2.0.0"


def test_missing_text_and_a_slow_route_fail_with_their_reasons(workspace, sb):
    site = store(workspace, "good-shop.test")
    SmokeRouteSetting.objects.create(site=site, route_name="home", smoke_keyword="Summer sale")
    CriticalRoute.objects.create(site=site, name="slow", path="/slow", budget_ms=150)
    SmokeRouteSetting.objects.create(site=site, route_name="slow", included=True)

    deploy = smoke(site)

    reasons = dict(deploy.smoke_results.filter(passed=False).values_list("route_name", "reason"))
    assert reasons["home"] == "The text “Summer sale” is not on the page."
    assert reasons["slow"].startswith("Took ") and reasons["slow"].endswith(" ms, over the 150 ms budget.")
    assert set(reasons) == {"home", "slow"}
    assert deploy.state == Deploy.State.FAILED


def test_a_store_that_cannot_be_reached_fails_with_the_network_layers_sentence(workspace, sb):
    site = store(workspace, "gone-shop.test")
    deploy = smoke(site)
    assert deploy.state == Deploy.State.FAILED
    reasons = set(deploy.smoke_results.values_list("reason", flat=True))
    assert len(reasons) == 1
    (reason,) = reasons
    assert "www.gone-shop.test" in reason and "does not exist" in reason
    assert set(deploy.smoke_results.values_list("status_code", flat=True)) == {None}


def test_a_smoke_test_with_no_routes_chosen_fails_and_says_why(workspace, sb):
    site = store(workspace, "good-shop.test")
    SmokeRouteSetting.objects.bulk_create(
        [SmokeRouteSetting(site=site, route_name=r.name, included=False) for r in site.routes.all()]
    )
    channel(workspace, AlertChannel.Kind.EMAIL, address="ops@example.com")
    deploy = smoke(site)
    assert deploy.state == Deploy.State.FAILED
    assert deploy.smoke_error == deploys.NO_ROUTES
    assert not deploy.smoke_results.exists()
    # The store showed nothing wrong: the deploy fails (CI stops) but nobody is paged.
    assert not Notification.objects.filter(deploy=deploy).exists()
    assert deploys.deploy_facts(site).last_smoke_failures == [deploys.NO_ROUTES]


def test_the_deploys_maintenance_window_closes_when_its_smoke_test_finishes(workspace, sb):
    site = store(workspace, "good-shop.test")
    deploy = smoke(site, maintenance_minutes=30)
    window = MaintenanceWindow.objects.get(pk=deploy.maintenance_window_id)
    assert window.site_id == site.pk and window.workspace_id == workspace.pk
    assert window.starts_at == deploy.created_at
    assert window.ends_at == deploy.smoke_finished_at
    assert window.reason == "Deploy of v2.0.0 to production"


@pytest.fixture
def eager_celery():
    from launchready.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_deploy_hook_to_slack_through_the_whole_pipeline(
    client, workspace, sb, eager_celery, django_capture_on_commit_callbacks
):
    """API → smoke-test task → outbox → Slack, once, and CI reads the failure back."""
    from monitoring.models import ApiToken

    site = store(workspace, "bad-shop.test")
    channel(workspace, AlertChannel.Kind.SLACK, webhook_url="https://hooks.sandbox.test/services/T/B/x")
    _, plain = ApiToken.issue(workspace, "Shop CI", site=site)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/deploys",
            {"environment": "production", "version": "v7"},
            content_type="application/json",
            **auth,
        )
    assert response.status_code == 201
    (request,) = sb.webhook_requests
    assert request.json()["text"].startswith(
        "*DEPLOY FAILED: v7 to production on bad-shop.test — checkout: Status 502"
    )
    body = client.get(f"/api/v1/deploys/{response.json()['id']}", **auth).json()
    assert (body["state"], body["finished"], body["last_known_good"]) == ("failed", True, False)
    assert [(r["route"], r["passed"]) for r in body["results"] if not r["passed"]] == [("checkout", False)]
