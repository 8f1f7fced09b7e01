"""normalize_records: the column contract of normalize/columns.py, originals kept, minimal input."""

from __future__ import annotations

import re
from datetime import date

import polars as pl

import normalize.columns as columns
from normalize.frame import normalize_records, normalize_sex, normalized_schema, summarize
from records.schema import CANONICAL_SCHEMA, MINIMAL_COLUMNS, conform

_DTYPES = {
    "String": pl.String,
    "Date": pl.Date,
    "Boolean": pl.Boolean,
    "Int32": pl.Int32,
    "List(String)": pl.List(pl.String),
}


def _contract() -> dict[str, pl.DataType]:
    """Every column name and dtype documented in normalize/columns.py, ``{column}`` expanded per section."""
    doc = columns.__doc__ or ""
    sections = {
        "Names": columns.RELATIVE_NAME_COLUMNS,
        "Dates": columns.DATE_COLUMNS,
        "Addresses": columns.ADDRESS_COLUMNS,
    }
    group: tuple[str, ...] = ()
    expected: dict[str, pl.DataType] = {}
    for line in doc.splitlines():
        if line and not line.startswith((" ", "`")):
            group = sections.get(line.split()[0], ())
        match = re.match(r"^\s{4}(\S.*?)\s{2,}.*?\s(String|Date|Boolean|Int32|List\(String\))\s*$", line)
        if not match:
            continue
        for name in re.split(r",\s*", match.group(1)):
            name = name.strip()
            targets = [name.replace("{column}", column) for column in group] if "{column}" in name else [name]
            for target in targets:
                expected[target] = _DTYPES[match.group(2)]
    return expected


def _frame() -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {
                "record_id": ["1", "2", "3"],
                "person_id": ["001090012345", "0010 9001 2346", "123456789"],
                "full_name": ["Nguyễn Văn An", "TrÇn V¨n §øc", "LE THI THUY"],
                "birth_date": ["1990-03-05", "00/00/1950", "30/02/1990"],
                "sex": ["Nam", "nu", "N÷"],
                "permanent_address": [
                    "Số 12 ngõ 34 Khâm Thiên, P. Thổ Quan, Q. Đống Đa, TP. Hà Nội",
                    "P. Cống Vị, Q. Ba Đình, HN",
                    None,
                ],
                "current_address": ["xom 3, Xa Van Phuc, Huyen Thanh Tri, Ha Noi", "", "25 Lê Lợi, Phường Ba Đình, HN"],
                "hometown": ["Nam Định", None, None],
                "father_name": ["Nguyeenx Vawn Binh", None, ""],
                "card_expiry_date": ["2035-01-01", None, None],
                "old_id_number": ["123456789", None, "012345678901"],
            }
        ),
        source="base",
    )


def test_every_contract_column_with_its_dtype() -> None:
    expected = _contract()
    assert len(expected) >= 70
    out = normalize_records(_frame(), as_of=date(2025, 7, 2))
    for name, dtype in expected.items():
        assert name in out.columns, name
        assert out.schema[name] == dtype, (name, out.schema[name], dtype)
    added = [c for c in out.columns if c not in CANONICAL_SCHEMA]
    assert set(added) == set(expected)
    assert dict(normalized_schema()) == {name: out.schema[name] for name in added}


def test_originals_kept_and_values() -> None:
    frame = _frame()
    out = normalize_records(frame, as_of=date(2025, 7, 2))
    assert out.select(list(CANONICAL_SCHEMA)).equals(frame)
    first, second, third = out.rows(named=True)
    assert first["permanent_address_ward_code"] == "00226" and first["permanent_address_status"] == "resolved"
    assert first["person_id_valid"] is True and first["person_id_contradiction"] is None
    assert first["birth_date_swapped"] == "1990-05-03" and first["birth_day"] == 5
    assert first["father_name_norm"] == "Nguyễn Văn Binh"
    assert first["card_expiry_date_valid"] is True
    assert first["old_id_kind"] == "CMND9" and third["old_id_kind"] == "CMND12"
    assert (
        first["hometown_status"] == "unresolved" and first["hometown_province_code"] == "37"
    )  # Nam Định merged into Ninh Bình
    assert second["full_name_norm"] == "Trần Văn Đức" and second["legacy_encoded_columns"] == ["full_name"]
    assert second["permanent_address_status"] == "ambiguous"
    assert second["permanent_address_candidates"] == ["00008", "00025"]
    assert second["current_address_status"] is None
    assert second["birth_date_precision"] == "year" and second["birth_month"] is None
    assert second["person_id_norm"] == "001090012346" and second["person_id_contradiction"] == "birth_year,sex"
    assert third["sex_norm"] == "Nữ" and third["legacy_encoded_columns"] == ["sex"]
    assert third["birth_date_valid"] is False and third["birth_date_value"] is None
    assert third["person_id_issue"] == "length"
    assert first["legacy_encoded_columns"] == []
    counts = summarize(out)
    assert counts["address_ambiguous"] == 1 and counts["legacy_encoded_records"] == 2


def test_minimal_columns_and_empty_frame() -> None:
    minimal = _frame().select(MINIMAL_COLUMNS)
    out = normalize_records(minimal, as_of=date(2025, 7, 2))
    assert out.height == 3 and out["death_date_valid"].null_count() == 3
    empty = normalize_records(pl.DataFrame(schema=CANONICAL_SCHEMA), as_of=date(2025, 7, 2))
    assert empty.height == 0 and "legacy_encoded_columns" in empty.columns


def test_sex_spellings() -> None:
    assert [normalize_sex(v) for v in ["Nam", "NAM", "nam", "M", "Nữ", "NỮ", "nu", "F", "N÷", "khác", None]] == [
        "Nam",
        "Nam",
        "Nam",
        "Nam",
        "Nữ",
        "Nữ",
        "Nữ",
        "Nữ",
        "Nữ",
        None,
        None,
    ]
