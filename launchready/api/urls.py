"""Mounts the API at ``/api/v1/`` after adding every endpoint module's router.

Our own endpoint modules are listed in ``CORE``; other apps are discovered: any
``api_*.py`` module of an installed app that defines ``router``. Routers must all be
added before ``api.urls`` is first read, which is why this happens here (the
URLconf is loaded once) and not when ``launchready.api`` is imported by those very
modules.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest, HttpResponseNotAllowed
from django.urls import URLPattern, path, re_path

from . import api
from .errors import error_response

CORE = [
    "launchready.api.sites",
    "launchready.api.monitors",
    "launchready.api.incidents",
    "launchready.api.maintenance",
    "launchready.api.audits",
]


def area_modules() -> list[str]:
    """``<app>.api_*`` modules of our own installed apps, in app order then by name."""
    found = []
    for config in apps.get_app_configs():
        if not Path(config.path).is_relative_to(settings.BASE_DIR) or ".venv" in Path(config.path).parts:
            continue  # third-party apps
        names = sorted(m.name for m in pkgutil.iter_modules([config.path]) if m.name.startswith("api_"))
        found += [f"{config.name}.{name}" for name in names]
    return found


def _register() -> None:
    for module_name in CORE + area_modules():
        router = getattr(importlib.import_module(module_name), "router", None)
        if router is not None:
            api.add_router("", router)


def _json_405(view):
    """ninja answers a wrong method with a plain-text 405; ours is JSON like every error."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = error_response(405, f"This URL accepts {allowed.replace(',', ', ')}.")
            response["Allow"] = allowed
        return response

    return wrapper


def not_found(request: HttpRequest, rest: str = ""):
    return error_response(404, "There is no API endpoint at this URL; see /api/v1/docs.")


_register()
_patterns, _app_name, _namespace = api.urls
# ninja's "api-root" (its name places the schema's paths) answers an HTML page; ours is a JSON 404.
_patterns = [
    URLPattern(
        p.pattern, not_found if p.name == "api-root" else _json_405(p.callback), p.default_args, p.name
    )
    for p in _patterns
]
_maintenance = next(p for p in _patterns if str(p.pattern) == "maintenance-windows")

urlpatterns = [
    path("api/v1/", (_patterns, _app_name, _namespace)),
    # The first API endpoint kept its URL name when it moved here.
    path("api/v1/maintenance-windows", _maintenance.callback, name="monitoring_api_maintenance"),
    re_path(r"^api/v1/(?P<rest>.*)$", not_found, name="api_not_found"),
]
