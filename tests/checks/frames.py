"""Small hand-built normalized frames for the rule tests.

They follow ``normalize/columns.py`` exactly (names and dtypes), derived in the simplest faithful way from the canonical
values a test gives; a test overrides any normalized column it cares about by naming it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from unidecode import unidecode

from normalize.columns import ADDRESS_COLUMNS, DATE_COLUMNS, RELATIVE_NAME_COLUMNS
from records.schema import CANONICAL_SCHEMA

NIGHT = dt.date(2025, 9, 15)
WARD_A = "00004"  # Phường Ba Đình, Hà Nội
WARD_B = "00008"  # another ward of Hà Nội
WARD_HCM = "25747"  # Phường Thủ Dầu Một, Thành phố Hồ Chí Minh


def _schema() -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = dict(CANONICAL_SCHEMA)
    for name in (
        "full_name_norm",
        "family_name",
        "middle_name",
        "given_name",
        "name_key",
        "family_key",
        "middle_key",
        "given_key",
        "name_key_no_middle",
        "name_key_glued",
        "name_prefix",
        "name_convention",
        "name_remark",
        "sex_norm",
    ):
        schema[name] = pl.String()
    schema["name_reordered"] = pl.Boolean()
    for column in RELATIVE_NAME_COLUMNS:
        schema[f"{column}_norm"] = pl.String()
        schema[f"{column}_key"] = pl.String()
    for column in DATE_COLUMNS:
        schema[f"{column}_value"] = pl.Date()
        schema[f"{column}_precision"] = pl.String()
        schema[f"{column}_valid"] = pl.Boolean()
    for name in ("birth_year", "birth_month", "birth_day"):
        schema[name] = pl.Int32()
    schema["birth_date_swapped"] = pl.String()
    for name in (
        "person_id_norm",
        "person_id_issue",
        "person_id_province_code",
        "person_id_sex",
        "person_id_contradiction",
        "old_id_kind",
    ):
        schema[name] = pl.String()
    schema["person_id_valid"] = pl.Boolean()
    schema["person_id_birth_year"] = pl.Int32()
    for column in ADDRESS_COLUMNS:
        for suffix in ("norm", "street", "ward_code", "province_code", "legacy_ward_code", "status"):
            schema[f"{column}_{suffix}"] = pl.String()
        schema[f"{column}_candidates"] = pl.List(pl.String())
    schema["legacy_encoded_columns"] = pl.List(pl.String())
    return schema


SCHEMA = _schema()


def _date(text: str | None) -> tuple[dt.date | None, str | None]:
    if not text:
        return None, None
    parts = [int(p) for p in text.split("-")]
    precision = ("year", "month", "day")[len(parts) - 1]
    return dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1), precision


def _key(text: str | None) -> str | None:
    return " ".join(unidecode(text).lower().split()) if text else None


def person(record_id: str, source: str = "base", **values: Any) -> dict[str, Any]:
    """One normalized row: canonical values given by keyword, normalized columns derived unless given too."""
    row: dict[str, Any] = {name: None for name in SCHEMA}
    defaults = {
        "full_name": "Trần Thị Mai",
        "birth_date": "1990-05-17",
        "sex": "Nữ",
        "person_id": "001190012345",
        "permanent_address": "12 Đội Cấn, Phường Ba Đình, Thành phố Hà Nội",
        "card_number": "001190012345",
        "card_issue_date": "2021-06-01",
        "card_expiry_date": "2030-05-17",
        "ethnicity": "Kinh",
        "last_verified_date": "2024-01-10",
    }
    if source != "base":
        defaults = {
            k: v
            for k, v in defaults.items()
            if k in ("full_name", "birth_date", "sex", "person_id", "permanent_address")
        }
    row.update(defaults)
    row.update({k: v for k, v in values.items() if k in CANONICAL_SCHEMA})
    row["record_id"], row["source"] = record_id, source
    name = row["full_name"]
    if name:
        parts = name.split()
        row.update(
            full_name_norm=name,
            family_name=parts[0],
            middle_name=" ".join(parts[1:-1]),
            given_name=parts[-1],
            name_key=_key(name),
            family_key=_key(parts[0]),
            middle_key=_key(" ".join(parts[1:-1])) or "",
            given_key=_key(parts[-1]),
            name_key_no_middle=_key(f"{parts[0]} {parts[-1]}"),
            name_key_glued=(_key(name) or "").replace(" ", ""),
            name_convention="family_first",
            name_reordered=False,
        )
    row["sex_norm"] = row["sex"]
    for column in DATE_COLUMNS:
        value, precision = _date(row[column])
        row[f"{column}_value"], row[f"{column}_precision"] = value, precision
        row[f"{column}_valid"] = None if value is None else True
    birth, precision = row["birth_date_value"], row["birth_date_precision"]
    if birth is not None:
        row["birth_year"] = birth.year
        row["birth_month"] = birth.month if precision in ("month", "day") else None
        row["birth_day"] = birth.day if precision == "day" else None
    pid = row["person_id"]
    if pid and len(pid) == 12 and pid.isdigit():
        row.update(
            person_id_norm=pid,
            person_id_valid=True,
            person_id_province_code=pid[:3],
            person_id_sex="Nam" if int(pid[3]) % 2 == 0 else "Nữ",
            person_id_birth_year=1900 + 100 * (int(pid[3]) // 2) + int(pid[4:6]),
        )
    if row["permanent_address"]:
        row.update(
            permanent_address_norm=row["permanent_address"],
            permanent_address_ward_code=WARD_A,
            permanent_address_province_code="01",
            permanent_address_status="resolved",
            permanent_address_candidates=[WARD_A],
        )
    row["legacy_encoded_columns"] = []
    row.update({k: v for k, v in values.items() if k not in CANONICAL_SCHEMA})
    return row


def frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=SCHEMA, orient="row") if rows else pl.DataFrame(schema=SCHEMA)
