"""Authenticate a received message: SPF for the connecting address, DKIM (dkimpy) and
DMARC alignment of the From domain, as a receiving mail server would.

DNS goes through a ``Lookup`` (``audits.email.dns``). dkimpy asks for keys through a
synchronous ``dnsfunc``; the keys it will need are fetched first, asynchronously,
through the network layer, and handed to it from memory, so dkimpy never does I/O.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
from dataclasses import asdict, dataclass, field
from email.message import Message

import dkim
import dkim.util

from audits.email.dmarc import aligned, is_dmarc_candidate, organizational_domain, parse_dmarc
from audits.email.dns import EMPTY, TEMPORARY, Lookup, cached, txt_records
from audits.email.spf_eval import SpfResult, check_host, sender_identity

logger = logging.getLogger(__name__)

MAX_SIGNATURES = 5  # a message with more is odd; verifying each costs a DNS lookup


@dataclass(frozen=True)
class DkimSignatureResult:
    domain: str
    selector: str
    result: str  # pass, fail, temperror, permerror
    reason: str = ""


@dataclass(frozen=True)
class DmarcEvaluation:
    result: str  # pass or fail
    reason: str
    header_from: str = ""
    from_domain: str = ""
    record: str = ""
    record_domain: str = ""
    policy: str = ""
    spf_aligned: bool = False
    dkim_aligned: bool = False


@dataclass(frozen=True)
class AuthResult:
    spf: SpfResult
    dkim: list[DkimSignatureResult] = field(default_factory=list)
    dmarc: DmarcEvaluation | None = None
    spf_identity: str = "mailfrom"  # "helo" when the envelope sender was empty (a bounce)

    @property
    def dkim_result(self) -> str:
        """ "pass" if any signature verified, "none" if unsigned, else the first failure."""
        if not self.dkim:
            return "none"
        if any(d.result == "pass" for d in self.dkim):
            return "pass"
        return self.dkim[0].result

    @property
    def dkim_summary(self) -> str:
        if not self.dkim:
            return "The message carries no DKIM-Signature header."
        return "; ".join(f"d={d.domain} s={d.selector}: {d.result} ({d.reason})" for d in self.dkim)

    @property
    def passed(self) -> bool:
        return (
            self.spf.result == "pass"
            and self.dkim_result == "pass"
            and self.dmarc is not None
            and self.dmarc.result == "pass"
        )

    def header(self, authserv_id: str) -> str:
        """An Authentication-Results header (RFC 8601) describing the results."""
        parts = [f"spf={self.spf.result} smtp.{self.spf_identity}={self.spf.domain}"]
        if self.dkim:
            parts += [f"dkim={d.result} header.d={d.domain} header.s={d.selector}" for d in self.dkim]
        else:
            parts.append("dkim=none")
        if self.dmarc is not None:
            parts.append(f"dmarc={self.dmarc.result} header.from={self.dmarc.from_domain or 'unknown'}")
        return f"Authentication-Results: {authserv_id};\n\t" + ";\n\t".join(parts)

    def details(self) -> dict:
        return {
            "spf": asdict(self.spf),
            "dkim": [asdict(d) for d in self.dkim],
            "dmarc": asdict(self.dmarc) if self.dmarc else None,
        }


async def authenticate(
    raw: bytes,
    message: Message,
    peer_ip: str,
    helo: str,
    mail_from: str,
    lookup: Lookup,
    authserv_id: str = "",
) -> AuthResult:
    lookup = cached(lookup)
    sender, spf_domain = sender_identity(mail_from, helo)
    spf, signatures = await asyncio.gather(
        check_host(peer_ip, spf_domain, sender, lookup, helo=helo, receiver=authserv_id or "unknown"),
        verify_dkim(raw, lookup),
    )
    dmarc = await evaluate_dmarc(message, spf, signatures, lookup)
    return AuthResult(spf=spf, dkim=signatures, dmarc=dmarc, spf_identity="mailfrom" if mail_from else "helo")


def _signature_tags(raw: bytes) -> list[dict[bytes, bytes]]:
    tags = []
    for name, value in dkim.rfc822_parse(raw)[0]:
        if name.lower() != b"dkim-signature":
            continue
        try:
            tags.append(dkim.util.parse_tag_value(value))
        except dkim.util.InvalidTagValueList:
            tags.append({})
    return tags[:MAX_SIGNATURES]


async def verify_dkim(raw: bytes, lookup: Lookup) -> list[DkimSignatureResult]:
    try:
        signatures = _signature_tags(raw)
    except Exception as exc:  # dkimpy raises several types on unparseable messages
        return [DkimSignatureResult("", "", "permerror", f"the message could not be parsed for DKIM ({exc})")]
    keys: dict[bytes, bytes | None] = {}
    for tags in signatures:
        domain = tags.get(b"d", b"").decode(errors="replace").strip()
        selector = tags.get(b"s", b"").decode(errors="replace").strip()
        if domain and selector:
            name = f"{selector}._domainkey.{domain}"
            answer = await lookup(name, "TXT")
            if answer.status in TEMPORARY:
                keys[name.encode() + b"."] = None
            elif answer.status in EMPTY:
                keys[name.encode() + b"."] = b""
            else:
                keys[name.encode() + b"."] = (txt_records(answer) or [""])[0].encode()
    results = []
    for index, tags in enumerate(signatures):
        results.append(await asyncio.to_thread(_verify_one, raw, index, tags, keys))
    return results


def _verify_one(
    raw: bytes, index: int, tags: dict[bytes, bytes], keys: dict[bytes, bytes | None]
) -> DkimSignatureResult:
    domain = tags.get(b"d", b"").decode(errors="replace")
    selector = tags.get(b"s", b"").decode(errors="replace")
    name = f"{selector}._domainkey.{domain}".encode() + b"."
    if keys.get(name, b"") is None:
        return DkimSignatureResult(domain, selector, "temperror", f"the key lookup of {name.decode()} failed")

    def dnsfunc(qname: bytes, timeout: int = 5) -> bytes:  # dkimpy's signature
        key = qname if qname.endswith(b".") else qname + b"."
        return keys.get(key) or b""

    verifier = dkim.DKIM(raw)
    try:
        ok = verifier.verify(idx=index, dnsfunc=dnsfunc)
    except dkim.ValidationError as exc:
        reason = str(exc)
        if "body hash mismatch" in reason:
            reason = "the signature does not match the message: the body changed after signing"
        return DkimSignatureResult(domain, selector, "fail", reason)
    except dkim.DKIMException as exc:
        return DkimSignatureResult(domain, selector, "permerror", str(exc))
    except Exception as exc:  # dkimpy lets some parsing errors through as other types
        logger.info("DKIM verification error: %r", exc)
        return DkimSignatureResult(
            domain, selector, "permerror", f"the signature could not be checked ({exc})"
        )
    if ok:
        return DkimSignatureResult(domain, selector, "pass", "the signature verifies with the published key")
    if not keys.get(name):
        return DkimSignatureResult(
            domain, selector, "fail", f"no key is published at {name.decode().rstrip('.')}"
        )
    return DkimSignatureResult(
        domain,
        selector,
        "fail",
        "the signature does not match the message (body or headers changed, or the wrong key)",
    )


def header_from_domain(message: Message) -> tuple[str, str]:
    """(address, domain) of the single From address; ("", "") when there is not exactly one."""
    values = message.get_all("From") or []
    addresses = [a for _, a in email.utils.getaddresses([str(v) for v in values]) if a]
    if len(values) != 1 or len(addresses) != 1 or "@" not in addresses[0]:
        return "", ""
    return addresses[0], addresses[0].rpartition("@")[2].lower().rstrip(".")


async def evaluate_dmarc(
    message: Message, spf: SpfResult, signatures: list[DkimSignatureResult], lookup: Lookup
) -> DmarcEvaluation:
    address, from_domain = header_from_domain(message)
    if not from_domain:
        return DmarcEvaluation("fail", "The message must have exactly one From address.")
    record_text, record_domain, discovery_problem = await _dmarc_record(from_domain, lookup)
    adkim = aspf = "r"
    policy = ""
    if record_text:
        record = parse_dmarc(record_text)
        if record.valid:
            adkim, aspf = record.adkim, record.aspf
            policy = record.policy if record_domain == from_domain else record.subdomain_policy
    spf_aligned = spf.result == "pass" and aligned(spf.domain, from_domain, aspf)
    dkim_aligned = any(s.result == "pass" and aligned(s.domain, from_domain, adkim) for s in signatures)
    reasons = []
    if spf_aligned:
        reasons.append(f"SPF passed for {spf.domain}, aligned with {from_domain}")
    elif spf.result == "pass":
        reasons.append(
            f"SPF passed for {spf.domain}, which is not aligned with the From domain {from_domain}"
        )
    if dkim_aligned:
        reasons.append(f"a DKIM signature of {from_domain} verified")
    elif any(s.result == "pass" for s in signatures):
        signed = ", ".join(s.domain for s in signatures if s.result == "pass")
        reasons.append(f"DKIM verified for {signed}, which is not aligned with {from_domain}")
    result = "pass" if spf_aligned or dkim_aligned else "fail"
    if result == "fail" and not reasons:
        reasons.append(f"neither SPF nor DKIM passed for a domain aligned with {from_domain}")
    if discovery_problem:
        reasons.append(discovery_problem)
    elif not record_text:
        reasons.append(f"no DMARC record is published at _dmarc.{from_domain}")
    return DmarcEvaluation(
        result=result,
        reason="; ".join(reasons) + ".",
        header_from=address,
        from_domain=from_domain,
        record=record_text,
        record_domain=record_domain,
        policy=policy,
        spf_aligned=spf_aligned,
        dkim_aligned=dkim_aligned,
    )


async def _dmarc_record(from_domain: str, lookup: Lookup) -> tuple[str, str, str]:
    """(record, its domain, problem) for the From domain, falling back to its organisational
    domain only when the From domain has no record (§6.6.3 steps 2-4): several records at
    one name end policy discovery there, and receivers then apply no DMARC policy at all."""
    for domain in dict.fromkeys([from_domain, organizational_domain(from_domain)]):
        answer = await lookup(f"_dmarc.{domain}", "TXT")
        if answer.status in TEMPORARY or answer.status in EMPTY:
            continue
        records = [t for t in txt_records(answer) if is_dmarc_candidate(t)]
        if len(records) == 1:
            return records[0], domain, ""
        if len(records) > 1:
            return (
                "",
                domain,
                (f"_dmarc.{domain} holds {len(records)} DMARC records, so receivers apply none of them"),
            )
    return "", "", ""
