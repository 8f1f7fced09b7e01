"""Official Vietnamese administrative units, before and after the 2025-07-01 reform, keyed on codes.

The tables come from the offline data files of ``vietnamadminunits`` (MIT). Only its data is read here: its
``convert_address`` geocodes split wards over the network and must never be called.

Codes are scoped: a *current* ward code (post-2025, 3,321 units) and a *legacy* ward code (pre-2025, ~10,000
units) share the same 5-digit space, and the reform often reused an old code for a new ward, so a bare code is
meaningless without knowing which table it belongs to. Province codes are the 2-digit codes of each table; the
3-digit province prefix of a personal ID is the legacy 2-digit code with a leading zero.
"""

from __future__ import annotations

import json
import sqlite3
from functools import cache
from importlib.util import find_spec
from pathlib import Path

import polars as pl

__all__ = [
    "current_provinces",
    "current_wards",
    "id_province_codes",
    "legacy_provinces",
    "legacy_to_current",
    "legacy_wards",
]


def _data_path(name: str) -> str:
    # The package's folder is found without importing the package: its __init__ loads its parsers' JSON tables
    # (~0.35 s, holding the GIL), none of which is used here.
    spec = find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("vietnamadminunits is not installed (its offline unit tables are needed)")
    return str(Path(spec.submodule_search_locations[0]) / "data" / name)


def _query(sql: str) -> pl.DataFrame:
    with sqlite3.connect(f"file:{_data_path('dataset.db')}?mode=ro", uri=True) as conn:
        cursor = conn.execute(sql)
        columns = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)


@cache
def current_wards() -> pl.DataFrame:
    """The 3,321 current (post-2025) communes/wards/special zones with their province.

    Columns: ward_code, ward_name ("Phường Ba Đình"), ward_short ("Ba Đình"), ward_type (Xã/Phường/Đặc khu),
    province_code, province_name, province_short, province_key, ward_key (ASCII keys of the source data).
    """
    return _query(
        """
        SELECT DISTINCT wardCode AS ward_code, ward AS ward_name, wardShort AS ward_short, wardType AS ward_type,
               provinceCode AS province_code, province AS province_name, provinceShort AS province_short,
               provinceKey AS province_key, wardKey AS ward_key
        FROM admin_units ORDER BY wardCode
        """
    )


@cache
def legacy_wards() -> pl.DataFrame:
    """The pre-2025 wards (three tiers) with the current ward(s) each became.

    Columns: legacy_ward_code, ward_name, ward_short, ward_type, district_code, district_name, district_short,
    district_type, legacy_province_code, province_name, province_short, province_key, district_key, ward_key,
    current_ward_codes (list[str]: one code, or several when the ward was split), is_split (bool),
    default_current_ward_code (the successor the source data names as default for a split ward; a hint for
    reviewers only, never to be applied silently).

    A few island districts have no ward level; they are left out here.
    """
    legacy = _query(
        """
        SELECT DISTINCT wardCode AS legacy_ward_code, ward AS ward_name, wardShort AS ward_short,
               wardType AS ward_type, districtCode AS district_code, district AS district_name,
               districtShort AS district_short, districtType AS district_type,
               provinceCode AS legacy_province_code, province AS province_name, provinceShort AS province_short,
               provinceKey AS province_key, districtKey AS district_key, wardKey AS ward_key
        FROM admin_units_legacy WHERE wardCode IS NOT NULL ORDER BY wardCode
        """
    )
    mapping = _legacy_mapping()
    return legacy.join(mapping, on=["province_key", "district_key", "ward_key"], how="left").with_columns(
        pl.col("current_ward_codes").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        pl.col("is_split").fill_null(False),
    )


def _legacy_mapping() -> pl.DataFrame:
    with open(_data_path("converter_2025.json"), encoding="utf-8") as handle:
        converter = json.load(handle)
    wards = current_wards()
    code_of = {
        (row["province_key"], row["ward_key"]): row["ward_code"]
        for row in wards.select("province_key", "ward_key", "ward_code").iter_rows(named=True)
    }
    rows: list[tuple[str, str, str, list[str], bool, str | None]] = []
    for new_province, new_wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward, old_keys in new_wards.items():
            code = code_of.get((new_province, new_ward))
            if code is None:
                continue
            for old_key in old_keys:
                province_key, district_key, ward_key = old_key.split("_", 2)
                rows.append((province_key, district_key, ward_key, [code], False, code))
    for new_province, divided in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, successors in divided.items():
            province_key, district_key, ward_key = old_key.split("_", 2)
            codes = [
                code_of[(new_province, s["newWardKey"])]
                for s in successors
                if (new_province, s["newWardKey"]) in code_of
            ]
            default = next(
                (code_of.get((new_province, s["newWardKey"])) for s in successors if s["isDefaultNewWard"]), None
            )
            rows.append((province_key, district_key, ward_key, sorted(set(codes)), len(set(codes)) > 1, default))
    frame = pl.DataFrame(
        rows,
        schema={
            "province_key": pl.String,
            "district_key": pl.String,
            "ward_key": pl.String,
            "current_ward_codes": pl.List(pl.String),
            "is_split": pl.Boolean,
            "default_current_ward_code": pl.String,
        },
        orient="row",
    )
    return frame.unique(subset=["province_key", "district_key", "ward_key"], keep="first")


@cache
def current_provinces() -> pl.DataFrame:
    """The 34 current provinces: province_code, province_name, province_short, province_key."""
    return (
        current_wards()
        .select("province_code", "province_name", "province_short", "province_key")
        .unique()
        .sort("province_code")
    )


@cache
def legacy_provinces() -> pl.DataFrame:
    """The 63 pre-2025 provinces: legacy_province_code, province_name, province_short, province_key,
    id_prefix (3-digit code used in personal IDs) and current_province_code (the province it merged into)."""
    legacy = _query(
        """
        SELECT DISTINCT provinceCode AS legacy_province_code, province AS province_name,
               provinceShort AS province_short, provinceKey AS province_key
        FROM admin_units_legacy ORDER BY provinceCode
        """
    )
    wards = (
        legacy_wards()
        .explode("current_ward_codes")
        .join(
            current_wards().select(pl.col("ward_code").alias("current_ward_codes"), pl.col("province_code")),
            on="current_ward_codes",
            how="inner",
        )
    )
    successor = wards.group_by("legacy_province_code").agg(
        pl.col("province_code").mode().first().alias("current_province_code")
    )
    return legacy.join(successor, on="legacy_province_code", how="left").with_columns(
        ("0" + pl.col("legacy_province_code")).alias("id_prefix")
    )


@cache
def id_province_codes() -> frozenset[str]:
    """The 3-digit province prefixes a personal ID may start with (the 63 pre-2025 provinces)."""
    return frozenset(legacy_provinces()["id_prefix"].to_list())


def legacy_to_current() -> pl.DataFrame:
    """legacy_ward_code -> current_ward_code, one row per successor (split wards have several rows)."""
    return (
        legacy_wards()
        .select("legacy_ward_code", "is_split", pl.col("current_ward_codes").alias("current_ward_code"))
        .explode("current_ward_code")
        .drop_nulls("current_ward_code")
    )
