"""The public API fuzzed from its own OpenAPI schema (schemathesis on hypothesis).

Every operation in ``/api/v1/openapi.json`` gets requests schemathesis builds from the
schema — valid ones and deliberately invalid ones (wrong types, missing fields, odd
strings) — with a valid token of a real workspace that has a site, monitors,
incidents, audits, maintenance windows and deploys. Path ids are sometimes that
workspace's own objects, sometimes another workspace's (a rival store), sometimes
random. The properties:

* no answer is a 5xx;
* every error (4xx) is a JSON body ``{"error": "<sentence>"}``;
* the rival workspace's ids, names and domain never appear in an answer, an id of
  theirs is always a 404, and nothing of theirs changes (tenant isolation).

CI runs this on PostgreSQL, which refuses more than SQLite does (NUL bytes, ranges).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from audits.models import AuditRun
from handover.models import Deploy
from launchready.models import Site, Workspace
from monitoring.models import ApiToken, Incident, MaintenanceWindow, Monitor
from tests.api import walk

SCHEMA = schemathesis.openapi.from_dict(walk.openapi_schema())
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
RIVAL_DOMAIN = "rival-secret-store.example"
RIVAL_NAME = "Rival Secret Workspace"


@pytest.fixture
def rival(make_run) -> dict[str, str]:
    """Another workspace's objects, one of each kind an API path can name."""
    workspace = Workspace.objects.create(name=RIVAL_NAME, timezone="UTC")
    site = Site.objects.create(workspace=workspace, domain=RIVAL_DOMAIN)
    monitor = Monitor.objects.create(
        workspace=workspace,
        site=site,
        kind=Monitor.Kind.HTTP,
        name="Rival checkout",
        url=f"https://{RIVAL_DOMAIN}/checkout",
    )
    now = timezone.now()
    incident = Incident.objects.create(
        monitor=monitor, workspace=workspace, started_at=now, cause="Rival 502."
    )
    window = MaintenanceWindow.objects.create(
        workspace=workspace, starts_at=now, ends_at=now + timedelta(hours=1)
    )
    deploy = Deploy.objects.create(site=site, environment="production", version="rival-v9", deployed_by="CI")
    run = make_run(site)
    return {
        "workspace": str(workspace.uuid),
        "site": str(site.uuid),
        "monitor": str(monitor.uuid),
        "incident": str(incident.uuid),
        "window": str(window.uuid),
        "deploy": str(deploy.uuid),
        "run": str(run.uuid),
    }


def _rival_state(rival: dict[str, str]) -> tuple:
    """What a request could change in the rival workspace: nothing may."""
    site = Site.objects.get(uuid=rival["site"])
    return (
        site.domain,
        Deploy.objects.filter(site=site).count(),
        MaintenanceWindow.objects.filter(workspace=site.workspace).count(),
        AuditRun.objects.filter(site=site).count(),
        Monitor.objects.filter(workspace=site.workspace).count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_fuzzed_requests_get_no_5xx_json_errors_and_never_a_rival_s_data(
    label, request, client, workspace, rival
):
    operation = OPERATIONS[label]
    _, token = ApiToken.issue(workspace, "Fuzz")
    own_ids = {
        name: str(getattr(request.getfixturevalue(f"url_kwarg_{name}"), "uuid", ""))
        for name in {n for r in walk.api_routes() for n in r.params + r.query}
        if _has_fixture(request, f"url_kwarg_{name}")
    }
    route = next(r for r in walk.api_routes() if str(r) == label)
    body_properties = set(route.body.get("properties", {}))
    before = _rival_state(rival)
    secrets = set(rival.values()) | {RIVAL_DOMAIN, RIVAL_NAME, "Rival checkout", "rival-v9"}

    @settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
        ],
    )
    @given(
        case=st.one_of(
            operation.as_strategy(), operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
        ),
        ids=st.sampled_from(["own", "rival", "as generated"]),
        auth=st.sampled_from(["token", "token", "token", "none", "garbage"]),
    )
    def fuzz(case, ids, auth):
        pool = own_ids if ids == "own" else rival if ids == "rival" else {}
        used_rival = _point_at(case, pool, body_properties) and ids == "rival"
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        headers = {k: v for k, v in kwargs["headers"].items() if k.lower() != "authorization"}
        bearer = {"token": f"Bearer {token}", "none": None, "garbage": "Bearer lr_not-a-token\x7f"}[auth]
        if bearer:
            headers["Authorization"] = bearer
        extra = {
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in headers.items()
            if k.lower() != "content-type"
        }
        body = kwargs.get("json", kwargs.get("data", ""))
        data = json.dumps(body) if "json" in kwargs else (body or "")
        response = client.generic(
            kwargs["method"],
            case.formatted_path,
            data,
            content_type=headers.get("Content-Type", "application/json"),
            QUERY_STRING=_query(kwargs.get("params") or {}),
            **extra,
        )
        text = response.content.decode("utf-8", "replace")
        where = f"{case.method} {case.formatted_path} {kwargs.get('params')} {body!r} -> {response.status_code}: {text[:300]}"
        assert response.status_code < 500, where
        if response.status_code >= 400:
            assert response["Content-Type"].startswith("application/json"), where
            message = json.loads(text).get("error")
            assert isinstance(message, str) and message.strip(), where
        for secret in secrets:
            assert secret not in text, f"another workspace's {secret!r} in {where}"
        if (
            used_rival
            and auth == "token"
            and case.path_parameters
            and any(case.path_parameters.get(n) == rival.get(n) for n in case.path_parameters)
        ):
            assert response.status_code in (400, 404, 422), where

    fuzz()
    assert _rival_state(rival) == before


def _point_at(case, pool: dict[str, str], body_properties: set[str]) -> bool:
    """Put ``pool``'s ids into the case's path, query and body slots of the same name;
    True when a path parameter got one."""
    in_path = False
    for name in list(case.path_parameters or {}):
        if name in pool:
            case.path_parameters[name] = pool[name]
            in_path = True
    if case.query is not None:
        for name in list(case.query):
            if name in pool:
                case.query[name] = pool[name]
    if isinstance(case.body, dict):
        for name in body_properties & set(pool):
            case.body[name] = pool[name]
    return in_path


def _has_fixture(request, name: str) -> bool:
    try:
        request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        return False
    return True


def _query(params: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(params, doseq=True)
