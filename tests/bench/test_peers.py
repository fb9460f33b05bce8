"""The peers benchmark's pure helpers: each tool's output read into the same answers as
ours, and the differences between them (shapes taken from real runs of the tools)."""

from __future__ import annotations

from audits.facts import TlsFacts, VerifyError
from audits.facts.email import DmarcFacts, EmailFacts, MxFacts, SpfFacts
from bench import peers


def make_testssl_entries(chain: str, expiration: str, trust: str = "Ok via SAN (same w/o SNI)") -> list[dict]:
    return [
        {"id": "SSLv3", "severity": "OK", "finding": "not offered"},
        {"id": "TLS1", "severity": "LOW", "finding": "offered (deprecated)"},
        {"id": "TLS1_1", "severity": "OK", "finding": "not offered"},
        {"id": "TLS1_3", "severity": "OK", "finding": "offered with final"},
        {"id": "cert_trust <hostCert#1>", "severity": "OK", "finding": trust},
        {"id": "cert_chain_of_trust <hostCert#1>", "severity": "OK", "finding": chain},
        {"id": "cert_expirationStatus <hostCert#1>", "severity": "OK", "finding": expiration},
        # A second certificate's line must not override the first one's.
        {"id": "cert_chain_of_trust <hostCert#2>", "severity": "CRITICAL", "finding": "failed (expired)."},
    ]


def test_testssl_answers_read_protocols_and_the_first_certificate():
    answers = peers.testssl_answers(make_testssl_entries("passed.", "59 >= 30 days"))
    assert answers["TLS 1.0 accepted"] is True
    assert answers["TLS 1.1 accepted"] is False
    assert answers["TLS 1.3 accepted"] is True
    assert answers["certificate trusted"] is True
    assert answers["why"] == ""


def test_testssl_answers_an_expired_or_misnamed_certificate_is_not_trusted():
    answers = peers.testssl_answers(
        make_testssl_entries("failed (expired).", "expired", trust="certificate does not match supplied URI")
    )
    assert answers["certificate trusted"] is False
    assert "chain of trust: failed (expired)." in answers["why"]
    assert "name: certificate does not match supplied URI" in answers["why"]


def test_testssl_answers_unknown_when_a_line_is_missing():
    answers = peers.testssl_answers([{"id": "TLS1", "finding": "test skipped"}])
    assert answers["TLS 1.0 accepted"] is None
    assert answers["certificate trusted"] is None


def make_sslyze_scan(trusted: bool, error: str | None) -> dict:
    def versions(supported: bool) -> dict:
        return {"status": "COMPLETED", "result": {"is_tls_version_supported": supported}}

    stores = [
        {"trust_store": {"name": "Mozilla"}, "was_validation_successful": False, "validation_error": "x"},
        {
            "trust_store": {"name": "Supplied CA file"},
            "was_validation_successful": trusted,
            "validation_error": error,
        },
    ]
    return {
        "server_location": {"hostname": "expired.tls-peers.test"},
        "scan_result": {
            "tls_1_0_cipher_suites": versions(False),
            "tls_1_1_cipher_suites": {"status": "ERROR", "result": None},
            "tls_1_3_cipher_suites": versions(True),
            "certificate_info": {
                "status": "COMPLETED",
                "result": {"certificate_deployments": [{"path_validation_results": stores}]},
            },
        },
    }


def test_sslyze_answers_judge_trust_by_the_supplied_ca_file_only():
    answers = peers.sslyze_answers(make_sslyze_scan(True, None))
    assert answers["certificate trusted"] is True  # the public stores do not know the sandbox CA
    assert answers["TLS 1.0 accepted"] is False
    assert answers["TLS 1.1 accepted"] is None  # the scan of that version failed: no answer
    assert answers["TLS 1.3 accepted"] is True
    expired = peers.sslyze_answers(
        make_sslyze_scan(False, "validation failed: cert is not valid at validation time")
    )
    assert expired["certificate trusted"] is False
    assert "not valid at validation time" in expired["why"]


def test_checkdmarc_answers_and_ours_agree_on_a_good_domain():
    theirs = peers.checkdmarc_answers(
        {
            "domain": "mail-good.test",
            "spf": {
                "record": "v=spf1 include:_spf.mail-good.test -all",
                "valid": True,
                "dns_lookups": 1,
                "parsed": {"all": "fail"},
            },
            "dmarc": {"record": "v=DMARC1; p=reject", "valid": True, "tags": {"p": {"value": "reject"}}},
            "mx": {"hosts": [{"preference": 10, "hostname": "mx.mail-good.test"}]},
        }
    )
    ours = peers.our_mail_answers(
        EmailFacts(
            domain="mail-good.test",
            spf=SpfFacts(
                domain="mail-good.test",
                records=["v=spf1 include:_spf.mail-good.test -all"],
                all_qualifier="-",
                lookup_count=1,
            ),
            dmarc=DmarcFacts(domain="mail-good.test", records=["v=DMARC1; p=reject"], policy="reject"),
            mx=MxFacts(domain="mail-good.test", hosts=["10 mx.mail-good.test."]),
        )
    )
    assert theirs["SPF all qualifier"] == ours["SPF all qualifier"] == "-"
    assert peers.differences("checkdmarc", peers.MAIL_QUESTIONS, {"d": theirs}, {"d": ours}) == []


def test_two_spf_records_differ_in_found_and_over_ten_lookups_is_invalid():
    theirs = peers.checkdmarc_answers(
        {
            "domain": "mail-broken.test",
            "spf": {"record": None, "valid": False, "error": "The domain has multiple SPF TXT records"},
            "dmarc": {"record": "v=DMARC1; p=block", "valid": False, "error": "Tag p must have one of …"},
            "mx": {"hosts": []},
        }
    )
    two = SpfFacts(domain="mail-broken.test", records=["v=spf1 -all", "v=spf1 ~all"], all_qualifier="-")
    ours = peers.our_mail_answers(EmailFacts(domain="mail-broken.test", spf=two))
    assert ours["SPF valid"] is False and "2 SPF records" in ours["why"]
    found = peers.differences("checkdmarc", peers.MAIL_QUESTIONS, {"b": theirs}, {"b": ours})
    assert [(d["subject"], d["question"], d["checkdmarc"], d["ours"]) for d in found] == [
        ("b", "SPF found", False, True),
        ("b", "DMARC found", True, False),
    ]
    many = SpfFacts(domain="x.test", records=["v=spf1 -all"], all_qualifier="-", lookup_count=11)
    answers = peers.our_mail_answers(EmailFacts(domain="x.test", spf=many))
    assert answers["SPF valid"] is False
    assert "11 DNS lookups (limit 10)" in answers["why"]


def test_our_tls_answers_a_refused_certificate_is_not_trusted_and_unknown_stays_unknown():
    refused = TlsFacts(
        host="expired.tls-peers.test",
        handshake_ok=True,
        verify_errors=[VerifyError.EXPIRED],
        error="The certificate expired.",
        tls10=None,
        tls11=False,
        tls13=True,
        protocol_reason="this machine's OpenSSL cannot offer TLS 1.0",
    )
    answers = peers.our_tls_answers(refused)
    assert answers["certificate trusted"] is False
    assert answers["TLS 1.0 accepted"] is None
    assert "OpenSSL" in answers["why"]


def test_the_peers_requirements_are_pinned():
    lines = peers.requirement_lines()
    assert {line.split("==")[0] for line in lines} == {"sslyze", "checkdmarc"}
    assert all("==" in line for line in lines)


def test_a_missing_peer_is_reported_with_its_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no testssl.sh on this PATH
    peer = peers.run_testssl({"valid.tls-peers.test": "127.77.1.1"}, 443, "ca.pem", tmp_path)
    assert "apt-get install -y testssl.sh" in peer["missing"]
    entry = peers._entry("testssl.sh", peers.TLS_QUESTIONS, ["valid.tls-peers.test"], peer, {}, 0.2)
    assert entry["seconds"] is None
    assert entry["missing"] == peer["missing"]
    assert entry["differences"] == []
