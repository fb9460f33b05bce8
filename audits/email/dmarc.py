"""DMARC records (RFC 7489): a strict parser, organisational domains and alignment.

Pure code. Every tag is validated; problems are sentences naming the tag, so the
founder sees "pct=150 is not a percentage" instead of "invalid record".
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from launchready.domains import registered_domain

logger = logging.getLogger(__name__)

POLICIES = ("none", "quarantine", "reject")
KNOWN_TAGS = ("v", "p", "sp", "rua", "ruf", "pct", "adkim", "aspf", "fo", "rf", "ri")
_TAG_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_URI_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):([^!]+)(?:!(\d+)([kmgtKMGT])?)?$")


@dataclass(frozen=True)
class ReportUri:
    uri: str  # as written, without the size limit
    scheme: str  # "mailto", "https"…
    address: str  # the mailbox for mailto, else the rest of the URI
    domain: str  # the mailbox's domain ("" for non-mailto)


@dataclass(frozen=True)
class DmarcRecord:
    raw: str
    tags: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # RFC violations: the record is invalid
    warnings: list[str] = field(default_factory=list)  # legal but worth knowing (unknown tags)
    rua: list[ReportUri] = field(default_factory=list)
    ruf: list[ReportUri] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def policy(self) -> str:
        return self.tags.get("p", "").lower()

    @property
    def subdomain_policy(self) -> str:
        return self.tags.get("sp", self.policy).lower()

    @property
    def pct(self) -> int:
        try:
            return int(self.tags.get("pct", "100"))
        except ValueError:
            return 100

    @property
    def adkim(self) -> str:
        return self.tags.get("adkim", "r").lower()

    @property
    def aspf(self) -> str:
        return self.tags.get("aspf", "r").lower()


def is_dmarc_candidate(text: str) -> bool:
    """Records that try to be DMARC (§6.6.3 keeps only those starting with v=DMARC1)."""
    return text.replace(" ", "").lower().startswith("v=dmarc1")


def parse_dmarc(text: str) -> DmarcRecord:
    errors: list[str] = []
    warnings: list[str] = []
    tags: dict[str, str] = {}
    parts = [p.strip() for p in text.split(";")]
    if parts and parts[-1] == "":
        parts.pop()  # a trailing ";" is allowed
    for index, part in enumerate(parts):
        if not part:
            errors.append("The record has an empty tag (two “;” in a row).")
            continue
        name, eq, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not _TAG_RE.match(name):
            errors.append(f"“{part}” is not a tag=value pair.")
            continue
        lname = name.lower()
        if index == 0 and lname != "v":
            errors.append("The record must start with v=DMARC1.")
        if lname in tags:
            errors.append(f"The tag {lname}= appears more than once.")
            continue
        tags[lname] = value
        if lname not in KNOWN_TAGS:
            warnings.append(f"Unknown tag {lname}= is ignored by receivers.")
    if tags.get("v") != "DMARC1":
        if "v" in tags and not any("must start" in e for e in errors):
            errors.append(f"v={tags['v']} must be exactly v=DMARC1.")
        elif "v" not in tags and not errors:
            errors.append("The record must start with v=DMARC1.")
    rua = _uris(tags.get("rua"), "rua", errors)
    ruf = _uris(tags.get("ruf"), "ruf", errors)
    _validate(tags, errors)
    return DmarcRecord(raw=text, tags=tags, errors=errors, warnings=warnings, rua=rua, ruf=ruf)


def _validate(tags: dict[str, str], errors: list[str]) -> None:
    if "p" not in tags:
        errors.append("The required tag p= (none, quarantine or reject) is missing.")
    for name in ("p", "sp"):
        if name in tags and tags[name].lower() not in POLICIES:
            errors.append(f"{name}={tags[name]} is not one of none, quarantine, reject.")
    if "pct" in tags and not (re.fullmatch(r"\d{1,3}", tags["pct"]) and int(tags["pct"]) <= 100):
        errors.append(f"pct={tags['pct']} is not a percentage from 0 to 100.")
    for name in ("adkim", "aspf"):
        if name in tags and tags[name].lower() not in ("r", "s"):
            errors.append(f"{name}={tags[name]} must be r (relaxed) or s (strict).")
    if "fo" in tags:
        options = [o.strip() for o in tags["fo"].split(":")]
        if not options or any(o not in ("0", "1", "d", "s") for o in options):
            errors.append(f"fo={tags['fo']} must be a colon-separated list of 0, 1, d and s.")
    if "rf" in tags and any(f.strip().lower() != "afrf" for f in tags["rf"].split(":")):
        errors.append(f"rf={tags['rf']}: the only report format is afrf.")
    if "ri" in tags and not re.fullmatch(r"\d{1,10}", tags["ri"]):
        errors.append(f"ri={tags['ri']} must be a number of seconds.")


def _uris(value: str | None, tag: str, errors: list[str]) -> list[ReportUri]:
    if value is None:
        return []
    uris: list[ReportUri] = []
    for item in value.split(","):
        item = item.strip()
        match = _URI_RE.match(item)
        if not match:
            errors.append(f"{tag}: “{item}” is not a URI (write mailto:reports@example.com).")
            continue
        scheme, rest = match.group(1).lower(), match.group(2)
        domain = ""
        if scheme == "mailto":
            local, at, domain = rest.rpartition("@")
            if not at or not local or "." not in domain:
                errors.append(f"{tag}: “{item}” is not a valid mailto: address.")
                continue
        uris.append(ReportUri(uri=f"{scheme}:{rest}", scheme=scheme, address=rest, domain=domain.lower()))
    if not uris and not any(e.startswith(tag) for e in errors):
        errors.append(f"{tag}= is empty.")
    return uris


# --- organisational domains and alignment (§3.2, §3.1) --------------------------------


def organizational_domain(name: str) -> str:
    """The registered domain: ``mail.shop.example.co.uk`` → ``example.co.uk``."""
    return registered_domain(name)


def aligned(domain_a: str, domain_b: str, mode: str = "r") -> bool:
    """Identifier alignment: strict needs equal names, relaxed equal organisational domains."""
    a, b = domain_a.lower().rstrip("."), domain_b.lower().rstrip(".")
    if not a or not b:
        return False
    if mode == "s":
        return a == b
    return organizational_domain(a) == organizational_domain(b)


def external_report_name(policy_domain: str, report_domain: str) -> str:
    """Where the report domain authorises reports for the policy domain (§7.1)."""
    return f"{policy_domain.lower().rstrip('.')}._report._dmarc.{report_domain.lower().rstrip('.')}"


def is_external(policy_domain: str, report_domain: str) -> bool:
    return organizational_domain(policy_domain) != organizational_domain(report_domain)
