"""DNS for the email checks: a small async lookup interface over ``launchready.net``.

Every query of the email package goes through a ``Lookup``: an async callable
``(name, rdtype) -> DnsAnswer``. The default one calls the network layer (the one
chokepoint for outbound DNS); the per-evaluation cache keeps a record asked for by
several includes from costing more than one query.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from audits.facts import DnsStatus as FactStatus
from audits.facts import Unavailable, UnavailableKind
from launchready import net
from launchready.net import DnsAnswer, DnsStatus

logger = logging.getLogger(__name__)

Lookup = Callable[[str, str], Awaitable[DnsAnswer]]

TEMPORARY = frozenset(
    {DnsStatus.SERVFAIL, DnsStatus.TIMEOUT, DnsStatus.REFUSED, DnsStatus.ERROR, DnsStatus.BLOCKED}
)
EMPTY = frozenset({DnsStatus.NXDOMAIN, DnsStatus.NODATA})


def net_lookup(config: object | None = None, timeout: float | None = None) -> Lookup:
    """A ``Lookup`` through the network layer, with the given ``NetConfig`` (default: settings)."""

    async def lookup(name: str, rdtype: str) -> DnsAnswer:
        kwargs: dict[str, object] = {}
        if config is not None:
            kwargs["config"] = config
        if timeout is not None:
            kwargs["timeout"] = timeout
        return await net.resolve(name, rdtype, **kwargs)

    return lookup


def cached(lookup: Lookup) -> Lookup:
    """Memoise answers for the life of one evaluation or probe."""
    cache: dict[tuple[str, str], DnsAnswer] = {}

    async def wrapper(name: str, rdtype: str) -> DnsAnswer:
        key = (name.lower().rstrip("."), rdtype.upper())
        if key not in cache:
            cache[key] = await lookup(key[0], key[1])
        return cache[key]

    return wrapper


def fact_status(answer: DnsAnswer) -> FactStatus:
    """The network layer's status as the facts' ``DnsStatus`` (errors count as SERVFAIL)."""
    try:
        return FactStatus(answer.status.value)
    except ValueError:
        return FactStatus.SERVFAIL


def unavailable(answer: DnsAnswer) -> Unavailable:
    reason = (
        answer.error.message
        if answer.error
        else f"DNS lookup of {answer.name} failed ({answer.status.value})."
    )
    kind = UnavailableKind.TIMEOUT if answer.status == DnsStatus.TIMEOUT else UnavailableKind.ERROR
    return Unavailable(reason, kind)


def txt_records(answer: DnsAnswer) -> list[str]:
    """TXT records with their character-strings joined without spaces (RFC 7208 §3.3)."""
    if answer.txt_strings:
        return ["".join(parts) for parts in answer.txt_strings]
    return list(answer.records)


def mx_hosts(answer: DnsAnswer) -> list[tuple[int, str]]:
    hosts: list[tuple[int, str]] = []
    for record in answer.records:
        pref, _, host = record.partition(" ")
        try:
            hosts.append((int(pref), host.strip().rstrip(".").lower()))
        except ValueError:
            logger.debug("unparseable MX record %r", record)
    return sorted(hosts)


def describe(answer: DnsAnswer) -> str:
    """A short sentence for evidence: what the lookup gave."""
    if answer.status == DnsStatus.OK:
        return f"{answer.name} {answer.rdtype}: " + "; ".join(answer.records)
    if answer.error is not None:
        return f"{answer.name} {answer.rdtype}: {answer.error.message}"
    return f"{answer.name} {answer.rdtype}: {answer.status.value}"
