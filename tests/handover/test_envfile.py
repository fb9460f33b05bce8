"""handover.envfile: the env-file parser and the secret detector (pure functions)."""

from __future__ import annotations

import base64
import json
import random
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handover.envfile import (
    ExampleVariable,
    format_env_example,
    is_platform_name,
    looks_random,
    name_problem,
    parse_env,
    secret_reason,
    shannon_entropy,
    split_assignment,
)

# Made-up keys in the real formats. Built from pieces so that no scanner takes this
# file for a leak.
FAKE = {
    "stripe_live": "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "stripe_test": "sk_" + "test_" + "51H8xQ2eZvKYlo2C0abc",
    "stripe_restricted": "rk_" + "live_" + "51H8xQ2eZvKYlo2C",
    "aws": "AKIA" + "IOSFODNN7EXAMPLE",
    "aws_session": "ASIA" + "Z2QX7VJ4L3N5P6R8",
    "slack_bot": "xoxb-" + "123456789012-1234567890123-abcdefghij",
    "slack_user": "xoxp-" + "123456789012-abcdefghijkl",
    "github": "ghp_" + "16C7e42F292c6912E7710c838347Ae178B4a",
    "github_pat": "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnop",
    "gitlab": "glpat-" + "xYz12AbC34dEf56GhI78",
    "sendgrid": "SG." + "ngeVfQFYQlKU0ufo8x5d1A.TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr",
    "pem": "-----BEGIN " + "RSA PRIVATE KEY-----",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "url_password": "postgres://shop:" + "s3cr3t-pass" + "@db.internal:5432/shop",
    "redis_password": "redis://:" + "p4ssw0rd" + "@cache:6379/0",
    "password_assignment": "password" + "=hunter22",
    "random_base64": base64.b64encode(bytes(range(7, 247, 9))).decode(),
    "random_hex": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
    "shopify": "shpat_" + "0123456789abcdef0123456789abcdef",
    "slack_webhook": "https://hooks.slack.com/services/" + "T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "url_with_key": "https://api.example.com/v1/orders?api_key=" + "abcd1234efgh5678",
}

ORDINARY = [
    "The Postgres connection string used by the web and worker processes.",
    "Stripe secret key (starts with sk_live_), rotated by finance every quarter",
    "Publishable key pk_live_" + "51H8xQ2eZvKYlo2C0aBcDeFgHiJkLmNoPq is shown on the checkout page",
    "token: stored in Vercel project settings",
    "https://dashboard.stripe.com/apikeys",
    "See https://github.com/acme/shop/blob/main/docs/deploy.md#environment-variables for details",
    "postgres://app@db.internal:5432/shop",
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/shop/db-AbCdEf",
    "projects/acme-prod/secrets/stripe-key/versions/latest",
    "1Password vault Ops, item “Shop production”",
    "Doppler project shop, config prd",
    "ops-team@acme-store.example.com",
    "Rotated after the incident on 2024-03-02 by @maria",
    "NEXT_PUBLIC_FIREBASE_MESSAGING_SENDER_ID",
    "STRIPE_WEBHOOK_SIGNING_SECRET",
    "DatabaseConnectionString",
    "PostgreSQL14OnAWSRDSInstance",
    "release-2024-11-03-hotfix",
    "Set DEBUG=false in staging",
    "internationalization and localization settings for the storefront",
]


@pytest.mark.parametrize("kind", sorted(FAKE))
def test_secret_shapes_are_refused(kind):
    assert secret_reason(FAKE[kind])
    # Inside a sentence, too.
    assert secret_reason(f"old value was {FAKE[kind]} until March")


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_urls_and_identifiers_pass(text):
    assert secret_reason(text) is None


def test_the_reason_names_a_kind_never_the_text():
    for value in FAKE.values():
        reason = secret_reason(value)
        assert value not in reason and value[-8:] not in reason


def test_a_prefix_alone_is_not_a_secret_but_key_material_after_it_is():
    assert secret_reason("sk_live_") is None
    assert secret_reason("sk_live_x") is not None
    assert secret_reason("sk_" + "a1b2c3d4e5f6g7h8") is not None  # any sk_ key with material


def test_entropy_is_measured_in_bits_per_character():
    assert shannon_entropy("") == 0
    assert shannon_entropy("aaaa") == 0
    assert shannon_entropy("abcd") == pytest.approx(2.0)
    assert not looks_random("a" * 40)
    assert not looks_random("Ab1" * 4)  # too short


@pytest.mark.parametrize(
    "alphabet",
    [
        string.ascii_letters + string.digits,
        string.ascii_letters + string.digits + "-_",
        string.ascii_lowercase + string.digits,
        "0123456789abcdef",
        string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)",
    ],
)
def test_generated_keys_of_32_characters_or_more_are_refused(alphabet):
    rng = random.Random(alphabet)  # a fixed sample per alphabet
    keys = ["".join(rng.choice(alphabet) for _ in range(rng.randint(32, 64))) for _ in range(500)]
    missed = [k for k in keys if not secret_reason(k)]
    assert missed == []


def test_a_json_service_account_is_refused():
    blob = json.dumps({"type": "service_account", "private_key": FAKE["pem"] + "\\nMIIEv..."})
    assert secret_reason(blob)


def test_split_assignment_keeps_the_name_and_only_reports_the_value():
    assert split_assignment("DATABASE_URL=postgres://x") == split_assignment("  export DATABASE_URL = 'y'  ")
    split = split_assignment("export STRIPE_KEY=" + FAKE["stripe_live"])
    assert split.name == "STRIPE_KEY" and split.had_value
    assert split_assignment("EMPTY=").had_value is False
    assert split_assignment('EMPTY=""').had_value is False
    assert split_assignment("PLAIN").had_value is False
    assert split_assignment("API_HOST: api.example.com").name == "API_HOST"  # YAML style


@pytest.mark.parametrize(
    ("name", "fine"),
    [
        ("DATABASE_URL", True),
        ("_private", True),
        ("lower_case_ok", True),
        ("1STARTS_WITH_DIGIT", False),
        ("HAS-DASH", False),
        ("HAS SPACE", False),
        ("", False),
        ("A" * 129, False),
        (FAKE["aws"], False),  # a valid identifier, but a key
    ],
)
def test_names(name, fine):
    assert (name_problem(name) is None) is fine


def test_platform_names_are_recognised():
    assert is_platform_name("PATH") and is_platform_name("GITHUB_SHA") and is_platform_name("RUNNER_OS")
    assert not is_platform_name("DATABASE_URL")


ENV_TEXT = """\
# Shop settings (this header is separated by a blank line, so it is no purpose)

# The Postgres connection string
# used by web and worker
export DATABASE_URL="postgres://shop:very-secret@db/shop"
# Optional: error reporting
SENTRY_DSN=
REDIS_URL='redis://cache:6379/0' # inline comment, never a purpose
DEBUG = false
# OLD_KEY=do-not-keep
NEXT_PUBLIC_API=https://api.example.com

# Webhook signing (required)
STRIPE_WEBHOOK_SECRET=whsec_abc123
garbage line without equals
# secret in a comment: {stripe}
LEAKY_COMMENT=
PEM="-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASC
NOT_A_VARIABLE=inside-the-key
-----END PRIVATE KEY-----"
AFTER_PEM=1
DATABASE_URL=duplicate
""".replace("{stripe}", FAKE["stripe_live"])


def test_parse_keeps_names_and_comments_and_drops_values():
    parsed = parse_env(ENV_TEXT)
    by_name = {v.name: v for v in parsed.variables}
    assert list(by_name) == [
        "DATABASE_URL",
        "SENTRY_DSN",
        "REDIS_URL",
        "DEBUG",
        "NEXT_PUBLIC_API",
        "STRIPE_WEBHOOK_SECRET",
        "LEAKY_COMMENT",
        "PEM",
        "AFTER_PEM",
    ]
    assert by_name["DATABASE_URL"].purpose == "The Postgres connection string used by web and worker"
    assert by_name["DATABASE_URL"].required is True
    assert (by_name["SENTRY_DSN"].purpose, by_name["SENTRY_DSN"].required) == ("error reporting", False)
    assert by_name["REDIS_URL"].purpose == ""  # inline comments are not purposes
    assert by_name["NEXT_PUBLIC_API"].purpose == ""  # a commented-out assignment is not one either
    assert by_name["STRIPE_WEBHOOK_SECRET"].purpose == "Webhook signing"
    assert by_name["LEAKY_COMMENT"].purpose == ""
    # DATABASE_URL, REDIS_URL, DEBUG, OLD_KEY (commented out), NEXT_PUBLIC_API,
    # STRIPE_WEBHOOK_SECRET, PEM, AFTER_PEM, the duplicate DATABASE_URL.
    assert parsed.discarded_values == 9
    assert parsed.skipped_lines == (15,)
    assert parsed.refused_comments == (16,)
    assert parsed.duplicates == ("DATABASE_URL",)
    flat = repr(parsed)
    for value in (
        "very-secret",
        "redis://cache",
        "whsec_abc123",
        "MIIEvQ",
        "inside-the-key",
        FAKE["stripe_live"],
    ):
        assert value not in flat


def test_parse_handles_crlf_escaped_quotes_and_an_unclosed_quote():
    parsed = parse_env('A="x\\"y"\r\nB="unclosed\r\nC=3\r\n')
    assert [v.name for v in parsed.variables] == ["A", "B", "C"]
    assert parsed.discarded_values == 3


def test_export_format_reads_back():
    text = format_env_example(
        [ExampleVariable("DATABASE_URL", "Postgres", True), ExampleVariable("SENTRY_DSN", "", False)],
        header=["for shop.example.com"],
    )
    assert "DATABASE_URL=\n" in text and "# Postgres (required)" in text and "# (optional)" in text
    parsed = parse_env(text)
    assert [(v.name, v.purpose, v.required) for v in parsed.variables] == [
        ("DATABASE_URL", "Postgres", True),
        ("SENTRY_DSN", "", False),
    ]
    assert parsed.discarded_values == 0


names = st.from_regex(r"[A-Z_][A-Z0-9_]{0,30}", fullmatch=True).filter(lambda n: name_problem(n) is None)
purposes = st.text(alphabet=string.ascii_letters + " ,.", max_size=60).map(str.strip)


@given(st.lists(st.tuples(names, purposes, st.booleans()), max_size=20, unique_by=lambda t: t[0]))
def test_export_then_import_round_trips_names_purposes_and_need(rows):
    parsed = parse_env(format_env_example([ExampleVariable(*row) for row in rows]))
    # A purpose that reads as a generated key is not kept, but its required/optional note is.
    expected = [
        (name, "" if secret_reason(purpose) else purpose, required) for name, purpose, required in rows
    ]
    assert [(v.name, v.purpose, v.required) for v in parsed.variables] == expected
    assert parsed.discarded_values == 0
