"""The mail-protocol library: SPF (RFC 7208), DKIM keys (RFC 6376), DMARC (RFC 7489),
and the table of sending services. Pure parsers and evaluators, plus a DNS ``Lookup``
backed by ``launchready.net``; the audit's email probe, facts and rules use it from
their layers (``audits/probes/email.py``, ``audits/facts/email.py``,
``audits/rules/email.py``), and the inbound mail receiver uses it to authenticate
test messages. Public API::

    from audits.email.spf_eval import check_host, sender_identity        # RFC 7208 check_host()
    result = await check_host(ip, domain, sender, lookup, helo=helo)     # -> SpfResult
    from audits.email.spf_expand import expand_spf                       # the audit's SPF tree walk
    from audits.email.spf import parse_record                            # raises SpfSyntaxError
    from audits.email.dmarc import parse_dmarc, aligned, organizational_domain
    from audits.email.dkim import parse_dkim_key, key_strength
    from audits.email.sending_services import SERVICES, get_service, selectors_for

All DNS goes through a ``Lookup`` (``audits.email.dns``) backed by ``launchready.net``.
The pages for test messages and DMARC reports (``views``, ``urls``) live here too.
"""
