"""``corrections.build._register_values`` (column by column) gives what the row-by-row reference gave: the golden
values of the persons asked for, their status, records, sources and conflicts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from corrections.build import _register_values, _snapshots
from corrections.routing import Destination, Router
from corrections.text import DISPLAY_FIELDS, FIELD_LABELS


def _reference(register: pl.DataFrame, keys: set[str]) -> dict[str, dict[str, Any]]:
    """The former loop over ``iter_rows(named=True)``."""
    rows = register.filter(pl.col("person_key").is_in(pl.Series(sorted(keys), dtype=pl.String).implode()))
    shown = [c for c in DISPLAY_FIELDS if c in rows.columns]
    traced = [c for c in [*shown, "status"] if f"{c}_source" in rows.columns]
    flat = rows.select(
        "person_key",
        *shown,
        pl.col("status").alias("_status"),
        pl.col("record_ids").alias("_ids"),
        pl.col("conflicts").alias("_conflicts"),
        *(pl.col(f"{c}_source").struct.field("record_id").alias(f"_from_{c}") for c in traced),
    )
    values: dict[str, dict[str, Any]] = {}
    for row in flat.iter_rows(named=True):
        data: dict[str, Any] = {c: row[c] for c in shown if row[c] is not None}
        data["status"] = row["_status"]
        data["record_ids"] = row["_ids"] or []
        data["sources"] = {c: row[f"_from_{c}"] for c in traced if row[f"_from_{c}"]}
        if row["_conflicts"]:
            data["conflicts"] = [FIELD_LABELS.get(c, c) for c in row["_conflicts"]]
        values[row["person_key"]] = data
    return values


def _source(record: str | None) -> dict[str, Any] | None:
    return None if record is None else {"record_id": record, "night": dt.date(2025, 11, 11)}


def test_column_by_column_equals_the_row_reference() -> None:
    n = 40
    register = pl.DataFrame(
        {
            "person_key": [f"P{i:03d}" for i in range(n)],
            "full_name": [None if i % 5 == 0 else f"Nguyễn Văn {i}" for i in range(n)],
            "birth_date": [None if i % 3 == 0 else f"19{50 + i}-01-0{1 + i % 9}" for i in range(n)],
            "person_id": [f"{i:012d}" if i % 4 else None for i in range(n)],
            "status": [("alive", "deceased", None)[i % 3] for i in range(n)],
            "record_ids": [None if i % 7 == 0 else [f"B-{i}", f"X-{i}"][: 1 + i % 2] for i in range(n)],
            "conflicts": [None if i % 2 else (["full_name", "unknown_column"] if i % 4 == 0 else []) for i in range(n)],
            "full_name_source": [_source(None if i % 6 == 0 else f"B-{i}") for i in range(n)],
            "person_id_source": [_source(f"X-{i}" if i % 3 else None) for i in range(n)],
            "status_source": [_source(f"B-{i}") for i in range(n)],
        },
        schema_overrides={"full_name_source": pl.Struct({"record_id": pl.String, "night": pl.Date})},
    )
    before = register.clone()
    keys = {f"P{i:03d}" for i in range(0, n, 3)} | {"P999"}
    new, reference = _register_values(register, keys), _reference(register, keys)
    assert new == reference
    assert list(new) == list(reference)
    assert new["P003"]["sources"] == {"full_name": "B-3", "status": "B-3"}
    assert new["P000"]["conflicts"] == [FIELD_LABELS["full_name"], "unknown_column"]
    assert "P999" not in new and len(new) == len(range(0, n, 3))
    assert register.equals(before)
    assert _register_values(None, keys) == {} and _register_values(register, set()) == {}


def _snapshot_reference(shown: pl.DataFrame, router: Router) -> tuple[dict[str, Any], dict[str, Destination]]:
    """The former loop over ``iter_rows(named=True)`` in ``build_drafts``."""
    snapshot_rows: dict[str, dict[str, Any]] = {}
    routing: dict[str, Destination] = {}
    for row in shown.iter_rows(named=True):
        record_id = row["record_id"]
        routing[record_id] = router.record(row)
        snapshot_rows[record_id] = {k: row[k] for k in DISPLAY_FIELDS if row.get(k) is not None}
    return snapshot_rows, routing


def test_snapshots_column_by_column_equal_the_row_reference() -> None:
    n = 60
    wards = {"00004": "01", "13420": "37"}
    shown = pl.DataFrame(
        {
            "record_id": [f"B-{i}" for i in range(n)],
            "source": [("base", "card", "residence")[i % 3] for i in range(n)],
            # Columns out of DISPLAY_FIELDS order: a snapshot lists its values in that order whatever the frame's.
            "birth_date": [None if i % 4 == 0 else dt.date(1960 + i % 30, 1 + i % 12, 1 + i % 27) for i in range(n)],
            "full_name": [None if i % 5 == 0 else f"Trần Thị {i}" for i in range(n)],
            "person_id": [("037090001234", "001190001234", "12", None, "０３７")[i % 5] for i in range(n)],
            "permanent_address_ward_code": [("13420", None, "99999", "")[i % 4] for i in range(n)],
            "current_address_ward_code": [(None, "00004")[i % 2] for i in range(n)],
            "permanent_address_province_code": [(None, "37", "xx")[i % 3] for i in range(n)],
            "hometown_province_code": [("01", None)[i % 2] for i in range(n)],
            "card_number": [(None, "001190009999")[i % 2] for i in range(n)],
        }
    )
    router = Router(wards)
    got, reference = _snapshots(shown, router), _snapshot_reference(shown, router)
    assert got == reference
    assert [list(v) for v in got[0].values()] == [list(v) for v in reference[0].values()]  # the keys' order too
    shown_in_b1 = ("record_id", "source", "full_name", "birth_date", "person_id", "card_number")
    assert list(got[0]["B-1"]) == [c for c in DISPLAY_FIELDS if c in shown_in_b1]
    assert {d.province_code for d in got[1].values()} >= {"01", "37"}
