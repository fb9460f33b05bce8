"""The env-var inventory's reads and writes: environments, the diff between them,
import and export, the CI gate's check, and the facts the audit reads.

Views and the API call these with a site they have already scoped to the user or
token (``workspace_view`` / ``launchready.api.site_for``); nothing here checks access.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q, QuerySet

from launchready.models import Site
from launchready.selectors import get_or_404

from .envfile import (
    SUGGESTED_ENVIRONMENTS,
    ExampleVariable,
    ParsedEnv,
    environment_problem,
    format_env_example,
    is_platform_name,
    name_problem,
    normalize_environment,
    secret_reason,
)
from .models import EnvCheck, EnvVar

logger = logging.getLogger(__name__)

MAX_NAMES_PER_CHECK = 5000
MAX_UNKNOWN_STORED = 200


def _environment_order(name: str) -> tuple[int, str]:
    return (SUGGESTED_ENVIRONMENTS.index(name) if name in SUGGESTED_ENVIRONMENTS else 99, name)


def environment_counts(site: Site) -> list[tuple[str, int]]:
    """The site's environments with their number of variables, production and staging first."""
    rows = EnvVar.objects.filter(site=site).values_list("environment").annotate(n=Count("id"))
    return sorted(((env, n) for env, n in rows), key=lambda row: _environment_order(row[0]))


def variables(site: Site, environment: str) -> QuerySet[EnvVar]:
    return EnvVar.objects.filter(site=site, environment=environment).order_by("name")


def variable_in(site: Site, variable_uuid) -> EnvVar:
    """One variable of ``site``, or 404 (the URL walk gives it another workspace's site)."""
    return get_or_404(EnvVar.objects.select_related("site").filter(site=site), uuid=variable_uuid)


# ---------------------------------------------------------------------------
# Diff between environments
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvironmentDiff:
    left: str
    right: str
    only_left: list[str]  # names in ``left`` that ``right`` lacks
    only_right: list[str]

    @property
    def same(self) -> bool:
        return not self.only_left and not self.only_right


def default_pair(environments: list[str]) -> tuple[str, str] | None:
    """The two environments to compare unless the page asks otherwise."""
    if len(environments) < 2:
        return None
    if "production" in environments and "staging" in environments:
        return "production", "staging"
    return environments[0], environments[1]


def diff(site: Site, left: str, right: str) -> EnvironmentDiff:
    """Names in one environment and not in the other (one query)."""
    rows = EnvVar.objects.filter(site=site, environment__in=[left, right]).values_list("environment", "name")
    names: dict[str, set[str]] = {left: set(), right: set()}
    for environment, name in rows:
        names[environment].add(name)
    return EnvironmentDiff(
        left=left,
        right=right,
        only_left=sorted(names[left] - names[right]),
        only_right=sorted(names[right] - names[left]),
    )


# ---------------------------------------------------------------------------
# Import and export
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    environment: str
    created: list[str]
    existing: list[str]  # names already listed: left as they were
    parsed: ParsedEnv


def import_variables(site: Site, environment: str, parsed: ParsedEnv) -> ImportResult:
    """Add the parsed names to ``environment``; names it already lists are left alone."""
    existing = set(variables(site, environment).values_list("name", flat=True))
    new = [v for v in parsed.variables if v.name not in existing]
    with transaction.atomic():
        EnvVar.objects.bulk_create(
            [
                EnvVar(
                    site=site, environment=environment, name=v.name, purpose=v.purpose, required=v.required
                )
                for v in new
            ],
            ignore_conflicts=True,
        )
    logger.info(
        "env import site=%s environment=%s created=%d existing=%d values_discarded=%d",
        site.uuid,
        environment,
        len(new),
        len(parsed.variables) - len(new),
        parsed.discarded_values,
    )
    return ImportResult(
        environment=environment,
        created=[v.name for v in new],
        existing=[v.name for v in parsed.variables if v.name in existing],
        parsed=parsed,
    )


def copy_missing(site: Site, source: str, target: str) -> list[str]:
    """Give ``target`` the names of ``source`` it lacks, with purpose, need, storage kind and owner."""
    missing = diff(site, source, target).only_left
    rows = variables(site, source).filter(name__in=missing)
    EnvVar.objects.bulk_create(
        [
            EnvVar(
                site=site,
                environment=target,
                name=v.name,
                purpose=v.purpose,
                required=v.required,
                storage=v.storage,
                owner=v.owner,
            )
            for v in rows
        ],
        ignore_conflicts=True,
    )
    return missing


def export_env_example(site: Site, environment: str) -> str:
    """The environment's ``.env.example``: names with empty values, purposes as comments."""
    header = [
        f".env.example for {site.domain} ({environment}), from Launch Ready.",
        "Names only: the values live where each variable's inventory entry says.",
    ]
    return format_env_example(
        [ExampleVariable(v.name, v.purpose, v.required) for v in variables(site, environment)], header
    )


# ---------------------------------------------------------------------------
# The CI gate
# ---------------------------------------------------------------------------


class EnvCheckRefused(Exception):
    """Bad input to the gate; the message is a sentence that never repeats the input."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class EnvCheckResult:
    environment: str
    ok: bool
    missing_required: list[str]
    missing_optional: list[str]
    unknown: list[str]  # sent, not in the inventory (names every shell or CI sets are left out)
    names_count: int
    checked_at: datetime


def _clean_names(names: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not isinstance(name, str):
            raise EnvCheckRefused(f"Item {position} of “names” is not a string: send variable names only.")
        name = name.strip()
        if not name:
            continue
        if "=" in name:
            raise EnvCheckRefused(
                f"Item {position} of “names” contains “=”: send names only, never values "
                "(for example with `compgen -e`, not `env`)."
            )
        if secret_reason(name):
            raise EnvCheckRefused(
                f"Item {position} of “names” looks like a secret, not a name: send names only."
            )
        problem = name_problem(name)
        if problem:
            raise EnvCheckRefused(f"Item {position} of “names” is not a variable name. {problem}")
        found.add(name)
    return found


def check_env(site: Site, environment: str, names: list[str], *, token_name: str = "") -> EnvCheckResult:
    """Compare the names present in a deploy environment with the inventory, and record the call.

    ``ok`` is false when a required variable is missing. Raises :class:`EnvCheckRefused`
    for bad input (nothing is recorded then).
    """
    environment = normalize_environment(environment or "")
    problem = environment_problem(environment)
    if problem:
        raise EnvCheckRefused(f"“environment”: {problem}")
    if len(names) > MAX_NAMES_PER_CHECK:
        raise EnvCheckRefused(f"Send at most {MAX_NAMES_PER_CHECK} names.")
    sent = _clean_names(names)
    inventory = dict(variables(site, environment).values_list("name", "required"))
    if not inventory:
        known = ", ".join(env for env, _ in environment_counts(site)) or "none yet"
        raise EnvCheckRefused(
            f"No variables are recorded for the environment “{environment}” of {site.domain} "
            f"(environments with variables: {known}). Add them on the site's Environment variables page."
        )
    missing_required = sorted(n for n, required in inventory.items() if required and n not in sent)
    missing_optional = sorted(n for n, required in inventory.items() if not required and n not in sent)
    unknown = sorted(n for n in sent if n not in inventory and not is_platform_name(n))
    check = EnvCheck.objects.create(
        site=site,
        environment=environment,
        names_count=len(sent),
        missing=missing_required,
        unknown=unknown[:MAX_UNKNOWN_STORED],
        ok=not missing_required,
        token_name=token_name[:100],
    )
    _prune_checks(site)
    logger.info(
        "env check site=%s environment=%s ok=%s missing=%d unknown=%d",
        site.uuid,
        environment,
        check.ok,
        len(missing_required),
        len(unknown),
    )
    return EnvCheckResult(
        environment=environment,
        ok=check.ok,
        missing_required=missing_required,
        missing_optional=missing_optional,
        unknown=unknown,
        names_count=len(sent),
        checked_at=check.checked_at,
    )


def _prune_checks(site: Site) -> None:
    keep = EnvCheck.objects.filter(site=site).order_by("-checked_at", "-id")[: EnvCheck.KEEP_PER_SITE]
    EnvCheck.objects.filter(site=site).exclude(pk__in=list(keep.values_list("pk", flat=True))).delete()


def last_checks(site: Site, limit: int = 5) -> list[EnvCheck]:
    return list(EnvCheck.objects.filter(site=site).order_by("-checked_at", "-id")[:limit])


# ---------------------------------------------------------------------------
# What the audit and the site page read
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvFacts:
    has_inventory: bool
    undocumented_required: list[str]  # required variables without a purpose or a storage place
    last_gate_check_at: datetime | None


def _undocumented_required(site: Site) -> list[str]:
    rows = EnvVar.objects.filter(site=site, required=True).filter(Q(purpose="") | Q(storage=""))
    return sorted(set(rows.values_list("name", flat=True)))


def env_facts(site: Site) -> EnvFacts:
    """For the ``deploy.env_*`` checks (three queries)."""
    return EnvFacts(
        has_inventory=EnvVar.objects.filter(site=site).exists(),
        undocumented_required=_undocumented_required(site),
        last_gate_check_at=EnvCheck.objects.filter(site=site)
        .order_by("-checked_at")
        .values_list("checked_at", flat=True)
        .first(),
    )


@dataclass(frozen=True)
class EnvPanel:
    environments: list[tuple[str, int]]
    undocumented_required: list[str]
    diff: EnvironmentDiff | None
    last_check: EnvCheck | None

    @property
    def total(self) -> int:
        return sum(n for _, n in self.environments)


def env_panel(site: Site) -> EnvPanel:
    """The site page's summary: environments, what is undocumented, the diff, the last gate call."""
    counts = environment_counts(site)
    pair = default_pair([env for env, _ in counts])
    checks = last_checks(site, limit=1)
    return EnvPanel(
        environments=counts,
        undocumented_required=_undocumented_required(site) if counts else [],
        diff=diff(site, *pair) if pair else None,
        last_check=checks[0] if checks else None,
    )
