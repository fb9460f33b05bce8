"""Expand a domain's SPF tree for the audit: lookup count, void lookups, loops, errors.

Unlike ``check_host()`` (which stops at the first match for one address), the audit
walks every include and redirect, because the limit of 10 DNS-querying terms
(RFC 7208 §4.6.4) bites whichever sender happens to be matched last.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from audits.facts import DnsStatus
from audits.facts.email import SpfFacts

from .dns import EMPTY, TEMPORARY, Lookup, cached, fact_status, txt_records, unavailable
from .spf import SpfSyntaxError, parse_record, select_spf

logger = logging.getLogger(__name__)

MAX_DEPTH = 12  # far past the lookup limit: only a loop would go deeper


@dataclass
class _Walk:
    lookup: Lookup
    lookup_terms: list[str] = field(default_factory=list)
    void_terms: list[str] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    loops: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    macro_terms: list[str] = field(default_factory=list)
    permissive_includes: list[str] = field(default_factory=list)
    error: tuple[str, str, str] | None = None  # (sentence, term, domain)

    async def record_of(self, domain: str, via: str) -> str | None:
        answer = await self.lookup(domain, "TXT")
        if answer.status in TEMPORARY:
            self.problems.append(f"{via}: the TXT lookup of {domain} failed ({answer.status.value}).")
            return None
        records = select_spf(txt_records(answer)) if answer.status not in EMPTY else []
        if not records:
            if answer.status in EMPTY:
                self.void_terms.append(f"{via} ({domain}: {answer.status.value})")
            self.problems.append(f"{via}: {domain} has no SPF record, which is a permerror.")
            return None
        if len(records) > 1:
            self.problems.append(f"{via}: {domain} has {len(records)} SPF records, which is a permerror.")
            return None
        return records[0]

    async def walk(self, domain: str, text: str, path: list[str]) -> str:
        """Walk one record; return the qualifier of its effective ``all`` ("" if none)."""
        try:
            record = parse_record(text)
        except SpfSyntaxError as exc:
            if self.error is None:
                self.error = (exc.message, exc.term, domain)
            return ""
        for term in record.mechanisms:
            if not term.queries_dns:
                continue
            self.lookup_terms.append(f"{domain}: {term.raw}")
            if term.has_macros:
                self.macro_terms.append(f"{domain}: {term.raw}")
                continue
            target = (term.value or domain).lower().rstrip(".")
            if term.name == "include":
                # An included +all matches every sender, so the include (usually "+") passes anyone.
                if await self._follow(domain, term.raw, target, path) == "+" and term.qualifier == "+":
                    self.permissive_includes.append(f"{domain}: {term.raw}")
            elif term.name == "a":
                answers = [await self.lookup(target, "A"), await self.lookup(target, "AAAA")]
                self._void_if_empty(answers, f"{domain}: {term.raw}")
            elif term.name == "mx":
                answer = await self.lookup(target, "MX")
                self._void_if_empty([answer], f"{domain}: {term.raw}")
                if len(answer.records) > 10:
                    self.problems.append(
                        f"{domain}: {term.raw}: {target} has more than 10 MX records (permerror)."
                    )
            elif term.name == "exists":
                self._void_if_empty([await self.lookup(target, "A")], f"{domain}: {term.raw}")
            elif term.name == "ptr":
                self.problems.append(
                    f"{domain}: “{term.raw}” is deprecated (RFC 7208 §5.5) and slow; remove it."
                )
        all_term = record.all_term
        if all_term is not None:
            return all_term.qualifier
        if record.redirect is not None:
            term = record.redirect
            self.lookup_terms.append(f"{domain}: {term.raw}")
            if term.has_macros:
                self.macro_terms.append(f"{domain}: {term.raw}")
                return ""
            return await self._follow(domain, term.raw, term.value.lower().rstrip("."), path)
        return ""

    async def _follow(self, domain: str, raw: str, target: str, path: list[str]) -> str:
        if target in path:
            self.loops.append(" → ".join([*path, target]))
            return ""
        if len(path) >= MAX_DEPTH:
            self.problems.append(f"{domain}: includes nest deeper than {MAX_DEPTH} levels.")
            return ""
        self.includes.append(target)
        text = await self.record_of(target, f"{domain}: {raw}")
        if text is None:
            return ""
        return await self.walk(target, text, [*path, target])

    def _void_if_empty(self, answers: list, where: str) -> None:
        if any(a.status in TEMPORARY for a in answers):
            self.problems.append(f"{where}: DNS lookup failed ({answers[0].status.value}).")
            return
        if all(a.status in EMPTY or not a.records for a in answers):
            self.void_terms.append(where)


async def expand_spf(domain: str, lookup: Lookup) -> SpfFacts:
    """Fetch and expand the SPF tree of ``domain``; never raises."""
    lookup = cached(lookup)
    domain = domain.lower().rstrip(".")
    answer = await lookup(domain, "TXT")
    status = fact_status(answer)
    if answer.status in TEMPORARY:
        return SpfFacts(domain=domain, status=status, unavailable=unavailable(answer))
    records = select_spf(txt_records(answer)) if answer.status not in EMPTY else []
    if len(records) != 1:
        return SpfFacts(domain=domain, status=status, records=records)
    walk = _Walk(lookup)
    qualifier = await walk.walk(domain, records[0], [domain])
    error, term, where = walk.error or ("", "", "")
    return SpfFacts(
        domain=domain,
        status=DnsStatus.OK,
        records=records,
        error=error,
        error_term=term,
        error_domain=where,
        all_qualifier=qualifier,
        lookup_count=len(walk.lookup_terms),
        lookup_terms=walk.lookup_terms,
        void_lookups=len(walk.void_terms),
        void_terms=walk.void_terms,
        includes=walk.includes,
        loops=walk.loops,
        problems=walk.problems,
        macro_terms=walk.macro_terms,
        permissive_includes=walk.permissive_includes,
    )
