"""Probes of the ``dns`` stage: the names of the store, its nameservers, and the registry.

Every name the store may answer on (apex, www, declared, common and
certificate-transparency names) is resolved at once; the nameservers are asked directly
(``dig +norec``) so that a lame or out-of-sync one shows. A random label that nobody
would create shows whether a wildcard record answers every name: a guessed name that
only the wildcard answers is not a host of the store and is not probed further. RDAP
gives the registration; it and the certificate-transparency source are APIs, asked
through the httpx client of the network layer (``ProbeRun.api_client``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import secrets
from typing import Any

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
from audits.facts.dns import HostSource
from launchready import net
from launchready.domains import hostname_under, parse_rdap, rdap_domain_url, registered_domain

from .base import BudgetExhausted, ProbeRun

CT_MAX_NAMES = 50
CT_MAX_BYTES = 4 * 1024 * 1024  # crt.sh answers for a busy domain run to megabytes


class ApiUnavailable(Exception):
    """An API answer that cannot be used; the message is the sentence for the founder."""


async def probe_dns(run: ProbeRun) -> DnsFacts:
    domain = run.site.domain
    ns_task = asyncio.create_task(_resolve(run, domain, "NS"))
    caa_task = asyncio.create_task(_resolve(run, domain, "CAA"))
    names: dict[str, HostSource] = {domain: HostSource.APEX, f"www.{domain}": HostSource.WWW}
    for label in run.site.subdomains:
        names.setdefault(f"{label}.{domain}", HostSource.DECLARED)
    for label in run.options.common_subdomains:
        names.setdefault(f"{label}.{domain}", HostSource.COMMON)
    ct, ct_unavailable = await ct_names(run)
    for name in ct:
        names.setdefault(name, HostSource.CT)

    # A label nobody would create: if it resolves, a wildcard record answers every name.
    random_name = f"launchready-{secrets.token_hex(6)}.{domain}"
    wildcard_probe, *hosts = await asyncio.gather(
        resolve_host(run, random_name, HostSource.WILDCARD),
        *(resolve_host(run, n, s) for n, s in names.items()),
    )
    wildcard = wildcard_probe if wildcard_probe.resolves or wildcard_probe.cname_chain else None
    # (An unanswered random label is no proof either way: dns.wildcard_record says so.)
    # Common names that do not exist are not part of the store, nor are those that only
    # the wildcard answers: keep what is there in its own right.
    hosts = [h for h in hosts if h.source != HostSource.COMMON or h.resolves or h.cname_chain]
    only_wildcard = sorted(
        h.name for h in hosts if h.source == HostSource.COMMON and answered_by(h, wildcard)
    )
    hosts = [h for h in hosts if h.name not in only_wildcard]
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
        wildcard_probe=wildcard_probe,
        wildcard_guesses=only_wildcard,
    )


async def resolve_host(run: ProbeRun, name: str, source: HostSource) -> HostDns:
    """A name's A and AAAA answers."""
    a, aaaa = await asyncio.gather(_resolve(run, name, "A"), _resolve(run, name, "AAAA"))
    return HostDns(name=name, source=source, a=a, aaaa=aaaa)


def answered_by(host: HostDns, wildcard: HostDns | None) -> bool:
    """The wildcard's answer, not a record of the name's own: the same CNAME target, or
    (without CNAMEs) the same addresses as the random label got."""
    if wildcard is None:
        return False
    if host.cname_chain or wildcard.cname_chain:
        return host.cname_chain == wildcard.cname_chain
    return bool(host.addresses) and set(host.addresses) == set(wildcard.addresses)


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


async def _api_json(run: ProbeRun, url: str, accept: str, what: str, **client_options: Any) -> Any:
    """GET ``url`` as an API client; the JSON document, or ``ApiUnavailable`` with a sentence.

    Budget exhaustion is raised as ``BudgetExhausted`` (the audit's request budget counts
    these requests like every fetch)."""
    try:
        async with run.api_client(headers={"Accept": accept}, **client_options) as client:
            response = await client.get(url)
    except net.API_ERRORS as exc:
        raise ApiUnavailable(f"{what} could not be reached: {net.api_error(exc).message}") from None
    if response.status_code == 404:
        raise ApiUnavailable(f"{what} has no record of this domain.")
    if response.status_code != 200:
        raise ApiUnavailable(f"{what} answered HTTP {response.status_code}.")
    try:
        return response.json()
    except ValueError:
        raise ApiUnavailable(f"{what} sent something that is not JSON.") from None


async def ct_names(run: ProbeRun) -> tuple[list[str], Unavailable | None]:
    """Names of the store found in certificate-transparency logs (a crt.sh-style JSON source)."""
    if not run.options.ct_url:
        return [], Unavailable(
            "No certificate-transparency source is configured, so subdomains known only from "
            "certificates were not looked for.",
        )
    what = "The certificate-transparency source"
    domain = run.site.domain
    try:
        rows = await _api_json(
            run,
            run.options.ct_url.format(domain=domain),
            "application/json",
            what,
            follow_redirects=True,
            max_body_bytes=CT_MAX_BYTES,
        )
    except BudgetExhausted as exc:
        return [], Unavailable(str(exc))
    except ApiUnavailable as exc:
        return [], Unavailable(str(exc))
    if not isinstance(rows, list):
        return [], Unavailable(f"{what} sent JSON that is not a list of certificates.")
    names: set[str] = set()
    for row in rows:
        for value in str(row.get("name_value", "")).split("\n") if isinstance(row, dict) else []:
            value = value.strip().lower().removeprefix("*.")
            if value != domain and hostname_under(value, domain) and len(names) < CT_MAX_NAMES:
                names.add(value)
    return sorted(names), None


async def probe_rdap(run: ProbeRun) -> RdapFacts:
    """The registration of the store's registered domain (``shop.example.co.uk`` asks
    about ``example.co.uk``), from RDAP."""
    domain = registered_domain(run.site.domain)
    url = rdap_domain_url(domain, run.options.rdap_url)
    try:
        # rdap.org and some registries redirect to the registry's own server.
        document = await _api_json(
            run, url, "application/rdap+json", "The registry (RDAP)", follow_redirects=True
        )
        record = parse_rdap(document)
    except BudgetExhausted as exc:
        return RdapFacts(domain=domain, unavailable=Unavailable(str(exc)))
    except ApiUnavailable as exc:
        return RdapFacts(domain=domain, unavailable=Unavailable(str(exc)))
    except ValueError:
        return RdapFacts(domain=domain, unavailable=Unavailable("The registry (RDAP) answer was unreadable."))
    return RdapFacts(
        domain=domain, registrar=record.registrar, expires_at=record.expires_at, statuses=record.statuses
    )


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
