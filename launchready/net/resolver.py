"""DNS through dnspython's asyncio resolver: typed answers, never exceptions.

``resolve()`` asks the configured recursive resolvers (``LAUNCHREADY_DNS_SERVERS`` or
the system's). ``query_nameserver()`` asks one nameserver directly, without
recursion, for lame and disagreeing nameserver checks; the nameserver address goes
through the SSRF guard like any other target.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import idna

from .config import NetConfig, resolve_config
from .guard import BLOCKED_NAMES, BLOCKED_SUFFIXES, address_problem
from .results import DnsAnswer, DnsStatus, ErrorKind, NameserverAnswer, NetError, seconds

logger = logging.getLogger(__name__)

_NAME_TARGET_TYPES = {"CNAME", "NS", "PTR", "DNAME"}
_REVERSE_ZONES = (".in-addr.arpa", ".ip6.arpa")


def lookup_problem(name: str, rdtype: str) -> str | None:
    """Why ``name`` must not be looked up (the guard's name policy), or None.

    Local and internal names (``localhost``, ``.internal``, ``.local``…) are never
    asked about: their answers describe our own network. Reverse zones are fine for
    PTR questions (SPF's ``ptr`` mechanism asks them).
    """
    if rdtype == "PTR" and name.endswith(_REVERSE_ZONES):
        return None
    if name in BLOCKED_NAMES or name.endswith(BLOCKED_SUFFIXES):
        return "a local or internal name"
    return None


@functools.lru_cache(maxsize=16)
def _resolver(servers: tuple[tuple[str, int], ...]) -> dns.asyncresolver.Resolver:
    # Building a resolver reads /etc/resolv.conf; share one per server list.
    if servers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in servers]
    else:
        resolver = dns.asyncresolver.Resolver(configure=True)
    resolver.cache = None  # every lookup is fresh: we report what DNS says now
    return resolver


@functools.lru_cache(maxsize=4096)
def _to_name(name: str) -> dns.name.Name:
    text = name.strip().rstrip(".")
    try:
        text = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        pass  # underscore labels (_dmarc, _domainkey) are valid DNS, not valid IDNA
    return dns.name.from_text(text)


def _plain(name: dns.name.Name | str) -> str:
    return (
        name.to_text(omit_final_dot=True) if isinstance(name, dns.name.Name) else name.rstrip(".")
    ).lower()


def format_rdata(rdata: Any, rdtype: str) -> str:
    """One record's data as text; ``rdata`` is a dnspython rdata of type ``rdtype`` (its
    attributes depend on the type, hence ``Any``)."""
    if rdtype in ("A", "AAAA"):
        return str(rdata.address)
    if rdtype in ("TXT", "SPF"):
        return b"".join(rdata.strings).decode("utf-8", errors="replace")
    if rdtype in _NAME_TARGET_TYPES:
        return _plain(rdata.target)
    if rdtype == "MX":
        return f"{rdata.preference} {_plain(rdata.exchange)}"
    return str(rdata.to_text())


def _records(rrset: object | None, rdtype: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    if rrset is None:
        return (), ()
    records = tuple(format_rdata(rdata, rdtype) for rdata in rrset)  # type: ignore[attr-defined]
    txt: tuple[tuple[str, ...], ...] = ()
    if rdtype in ("TXT", "SPF"):
        txt = tuple(tuple(s.decode("utf-8", errors="replace") for s in rdata.strings) for rdata in rrset)  # type: ignore[attr-defined]
    return records, txt


def _chain_from_response(qname: dns.name.Name, response: dns.message.Message | None) -> tuple[str, ...]:
    """Follow CNAMEs inside one response: (qname, target, target's target, …)."""
    if response is None:
        return ()
    chain = [_plain(qname)]
    current = qname
    for _ in range(16):
        try:
            rrset = response.find_rrset(response.answer, current, dns.rdataclass.IN, dns.rdatatype.CNAME)
        except KeyError:
            break
        current = rrset[0].target
        chain.append(_plain(current))
    return tuple(chain) if len(chain) > 1 else ()


def _describe_chain(name: str, chain: tuple[str, ...]) -> str:
    if len(chain) > 1:
        return f"{name} points (CNAME) to {chain[-1]}, which"
    return name


async def resolve(
    name: str, rdtype: str = "A", *, config: NetConfig | None = None, timeout: float | None = None
) -> DnsAnswer:
    """Ask the configured resolvers for ``rdtype`` records of ``name``."""
    config = resolve_config(config)
    rdtype = rdtype.upper()
    shown = name.strip().rstrip(".").lower()
    lifetime = timeout if timeout is not None else config.dns_timeout
    started = time.perf_counter()

    def answer(
        status: DnsStatus, kind: ErrorKind | None = None, message: str = "", **kw: object
    ) -> DnsAnswer:
        error = NetError(kind, message, str(kw.pop("detail", ""))) if kind else None
        elapsed = (time.perf_counter() - started) * 1000
        return DnsAnswer(name=shown, rdtype=rdtype, status=status, elapsed_ms=elapsed, error=error, **kw)  # type: ignore[arg-type]

    problem = lookup_problem(shown, rdtype)
    if problem:
        return answer(DnsStatus.BLOCKED, ErrorKind.BLOCKED, f"{shown} was not looked up: it is {problem}.")
    try:
        qname = _to_name(shown)
        resolver = _resolver(config.dns_servers)
        result = await resolver.resolve(
            qname, rdtype, lifetime=lifetime, raise_on_no_answer=False, search=False
        )
    except dns.resolver.NXDOMAIN as exc:
        responses: dict[dns.name.Name, dns.message.Message] = exc.kwargs.get("responses") or {}
        response = next(iter(responses.values()), None)
        chain = _chain_from_response(qname, response)
        lead = _describe_chain(shown, chain)
        return answer(
            DnsStatus.NXDOMAIN,
            ErrorKind.DNS_NXDOMAIN,
            f"{lead} does not exist (NXDOMAIN).",
            cname_chain=chain,
        )
    except dns.resolver.NoNameservers as exc:
        return _no_nameservers(exc, shown, answer)
    except dns.exception.Timeout:
        return answer(
            DnsStatus.TIMEOUT,
            ErrorKind.DNS_TIMEOUT,
            f"The DNS lookup for {shown} timed out after {seconds(lifetime)}.",
        )
    except (
        dns.name.NameTooLong,
        dns.name.LabelTooLong,
        dns.name.EmptyLabel,
        dns.exception.SyntaxError,
    ) as exc:
        return answer(
            DnsStatus.ERROR, ErrorKind.DNS_ERROR, f"{shown} is not a valid domain name.", detail=exc
        )
    except dns.rdatatype.UnknownRdatatype:
        raise  # a programming error, not a network failure
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        logger.info("DNS lookup for %s %s failed: %r", shown, rdtype, exc)
        return answer(DnsStatus.ERROR, ErrorKind.DNS_ERROR, f"The DNS lookup for {shown} failed.", detail=exc)

    chaining = result.chaining_result if hasattr(result, "chaining_result") else None
    chain = _chain_from_response(qname, result.response)
    server = f"{result.nameserver}:{result.port}" if result.port != 53 else str(result.nameserver)
    if result.rrset is None:
        lead = _describe_chain(shown, chain)
        return answer(
            DnsStatus.NODATA,
            ErrorKind.DNS_NODATA,
            f"{lead} has no {rdtype} record.",
            cname_chain=chain,
            nameserver=server,
            ttl=_negative_ttl(result.response),
        )
    records, txt = _records(result.rrset, rdtype)
    ttl = chaining.minimum_ttl if chaining is not None else result.rrset.ttl
    return answer(
        DnsStatus.OK, records=records, txt_strings=txt, ttl=ttl, cname_chain=chain, nameserver=server
    )


def _negative_ttl(response: dns.message.Message | None) -> int | None:
    if response is None:
        return None
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA:
            return int(min(rrset.ttl, rrset[0].minimum))
    return None


def _no_nameservers(
    exc: dns.resolver.NoNameservers, shown: str, answer: Callable[..., DnsAnswer]
) -> DnsAnswer:
    errors = exc.kwargs.get("errors", []) or []
    problems = [str(entry[3]) for entry in errors if len(entry) > 3]
    detail = "; ".join(f"{entry[0]}: {entry[3]}" for entry in errors if len(entry) > 3)
    if "REFUSED" in problems:
        return answer(
            DnsStatus.REFUSED,
            ErrorKind.DNS_REFUSED,
            f"The DNS server refused to answer for {shown} (REFUSED).",
            detail=detail,
        )
    if "SERVFAIL" in problems:
        return answer(
            DnsStatus.SERVFAIL,
            ErrorKind.DNS_SERVFAIL,
            f"The DNS servers failed to answer for {shown} (SERVFAIL).",
            detail=detail,
        )
    if errors and all(isinstance(entry[3], dns.exception.Timeout) for entry in errors if len(entry) > 3):
        return answer(
            DnsStatus.TIMEOUT, ErrorKind.DNS_TIMEOUT, f"The DNS lookup for {shown} timed out.", detail=detail
        )
    return answer(DnsStatus.ERROR, ErrorKind.DNS_ERROR, f"The DNS lookup for {shown} failed.", detail=detail)


async def query_nameserver(
    nameserver: str,
    name: str,
    rdtype: str = "SOA",
    *,
    config: NetConfig | None = None,
    timeout: float | None = None,
    tcp: bool = False,
) -> NameserverAnswer:
    """Ask ``nameserver`` (an IP address) directly, without recursion, as ``dig +norec @ns`` would."""
    config = resolve_config(config)
    rdtype = rdtype.upper()
    shown = name.strip().rstrip(".").lower()
    wait = timeout if timeout is not None else config.dns_timeout
    address = nameserver.strip().strip("[]")
    port = config.map_port(address, 53)
    started = time.perf_counter()

    def answer(
        status: DnsStatus, kind: ErrorKind | None = None, message: str = "", **kw: object
    ) -> NameserverAnswer:
        error = NetError(kind, message, str(kw.pop("detail", ""))) if kind else None
        elapsed = (time.perf_counter() - started) * 1000
        return NameserverAnswer(
            nameserver=address,
            port=port,
            name=shown,
            rdtype=rdtype,
            status=status,
            elapsed_ms=elapsed,
            error=error,
            **kw,  # type: ignore[arg-type]
        )

    problem = address_problem(address, config)
    if problem:
        return answer(
            DnsStatus.BLOCKED,
            ErrorKind.BLOCKED,
            f"The nameserver {address} was not queried: it is {problem}.",
        )
    try:
        query = dns.message.make_query(_to_name(shown), rdtype, use_edns=0, payload=1232)
        query.flags &= ~dns.flags.RD
        if tcp:
            response = await dns.asyncquery.tcp(query, address, timeout=wait, port=port)
        else:
            response, _ = await dns.asyncquery.udp_with_fallback(query, address, timeout=wait, port=port)
    except dns.exception.Timeout:
        return answer(
            DnsStatus.TIMEOUT,
            ErrorKind.DNS_TIMEOUT,
            f"The nameserver {address} did not answer for {shown} within {seconds(wait)}.",
        )
    except (dns.exception.DNSException, OSError, ValueError, EOFError) as exc:
        return answer(
            DnsStatus.ERROR,
            ErrorKind.DNS_ERROR,
            f"The nameserver {address} could not be asked about {shown}.",
            detail=repr(exc),
        )

    rcode = dns.rcode.to_text(response.rcode())
    authoritative = bool(response.flags & dns.flags.AA)
    wanted = dns.rdatatype.from_text(rdtype)
    rrset = next((r for r in response.answer if r.rdtype == wanted), None)
    records, _ = _records(rrset, rdtype)
    serial = None
    for section in (response.answer, response.authority):
        soa = next((r for r in section if r.rdtype == dns.rdatatype.SOA), None)
        if soa is not None:
            serial = soa[0].serial
            break
    # Every record set of the answer as (owner, type): an ANY question shows what else
    # sits at a name beside a CNAME (dns.cname_conflict).
    answer_types = tuple(
        (r.name.to_text(omit_final_dot=True).lower(), dns.rdatatype.to_text(r.rdtype))
        for r in response.answer
    )
    common: dict[str, Any] = {
        "rcode": rcode,
        "authoritative": authoritative,
        "records": records,
        "soa_serial": serial,
        "answer_types": answer_types,
    }
    if rcode == "NOERROR" and (rrset is not None or (wanted == dns.rdatatype.ANY and answer_types)):
        return answer(DnsStatus.OK, ttl=rrset.ttl if rrset is not None else None, **common)
    if rcode == "NOERROR":
        return answer(
            DnsStatus.NODATA,
            ErrorKind.DNS_NODATA,
            f"The nameserver {address} has no {rdtype} record for {shown}.",
            **common,
        )
    statuses = {
        "NXDOMAIN": (
            DnsStatus.NXDOMAIN,
            ErrorKind.DNS_NXDOMAIN,
            f"The nameserver {address} says {shown} does not exist (NXDOMAIN).",
        ),
        "SERVFAIL": (
            DnsStatus.SERVFAIL,
            ErrorKind.DNS_SERVFAIL,
            f"The nameserver {address} failed to answer for {shown} (SERVFAIL).",
        ),
        "REFUSED": (
            DnsStatus.REFUSED,
            ErrorKind.DNS_REFUSED,
            f"The nameserver {address} refused to answer for {shown} (REFUSED).",
        ),
    }
    status, kind, message = statuses.get(
        rcode,
        (DnsStatus.ERROR, ErrorKind.DNS_ERROR, f"The nameserver {address} answered {rcode} for {shown}."),
    )
    return answer(status, kind, message, **common)
