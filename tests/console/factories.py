"""Small hand-built frames in the shapes the nightly stages produce: normalized records, findings, scored pairs."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from checks import rules_table
from corrections.build import NightDrafts, build_drafts
from normalize import units

FINDINGS_SCHEMA = pl.Schema(
    [
        ("record_id", pl.String()),
        ("source", pl.String()),
        ("rule", pl.String()),
        ("quality", pl.String()),
        ("severity", pl.String()),
        ("ward_code", pl.String()),
        ("detail", pl.String()),
        ("related_record_ids", pl.List(pl.String())),
    ]
)


def wards(count: int = 3) -> list[str]:
    """Real current ward codes of one province (the first province of the official table)."""
    table = units.current_wards()
    province = table.get_column("province_code")[0]
    return table.filter(pl.col("province_code") == province).get_column("ward_code").head(count).to_list()


def ward_provinces() -> dict[str, str]:
    table = units.current_wards()
    return dict(zip(table.get_column("ward_code").to_list(), table.get_column("province_code").to_list(), strict=True))


def record(record_id: str, ward: str | None, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "record_id": record_id,
        "person_id": values.pop("person_id", None),
        "full_name": values.pop("full_name", "Nguyễn Văn An"),
        "birth_date": values.pop("birth_date", "1990-05-17"),
        "sex": values.pop("sex", "Nam"),
        "permanent_address": values.pop("permanent_address", "Số 5 ngõ 12 phố Huế"),
        "source": values.pop("source", "base"),
        "permanent_address_ward_code": ward,
    }
    row.update(values)
    return row


def records_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, infer_schema_length=None)


def finding(
    record_id: str,
    rule: str,
    quality: str,
    ward: str | None,
    detail: str,
    related: list[str] | None = None,
    *,
    severity: str = "error",
    source: str = "base",
) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "source": source,
        "rule": rule,
        "quality": quality,
        "severity": severity,
        "ward_code": ward,
        "detail": detail,
        "related_record_ids": related or [],
    }


def findings_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FINDINGS_SCHEMA)


def pairs_frame(rows: list[tuple[str, str, float, str]]) -> pl.DataFrame:
    """(left_id, right_id, probability, decision) with two explanation comparisons (Int8 level codes)."""
    return pl.DataFrame(
        {
            "left_id": [r[0] for r in rows],
            "right_id": [r[1] for r in rows],
            "match_probability": [r[2] for r in rows],
            "match_weight": [12.0 * r[2] - 3 for r in rows],
            "decision": [r[3] for r in rows],
            "kind": ["dedupe"] * len(rows),
            "level_name": pl.Series([1] * len(rows), dtype=pl.Int8),
            "weight_name": [6.5] * len(rows),
            "level_birth_date": pl.Series([2] * len(rows), dtype=pl.Int8),
            "weight_birth_date": [-1.25] * len(rows),
        },
        schema_overrides={"level_name": pl.Int8, "level_birth_date": pl.Int8},
    )


def empty_pairs() -> pl.DataFrame:
    return pairs_frame([])


def night_drafts(night: date, findings: pl.DataFrame, pairs: pl.DataFrame | None, records: pl.DataFrame) -> NightDrafts:
    return build_drafts(
        night,
        findings,
        pairs if pairs is not None else empty_pairs(),
        [records],
        rule_titles=dict(rules_table().select("rule", "title").iter_rows()),
        ward_provinces=ward_provinces(),
    )
