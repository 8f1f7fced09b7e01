"""Tasks against a generated province's ground truth: per task type, how many tasks point at an injected defect
(precision) and how many injected defects that need a person got a task (recall).

Which injected defects need a person: every defect of ``truth/defects.parquet`` except
- the variations a clean register absorbs (legacy encodings, name variants, partial birth dates) and the rows
  ingest quarantines (``NOT_A_TASK``);
- a defect the data itself settles: a card issued in the extracts to a person without one or with an expired one;
  a missing or unrecognized value another record of the same true person holds; a split-ward address another
  record of the person gives resolved to the true ward; an expired card, missing card or stale verification of a
  person whose death is registered in the extracts;
- a defect the data contradicts, as in the findings' recall test: a card missing for a person not yet 14 by full
  birth date, a defect proven only by an extract row ingest quarantined, a value another defect erased;
- another valid number (a reissued ID: same century, sex and year digits) on the only record read of its person (a
  newborn's birth registration): there is nothing for it to conflict with.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import Final

import polars as pl

__all__ = ["DEFECT_RULES", "NOT_A_TASK", "needed_defects", "task_scores"]

DEFECT_RULES: Final[dict[str, tuple[str, ...]]] = {
    "duplicate_person": ("duplicate_person",),
    "shared_id": ("shared_person_id", "cross_source_mismatch", "card_without_person_record"),
    "sibling_id": (
        "shared_person_id",
        "cross_source_mismatch",
        "id_birth_year_mismatch",
        "id_sex_mismatch",
        "card_without_person_record",
    ),
    "reissued_id": ("cross_source_mismatch", "card_without_person_record"),
    "birth_year_off_by_one": ("cross_source_mismatch", "id_birth_year_mismatch", "card_without_person_record"),
    "missing_required_field": ("required_field_missing",),
    "no_card": ("adult_without_card",),
    "birth_without_record": ("birth_without_person_record",),
    "household_without_head": ("household_without_head",),
    "id_contradicts_birth_year": ("id_birth_year_mismatch", "cross_source_mismatch", "card_without_person_record"),
    "id_contradicts_sex": ("id_sex_mismatch", "cross_source_mismatch", "card_without_person_record"),
    "impossible_date:birth_in_future": ("birth_in_future", "cross_source_mismatch"),
    "impossible_date:death_before_birth": ("death_before_birth",),
    "impossible_date:card_before_birth": ("card_issued_before_birth",),
    "invalid_ethnicity": ("ethnicity_not_recognized",),
    "ambiguous_split_ward": ("address_ambiguous",),
    "death_not_reflected": ("death_not_reflected",),
    "move_not_reflected": ("move_not_reflected",),
    "expired_card": ("card_expired",),
    "stale_verification": ("not_verified_recently",),
}
"""Injected defect (``impossible_date:<kind>`` by its detail) → the task rules that put it before a person; the
first is the rule of its own type."""

NOT_A_TASK: Final = ("legacy_encoding", "name_variant", "partial_birth_date", "partial_birth_date_extract",
                     "malformed_row", "name_rendering", "dropped_middle_name", "reversed_name_order", "name_title",
                     "name_remark", "missing_person_id", "id_as_number",
                     "ethnicity_written_long")  # fmt: skip
_CARD_SETTLES: Final = ("no_card", "expired_card")
_DEATH_SETTLES: Final = ("no_card", "expired_card", "stale_verification")
_VALUE_SETTLES: Final = ("missing_required_field", "invalid_ethnicity")
_NEEDS_ANOTHER_RECORD: Final = ("reissued_id",)


def _typed(truth: pl.DataFrame) -> pl.DataFrame:
    return truth.with_columns(
        pl.when(pl.col("defect") == "impossible_date")
        .then(pl.format("impossible_date:{}", pl.col("detail").str.extract(r"^([a-z_]+)", 1)))
        .otherwise(pl.col("defect"))
        .alias("type")
    )


def _split_ward_resolved(typed: pl.DataFrame, persons: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    """Split-ward addresses another record of the same true person gives in a form that resolves to the true ward
    (the same street in the new unit): the data itself settles them."""
    from normalize.addresses import address_columns

    split = typed.filter(pl.col("defect") == "ambiguous_split_ward").join(
        persons.select("record_id", "true_ward_code"), on="record_id", how="left"
    )
    others = values.join(split.select("true_person").unique(), on="true_person", how="semi").filter(
        pl.col("permanent_address").is_not_null()
    )
    if split.height == 0 or others.height == 0:
        return split.select("record_id", "type").head(0)
    resolved = pl.concat(
        [others.select("record_id", "true_person"), address_columns(others["permanent_address"])], how="horizontal"
    ).filter(pl.col("status") == "resolved")
    matched = split.join(resolved.select("true_person", pl.col("record_id").alias("_other"), "ward_code"),
                         on="true_person", how="inner")  # fmt: skip
    return (
        matched.filter((pl.col("_other") != pl.col("record_id")) & (pl.col("ward_code") == pl.col("true_ward_code")))
        .select("record_id", "type")
        .unique()
    )


def needed_defects(
    truth: pl.DataFrame,
    persons: pl.DataFrame,
    records: pl.DataFrame,
    first_night: date,
    tonight: Collection[str] | None = None,
) -> pl.DataFrame:
    """The injected defects that need a person on a night: record_id, source, type, field, rule (its own task rule).

    truth: ``truth/defects.parquet``; persons: ``truth/persons.parquet``; records: every canonical record read up
    to that night (base and extracts, as ingested); first_night: the first night of the extracts. tonight: the
    record ids of that night's extracts, when several nights were read: a defect of an earlier night's extract row
    has left the queue with its night, except a birth the base still lacks (the register keeps it), and a defect
    an event of a later night proves is not known yet.
    """
    typed = _typed(truth).filter(~pl.col("defect").is_in(NOT_A_TASK) & pl.col("type").is_in(list(DEFECT_RULES)))
    seen = records.select("record_id")
    typed = typed.with_columns(_event=pl.col("detail").str.extract(r"^[a-z_]+=([A-Z]+\d+)$", 1))
    typed = typed.filter(pl.col("_event").is_null() | pl.col("_event").is_in(seen["record_id"].implode()))
    if tonight is not None:
        earlier_extract = (pl.col("source") != "base") & ~pl.col("record_id").is_in(pl.Series(list(tonight)).implode())
        typed = typed.filter(~earlier_extract | (pl.col("defect") == "birth_without_record"))
    typed = typed.drop("_event").join(seen, on="record_id", how="semi")
    quarantined = truth.filter(pl.col("defect") == "malformed_row").select(pl.col("record_id").alias("_event"))
    typed = (
        typed.with_columns(_event=pl.col("detail").str.extract(r"^[a-z_]+=([A-Z]+\d+)$", 1))
        .join(quarantined, on="_event", how="anti")
        .drop("_event")
    )
    who = persons.select("record_id", "true_person")
    typed = typed.join(who, on="record_id", how="left")
    events = records.select("record_id", "source", "event_type").join(who, on="record_id", how="inner")
    carded = events.filter(pl.col("source") == "card").select("true_person").unique()
    died = events.filter((pl.col("source") == "civil_status") & (pl.col("event_type") == "Khai tử")).select(
        "true_person"
    )
    settled_by_card = typed.filter(pl.col("defect").is_in(_CARD_SETTLES)).join(carded, on="true_person", how="semi")
    settled_by_death = typed.filter(pl.col("defect").is_in(_DEATH_SETTLES)).join(died, on="true_person", how="semi")
    # A value another record of the same true person holds.
    values = records.join(who, on="record_id", how="inner")
    value_rows = typed.filter(pl.col("defect").is_in(_VALUE_SETTLES))
    held = []
    for column in value_rows["field"].drop_nulls().unique().to_list():
        if column not in values.columns:
            continue
        holders = values.filter(pl.col(column).is_not_null() & (pl.col(column).str.strip_chars() != "")).select(
            "true_person", pl.col("record_id").alias("_holder")
        )
        if column == "ethnicity":
            from records.ethnicities import canonical_ethnicity

            valid = values.filter(
                pl.col("ethnicity").map_elements(lambda t: canonical_ethnicity(t) is not None, return_dtype=pl.Boolean)
            )
            holders = valid.select("true_person", pl.col("record_id").alias("_holder"))
        candidates = value_rows.filter(pl.col("field") == column).join(holders, on="true_person", how="inner")
        held.append(candidates.filter(pl.col("_holder") != pl.col("record_id")).select("record_id", "type"))
    settled_by_value = pl.concat(held).unique() if held else typed.head(0).select("record_id", "type")
    settled = pl.concat(
        [
            settled_by_card.select("record_id", "type"),
            settled_by_death.select("record_id", "type"),
            settled_by_value,
            _split_ward_resolved(typed, persons, values),
        ]
    ).unique()
    typed = typed.join(settled, on=["record_id", "type"], how="anti")
    # Contradicted by the data: a card "missing" before 14 full years; a split-ward address another defect emptied.
    field_value = pl.struct("field", *[c for c in records.columns if c != "record_id"])
    with_values = typed.join(records.drop("source"), on="record_id", how="left")
    with_values = with_values.with_columns(
        field_value.map_elements(
            lambda row: row.get(row["field"]) if row["field"] in row else None, return_dtype=pl.String
        ).alias("_value")
    )
    born = pl.col("birth_date").str.to_date("%Y-%m-%d", strict=False)
    under_14 = (pl.col("defect") == "no_card") & (born.dt.offset_by("14y") > pl.lit(first_night)).fill_null(False)
    emptied = (pl.col("defect") == "ambiguous_split_ward") & pl.col("_value").is_null()
    alone = values.group_by("true_person").agg(pl.len().alias("_records")).filter(pl.col("_records") == 1)
    with_values = with_values.with_columns(
        _alone=pl.col("true_person").is_in(alone["true_person"].implode())
        & pl.col("defect").is_in(_NEEDS_ANOTHER_RECORD)
    )
    kept = with_values.filter(~under_14 & ~emptied & ~pl.col("_alone"))
    return kept.select(
        "record_id",
        "source",
        "type",
        "field",
        pl.col("type").replace_strict({t: r[0] for t, r in DEFECT_RULES.items()}, return_dtype=pl.String).alias("rule"),
    ).unique(["record_id", "type"], keep="first", maintain_order=True)


def task_scores(
    tasks: pl.DataFrame, truth: pl.DataFrame, needed: pl.DataFrame, rules: Iterable[str] | None = None
) -> pl.DataFrame:
    """One row per task rule: tasks, true (tasks naming a record that carries an injected defect of a type this rule
    reports), precision, needed (injected defects of the rule's own type that need a person), found (those with a
    task of a rule that reports them), recall. tasks: ``rule``, ``record_ids`` (list)."""
    typed = _typed(truth).filter(pl.col("type").is_in(list(DEFECT_RULES)))
    reporting = pl.DataFrame(
        [(t, rule) for t, rules_of in DEFECT_RULES.items() for rule in rules_of], schema=["type", "rule"], orient="row"
    )
    flagged = typed.join(reporting, on="type").select("record_id", "rule").unique()
    task_records = tasks.with_row_index("_task").select("_task", "rule", pl.col("record_ids").alias("record_id"))
    task_records = task_records.explode("record_id")
    true_tasks = task_records.join(flagged, on=["record_id", "rule"], how="semi").select("_task").unique()
    per_rule = (
        tasks.with_row_index("_task")
        .with_columns(pl.col("_task").is_in(true_tasks["_task"].implode()).alias("_true"))
        .group_by("rule")
        .agg(pl.len().alias("tasks"), pl.col("_true").sum().alias("true"))
    )
    covered = needed.join(reporting, on="type", suffix="_reporting").join(
        task_records.select(pl.col("rule").alias("rule_reporting"), "record_id").unique(),
        on=["rule_reporting", "record_id"],
        how="semi",
    )
    found = covered.select("record_id", "type", "rule").unique().group_by("rule").agg(pl.len().alias("found"))
    wanted = needed.group_by("rule").agg(pl.len().alias("needed"))
    names: Sequence[str] = sorted(set(rules or []) | set(per_rule["rule"].to_list()) | set(wanted["rule"].to_list()))
    table = (
        pl.DataFrame({"rule": names})
        .join(per_rule, on="rule", how="left")
        .join(wanted, on="rule", how="left")
        .join(found, on="rule", how="left")
        .with_columns(pl.col("tasks", "true", "needed", "found").fill_null(0).cast(pl.Int64))
        .with_columns(
            pl.when(pl.col("tasks") > 0).then(pl.col("true") / pl.col("tasks")).alias("precision"),
            pl.when(pl.col("needed") > 0).then(pl.col("found") / pl.col("needed")).alias("recall"),
        )
        .select("rule", "tasks", "true", "precision", "needed", "found", "recall")
        .sort("tasks", "rule", descending=[True, False])
    )
    return table
