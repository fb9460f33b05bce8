"""The env-var inventory of a site: variables per environment with the diff between
environments and the CI gate's steps; add, edit and remove a variable; import a
``.env`` and export a ``.env.example``.

No view logs or echoes what was posted: names are the only text that comes back.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from launchready.models import Membership, Role, Site
from launchready.views_common import workspace_view

from . import services_env
from .ci_env import env_gate_steps
from .envfile import environment_problem, normalize_environment
from .forms_env import EnvImportForm, EnvVarForm, environment_choices
from .models import EnvVar

logger = logging.getLogger(__name__)


def env_url(site: Site, environment: str | None = None, anchor: str = "") -> str:
    url = reverse("env_overview", kwargs={"workspace": site.workspace.uuid, "site": site.uuid})
    if environment:
        url += "?" + urlencode({"environment": environment})
    return url + (f"#{anchor}" if anchor else "")


def _environment_param(request: HttpRequest, key: str) -> str | None:
    value = normalize_environment(request.GET.get(key, ""))
    return value if value and not environment_problem(value) else None


def _names(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def overview_context(site: Site, environment: str | None, compare: str | None, **overrides) -> dict:
    """Everything the inventory page shows for one environment."""
    counts = services_env.environment_counts(site)
    existing = [env for env, _ in counts]
    environment = environment or (existing[0] if existing else "production")
    tabs = environment_choices(existing)
    if environment not in tabs:
        tabs.append(environment)
    others = [env for env in existing if env != environment]
    if compare not in others:
        pair = services_env.default_pair(existing)
        compare = pair[1] if pair and pair[0] == environment else (others[0] if others else None)
    context = {
        "site": site,
        "environment": environment,
        "tabs": [(env, dict(counts).get(env, 0)) for env in tabs],
        "suggestions": tabs,
        "variables": list(services_env.variables(site, environment)),
        "form": EnvVarForm(site=site, auto_id="env-new-%s", initial={"environment": environment}),
        "compare": compare,
        "compare_options": others,
        "diff": services_env.diff(site, environment, compare) if compare else None,
        "checks": services_env.last_checks(site),
        "steps": env_gate_steps(site, environment),
        "storage_other": EnvVar.Storage.OTHER,
    }
    context.update(overrides)
    return context


@workspace_view()
def env_overview(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    context = overview_context(
        site, _environment_param(request, "environment"), _environment_param(request, "compare")
    )
    return render(request, "handover/env_overview.html", context)


def _saved(request: HttpRequest, form: EnvVarForm, variable: EnvVar, verb: str) -> None:
    if form.value_discarded:
        messages.warning(
            request,
            f"The value after “=” was discarded; only the name {variable.name} was kept. "
            "Values never belong here: record where the value is kept instead.",
        )
    messages.success(request, f"{variable.name} {verb} in {variable.environment}.")


@workspace_view(write=Role.MEMBER, methods=["POST"])
def env_variable_add(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    form = EnvVarForm(request.POST, site=site, auto_id="env-new-%s")
    if form.is_valid():
        variable = form.save()
        logger.info("env variable added site=%s environment=%s", site.uuid, variable.environment)
        _saved(request, form, variable, "added")
        return redirect(env_url(site, variable.environment, "variables"))
    environment = form.cleaned_data.get("environment")
    context = overview_context(site, environment, None, form=form)
    return render(request, "handover/env_overview.html", context, status=400)


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)
def env_variable_edit(request: HttpRequest, m: Membership, site: Site, envvar) -> HttpResponse:
    variable = services_env.variable_in(site, envvar)
    form = EnvVarForm(request.POST or None, instance=variable, site=site)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            variable = form.save()
            _saved(request, form, variable, "saved")
            return redirect(env_url(site, variable.environment, "variables"))
        # A failed ModelForm has already written the accepted fields onto the instance.
        variable.refresh_from_db()
        status = 400
    existing = [env for env, _ in services_env.environment_counts(site)]
    context = {"site": site, "variable": variable, "form": form, "suggestions": environment_choices(existing)}
    return render(request, "handover/env_variable.html", context, status=status)


@workspace_view(write=Role.MEMBER, methods=["POST"])
def env_variable_delete(request: HttpRequest, m: Membership, site: Site, envvar) -> HttpResponse:
    variable = services_env.variable_in(site, envvar)
    variable.delete()
    messages.success(request, f"{variable.name} removed from {variable.environment}.")
    return redirect(env_url(site, variable.environment, "variables"))


@workspace_view(write=Role.MEMBER, methods=["POST"])
def env_copy_missing(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    """Add to one environment the names another one has and it lacks (no values, of course)."""
    source = normalize_environment(request.POST.get("source", ""))
    target = normalize_environment(request.POST.get("target", ""))
    if environment_problem(source) or environment_problem(target) or source == target:
        messages.error(request, "Choose two different environments to copy names between.")
        return redirect(env_url(site))
    copied = services_env.copy_missing(site, source, target)
    if copied:
        messages.success(request, f"Added to {target}: {_names(copied)}. Check their storage places.")
    else:
        messages.info(request, f"{target} already has every name of {source}.")
    return redirect(env_url(site, target, "variables"))


def _report_import(request: HttpRequest, result: services_env.ImportResult) -> None:
    parsed, env = result.parsed, result.environment
    if result.created:
        messages.success(
            request, f"Imported {len(result.created)} variable(s) into {env}: {_names(result.created)}."
        )
    if result.existing:
        messages.info(request, f"Already listed in {env}, left as they were: {_names(result.existing)}.")
    n = parsed.discarded_values
    if n:
        noun = "value was" if n == 1 else "values were"
        messages.warning(request, f"{n} {noun} discarded; only names were kept.")
    if parsed.skipped_lines:
        lines = ", ".join(str(n) for n in parsed.skipped_lines[:20])
        messages.warning(
            request, f"Skipped line(s) {lines}: not a NAME=… line, or the name was not usable (not shown)."
        )
    if parsed.refused_comments:
        lines = ", ".join(str(n) for n in parsed.refused_comments[:20])
        messages.warning(request, f"The comment(s) on line(s) {lines} looked like secrets and were not kept.")
    if parsed.duplicates:
        messages.info(
            request, f"Listed more than once (the first was used): {_names(list(parsed.duplicates))}."
        )


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)
def env_import(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    initial = {"environment": _environment_param(request, "environment") or "production"}
    form = EnvImportForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            environment = form.cleaned_data["environment"]
            result = services_env.import_variables(site, environment, form.cleaned_data["parsed"])
            _report_import(request, result)
            return redirect(env_url(site, environment, "variables"))
        status = 400
    else:
        status = 200
    existing = [env for env, _ in services_env.environment_counts(site)]
    context = {"site": site, "form": form, "suggestions": environment_choices(existing)}
    return render(request, "handover/env_import.html", context, status=status)


@workspace_view()
def env_export(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    environment = _environment_param(request, "environment")
    if environment is None:
        counts = services_env.environment_counts(site)
        environment = counts[0][0] if counts else "production"
    response = HttpResponse(
        services_env.export_env_example(site, environment), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{environment}.env.example"'
    return response
