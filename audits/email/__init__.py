"""Email deliverability: SPF, DKIM, DMARC, MX, MTA-STS and TLS-RPT (stage ``email``).

Public API::

    from audits.email.probe import probe_email
    facts = await probe_email(domain, sending_service="google", from_address="orders@shop.com",
                              selectors=["s1"], config=net_config)          # -> EmailFacts
    import audits.email.rules                                            # registers every email.* rule
    from audits.inbound.store import enrich_facts
    facts = enrich_facts(site, facts)   # adds p=none-since, DMARC report summary, latest test message

    from audits.email.spf_eval import check_host, sender_identity        # RFC 7208 check_host()
    result = await check_host(ip, domain, sender, lookup, helo=helo)     # -> SpfResult
    from audits.email.spf import parse_record                            # raises SpfSyntaxError
    from audits.email.dmarc import parse_dmarc, aligned, organizational_domain
    from audits.email.dkim import parse_dkim_key, key_strength
    from audits.email.services import SERVICES, get_service, selectors_for

All DNS goes through a ``Lookup`` (``audits.email.dns``) backed by ``launchready.net``.
"""

# audits.facts holds EmailFacts on AuditFacts: load it first so that importing
# audits.email.facts on its own never meets a half-initialised audits.facts.
import audits.facts  # noqa: E402,F401
