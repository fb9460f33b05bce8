"""One cause, one incident: the cause rules, the engine's grouping and the incident page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from launchready.net import CertProblem, ErrorKind, NetError
from monitoring import correlation, engine, outbox
from monitoring.checks import rules
from monitoring.checks.specs import Cause, CauseKind, CheckOutcome
from monitoring.models import Incident, Monitor, Notification

# --- the rules: which failures are the host's ---------------------------------------------


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (NetError(ErrorKind.DNS_NXDOMAIN, "x"), "dns:www.shop.test"),
        (NetError(ErrorKind.DNS_TIMEOUT, "x"), "dns:www.shop.test"),
        (NetError(ErrorKind.CONNECTION_REFUSED, "x"), "tcp:www.shop.test"),
        (NetError(ErrorKind.CONNECT_TIMEOUT, "x"), "tcp:www.shop.test"),
        (NetError(ErrorKind.TLS_ERROR, "x"), "tls:www.shop.test"),
        (NetError(ErrorKind.TLS_CERTIFICATE, "x", "expired; OpenSSL: …"), "tls-expired:www.shop.test"),
        (NetError(ErrorKind.TLS_CERTIFICATE, "x", "OpenSSL verify code 10"), "tls-expired:www.shop.test"),
        (NetError(ErrorKind.TLS_CERTIFICATE, "x", "hostname_mismatch; …"), "tls-mismatch:www.shop.test"),
        (NetError(ErrorKind.TLS_CERTIFICATE, "x", "self_signed; …"), "tls-untrusted:www.shop.test"),
    ],
)
def test_host_level_failures_have_a_cause_key(error, key):
    assert rules.cause_of_error(error, "WWW.Shop.test.").key == key


@pytest.mark.parametrize("kind", [ErrorKind.READ_TIMEOUT, ErrorKind.TOO_MANY_REDIRECTS, ErrorKind.BLOCKED])
def test_page_level_failures_have_none(kind):
    assert rules.cause_of_error(NetError(kind, "x"), "www.shop.test") is None
    assert rules.cause_of_error(None, "www.shop.test") is None


def test_the_certificate_monitor_and_the_pages_name_an_expired_certificate_alike():
    page = rules.cause_of_error(NetError(ErrorKind.TLS_CERTIFICATE, "x", "expired; …"), "www.shop.test")
    assert rules.cause_of_cert_problem(CertProblem.EXPIRED, "www.shop.test") == page


def test_the_cause_names_the_problem_and_lists_the_monitors_within_300_characters():
    key = "tls-expired:www.mystore.com"
    names = ["homepage", "cart", "checkout", "login", "the order API"]
    assert correlation.group_cause(key, names, "") == (
        "Certificate of www.mystore.com expired: homepage, cart, checkout, login and the order API are down."
    )
    assert correlation.group_cause(key, ["homepage"], "") == (
        "Certificate of www.mystore.com expired: homepage is down."
    )
    many = correlation.group_cause(key, [f"Product page number {i}" for i in range(40)], "")
    assert len(many) <= 300 and many.endswith("more are down.")
    assert correlation.group_cause("", names, "Status 502.") == "Status 502."


# --- the engine --------------------------------------------------------------------------


def fail(m, at, message="Status 502 (expected 200-399).", cause=None):
    engine.apply_outcomes([CheckOutcome(m.pk, False, at, message, cause=cause)] * 2, now=at)


def ok(m, at):
    engine.apply_outcomes([CheckOutcome(m.pk, True, at, "Status 200.")], now=at)


@pytest.mark.django_db
def test_a_page_failing_while_its_host_is_unreachable_is_part_of_the_host_incident(workspace, email_channel):
    t = timezone.now()
    dns = Monitor.objects.create(workspace=workspace, kind="dns", name="DNS of www", hostname="www.shop.test")
    page = Monitor.objects.create(workspace=workspace, name="Checkout", url="https://www.shop.test/checkout")
    other = Monitor.objects.create(workspace=workspace, name="Blog", url="https://blog.shop.test/")
    fail(dns, t, "www.shop.test does not exist.", Cause(CauseKind.DNS, "www.shop.test"))
    fail(page, t + timedelta(seconds=5))  # a page-level failure on that host: suppressed
    fail(other, t + timedelta(seconds=5))  # another host: its own incident
    host_incident = Incident.objects.get(monitor=dns)
    assert Incident.objects.get(monitor=page).primary == host_incident
    assert Incident.objects.get(monitor=other).primary is None
    assert Notification.objects.filter(event="opened").count() == 2


@pytest.mark.django_db
def test_severity_is_the_highest_part_and_follows_the_monitor(workspace, email_channel):
    t = timezone.now()
    cause = Cause(CauseKind.TCP, "www.shop.test")
    cart = Monitor.objects.create(workspace=workspace, name="Cart", url="https://www.shop.test/cart")
    checkout = Monitor.objects.create(
        workspace=workspace, name="Checkout", url="https://www.shop.test/checkout", severity="critical"
    )
    fail(cart, t, "www.shop.test refused the connection.", cause)
    primary = Incident.objects.get(monitor=cart)
    assert (primary.severity, primary.severity_reason) == ("warning", "the Cart monitor's severity")
    fail(checkout, t + timedelta(seconds=1), "www.shop.test refused the connection.", cause)
    primary.refresh_from_db()
    assert (primary.severity, primary.severity_reason) == ("critical", "the Checkout monitor's severity")
    checkout.severity = "warning"
    checkout.save()
    fail(checkout, t + timedelta(seconds=2), "www.shop.test refused the connection.", cause)
    primary.refresh_from_db()
    assert Incident.objects.get(monitor=checkout).severity == "warning"
    assert primary.severity == "warning"


@pytest.mark.django_db
def test_acknowledging_one_monitor_acknowledges_its_incident(workspace, email_channel):
    t = timezone.now()
    cause = Cause(CauseKind.TCP, "www.shop.test")
    a = Monitor.objects.create(workspace=workspace, name="Home", url="https://www.shop.test/")
    b = Monitor.objects.create(workspace=workspace, name="Cart", url="https://www.shop.test/cart")
    fail(a, t, "refused", cause)
    fail(b, t, "refused", cause)
    assert outbox.acknowledge(Incident.objects.get(monitor=b)) is True
    assert Incident.objects.get(monitor=a).acknowledged_at is not None


@pytest.mark.django_db
def test_a_monitor_cannot_depend_on_itself_or_another_workspace(workspace, make_user):
    from launchready.models import Workspace

    a = Monitor.objects.create(workspace=workspace, name="Home", url="https://www.shop.test/")
    b = Monitor.objects.create(
        workspace=workspace, name="Cart", url="https://www.shop.test/cart", depends_on=a
    )
    a.depends_on = b
    with pytest.raises(ValidationError, match="cannot depend on itself"):
        a.full_clean()
    elsewhere = Workspace.objects.create(name="Other")
    foreign = Monitor.objects.create(workspace=elsewhere, name="X", url="https://x.test/")
    b.depends_on = foreign
    with pytest.raises(ValidationError, match="this workspace"):
        b.full_clean()


# --- the incident page -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_incident_page_lists_the_monitors_and_where_the_severity_comes_from(
    client_as, owner, stranger, workspace
):
    t = timezone.now() - timedelta(minutes=10)
    cause = Cause(CauseKind.CERT_EXPIRED, "www.shop.test")
    home = Monitor.objects.create(workspace=workspace, name="Homepage", url="https://www.shop.test/")
    checkout = Monitor.objects.create(
        workspace=workspace, name="Checkout", url="https://www.shop.test/checkout", severity="critical"
    )
    fail(home, t, "The certificate for www.shop.test has expired.", cause)
    fail(checkout, t, "The certificate for www.shop.test has expired.", cause)
    ok(home, t + timedelta(minutes=4))
    primary = Incident.objects.get(monitor=home)
    part = Incident.objects.get(monitor=checkout)

    url = reverse("monitoring:incident", kwargs={"workspace": workspace.uuid, "incident": primary.uuid})
    body = client_as(owner).get(url).content.decode()
    assert "Certificate of www.shop.test expired: Homepage and Checkout are down." in body
    assert "critical: the Checkout monitor&#x27;s severity" in body
    assert "Affected monitors" in body and "still down" in body and "4\xa0minutes" in body
    assert client_as(stranger).get(url).status_code == 404

    part_url = reverse("monitoring:incident", kwargs={"workspace": workspace.uuid, "incident": part.uuid})
    body = client_as(owner).get(part_url).content.decode()
    assert "in a wider incident" in body and str(primary.uuid) in body
    assert client_as(stranger).get(part_url).status_code == 404


@pytest.mark.django_db
def test_the_monitor_form_offers_this_workspace_monitors_as_dependencies(client_as, owner, workspace):
    from launchready.models import Workspace
    from monitoring.forms import MonitorForm

    home = Monitor.objects.create(workspace=workspace, name="Homepage", url="https://www.shop.test/")
    elsewhere = Workspace.objects.create(name="Other")
    foreign = Monitor.objects.create(workspace=elsewhere, name="Foreign store", url="https://x.test/")
    page = client_as(owner).get(reverse("monitoring:monitor_create", kwargs={"workspace": workspace.uuid}))
    body = page.content.decode()
    assert "Depends on" in body and "Homepage" in body and "Foreign store" not in body
    form = MonitorForm({"kind": "http", "depends_on": foreign.pk}, workspace=workspace)
    assert "depends_on" in form.errors  # another workspace's monitor is not a choice
    form = MonitorForm({"kind": "http", "depends_on": home.pk}, instance=home, workspace=workspace)
    assert "depends_on" in form.errors  # nor the monitor itself
