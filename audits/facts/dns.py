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


@dataclass(frozen=True)
class HostDns(Serializable):
    """Resolution of one host name (apex, www, a declared or discovered subdomain)."""

    name: str
    source: str  # "apex", "www", "declared", "common", "ct"
    a: DnsAnswer
    aaaa: DnsAnswer
    # Record types the authoritative server holds at this owner name besides CNAME
    # (filled when the name has a CNAME); used for dns.cname_conflict.
    other_types: list[str] = field(default_factory=list)

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

    def host(self, name: str) -> HostDns | None:
        return next((h for h in self.hosts if h.name == name), None)


@dataclass(frozen=True)
class RdapFacts(Serializable):
    domain: str
    registrar: str = ""
    expires_at: datetime | None = None
    statuses: list[str] = field(default_factory=list)  # e.g. "client transfer prohibited"
    unavailable: Unavailable | None = None
