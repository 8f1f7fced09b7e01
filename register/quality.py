"""The four qualities of the cleaned register: the same rules the raw base is checked with, run on the golden
records (one "base" record per person), plus the conflicts between sources the register did not settle; and the
scores of both, side by side ("before → after").
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Final

import polars as pl

from checks import RULES, CheckContext, run_rules
from checks.context import with_routing
from checks.findings import FINDINGS_SCHEMA, empty_findings
from checks.scores import SCORES_SCHEMA, compute_scores
from normalize.frame import normalized_schema
from records.schema import CANONICAL_SCHEMA
from register.changes import FIELD_LABELS

__all__ = [
    "CONFLICT_RULE",
    "STAGE_SCORES_SCHEMA",
    "check_records",
    "conflict_findings",
    "register_findings",
    "stage_scores",
]

CONFLICT_RULE: Final = "cross_source_mismatch"
"""The rule id of a conflict between sources: the same meaning as the raw check of linked records."""

STAGE_SCORES_SCHEMA: Final = pl.Schema([("stage", pl.String()), *SCORES_SCHEMA.items()])
"""Scores with ``stage``: "base" (the raw population base) or "register" (the cleaned register)."""


@cache
def _normalized_schema() -> pl.Schema:
    return normalized_schema()


def check_records(golden: pl.DataFrame) -> pl.DataFrame:
    """The golden records as the quality checks read a normalized population base: ``record_id`` = person key,
    ``source`` = "base", canonical and normalized columns (those a golden record has no value for are null)."""
    frame = golden.with_columns(
        pl.col("person_key").alias("record_id"),
        pl.lit("base").alias("source"),
        pl.lit([], dtype=pl.List(pl.String)).alias("legacy_encoded_columns"),
    )
    missing = [
        pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in (*CANONICAL_SCHEMA.items(), *_normalized_schema().items())
        if name not in frame.columns
    ]
    return frame.with_columns(missing) if missing else frame


def conflict_findings(golden: pl.DataFrame) -> pl.DataFrame:
    """One finding per person whose sources hold different values the survivorship rules do not settle."""
    conflicted = golden.filter(pl.col("conflicts").list.len() > 0)
    if conflicted.height == 0:
        return empty_findings()
    rule = RULES[CONFLICT_RULE]
    labels = pl.col("conflicts").list.eval(pl.element().replace_strict(FIELD_LABELS, default=pl.element()))
    return conflicted.select(
        pl.col("person_key").alias("record_id"),
        pl.lit("base").alias("source"),
        pl.lit(rule.id).alias("rule"),
        pl.lit(rule.quality).alias("quality"),
        pl.lit(rule.severity).alias("severity"),
        pl.coalesce("permanent_address_ward_code", "current_address_ward_code").alias("ward_code"),
        (
            pl.lit("Các nguồn ghi khác nhau về ")
            + labels.list.join(", ")
            + pl.lit("; sổ dân cư sạch giữ giá trị của nguồn ưu tiên, cần đối chiếu giấy tờ gốc (bản ghi ")
            + pl.col("conflict_record_ids").list.join(", ")
            + pl.lit(").")
        ).alias("detail"),
        pl.col("conflict_record_ids").alias("related_record_ids"),
    ).match_to_schema(FINDINGS_SCHEMA)


def register_findings(golden: pl.DataFrame, night: date) -> pl.DataFrame:
    """Every registered rule run on the golden records (``record_id`` = person key), plus the conflicts."""
    records = check_records(golden)
    context = CheckContext(base=records, extracts=records.head(0), night=night)
    findings, _ = run_rules(context)
    return pl.concat([findings, conflict_findings(golden)], how="vertical").match_to_schema(FINDINGS_SCHEMA)


def stage_scores(
    raw_records: pl.DataFrame,
    raw_findings: pl.DataFrame,
    register: pl.DataFrame,
    findings_of_register: pl.DataFrame,
    night: date,
) -> pl.DataFrame:
    """The four scores of the raw population base (its records and their findings tonight) and of the register
    (one record per person), per ward, province and overall (``STAGE_SCORES_SCHEMA``)."""
    base = with_routing(raw_records.filter(pl.col("source") == "base"))
    before = compute_scores(base, raw_findings.filter(pl.col("source") == "base"), night)
    persons = with_routing(
        register.select(
            pl.col("person_key").alias("record_id"),
            pl.lit("base").alias("source"),
            "permanent_address_ward_code",
            "current_address_ward_code",
        )
    )
    after = compute_scores(persons, findings_of_register, night)
    return pl.concat(
        [
            before.select(pl.lit("base").alias("stage"), pl.all()),
            after.select(pl.lit("register").alias("stage"), pl.all()),
        ]
    ).match_to_schema(STAGE_SCORES_SCHEMA)
