"""Probes: all the network I/O of an audit, turned into facts.

Everything goes through ``launchready.net`` (the SSRF guard, timeouts, size caps). One
module per stage, with the same name as its facts and rules (``dns``, ``web``, ``tls``,
``exposure``, ``performance``, ``email``); ``base`` holds the options and the budgeted
fetch, and ``collect`` only wires them together. Public API::

    from audits.probes import ProbeRun, ProbeOptions, collect_facts
    run = ProbeRun(site, options=ProbeOptions(samples=5))
    facts = await collect_facts(run, progress=callback)   # -> AuditFacts
    run.requests, run.probe_seconds, run.longest_chain_s  # what it cost
"""

from audits.probes.base import COMMON_SUBDOMAINS, BudgetExhausted, ProbeOptions, ProbeRun
from audits.probes.collect import PROBED_STAGES, collect_facts

__all__ = [
    "COMMON_SUBDOMAINS",
    "PROBED_STAGES",
    "BudgetExhausted",
    "ProbeOptions",
    "ProbeRun",
    "collect_facts",
]
