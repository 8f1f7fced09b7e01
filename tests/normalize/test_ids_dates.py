"""Personal IDs and dates, single value and column form."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normalize.dates import parse_date
from normalize.ids import clean_id, decode_personal_id, id_columns, old_id_kind, old_id_kind_expr

TODAY = date(2025, 7, 2)


def test_decode_valid_id() -> None:
    decoded = decode_personal_id("001090012345", birth_year=1990, sex="Nam", as_of=TODAY)
    assert decoded.valid and decoded.issue is None
    assert (decoded.province_code, decoded.century, decoded.sex, decoded.birth_year) == ("001", 1900, "Nam", 1990)
    assert decoded.province_name == "Thành phố Hà Nội"
    assert decoded.contradiction is None
    female_2000s = decode_personal_id("079305000001", as_of=TODAY)
    assert (female_2000s.sex, female_2000s.birth_year, female_2000s.century) == ("Nữ", 2005, 2000)


@pytest.mark.parametrize(
    ("raw", "issue"),
    [
        ("00109001234", "length"),
        ("00109001234A", "digits"),
        ("000090012345", "province"),
        ("003090012345", "province"),
        ("001490012345", "century_sex"),
        ("001299012345", "century_sex"),
    ],
)
def test_invalid_ids(raw: str, issue: str) -> None:
    decoded = decode_personal_id(raw, as_of=TODAY)
    assert not decoded.valid
    assert decoded.issue == issue


def test_separators_cmnd_and_contradictions() -> None:
    assert decode_personal_id("0010 9001 2345", as_of=TODAY).number == "001090012345"
    assert decode_personal_id("123456789", as_of=TODAY).kind == "CMND9"
    assert decode_personal_id("001090012345", birth_year=1991, sex="Nữ", as_of=TODAY).contradiction == "birth_year,sex"
    assert decode_personal_id("001190012345", birth_year=1990, sex="Nam", as_of=TODAY).contradiction == "sex"
    assert old_id_kind("123 456 789") == "CMND9"
    assert old_id_kind("012345678901") == "CMND12"
    assert old_id_kind("12345") is None


@pytest.mark.parametrize(
    ("raw", "number", "valid"),
    [
        ("37304203655", "037304203655", True),  # a numeric spreadsheet column saved as CSV: one zero lost
        ("1090012345", "001090012345", True),  # province 001: two zeros lost
        ("1 0900 12345", "001090012345", True),
        ("00109001234", None, False),  # a digit lost elsewhere: the leading zero is still there, nothing to restore
        ("123456789012", "123456789012", False),  # 12 digits: never padded, and 123 is no province
    ],
)
def test_text_ids_that_lost_their_leading_zeros(raw: str, number: str | None, valid: bool) -> None:
    decoded = decode_personal_id(raw, as_of=TODAY)
    assert (decoded.number, decoded.valid) == (number, valid)


def test_cmnd_text_is_not_padded() -> None:
    # A CMND's province codes run from 01 to 9x: 8 digits may be a 9-digit number that lost another digit.
    assert clean_id("12345678", (9, 12)) == ("12345678", "length")
    assert clean_id("12345678.0", (9, 12)) == ("012345678", None)  # in number form the zero was the one lost
    assert clean_id("37304203655", (9, 12)) == ("037304203655", None)


id_strategy = st.one_of(
    st.from_regex(r"0[0-9]{2}[0-9]{9}", fullmatch=True),
    st.from_regex(r"[0-9 .\-]{0,14}", fullmatch=True),
    st.text(alphabet="0123456789A ", max_size=13),
    st.none(),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(id_strategy, st.one_of(st.none(), st.integers(1900, 2030)), st.sampled_from([None, "Nam", "Nữ"])),
        min_size=1,
        max_size=20,
    )
)
def test_id_columns_equal_decode(rows: list[tuple[str | None, int | None, str | None]]) -> None:
    frame = pl.DataFrame(
        {"person_id": [r[0] for r in rows], "by": [r[1] for r in rows], "sx": [r[2] for r in rows]},
        schema={"person_id": pl.String, "by": pl.Int32, "sx": pl.String},
    )
    out = id_columns(frame, "person_id", "by", "sx", as_of=TODAY).with_columns(
        frame.select(old_id_kind_expr("person_id").alias("kind"))
    )
    for (raw, birth_year, sex), row in zip(rows, out.iter_rows(named=True), strict=True):
        decoded = decode_personal_id(raw, birth_year=birth_year, sex=sex, as_of=TODAY)
        present = raw is not None and raw.strip() != ""
        assert row["person_id_valid"] == (decoded.valid if present else False)
        assert row["person_id_issue"] == decoded.issue
        assert row["person_id_norm"] == decoded.number
        assert row["person_id_province_code"] == decoded.province_code
        assert row["person_id_sex"] == decoded.sex
        assert row["person_id_birth_year"] == decoded.birth_year
        assert row["person_id_contradiction"] == decoded.contradiction
        assert row["kind"] == old_id_kind(raw)


@pytest.mark.parametrize(
    ("value", "expected", "precision", "valid"),
    [
        ("15/03/1990", date(1990, 3, 15), "day", True),
        ("1990-03-15", date(1990, 3, 15), "day", True),
        ("1990-03-15 00:00:00", date(1990, 3, 15), "day", True),
        ("00/00/1950", date(1950, 1, 1), "year", True),
        ("1950", date(1950, 1, 1), "year", True),
        ("03/1950", date(1950, 3, 1), "month", True),
        ("00/03/1950", date(1950, 3, 1), "month", True),
        ("1950-03", date(1950, 3, 1), "month", True),
        ("33000", date(1990, 5, 7), "day", True),
        ("33000.0", date(1990, 5, 7), "day", True),
        (33000, date(1990, 5, 7), "day", True),
        (date(1990, 3, 15), date(1990, 3, 15), "day", True),
        ("ngày 5 tháng 3 năm 1990", date(1990, 3, 5), "day", True),
        ("19900315", date(1990, 3, 15), "day", True),
        # Shapes seen in real exports: a day without "ngày", a month in words, ddmmyyyy, spaced separators, US
        # locale date-times (month first, unless the first number cannot be a month), English month names.
        ("05 tháng 3 năm 1990", date(1990, 3, 5), "day", True),
        ("ngay 5 thang 3 nam 1990", date(1990, 3, 5), "day", True),
        ("ngày 15/03/1990", date(1990, 3, 15), "day", True),
        ("tháng 3/1990", date(1990, 3, 1), "month", True),
        ("tháng 3 năm 1990", date(1990, 3, 1), "month", True),
        ("15031990", date(1990, 3, 15), "day", True),
        (" 15 / 03 / 1990 ", date(1990, 3, 15), "day", True),
        ("3/15/1990 12:00:00 AM", date(1990, 3, 15), "day", True),
        ("3/4/1990 12:00:00 AM", date(1990, 3, 4), "day", True),
        ("15/3/1990 12:00:00 AM", date(1990, 3, 15), "day", True),
        ("15-Mar-1990", date(1990, 3, 15), "day", True),
        ("15-MAR-90", date(1990, 3, 15), "day", True),
        ("Mar 15, 1990", date(1990, 3, 15), "day", True),
        ("15 March 1990", date(1990, 3, 15), "day", True),
        ("20251301", None, None, False),
        ("30/02/1990", None, None, False),
        ("15/13/1990", None, None, False),
        ("2030-01-01", date(2030, 1, 1), "day", False),
        ("1800", None, None, False),
        ("không rõ", None, None, False),
        ("", None, None, None),
        (None, None, None, None),
    ],
)
def test_parse_date(value: object, expected: date | None, precision: str | None, valid: bool | None) -> None:
    parsed = parse_date(value, as_of=TODAY)
    assert (parsed.value, parsed.precision, parsed.valid) == (expected, precision, valid)


def test_swapped_alternative_and_future_allowed() -> None:
    assert parse_date("05/03/1990", as_of=TODAY).swapped == date(1990, 5, 3)
    assert parse_date("15/03/1990", as_of=TODAY).swapped is None
    swapped_upstream = parse_date("03/15/1990", as_of=TODAY)
    assert swapped_upstream.valid is False and swapped_upstream.swapped == date(1990, 3, 15)
    assert parse_date("2035-06-01", as_of=TODAY, allow_future=True).valid is True
    assert parse_date("00/00/1950", as_of=TODAY).iso == "1950"


def test_date_column_equals_parse_date() -> None:
    from normalize.frame import _date_columns

    values = [
        "1990-03-05",
        "1990-03-15",
        "1990-02-30",
        "1849-01-01",
        "2030-01-01",
        "15/03/1990",
        "00/00/1950",
        "1950",
        "33000",
        None,
        "",
        "abc",
        "1990-3-5",
        "2024-12-31",
    ]
    for column in ("birth_date", "card_expiry_date"):
        frame = _date_columns(pl.Series(values * 2, dtype=pl.String), column, TODAY)
        for value, row in zip(values * 2, frame.iter_rows(named=True), strict=True):
            parsed = parse_date(value, as_of=TODAY, allow_future=column == "card_expiry_date")
            if value is None:
                assert row == {"value": None, "precision": None, "valid": None, "swapped": None}
                continue
            assert row["value"] == parsed.value
            assert row["precision"] == parsed.precision
            assert row["valid"] == parsed.valid
            assert row["swapped"] == (parsed.swapped.isoformat() if parsed.swapped else None)
