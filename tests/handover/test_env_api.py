"""The CI gate, ``POST /api/v1/env-check``, and the facts the audit reads from it."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.utils import timezone

from handover.models import EnvCheck, EnvVar
from handover.services_env import EnvCheckRefused, check_env, env_facts
from launchready.models import Site
from monitoring.models import ApiToken

pytestmark = pytest.mark.django_db

URL = "/api/v1/env-check"
STRIPE_LIVE = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"


@pytest.fixture
def site_token(workspace, site) -> str:
    return ApiToken.issue(workspace, "GitHub CI", site=site)[1]


def gate(client, token: str, **body):
    return client.post(
        URL, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_all_required_present_is_ok_and_lists_unknown_names(client, site_token, env_vars):
    names = [
        "DATABASE_URL",
        "STRIPE_SECRET_KEY",
        "EXTRA_FLAG",
        "PATH",
        "HOME",
        "GITHUB_SHA",
        "LAUNCHREADY_TOKEN",
    ]
    response = gate(client, site_token, environment="production", names=names)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["missing_required"] == []
    assert body["missing_optional"] == ["SENTRY_DSN"]
    assert body["unknown"] == ["EXTRA_FLAG"]  # names every shell or CI runner sets are left out
    assert body["environment"] == "production"
    assert abs(timezone.now() - timezone.datetime.fromisoformat(body["checked_at"])).total_seconds() < 60


def test_a_missing_required_name_is_a_200_with_ok_false(client, site_token, env_vars):
    response = gate(client, site_token, environment="Production ", names=["DATABASE_URL", "SENTRY_DSN"])
    assert response.status_code == 200
    assert response.json()["ok"] is False
    assert response.json()["missing_required"] == ["STRIPE_SECRET_KEY"]


def test_each_call_is_recorded_with_the_token_name(client, site_token, site, env_vars):
    gate(client, site_token, environment="production", names=["DATABASE_URL", "NEW_THING", "DATABASE_URL"])
    check = EnvCheck.objects.get()
    assert (check.site, check.environment, check.names_count) == (site, "production", 2)
    assert (check.ok, check.missing, check.unknown, check.token_name) == (
        False,
        ["STRIPE_SECRET_KEY"],
        ["NEW_THING"],
        "GitHub CI",
    )


@pytest.mark.parametrize(
    ("names", "words"),
    [
        (
            ["DATABASE_URL", "STRIPE_SECRET_KEY=" + STRIPE_LIVE],
            "Item 2 of “names” contains “=”: send names only",
        ),
        (["DATABASE_URL=postgres://u:p@db/shop"], "send names only"),
        ([STRIPE_LIVE], "looks like a secret, not a name"),
        (["has space"], "is not a variable name"),
        (["A" * 300], "is not a variable name"),
    ],
)
def test_values_and_bad_names_are_a_400_that_repeats_nothing(
    client, site_token, env_vars, names, words, caplog
):
    caplog.set_level("DEBUG")
    response = gate(client, site_token, environment="production", names=names)
    assert response.status_code == 400
    assert words in response.json()["error"]
    for name in names:
        assert name not in response.content.decode()
    assert STRIPE_LIVE not in caplog.text and "u:p@db" not in caplog.text
    assert not EnvCheck.objects.exists()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"environment": "production"}, "“names”"),
        ({"names": ["A"]}, "“environment”"),
        ({"environment": "production", "names": "DATABASE_URL"}, "“names”"),
        ({"environment": "production", "names": [1, 2]}, "“names."),
        ({"environment": "prod env!", "names": ["A"]}, "environment"),
        ({"environment": STRIPE_LIVE, "names": ["A"]}, "looks like a secret"),
        (
            {"environment": "staging", "names": ["A"]},
            "No variables are recorded for the environment “staging”",
        ),
    ],
)
def test_bad_input_is_a_400_with_a_sentence(client, site_token, env_vars, body, words):
    EnvVar.objects.filter(environment="staging").delete()
    response = gate(client, site_token, **body)
    assert response.status_code == 400, response.content
    assert words in response.json()["error"]
    assert STRIPE_LIVE not in response.content.decode()


def test_too_many_names_are_refused(client, site_token, env_vars):
    response = gate(client, site_token, environment="production", names=[f"N{i}" for i in range(5001)])
    assert response.status_code == 400 and "“names”" in response.json()["error"]


def test_a_workspace_token_names_the_site(client, workspace, site, env_vars):
    _, plain = ApiToken.issue(workspace, "Deploy")
    refused = gate(client, plain, environment="production", names=["DATABASE_URL"])
    assert refused.status_code == 400 and "must say which site" in refused.json()["error"]
    answered = gate(client, plain, site=str(site.uuid), environment="production", names=["DATABASE_URL"])
    assert answered.status_code == 200 and answered.json()["missing_required"] == ["STRIPE_SECRET_KEY"]


def test_a_token_never_checks_a_site_outside_its_scope(client, workspace, site, env_vars, stranger):
    other = Site.objects.create(workspace=workspace, domain="blog.example.com")
    _, other_site_token = ApiToken.issue(workspace, "Blog CI", site=other)
    _, stranger_token = ApiToken.issue(stranger.memberships.get().workspace, "Theirs")
    for plain in (other_site_token, stranger_token):
        response = gate(client, plain, site=str(site.uuid), environment="production", names=["DATABASE_URL"])
        assert response.status_code == 404
        assert "STRIPE_SECRET_KEY" not in response.content.decode()
    assert not EnvCheck.objects.exists()


def test_no_token_is_401_and_a_read_only_token_403(client, workspace, site, env_vars):
    assert client.post(URL, "{}", content_type="application/json").status_code == 401
    _, read_only = ApiToken.issue(workspace, "Dashboard", site=site, read_only=True)
    response = gate(client, read_only, environment="production", names=["DATABASE_URL"])
    assert response.status_code == 403 and "read-only" in response.json()["error"]


def test_the_service_refuses_names_with_values_without_the_api(site, env_vars):
    with pytest.raises(EnvCheckRefused, match="send names only"):
        check_env(site, "production", ["A=b"])
    result = check_env(site, "production", ["DATABASE_URL", "STRIPE_SECRET_KEY", "SENTRY_DSN"])
    assert result.ok and result.missing_required == [] and result.unknown == []


def test_only_the_latest_calls_are_kept(site, env_vars, monkeypatch):
    monkeypatch.setattr(EnvCheck, "KEEP_PER_SITE", 3)
    for _ in range(5):
        check_env(site, "production", ["DATABASE_URL"])
    assert EnvCheck.objects.filter(site=site).count() == 3


def test_env_facts_for_the_audit(site, env_vars):
    facts = env_facts(site)
    assert facts.has_inventory is True
    # Required without purpose or storage place: every required one but production's DATABASE_URL.
    assert facts.undocumented_required == ["DATABASE_URL", "STAGING_ONLY", "STRIPE_SECRET_KEY"]
    assert facts.last_gate_check_at is None
    with time_machine.travel("2026-11-02 10:00:00Z", tick=False):
        check_env(site, "production", ["DATABASE_URL"])
    assert env_facts(site).last_gate_check_at.isoformat() == "2026-11-02T10:00:00+00:00"


def test_env_facts_of_an_empty_site(site):
    facts = env_facts(site)
    assert (facts.has_inventory, facts.undocumented_required, facts.last_gate_check_at) == (False, [], None)
