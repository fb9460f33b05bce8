"""One cause, one incident: the words for an incident shared by several monitors. Pure.

A host-level cause has a key, ``"<kind>:<host>"`` (``checks.specs.Cause.key``); the
monitors failing with the same key in a workspace share one primary incident, whose
cause names the problem and lists them ("Certificate of www.shop.com expired:
Homepage, Cart and Checkout are down.").
"""

from __future__ import annotations

from .checks.specs import CauseKind

CAUSE_CHARS = 300  # Incident.cause

# What went wrong, as a headline, and what it costs and what to do, by kind of cause.
_HEADLINES = {
    CauseKind.CERT_EXPIRED: "Certificate of {host} expired",
    CauseKind.CERT_MISMATCH: "Certificate of {host} is for another name",
    CauseKind.CERT_UNTRUSTED: "Certificate of {host} is not trusted by browsers",
    CauseKind.TLS: "Secure connection (HTTPS) to {host} fails",
    CauseKind.TCP: "{host} does not answer",
    CauseKind.DNS: "{host} cannot be found in DNS",
}
_CERT_IMPACT = (
    "Browsers show a full-page security warning instead of your store, so visitors leave without buying "
    "while your ads keep spending.",
    "Renew or reinstall the certificate for this name with your host (or find out why automatic renewal "
    "failed); every monitor below recovers on its own once it is fixed.",
)
_IMPACTS = {
    CauseKind.CERT_EXPIRED: _CERT_IMPACT,
    CauseKind.CERT_MISMATCH: _CERT_IMPACT,
    CauseKind.CERT_UNTRUSTED: _CERT_IMPACT,
    CauseKind.TLS: (
        "Browsers cannot open a secure connection to your store, so nobody can shop.",
        "Check your host's status page and the HTTPS settings of your host or CDN.",
    ),
    CauseKind.TCP: (
        "Your server does not answer at all: nobody can shop, and every ad click is paid for nothing.",
        "Check your host's status page and whether the server is running; undo your latest change if it "
        "started after a deploy.",
    ),
    CauseKind.DNS: (
        "Browsers cannot find your store's address, so it is unreachable for everyone.",
        "Log in to your DNS provider and check the record for this name (and that the domain has not expired).",
    ),
}


def parse_key(key: str) -> tuple[CauseKind, str] | None:
    kind, _, host = key.partition(":")
    try:
        return CauseKind(kind), host
    except ValueError:
        return None


def headline(key: str) -> str:
    """``"tls-expired:www.shop.com"`` → ``"Certificate of www.shop.com expired"``; "" for no key."""
    parsed = parse_key(key)
    if parsed is None:
        return ""
    kind, host = parsed
    return _HEADLINES[kind].format(host=host)


def impact_and_action(key: str) -> tuple[str, str] | None:
    parsed = parse_key(key)
    return _IMPACTS[parsed[0]] if parsed else None


def listed(names: list[str]) -> str:
    """``["a", "b", "c"]`` → ``"a, b and c"``."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def group_cause(key: str, names: list[str], fallback: str) -> str:
    """The cause of a primary incident: the headline and the monitors it took down (≤ 300 characters)."""
    head = headline(key)
    if not head:
        return fallback[:CAUSE_CHARS]
    if not names:
        return f"{head}."[:CAUSE_CHARS]
    shown = list(names)
    while True:
        hidden = len(names) - len(shown)
        who = listed(shown + ([f"{hidden} more"] if hidden else []))
        verb = "is" if len(names) == 1 else "are"
        text = f"{head}: {who} {verb} down."
        if len(text) <= CAUSE_CHARS or len(shown) <= 1:
            return text[:CAUSE_CHARS]
        shown.pop()


def monitor_severity_reason(monitor_name: str) -> str:
    """Where an incident's severity comes from, when it is its monitor's (shown after "critical: ")."""
    return f"the {monitor_name} monitor's severity"[:200]


def expiry_severity_reason(what: str, days_left: float, threshold: int | None) -> str:
    if days_left <= 0:
        return f"the {what} has expired"
    return f"the {what} expires within {threshold} days"
