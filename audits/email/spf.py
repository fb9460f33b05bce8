"""SPF records (RFC 7208): record selection, a strict parser and macro expansion.

Pure code, no I/O. The evaluator (``spf_eval``) and the audit expansion
(``spf_expand``) both build on it, so a record is judged by one grammar everywhere.
Syntax errors carry a precise sentence naming the offending term, because "SPF
syntax error" alone does not tell a founder what to change.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import urllib.parse
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
# Terms that cost a DNS query and count toward the limit of 10 (RFC 7208 §4.6.4).
DNS_TERMS = frozenset({"include", "a", "mx", "ptr", "exists", "redirect"})
QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
LOOKUP_LIMIT = 10
VOID_LIMIT = 2
MAX_DOMAIN_LENGTH = 253

_VERSION_RE = re.compile(r"^v=spf1(?: |$)", re.IGNORECASE)
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*$")
_MACRO_RE = re.compile(r"%\{([A-Za-z])([0-9]*)(r?)([.\-+,/_=]*)\}", re.IGNORECASE)
_MACRO_LETTERS = "slodiphcrtv"
_EXP_ONLY_LETTERS = "crt"
_CIDR4 = r"(?:/(0|[1-9][0-9]?))"
_CIDR6 = r"(?://(0|[1-9][0-9]{0,2}))"
_DUAL_CIDR_RE = re.compile(rf"^(.*?){_CIDR4}?{_CIDR6}?$", re.DOTALL)
_TOPLABEL_RE = re.compile(r"^(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])$")


class SpfSyntaxError(ValueError):
    """The record does not follow RFC 7208 (a permerror). ``term`` is the offending text."""

    def __init__(self, message: str, term: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.term = term


@dataclass(frozen=True)
class Term:
    """One mechanism or modifier, as written."""

    raw: str
    name: str  # lower case: "ip4", "include", "redirect", or an unknown modifier's name
    is_modifier: bool = False
    qualifier: str = "+"
    value: str = ""  # domain-spec / macro-string / network, without CIDR suffixes
    cidr4: int | None = None
    cidr6: int | None = None

    @property
    def result(self) -> str:
        return QUALIFIERS[self.qualifier]

    @property
    def queries_dns(self) -> bool:
        return self.name in DNS_TERMS

    @property
    def has_macros(self) -> bool:
        return "%{" in self.value


@dataclass(frozen=True)
class SpfRecord:
    raw: str
    mechanisms: tuple[Term, ...] = ()
    redirect: Term | None = None
    exp: Term | None = None
    modifiers: tuple[Term, ...] = field(default=())  # all modifiers, unknown ones included

    @property
    def all_term(self) -> Term | None:
        return next((t for t in self.mechanisms if t.name == "all"), None)

    @property
    def dns_term_count(self) -> int:
        """DNS-querying terms in this record alone (includes not followed)."""
        return sum(1 for t in self.mechanisms if t.queries_dns) + (1 if self.redirect else 0)


def is_spf_record(text: str) -> bool:
    """``v=spf1`` followed by a space or the end, case-insensitively (§4.5)."""
    return bool(_VERSION_RE.match(text))


def select_spf(txt_records: list[str]) -> list[str]:
    """The SPF records among a name's TXT records (§4.5); more than one is a permerror."""
    return [t for t in txt_records if is_spf_record(t)]


def parse_record(text: str) -> SpfRecord:
    """Parse a whole record; raise ``SpfSyntaxError`` on the first problem (§4.6)."""
    if not is_spf_record(text):
        raise SpfSyntaxError("The record does not start with v=spf1.", text[:20])
    try:
        text.encode("ascii")
    except UnicodeEncodeError:
        bad = next(word for word in text.split(" ") if not word.isascii())
        raise SpfSyntaxError(
            "The record contains non-ASCII characters, which SPF does not allow.", bad
        ) from None
    mechanisms: list[Term] = []
    modifiers: list[Term] = []
    redirect = exp = None
    for raw in text.split(" ")[1:]:
        if raw == "":
            continue  # runs of spaces are allowed between terms
        term = parse_term(raw)
        if term.is_modifier:
            if term.name == "redirect":
                if redirect is not None:
                    raise SpfSyntaxError("The record has more than one redirect= modifier.", raw)
                redirect = term
            elif term.name == "exp":
                if exp is not None:
                    raise SpfSyntaxError("The record has more than one exp= modifier.", raw)
                exp = term
            modifiers.append(term)
        else:
            mechanisms.append(term)
    return SpfRecord(
        raw=text, mechanisms=tuple(mechanisms), redirect=redirect, exp=exp, modifiers=tuple(modifiers)
    )


def parse_term(raw: str) -> Term:
    qualifier = "+"
    body = raw
    if body[:1] in QUALIFIERS:
        qualifier, body = body[0], body[1:]
    # A modifier is "name=" with the '=' before any ':' or '/' (§4.6.1).
    match = re.match(r"^([^:/=]*)=", body)
    if match:
        if raw[:1] in QUALIFIERS:
            raise SpfSyntaxError("A modifier cannot have a qualifier (+, -, ~, ?).", raw)
        return _parse_modifier(raw, match.group(1), body[match.end() :])
    name, sep, rest = _split_mechanism(body)
    lname = name.lower()
    if lname not in MECHANISMS:
        raise SpfSyntaxError(f"Unknown mechanism “{name}”.", raw)
    if lname == "all":
        if sep:
            raise SpfSyntaxError("“all” takes no argument.", raw)
        return Term(raw=raw, name="all", qualifier=qualifier)
    if lname in ("ip4", "ip6"):
        return _parse_ip(raw, lname, qualifier, sep, rest)
    if lname in ("include", "exists"):
        if sep != ":" or not rest:
            raise SpfSyntaxError(f"“{lname}” needs a domain, as in {lname}:example.com.", raw)
        check_domain_spec(rest, raw)
        return Term(raw=raw, name=lname, qualifier=qualifier, value=rest)
    # a, mx, ptr: optional ":domain-spec", then CIDR lengths (not for ptr).
    domain, cidr4, cidr6 = rest, None, None
    if lname in ("a", "mx"):
        tail = (sep + rest) if sep == "/" else rest
        domain, cidr4, cidr6 = _split_dual_cidr(tail, raw)
        if sep == "/":
            if domain:
                raise SpfSyntaxError("Invalid CIDR length (IPv4 /0–/32, IPv6 //0–//128).", raw)
            domain = ""
    elif sep == "/":
        raise SpfSyntaxError("“ptr” does not take a CIDR length.", raw)
    if sep == ":" and not domain:
        raise SpfSyntaxError(f"“{lname}:” is followed by an empty domain.", raw)
    if domain:
        check_domain_spec(domain, raw)
    return Term(raw=raw, name=lname, qualifier=qualifier, value=domain, cidr4=cidr4, cidr6=cidr6)


def _split_mechanism(body: str) -> tuple[str, str, str]:
    match = re.match(r"^([A-Za-z0-9]*)([:/]?)(.*)$", body, re.DOTALL)
    if not match:
        raise SpfSyntaxError(f"“{body}” is not a valid mechanism.", body)
    name, sep, rest = match.groups()
    if not sep and rest:
        raise SpfSyntaxError(f"“{body}” is not a valid mechanism.", body)
    return name, sep, rest


def _split_dual_cidr(text: str, raw: str) -> tuple[str, int | None, int | None]:
    match = _DUAL_CIDR_RE.match(text)
    assert match is not None  # the pattern accepts every string
    domain, c4, c6 = match.group(1), match.group(2), match.group(3)
    cidr4 = int(c4) if c4 is not None else None
    cidr6 = int(c6) if c6 is not None else None
    if cidr4 is not None and cidr4 > 32:
        raise SpfSyntaxError("An IPv4 CIDR length must be between 0 and 32.", raw)
    if cidr6 is not None and cidr6 > 128:
        raise SpfSyntaxError("An IPv6 CIDR length must be between 0 and 128.", raw)
    return domain, cidr4, cidr6


def _parse_ip(raw: str, name: str, qualifier: str, sep: str, rest: str) -> Term:
    if sep != ":" or not rest:
        raise SpfSyntaxError(f"“{name}” needs an address, as in {name}:192.0.2.1.", raw)
    address, _, length = rest.partition("/")
    cidr: int | None = None
    if length or rest.endswith("/"):
        limit = 32 if name == "ip4" else 128
        if not re.fullmatch(r"0|[1-9][0-9]*", length) or int(length) > limit:
            raise SpfSyntaxError(f"Invalid CIDR length “/{length}” (0–{limit}).", raw)
        cidr = int(length)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise SpfSyntaxError(
            f"“{address}” is not a valid {'IPv4' if name == 'ip4' else 'IPv6'} address.", raw
        ) from None
    if (name == "ip4") != (ip.version == 4):
        raise SpfSyntaxError(
            f"“{address}” is not a valid {'IPv4' if name == 'ip4' else 'IPv6'} address.", raw
        )
    if name == "ip4" and not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", address):
        raise SpfSyntaxError(f"“{address}” is not a valid IPv4 address.", raw)
    if name == "ip4":
        return Term(raw=raw, name=name, qualifier=qualifier, value=address, cidr4=cidr)
    return Term(raw=raw, name=name, qualifier=qualifier, value=address, cidr6=cidr)


def _parse_modifier(raw: str, name: str, value: str) -> Term:
    if not _NAME_RE.match(name):
        raise SpfSyntaxError(f"“{name}” is not a valid modifier name.", raw)
    lname = name.lower()
    if lname in ("redirect", "exp"):
        if not value:
            raise SpfSyntaxError(f"“{lname}=” needs a domain.", raw)
        check_domain_spec(value, raw)
    else:
        check_macro_string(value, raw, allow_exp_letters=False)
    return Term(raw=raw, name=lname, is_modifier=True, value=value)


def check_macro_string(text: str, raw: str, allow_exp_letters: bool) -> None:
    """Validate ``macro-string``: literals are %x21-7E except '%', which starts a macro (§7.1)."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%":
            nxt = text[i + 1 : i + 2]
            if nxt in ("%", "_", "-"):
                i += 2
                continue
            match = _MACRO_RE.match(text, i)
            if nxt != "{" or not match:
                raise SpfSyntaxError("A “%” must start a macro such as %{d}, or be written %%.", raw)
            letter = match.group(1).lower()
            if letter not in _MACRO_LETTERS or (letter in _EXP_ONLY_LETTERS and not allow_exp_letters):
                raise SpfSyntaxError(f"Unknown macro letter “{match.group(1)}”.", raw)
            i = match.end()
            continue
        if not ("\x21" <= ch <= "\x7e"):
            raise SpfSyntaxError("The record contains a character SPF does not allow.", raw)
        i += 1


def check_domain_spec(spec: str, raw: str) -> None:
    """``domain-spec = macro-string domain-end`` (§7.1)."""
    check_macro_string(spec, raw, allow_exp_letters=False)
    if spec.endswith("}") or spec.endswith("}."):
        if _MACRO_RE.search(spec):
            return  # ends in a macro-expand
    labels = spec.rstrip(".").split(".") if spec.endswith(".") else spec.split(".")
    if len(labels) < 2 or not _TOPLABEL_RE.match(labels[-1]):
        raise SpfSyntaxError(f"“{spec}” is not a valid domain name.", raw)


# --- macro expansion (§7) -------------------------------------------------------------


@dataclass(frozen=True)
class MacroContext:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    sender: str  # full sender, "local@domain"
    domain: str  # current <domain>
    helo: str = ""
    receiver: str = "unknown"
    validated_name: str = "unknown"  # the %{p} value, computed by the evaluator when needed
    timestamp: int = 0


def expand(text: str, ctx: MacroContext, exp: bool = False) -> str:
    """Expand macros in a macro-string (already validated by the parser)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt == "%":
            out.append("%")
        elif nxt == "_":
            out.append(" ")
        elif nxt == "-":
            out.append("%20")
        else:
            match = _MACRO_RE.match(text, i)
            if not match:
                raise SpfSyntaxError("Invalid macro.", text)
            out.append(_expand_one(match, ctx, exp))
            i = match.end()
            continue
        i += 2
    return "".join(out)


def _expand_one(match: re.Match[str], ctx: MacroContext, exp: bool) -> str:
    letter, digits, reverse, delimiters = match.groups()
    low = letter.lower()
    if low in _EXP_ONLY_LETTERS and not exp:
        raise SpfSyntaxError(f"The macro %{{{letter}}} is only allowed in explanations.", match.group(0))
    local, _, sender_domain = ctx.sender.rpartition("@")
    values = {
        "s": ctx.sender,
        "l": local or "postmaster",
        "o": sender_domain,
        "d": ctx.domain,
        "i": _ip_macro(ctx.ip),
        "p": ctx.validated_name,
        "v": "in-addr" if ctx.ip.version == 4 else "ip6",
        "h": ctx.helo,
        "c": str(ctx.ip),
        "r": ctx.receiver,
        "t": str(ctx.timestamp),
    }
    value = values[low]
    parts = re.split("[" + re.escape(delimiters or ".") + "]", value)
    if reverse:
        parts.reverse()
    if digits:
        count = int(digits)
        if count == 0:
            raise SpfSyntaxError("A macro cannot keep zero labels.", match.group(0))
        parts = parts[-count:]
    result = ".".join(parts)
    if letter.isupper():
        result = urllib.parse.quote(result, safe="-._~")
    return result


def _ip_macro(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if ip.version == 4:
        return str(ip)
    return ".".join(ip.exploded.replace(":", ""))


def truncate_domain(name: str) -> str:
    """Drop left-hand labels until the name fits in 253 characters (§7.3)."""
    name = name.rstrip(".")
    while len(name) > MAX_DOMAIN_LENGTH and "." in name:
        name = name.split(".", 1)[1]
    return name


def valid_hostname(name: str) -> bool:
    """A fully qualified name with labels of 1–63 characters (§4.3)."""
    name = name.rstrip(".")
    if not name or len(name) > MAX_DOMAIN_LENGTH or "." not in name:
        return False
    labels = name.split(".")
    return all(0 < len(label) <= 63 for label in labels) and bool(_TOPLABEL_RE.match(labels[-1]))
