"""Small canonical records, normalized by the real normalizer, and their clusters, for the register tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from normalize.frame import normalize_records
from records.schema import CANONICAL_SCHEMA
from register.changes import build_changes
from register.golden import RegisterBuild, build_golden

NIGHT = dt.date(2026, 3, 2)
NEXT_NIGHT = dt.date(2026, 3, 3)
SPLIT_OLD = "Xóm 4, Xã Gia Tân, Huyện Gia Viễn, Tỉnh Ninh Bình"
"""An old ward split between Xã Gia Vân (14488) and Phường Tây Hoa Lư (14533)."""
SPLIT_NEW = "Xóm 4, Xã Gia Vân, Tỉnh Ninh Bình"
OLD_FORM = "Thôn Chùa, Xã Khả Phong, Thị xã Kim Bảng, Tỉnh Hà Nam"
"""An old ward that became one new ward: Phường Tam Chúc, Tỉnh Ninh Bình (13420)."""
NEW_FORM = "Thôn Chùa, Phường Tam Chúc, Tỉnh Ninh Bình"

_BASE_DEFAULTS: dict[str, str] = {
    "person_id": "037090001234",
    "full_name": "Nguyễn Văn An",
    "birth_date": "1990-05-17",
    "sex": "Nam",
    "ethnicity": "Kinh",
    "permanent_address": NEW_FORM,
    "household_id": "3700000001",
    "relation_to_head": "Chủ hộ",
    "last_verified_date": "2025-06-01",
}
_EXTRACT_DEFAULTS: dict[str, str] = {
    "person_id": "037090001234",
    "full_name": "Nguyễn Văn An",
    "birth_date": "1990-05-17",
    "sex": "Nam",
    "ethnicity": "Kinh",
    "permanent_address": NEW_FORM,
}


def person(record_id: str, source: str = "base", *, registered: dt.date = NIGHT, **values: Any) -> dict[str, Any]:
    """One canonical row: the base or an extract (with its registration date), defaults for the other fields."""
    row: dict[str, Any] = dict(_BASE_DEFAULTS if source == "base" else _EXTRACT_DEFAULTS)
    if source != "base":
        row["registration_date"] = registered.isoformat()
    if source == "card":
        row.setdefault("card_number", values.get("person_id", row["person_id"]))
        row.setdefault("card_issue_date", registered.isoformat())
    row.update(record_id=record_id, source=source, **values)
    return row


def records(*rows: dict[str, Any], night: dt.date = NIGHT) -> pl.DataFrame:
    frame = pl.DataFrame(
        [{c: row.get(c) for c in CANONICAL_SCHEMA} for row in rows], schema=CANONICAL_SCHEMA, orient="row"
    )
    return normalize_records(frame, as_of=night)


def clusters(*groups: tuple[str, ...]) -> pl.DataFrame:
    """One cluster per group of record ids; the person key is ``P-`` + the first id."""
    rows = [(record_id, f"P-{group[0]}") for group in groups for record_id in group]
    return pl.DataFrame(rows, schema={"record_id": pl.String, "cluster_id": pl.String}, orient="row")


def build(
    rows: list[dict[str, Any]],
    groups: list[tuple[str, ...]] | None = None,
    *,
    night: dt.date = NIGHT,
    previous: pl.DataFrame | None = None,
) -> RegisterBuild:
    """The register of ``rows``; by default all records are one person."""
    frame = records(*rows, night=night)
    groups = groups or [tuple(r["record_id"] for r in rows)]
    return build_golden(frame, clusters(*groups), night, previous=previous)


def golden_row(result: RegisterBuild, key: str | None = None) -> dict[str, Any]:
    register = result.register
    row = (
        register.row(0, named=True) if key is None else register.filter(pl.col("person_key") == key).row(0, named=True)
    )
    return row


def changes_of(result: RegisterBuild, night: dt.date = NIGHT, previous: pl.DataFrame | None = None) -> pl.DataFrame:
    return build_changes(result, night, previous_changes=previous)


def change(changes: pl.DataFrame, field: str, record_id: str | None = None) -> dict[str, Any] | None:
    rows = changes.filter(pl.col("field") == field)
    if record_id is not None:
        rows = rows.filter(pl.col("record_id") == record_id)
    return rows.row(0, named=True) if rows.height else None
