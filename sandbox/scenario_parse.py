"""Turn scenario data (parsed YAML or a Python dict) into a complete :class:`Scenario`.

Besides parsing, this fills in what a scenario leaves implicit: loopback addresses for
hosts and nameservers, A records for hosts and nameserver names, zones for names that
no declared zone holds, RDAP registrations for declared zones, and the two service hosts
(RDAP and the webhook receiver).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from .scenario import (
    NAME_BEHAVIOURS,
    NS_BEHAVIOURS,
    RDAP_ADDRESS,
    RDAP_HOST,
    SANDBOX_NETWORK,
    WEBHOOK_ADDRESS,
    WEBHOOK_HOST,
    Host,
    NameServer,
    Record,
    Registration,
    Scenario,
    ScenarioError,
    Zone,
    _as_list,
    _check_keys,
    _norm,
)

DEFAULT_NS = ("ns.sandbox.test", "127.77.0.53")
HOST_POOL_START = ipaddress.ip_address("127.77.1.1")
NS_POOL_START = ipaddress.ip_address("127.77.53.1")
TOP_KEYS = {"name", "description", "zones", "hosts", "registrations", "webhook"}
ZONE_KEYS = {"ttl", "serial", "nameservers", "records", "failures"}
RECORD_KEYS = {"name", "type", "value", "values", "ttl", "alternate"}
NS_KEYS = {"name", "address", "behaviour", "serial", "records"}
REG_KEYS = {"registered", "expires", "updated", "status", "registrar", "registrar_iana_id"}
RECORD_TYPES = {"A", "AAAA", "CNAME", "MX", "TXT", "CAA", "NS", "SRV", "PTR"}


def _absolute(name: str, zone: str) -> str:
    """Zone-file style names: "@" is the apex, a trailing dot is absolute, the rest is relative.

    A name that already ends with the zone name is taken as absolute too, because writing
    ``www.shop.test`` inside zone ``shop.test`` almost never means ``www.shop.test.shop.test``.
    """
    name = str(name).strip()
    if name in ("@", ""):
        return zone
    if name.endswith("."):
        return name.rstrip(".").lower()
    name = name.lower()
    if name == zone or name.endswith("." + zone):
        return name
    return f"{name}.{zone}"


def _parse_record(data: dict, zone: str, where: str) -> Record:
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: a record is a mapping")
    _check_keys(data, RECORD_KEYS, where)
    rtype = str(data.get("type", "")).upper()
    if rtype not in RECORD_TYPES:
        raise ScenarioError(f"{where}: record type {rtype!r} not supported ({sorted(RECORD_TYPES)})")
    if "values" in data:
        values = list(data["values"])
    elif "value" in data:
        values = [data["value"]]
    else:
        raise ScenarioError(f"{where}: a record needs 'value' or 'values'")
    if rtype != "TXT":
        values = [str(v) for v in values]
    return Record(
        name=_absolute(data.get("name", "@"), zone),
        rtype=rtype,
        values=values,
        ttl=None if data.get("ttl") is None else int(data["ttl"]),
        alternate=bool(data.get("alternate", False)),
    )


def _parse_zone(name: str, data: dict) -> Zone:
    zone_name = _norm(name)
    where = f"zone {zone_name}"
    data = data or {}
    _check_keys(data, ZONE_KEYS, where)
    zone = Zone(name=zone_name, ttl=int(data.get("ttl", 300)), serial=int(data.get("serial", 2026010101)))
    zone.records = [_parse_record(r, zone_name, where) for r in _as_list(data.get("records"))]
    for ns in _as_list(data.get("nameservers")):
        if isinstance(ns, str):
            ns = {"name": ns}
        _check_keys(ns, NS_KEYS, f"{where} nameserver")
        behaviour = ns.get("behaviour", "ok")
        if behaviour not in NS_BEHAVIOURS:
            raise ScenarioError(f"{where}: nameserver behaviour must be one of {NS_BEHAVIOURS}")
        zone.nameservers.append(
            NameServer(
                name=_norm(ns["name"]),
                address=str(ns.get("address", "")),
                behaviour=behaviour,
                serial=None if ns.get("serial") is None else int(ns["serial"]),
                records=[
                    _parse_record(r, zone_name, f"{where} {ns['name']}") for r in _as_list(ns.get("records"))
                ],
            )
        )
    for fname, behaviour in (data.get("failures") or {}).items():
        if behaviour not in NAME_BEHAVIOURS:
            raise ScenarioError(f"{where}: failure for {fname} must be one of {NAME_BEHAVIOURS}")
        zone.behaviours[_absolute(fname, zone_name)] = behaviour
    return zone


def _parse_registration(domain: str, data: dict) -> Registration:
    data = data or {}
    _check_keys(data, REG_KEYS, f"registration {domain}")
    reg = Registration(domain=_norm(domain))
    for key in ("registered", "expires", "updated", "registrar", "registrar_iana_id"):
        if data.get(key) is not None:
            setattr(reg, key, str(data[key]))
    if data.get("status") is not None:
        reg.status = [str(s) for s in _as_list(data["status"])]
    return reg


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
