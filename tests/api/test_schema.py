"""The OpenAPI schema at its stable URL, and the reference page that works under our CSP."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLResolver, get_resolver

from tests.api import walk


@pytest.fixture
def schema(client, db) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_the_schema_is_openapi_3_with_every_path_answering_documented_responses(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] and schema["info"]["version"]
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    operation_ids = []
    for path, item in schema["paths"].items():
        assert path.startswith("/api/v1/")
        for method, operation in item.items():
            assert method in walk.METHODS
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), f"{method} {path}"
            assert {"400", "401", "404", "429"} <= set(responses), f"{method} {path}"
            if method != "get":
                assert "403" in responses, f"{method} {path}"
            assert all(r["description"] for r in responses.values())
            assert operation["security"] == [{"TokenAuth": []}], f"{method} {path} has no token auth"
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), f"{method} {path}"
            operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"
    for ref in set(_refs(schema)):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[-1] in schema["components"]["schemas"], f"dangling {ref}"


def test_the_schema_lists_every_api_url(schema):
    """Nothing is mounted under /api/v1/ that the schema (and so the walks) would miss."""

    def resolvers(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield p
                yield from resolvers(p.url_patterns)

    (api_resolver,) = [r for r in resolvers(get_resolver().url_patterns) if r.namespace == "api"]
    routes = {
        "/api/v1/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(p.pattern)) for p in api_resolver.url_patterns
    }
    routes -= {"/api/v1/", "/api/v1/openapi.json", "/api/v1/docs"}
    assert routes == set(schema["paths"])


def test_the_reference_page_loads_only_our_own_static_files(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/api/v1/openapi.json" in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))", page), "inline script"
    assert "style=" not in page and "<style" not in page
    assert "script-src 'self'" in response["Content-Security-Policy"]
