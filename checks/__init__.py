"""dancu's quality checks: the four qualities (đúng, đủ, sạch, sống) as rules, scores, GX validation and reports.

A pure library: no Dagster here. The Dagster wiring lives in ``pipelines/defs/check`` and ``pipelines/defs/report``.
"""

from checks.context import CheckContext, CheckSettings
from checks.findings import FINDINGS_SCHEMA, QUALITIES, QUALITY_LABELS, empty_findings
from checks.registry import RULES, Rule, rule, rules_table, run_rules

# The rule modules register themselves in RULES on import; importing them with the package keeps RULES complete for
# every caller, whichever of its names it imported first.
from checks.rules import clean, complete, correct, live  # noqa: F401

__all__ = [
    "FINDINGS_SCHEMA",
    "QUALITIES",
    "QUALITY_LABELS",
    "RULES",
    "CheckContext",
    "CheckSettings",
    "Rule",
    "empty_findings",
    "rule",
    "rules_table",
    "run_rules",
]
