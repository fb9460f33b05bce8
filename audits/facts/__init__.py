"""Facts: what the probes observed, as typed, JSON-serialisable dataclasses.

Data flows one way: probe → facts → rules → findings. Probes (the only code that does
network I/O) fill these classes; rules (``audits.rules``) read them and never touch
the network. ``AuditFacts`` is stored as JSON on the AuditRun and printed by the CLI,
so every class round-trips through ``to_dict()`` / ``from_dict()``.

Missing data is explicit. A fact that could not be collected (timeout, blocked by a
WAF, rate limited) carries ``unavailable=Unavailable(reason)`` and the rules report
``inconclusive`` for it. ``None`` for a whole section (``rdap``, ``load``,
``lighthouse``…) means the probe was not run, and the rules say the check was skipped.

The classes live in submodules named like the probes and rules of their stage
(``dns``, ``web``, ``tls``, ``exposure``, ``performance``, ``email``), beside ``base``,
``site``, ``setup`` and ``audit``; import them from ``audits.facts`` (email's from
``audits.facts.email``).
"""

from audits.facts.audit import AuditFacts
from audits.facts.base import Unavailable, UnavailableKind, host_of, percentile
from audits.facts.dns import DnsAnswer, DnsFacts, DnsRecord, DnsStatus, HostDns, NameServerFacts, RdapFacts
from audits.facts.exposure import ExposureProbe, Sniff
from audits.facts.performance import (
    DiscoveredRoute,
    LighthouseFacts,
    LoadTiming,
    RouteDiscovery,
    RouteTiming,
    p95_lower_bound,
)
from audits.facts.setup import DeployRecords, MonitoringSetup
from audits.facts.site import RouteSpec, SiteDeclaration
from audits.facts.tls import CertInfo, TlsFacts, VerifyError
from audits.facts.web import (
    AssetFacts,
    Cookie,
    HtmlFacts,
    HttpHop,
    MixedRef,
    OriginProbe,
    PageFacts,
    RedirectChain,
    ScriptRef,
)
from audits.serialization import Serializable
from launchready.routes import API_BUDGET_MS, PAGE_BUDGET_MS, STANDARD_ROUTES

__all__ = [
    "API_BUDGET_MS",
    "AssetFacts",
    "AuditFacts",
    "CertInfo",
    "Cookie",
    "DnsAnswer",
    "DnsFacts",
    "DnsRecord",
    "DnsStatus",
    "ExposureProbe",
    "HostDns",
    "HtmlFacts",
    "HttpHop",
    "DiscoveredRoute",
    "LighthouseFacts",
    "LoadTiming",
    "MonitoringSetup",
    "DeployRecords",
    "MixedRef",
    "NameServerFacts",
    "OriginProbe",
    "PAGE_BUDGET_MS",
    "PageFacts",
    "RdapFacts",
    "RedirectChain",
    "RouteDiscovery",
    "RouteSpec",
    "RouteTiming",
    "p95_lower_bound",
    "STANDARD_ROUTES",
    "ScriptRef",
    "Serializable",
    "SiteDeclaration",
    "Sniff",
    "TlsFacts",
    "Unavailable",
    "UnavailableKind",
    "VerifyError",
    "host_of",
    "percentile",
]
