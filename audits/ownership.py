"""Ownership verification: proof that whoever added a site controls its domain.

Two ways, either is enough (checked on demand, both at once):
- a DNS TXT record ``_launchready.<domain>`` with the value ``launchready-verification=<token>``;
- a file ``/.well-known/launchready-verification.txt`` on the store containing the token.

The load probe needs a verified site, and checks the proof again just before it runs
(``audits.probes``). This module only looks (all network I/O through ``launchready.net``);
``audits.services.verify_ownership`` records the outcome on the site's audit settings.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from launchready import net
from launchready.domains import hostname_under

TXT_PREFIX = "launchready-verification="
WELL_KNOWN_PATH = "/.well-known/launchready-verification.txt"
CHECK_TIMEOUT_S = 8.0
MAX_FILE_BYTES = 4096


class Method:
    DNS = "dns"
    FILE = "file"


@dataclass(frozen=True)
class OwnershipCheck:
    """The outcome of one verification attempt: which method proved it, or why none did."""

    verified: bool
    method: str = ""  # Method.DNS or Method.FILE when verified
    problems: list[str] = field(default_factory=list)  # one sentence per method that failed

    @property
    def summary(self) -> str:
        return " ".join(self.problems)


class Target(Protocol):
    """What is verified: a saved Site or a SiteDeclaration (both name these two hosts)."""

    @property
    def domain(self) -> str: ...

    @property
    def canonical_host(self) -> str: ...


def txt_name(domain: str) -> str:
    return f"_launchready.{domain}"


def txt_value(token: str) -> str:
    return f"{TXT_PREFIX}{token}"


def file_urls(site: Target) -> list[str]:
    """Where the file may be: the apex and the canonical host (the store may live on either)."""
    hosts = dict.fromkeys([site.domain, site.canonical_host])
    return [f"https://{host}{WELL_KNOWN_PATH}" for host in hosts]


def _file_matches(body: bytes, token: str) -> bool:
    if not token:
        return False
    text = body.decode("utf-8", errors="replace")
    return any(line.strip() in (token, txt_value(token)) for line in text.splitlines())


def _same_domain(url: str, domain: str) -> bool:
    """A redirect may move to www or another host of the domain, never to someone else's site."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return hostname_under(host, domain)


async def _check_dns(domain: str, token: str, config: net.NetConfig | None) -> str | None:
    name = txt_name(domain)
    answer = await net.resolve(name, "TXT", config=config, timeout=CHECK_TIMEOUT_S)
    if answer.ok and txt_value(token) in {r.strip() for r in answer.records}:
        return None
    if answer.ok:
        return f"The TXT record {name} exists but does not hold {txt_value(token)}."
    if answer.error is not None and answer.status not in (net.DnsStatus.NXDOMAIN, net.DnsStatus.NODATA):
        return f"The TXT record {name} could not be read: {answer.error.message}"
    return f"No TXT record at {name}."


async def _check_file(url: str, domain: str, token: str, config: net.NetConfig | None) -> str | None:
    result = await net.fetch(url, max_body_bytes=MAX_FILE_BYTES, timeout=CHECK_TIMEOUT_S, config=config)
    if result.error is not None:
        return f"{url} could not be read: {result.error.message}"
    if not _same_domain(result.final_url, domain):
        return f"{url} redirects to {result.final_url}, which is not on {domain}."
    if result.status != 200:
        return f"{url} answered HTTP {result.status}."
    if not _file_matches(result.body, token):
        return f"{url} does not contain the verification token."
    return None


async def check_ownership_async(
    site: Target, token: str, *, config: net.NetConfig | None = None
) -> OwnershipCheck:
    """Try the TXT record and the file (on apex and canonical host) concurrently."""
    if not token:
        # "launchready-verification=" or an empty line would otherwise prove anything.
        return OwnershipCheck(verified=False, problems=["There is no verification token to look for."])
    urls = file_urls(site)
    dns_problem, *file_problems = await asyncio.gather(
        _check_dns(site.domain, token, config),
        *(_check_file(url, site.domain, token, config) for url in urls),
    )
    if dns_problem is None:
        return OwnershipCheck(verified=True, method=Method.DNS)
    if any(p is None for p in file_problems):
        return OwnershipCheck(verified=True, method=Method.FILE)
    return OwnershipCheck(verified=False, problems=[dns_problem, *file_problems])
