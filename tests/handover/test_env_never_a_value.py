"""Property: the env-var inventory never holds a value.

Hypothesis writes ``.env`` texts in every shape the import understands (``export``,
quotes, values over several lines, inline comments, commented-out assignments,
comments that are secrets) with generated values: plain ones carrying a unique
marker, and secret-shaped ones (key formats, PEM blocks, JWTs, URLs with a password,
generated keys). They go through the import page, and through the add form (as
``NAME=value`` in the name field, and as secret-shaped text in the free-text fields).
Afterwards no value may appear in any text column of the database, in any page
rendered on the way, or in the captured logs; every name must have been kept, and
comments directly above a name must have become its purpose.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.db import connection, models, transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handover.envfile import name_problem
from handover.models import EnvVar

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ALNUM = string.ascii_letters + string.digits


def _token(rng: random.Random, length: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


JWT_HEADER = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())


def _secret(kind: str, seed: int) -> tuple[str, str]:
    """A made-up secret of ``kind`` and its random core (what must never show up)."""
    rng = random.Random(seed)
    core = _token(rng, rng.randint(24, 40))
    if kind == "prefixed":
        prefix = rng.choice(["sk_live_", "sk_test_", "rk_live_", "xoxb-", "xoxp-", "ghp_", "glpat-", "SG."])
        return prefix + core, core
    if kind == "aws":
        core = _token(rng, 16, string.ascii_uppercase + string.digits)
        return rng.choice(["AKIA", "ASIA"]) + core, core
    if kind == "pem":
        lines = [_token(rng, 64, ALNUM + "+/") for _ in range(rng.randint(1, 3))]
        return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----", lines[0]
    if kind == "jwt":
        payload = _b64url(json.dumps({"sub": core}).encode())
        signature = _token(rng, 43, ALNUM + "-_")
        return f"{JWT_HEADER}.{payload}.{signature}", signature
    if kind == "url":
        password = _token(rng, rng.randint(8, 20))
        return f"postgres://shop:{password}@db.internal:5432/shop", password
    # A generated key: 40 to 64 characters of a common key alphabet.
    alphabet = rng.choice(
        [ALNUM, ALNUM + "-_", ALNUM + "+/", "0123456789abcdef", string.ascii_lowercase + string.digits]
    )
    key = _token(rng, rng.randint(40, 64), alphabet)
    return key, key


secrets_ = st.builds(
    _secret, st.sampled_from(["prefixed", "aws", "pem", "jwt", "url", "random"]), st.integers(0, 2**32)
)
printable = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(["\n", "\t", "\r", "\\"])
markers = st.integers(0, 2**48).map(lambda n: f"val-{n:012x}-ue")  # a "-": never part of a name


@st.composite
def plain_values(draw) -> tuple[str, str]:
    marker = draw(markers)
    value = draw(st.text(printable, max_size=8)) + marker + draw(st.text(printable, max_size=8))
    return value, marker


values = st.one_of(plain_values(), secrets_)  # (value, what must never show up)
names = st.from_regex(r"[A-Z][A-Z0-9_]{0,24}", fullmatch=True).filter(lambda n: name_problem(n) is None)
words = st.lists(
    st.sampled_from(
        ["Postgres", "connection", "string", "payments", "webhook", "signing", "used", "by", "the", "cache"]
    ),
    min_size=1,
    max_size=5,
).map(" ".join)


@dataclass
class EnvText:
    lines: list[str] = field(default_factory=list)
    needles: list[str] = field(default_factory=list)  # texts that must never be stored, shown or logged
    purposes: dict[str, str] = field(default_factory=dict)  # name → the purpose the import must keep
    discarded: int = 0


def _assignment(draw, name: str, value: str) -> str:
    style = draw(st.sampled_from(["plain", "export", "spaced", "double", "single", "inline"]))
    quoted = style in ("double", "single") or value[:1] in "\"'#" or value != value.strip()
    if quoted or "\n" in value or "\r" in value:
        if "'" in value or style == "double":
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            return f'{name}="{escaped}"'
        return f"{name}='{value}'"
    if style == "export":
        return f"export {name}={value}"
    if style == "spaced":
        return f"{name} = {value}"
    if style == "inline":
        return f"{name}={value} # {draw(words)}"
    return f"{name}={value}"


@st.composite
def env_texts(draw) -> EnvText:
    env = EnvText()
    for name in draw(st.lists(names, min_size=1, max_size=6, unique=True)):
        purpose: list[str] = []
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["words", "words", "secret", "commented-out"]))
            if kind == "words":
                purpose.append(draw(words))
                env.lines.append(f"# {purpose[-1]}")
            elif kind == "secret":
                secret, core = draw(secrets_)
                env.lines.append(f"# {secret.splitlines()[0]}")
                env.needles += [secret.splitlines()[0], core] if "\n" not in secret else [core]
            else:
                value, needle = draw(values)
                value = value.replace("\n", " ").replace("\r", " ").strip()
                env.lines.append(f"# {draw(names)}={value}")
                env.needles.append(needle)
                env.discarded += bool(value)
                purpose = []  # a commented-out line ends the comment block above a name
        if draw(st.booleans()) and draw(st.booleans()):
            env.lines.append("")  # a blank line: the comments above are not its purpose
            purpose = []
        if draw(st.integers(0, 5)) == 0:
            env.lines.append(f"{name}=")
        else:
            value, needle = draw(values)
            env.lines.append(_assignment(draw, name, value))
            env.needles.append(needle)
            env.discarded += bool(value)
        env.purposes[name] = " ".join(purpose)
    return env


def _database_text() -> str:
    """Every text column of every table, as one string."""
    tables = set(connection.introspection.table_names())
    text_fields = (models.CharField, models.TextField, models.JSONField)
    chunks = []
    for model in apps.get_models():
        if model._meta.db_table not in tables:
            continue
        columns = [f.attname for f in model._meta.concrete_fields if isinstance(f, text_fields)]
        if columns:
            chunks += [repr(row) for row in model.objects.values_list(*columns)]
    return "\n".join(chunks)


def _assert_nowhere(needles: list[str], *places: str) -> None:
    for needle in needles:
        for place in places:
            assert needle not in place


def _url(site, name: str = "env_overview") -> str:
    return reverse(name, kwargs={"workspace": site.workspace.uuid, "site": site.uuid})


def _pages(client, site) -> str:
    detail = reverse("site_detail", kwargs={"workspace": site.workspace.uuid, "site": site.uuid})
    pages = [client.get(_url(site), {"environment": env}) for env in ("production", "staging")]
    pages += [client.get(_url(site, "env_export"), {"environment": "production"}), client.get(detail)]
    assert all(p.status_code == 200 for p in pages)
    return "\n".join(p.content.decode() for p in pages)


SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_an_imported_env_file_leaves_no_value_anywhere(client_as, member, site, caplog):
    caplog.set_level("DEBUG")
    client = client_as(member)

    @SETTINGS
    @given(env_texts(), st.sampled_from(["production", "staging"]), st.sampled_from(["\n", "\r\n"]))
    def one_import(env, environment, newline):
        with transaction.atomic():
            response = client.post(
                _url(site, "env_import"),
                {"environment": environment, "text": newline.join(env.lines) + newline},
                follow=True,
            )
            page = response.content.decode()
            assert response.status_code == 200
            if env.discarded:
                noun = "value was" if env.discarded == 1 else "values were"
                assert f"{env.discarded} {noun} discarded; only names were kept." in page
            stored = {v.name: v.purpose for v in EnvVar.objects.filter(site=site, environment=environment)}
            assert stored == env.purposes
            _assert_nowhere(env.needles, page, _pages(client, site), _database_text(), caplog.text)
            transaction.set_rollback(True)

    one_import()


@dataclass
class FormPost:
    data: dict
    name: str
    needles: list[str]
    has_secret: bool  # a free-text field holds a secret: the form must refuse it


@st.composite
def form_posts(draw) -> FormPost:
    name = draw(names)
    value, needle = draw(values)
    data = {
        "environment": draw(st.sampled_from(["production", "Staging"])),
        "name": f"{draw(st.sampled_from(['', 'export ']))}{name}={value}",
        "required": draw(st.sampled_from(["true", "false"])),
        "storage": draw(st.sampled_from(["", "hosting", "secret_manager", "other"])),
    }
    needles = [needle]
    secret_fields = draw(
        st.sets(st.sampled_from(["purpose", "storage_detail", "owner", "notes", "environment"]))
    )
    for field_name in ("purpose", "storage_detail", "owner", "notes"):
        data[field_name] = draw(words)
    for field_name in secret_fields:
        secret, core = draw(secrets_)
        data[field_name] = draw(st.sampled_from(["{}", "see {}", "{} (old)"])).format(secret)
        needles += [secret, core]
    return FormPost(data, name, needles, bool(secret_fields))


def test_the_add_form_keeps_no_value_and_no_secret(client_as, member, site, caplog):
    caplog.set_level("DEBUG")
    client = client_as(member)

    @SETTINGS
    @given(form_posts())
    def one_post(post):
        with transaction.atomic():
            response = client.post(_url(site, "env_variable_add"), post.data, follow=True)
            page = response.content.decode()
            if post.has_secret:
                assert response.status_code == 400 and "This looks like a secret" in page
                assert not EnvVar.objects.filter(site=site).exists()
            else:
                assert response.status_code == 200
                assert EnvVar.objects.filter(site=site, name=post.name).exists()
                assert f"The value after “=” was discarded; only the name {post.name} was kept." in page
            _assert_nowhere(post.needles, page, _pages(client, site), _database_text(), caplog.text)
            transaction.set_rollback(True)

    one_post()
