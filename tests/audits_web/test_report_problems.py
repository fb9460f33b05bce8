"""One problem once on the report pages: a check failing on several subjects is one card
listing them; the badges count the plan's distinct problems, also after a risk is
accepted; a first run says nothing of "new"; the shared page groups the same way."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone

from audits.models import AcceptedRisk
from tests.fixtures_audits import finding

HOSTS = ["shop.example.com", "www.shop.example.com", "admin.shop.example.com"]
FINDINGS = [
    *(finding("exposure.env_file", "blocker", "deploy", h) for h in HOSTS[:2]),
    finding("exposure.git", "blocker", "deploy", "www.shop.example.com"),
    finding("tls.cert_expired", "blocker", "edge", "www.shop.example.com"),
    finding("http.hsts_missing", "high", "edge", "www.shop.example.com"),
    *(finding("http.csp_missing", "medium", "edge", h) for h in HOSTS),
]


def site_url(workspace, site) -> str:
    return reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid})


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def plan_of(body: str) -> str:
    return body[body.index("The 48-hour plan") : body.index("By roadmap stage")]


def test_a_check_on_several_hosts_is_one_card_listing_them(client_as, member, workspace, site, make_run):
    run = make_run(site, FINDINGS)
    body = text_of(client_as(member).get(site_url(workspace, site)))
    plan = plan_of(body)
    assert plan.count('class="finding finding-blocker"') == 3  # env file, .git, certificate
    assert plan.count('<span class="finding-title">Title of exposure.env_file</span>') == 1
    assert "on 2 hosts: shop.example.com, www.shop.example.com" in plan
    # Leaked secrets first, each blocker saying why in one line.
    assert plan.index("Title of exposure.env_file") < plan.index("Title of exposure.git")
    assert plan.index("Title of exposure.git") < plan.index("Title of tls.cert_expired")
    assert plan.count('class="finding-why"') == 3 and "Leaked secrets come first" in plan
    # "Accept risk" stays per subject: one link for each host of the env file card.
    for row in run.findings.filter(check_id="exposure.env_file"):
        accept = reverse(
            "audit_finding_accept",
            kwargs={"workspace": workspace.uuid, "site": site.uuid, "finding": row.uuid},
        )
        assert accept in plan
    deferred = body[body.index("Deferred (fix after launch)") :]
    assert deferred.count('class="finding finding-medium"') == 1 and "on 3 hosts" in deferred
    assert '<span class="sev sev-blocker">3 blockers</span>' in body  # not 4 findings
    assert '<span class="sev sev-high">1 high</span>' in body


def test_badges_agree_with_the_plan_after_a_risk_is_accepted(client_as, owner, workspace, site, make_run):
    make_run(site, FINDINGS)
    for host in HOSTS[:2]:
        AcceptedRisk.objects.create(
            site=site,
            check_id="exposure.env_file",
            subject=host,
            reason="Keys rotated; file removed in the next deploy.",
            expires_at=timezone.now() + dt.timedelta(days=7),
            accepted_by=owner,
        )
    body = text_of(client_as(owner).get(site_url(workspace, site)))
    plan = plan_of(body)
    assert plan.count('class="finding finding-blocker"') == 2 and "Title of exposure.env_file" not in plan
    assert '<span class="sev sev-blocker">2 blockers</span>' in body
    assert "Not counted above: 1 blocker your team accepted" in body
    assert ">Not ready<" in body  # an accepted blocker does not soften the verdict


def test_a_first_run_says_nothing_of_new(client_as, member, workspace, site, make_run):
    make_run(site, FINDINGS)
    body = text_of(client_as(member).get(site_url(workspace, site)))
    history = body[body.index("Run history") :]
    assert "First audit" in history
    assert not re.search(r"<td>\s*0\s*</td>", history)
    assert 'badge-warn">New<' not in body and " new</span>" not in body


def test_a_later_run_counts_new_problems(client_as, member, workspace, site, make_run):
    make_run(site, FINDINGS[4:], ago_minutes=60)
    run = make_run(site, FINDINGS, new_count=4)
    run.findings.filter(check_id__startswith="exposure.").update(change="new")
    run.findings.exclude(check_id__startswith="exposure.").update(change="persisting")
    body = text_of(client_as(member).get(site_url(workspace, site)))
    assert '<span class="badge badge-warn">2 new</span>' in body  # two problems, three findings
    assert "First audit" in body[body.index("Run history") :]  # the older run was the first


def test_the_shared_page_groups_the_same_way(client, site, make_run, share_link):
    make_run(site, FINDINGS)
    _link, token = share_link
    body = text_of(client.get(reverse("audit_shared_report", kwargs={"token": token})))
    plan = plan_of(body)
    assert plan.count('<span class="finding-title">Title of exposure.env_file</span>') == 1
    assert "on 2 hosts" in plan
    assert '<span class="sev sev-blocker">3 blockers</span>' in body
    assert "Accept risk" not in body
