"""The SPF ``check_host()`` function (RFC 7208 §4–§8) for the live test message.

Async, and every query goes through a ``Lookup`` (``audits.email.dns``), so the same
code runs against real DNS and against the sandbox. Tested with the OpenSPF RFC 7208
suite in tests/email/test_spf_suite.py.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass, field

from launchready.domains import hostname_under

from .dns import EMPTY, TEMPORARY, Lookup, cached, txt_records
from .spf import (
    LOOKUP_LIMIT,
    VOID_LIMIT,
    MacroContext,
    SpfRecord,
    SpfSyntaxError,
    Term,
    check_macro_string,
    expand,
    parse_record,
    select_spf,
    truncate_domain,
    valid_hostname,
)

logger = logging.getLogger(__name__)

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
RESULTS = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")
DEFAULT_EXPLANATION = "DEFAULT"
MAX_MX = 10
MAX_PTR = 10


@dataclass(frozen=True)
class SpfResult:
    result: str  # one of RESULTS
    domain: str  # the domain checked (MAIL FROM domain, or HELO when the path is empty)
    reason: str  # a sentence: which term matched, or why it is an error
    mechanism: str = ""  # the term that decided, as written
    record: str = ""  # the top-level record
    explanation: str = ""  # from exp=, only for "fail"
    lookups: int = 0
    void_lookups: int = 0
    trace: list[str] = field(default_factory=list)


class _PermError(Exception):
    pass


class _TempError(Exception):
    pass


@dataclass
class _Outcome:
    result: str
    mechanism: str = ""
    reason: str = ""
    explanation: str = ""
    record: str = ""


def sender_identity(mail_from: str, helo: str) -> tuple[str, str]:
    """(sender, domain) per §4.3 and §2.4: an empty path uses postmaster@HELO."""
    if not mail_from:
        return f"postmaster@{helo}", helo
    local, at, domain = mail_from.rpartition("@")
    if not at:
        return f"postmaster@{mail_from}", mail_from
    return f"{local or 'postmaster'}@{domain}", domain


async def check_host(
    ip: str | IP,
    domain: str,
    sender: str,
    lookup: Lookup,
    helo: str = "",
    receiver: str = "unknown",
) -> SpfResult:
    """Evaluate SPF for ``ip`` sending as ``sender`` for ``domain``; never raises."""
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    evaluator = _Evaluator(cached(lookup), address, sender, helo, receiver)
    domain = domain.rstrip(".")
    if not valid_hostname(domain):
        return SpfResult("none", domain, f"“{domain}” is not a valid domain name, so it has no SPF policy.")
    try:
        outcome = await evaluator.check(domain, top=True)
    except _PermError as exc:
        outcome = _Outcome("permerror", reason=str(exc))
    except _TempError as exc:
        outcome = _Outcome("temperror", reason=str(exc))
    return SpfResult(
        result=outcome.result,
        domain=domain,
        reason=outcome.reason,
        mechanism=outcome.mechanism,
        record=evaluator.top_record,
        explanation=outcome.explanation,
        lookups=evaluator.lookups,
        void_lookups=evaluator.voids,
        trace=evaluator.trace,
    )


class _Evaluator:
    def __init__(self, lookup: Lookup, ip: IP, sender: str, helo: str, receiver: str) -> None:
        self.lookup = lookup
        self.ip = ip
        self.sender = sender
        self.helo = helo
        self.receiver = receiver
        self.lookups = 0
        self.voids = 0
        self.top_record = ""
        self.trace: list[str] = []
        self._validated: dict[str, str] = {}

    # --- DNS --------------------------------------------------------------------------

    async def _query(self, name: str, rdtype: str) -> list[str]:
        answer = await self.lookup(name, rdtype)
        self.trace.append(f"{rdtype} {name} → {answer.status.value}")
        if answer.status in TEMPORARY:
            raise _TempError(f"DNS lookup of {name} ({rdtype}) failed: {answer.status.value}.")
        if answer.status in EMPTY:
            return []
        if rdtype == "TXT":
            return txt_records(answer)
        return list(answer.records)

    def _count(self, term: Term) -> None:
        self.lookups += 1
        if self.lookups > LOOKUP_LIMIT:
            raise _PermError(f"More than {LOOKUP_LIMIT} DNS-querying terms (at “{term.raw}”).")

    def _void(self, records: list, term: Term) -> None:
        if not records:
            self.voids += 1
            if self.voids > VOID_LIMIT:
                raise _PermError(f"More than {VOID_LIMIT} lookups returned nothing (at “{term.raw}”).")

    # --- check_host --------------------------------------------------------------------

    async def check(self, domain: str, top: bool = False, want_exp: bool = True) -> _Outcome:
        try:
            records = select_spf(await self._query(domain, "TXT"))
        except _TempError:
            raise
        if not records:
            return _Outcome("none", reason=f"{domain} publishes no SPF record.")
        if len(records) > 1:
            raise _PermError(f"{domain} publishes {len(records)} SPF records; exactly one is allowed.")
        if top:
            self.top_record = records[0]
        try:
            record = parse_record(records[0])
        except SpfSyntaxError as exc:
            raise _PermError(f"{domain}: {exc.message} ({exc.term})") from None
        ctx = self._ctx(domain)
        for term in record.mechanisms:
            if await self._matches(term, domain, ctx):
                outcome = _Outcome(term.result, mechanism=term.raw, reason=f"{domain} matched “{term.raw}”.")
                if outcome.result == "fail" and want_exp:
                    outcome.explanation = await self._explain(record, domain)
                return outcome
        if record.redirect is not None:
            self._count(record.redirect)
            target = await self._target(record.redirect.value, ctx)
            if not valid_hostname(target):
                raise _PermError(f"redirect to an invalid domain “{target}”.")
            outcome = await self.check(target, want_exp=want_exp)
            if outcome.result == "none":
                raise _PermError(f"redirect={target}: that domain has no SPF record.")
            return outcome
        return _Outcome("neutral", reason=f"No term of {domain}'s record matched (default neutral).")

    def _ctx(self, domain: str, validated: str = "unknown") -> MacroContext:
        return MacroContext(
            ip=self.ip,
            sender=self.sender,
            domain=domain,
            helo=self.helo,
            receiver=self.receiver,
            validated_name=validated,
            timestamp=int(time.time()),
        )

    async def _target(self, spec: str, ctx: MacroContext) -> str:
        if "%{p" in spec.lower():
            ctx = self._ctx(ctx.domain, await self._validated_name(ctx.domain))
        try:
            return truncate_domain(expand(spec, ctx))
        except SpfSyntaxError as exc:
            raise _PermError(exc.message) from None

    async def _matches(self, term: Term, domain: str, ctx: MacroContext) -> bool:
        name = term.name
        if name == "all":
            return True
        if name in ("ip4", "ip6"):
            return self._in_network(term.value, term.cidr4 if name == "ip4" else term.cidr6, name)
        self._count(term)
        target = await self._target(term.value, ctx) if term.value else domain
        if name == "include":
            if not valid_hostname(target):
                raise _PermError(f"include of an invalid domain “{target}”.")
            outcome = await self.check(target, want_exp=False)
            if outcome.result == "pass":
                return True
            if outcome.result == "none":
                raise _PermError(f"include:{target}: that domain has no SPF record.")
            return False
        if not valid_hostname(target):
            return False  # an unusable name matches nothing (§4.8)
        if name == "a":
            records = await self._query(target, self._addr_type())
            self._void(records, term)
            return self._any_in(records, term)
        if name == "mx":
            return await self._mx(target, term)
        if name == "exists":
            records = await self._query(target, "A")
            self._void(records, term)
            return bool(records)
        if name == "ptr":
            names = await self._ptr_names()
            self._void(names, term)
            return any(hostname_under(n, target) for n in names)
        raise _PermError(f"Unknown mechanism {term.raw}")

    def _addr_type(self) -> str:
        return "A" if self.ip.version == 4 else "AAAA"

    def _in_network(self, value: str, cidr: int | None, name: str) -> bool:
        version = 4 if name == "ip4" else 6
        if self.ip.version != version:
            return False
        length = cidr if cidr is not None else (32 if version == 4 else 128)
        network = ipaddress.ip_network(f"{value}/{length}", strict=False)
        return self.ip in network

    def _any_in(self, records: list[str], term: Term) -> bool:
        length = term.cidr4 if self.ip.version == 4 else term.cidr6
        length = length if length is not None else (32 if self.ip.version == 4 else 128)
        for record in records:
            try:
                if self.ip in ipaddress.ip_network(f"{record}/{length}", strict=False):
                    return True
            except ValueError:
                continue
        return False

    async def _mx(self, target: str, term: Term) -> bool:
        records = await self._query(target, "MX")
        self._void(records, term)
        if len(records) > MAX_MX:
            raise _PermError(f"{target} has more than {MAX_MX} MX records.")
        for record in records:
            host = record.split()[-1].rstrip(".")
            if not host:
                continue  # null MX ("0 .")
            if self._any_in(await self._query(host, self._addr_type()), term):
                return True
        return False

    async def _ptr_names(self) -> list[str]:
        """Validated names of the client address (§5.5): PTR names whose forward lookup has the IP."""
        try:
            names = await self._query(self.ip.reverse_pointer, "PTR")
        except _TempError:
            return []  # a DNS error during the PTR lookup means no match (§5.5)
        validated: list[str] = []
        for raw in names[:MAX_PTR]:
            name = raw.rstrip(".").lower()
            try:
                addresses = await self._query(name, self._addr_type())
            except _TempError:
                continue
            if any(_same_ip(a, self.ip) for a in addresses):
                validated.append(name)
        return validated

    async def _validated_name(self, domain: str) -> str:
        """The %{p} macro: a validated name, preferring the domain itself, then subdomains."""
        if domain not in self._validated:
            names = await self._ptr_names()
            choice = next((n for n in names if n == domain.lower()), None)
            choice = choice or next((n for n in names if hostname_under(n, domain)), None)
            self._validated[domain] = choice or (names[0] if names else "unknown")
        return self._validated[domain]

    async def _explain(self, record: SpfRecord, domain: str) -> str:
        """The exp= text (§6.2); any problem gives the default explanation."""
        if record.exp is None:
            return DEFAULT_EXPLANATION
        try:
            ctx = self._ctx(domain)
            target = await self._target(record.exp.value, ctx)
            if not valid_hostname(target):
                return DEFAULT_EXPLANATION
            texts = await self._query(target, "TXT")
            if len(texts) != 1 or not texts[0].isascii():
                return DEFAULT_EXPLANATION
            check_macro_string(texts[0].replace(" ", "%_"), texts[0], allow_exp_letters=True)
            if "%{p" in texts[0].lower():
                ctx = self._ctx(domain, await self._validated_name(domain))
            return expand(texts[0], ctx, exp=True)
        except (_PermError, _TempError, SpfSyntaxError):
            return DEFAULT_EXPLANATION


def _same_ip(text: str, ip: IP) -> bool:
    try:
        return ipaddress.ip_address(text) == ip
    except ValueError:
        return False
