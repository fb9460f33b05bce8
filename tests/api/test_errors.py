"""Every API error is JSON ``{"error": "<sentence>"}`` with the right status, never HTML."""

from __future__ import annotations

import pytest

from monitoring.models import ApiToken
from tests.api import walk


@pytest.fixture
def plain(workspace) -> str:
    return ApiToken.issue(workspace, "CI")[1]


def _error(response, status: int) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    message = response.json()["error"]
    assert message.endswith((".", ")")) and "Traceback" not in message and "<" not in message
    return message


def test_401_without_or_with_a_bad_token(client, db):
    assert "Bearer" in _error(client.get("/api/v1/sites"), 401)
    assert "Bearer" in _error(client.get("/api/v1/sites", HTTP_AUTHORIZATION="Bearer lr_nope"), 401)
    assert "Bearer" in _error(client.get("/api/v1/sites", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz"), 401)


def test_400_for_a_body_that_is_not_json_or_too_deep(client, plain):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
    url = "/api/v1/maintenance-windows"
    assert _error(client.post(url, "minutes=5", content_type="application/json", **auth), 400) == (
        "The body is not JSON."
    )
    deep = "[" * 100_000 + "]" * 100_000
    assert "nested too deeply" in _error(client.post(url, deep, content_type="application/json", **auth), 400)
    assert "JSON object" in _error(client.post(url, "[]", content_type="application/json", **auth), 400)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/api/v1/sites/not-a-uuid", "“site”"),
        ("/api/v1/incidents?limit=many", "“limit”"),
        ("/api/v1/incidents?limit=5000", "“limit”"),
        ("/api/v1/incidents?open=perhaps", "“open”"),
    ],
)
def test_400_for_a_parameter_that_does_not_validate_names_it_in_one_sentence(client, plain, url, words):
    message = _error(client.get(url, HTTP_AUTHORIZATION=f"Bearer {plain}"), 400)
    assert words in message and "[" not in message and "{" not in message


def test_403_for_a_read_only_token(client, workspace):
    _, plain = ApiToken.issue(workspace, "Dashboard", read_only=True)
    response = client.post(
        "/api/v1/maintenance-windows",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert "read-only" in _error(response, 403)


def test_404_for_an_unknown_object_and_an_unknown_path(client, plain):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
    _error(client.get("/api/v1/sites/6b0ecb66-0d4f-4b53-9d8e-6f3b1f9f0f00", **auth), 404)
    assert "/api/v1/docs" in _error(client.get("/api/v1/no-such-thing", **auth), 404)
    _error(client.get("/api/v1/", **auth), 404)


def test_405_for_a_method_the_url_does_not_take(client, plain):
    response = client.delete("/api/v1/sites", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert "GET" in _error(response, 405)
    assert response["Allow"] == "GET"
    assert "POST" in _error(client.put("/api/v1/maintenance-windows"), 405)


def test_429_after_the_limit_with_retry_after(client, plain, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
    assert [client.get("/api/v1/sites", **auth).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/v1/sites", **auth)
    assert "Too many requests" in _error(response, 429)
    assert 0 < int(response["Retry-After"]) <= 61


def test_the_limit_is_per_token(client, workspace, plain, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    _, other = ApiToken.issue(workspace, "Other CI")
    assert client.get("/api/v1/sites", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 200
    assert client.get("/api/v1/sites", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 429
    assert client.get("/api/v1/sites", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200


WRITES_WITH_BODY = [r for r in walk.api_routes() if r.writes and r.body]


def test_there_are_bodies_to_walk():
    assert "POST /api/v1/maintenance-windows" in {str(r) for r in WRITES_WITH_BODY}


@pytest.mark.parametrize("route", WRITES_WITH_BODY, ids=str)
@pytest.mark.parametrize(
    ("body", "words"),
    [("minutes=5", "not JSON"), ("[" * 50_000 + "]" * 50_000, "nested too deeply"), ('{"a": 1', "not JSON")],
)
def test_every_body_that_is_not_json_or_too_deep_is_a_400(route, body, words, request, client, plain):
    """Hand-read bodies and schema-validated ones alike (ninja's parser is ours)."""
    url = walk.fill(route, request).url
    response = client.generic(
        route.method, url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}"
    )
    assert words in _error(response, 400)
