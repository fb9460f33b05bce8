"""Several scenarios served by one sandbox: ``make run`` serves both demo stores at once.

The scenarios are merged as written (their YAML mappings), then built once, so the
addresses a scenario leaves implicit are handed out without collisions. Two scenarios
may repeat an identical zone, host or registration (the shared mail provider); a name
or an address that they define differently is an error that names it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .scenario import SCENARIO_DIR, Scenario, ScenarioError


def scenario_data(name_or_path: str | Path) -> dict[str, Any]:
    """The YAML mapping of ``sandbox/scenarios/<name>.yaml`` or of a file at a path."""
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") and path.exists()):
        path = SCENARIO_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        available = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
        raise ScenarioError(f"no scenario {str(name_or_path)!r}; available: {available}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(), Loader=loader) or {}  # noqa: S506 (a safe loader)
    if not isinstance(data, dict):
        raise ScenarioError(f"{path.name}: a scenario is a mapping")
    data.setdefault("name", path.stem)
    return data


def merge(datas: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One scenario mapping holding every zone, host and registration of ``datas``."""
    datas = list(datas)
    merged: dict[str, Any] = {
        "name": "+".join(str(d.get("name", "scenario")) for d in datas),
        "description": " ".join(str(d.get("description", "")).strip() for d in datas).strip(),
        "zones": {},
        "registrations": {},
        "hosts": [],
    }
    hosts_by_name: dict[str, dict[str, Any]] = {}
    address_owner: dict[str, str] = {}  # explicit address -> scenario that uses it
    for data in datas:
        source = str(data.get("name", "scenario"))
        unknown = set(data) - {"name", "description", "zones", "registrations", "hosts"}
        if unknown:
            raise ScenarioError(f"{source}: cannot combine a scenario that sets {sorted(unknown)}")
        for key in ("zones", "registrations"):
            for name, value in (data.get(key) or {}).items():
                if name in merged[key] and merged[key][name] != value:
                    raise ScenarioError(f"{source}: {key[:-1]} {name} differs from another scenario's")
                merged[key][name] = value
        for host in data.get("hosts") or []:
            name = str(host.get("name", "")).strip().rstrip(".").lower()
            if name in hosts_by_name:
                if hosts_by_name[name] != host:
                    raise ScenarioError(f"{source}: host {name} differs from another scenario's")
                continue
            address = host.get("address")
            if address:
                owner = address_owner.setdefault(str(address), source)
                if owner != source:
                    raise ScenarioError(f"{source}: address {address} is already used by {owner}")
            hosts_by_name[name] = host
            merged["hosts"].append(host)
    return merged


def combine(names: Iterable[str | Path]) -> Scenario:
    """One Scenario serving every named scenario (a single name loads as is)."""
    datas = [scenario_data(name) for name in names]
    if not datas:
        raise ScenarioError("name at least one scenario")
    data = datas[0] if len(datas) == 1 else merge(datas)
    return Scenario.from_dict(data)
