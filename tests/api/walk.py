"""The API's routes, read from its OpenAPI schema, and requests that fill them generically.

Used by the tenancy walk in tests/core/test_url_walk.py and the scope walks in
tests/api/test_scopes.py, so an endpoint added later (by any app's ``api_*.py``) is
walked without touching the tests. Conventions it relies on (launchready/api/__init__.py):
- path parameters are UUIDs named after the model (``{site}``, ``{monitor}``, ``{run}``),
  filled from the ``url_kwarg_<name>`` fixtures (tests/fixtures_core.py), which return
  objects of the ``workspace`` fixture;
- query parameters and JSON body properties with such a name are filled the same way;
- other required body properties get their schema's example, default or a plain value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import get_resolver

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str  # "/api/v1/sites/{site}"
    params: tuple[str, ...]
    query: tuple[str, ...]
    body: dict = field(default_factory=dict, compare=False, hash=False)  # the JSON schema of the body

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def writes(self) -> bool:
        return self.method != "GET"


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


def openapi_schema() -> dict:
    get_resolver().url_patterns  # noqa: B018 - loading the URLconf adds every router to the API
    from launchready.api import api

    return api.get_openapi_schema()


def api_routes() -> list[ApiRoute]:
    schema = openapi_schema()
    routes = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            params = operation.get("parameters", [])
            content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            routes.append(
                ApiRoute(
                    method=method.upper(),
                    path=path,
                    params=tuple(p["name"] for p in params if p["in"] == "path"),
                    query=tuple(p["name"] for p in params if p["in"] == "query"),
                    body=_resolve(schema, content.get("schema", {})) if content else {},
                )
            )
    return routes


def _plain_value(prop: dict):
    for key in ("example", "default"):
        if prop.get(key) is not None:
            return prop[key]
    if prop.get("enum"):
        return prop["enum"][0]
    kind = prop.get("type") or next((a.get("type") for a in prop.get("anyOf", []) if a.get("type")), "string")
    return {"integer": prop.get("minimum", 1), "number": 1, "boolean": False, "array": [], "object": {}}.get(
        kind, "production"
    )


@dataclass
class Filled:
    url: str
    body: dict
    objects: list[str]  # the UUIDs of fixture objects that went into the request


def fill(route: ApiRoute, request: pytest.FixtureRequest) -> Filled:
    """The route's URL and a body, every UUID-named slot holding an object of ``workspace``."""

    def uuid_of(name: str) -> str | None:
        try:
            value = request.getfixturevalue(f"url_kwarg_{name}")
        except pytest.FixtureLookupError:
            return None
        return str(getattr(value, "uuid", value))

    objects = []
    url = route.path
    for name in route.params:
        value = uuid_of(name)
        if value is None:
            pytest.fail(f"{route}: define a fixture url_kwarg_{name} (see tests/fixtures_core.py)")
        url = url.replace("{" + name + "}", value)
        objects.append(value)
    query = {name: uuid_of(name) for name in route.query}
    query = {name: value for name, value in query.items() if value}
    if query:
        url += "?" + "&".join(f"{name}={value}" for name, value in query.items())
        objects += query.values()
    body = {}
    properties = route.body.get("properties", {})
    for name, prop in properties.items():
        value = uuid_of(name) if "uuid" in json.dumps(prop) else None
        if value is not None:
            body[name] = value
            objects.append(value)
        elif name in route.body.get("required", []):
            body[name] = _plain_value(prop)
    return Filled(url=url, body=body, objects=objects)


def call(client: Client, route: ApiRoute, url: str, plain: str | None, body: dict | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {plain}"} if plain else {}
    data = json.dumps(body) if route.writes else ""
    return client.generic(route.method, url, data, content_type="application/json", **headers)
