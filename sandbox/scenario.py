"""Scenario files: what the sandbox internet serves (zones, hosts, routes, registrations).

``sandbox/scenario_parse.py`` parses each part; this module assembles them into a
:class:`Scenario` and fills in what a scenario leaves implicit: loopback addresses for
hosts and nameservers, A records for hosts and nameserver names, zones for names that
no declared zone holds, RDAP registrations for declared zones, and the two service hosts
(RDAP and the webhook receiver). The schema is documented in ``sandbox/README.md``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .scenario_parse import (
    RDAP_ADDRESS,
    RDAP_HOST,
    SANDBOX_NETWORK,
    WEBHOOK_ADDRESS,
    WEBHOOK_HOST,
    Host,
    Latency,
    NameServer,
    Record,
    Registration,
    Route,
    ScenarioError,
    Zone,
    _as_list,
    _check_keys,
    _norm,
    _parse_registration,
    _parse_zone,
)

# The parts are importable from here too, beside the Scenario that holds them.
__all__ = [
    "RDAP_ADDRESS",
    "RDAP_HOST",
    "SANDBOX_NETWORK",
    "SCENARIO_DIR",
    "WEBHOOK_ADDRESS",
    "WEBHOOK_HOST",
    "Host",
    "Latency",
    "NameServer",
    "Record",
    "Registration",
    "Route",
    "Scenario",
    "ScenarioError",
    "Zone",
    "build_scenario",
    "load_scenario",
]

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
DEFAULT_NS = ("ns.sandbox.test", "127.77.0.53")
HOST_POOL_START = ipaddress.ip_address("127.77.1.1")
NS_POOL_START = ipaddress.ip_address("127.77.53.1")
TOP_KEYS = {"name", "description", "zones", "hosts", "registrations", "webhook"}


@dataclass
class Scenario:
    name: str = "scenario"
    description: str = ""
    zones: dict[str, Zone] = field(default_factory=dict)
    hosts: list[Host] = field(default_factory=list)
    registrations: dict[str, Registration] = field(default_factory=dict)
    webhook_status: int = 200

    @classmethod
    def from_dict(cls, data: dict) -> Scenario:
        return build_scenario(data)

    def host(self, name: str) -> Host:
        name = _norm(name)
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)


class _Pool:
    """Hands out unused loopback addresses in the sandbox range."""

    def __init__(self, used: set[str]):
        self.used = used

    def take(self, start: ipaddress.IPv4Address) -> str:
        addr = start
        while str(addr) in self.used:
            addr += 1
            if addr not in SANDBOX_NETWORK:
                raise ScenarioError("ran out of sandbox addresses")
        self.used.add(str(addr))
        return str(addr)


def _zone_for(zones: dict[str, Zone], name: str) -> Zone:
    """The most specific zone holding ``name``; creates an implicit one (registered domain)."""
    best = None
    for zname, zone in zones.items():
        if (name == zname or name.endswith("." + zname)) and (best is None or len(zname) > len(best.name)):
            best = zone
    if best is None:
        labels = name.split(".")
        zname = ".".join(labels[-2:]) if len(labels) >= 2 else name
        best = zones[zname] = Zone(name=zname, implicit=True)
    return best


def _has_address_records(zone: Zone, name: str) -> bool:
    return any(r.name == name and r.rtype in ("A", "CNAME") for r in zone.records)


def build_scenario(data: dict[str, Any]) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError("a scenario is a mapping")
    _check_keys(data, TOP_KEYS, "scenario")
    scenario = Scenario(name=str(data.get("name", "scenario")), description=str(data.get("description", "")))
    for zname, zdata in (data.get("zones") or {}).items():
        zone = _parse_zone(zname, zdata)
        scenario.zones[zone.name] = zone
    scenario.hosts = [Host.parse(h, "host") for h in _as_list(data.get("hosts"))]
    names = [h.name for h in scenario.hosts]
    if len(names) != len(set(names)):
        raise ScenarioError("host names must be unique")
    webhook = data.get("webhook") or {}
    _check_keys(webhook, {"status"}, "webhook")
    scenario.webhook_status = int(webhook.get("status", 200))
    if RDAP_HOST not in names:
        scenario.hosts.append(Host(name=RDAP_HOST, address=RDAP_ADDRESS, kind="rdap"))
    if WEBHOOK_HOST not in names:
        scenario.hosts.append(Host(name=WEBHOOK_HOST, address=WEBHOOK_ADDRESS, kind="webhook"))

    used = {RDAP_ADDRESS, WEBHOOK_ADDRESS, DEFAULT_NS[1]}
    used |= {h.address for h in scenario.hosts if h.address}
    used |= {ns.address for z in scenario.zones.values() for ns in z.nameservers if ns.address}
    pool = _Pool(used)
    for host in scenario.hosts:
        if not host.address:
            host.address = pool.take(HOST_POOL_START)
        if ipaddress.ip_address(host.address) not in SANDBOX_NETWORK:
            raise ScenarioError(f"host {host.name}: address must be inside {SANDBOX_NETWORK}")

    declared = list(scenario.zones.values())
    ns_addresses: dict[str, str] = {DEFAULT_NS[0]: DEFAULT_NS[1]}
    for zone in declared:
        for ns in zone.nameservers:
            if not ns.address:
                ns.address = ns_addresses.get(ns.name) or pool.take(NS_POOL_START)
            if ipaddress.ip_address(ns.address) not in SANDBOX_NETWORK:
                raise ScenarioError(f"nameserver {ns.name}: address must be inside {SANDBOX_NETWORK}")
            ns_addresses.setdefault(ns.name, ns.address)

    # A records for hosts and nameserver names, creating implicit zones as needed.
    for host in scenario.hosts:
        if host.dns:
            zone = _zone_for(scenario.zones, host.name)
            if not _has_address_records(zone, host.name):
                zone.records.append(Record(name=host.name, rtype="A", values=[host.address]))
    for ns_name, address in ns_addresses.items():
        zone = _zone_for(scenario.zones, ns_name)
        if not _has_address_records(zone, ns_name):
            zone.records.append(Record(name=ns_name, rtype="A", values=[address]))
    for zone in scenario.zones.values():
        if not zone.nameservers:
            zone.nameservers = [NameServer(name=DEFAULT_NS[0], address=DEFAULT_NS[1])]

    for domain, rdata in (data.get("registrations") or {}).items():
        reg = _parse_registration(domain, rdata)
        scenario.registrations[reg.domain] = reg
    for zone in declared:
        if zone.name not in scenario.registrations and zone.name.count(".") == 1:
            scenario.registrations[zone.name] = Registration(
                domain=zone.name, registered="-400d", status=["active", "client transfer prohibited"]
            )
    for reg in scenario.registrations.values():
        zone = scenario.zones.get(reg.domain)
        if zone is not None and not reg.nameservers:
            reg.nameservers = [ns.name for ns in zone.nameservers]
    return scenario


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load ``sandbox/scenarios/<name>.yaml`` or a YAML file at a path."""
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") and path.exists()):
        path = SCENARIO_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        available = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
        raise ScenarioError(f"no scenario {name_or_path!r}; available: {available}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when libyaml is there
    data = yaml.load(path.read_text(), Loader=loader) or {}  # noqa: S506 (a safe loader)
    data.setdefault("name", path.stem)
    return Scenario.from_dict(data)
