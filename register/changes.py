"""The night's change set: every field of a population-base record that the register holds in a better or newer
form, as one row the national system's team can load (record, field, old value, new value, rule, evidence).

Only safe fixes are carried:
- the same value in its normalized form (Unicode, tone placement, Đ, case; legacy TCVN3/VNI text converted;
  the post-2025 administrative units), possibly from another record of the person (diacritics, a full date);
- a change in the person's life that an authoritative event records (``updates`` in the survivorship rules:
  a registered death, a permanent or temporary registration, a new card, a marriage);
- a value the record lacks (or holds in an impossible form), taken from another record of the person, when the
  person has a single base record (duplicates wait for their merge to be confirmed).
A different value that the rules do not settle (``on_conflict = "task"``) is never a change: it is a task.
The register never clears a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Final

import polars as pl

from records.excel import EXCEL_SHOWN_ROWS, text_only_workbook
from records.files import atomic_write
from records.schema import CANONICAL_COLUMNS
from register.fields import ANCHOR, carried_columns, kind_of, possible_death
from register.golden import RegisterBuild
from register.rules import SurvivorshipRules, survivorship_rules
from register.types import CHANGES_SCHEMA, source_column

__all__ = [
    "CHANGES_EXCEL_SHEET",
    "FIELD_LABELS",
    "build_changes",
    "changes_by_rule",
    "changes_by_ward",
    "changes_totals",
    "write_changes_excel",
]

FIELD_LABELS: Final[dict[str, str]] = {
    **{c.name: c.vietnamese.split(":")[0].split(" (")[0] for c in CANONICAL_COLUMNS},
    "status": "Tình trạng",
}
STATUS_LABELS: Final = {"alive": "Còn sống", "deceased": "Đã chết", "moved_out": "Đã chuyển đi"}
CHANGES_EXCEL_SHEET: Final = "Thay đổi"
_FILLABLE_KINDS: Final = frozenset({"person_id", "date", "sex"})
"""Kinds whose impossible value (an invalid ID, date or sex) may be replaced like a missing one."""


def _base_records(build: RegisterBuild, rules: SurvivorshipRules) -> pl.DataFrame:
    """Tonight's base records with the columns the change set compares (and how many the person has)."""
    wanted = {"record_id", "person_key", "legacy_encoded_columns", *_DEATH_COLUMNS}
    for column in rules.columns:
        wanted.update([column, *carried_columns(column)])
        kind = kind_of(column)
        if kind.name == "text":
            wanted.update([f"_text_{column}", f"_textkey_{column}"])
        elif kind.name == "ethnicity":
            wanted.update(["_ethnicity_value", "_ethnicity_key", "_ethnicity_valid"])
        elif kind.name == "address":
            wanted.add(f"_streetkey_{column}")
    columns = [c for c in build.records.columns if c in wanted]
    records = build.records.filter((pl.col("source") == "base") & ~pl.col("_previous")).select(columns)
    counts = records.group_by("person_key").agg(pl.len().alias("_base_records"))
    return records.join(counts, on="person_key", how="left", maintain_order="left")


def _golden_side(golden: pl.DataFrame, column: str) -> pl.DataFrame:
    kind = kind_of(column)
    names = [column, *carried_columns(column)]
    if kind.key is not None:
        names.append(f"_key_{column}")
    if kind.name == "address":
        names.append(f"_streetkey_{column}")
    return golden.select(
        "person_key",
        "conflicts",
        pl.col(source_column(column)).alias("_lineage"),
        pl.coalesce("permanent_address_ward_code", "current_address_ward_code").alias("_ward"),
        pl.col("person_id").alias("_person_id"),
        *(pl.col(n).alias(f"{n}{ANCHOR}") for n in names if n in golden.columns),
    )


def _field_changes(base: pl.DataFrame, golden: pl.DataFrame, column: str, rules: SurvivorshipRules) -> pl.DataFrame:
    kind = kind_of(column)
    rule = rules.rule_of(column)
    own = ["record_id", "person_key", "_base_records", "legacy_encoded_columns", column, *carried_columns(column)]
    if kind.name == "text":
        own += [f"_text_{column}", f"_textkey_{column}"]
    elif kind.name == "ethnicity":
        own += ["_ethnicity_value", "_ethnicity_key", "_ethnicity_valid"]
    elif kind.name == "address":
        own.append(f"_streetkey_{column}")
    joined = base.select([c for c in dict.fromkeys(own) if c in base.columns]).join(
        _golden_side(golden, column), on="person_key", how="inner"
    )
    raw = pl.col(column).str.strip_chars()
    new = pl.col(f"{column}{ANCHOR}")
    lineage = pl.col("_lineage")
    absent = raw.is_null() | (raw == "")
    invalid = ~kind.valid(column) if kind.name in _FILLABLE_KINDS else pl.lit(False)
    agrees = kind.agrees(column) & ~absent
    update: pl.Expr = pl.lit(None, dtype=pl.String)
    for spec, label in reversed(list(rule.updates.items())):
        matches = lineage.struct.field("source") == spec.source
        if spec.event_type is not None:
            matches = matches & (lineage.struct.field("event_type") == spec.event_type)
        update = pl.when(matches.fill_null(False)).then(pl.lit(label)).otherwise(update)
    form: pl.Expr = pl.lit("normalized_form")
    form = pl.when(lineage.struct.field("record_id") != pl.col("record_id")).then(pl.lit("better_form")).otherwise(form)
    if kind.name == "address":
        converted = pl.col(f"{column}_legacy_ward_code").is_not_null() & (
            pl.col(f"{column}_status{ANCHOR}") == "resolved"
        )
        form = pl.when(converted).then(pl.lit("post_2025_address")).otherwise(form)
    legacy = pl.col("legacy_encoded_columns").list.contains(column).fill_null(False)
    form = pl.when(legacy).then(pl.lit("legacy_encoding")).otherwise(form)
    change_rule = (
        pl.when(pl.col("conflicts").list.contains(rule.name).fill_null(False))
        .then(pl.lit(None, dtype=pl.String))
        .when(agrees)
        .then(form)
        .when(update.is_not_null())
        .then(update)
        .when((absent | invalid) & (pl.col("_base_records") == 1))
        .then(pl.lit("filled_from_source"))
    )
    differs = new.is_not_null() & (absent | (raw != new)).fill_null(True)
    return (
        joined.with_columns(change_rule.alias("rule"))
        .filter(differs & pl.col("rule").is_not_null())
        .select(
            "person_key",
            "record_id",
            pl.col("_person_id").alias("person_id"),
            pl.col("_ward").alias("ward_code"),
            pl.lit(column).alias("field"),
            pl.col(column).alias("old_value"),
            new.alias("new_value"),
            "rule",
            pl.concat_list(pl.col("record_id"), lineage.struct.field("record_id"))
            .list.drop_nulls()
            .list.unique(maintain_order=True)
            .alias("evidence_record_ids"),
        )
    )


def _status_changes(base: pl.DataFrame, golden: pl.DataFrame) -> pl.DataFrame:
    lineage = pl.col(source_column("status"))
    side = golden.select(
        "person_key",
        "status",
        lineage.alias("_lineage"),
        pl.coalesce("permanent_address_ward_code", "current_address_ward_code").alias("ward_code"),
        pl.col("person_id").alias("_person_id"),
    )
    base_status = pl.when(possible_death()).then(pl.lit("deceased")).otherwise(pl.lit("alive"))
    joined = base.select("person_key", "record_id", *_DEATH_COLUMNS, base_status.alias("old_value")).join(
        side, on="person_key", how="inner"
    )
    rule = pl.col("status").replace_strict(
        {"deceased": "death_registered", "moved_out": "moved_out"}, default=None, return_dtype=pl.String
    )
    return joined.filter((pl.col("status") != pl.col("old_value")) & (pl.col("status") != "alive")).select(
        "person_key",
        "record_id",
        pl.col("_person_id").alias("person_id"),
        "ward_code",
        pl.lit("status").alias("field"),
        "old_value",
        pl.col("status").alias("new_value"),
        rule.alias("rule"),
        pl.concat_list(pl.col("record_id"), pl.col("_lineage").struct.field("record_id"))
        .list.drop_nulls()
        .list.unique(maintain_order=True)
        .alias("evidence_record_ids"),
    )


_DEATH_COLUMNS: Final = ("death_date_value", "death_date_precision", "death_date_valid", "birth_date_value")


def build_changes(
    build: RegisterBuild,
    night: date,
    *,
    previous_changes: pl.DataFrame | None = None,
    rules: SurvivorshipRules | None = None,
) -> pl.DataFrame:
    """The change set of ``night`` (``register.types.CHANGES_SCHEMA``), sorted by person, record and field.

    previous_changes: the previous version's change set; a fix it already held (same record, field and new value)
    keeps its first night, so ``night == tonight`` selects what the register applied for the first time tonight.
    """
    rules = rules or survivorship_rules()
    base = _base_records(build, rules)
    golden = build.golden
    parts = [_field_changes(base, golden, column, rules) for column in rules.columns]
    parts.append(_status_changes(base, golden))
    changes = pl.concat(parts, how="vertical_relaxed").with_columns(pl.lit(night, dtype=pl.Date).alias("night"))
    if previous_changes is not None and previous_changes.height:
        first = previous_changes.select("record_id", "field", "new_value", pl.col("night").alias("_first"))
        changes = changes.join(
            first.unique(["record_id", "field", "new_value"], keep="first"),
            on=["record_id", "field", "new_value"],
            how="left",
            maintain_order="left",
        ).with_columns(pl.coalesce("_first", "night").alias("night"))
    order = {name: i for i, name in enumerate([*rules.columns, "status"])}
    return (
        changes.with_columns(pl.col("field").replace_strict(order, return_dtype=pl.Int32).alias("_order"))
        .sort("person_key", "record_id", "_order")
        .select(list(CHANGES_SCHEMA))
        .match_to_schema(CHANGES_SCHEMA)
    )


def changes_by_rule(changes: pl.DataFrame | pl.LazyFrame, night: date, labels: Mapping[str, str]) -> pl.DataFrame:
    """Fixes per change rule: all that the base still lacks, and those applied for the first time tonight. A lazy
    ``changes`` (the store's scan) is read a few columns at a time, never whole."""
    return (
        changes.lazy()
        .group_by("rule")
        .agg(
            pl.len().alias("changes"),
            (pl.col("night") == night).sum().alias("tonight"),
            pl.col("record_id").n_unique().alias("records"),
        )
        .with_columns(pl.col("rule").replace_strict(dict(labels), default=pl.col("rule")).alias("label"))
        .sort("changes", "rule", descending=[True, False])
        .collect()
    )


def changes_by_ward(changes: pl.DataFrame | pl.LazyFrame, night: date) -> pl.DataFrame:
    """Fixes per current ward (null: the register knows no ward for the person)."""
    return (
        changes.lazy()
        .group_by("ward_code")
        .agg(
            pl.len().alias("changes"),
            (pl.col("night") == night).sum().alias("tonight"),
            pl.col("person_key").n_unique().alias("persons"),
        )
        .sort("changes", "ward_code", descending=[True, False], nulls_last=True)
        .collect()
    )


def changes_totals(changes: pl.DataFrame | pl.LazyFrame, night: date) -> tuple[int, int, int]:
    """Rows of the change set, rows applied for the first time tonight, and base records with a fix."""
    totals = (
        changes.lazy()
        .select(pl.len(), (pl.col("night") == night).sum(), pl.col("record_id").n_unique())
        .collect()
        .row(0)
    )
    return int(totals[0]), int(totals[1] or 0), int(totals[2])


def _excel_rows(changes: pl.DataFrame, labels: Mapping[str, str], ward_names: Mapping[str, str]) -> pl.DataFrame:
    def shown(column: str) -> pl.Expr:
        value = pl.col(column)
        status = value.replace_strict(STATUS_LABELS, default=value)
        return pl.when(pl.col("field") == "status").then(status).otherwise(value)

    return changes.select(
        pl.col("night").dt.strftime("%d/%m/%Y").alias("Đêm áp dụng"),
        pl.col("person_key").alias("Mã người (sổ sạch)"),
        pl.col("record_id").alias("Mã bản ghi CSDL"),
        pl.col("person_id").alias("Số định danh"),
        pl.col("ward_code").alias("Mã xã/phường"),
        pl.col("ward_code").replace_strict(dict(ward_names), default=None).alias("Xã/phường"),
        pl.col("field").replace_strict(FIELD_LABELS, default=pl.col("field")).alias("Trường thông tin"),
        shown("old_value").alias("Giá trị hiện tại trong CSDL"),
        shown("new_value").alias("Giá trị đề nghị cập nhật"),
        pl.col("rule").replace_strict(dict(labels), default=pl.col("rule")).alias("Căn cứ sửa"),
        pl.col("rule").alias("Mã quy tắc"),
        pl.col("evidence_record_ids").list.join(", ").alias("Bản ghi làm căn cứ"),
    )


def _vi_int(value: int) -> str:
    """An integer with Vietnamese digit grouping (1.048.575)."""
    return f"{value:,}".replace(",", ".")


def write_changes_excel(
    path: Path,
    changes: pl.DataFrame | pl.LazyFrame,
    night: date,
    *,
    labels: Mapping[str, str] | None = None,
    ward_names: Mapping[str, str] | None = None,
    max_rows: int = EXCEL_SHOWN_ROWS,
) -> int:
    """The change set as an Excel workbook with Vietnamese headers: a summary sheet (by rule, by ward, over every
    change) and one row per fix, tonight's first, at most ``max_rows`` of them (the whole set is the Parquet file).
    Every data cell is text (``records.excel``). Returns the rows written. A lazy ``changes`` (the store's scan)
    is never read whole: the summaries read a few columns, the sheet the first ``max_rows`` rows in its order."""
    labels = labels if labels is not None else survivorship_rules().change_rules
    ward_names = ward_names or {}
    shown = (
        changes.lazy()
        .sort(pl.col("night") != night, "ward_code", "person_key", "record_id", nulls_last=True, maintain_order=True)
        .head(max_rows)
        .collect()
    )
    total = changes.height if isinstance(changes, pl.DataFrame) else int(changes.select(pl.len()).collect().item())
    rows = _excel_rows(shown, labels, ward_names)
    by_rule = changes_by_rule(changes, night, labels).select(
        pl.col("label").alias("Căn cứ sửa"),
        pl.col("rule").alias("Mã quy tắc"),
        pl.col("changes").alias("Số thay đổi"),
        pl.col("tonight").alias("Áp dụng lần đầu đêm nay"),
        pl.col("records").alias("Số bản ghi CSDL"),
    )
    by_ward = changes_by_ward(changes, night).select(
        pl.col("ward_code").alias("Mã xã/phường"),
        pl.col("ward_code").replace_strict(dict(ward_names), default=None).alias("Xã/phường"),
        pl.col("changes").alias("Số thay đổi"),
        pl.col("tonight").alias("Áp dụng lần đầu đêm nay"),
        pl.col("persons").alias("Số người"),
    )

    def write(temporary: Path) -> None:
        with text_only_workbook(temporary, constant_memory=False) as workbook:
            workbook.set_properties(
                {"title": f"Sổ dân cư sạch — thay đổi đề nghị cập nhật đêm {night:%d/%m/%Y}", "author": "dancu"}
            )
            for name, frame in (("Theo căn cứ sửa", by_rule), ("Theo xã phường", by_ward), (CHANGES_EXCEL_SHEET, rows)):
                frame.write_excel(
                    workbook=workbook,
                    worksheet=name,
                    autofit=frame.height < 50_000,
                    table_style="Table Style Light 9",
                )
            if total > rows.height:
                sheet = workbook.get_worksheet_by_name("Theo căn cứ sửa")
                if sheet is not None:
                    sheet.write(
                        by_rule.height + 2,
                        0,
                        f'Sheet "{CHANGES_EXCEL_SHEET}" chỉ chứa {_vi_int(rows.height)} trên '
                        f"{_vi_int(total)} dòng (thay đổi áp dụng lần đầu đêm nay trước); "
                        "đủ các dòng có trong changes.parquet.",
                    )

    atomic_write(path, write)
    return rows.height
