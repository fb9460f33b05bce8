"""get-or-404 has one home, ``launchready.selectors.get_or_404``, used by every app's
selectors, views and the API; copies of it must not come back."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
from django.http import Http404

from handover.services_env import variable_in
from launchready.models import Site, Workspace
from launchready.selectors import get_or_404

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def test_the_object_of_a_scoped_queryset_is_returned(site, workspace):
    assert get_or_404(Site.objects.filter(workspace=workspace), uuid=site.uuid) == site


@pytest.mark.parametrize("wanted", ["another workspace's", "missing", "malformed"])
def test_everything_else_is_the_same_404(site, wanted):
    other = Workspace.objects.create(name="Other")
    lookup = {
        "another workspace's": site.uuid,
        "missing": uuid.uuid4(),
        "malformed": "not-a-uuid",
    }[wanted]
    with pytest.raises(Http404):
        get_or_404(Site.objects.filter(workspace=other), uuid=lookup)


def test_an_env_variable_with_a_malformed_id_is_404_not_a_crash(site):
    with pytest.raises(Http404):
        variable_in(site, "not-a-uuid")


def _is_a_get_or_404(function: ast.FunctionDef) -> bool:
    """A function with ``try: return <x>.get(...)`` and an ``except`` that raises Http404."""
    for node in ast.walk(function):
        if not isinstance(node, ast.Try):
            continue
        gets = any(
            isinstance(stmt, ast.Return)
            and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Attribute)
            and stmt.value.func.attr == "get"
            for stmt in node.body
        )
        raises_404 = any(
            isinstance(stmt, ast.Raise) and "Http404" in ast.unparse(stmt.exc or ast.Constant(None))
            for handler in node.handlers
            for stmt in ast.walk(handler)
        )
        if gets and raises_404:
            return True
    return False


def test_no_copy_of_get_or_404_outside_its_home():
    home = ROOT / "launchready" / "selectors.py"
    copies = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}()"
        for package in ("launchready", "audits", "monitoring", "handover", "reports")
        if (ROOT / package).is_dir()
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != home and "migrations" not in path.parts
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef) and _is_a_get_or_404(node)
    ]
    assert copies == []
