"""Probes of the ``email`` stage for the declared site."""

from __future__ import annotations

from audits.email.facts import EmailFacts
from audits.email.probe import probe_email

from .base import ProbeRun


async def probe_site_email(run: ProbeRun) -> EmailFacts:
    site = run.site
    with run.clock():
        return await probe_email(
            site.domain,
            sending_service=site.sending_service,
            from_address=site.from_address,
            selectors=site.dkim_selectors,
            config=run.config,
        )
