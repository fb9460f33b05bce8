"""DNS answers, name servers, registration (RDAP)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from audits.facts.base import Unavailable
from audits.serialization import Serializable


class DnsStatus(enum.StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    SERVFAIL = "servfail"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    ERROR = "error"  # malformed reply or network error on our side
    BLOCKED = "blocked"  # the name server's address was refused by the SSRF guard


@dataclass(frozen=True)
class DnsRecord(Serializable):
    rtype: str  # "A", "AAAA", "CNAME", "NS", "CAA"…
    value: str
    ttl: int


@dataclass(frozen=True)
class DnsAnswer(Serializable):
    """One query: ``name``/``rtype`` as asked, the status and what came back.

    ``cname_chain`` lists the CNAME targets the resolver followed, in order. A chain
    with status ``nxdomain`` means the last target does not exist (a dangling CNAME).
    """

    name: str
    rtype: str
    status: DnsStatus
    records: list[DnsRecord] = field(default_factory=list)
    cname_chain: list[str] = field(default_factory=list)
    error: str = ""

    def __post_init__(self) -> None:
        # The network layer's chain starts with the name asked; keep only the targets.
        if self.cname_chain and self.cname_chain[0].lower().rstrip(".") == self.name.lower().rstrip("."):
            object.__setattr__(self, "cname_chain", list(self.cname_chain[1:]))

    @property
    def values(self) -> list[str]:
        return [r.value for r in self.records if r.rtype == self.rtype]

    @property
    def inconclusive(self) -> bool:
        """No usable answer because of the query itself, not because of the zone."""
        return self.status in (DnsStatus.TIMEOUT, DnsStatus.REFUSED, DnsStatus.ERROR, DnsStatus.BLOCKED)


class HostSource(enum.StrEnum):
    """How the audit came to look at a host name."""

    APEX = "apex"
    WWW = "www"
    DECLARED = "declared"  # the site's subdomains, as the founder listed them
    COMMON = "common"  # guessed: a common name (admin, staging, dev…) that resolved
    CT = "ct"  # named in a certificate (certificate-transparency logs)
    WILDCARD = "wildcard"  # the random label that shows a wildcard record

    @property
    def origin(self) -> str:
        """Where the name comes from, in the founder's words ("" for the apex and www)."""
        return {
            HostSource.DECLARED: "a subdomain you declared in the site settings",
            HostSource.COMMON: (
                "not declared by you: found by guessing common subdomain names (admin, staging, dev…)"
            ),
            HostSource.CT: "not declared by you: found in public certificate logs (a certificate was issued for it)",
            HostSource.WILDCARD: "a random name that nobody created, answered by a wildcard record",
        }.get(self, "")


@dataclass(frozen=True)
class HostDns(Serializable):
    """Resolution of one host name (apex, www, a declared or discovered subdomain)."""

    name: str
    source: HostSource
    a: DnsAnswer
    aaaa: DnsAnswer
    # Record types the authoritative server holds at this owner name besides CNAME
    # (filled when the name has a CNAME); used for dns.cname_conflict.
    other_types: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", HostSource(self.source))  # plain strings from old JSON

    @property
    def addresses(self) -> list[str]:
        return self.a.values + self.aaaa.values

    @property
    def cname_chain(self) -> list[str]:
        return self.a.cname_chain or self.aaaa.cname_chain

    @property
    def resolves(self) -> bool:
        return bool(self.addresses)

    @property
    def inconclusive(self) -> bool:
        return not self.resolves and (self.a.inconclusive or self.aaaa.inconclusive)


@dataclass(frozen=True)
class NameServerFacts(Serializable):
    """What one listed name server said when asked directly."""

    name: str
    addresses: list[str] = field(default_factory=list)
    responded: bool = True
    authoritative: bool = False  # AA flag set on its answer for the zone
    soa_serial: int | None = None
    apex_a: list[str] = field(default_factory=list)
    www_a: list[str] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True)
class DnsFacts(Serializable):
    domain: str  # registered domain
    ns: DnsAnswer  # NS at the registered domain, via the resolver
    nameservers: list[NameServerFacts] = field(default_factory=list)
    caa: DnsAnswer | None = None
    hosts: list[HostDns] = field(default_factory=list)
    ct_unavailable: Unavailable | None = None  # CT source unreachable: discovery incomplete
    # A random label under the domain, that nobody would create: when it resolves, a
    # wildcard record (``*``) answers every name. None: not looked up (older audits).
    wildcard_probe: HostDns | None = None
    # Guessed names that resolved only through the wildcard: not hosts of the store, so
    # left out of ``hosts`` and not probed further.
    wildcard_guesses: list[str] = field(default_factory=list)

    @property
    def wildcard(self) -> HostDns | None:
        """The random label's answer when a wildcard record gave it one."""
        probe = self.wildcard_probe
        return probe if probe is not None and (probe.resolves or probe.cname_chain) else None

    def host(self, name: str) -> HostDns | None:
        return next((h for h in self.hosts if h.name == name), None)

    def origin_of(self, host: str) -> str:
        """How the audit found ``host`` (declared, guessed, certificate logs), or ""."""
        found = self.host(host)
        return found.source.origin if found else ""


@dataclass(frozen=True)
class RdapFacts(Serializable):
    domain: str
    registrar: str = ""
    expires_at: datetime | None = None
    statuses: list[str] = field(default_factory=list)  # e.g. "client transfer prohibited"
    unavailable: Unavailable | None = None
