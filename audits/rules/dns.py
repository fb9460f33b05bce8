"""Rules of the ``dns`` stage: resolution, name servers, TTLs, dangling records, CAA,
wildcards, registration (RDAP) and the provider inventory."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from audits.checks import Severity
from audits.facts import DnsAnswer, DnsFacts, DnsStatus, HostDns
from audits.facts.tls import VerifyError
from audits.findings import FindingData
from audits.providers import ProviderMatch, takeover_fingerprint, takeover_service
from audits.rules.base import RuleContext, Skip, rule
from audits.rules.tls import hostname_matches
from launchready.formats import human_date, human_datetime

TTL_LIMIT = 86_400  # one day
EXPIRY_BLOCKER_DAYS = 7
EXPIRY_HIGH_DAYS = 30


def _dns(ctx: RuleContext) -> DnsFacts:
    if ctx.facts.dns is None:
        raise Skip("DNS was not probed in this run")
    return ctx.facts.dns


def describe(answer: DnsAnswer) -> str:
    """``www.example.com A: 192.0.2.1 (TTL 300)`` or ``… A: NXDOMAIN``, with the CNAME chain."""
    chain = "".join(f" → CNAME {t}" for t in answer.cname_chain)
    if answer.status == DnsStatus.OK and answer.values:
        got = ", ".join(f"{r.value} (TTL {r.ttl})" for r in answer.records if r.rtype == answer.rtype)
    else:
        got = answer.status.upper() if answer.status != DnsStatus.OK else "no records"
        if answer.error:
            got += f" ({answer.error})"
    return f"{answer.name}{chain} {answer.rtype}: {got}"


def _host_evidence(host: HostDns) -> list[str]:
    return [describe(host.a), describe(host.aaaa)]


def names_unlooked(dns: DnsFacts) -> str:
    """Why no name under the domain got an answer (every lookup timed out, was refused…),
    or "" when at least one name was answered, even with "does not exist"."""
    if any(h.resolves or not h.inconclusive for h in dns.hosts):
        return ""
    if not dns.hosts:
        return "no name under the domain was looked up in this run"
    return f"no name under {dns.domain} got an answer from DNS ({describe(dns.hosts[0].a)})"


def _zone_unlooked(ctx: RuleContext, check_id: str) -> list[FindingData]:
    """The inconclusive finding of a check over all names when none could be looked up."""
    dns = _dns(ctx)
    reason = names_unlooked(dns)
    return [ctx.inconclusive(check_id, dns.domain, reason)] if reason else []


def _ns_unlooked(ctx: RuleContext, check_id: str) -> list[FindingData]:
    """Inconclusive when the domain's name servers could not be listed; skipped when the
    domain has none (dns.domain_unresolvable reports that)."""
    dns = _dns(ctx)
    if dns.ns.inconclusive:
        reason = f"the domain's name servers could not be listed ({describe(dns.ns)})"
        return [ctx.inconclusive(check_id, dns.domain, reason)]
    if not dns.ns.values:
        raise Skip("the domain has no name servers to check: the check that the domain resolves reports it")
    return []


def _resolution_rule(ctx: RuleContext, check_id: str, name: str) -> list[FindingData]:
    host = _dns(ctx).host(name)
    if host is None:
        return [ctx.inconclusive(check_id, name, "the name was not looked up")]
    if host.resolves:
        return []
    if host.inconclusive:
        return [ctx.inconclusive(check_id, name, _host_evidence(host)[0])]
    return [ctx.fail(check_id, name, _host_evidence(host))]


@rule("dns.domain_unresolvable")
def domain_unresolvable(ctx: RuleContext) -> list[FindingData]:
    dns = _dns(ctx)
    if dns.ns.inconclusive:
        return [ctx.inconclusive("dns.domain_unresolvable", dns.domain, describe(dns.ns))]
    if dns.ns.status in (DnsStatus.NXDOMAIN, DnsStatus.SERVFAIL) or not dns.ns.values:
        return [ctx.fail("dns.domain_unresolvable", dns.domain, describe(dns.ns))]
    return []


@rule("dns.apex_unresolved")
def apex_unresolved(ctx: RuleContext) -> list[FindingData]:
    return _resolution_rule(ctx, "dns.apex_unresolved", ctx.site.apex)


@rule("dns.www_unresolved")
def www_unresolved(ctx: RuleContext) -> list[FindingData]:
    return _resolution_rule(ctx, "dns.www_unresolved", ctx.site.www)


@rule("dns.apex_cname")
def apex_cname(ctx: RuleContext) -> list[FindingData]:
    host = _dns(ctx).host(ctx.site.apex)
    if host is None:
        return [ctx.inconclusive("dns.apex_cname", ctx.site.apex, "the name was not looked up")]
    if host.cname_chain:
        return [ctx.fail("dns.apex_cname", host.name, f"{host.name} CNAME {host.cname_chain[0]}")]
    if host.inconclusive:
        return [ctx.inconclusive("dns.apex_cname", host.name, _host_evidence(host)[0])]
    return []


@rule("dns.cname_conflict")
def cname_conflict(ctx: RuleContext) -> list[FindingData]:
    findings = _zone_unlooked(ctx, "dns.cname_conflict")
    for host in _dns(ctx).hosts:
        others = set(host.other_types) - {"CNAME", "RRSIG", "NSEC", "NSEC3"}
        if host.name == ctx.site.apex:
            others -= {"SOA", "NS"}  # always present at the apex; dns.apex_cname reports that case
        if host.cname_chain and others:
            evidence = (
                f"{host.name} CNAME {host.cname_chain[0]}, and also {', '.join(sorted(others))} records"
            )
            findings.append(ctx.fail("dns.cname_conflict", host.name, evidence))
    return findings


@rule("dns.single_nameserver")
def single_nameserver(ctx: RuleContext) -> list[FindingData]:
    dns = _dns(ctx)
    if unlooked := _ns_unlooked(ctx, "dns.single_nameserver"):
        return unlooked
    names = dns.ns.values
    evidence = [f"NS {n}" for n in names]
    if len(names) < 2:
        return [ctx.fail("dns.single_nameserver", dns.domain, evidence)]
    v4 = {a for ns in dns.nameservers for a in ns.addresses if ":" not in a}
    networks = {ipaddress.ip_network(f"{a}/24", strict=False) for a in v4}
    has_v6 = any(":" in a for ns in dns.nameservers for a in ns.addresses)
    if len(v4) >= 2 and len(networks) == 1 and not has_v6:
        evidence.append(f"all name server addresses are in {next(iter(networks))}")
        return [ctx.fail("dns.single_nameserver", dns.domain, evidence)]
    return []


@rule("dns.nameserver_lame")
def nameserver_lame(ctx: RuleContext) -> list[FindingData]:
    dns = _dns(ctx)
    if unlooked := _ns_unlooked(ctx, "dns.nameserver_lame"):
        return unlooked
    if not dns.nameservers:
        return [ctx.inconclusive("dns.nameserver_lame", dns.domain, "the name servers were not queried")]
    if not any(ns.responded for ns in dns.nameservers):
        reason = "none of the name servers could be reached from the scanner"
        return [ctx.inconclusive("dns.nameserver_lame", dns.domain, reason)]
    findings = []
    for ns in dns.nameservers:
        if ns.responded and ns.authoritative:
            continue
        what = f"no answer ({ns.error})" if not ns.responded else "answers without authority for the zone"
        if ns.responded and ns.error:
            what += f" ({ns.error})"
        addresses = ", ".join(ns.addresses) or "no address"
        findings.append(ctx.fail("dns.nameserver_lame", ns.name, f"{ns.name} [{addresses}]: {what}"))
    return findings


@rule("dns.nameservers_disagree")
def nameservers_disagree(ctx: RuleContext) -> list[FindingData]:
    dns = _dns(ctx)
    if unlooked := _ns_unlooked(ctx, "dns.nameservers_disagree"):
        return unlooked
    if len(dns.ns.values) < 2:
        raise Skip("the domain has a single name server, so there is nothing to compare it with")
    answering = [ns for ns in dns.nameservers if ns.responded and ns.authoritative]
    if len(answering) < 2:
        reason = (
            f"only {len(answering)} of the {len(dns.ns.values)} name servers answered for the domain, "
            "so their answers could not be compared"
        )
        return [ctx.inconclusive("dns.nameservers_disagree", dns.domain, reason)]
    views = {(ns.soa_serial, tuple(sorted(ns.apex_a)), tuple(sorted(ns.www_a))) for ns in answering}
    if len(views) == 1:
        return []
    evidence = [
        f"{ns.name}: SOA serial {ns.soa_serial}, apex A {', '.join(ns.apex_a) or '—'}, "
        f"www A {', '.join(ns.www_a) or '—'}"
        for ns in answering
    ]
    return [ctx.fail("dns.nameservers_disagree", dns.domain, evidence)]


@rule("dns.ttl_too_high")
def ttl_too_high(ctx: RuleContext) -> list[FindingData]:
    # One finding for the zone: a long TTL is usually the zone's default, fixed in one place.
    dns = _dns(ctx)
    if unlooked := _zone_unlooked(ctx, "dns.ttl_too_high"):
        return unlooked
    evidence = [
        f"{host.name} {r.rtype} {r.value} TTL {r.ttl} s ({r.ttl / 3600:.0f} h)"
        for host in dns.hosts
        if host.resolves
        for r in host.a.records + host.aaaa.records
        if r.ttl > TTL_LIMIT
    ]
    return [ctx.fail("dns.ttl_too_high", dns.domain, evidence)] if evidence else []


@rule("dns.subdomain_unresolved")
def subdomain_unresolved(ctx: RuleContext) -> list[FindingData]:
    dns = _dns(ctx)
    findings = []
    for name in ctx.site.declared_hosts():
        host = dns.host(name)
        if host is None:
            findings.append(ctx.inconclusive("dns.subdomain_unresolved", name, "the name was not looked up"))
        elif host.resolves or _dangling(host):
            continue  # a dangling CNAME is reported by dns.dangling_cname
        elif host.inconclusive:
            findings.append(ctx.inconclusive("dns.subdomain_unresolved", name, describe(host.a)))
        else:
            findings.append(ctx.fail("dns.subdomain_unresolved", name, _host_evidence(host)))
    return findings


def _dangling(host: HostDns) -> bool:
    return bool(host.cname_chain) and DnsStatus.NXDOMAIN in (host.a.status, host.aaaa.status)


@rule("dns.dangling_cname")
def dangling_cname(ctx: RuleContext) -> list[FindingData]:
    if unlooked := _zone_unlooked(ctx, "dns.dangling_cname"):
        return unlooked
    return [ctx.fail("dns.dangling_cname", name, evidence) for name, evidence in dangling_hosts(ctx).items()]


def dangling_hosts(ctx: RuleContext) -> dict[str, list[str]]:
    """Subdomains whose CNAME leads to something nobody holds any more, with the evidence.

    Three signs, each enough: the target does not exist (NXDOMAIN); a known takeover-able
    service answers "no such app/bucket"; or a hosting service outside the store answers
    the name with a 404 and a certificate for its own name only, not for the subdomain:
    it no longer serves it, so anyone who claims the name there gets the subdomain.
    Other checks (certificates, headers) say nothing more about such a host.
    """
    found: dict[str, list[str]] = {}
    for host in _dns(ctx).hosts:
        if not host.cname_chain:
            continue
        target = host.cname_chain[-1]
        chain = " → ".join([host.name, *host.cname_chain])
        if _dangling(host):
            service = takeover_service(target)
            evidence = [f"{chain}: the target does not exist (NXDOMAIN)"]
            if service:
                evidence.append(f"{target} belongs to {service[0]}: anyone can register that name there")
            found[host.name] = evidence
            continue
        page = ctx.facts.root_page(host.name)
        if page and page.body_excerpt:
            match = takeover_fingerprint(host.cname_chain, page.body_excerpt, page.headers)
            if match:
                found[host.name] = [
                    chain,
                    f"{page.url} → HTTP {page.status}: {match.service} {match.evidence}",
                ]
                continue
        if abandoned := _abandoned_at_provider(ctx, host, target):
            found[host.name] = [chain, *abandoned]
    return found


def _abandoned_at_provider(ctx: RuleContext, host: HostDns, target: str) -> list[str]:
    """Evidence that the service ``target`` belongs to no longer serves ``host`` (or [])."""
    if ctx.is_site_host(target) or host.name in (ctx.site.apex, ctx.site.www):
        return []
    page, tls = ctx.facts.root_page(host.name), ctx.facts.tls_for(host.name)
    if page is None or page.status not in (404, 410) or tls is None or tls.cert is None:
        return []
    names = tls.cert.sans or [tls.cert.subject]
    covers_host = VerifyError.HOSTNAME_MISMATCH not in tls.verify_errors and hostname_matches(
        host.name, names
    )
    if covers_host or not hostname_matches(target, names):
        return []
    return [
        f"{page.url} → HTTP {page.status}, with a certificate for {', '.join(names)}, not for {host.name}",
        f"the service at {target} no longer serves {host.name}: whoever claims that name there "
        f"takes over {host.name}",
    ]


def _is_private(address: str, allowed: Iterable[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if any(ip in ipaddress.ip_network(net, strict=False) for net in allowed if _same_family(ip, net)):
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    shared = isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10")
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified or shared


def _same_family(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, net: str) -> bool:
    return (":" in net) == (ip.version == 6)


@rule("dns.private_address")
def private_address(ctx: RuleContext) -> list[FindingData]:
    findings = _zone_unlooked(ctx, "dns.private_address")
    for host in _dns(ctx).hosts:
        private = [a for a in host.addresses if _is_private(a, ctx.facts.allowed_networks)]
        if private:
            evidence = f"{host.name} resolves to {', '.join(private)}"
            findings.append(ctx.fail("dns.private_address", host.name, evidence))
    return findings


@rule("dns.caa_missing")
def caa_missing(ctx: RuleContext) -> list[FindingData]:
    dns = _dns(ctx)
    if dns.caa is None:
        return [ctx.inconclusive("dns.caa_missing", dns.domain, "CAA was not queried")]
    if dns.caa.inconclusive:
        return [ctx.inconclusive("dns.caa_missing", dns.domain, describe(dns.caa))]
    if dns.caa.values:
        return []
    return [ctx.fail("dns.caa_missing", dns.domain, describe(dns.caa))]


@rule("domain.expiring")
def domain_expiring(ctx: RuleContext) -> list[FindingData]:
    rdap = ctx.facts.rdap
    if rdap is None:
        raise Skip("registration data (RDAP) was not queried in this run")
    if rdap.unavailable:
        return [ctx.inconclusive("domain.expiring", rdap.domain, rdap.unavailable)]
    if rdap.expires_at is None:
        return [ctx.inconclusive("domain.expiring", rdap.domain, "the registry publishes no expiry date")]
    days = (rdap.expires_at - ctx.now).total_seconds() / 86_400
    if days >= EXPIRY_HIGH_DAYS:
        return []
    severity = Severity.BLOCKER if days < EXPIRY_BLOCKER_DAYS else Severity.HIGH
    when = "expired" if days < 0 else f"expires in {int(days)} days"
    evidence = (
        f"registration {when}: {human_datetime(rdap.expires_at)} (registrar: {rdap.registrar or 'unknown'})"
    )
    return [ctx.fail("domain.expiring", rdap.domain, evidence, severity=severity)]


@rule("domain.transfer_unlocked")
def transfer_unlocked(ctx: RuleContext) -> list[FindingData]:
    rdap = ctx.facts.rdap
    if rdap is None:
        raise Skip("registration data (RDAP) was not queried in this run")
    if rdap.unavailable:
        return [ctx.inconclusive("domain.transfer_unlocked", rdap.domain, rdap.unavailable)]
    normalised = {s.lower().replace(" ", "") for s in rdap.statuses}
    # A registry lock (serverTransferProhibited) protects at least as well as the registrar lock.
    if normalised & {"clienttransferprohibited", "servertransferprohibited"}:
        return []
    evidence = f"RDAP status: {', '.join(rdap.statuses) or 'none'}"
    return [ctx.fail("domain.transfer_unlocked", rdap.domain, evidence)]


@rule("dns.provider_inventory")
def provider_inventory(ctx: RuleContext) -> list[FindingData]:
    dns = _dns(ctx)
    p = ctx.profile
    if dns.ns.inconclusive and not (p.dns or p.registrar or p.hosting or p.cdn):
        reason = f"no provider could be identified: the domain's name servers could not be listed ({describe(dns.ns)})"
        return [ctx.inconclusive("dns.provider_inventory", dns.domain, reason)]

    def line(label: str, match: ProviderMatch | None) -> str:
        return f"{label}: {match.name} ({match.via})" if match else f"{label}: not identified"

    evidence = [
        line("DNS provider", p.dns),
        f"Registrar: {p.registrar or 'not identified'}",
        line("Hosting", p.hosting),
        line("CDN / proxy", p.cdn),
        f"Name servers: {', '.join(dns.ns.values) or 'none'}",
    ]
    if ctx.facts.rdap and ctx.facts.rdap.expires_at:
        evidence.append(f"Domain expires: {human_date(ctx.facts.rdap.expires_at)}")
    return [ctx.fail("dns.provider_inventory", dns.domain, evidence)]


@rule("dns.wildcard_record")
def wildcard_record(ctx: RuleContext) -> list[FindingData]:
    dns = _dns(ctx)
    if dns.wildcard_probe is None:
        raise Skip("wildcard records were not looked for in this run")
    wildcard = dns.wildcard
    if wildcard is None:
        if dns.wildcard_probe.inconclusive:
            return [ctx.inconclusive("dns.wildcard_record", dns.domain, describe(dns.wildcard_probe.a))]
        return []
    if wildcard.cname_chain:
        points_at = f"CNAME {' → '.join(wildcard.cname_chain)}"
        if wildcard.addresses:
            points_at += f" ({', '.join(wildcard.addresses)})"
    else:
        points_at = ", ".join(wildcard.addresses)
    evidence = [
        f"*.{dns.domain} → {points_at}",
        f"{wildcard.name}, a name nobody created, resolves: every other name under {dns.domain} does too",
    ]
    if dns.wildcard_guesses:
        labels = ", ".join(name.removesuffix("." + dns.domain) for name in dns.wildcard_guesses)
        evidence.append(
            f"guessed names answered only by the wildcard, so not checked as hosts of the store: {labels}"
        )
    return [ctx.fail("dns.wildcard_record", dns.domain, evidence)]
