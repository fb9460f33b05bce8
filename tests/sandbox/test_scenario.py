"""Scenario parsing: names, filled-in records and zones, latency shaping, the bundled files."""

import statistics

import pytest

from sandbox import Scenario, load_scenario
from sandbox.scenario import Latency
from sandbox.scenario_parse import _absolute


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("@", "shop.test"),
        ("www", "www.shop.test"),
        ("www.shop.test", "www.shop.test"),
        ("x.other.test.", "x.other.test"),
    ],
)
def test_record_names_follow_zone_file_rules(name, expected):
    assert _absolute(name, "shop.test") == expected


def quantile(values, q):
    ordered = sorted(values)
    return ordered[int(len(ordered) * q) - 1]


def test_lognormal_latency_hits_p50_and_p95_even_in_short_runs():
    latency = Latency.parse({"p50": 450, "p95": 1400}, "test")
    samples = [latency.sample_ms() for _ in range(20)]
    assert 380 <= statistics.median(samples) <= 540
    assert 1150 <= quantile(samples, 0.95) <= 1700
    many = [latency.sample_ms() for _ in range(400)]
    assert 1300 <= quantile(many, 0.95) <= 1500


def test_fixed_and_uniform_latency():
    assert Latency.parse(40, "t").sample_ms() == 40
    uniform = Latency.parse({"min": 10, "max": 20}, "t")
    samples = [uniform.sample_ms() for _ in range(50)]
    assert 10 <= min(samples) and max(samples) <= 20 and max(samples) - min(samples) > 8


def test_nameservers_hosts_and_registrations_are_filled_in():
    scenario = Scenario.from_dict(
        {
            "zones": {
                "shop.test": {
                    "nameservers": ["ns1.shop.test", {"name": "ns2.dnsco.test", "address": "127.77.60.1"}],
                    "records": [{"name": "www", "type": "AAAA", "value": "2001:db8::1"}],
                }
            },
            "hosts": [{"name": "www.shop.test"}, {"name": "cdn.provider.test", "dns": False}],
        }
    )
    zone = scenario.zones["shop.test"]
    assert [ns.address for ns in zone.nameservers] == ["127.77.53.1", "127.77.60.1"]
    a_records = {(r.name, tuple(r.values)) for r in zone.records if r.rtype == "A"}
    assert ("www.shop.test", ("127.77.1.1",)) in a_records  # an AAAA does not block the A
    assert ("ns1.shop.test", ("127.77.53.1",)) in a_records
    assert scenario.zones["dnsco.test"].implicit
    assert "provider.test" not in scenario.zones  # dns: false publishes nothing
    reg = scenario.registrations["shop.test"]
    assert "client transfer prohibited" in reg.status and reg.nameservers == [
        "ns1.shop.test",
        "ns2.dnsco.test",
    ]


def test_bundled_scenarios_load_and_keep_their_promises():
    broken = load_scenario("demo_broken")
    product = next(r for r in broken.host("broken-store.test").routes if r.path == "/products/*")
    assert (product.latency.p50_ms, product.latency.p95_ms) == (450, 1400)
    www_paths = [r.path for r in broken.host("www.broken-store.test").routes]
    assert www_paths[:4] == ["/", "/", "/home", "/home/"] and "/products/*" in www_paths  # spliced list
    assert broken.registrations["broken-store.test"].expires == "+5d"
    good = load_scenario("demo_good")
    assert all(h.cert.profile == "valid" for h in good.hosts if h.https)
    assert load_scenario("netlab").host("weak-key.lab.test").cert.profile == "weak_key"
