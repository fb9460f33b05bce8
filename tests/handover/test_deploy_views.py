"""The deploy pages: history on the site page, one deploy, smoke-test settings, the rollback checklist."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from handover.models import Deploy, Rollback, RollbackPlan, SmokeRouteSetting

pytestmark = pytest.mark.django_db


def url(name: str, site, **kwargs) -> str:
    return reverse(name, kwargs={"workspace": site.workspace.uuid, "site": site.uuid, **kwargs})


def deploy(site, version: str, state: str = "passed", minutes_ago: int = 0, **fields) -> Deploy:
    return Deploy.objects.create(
        site=site,
        environment=fields.pop("environment", "production"),
        version=version,
        state=state,
        deployed_by=fields.pop("deployed_by", "API token CI"),
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


# --- the panel on the site page -----------------------------------------------------------


def test_the_site_page_shows_history_per_environment_with_last_known_good(client_as, member, site):
    good = deploy(site, "v1.0.0", minutes_ago=30)
    bad = deploy(site, "v1.1.0", state="failed", minutes_ago=20)
    bad.smoke_results.create(
        route_name="checkout",
        url="u",
        passed=False,
        budget_ms=800,
        reason="Status 502.",
        checked_at=timezone.now(),
    )
    back = deploy(site, "v1.0.0", minutes_ago=10, kind="rollback", rollback_of=bad)
    deploy(site, "v2.0.0-rc1", state="queued", environment="staging", deployed_by="API token Staging CI")

    page = client_as(member).get(url("site_detail", site)).content.decode()
    production = page.index("<h3>production")
    staging = page.index("<h3>staging")
    assert production < staging  # production first
    assert f'deploys/{back.uuid}/"><code>v1.0.0</code></a> (' in page[production:staging]  # last known good
    assert "Failed</span> 1 route</td>" in page
    assert "undid <a" in page and f"deploys/{bad.uuid}/" in page
    assert "rolled back</a>" in page  # the failed deploy links to its rollback
    assert "API token Staging CI" in page and '<span class="badge">Queued</span>' in page
    assert f"deploys/{good.uuid}/" in page


def test_a_failed_deploy_that_was_not_rolled_back_links_to_the_checklist(client_as, member, site):
    bad = deploy(site, "v1.1.0", state="failed")
    page = client_as(member).get(url("site_detail", site)).content.decode()
    assert html.escape(f"{url('deploy_rollback', site)}?deploy={bad.uuid}") in page


def test_the_site_page_without_deploys_says_what_to_do(client_as, viewer, site):
    page = client_as(viewer).get(url("site_detail", site)).content.decode()
    assert "No deploy reported yet" in page
    assert url("deploy_list", site) in page


def test_the_panel_costs_the_same_queries_for_one_deploy_or_many(
    client_as, member, site, django_assert_num_queries
):
    client = client_as(member)
    client.get(url("site_detail", site))  # warm the session and the workspace switch
    deploy(site, "v0", minutes_ago=5)
    first = deploy(site, "v1", state="failed")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert client.get(url("site_detail", site)).status_code == 200
    for i in range(12):
        deploy(
            site,
            f"v{i + 2}",
            environment="production" if i % 2 else "staging",
            kind="rollback",
            rollback_of=first,
        )
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get(url("site_detail", site)).status_code == 200


# --- the deploys page and one deploy --------------------------------------------------------


def test_the_deploys_page_gives_ready_to_paste_ci_steps_for_this_site(client_as, viewer, site):
    response = client_as(viewer).get(url("deploy_list", site))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "LAUNCHREADY_TOKEN: ${{ secrets.LAUNCHREADY_TOKEN }}" in page
    assert 'API="http://testserver/api/v1/deploys"' in page
    assert f'site: "{site.uuid}"' in page
    assert "KIND=rollback VERSION=" in page
    assert 'case $(echo "$RESULT" | jq -r .state) in' in page


def test_a_failed_deploy_page_shows_each_route_and_the_version_to_roll_back_to(client_as, member, site):
    deploy(site, "v1.0.0", minutes_ago=10)
    bad = deploy(site, "v1.1.0", state="failed")
    bad.smoke_results.create(
        route_name="checkout",
        url="https://www.shop.example.com/checkout",
        passed=False,
        status_code=502,
        elapsed_ms=91,
        budget_ms=800,
        reason="Status 502 (expected 200–399).",
        checked_at=timezone.now(),
    )
    page = client_as(member).get(url("deploy_detail", site, deploy=bad.uuid)).content.decode()
    assert "The smoke test failed." in page
    assert "Roll back to the last known good version, <code>v1.0.0</code>" in page
    assert "Status 502 (expected 200–399)." in page and "91 ms / 800 ms" in page


def test_another_sites_deploy_is_404_under_this_site(client_as, owner, site, workspace):
    from launchready.models import Site

    other = Site.objects.create(workspace=workspace, domain="blog.example.com")
    theirs = deploy(other, "v1")
    assert client_as(owner).get(url("deploy_detail", site, deploy=theirs.uuid)).status_code == 404


# --- smoke-test settings ----------------------------------------------------------------


def test_a_member_chooses_the_routes_and_their_expected_text(client_as, member, site):
    client = client_as(member)
    page = client.get(url("deploy_smoke_settings", site)).content.decode()
    assert 'name="checkout-included" id="id_checkout-included" checked' in page
    assert 'name="login-included" id="id_login-included">' in page  # not tested by default
    data = {f"{r.name}-included": "on" for r in site.routes.exclude(name__in=["login", "order", "cart"])}
    data["product-smoke_keyword"] = "  Add to cart "
    data["login-smoke_keyword"] = "Sign in"
    response = client.post(url("deploy_smoke_settings", site), data)
    assert response.status_code == 302
    saved = {s.route_name: (s.included, s.smoke_keyword) for s in SmokeRouteSetting.objects.filter(site=site)}
    assert saved["product"] == (True, "Add to cart")
    assert saved["cart"] == (False, "")
    assert saved["login"] == (False, "Sign in")


def test_an_expected_text_with_a_line_break_is_refused(client_as, member, site):
    response = client_as(member).post(url("deploy_smoke_settings", site), {"home-smoke_keyword": "a\nb"})
    assert response.status_code == 400
    assert "Use one line of plain text." in response.content.decode()
    assert not SmokeRouteSetting.objects.exists()


def test_a_viewer_sees_the_settings_but_cannot_change_them(client_as, viewer, site):
    client = client_as(viewer)
    page = client.get(url("deploy_smoke_settings", site)).content.decode()
    assert "disabled" in page and ">Save</button>" not in page
    assert client.post(url("deploy_smoke_settings", site), {"home-smoke_keyword": "x"}).status_code == 403
    assert not SmokeRouteSetting.objects.exists()


# --- rollback checklist and records -------------------------------------------------------


def test_the_checklist_has_the_stores_own_steps_before_the_default_ones(client_as, member, site):
    client = client_as(member)
    response = client.post(
        url("deploy_rollback_steps", site), {"steps": "fly releases rollback\n\n  Call Dana  \n"}
    )
    assert response.status_code == 302
    assert RollbackPlan.objects.get(site=site).steps == "fly releases rollback\nCall Dana"
    page = client.get(url("deploy_rollback", site)).content.decode()
    own, general = page.index("fly releases rollback"), page.index("Tell the team a rollback rehearsal")
    assert own < page.index("Call Dana") < general


def test_a_member_records_a_rehearsal(client_as, member, site):
    client = client_as(member)
    when = timezone.localtime() - timedelta(hours=2)
    response = client.post(
        url("deploy_rollback", site),
        {
            "kind": "rehearsal",
            "performed_at": when.strftime("%Y-%m-%dT%H:%M"),
            "performed_by": "Dana",
            "environment": "production",
            "from_version": "v2.0.0",
            "to_version": "v1.9.0",
            "minutes": "7.5",
            "what_went_wrong": "The cache kept the old assets.",
        },
    )
    assert response.status_code == 302
    record = Rollback.objects.get()
    assert (record.kind, record.minutes, record.performed_by, record.recorded_by) == (
        "rehearsal",
        7.5,
        "Dana",
        member,
    )
    assert record.site == site
    page = client.get(url("deploy_rollback", site)).content.decode()
    assert "The cache kept the old assets." in page and "7.5" in page


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"minutes": ""}, "This field is required."),
        ({"minutes": "-3"}, "Ensure this value is greater than or equal to 0."),
        ({"performed_by": ""}, "This field is required."),
        (
            {"performed_at": (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")},
            "once it has happened",
        ),
        ({"from_version": "v1\x07"}, "Use one line of plain text."),
    ],
)
def test_a_bad_record_says_why_and_saves_nothing(client_as, member, site, change, error):
    data = {
        "kind": "rehearsal",
        "performed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "performed_by": "Dana",
        "environment": "production",
        "minutes": "5",
        **change,
    }
    response = client_as(member).post(url("deploy_rollback", site), data)
    assert response.status_code == 400
    assert error in html.unescape(response.content.decode())
    assert not Rollback.objects.exists()


def test_roll_back_from_a_failed_deploy_prefills_the_record(client_as, member, site):
    deploy(site, "v1.0.0", minutes_ago=10)
    bad = deploy(site, "v1.1.0", state="failed")
    page = client_as(member).get(url("deploy_rollback", site) + f"?deploy={bad.uuid}").content.decode()
    assert 'name="from_version" value="v1.1.0"' in page
    assert 'name="to_version" value="v1.0.0"' in page
    # An id that is not a deploy of this site is ignored.
    assert client_as(member).get(url("deploy_rollback", site) + "?deploy=nope").status_code == 200


def test_a_viewer_reads_the_checklist_but_records_nothing(client_as, viewer, site):
    client = client_as(viewer)
    page = client.get(url("deploy_rollback", site)).content.decode()
    assert "Tell the team a rollback rehearsal" in page and "Record a rollback" not in page
    assert client.post(url("deploy_rollback", site), {"minutes": "1"}).status_code == 403
    assert client.post(url("deploy_rollback_steps", site), {"steps": "x"}).status_code == 403


@pytest.mark.parametrize("name", ["deploy_list", "deploy_smoke_settings", "deploy_rollback"])
def test_strangers_get_404(client_as, stranger, site, name):
    assert client_as(stranger).get(url(name, site)).status_code == 404
