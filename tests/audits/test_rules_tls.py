"""Rules of tls.* (audits/rules/tls.py): a failing input per check id with its severity
and subject, the good store passes, and a handshake that could not be tested is
inconclusive."""

from __future__ import annotations

import datetime as dt

import pytest

from audits.facts import Unavailable, UnavailableKind, VerifyError
from audits.findings import Status
from audits.rules import evaluate
from audits.rules.tls import hostname_matches
from tests.audits.factories import DOMAIN, NOW, WWW, cert, failing, good_facts, outcome, tls, with_tls

G = good_facts()
APP = f"app.{DOMAIN}"

FAIL_CASES = [
    pytest.param(
        "tls.handshake_failed",
        with_tls(G, tls(APP, handshake_ok=False, cert=None, error="Connection refused on port 443")),
        "blocker",
        APP,
        id="no-tls",
    ),
    pytest.param(
        "tls.cert_expired", with_tls(G, tls(WWW, cert=cert(days_left=-2))), "blocker", WWW, id="expired"
    ),
    pytest.param(
        "tls.cert_expired",
        with_tls(G, tls(WWW, cert=cert(not_before=NOW + dt.timedelta(days=1)))),
        "blocker",
        WWW,
        id="not-yet-valid",
    ),
    pytest.param(
        "tls.cert_expiring", with_tls(G, tls(WWW, cert=cert(days_left=3))), "blocker", WWW, id="3-days"
    ),
    pytest.param(
        "tls.cert_expiring", with_tls(G, tls(WWW, cert=cert(days_left=10))), "high", WWW, id="10-days"
    ),
    pytest.param(
        "tls.cert_expiring", with_tls(G, tls(WWW, cert=cert(days_left=20))), "medium", WWW, id="20-days"
    ),
    pytest.param(
        "tls.hostname_mismatch",
        with_tls(G, tls(APP, cert=cert(host_names=(WWW,)))),
        "blocker",
        APP,
        id="other-name",
    ),
    pytest.param(
        "tls.hostname_mismatch",
        with_tls(G, tls(APP, verify_errors=[VerifyError.HOSTNAME_MISMATCH])),
        "blocker",
        APP,
        id="verify-reason",
    ),
    pytest.param(
        "tls.untrusted", with_tls(G, tls(WWW, cert=cert(self_signed=True))), "blocker", WWW, id="self-signed"
    ),
    pytest.param(
        "tls.untrusted",
        with_tls(G, tls(WWW, verify_errors=[VerifyError.UNTRUSTED])),
        "blocker",
        WWW,
        id="unknown-ca",
    ),
    pytest.param(
        "tls.chain_incomplete",
        with_tls(G, tls(WWW, verify_errors=[VerifyError.INCOMPLETE_CHAIN])),
        "high",
        WWW,
        id="no-intermediate",
    ),
    pytest.param("tls.legacy_protocol", with_tls(G, tls(WWW, tls10=True)), "medium", WWW, id="tls10"),
    pytest.param("tls.no_tls13", with_tls(G, tls(WWW, tls13=False)), "low", WWW, id="no-tls13"),
    pytest.param(
        "tls.weak_key",
        with_tls(G, tls(WWW, cert=cert(key_type="RSA", key_bits=1024))),
        "medium",
        WWW,
        id="rsa1024",
    ),
]


@pytest.mark.parametrize(("check", "facts", "severity", "subject"), FAIL_CASES)
def test_check_fails(check, facts, severity, subject) -> None:
    assert (check, severity, subject) in failing(facts, check)


@pytest.mark.parametrize("check", sorted({p.values[0] for p in FAIL_CASES}))
def test_good_store_passes(check) -> None:
    assert failing(G, check) == []
    assert outcome(G, check) == "pass"


BLOCKED = Unavailable("blocked by Cloudflare bot protection", UnavailableKind.BLOCKED)


@pytest.mark.parametrize(
    ("facts", "check", "subject"),
    [
        pytest.param(with_tls(G, tls(WWW, unavailable=BLOCKED)), "tls.handshake_failed", WWW, id="waf-tls"),
        pytest.param(
            with_tls(G, tls(WWW, tls10=None, tls11=None)), "tls.legacy_protocol", WWW, id="cannot-test-tls10"
        ),
    ],
)
def test_blocked_or_untestable_is_inconclusive(facts, check, subject) -> None:
    findings = evaluate(facts, NOW, [check]).findings
    assert [(f.status, f.subject) for f in findings] == [(Status.INCONCLUSIVE, subject)]


@pytest.mark.parametrize(
    ("host_name", "names", "expected"),
    [
        ("www.example.com", ["www.example.com"], True),
        ("shop.example.com", ["*.example.com"], True),
        ("example.com", ["*.example.com"], False),
        ("a.b.example.com", ["*.example.com"], False),
        ("WWW.Example.com.", ["www.example.com"], True),
    ],
)
def test_hostname_matches(host_name, names, expected) -> None:
    assert hostname_matches(host_name, names) is expected
