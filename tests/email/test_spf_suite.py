"""The OpenSPF RFC 7208 test suite against ``check_host()``, each section's zone served
by the sandbox's real authoritative DNS server and queried through launchready.net.

Zone data is translated the way the suite's reference driver (pyspf) does: records of
the obsolete SPF type are copied to TXT when a name has no TXT record of its own, and
``NONE`` values are dropped. A ``TIMEOUT`` marker makes the name silent (the sandbox's
per-name ``timeout`` failure); where a name holds both records and the marker the
suite means "types without records time out": that only matters for the obsolete SPF
type we never query, so such markers are dropped.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import dns.name
import pytest
import yaml

from audits.email.spf_eval import check_host, sender_identity
from launchready.net.config import NetConfig
from launchready.net.resolver import resolve
from sandbox import Sandbox, Scenario

# The OpenSPF suite (release 2014.04), copied from ../shared/testdata with its licence.
SUITE = Path(__file__).resolve().parent / "data" / "rfc7208-tests.yml"
SECTIONS: list[dict[str, Any]] = list(yaml.safe_load_all(SUITE.read_text()))
TARGET_TYPES = {"MX", "CNAME", "PTR"}
DNS_TIMEOUT = 0.4


def _zone_name(name: str) -> str:
    labels = name.lower().split(".")
    if labels[-1] == "arpa":
        return ".".join(labels[-2:])
    return ".".join(labels[-2:])


def scenario_for(section: dict[str, Any], index: int) -> dict[str, Any]:
    """A sandbox scenario dict serving one suite section's ``zonedata``."""
    zones: dict[str, dict[str, Any]] = {}
    for name, entries in section["zonedata"].items():
        records: list[dict[str, Any]] = []
        spf_as_txt: list[Any] = []
        has_txt = False
        timeout = False
        for entry in entries:
            if entry == "TIMEOUT":
                timeout = True
                continue
            ((rtype, value),) = entry.items()
            if rtype == "TXT":
                has_txt = True
            elif rtype == "SPF" and not has_txt:
                spf_as_txt.append(value)
            if value == "NONE" or rtype == "SPF":
                continue
            records.append(_record(name, rtype, value))
        if not has_txt:
            records.extend(_record(name, "TXT", v) for v in spf_as_txt if v != "NONE")
        zone = zones.setdefault(_zone_name(name), {"records": [], "failures": {}})
        zone["records"].extend(records)
        if timeout and not records:
            zone["failures"][_presentation(name)] = "timeout"
    # The sandbox refuses names outside its zones, where the Internet would answer
    # NXDOMAIN; an empty zone per top-level domain gives the Internet's answer.
    for tld in {"com", "net", "org"} | {n.lower().rsplit(".", 1)[-1] for n in section["zonedata"]}:
        zones.setdefault(tld, {"records": [], "failures": {}})
    return {"name": f"rfc7208-{index}", "zones": zones}


def _record(name: str, rtype: str, value: Any) -> dict[str, Any]:
    if rtype == "MX":
        value = f"{value[0]} {value[1].rstrip('.')}."
    elif rtype in TARGET_TYPES:
        value = value.rstrip(".") + "."
    elif rtype == "TXT" and value == []:
        value = [""]
    return {"name": _presentation(name), "type": rtype, "value": value}


def _presentation(name: str) -> str:
    """Zone-file form: the suite has a name with spaces, written escaped (\\032) in a zone."""
    return dns.name.from_text(name.lower().rstrip(".") + ".").to_text()


CASES = [
    pytest.param(index, name, case, id=f"{index:02d}-{name}")
    for index, section in enumerate(SECTIONS)
    for name, case in section["tests"].items()
]


@pytest.fixture(scope="module")
def section_dns():
    """Start one sandbox per suite section, in order, stopping the previous one."""
    current: dict[str, Any] = {}

    def get(index: int) -> NetConfig:
        if current.get("index") != index:
            if current.get("sandbox"):
                current["sandbox"].stop()
            sandbox = Sandbox(Scenario.from_dict(scenario_for(SECTIONS[index], index))).start()
            current.update(index=index, sandbox=sandbox)
            current["config"] = NetConfig(
                dns_servers=(("127.0.0.1", sandbox.dns_port),), dns_timeout=DNS_TIMEOUT
            )
        return current["config"]

    yield get
    if current.get("sandbox"):
        current["sandbox"].stop()


@pytest.mark.parametrize(("index", "name", "case"), CASES)
def test_rfc7208(section_dns, index: int, name: str, case: dict[str, Any]) -> None:
    config = section_dns(index)

    async def lookup(qname: str, rdtype: str):
        return await resolve(qname, rdtype, config=config, timeout=DNS_TIMEOUT)

    sender, domain = sender_identity(case["mailfrom"], case["helo"])
    result = asyncio.run(check_host(case["host"], domain, sender, lookup, helo=case["helo"]))
    expected = case["result"] if isinstance(case["result"], list) else [case["result"]]
    assert result.result in expected, f"{case.get('description', '')} {result.reason} {result.trace}"
    explanation = case.get("explanation")
    if explanation is not None and explanation != "DEFAULT":
        # DNS names are case-insensitive; the suite writes %{i} nibbles of IPv6 in capitals.
        assert result.explanation.lower() == str(explanation).lower()
    elif explanation == "DEFAULT":
        assert result.explanation == "DEFAULT"


def test_suite_is_complete() -> None:
    """The suite file is the 2014.04 release: 203 cases in 16 sections."""
    assert len(SECTIONS) == 16
    assert len(CASES) == 203
