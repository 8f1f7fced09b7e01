"""The clean register (sổ dân cư sạch): one golden record per citizen with lineage, the night's change set, and the
versioned store that keeps both across nights.

A pure library (no Dagster): ``pipelines/defs/register`` wires it into the nightly graph, ``dancu register`` into the
command line. Survivorship rules are data: ``register/survivorship.toml``.
"""

from register.golden import RegisterBuild, assign_successors, attach_person_keys, build_golden, register_columns
from register.rules import FieldRule, SurvivorshipRules, load_rules, survivorship_rules
from register.types import CHANGES_SCHEMA, LINEAGE, STATUSES

__all__ = [
    "CHANGES_SCHEMA",
    "LINEAGE",
    "STATUSES",
    "FieldRule",
    "RegisterBuild",
    "SurvivorshipRules",
    "assign_successors",
    "attach_person_keys",
    "build_golden",
    "load_rules",
    "register_columns",
    "survivorship_rules",
]
