"""Probes of the ``dns`` stage: the names of the store, its nameservers, and the registry.

Every name the store may answer on (apex, www, declared, common and
certificate-transparency names) is resolved at once; the nameservers are asked directly
(``dig +norec``) so that a lame or out-of-sync one shows. RDAP gives the registration.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import datetime
from urllib.parse import urljoin

from audits.facts import (
    DnsAnswer,
    DnsFacts,
    DnsRecord,
    DnsStatus,
    HostDns,
    NameServerFacts,
    RdapFacts,
    Unavailable,
)
from launchready import net

from .base import BudgetExhausted, ProbeRun

RDAP_BOOTSTRAP = {
    "com": "https://rdap.verisign.com/com/v1/",
    "net": "https://rdap.verisign.com/net/v1/",
    "org": "https://rdap.publicinterestregistry.org/rdap/",
}
RDAP_FALLBACK = "https://rdap.org/"


async def probe_dns(run: ProbeRun) -> DnsFacts:
    domain = run.site.domain
    ns_task = asyncio.create_task(_resolve(run, domain, "NS"))
    caa_task = asyncio.create_task(_resolve(run, domain, "CAA"))
    names: dict[str, str] = {domain: "apex", f"www.{domain}": "www"}
    for label in run.site.subdomains:
        names.setdefault(f"{label}.{domain}", "declared")
    for label in run.options.common_subdomains:
        names.setdefault(f"{label}.{domain}", "common")
    ct, ct_unavailable = await ct_names(run)
    for name in ct:
        names.setdefault(name, "ct")

    async def host(name: str, source: str) -> HostDns:
        a, aaaa = await asyncio.gather(_resolve(run, name, "A"), _resolve(run, name, "AAAA"))
        return HostDns(name=name, source=source, a=a, aaaa=aaaa)

    hosts = await asyncio.gather(*(host(n, s) for n, s in names.items()))
    # Common names that do not exist are not part of the store: keep only what is there.
    hosts = [h for h in hosts if h.source != "common" or h.resolves or h.cname_chain]
    ns = await ns_task
    nameservers = await asyncio.gather(*(nameserver(run, n) for n in ns.values))
    hosts = await cname_conflicts(run, hosts, nameservers)
    return DnsFacts(
        domain=domain,
        ns=ns,
        nameservers=list(nameservers),
        caa=await caa_task,
        hosts=hosts,
        ct_unavailable=ct_unavailable,
    )


async def _resolve(run: ProbeRun, name: str, rdtype: str) -> DnsAnswer:
    return dns_answer_fact(await net.resolve(name, rdtype, config=run.config))


def contactable(hosts: list[HostDns], config: net.NetConfig) -> list[str]:
    """The resolving names with at least one address the SSRF guard lets us contact.

    A public name on a private address is what dns.private_address reports; probing
    it further would only turn every TLS and exposure check into "could not be checked".
    """
    return [
        h.name
        for h in hosts
        if h.resolves and any(net.address_problem(a, config) is None for a in h.addresses)
    ]


async def cname_conflicts(
    run: ProbeRun, hosts: list[HostDns], nameservers: list[NameServerFacts]
) -> list[HostDns]:
    """Ask an authoritative nameserver (ANY) what else sits beside each CNAME."""
    ranked = sorted(nameservers, key=lambda ns: (not ns.authoritative, not ns.responded))
    server = next((a for ns in ranked if ns.responded for a in ns.addresses), None)
    if server is None:
        return hosts

    async def check(host: HostDns) -> HostDns:
        if not host.cname_chain:
            return host
        reply = await net.query_nameserver(server, host.name, "ANY", config=run.config)
        others = sorted(
            {t for owner, t in reply.answer_types if owner == host.name and t not in ("CNAME", "RRSIG")}
        )
        return dataclasses.replace(host, other_types=others) if others else host

    return list(await asyncio.gather(*(check(h) for h in hosts)))


async def nameserver(run: ProbeRun, ns_name: str) -> NameServerFacts:
    ns_name = ns_name.rstrip(".").lower()
    a = await net.resolve(ns_name, "A", config=run.config)
    if not a.ok:
        message = a.error.message if a.error else f"{ns_name} has no address."
        return NameServerFacts(name=ns_name, responded=False, error=message)
    address = a.records[0]
    domain = run.site.domain
    soa, apex, www = await asyncio.gather(
        net.query_nameserver(address, domain, "SOA", config=run.config),
        net.query_nameserver(address, domain, "A", config=run.config),
        net.query_nameserver(address, f"www.{domain}", "A", config=run.config),
    )
    responded = soa.status not in (net.DnsStatus.TIMEOUT, net.DnsStatus.ERROR, net.DnsStatus.BLOCKED)
    error = ""
    if soa.error:
        error = soa.error.message
    elif soa.status == net.DnsStatus.REFUSED:
        error = f"{ns_name} refused to answer for {domain}."
    return NameServerFacts(
        name=ns_name,
        addresses=list(a.records),
        responded=responded,
        authoritative=soa.authoritative and soa.status == net.DnsStatus.OK,
        soa_serial=soa.soa_serial,
        apex_a=sorted(r for r in apex.records if _looks_like_ip(r)),
        www_a=sorted(r for r in www.records if _looks_like_ip(r)),
        error=error,
    )


async def ct_names(run: ProbeRun) -> tuple[list[str], Unavailable | None]:
    if not run.options.ct_url:
        return [], Unavailable(
            "No certificate-transparency source is configured, so subdomains known only from "
            "certificates were not looked for.",
        )
    url = run.options.ct_url.format(domain=run.site.domain)
    try:
        result = await run.fetch(url, headers={"Accept": "application/json"})
    except BudgetExhausted as exc:
        return [], Unavailable(str(exc))
    if not result.ok or result.status != 200:
        reason = result.error.message if result.error else f"HTTP {result.status}"
        return [], Unavailable(f"The certificate-transparency source did not answer: {reason}")
    try:
        rows = result.json()
    except ValueError:
        return [], Unavailable("The certificate-transparency source sent something that is not JSON.")
    names: set[str] = set()
    for row in rows if isinstance(rows, list) else []:
        for value in str(row.get("name_value", "")).split("\n") if isinstance(row, dict) else []:
            value = value.strip().lower().lstrip("*.")
            if value.endswith("." + run.site.domain) and len(names) < 50:
                names.add(value)
    return sorted(names), None


async def probe_rdap(run: ProbeRun) -> RdapFacts:
    domain = run.site.domain
    base = run.options.rdap_url or RDAP_BOOTSTRAP.get(domain.rsplit(".", 1)[-1], RDAP_FALLBACK)
    url = urljoin(base if base.endswith("/") else base + "/", f"domain/{domain}")
    try:
        result = await run.fetch(url, headers={"Accept": "application/rdap+json"})
    except BudgetExhausted as exc:
        return RdapFacts(domain=domain, unavailable=Unavailable(str(exc)))
    if not result.ok:
        return RdapFacts(
            domain=domain,
            unavailable=Unavailable(f"The registry (RDAP) could not be reached: {result.error.message}"),
        )
    if result.status == 404:
        return RdapFacts(
            domain=domain, unavailable=Unavailable("The registry (RDAP) has no record of this domain.")
        )
    if result.status != 200:
        return RdapFacts(
            domain=domain, unavailable=Unavailable(f"The registry (RDAP) answered HTTP {result.status}.")
        )
    try:
        return parse_rdap(domain, result.json())
    except (ValueError, TypeError, AttributeError):
        return RdapFacts(domain=domain, unavailable=Unavailable("The registry (RDAP) answer was unreadable."))


# --- conversions from the network layer's results to facts (pure) ---------------------


def _looks_like_ip(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", value))


def dns_answer_fact(answer: net.DnsAnswer) -> DnsAnswer:
    ttl = answer.ttl if answer.ttl is not None else 0
    return DnsAnswer(
        name=answer.name,
        rtype=answer.rdtype,
        status=DnsStatus(str(answer.status)),
        records=[DnsRecord(rtype=answer.rdtype, value=v, ttl=ttl) for v in answer.records],
        cname_chain=list(answer.cname_chain),
        error=answer.error.message if answer.error else "",
    )


def parse_rdap(domain: str, data: dict) -> RdapFacts:
    expires = None
    for event in data.get("events", []):
        if event.get("eventAction") == "expiration" and event.get("eventDate"):
            expires = datetime.fromisoformat(event["eventDate"].replace("Z", "+00:00"))
    registrar = ""
    for entity in data.get("entities", []):
        if "registrar" in entity.get("roles", []):
            for item in (entity.get("vcardArray") or [None, []])[1]:
                if item and item[0] == "fn":
                    registrar = str(item[3])
    return RdapFacts(
        domain=domain,
        registrar=registrar,
        expires_at=expires,
        statuses=[str(s).lower() for s in data.get("status", [])],
    )
