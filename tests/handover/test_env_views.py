"""The env-var inventory pages: list, add, edit, remove, import, export, diff, copy."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from handover.models import EnvCheck, EnvVar

pytestmark = pytest.mark.django_db

STRIPE_LIVE = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"


def url(site, name: str = "env_overview", **kwargs) -> str:
    return reverse(name, kwargs={"workspace": site.workspace.uuid, "site": site.uuid, **kwargs})


def add_data(**fields) -> dict:
    data = {"environment": "production", "name": "DATABASE_URL", "required": "true", "storage": ""}
    data.update(fields)
    return data


def test_the_page_lists_one_environment_with_tabs_diff_and_ci_steps(client_as, member, site, env_vars):
    response = client_as(member).get(url(site), {"environment": "production"})
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("DATABASE_URL", "STRIPE_SECRET_KEY", "SENTRY_DSN", "Postgres connection string"):
        assert name in page
    assert "Not recorded" in page  # STRIPE_SECRET_KEY: required, no storage place
    assert "staging <span" in page  # the tab
    # The diff against staging, both ways.
    diff = page[page.index('id="diff"') :]
    assert "STRIPE_SECRET_KEY" in diff and "STAGING_ONLY" in diff
    # The CI steps carry the site and the environment, names only.
    assert str(site.uuid) in page and "compgen -e" in page and "jq -e .ok" in page
    assert "${{ secrets.LAUNCHREADY_TOKEN }}" in page
    assert " env |" not in page and "printenv" not in page


def test_the_page_lists_in_a_fixed_number_of_queries(
    client_as, member, site, env_vars, django_assert_max_num_queries
):
    client = client_as(member)
    client.get(url(site))  # warm the session
    counts = []
    for extra in (0, 30):
        EnvVar.objects.bulk_create(
            [EnvVar(site=site, environment="production", name=f"EXTRA_{extra}_{i}") for i in range(extra)]
        )
        EnvCheck.objects.bulk_create(
            [EnvCheck(site=site, environment="production", names_count=1, ok=True) for _ in range(extra)]
        )
        # One query per part of the page, however many rows it shows (the header's
        # workspace switcher comes from the cache after the warm-up; the session too when the
        # cache is Redis: 7 then).
        with django_assert_max_num_queries(8) as counted:
            assert client.get(url(site), {"environment": "production"}).status_code == 200
        counts.append(len(counted.captured_queries))
    assert counts[0] == counts[1]


def test_a_member_adds_a_variable(client_as, member, site):
    response = client_as(member).post(
        url(site, "env_variable_add"),
        add_data(purpose="Postgres", storage="secret_manager", storage_detail="Doppler prd", owner="Ops"),
        follow=True,
    )
    assert response.status_code == 200
    var = EnvVar.objects.get(site=site)
    assert (var.environment, var.name, var.required, var.storage) == (
        "production",
        "DATABASE_URL",
        True,
        "secret_manager",
    )
    assert "DATABASE_URL added in production." in response.content.decode()


def test_a_pasted_name_value_keeps_the_name_with_a_visible_warning(client_as, member, site):
    value = "postgres://shop:" + "Tr0ub4dor" + "@db.internal/shop"
    response = client_as(member).post(
        url(site, "env_variable_add"), add_data(name=f"export DATABASE_URL={value}"), follow=True
    )
    page = response.content.decode()
    assert EnvVar.objects.get(site=site).name == "DATABASE_URL"
    assert "The value after “=” was discarded; only the name DATABASE_URL was kept." in page
    assert "Tr0ub4dor" not in page


@pytest.mark.parametrize("field", ["purpose", "storage_detail", "owner", "notes", "environment"])
def test_a_secret_in_any_field_is_refused_and_never_shown_again(client_as, member, site, field, caplog):
    caplog.set_level("DEBUG")
    response = client_as(member).post(
        url(site, "env_variable_add"), add_data(**{field: f"key {STRIPE_LIVE}"}), follow=True
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "This looks like a secret (a Stripe secret or restricted key), so it was not saved." in page
    assert STRIPE_LIVE not in page and "4eC39HqLyjWDarjtT1zdp7dc" not in page
    assert STRIPE_LIVE not in caplog.text
    assert not EnvVar.objects.exists()


def test_a_secret_pasted_as_the_name_is_refused_and_not_shown(client_as, member, site):
    response = client_as(member).post(url(site, "env_variable_add"), add_data(name=STRIPE_LIVE))
    page = response.content.decode()
    assert response.status_code == 400 and "looks like a secret" in page
    assert STRIPE_LIVE not in page


def test_an_invalid_choice_is_not_echoed(client_as, member, site):
    response = client_as(member).post(url(site, "env_variable_add"), add_data(storage=STRIPE_LIVE[:-1] + "X"))
    assert response.status_code == 400
    assert "Choose one of the listed places." in response.content.decode()
    assert STRIPE_LIVE[:-1] not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("1ABC", "does not start with a digit"),
        ("HAS SPACE", "letters, digits and underscores"),
        ("A" * 200, "at most 128 characters"),
        ("", "Enter the variable"),
    ],
)
def test_names_are_validated(client_as, member, site, name, message):
    response = client_as(member).post(url(site, "env_variable_add"), add_data(name=name))
    assert response.status_code == 400 and message in response.content.decode()


def test_a_name_is_unique_per_site_and_environment(client_as, member, site, env_vars):
    client = client_as(member)
    response = client.post(url(site, "env_variable_add"), add_data(name="DATABASE_URL=x"))
    assert (
        response.status_code == 400
        and "DATABASE_URL is already listed for production." in response.content.decode()
    )
    assert client.post(url(site, "env_variable_add"), add_data(environment="preview")).status_code == 302


def test_other_needs_a_place(client_as, member, site):
    response = client_as(member).post(url(site, "env_variable_add"), add_data(storage="other"))
    assert response.status_code == 400 and "Say where" in response.content.decode()


def test_edit_and_remove(client_as, member, site, env_vars):
    var = env_vars["production:STRIPE_SECRET_KEY"]
    client = client_as(member)
    edit = url(site, "env_variable_edit", envvar=var.uuid)
    assert client.get(edit).status_code == 200
    data = add_data(
        name="STRIPE_SECRET_KEY",
        required="false",
        purpose="Payments",
        storage="hosting",
        last_rotated="2026-01-31",
    )
    assert client.post(edit, data).status_code == 302
    var.refresh_from_db()
    assert (var.required, var.storage, str(var.last_rotated)) == (False, "hosting", "2026-01-31")

    refused = client.post(edit, {**data, "purpose": STRIPE_LIVE})
    assert refused.status_code == 400 and STRIPE_LIVE not in refused.content.decode()
    var.refresh_from_db()
    assert var.purpose == "Payments"

    assert client.post(url(site, "env_variable_delete", envvar=var.uuid)).status_code == 302
    assert not EnvVar.objects.filter(pk=var.pk).exists()


def test_a_rotation_date_in_the_future_is_refused(client_as, member, site, env_vars):
    var = env_vars["production:DATABASE_URL"]
    response = client_as(member).post(
        url(site, "env_variable_edit", envvar=var.uuid), add_data(last_rotated="2999-01-01")
    )
    assert response.status_code == 400 and "cannot be in the future" in response.content.decode()


def test_import_keeps_comments_as_purposes_and_says_how_many_values_were_dropped(
    client_as, member, site, env_vars
):
    text = (
        "# The Postgres connection string\n"
        "DATABASE_URL=postgres://shop:Tr0ub4dor@db/shop\n"
        "\n"
        "# Payments webhook signing\n"
        "export STRIPE_WEBHOOK_SECRET='whsec_Tr0ub4dor'\n"
        "# (optional)\n"
        "SENTRY_DSN=\n"
        "garbage\n"
    )
    response = client_as(member).post(
        url(site, "env_import"), {"environment": "production", "text": text}, follow=True
    )
    page = response.content.decode()
    assert "2 values were discarded; only names were kept." in page
    assert "Imported 1 variable(s) into production: STRIPE_WEBHOOK_SECRET." in page
    assert "left as they were: DATABASE_URL, SENTRY_DSN." in page
    assert "Skipped line(s) 8" in page
    assert "Tr0ub4dor" not in page
    new = EnvVar.objects.get(site=site, name="STRIPE_WEBHOOK_SECRET")
    assert (new.purpose, new.required) == ("Payments webhook signing", True)
    # Existing names are left as they were.
    assert EnvVar.objects.get(site=site, environment="production", name="DATABASE_URL").purpose == (
        "Postgres connection string"
    )


def test_import_from_a_file_into_a_new_environment(client_as, member, site):
    upload = SimpleUploadedFile(".env.example", b"# Web port (optional)\nPORT=8000\nSECRET_KEY=\n")
    response = client_as(member).post(url(site, "env_import"), {"environment": "Preview", "file": upload})
    assert response.status_code == 302
    rows = {v.name: v for v in EnvVar.objects.filter(site=site, environment="preview")}
    assert set(rows) == {"PORT", "SECRET_KEY"} and rows["PORT"].purpose == "Web port"
    assert rows["PORT"].required is False and rows["SECRET_KEY"].required is True


def test_a_failed_import_never_shows_the_pasted_text_again(client_as, member, site):
    response = client_as(member).post(
        url(site, "env_import"), {"environment": "bad env!", "text": "API_TOKEN=Tr0ub4dor-zz9\n"}
    )
    page = response.content.decode()
    assert response.status_code == 400 and "paste it once more" in page
    assert "Tr0ub4dor" not in page and not EnvVar.objects.exists()


def test_import_of_nothing_usable_says_so(client_as, member, site):
    response = client_as(member).post(
        url(site, "env_import"), {"environment": "production", "text": "just words\n"}
    )
    assert response.status_code == 400 and "No NAME=… lines were found" in response.content.decode()


def test_export_round_trips_through_import(client_as, member, site, env_vars):
    client = client_as(member)
    response = client.get(url(site, "env_export"), {"environment": "production"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="production.env.example"'
    text = response.content.decode()
    assert "DATABASE_URL=\n" in text and "# Postgres connection string (required)" in text
    assert "# (optional)\nSENTRY_DSN=" in text
    client.post(url(site, "env_import"), {"environment": "copy", "text": text})
    original = {
        (v.name, v.purpose, v.required) for v in EnvVar.objects.filter(site=site, environment="production")
    }
    copied = {(v.name, v.purpose, v.required) for v in EnvVar.objects.filter(site=site, environment="copy")}
    assert copied == original


def test_copy_missing_names_between_environments(client_as, member, site, env_vars):
    response = client_as(member).post(
        url(site, "env_copy_missing"), {"source": "production", "target": "staging"}
    )
    assert response.status_code == 302
    staging = set(EnvVar.objects.filter(site=site, environment="staging").values_list("name", flat=True))
    assert staging == {"DATABASE_URL", "STAGING_ONLY", "STRIPE_SECRET_KEY", "SENTRY_DSN"}
    assert EnvVar.objects.get(site=site, environment="staging", name="SENTRY_DSN").required is False


def test_the_site_page_panel_shows_counts_gaps_diff_and_the_last_gate_call(client_as, viewer, site, env_vars):
    client = client_as(viewer)
    detail = reverse("site_detail", kwargs={"workspace": site.workspace.uuid, "site": site.uuid})
    page = client.get(detail).content.decode()
    panel = page[page.index('id="env"') :]
    assert "5 variables: production (3), staging (2)." in panel
    assert "STRIPE_SECRET_KEY" in panel  # undocumented (no storage place) and missing from staging
    assert "CI has never called the env-check gate" in panel
    EnvCheck.objects.create(
        site=site,
        environment="production",
        names_count=12,
        missing=["STRIPE_SECRET_KEY"],
        ok=False,
        token_name="GitHub CI",
    )
    panel = client.get(detail).content.decode()
    panel = panel[panel.index('id="env"') :]
    assert "Last CI check" in panel and "Missing 1" in panel and "GitHub CI" in panel


def test_the_empty_panel_invites_to_start(client_as, viewer, site):
    page = client_as(viewer).get(
        reverse("site_detail", kwargs={"workspace": site.workspace.uuid, "site": site.uuid})
    )
    assert "No variables recorded yet" in page.content.decode()


@pytest.mark.parametrize(
    ("name", "kwargs", "data"),
    [
        ("env_variable_add", {}, add_data()),
        ("env_copy_missing", {}, {"source": "production", "target": "staging"}),
        ("env_import", {}, {"environment": "production", "text": "A=1"}),
        ("env_variable_delete", {"envvar": True}, {}),
        ("env_variable_edit", {"envvar": True}, add_data()),
    ],
)
def test_a_viewer_gets_403_on_every_write_and_a_stranger_404(
    client_as, viewer, stranger, site, env_vars, name, kwargs, data
):
    if kwargs:
        kwargs = {"envvar": env_vars["production:DATABASE_URL"].uuid}
    before = list(EnvVar.objects.values_list("pk", "name", "purpose"))
    assert client_as(viewer).post(url(site, name, **kwargs), data).status_code == 403
    assert client_as(stranger).post(url(site, name, **kwargs), data).status_code == 404
    assert client_as(stranger).get(url(site)).status_code == 404
    assert list(EnvVar.objects.values_list("pk", "name", "purpose")) == before


def test_a_viewer_reads_and_exports_but_sees_no_edit_controls(client_as, viewer, site, env_vars):
    client = client_as(viewer)
    page = client.get(url(site)).content.decode()
    assert "DATABASE_URL" in page and "Add a variable" not in page and "Import a .env" not in page
    assert client.get(url(site, "env_export")).status_code == 200
    assert client.get(url(site, "env_import")).status_code == 403


def test_a_long_secret_is_reported_as_a_secret_not_as_too_long(client_as, member, site):
    pem = "-----BEGIN PRIVATE KEY-----\n" + "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" * 5
    response = client_as(member).post(url(site, "env_variable_add"), add_data(owner=pem))
    page = response.content.decode()
    assert response.status_code == 400 and "a private key or certificate block (PEM)" in page
    assert "at most 100 characters" not in page and "MIIEvQ" not in page
