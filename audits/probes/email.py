"""Probes of the ``email`` stage: MX, SPF, DKIM, DMARC, MTA-STS and TLS-RPT for one domain.

All I/O goes through ``launchready.net`` (DNS via a ``Lookup``, the MTA-STS policy via
``net.fetch``); the record syntax is read by the mail-protocol library (``audits.email``).
The probe never raises and never touches the database: what Launch Ready knows from its
own records (p=none since, reports, test messages) is added to the facts by the task
(``audits.inbound.store.enrich_facts``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from audits.email.dkim import parse_dkim_key
from audits.email.dmarc import (
    external_report_name,
    is_dmarc_candidate,
    is_external,
    organizational_domain,
    parse_dmarc,
)
from audits.email.dns import (
    EMPTY,
    TEMPORARY,
    Lookup,
    cached,
    fact_status,
    mx_hosts,
    net_lookup,
    txt_records,
    unavailable,
)
from audits.email.sending_services import selectors_for
from audits.email.spf_expand import expand_spf
from audits.facts.email import (
    DkimFacts,
    DkimSelectorFacts,
    DmarcFacts,
    EmailFacts,
    ExternalRua,
    MtaStsFacts,
    MxFacts,
)
from launchready import net

from .base import ProbeRun

logger = logging.getLogger(__name__)

MTA_STS_MAX_BYTES = 64 * 1024  # RFC 8461 §3.3 suggests policies are small; cap the read


async def probe_site_email(run: ProbeRun) -> EmailFacts:
    """The email facts of the declared site, its time counted in the audit's probe time."""
    site = run.site
    with run.clock():
        return await probe_email(
            site.domain,
            sending_service=site.sending_service,
            from_address=site.from_address,
            selectors=site.dkim_selectors,
            config=run.config,
        )


async def probe_email(
    domain: str,
    *,
    sending_service: str = "",
    from_address: str = "",
    selectors: list[str] | None = None,
    config: net.NetConfig | None = None,
    lookup: Lookup | None = None,
) -> EmailFacts:
    """Collect every email fact for ``domain`` concurrently."""
    domain = domain.lower().rstrip(".")
    lookup = cached(lookup or net_lookup(config))
    declared = [s.strip().lower() for s in (selectors or []) if s.strip()]
    mx, spf, dkim, dmarc, mta_sts = await asyncio.gather(
        probe_mx(domain, lookup),
        expand_spf(domain, lookup),
        probe_dkim(domain, sending_service, declared, lookup),
        probe_dmarc(domain, lookup),
        probe_mta_sts(domain, lookup, config),
    )
    return EmailFacts(
        domain=domain,
        sending_service=sending_service,
        from_address=from_address,
        declared_selectors=declared,
        mx=mx,
        spf=spf,
        dkim=dkim,
        dmarc=dmarc,
        mta_sts=mta_sts,
    )


async def probe_mx(domain: str, lookup: Lookup) -> MxFacts:
    answer = await lookup(domain, "MX")
    if answer.status in TEMPORARY:
        return MxFacts(domain=domain, status=fact_status(answer), unavailable=unavailable(answer))
    hosts = mx_hosts(answer)
    null_mx = len(hosts) == 1 and hosts[0][1] in ("", ".")
    return MxFacts(
        domain=domain,
        status=fact_status(answer),
        hosts=[f"{pref} {host or '.'}" for pref, host in hosts],
        null_mx=null_mx,
    )


async def probe_dkim(domain: str, service: str, declared: list[str], lookup: Lookup) -> DkimFacts:
    wanted = selectors_for(service, declared)
    results = await asyncio.gather(*(_selector(domain, s, s in declared, lookup) for s in wanted))
    return DkimFacts(domain=domain, selectors=list(results))


async def _selector(domain: str, selector: str, is_declared: bool, lookup: Lookup) -> DkimSelectorFacts:
    name = f"{selector}._domainkey.{domain}"
    source = "declared" if is_declared else "service"
    answer = await lookup(name, "TXT")
    target = answer.cname_chain[-1] if answer.cname_chain else ""
    base = {"selector": selector, "name": name, "source": source, "status": fact_status(answer)}
    if answer.status in TEMPORARY:
        return DkimSelectorFacts(**base, cname_target=target, error=unavailable(answer).reason)
    texts = txt_records(answer) if answer.status not in EMPTY else []
    # Other TXT records can share the name (verification tokens); the key has p=.
    keys = [t for t in texts if "p=" in t.replace(" ", "").lower()] or texts
    if not keys:
        return DkimSelectorFacts(**base, cname_target=target)
    key = parse_dkim_key(selector, keys[0])
    errors = list(key.errors)
    if len(keys) > 1:
        errors.append(f"{name} holds {len(keys)} key records; receivers may pick either.")
    return DkimSelectorFacts(
        **base,
        record=keys[0],
        cname_target=target,
        key_type=key.key_type,
        bits=key.bits,
        revoked=key.revoked,
        errors=errors,
    )


async def probe_dmarc(domain: str, lookup: Lookup) -> DmarcFacts:
    """The DMARC record that applies to ``domain``: its own, or else its organisational
    domain's (RFC 7489 §6.6.3), so a store on shop.example.com is judged by example.com's."""
    facts = await _probe_dmarc_at(domain, lookup)
    org = organizational_domain(domain)
    if facts.records or facts.unavailable or facts.other_txt or org == domain:
        return facts
    parent = await _probe_dmarc_at(org, lookup)
    if not parent.records:
        return facts
    return dataclasses.replace(parent, inherited_from=domain, policy=parent.subdomain_policy)


async def _probe_dmarc_at(domain: str, lookup: Lookup) -> DmarcFacts:
    name = f"_dmarc.{domain}"
    answer = await lookup(name, "TXT")
    if answer.status in TEMPORARY:
        return DmarcFacts(domain=domain, status=fact_status(answer), unavailable=unavailable(answer))
    texts = txt_records(answer) if answer.status not in EMPTY else []
    records = [t for t in texts if is_dmarc_candidate(t)]
    others = [t for t in texts if not is_dmarc_candidate(t)]
    if len(records) != 1:
        errors = [f"{name} holds {len(records)} DMARC records; exactly one is allowed."] if records else []
        return DmarcFacts(
            domain=domain, status=fact_status(answer), records=records, other_txt=others, errors=errors
        )
    record = parse_dmarc(records[0])
    rua = [u.uri for u in record.rua]
    external = await asyncio.gather(
        *(
            _external_rua(domain, u.uri, u.domain, lookup)
            for u in record.rua
            if u.domain and is_external(domain, u.domain)
        )
    )
    return DmarcFacts(
        domain=domain,
        status=fact_status(answer),
        records=records,
        other_txt=others,
        errors=list(record.errors),
        warnings=list(record.warnings),
        policy=record.policy,
        subdomain_policy=record.subdomain_policy,
        pct=record.pct,
        adkim=record.adkim,
        aspf=record.aspf,
        rua=rua,
        external_rua=list(external),
    )


async def _external_rua(domain: str, uri: str, report_domain: str, lookup: Lookup) -> ExternalRua:
    name = external_report_name(domain, report_domain)
    answer = await lookup(name, "TXT")
    if answer.status in TEMPORARY:
        return ExternalRua(uri, report_domain, name, None, unavailable(answer).reason)
    texts = txt_records(answer) if answer.status not in EMPTY else []
    ok = any(t.replace(" ", "").lower().startswith("v=dmarc1") for t in texts)
    evidence = f"{name} TXT: " + ("; ".join(texts) if texts else answer.status.value.upper())
    return ExternalRua(uri, report_domain, name, ok, evidence)


async def probe_mta_sts(domain: str, lookup: Lookup, config: net.NetConfig | None = None) -> MtaStsFacts:
    sts_answer, rpt_answer = await asyncio.gather(
        lookup(f"_mta-sts.{domain}", "TXT"), lookup(f"_smtp._tls.{domain}", "TXT")
    )
    if sts_answer.status in TEMPORARY and rpt_answer.status in TEMPORARY:
        return MtaStsFacts(domain=domain, unavailable=unavailable(sts_answer))
    sts = [t for t in _texts(sts_answer) if t.replace(" ", "").lower().startswith("v=stsv1")]
    rpt = [t for t in _texts(rpt_answer) if t.replace(" ", "").lower().startswith("v=tlsrptv1")]
    rpt_errors = [
        f"TLS-RPT record without rua=: {t}" for t in rpt if "rua=" not in t.replace(" ", "").lower()
    ]
    txt_error = ""
    if len(sts) > 1:
        txt_error = f"_mta-sts.{domain} holds {len(sts)} STSv1 records; exactly one is allowed."
    elif sts and "id=" not in sts[0].replace(" ", "").lower():
        txt_error = "The _mta-sts record has no id= tag."
    facts = MtaStsFacts(
        domain=domain, txt_records=sts, txt_error=txt_error, tls_rpt_records=rpt, tls_rpt_errors=rpt_errors
    )
    if not sts:
        return facts
    url = f"https://mta-sts.{domain}/.well-known/mta-sts.txt"
    result = await net.fetch(url, follow_redirects=False, max_body_bytes=MTA_STS_MAX_BYTES, config=config)
    if not result.ok or result.status != 200:
        reason = result.error.message if result.error else f"{url} answered HTTP {result.status}."
        return _replace(facts, policy_url=url, policy_errors=[reason])
    mode, errors = parse_mta_sts_policy(result.text())
    return _replace(facts, policy_url=url, policy_fetched=True, policy_mode=mode, policy_errors=errors)


def parse_mta_sts_policy(text: str) -> tuple[str, list[str]]:
    """Parse an MTA-STS policy file (RFC 8461 §3.2); return (mode, problems)."""
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            return "", [f"Policy line “{line.strip()[:60]}” is not key: value."]
        fields.setdefault(key.strip().lower(), []).append(value.strip())
    errors: list[str] = []
    if fields.get("version") != ["STSv1"]:
        errors.append("The policy must say version: STSv1.")
    mode = (fields.get("mode") or [""])[0].lower()
    if mode not in ("enforce", "testing", "none"):
        errors.append("mode: must be enforce, testing or none.")
    if mode in ("enforce", "testing") and not fields.get("mx"):
        errors.append("The policy lists no mx: patterns.")
    max_age = (fields.get("max_age") or [""])[0]
    # ASCII digits only ("²".isdigit() is True but int() refuses it), and few of them.
    if not (max_age.isascii() and max_age.isdigit()) or len(max_age) > 9 or int(max_age) > 31557600:
        errors.append("max_age: must be a number of seconds up to 31557600.")
    return mode, errors


def _texts(answer: net.DnsAnswer) -> list[str]:
    return txt_records(answer) if answer.status not in EMPTY and answer.status not in TEMPORARY else []


def _replace(facts: MtaStsFacts, **changes: object) -> MtaStsFacts:
    from dataclasses import replace

    return replace(facts, **changes)
