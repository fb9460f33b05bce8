"""Email facts: what the email probes observed, as JSON round-tripping dataclasses.

``EmailFacts`` is meant to sit on ``AuditFacts.email`` (None when the email stage did
not run). It also carries what the founder declared for email (sending service, From
address, DKIM selectors) and what Launch Ready already knows from its own database
(when p=none was first seen, the DMARC aggregate report summary, the latest live test
message), so the rules stay pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from audits.facts.base import Unavailable
from audits.facts.dns import DnsStatus
from audits.serialization import Serializable


@dataclass(frozen=True)
class SpfFacts(Serializable):
    domain: str
    status: DnsStatus = DnsStatus.OK  # of the TXT lookup at the domain
    records: list[str] = field(default_factory=list)  # v=spf1 records found there
    error: str = ""  # first syntax problem anywhere in the tree, as a sentence
    error_term: str = ""
    error_domain: str = ""
    all_qualifier: str = ""  # "+", "-", "~", "?" of the effective "all" ("" when none)
    lookup_count: int = 0  # DNS-querying terms after expanding every include/redirect
    lookup_terms: list[str] = field(default_factory=list)  # "example.com: include:_spf.google.com"
    void_lookups: int = 0
    void_terms: list[str] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)  # every include/redirect target in the tree
    loops: list[str] = field(default_factory=list)  # "a.example → b.example → a.example"
    problems: list[str] = field(default_factory=list)  # nested includes with no record, DNS errors
    macro_terms: list[str] = field(default_factory=list)  # terms that depend on the sender
    unavailable: Unavailable | None = None
    # "example.com: include:lax.example" whose record ends in +all: the include then
    # matches every sender, so the whole record passes anyone.
    permissive_includes: list[str] = field(default_factory=list)

    @property
    def permissive(self) -> bool:
        return self.all_qualifier in ("+", "?") or bool(self.permissive_includes)


@dataclass(frozen=True)
class DkimSelectorFacts(Serializable):
    selector: str
    name: str  # <selector>._domainkey.<domain>
    source: str = "service"  # "declared" or "service" (well-known for the sending service)
    status: DnsStatus = DnsStatus.NXDOMAIN
    record: str = ""
    cname_target: str = ""
    key_type: str = ""
    bits: int | None = None
    revoked: bool = False
    errors: list[str] = field(default_factory=list)
    error: str = ""  # DNS error sentence

    @property
    def found(self) -> bool:
        return self.status == DnsStatus.OK and bool(self.record)


@dataclass(frozen=True)
class DkimFacts(Serializable):
    domain: str
    selectors: list[DkimSelectorFacts] = field(default_factory=list)
    unavailable: Unavailable | None = None

    @property
    def found(self) -> list[DkimSelectorFacts]:
        return [s for s in self.selectors if s.found]


@dataclass(frozen=True)
class ExternalRua(Serializable):
    uri: str
    report_domain: str
    authorization_name: str  # <policy>._report._dmarc.<report domain>
    authorised: bool | None  # None: the lookup failed
    evidence: str = ""


@dataclass(frozen=True)
class DmarcFacts(Serializable):
    domain: str  # where the record was looked up (_dmarc.<domain>)
    status: DnsStatus = DnsStatus.OK
    records: list[str] = field(default_factory=list)  # TXT records starting with v=DMARC1 (any case)
    other_txt: list[str] = field(default_factory=list)  # other TXT at _dmarc (misplaced text)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    policy: str = ""
    subdomain_policy: str = ""
    pct: int = 100
    adkim: str = "r"
    aspf: str = "r"
    rua: list[str] = field(default_factory=list)
    external_rua: list[ExternalRua] = field(default_factory=list)
    unavailable: Unavailable | None = None
    # The site's own domain when it has no record and the one found is its organisational
    # domain's (RFC 7489 §6.6.3); ``domain`` is then the organisational domain and
    # ``policy`` the one that applies to the site (sp=, else p=).
    inherited_from: str = ""


@dataclass(frozen=True)
class MxFacts(Serializable):
    domain: str
    status: DnsStatus = DnsStatus.OK
    hosts: list[str] = field(default_factory=list)  # "10 mx1.example.com"
    null_mx: bool = False  # "0 ." (RFC 7505): the domain says it takes no mail
    unavailable: Unavailable | None = None


@dataclass(frozen=True)
class MtaStsFacts(Serializable):
    domain: str
    txt_records: list[str] = field(default_factory=list)  # at _mta-sts.<domain>
    txt_error: str = ""
    policy_url: str = ""
    policy_fetched: bool = False
    policy_mode: str = ""  # enforce | testing | none
    policy_errors: list[str] = field(default_factory=list)
    tls_rpt_records: list[str] = field(default_factory=list)  # at _smtp._tls.<domain>
    tls_rpt_errors: list[str] = field(default_factory=list)
    unavailable: Unavailable | None = None

    @property
    def has_mta_sts(self) -> bool:
        return bool(self.txt_records) and self.policy_fetched and not self.policy_errors

    @property
    def has_tls_rpt(self) -> bool:
        return bool(self.tls_rpt_records) and not self.tls_rpt_errors


@dataclass(frozen=True)
class ReportSource(Serializable):
    """One sender seen in DMARC aggregate reports over the summary window."""

    source_ip: str
    service: str = ""  # "Klaviyo" when recognisable from the DKIM/SPF domains
    messages: int = 0
    dkim_aligned: int = 0
    spf_aligned: int = 0
    dmarc_aligned: int = 0  # aligned DKIM or aligned SPF (DMARC pass); 0 in facts saved before it existed

    @property
    def failing(self) -> int:
        """Messages that passed neither aligned DKIM nor aligned SPF (DMARC fail)."""
        return max(0, self.messages - max(self.dmarc_aligned, self.dkim_aligned, self.spf_aligned))


@dataclass(frozen=True)
class ReportSummary(Serializable):
    days: int = 7
    reports: int = 0
    messages: int = 0
    dmarc_pass: int = 0
    sources: list[ReportSource] = field(default_factory=list)


@dataclass(frozen=True)
class TestMessageFacts(Serializable):
    """The latest live test message received at the site's check address."""

    __test__ = False  # not a pytest test class, despite the name

    received_at: datetime
    mail_from: str = ""
    header_from: str = ""
    spf: str = ""  # pass, fail, softfail, neutral, none, permerror, temperror
    spf_reason: str = ""
    dkim: str = ""  # pass, fail, none
    dkim_reason: str = ""
    dmarc: str = ""  # pass or fail
    dmarc_reason: str = ""

    @property
    def passed(self) -> bool:
        """SPF and DKIM both passed and at least one of them is aligned (DMARC pass)."""
        return self.spf == "pass" and self.dkim == "pass" and self.dmarc == "pass"


@dataclass(frozen=True)
class EmailFacts(Serializable):
    domain: str  # brand domain
    sending_service: str = ""  # Site.sending_service key
    from_address: str = ""
    declared_selectors: list[str] = field(default_factory=list)
    mx: MxFacts | None = None
    spf: SpfFacts | None = None
    dkim: DkimFacts | None = None
    dmarc: DmarcFacts | None = None
    mta_sts: MtaStsFacts | None = None
    # From Launch Ready's own records (filled by the task, absent on the CLI).
    dmarc_none_since: datetime | None = None
    reports: ReportSummary | None = None
    test_message: TestMessageFacts | None = None
