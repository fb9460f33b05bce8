"""Common sending services: what each one publishes in the customer's DNS.

Keys follow ``launchready.models.SENDING_SERVICES`` (a test keeps them in step), plus
services not yet offered in that list (``resend``). Selectors that a service chooses
per customer at random (Amazon SES, Postmark) cannot be guessed: the table says so and
the founder is asked to declare them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendingService:
    key: str
    name: str
    spf_includes: tuple[str, ...] = ()  # any of these in the SPF tree authorises the service
    spf_on_apex: bool = True  # False: the service bounces to its own (sub)domain, so apex SPF is not needed
    dkim_selectors: tuple[str, ...] = ()  # well-known selectors to look at
    dkim_setup: str = ""  # where the founder finds the DKIM records to publish
    spf_setup: str = ""

    def authorises(self, include_domains: list[str] | set[str]) -> bool:
        """True when one of the service's include domains is in the expanded SPF tree."""
        wanted = {d.lower() for d in self.spf_includes}
        return any(d.lower().rstrip(".") in wanted for d in include_domains)


SERVICES: dict[str, SendingService] = {
    s.key: s
    for s in (
        SendingService(
            key="google",
            name="Google Workspace",
            spf_includes=("_spf.google.com",),
            dkim_selectors=("google",),
            dkim_setup="Google Admin console → Apps → Google Workspace → Gmail → Authenticate email: "
            "generate a 2048-bit key, publish the TXT record at google._domainkey, then press Start authentication.",
            spf_setup="Add include:_spf.google.com to the domain's SPF record.",
        ),
        SendingService(
            key="microsoft",
            name="Microsoft 365",
            spf_includes=("spf.protection.outlook.com",),
            dkim_selectors=("selector1", "selector2"),
            dkim_setup="Microsoft Defender portal → Email & collaboration → Policies → Email authentication "
            "settings → DKIM: publish the two CNAMEs selector1._domainkey and selector2._domainkey, then enable signing.",
            spf_setup="Add include:spf.protection.outlook.com to the domain's SPF record.",
        ),
        SendingService(
            key="shopify",
            name="Shopify Email",
            spf_includes=("shops.shopify.com", "_spf.shopify.com"),
            dkim_selectors=("shopify1", "shopify2", "shopify3"),
            dkim_setup="Shopify admin → Settings → Notifications → Sender email → Authenticate: "
            "publish the CNAME records Shopify shows (shopify1._domainkey … shopify3._domainkey).",
            spf_setup="Add include:shops.shopify.com to the domain's SPF record.",
        ),
        SendingService(
            key="klaviyo",
            name="Klaviyo",
            spf_on_apex=False,
            dkim_selectors=("kl", "kl2"),
            dkim_setup="Klaviyo → Settings → Domains → Branded sending domain: publish the CNAMEs it lists "
            "(kl._domainkey and kl2._domainkey among them) and verify.",
            spf_setup="Klaviyo's branded sending domain (a subdomain such as send.example.com) carries SPF; "
            "nothing is needed on the apex.",
        ),
        SendingService(
            key="mailchimp",
            name="Mailchimp / Mandrill",
            spf_includes=("servers.mcsv.net", "spf.mandrillapp.com"),
            dkim_selectors=("k2", "k3", "k1", "mandrill", "mte1", "mte2"),
            dkim_setup="Mailchimp → Account → Domains → Authenticate: publish the CNAMEs k2._domainkey and "
            "k3._domainkey (Mandrill: mte1._domainkey and mte2._domainkey).",
            spf_setup="Add include:servers.mcsv.net (Mandrill: include:spf.mandrillapp.com) to the SPF record.",
        ),
        SendingService(
            key="sendgrid",
            name="SendGrid",
            spf_includes=("sendgrid.net",),
            spf_on_apex=False,
            dkim_selectors=("s1", "s2"),
            dkim_setup="SendGrid → Settings → Sender Authentication → Authenticate your domain: publish the "
            "CNAMEs s1._domainkey, s2._domainkey and the em… return-path CNAME.",
            spf_setup="With automated security SendGrid's return-path CNAME (em….example.com) carries SPF; "
            "otherwise add include:sendgrid.net.",
        ),
        SendingService(
            key="mailgun",
            name="Mailgun",
            spf_includes=("mailgun.org",),
            dkim_selectors=("mx", "k1", "smtp", "pic", "krs", "mailo"),
            dkim_setup="Mailgun → Sending → Domains → DNS records: publish the TXT record at "
            "<selector>._domainkey (often mx, k1, smtp or pic).",
            spf_setup="Add include:mailgun.org to the SPF record of the sending domain.",
        ),
        SendingService(
            key="postmark",
            name="Postmark",
            spf_includes=("spf.mtasv.net",),
            spf_on_apex=False,
            dkim_selectors=(),
            dkim_setup="Postmark → Sender Signatures → DNS settings: publish the TXT record at the dated "
            "selector it shows (e.g. 20240101123456pm._domainkey), and declare that selector here.",
            spf_setup="Postmark's Return-Path CNAME (pm-bounces.example.com) carries SPF; nothing is needed on the apex.",
        ),
        SendingService(
            key="ses",
            name="Amazon SES",
            spf_includes=("amazonses.com",),
            spf_on_apex=False,
            dkim_selectors=(),
            dkim_setup="Amazon SES → Verified identities → your domain → Authentication: publish the three "
            "Easy DKIM CNAMEs (random selectors), and declare one of those selectors here.",
            spf_setup="Use a custom MAIL FROM domain (e.g. mail.example.com) with include:amazonses.com in its SPF.",
        ),
        SendingService(
            key="brevo",
            name="Brevo (Sendinblue)",
            spf_includes=("spf.brevo.com", "spf.sendinblue.com"),
            dkim_selectors=("brevo1", "brevo2", "mail"),
            dkim_setup="Brevo → Senders, Domains & Dedicated IPs → Domains → Authenticate: publish the "
            "brevo1._domainkey and brevo2._domainkey CNAMEs (older accounts: mail._domainkey TXT).",
            spf_setup="Add include:spf.brevo.com to the SPF record.",
        ),
        SendingService(
            key="resend",
            name="Resend",
            spf_includes=("amazonses.com",),
            spf_on_apex=False,
            dkim_selectors=("resend",),
            dkim_setup="Resend → Domains → your domain: publish the TXT record at resend._domainkey.",
            spf_setup="Resend's send.example.com subdomain carries SPF (include:amazonses.com) and the bounce MX.",
        ),
        SendingService(
            key="zoho",
            name="Zoho Mail",
            spf_includes=("zoho.com", "zoho.eu", "zoho.in", "zohomail.com"),
            dkim_selectors=("zmail", "zoho", "default"),
            dkim_setup="Zoho Mail Admin Console → Domains → Email configuration → DKIM: add a selector, "
            "publish its TXT record and verify.",
            spf_setup="Add include:zoho.com (zoho.eu in the EU data centre) to the SPF record.",
        ),
    )
}


def get_service(key: str) -> SendingService | None:
    """The table entry for a ``Site.sending_service`` value; None for "other" or unknown keys."""
    return SERVICES.get((key or "").lower())


def selectors_for(service_key: str, declared: list[str]) -> list[str]:
    """Declared selectors first, then the service's well-known ones, without duplicates."""
    service = get_service(service_key)
    ordered = [s.strip().lower() for s in declared if s and s.strip()]
    if service is not None:
        ordered += list(service.dkim_selectors)
    return list(dict.fromkeys(ordered))


# Domains that show up in DMARC report auth_results (DKIM d= and SPF domains) for each
# service, to name senders in the report summary ("Klaviyo sent 1,240 messages…").
REPORTING_DOMAINS: dict[str, str] = {
    "google.com": "Google Workspace",
    "googlemail.com": "Google Workspace",
    "outlook.com": "Microsoft 365",
    "onmicrosoft.com": "Microsoft 365",
    "shopify.com": "Shopify",
    "myshopify.com": "Shopify",
    "shopifyemail.com": "Shopify",
    "klaviyomail.com": "Klaviyo",
    "klaviyo.com": "Klaviyo",
    "kmail-lists.com": "Klaviyo",
    "mcsv.net": "Mailchimp",
    "mcdlv.net": "Mailchimp",
    "mailchimpapp.net": "Mailchimp",
    "mandrillapp.com": "Mandrill",
    "sendgrid.net": "SendGrid",
    "mailgun.org": "Mailgun",
    "mailgun.net": "Mailgun",
    "mtasv.net": "Postmark",
    "postmarkapp.com": "Postmark",
    "amazonses.com": "Amazon SES",
    "sendinblue.com": "Brevo",
    "brevo.com": "Brevo",
    "resend.dev": "Resend",
    "zoho.com": "Zoho Mail",
    "zohomail.com": "Zoho Mail",
}


def service_for_domain(domain: str) -> str:
    """The sending service a report domain belongs to ("" when unknown)."""
    name = domain.lower().rstrip(".")
    while name:
        if name in REPORTING_DOMAINS:
            return REPORTING_DOMAINS[name]
        _, _, name = name.partition(".")
    return ""


def service_named(name: str) -> SendingService | None:
    """The table entry for a sender name from ``service_for_domain`` ("Shopify" is
    "Shopify Email", "Mandrill" is "Mailchimp / Mandrill"); None when unknown."""
    words = (name or "").lower().split()
    if not words:
        return None
    for service in SERVICES.values():
        if words[0] in re.split(r"[\s/()]+", service.name.lower()):
            return service
    return None
