"""Pure check rules with literal inputs."""

import pytest

from monitoring.checks import rules


def test_parse_statuses():
    assert rules.parse_statuses("200-299, 301") == [(200, 299), (301, 301)]
    with pytest.raises(ValueError, match="not a status"):
        rules.parse_statuses("2xx")
    with pytest.raises(ValueError, match="outside"):
        rules.parse_statuses("99")


@pytest.mark.parametrize(
    ("kwargs", "ok", "message"),
    [
        ({"status": 200}, True, "Status 200"),
        ({"status": 502}, False, "Status 502 (expected 200-399)."),
        ({"status": None, "error_message": "Timed out after 10 s."}, False, "Timed out after 10 s."),
        ({"status": 200, "keyword": "Add to cart", "body_text": "sold out"}, False, "missing"),
        (
            {"status": 200, "keyword": "error", "keyword_mode": "absent", "body_text": "An ERROR occurred"},
            False,
            "found",
        ),
        ({"status": 200, "max_response_ms": 100, "elapsed_ms": 250}, False, "250 ms (limit 100 ms)"),
    ],
)
def test_evaluate_http(kwargs, ok, message):
    args = {
        "error_message": None,
        "body_text": "",
        "elapsed_ms": 10.0,
        "expected_statuses": "200-399",
    } | kwargs
    verdict = rules.evaluate_http(**args)
    assert verdict.ok is ok
    assert message in verdict.message


def test_evaluate_dns_expected_and_change():
    ok = rules.evaluate_dns(error_message=None, seen=("192.0.2.1",), expected=("192.0.2.1",), previous=())
    assert ok.ok
    bad = rules.evaluate_dns(error_message=None, seen=("192.0.2.9",), expected=("192.0.2.1",), previous=())
    assert not bad.ok and "expected 192.0.2.1" in bad.message
    changed = rules.evaluate_dns(
        error_message=None, seen=("b.example.",), expected=(), previous=("a.example",)
    )
    assert not changed.ok and "changed from a.example to b.example" in changed.message
    first = rules.evaluate_dns(error_message=None, seen=("a.example",), expected=(), previous=())
    assert first.ok
