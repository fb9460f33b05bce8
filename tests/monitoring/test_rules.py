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


def test_uptime_bar_svg_draws_one_rect_per_day_with_its_title():
    from datetime import date

    from monitoring import charts

    today = date(2026, 11, 28)
    bars = charts.uptime_bars({today: (100, 10), date(2026, 11, 27): (100, 0)}, today)
    svg = str(charts.uptime_bar_svg(bars, 95.0))
    assert svg.count("<rect ") == 90
    assert svg.count('class="bar-down"') == 1 and svg.count('class="bar-up"') == 1
    assert svg.count('class="bar-none"') == 88
    assert "<title>28 Nov: 90.00% up</title>" in svg
    assert 'aria-label="Uptime over the last 90 days: 95.00%"' in svg
    assert "style=" not in svg  # the CSP forbids inline styles
