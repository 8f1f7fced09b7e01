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
from register.rules import survivorship_rules
from register.types import source_column

__all__ = [
    "CONFLICT_RULE",
    "STAGE_SCORES_SCHEMA",
    "UNREFLECTED_RULES",
    "check_records",
    "conflict_findings",
    "persistent_findings",
    "persistent_sources",
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


UNREFLECTED_RULES: Final = {
    ("status", "death_registered"): "death_not_reflected",
    ("status", "moved_out"): "move_not_reflected",
    ("permanent_address", "move_registered"): "move_not_reflected",
}
"""(field, change rule) of the change set → the rule of an event the population base does not reflect yet."""
_UNREFLECTED_TEXT: Final = {
    "death_not_reflected": "đã đăng ký khai tử",
    "move_not_reflected": "đã thay đổi nơi thường trú",
}


def _persistent_conflicts(register: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    """The register's conflicts with a base record, as findings on that record naming the record of the golden
    value (``<field>_source``) beside it."""
    bases = clusters.filter(pl.col("source") == "base").select(
        pl.col("record_id").cast(pl.String).alias("_record"), pl.col("cluster_id").cast(pl.String).alias("_person")
    )
    conflicted = conflict_findings(register)
    if conflicted.height == 0:
        return conflicted
    base_sides = (
        conflicted.select(pl.col("record_id").alias("_person"), pl.col("related_record_ids").alias("_record"))
        .explode("_record")
        .join(bases, on=["_record", "_person"], how="semi")
        .group_by("_person")
        .agg(pl.col("_record").min().alias("_base_record"))
    )
    conflicting = [r.name for r in survivorship_rules().fields if r.on_conflict == "task"]
    fields = [f for f in conflicting if source_column(f) in register.columns]
    lineage = register.select(
        pl.col("person_key").alias("_person"),
        pl.concat_list(
            [
                pl.when(pl.col("conflicts").list.contains(f)).then(pl.col(source_column(f)).struct.field("record_id"))
                for f in fields
            ]
        )
        .list.drop_nulls()
        .alias("_golden_records"),
    )
    return (
        conflicted.join(base_sides, left_on="record_id", right_on="_person", how="inner")
        .join(lineage, left_on="record_id", right_on="_person", how="left")
        .with_columns(
            pl.col("_base_record").alias("record_id"),
            pl.concat_list("related_record_ids", "_golden_records")
            .list.set_difference(pl.concat_list("_base_record"))
            .list.unique()
            .list.sort()
            .alias("related_record_ids"),
        )
        .select(FINDINGS_SCHEMA.names())
    )


def persistent_sources(register: pl.LazyFrame, changes: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The register rows and change-set rows ``persistent_findings`` can make a finding of, read from the whole
    register and change set: rows with a conflict or of a person the base does not hold, and the changes of an
    unreflected event (``UNREFLECTED_RULES``). ``persistent_findings`` of these gives the findings of all of them,
    without holding a province's register (its lineage structs are most of a night's memory) to find them."""
    events = pl.any_horizontal([(pl.col("field") == f) & (pl.col("rule") == r) for f, r in UNREFLECTED_RULES])
    columns = register.collect_schema().names()
    # A register without a column makes no finding of it (``persistent_findings`` looks for the columns too).
    kept = [
        *([pl.col("conflicts").list.len() > 0] if "conflicts" in columns else []),
        *([~pl.col("in_base")] if "in_base" in columns else []),
    ]
    # Streaming: a row is kept or dropped as its batch is read, never the whole register decoded first.
    rows = register.filter(pl.any_horizontal(kept) if kept else pl.lit(False)).collect(engine="streaming")
    return rows, changes.filter(events).collect(engine="streaming")


def persistent_findings(
    register: pl.DataFrame, changes: pl.DataFrame, clusters: pl.DataFrame | None = None, night: date | None = None
) -> pl.DataFrame:
    """Findings the register keeps alive across nights: an event of an earlier night that the population base
    still does not show (a death or a move: the change set still carries it), a conflict the golden record still
    lists with a base record (with ``clusters``), and a registered birth whose child still has no base record.
    Tonight's extracts only hold tonight's events, so without these an unreflected event would be forgotten the next
    night.

    clusters (record_id, cluster_id, source): when given, an event that one base record of the person already
    shows counts as reflected (the person's other, duplicate record is the duplicate's problem), as in the checks.
    night: when given, only events of earlier nights (tonight's own are tonight's findings already).
    """
    parts: list[pl.DataFrame] = []
    keys = pl.DataFrame(
        [(f, r, rule) for (f, r), rule in UNREFLECTED_RULES.items()],
        schema={"field": pl.String, "rule": pl.String, "_rule": pl.String},
        orient="row",
    )
    events = changes.join(keys, on=["field", "rule"], how="inner")
    if night is not None:
        events = events.filter(pl.col("night") < night)
    if clusters is not None and "source" in clusters.columns:
        base_records = (
            clusters.filter(pl.col("source") == "base")
            .group_by(pl.col("cluster_id").alias("person_key"))
            .agg(pl.col("record_id").n_unique().alias("_base_records"))
        )
        covered = events.group_by("person_key", "_rule").agg(pl.col("record_id").n_unique().alias("_unreflected"))
        everywhere = covered.join(base_records, on="person_key", how="left").filter(
            pl.col("_base_records").is_null() | (pl.col("_unreflected") >= pl.col("_base_records"))
        )
        events = events.join(everywhere.select("person_key", "_rule"), on=["person_key", "_rule"], how="semi")
    for rule_id, verb in _UNREFLECTED_TEXT.items():
        rows = events.filter(pl.col("_rule") == rule_id)
        if rows.height == 0:
            continue
        rule = RULES[rule_id]
        evidence = pl.col("evidence_record_ids").list.set_difference(pl.concat_list("record_id"))
        parts.append(
            rows.select(
                "record_id",
                pl.lit("base").alias("source"),
                pl.lit(rule.id).alias("rule"),
                pl.lit(rule.quality).alias("quality"),
                pl.lit(rule.severity).alias("severity"),
                "ward_code",
                pl.format(
                    'Sổ dân cư sạch ghi người này {} từ đêm {} (hồ sơ {}) nhưng CSDL dân cư vẫn ghi "{}".',
                    pl.lit(verb),
                    pl.col("night").dt.strftime("%d/%m/%Y"),
                    evidence.list.join(", "),
                    pl.col("old_value").fill_null("(trống)"),
                ).alias("detail"),
                evidence.alias("related_record_ids"),
            )
        )
    # A conflict the register keeps (the golden record lists it) in which a base record holds the other value: the
    # record that gave the golden value may be an extract of an earlier night, the base still has to be put right or
    # confirmed. (A conflict only with an earlier night's extract record left the queue with its night.)
    if (
        clusters is not None
        and "source" in clusters.columns
        and {"conflicts", "conflict_record_ids"} <= set(register.columns)
    ):
        parts.append(_persistent_conflicts(register, clusters))
    # A birth registration (hộ tịch) is the only record of a person the base does not hold.
    lineage_columns = [c for c in register.columns if c.endswith("_source")]
    from_residence = pl.any_horizontal(
        [(pl.col(c).struct.field("source") == "residence").fill_null(False) for c in lineage_columns]
    )
    birth = pl.col("birth_date_source")
    if not {"in_base", "birth_date_source"} <= set(register.columns):
        return pl.concat(parts, how="vertical").match_to_schema(FINDINGS_SCHEMA) if parts else empty_findings()
    earlier = (birth.struct.field("night") < night).fill_null(False) if night is not None else pl.lit(True)
    newborns = register.filter(
        ~pl.col("in_base")
        & (birth.struct.field("event_type") == "Khai sinh").fill_null(False)
        & ~from_residence
        & earlier
    )
    if newborns.height:
        rule = RULES["birth_without_person_record"]
        parts.append(
            newborns.select(
                birth.struct.field("record_id").alias("record_id"),
                pl.lit("civil_status").alias("source"),
                pl.lit(rule.id).alias("rule"),
                pl.lit(rule.quality).alias("quality"),
                pl.lit(rule.severity).alias("severity"),
                pl.coalesce("permanent_address_ward_code", "current_address_ward_code").alias("ward_code"),
                pl.format(
                    "Khai sinh số {} (sổ dân cư sạch từ đêm {}) cho {} chưa có bản ghi trong CSDL dân cư.",
                    birth.struct.field("record_id"),
                    birth.struct.field("night").dt.strftime("%d/%m/%Y"),
                    pl.col("full_name").fill_null("(không rõ tên)"),
                ).alias("detail"),
                pl.lit([], dtype=pl.List(pl.String)).alias("related_record_ids"),
            )
        )
    if not parts:
        return empty_findings()
    return pl.concat(parts, how="vertical").match_to_schema(FINDINGS_SCHEMA)


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
    (one record per person), per ward, province and overall (``STAGE_SCORES_SCHEMA``).

    The register is scored over the persons the base holds or should hold: those with a base record, and those
    known from an extract only (a newborn, a person the base lost) who live in a province the base covers. A visitor
    from another province with a temporary registration here is in the register but not scored with the base."""
    base = with_routing(raw_records.filter(pl.col("source") == "base"))
    before = compute_scores(base, raw_findings.filter(pl.col("source") == "base"), night)
    covered = base["province_code"].drop_nulls().unique().implode()
    persons = with_routing(
        register.select(
            pl.col("person_key").alias("record_id"),
            pl.lit("base").alias("source"),
            "in_base",
            "permanent_address_ward_code",
            "current_address_ward_code",
        )
    ).filter(pl.col("in_base") | pl.col("province_code").is_in(covered).fill_null(False))
    after = compute_scores(persons, findings_of_register, night)
    return pl.concat(
        [
            before.select(pl.lit("base").alias("stage"), pl.all()),
            after.select(pl.lit("register").alias("stage"), pl.all()),
        ]
    ).match_to_schema(STAGE_SCORES_SCHEMA)
