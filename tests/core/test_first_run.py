"""The first run without a terminal: ``make run`` serves both demo stores from one
sandbox, the demo login's workspace holds them, emails name the product, and the
development console shows each email as a short block with its links."""

from __future__ import annotations

import html
import io
import re
import smtplib
import socket
import sys
import textwrap
from pathlib import Path

import dns.message
import dns.query
import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from audits.email_models import InboundAddress, TestMessage
from audits.inbound.receiver import start_receiver
from launchready.devmail import ReadableConsoleBackend
from launchready.management.commands.devsetup import DEMO_EMAIL, DEMO_STORES
from launchready.models import Membership, Site
from sandbox import Sandbox, ScenarioError
from sandbox.combine import combine, merge, scenario_data


def _address(sb: Sandbox, name: str) -> list[str]:
    server, port = sb.env["LAUNCHREADY_DNS_SERVERS"].rsplit(":", 1)
    answer = dns.query.udp(dns.message.make_query(name, "A"), server, port=int(port), timeout=5)
    return [item.address for rrset in answer.answer for item in rrset]


def test_one_sandbox_serves_both_demo_stores() -> None:
    scenario = combine(["demo_broken", "demo_good"])
    names = {host.name for host in scenario.hosts}
    assert {"www.broken-store.test", "www.good-store.test"} <= names
    assert {"broken-store.test", "good-store.test"} <= set(scenario.registrations)
    with Sandbox(scenario) as sb:
        assert _address(sb, "www.good-store.test") == [scenario.host("www.good-store.test").address]
        assert _address(sb, "www.broken-store.test") == [scenario.host("www.broken-store.test").address]


def test_combining_refuses_a_host_or_address_defined_twice_differently() -> None:
    one = {"name": "one", "hosts": [{"name": "www.a.test", "address": "127.77.9.1"}]}
    same = {"name": "same", "hosts": [{"name": "www.a.test", "address": "127.77.9.1"}]}
    assert len(merge([one, same])["hosts"]) == 1  # identical definitions are shared
    other_address = {"name": "two", "hosts": [{"name": "www.a.test", "address": "127.77.9.2"}]}
    with pytest.raises(ScenarioError, match="host www.a.test differs"):
        merge([one, other_address])
    taken = {"name": "three", "hosts": [{"name": "www.b.test", "address": "127.77.9.1"}]}
    with pytest.raises(ScenarioError, match="address 127.77.9.1 is already used by one"):
        merge([one, taken])
    with pytest.raises(ScenarioError, match="no scenario 'nope'"):
        scenario_data("nope")


@pytest.mark.django_db
def test_devsetup_puts_both_demo_stores_in_the_demo_workspace_once(settings) -> None:
    settings.DEBUG = True
    call_command("devsetup", demo_stores=True, quiet=True)
    call_command("devsetup", demo_stores=True, quiet=True)  # make run again: nothing doubles
    workspace = Membership.objects.get(user__email=DEMO_EMAIL).workspace
    sites = Site.objects.filter(workspace=workspace)
    assert sorted(sites.values_list("domain", flat=True)) == sorted(DEMO_STORES)
    assert sites.get(domain="good-store.test").dkim_selectors == ["s1"]
    assert all(site.routes.exists() for site in sites)


@pytest.mark.django_db
def test_devsetup_refuses_without_debug(settings) -> None:
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=true"):
        call_command("devsetup", demo_stores=True)
    assert not Site.objects.exists()


@pytest.mark.django_db
def test_dev_runs_the_processes_pointed_at_the_sandbox(settings, tmp_path: Path) -> None:
    """`manage.py dev` starts the sandbox, then the Procfile's processes with its variables,
    relays their output and prints the banner once the web process says it serves."""
    settings.DEBUG = True
    procfile = tmp_path / "Procfile"
    probe = (
        "import os; print('dns=' + os.environ['LAUNCHREADY_DNS_SERVERS']); "
        "print('Quit the server with CONTROL-C.', flush=True); import time; time.sleep(3)"
    )
    procfile.write_text(f'web: {sys.executable} -c "{probe}"\n')
    out = io.StringIO()
    call_command("dev", procfile=str(procfile), stdout=out)
    printed = out.getvalue()
    assert re.search(
        r"web\.1 +\| dns=127\.0\.0\.1:\d+", printed
    )  # the sandbox's resolver reached the process
    banner = printed.index("Launch Ready is running: open http://127.0.0.1:8000/")
    assert printed.index("Quit the server with") < banner  # after the web process's own lines
    assert "Log in as demo@launchready.localhost" in printed and "broken-store.test" in printed[banner:]
    assert printed.rstrip().endswith("Launch Ready stopped.")
    assert Site.objects.filter(domain="broken-store.test").exists()  # the demo workspace got its stores


@pytest.mark.django_db
def test_account_emails_name_the_product_not_the_host(client) -> None:
    client.post(
        reverse("account_signup"),
        {
            "email": "founder@shop.example.com",
            "password1": "a-long-enough-pass-42",
            "password2": "a-long-enough-pass-42",
        },
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.body.startswith("Hello from Launch Ready!")  # was "Hello from testserver!"
    assert "Thank you for using Launch Ready!" in message.body
    assert message.subject.startswith("[Launch Ready]")


def test_development_console_shows_each_email_as_a_short_block() -> None:
    stream = io.StringIO()
    message = EmailMultiAlternatives(
        "[Launch Ready] Please confirm your email",
        "Open this link to confirm:\n\nhttp://127.0.0.1:8000/accounts/confirm-email/abc/\n",
        "noreply@launchready.localhost",
        ["founder@shop.example.com"],
    )
    message.attach_alternative("<p>Open <a href='x'>this link</a></p>", "text/html")
    ReadableConsoleBackend(stream=stream).send_messages([message])
    printed = stream.getvalue()
    assert "EMAIL to founder@shop.example.com" in printed
    assert "Subject: [Launch Ready] Please confirm your email" in printed
    assert "\nhttp://127.0.0.1:8000/accounts/confirm-email/abc/\n" in printed  # the link on its own line
    assert "Content-Type" not in printed and "<p>" not in printed  # no raw MIME, no HTML


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def shop_zone(sandbox_scenario):
    return sandbox_scenario({"name": "hint", "zones": {"shop.example.com": {"records": []}}})


@pytest.mark.django_db(transaction=True)
def test_test_message_hint_in_development_reaches_the_local_receiver(
    client_as, member, site, shop_zone
) -> None:
    """The page's example command, run as printed, hands a message to the local receiver."""
    port = _free_port()
    InboundAddress.for_site(site)
    page_url = reverse("email_overview", kwargs={"workspace": site.workspace.uuid, "site": site.uuid})
    with override_settings(DEBUG=False):
        assert b"email-test-local" not in client_as(member).get(page_url).content  # production: no hint
    with override_settings(DEBUG=True, INBOUND_SMTP_HOST="127.0.0.1", INBOUND_SMTP_PORT=port):
        page = client_as(member).get(page_url).content.decode()
        assert f"127.0.0.1:{port}" in page
        command = html.unescape(re.search(r"<pre><code>python3 -c '(.*?)'</code></pre>", page, re.S).group(1))
        controller = start_receiver("127.0.0.1", port)
        try:
            exec(compile(textwrap.dedent(command), "hint", "exec"), {"smtplib": smtplib})  # noqa: S102 - the page's own example
        finally:
            controller.stop()
    assert TestMessage.objects.filter(site=site).exists()


@pytest.mark.django_db
def test_sign_up_is_confirmed_from_the_development_mailbox(client, tmp_path) -> None:
    """In development the verification page links to /dev/mail/, which holds the link."""
    signup = {
        "email": "dana@shop.example.com",
        "password1": "a-long-unusual-pass-42",
        "password2": "a-long-unusual-pass-42",
    }
    with override_settings(
        DEBUG=True, EMAIL_BACKEND="launchready.devmail.ReadableConsoleBackend", VAR_DIR=tmp_path
    ):
        sent = client.post(reverse("account_signup"), signup, follow=True).content.decode()
        assert "dev-mailbox-notice" in sent and reverse("dev_mailbox") in sent
        box = client.get(reverse("dev_mailbox")).content.decode()
        link = re.search(r'href="(http://testserver/accounts/confirm-email/[^"]+)"', box).group(1)
        confirm_page = client.get(link.replace("http://testserver", ""))
        assert confirm_page.status_code == 200
        client.post(link.replace("http://testserver", ""))
    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.get(email="dana@shop.example.com").verified


@pytest.mark.django_db
def test_development_mailbox_is_absent_in_production(client, tmp_path) -> None:
    with override_settings(DEBUG=False, VAR_DIR=tmp_path):
        assert client.get(reverse("dev_mailbox")).status_code == 404
    with override_settings(DEBUG=True, EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"):
        assert client.get(reverse("dev_mailbox")).status_code == 404  # real email: no mailbox


def test_sandbox_command_serves_several_scenarios_at_once() -> None:
    import os
    import signal
    import subprocess
    import time

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "launchready.settings_test", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "demo_broken", "demo_good"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (lines and "Press Ctrl-C" in lines[-1]):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        output = "".join(lines)
        assert "scenario 'demo_broken+demo_good' is running" in output
        assert "www.good-store.test" in output and "www.broken-store.test" in output
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


@pytest.mark.django_db
def test_ctrl_c_stops_every_process_quietly(settings, tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C reaches only `manage.py dev`, which asks honcho to stop its processes and
    relays nothing more: no shutdown chatter, then "Launch Ready stopped."."""
    settings.DEBUG = True
    monkeypatch.setenv("DEV_PID", str(__import__("os").getpid()))
    web = (
        "import os, signal, time; print('Quit the server with CONTROL-C.', flush=True); time.sleep(2); "
        "os.kill(int(os.environ['DEV_PID']), signal.SIGINT); time.sleep(60)"
    )
    worker = (
        "import signal, sys, time; "
        "signal.signal(signal.SIGTERM, lambda *a: (print('worker: warm shutdown chatter', flush=True), sys.exit(0))); "
        "time.sleep(60)"
    )
    (tmp_path / "Procfile").write_text(
        f'web: {sys.executable} -c "{web}"\nworker: {sys.executable} -c "{worker}"\n'
    )
    out = io.StringIO()
    call_command("dev", procfile=str(tmp_path / "Procfile"), no_sandbox=True, stdout=out)
    printed = out.getvalue()
    assert "Launch Ready is running" in printed  # the banner came first
    after = printed[printed.index("Stopping Launch Ready…") :]
    assert after.split() == ["Stopping", "Launch", "Ready…", "Launch", "Ready", "stopped."]
