"""Rules: pure functions from facts to findings, one per check id.

Public API::

    from audits.rules import run_rules, evaluate
    findings = run_rules(facts, now)            # list[FindingData], worst first
    evaluation = evaluate(facts, now)           # findings + a RuleResult per check

Importing this package registers every rule module in ``RULES`` (one registry).
"""

from audits.rules import (  # noqa: F401 - importing a rule module registers its rules
    deploy,
    dns,
    edge,
    email,
    exposure,
    http,
    monitoring,
    performance,
    tls,
)
from audits.rules.base import (
    RULES,
    Evaluation,
    Outcome,
    RuleContext,
    RuleResult,
    Skip,
    evaluate,
    rule,
    run_rules,
    sort_key,
)

__all__ = [
    "RULES",
    "RuleResult",
    "Evaluation",
    "Outcome",
    "RuleContext",
    "Skip",
    "evaluate",
    "rule",
    "run_rules",
    "sort_key",
]
