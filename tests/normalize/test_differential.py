"""Differential tests: every vectorized normalizer against its scalar reference, on columns made the way extracts are.

Hypothesis builds columns from real names, addresses, IDs and dates, then damages each cell as real files do: NFD
instead of NFC, the old tone placement (hoà/thuý), ``Ð`` (U+00D0) for ``Đ``, zero-width and direction marks, a BOM,
NBSP instead of spaces, full-width digits, TCVN3/VNI legacy fonts, capitals; with repeats and nulls. For every column:
the same result row for row as the scalar function, the same height, and the input unchanged.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from normalize import text as text_module
from normalize.addresses import address_columns, resolve_address
from normalize.dates import parse_date
from normalize.frame import _date_columns
from normalize.ids import decode_personal_id, id_columns, old_id_kind, old_id_kind_expr
from normalize.names import name_columns, parse_name
from normalize.text import (
    distinct_codes,
    fix_legacy_encoding,
    fix_legacy_series,
    legacy_flags,
    nfc_series,
    per_distinct,
)

TODAY = date(2025, 7, 2)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = [
    "Nguyễn Thị Hòa",
    "Trần Văn Đức",
    "Lê Khánh Thy Oânh",
    "Phạm Thị Thúy",
    "Đỗ Khỏe",
    "Y Blông Niê",
    "Nguyễn Văn An (chết)",
    "Bà Lê Thị Hoa",
    "An Nguyễn Văn",
    "TrÇn V¨n §øc",  # TCVN3
    "Traàn Vaên Ñöùc",  # VNI
    "NGUYEN VAN AN",
    "H'Hen Niê",
    "Hhen Niê",
    "Niê H’Hen",
    "Ksor Y Phước",
    "Y-Blông Ê Ban",
    "Thạch Sa Ri",
    "Néang Sa Ri",
    "Chau Sóc",
    "Ông Nguyễn Văn An",
    "NguyễnVănAn",
    "NguyEn Van An",
    "NGUYEN, VAN AN",
    "Nguyễn Văn An, sinh 1990",
    "Nguyễn Văn An, Trần Thị Bình",
    "Cháu Lê Thị Hà",
    "Mrs Tran Thi Binh",
    "Y Nguyen Thi",
    "Lê Thị Hoa - đã mất",
    "Trần Văn Chết",
    "Phạm [liệt sĩ] Văn Hùng",
    "Nguyễn Văn_An 2",
    "nguyeenx vawn an",
    "Hoàng  Thị   Mai",
    "Thu Hà Nguyễn Thị",
    "Ê Nuôl Y Ben",
    "\u0301 Lê Văn",
    "Nguyen Van An",  # a bare Van/Thi: Văn/Thị in a name without diacritics …
    "Lê Van Hùng",  # … a given name beside diacritics
    "Pham Thi Van",
    "Bình Lò Thị",
    "Vàng Thị Dợ",
]
ADDRESSES = [
    "Số 12 ngõ 34 Khâm Thiên, P. Thổ Quan, Q. Đống Đa, TP. Hà Nội",
    "25 Lê Lợi, Phường Bến Nghé, Quận 1, TP.HCM",
    "Thôn Đông, Xã Hòa Bình, Huyện Hoài Đức, Hà Nội",
    "P. Thượng Đình, Q. Thanh Xuân, HN",
    "Hẻm 45/12 Nguyễn Trãi, Phường Sài Gòn, Thành phố Hồ Chí Minh",
    "P. Cèng VÞ, Q. Ba §×nh, HN",  # TCVN3
    "SỐ 5 NGÕ 2, PHƯỜNG BA ĐÌNH, HÀ NỘI",
    "xom 3 Xa Van Phuc Huyen Thanh Tri Ha Noi",
    "Xã Tân Lập, Thôn 3, Số 7, Huyện Đan Phượng, Hà Nội",  # street segments after the ward
    "Số 5, ,Thôn 3;Xã Tân Lập ,  Huyện Đan Phượng, Hà Nội",  # odd separators
    "Km 12 Tỉnh lộ 31, Xã Tân Lập, Huyện Đan Phượng, Hà Nội",
    "Số 5 Khâm Thiên",
    "Thôn 3, Số 7",
    " , ",
    "Hà Nội",
]
IDS = ["001090012345", "079305000001", "0010 9001 2345", "001.090.012.345", "37304203655.0", "3.7304203655E+10",
       "373042036.55", "123456789", "00109001234", "00109001234A", "000090012345"]  # fmt: skip
DATES = ["15/03/1990", "1990-03-15", "00/00/1950", "1950", "03/1950", "1/1/90", "19900315", "ngày 5 tháng 3 năm 1990",
         "33000", "30/02/1990", "2030-01-01", "không rõ", "1990-03-15 00:00:00", "05 tháng 3 năm 1990",
         "15031990", "3/15/1990 12:00:00 AM", "15-Mar-1990", " 15 / 03 / 1990"]  # fmt: skip

_OLD_TONES = {"òa": "oà", "óa": "oá", "ỏa": "oả", "õa": "oã", "ọa": "oạ", "úy": "uý", "ùy": "uỳ", "ỏe": "oẻ"}
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _damage(text: str, kind: str) -> str:
    if kind == "nfd":
        return unicodedata.normalize("NFD", text)
    if kind == "old_tones":
        for new, old in _OLD_TONES.items():
            text = text.replace(new, old)
        return text
    if kind == "eth":
        return text.replace("Đ", "Ð")
    if kind == "zero_width":
        return text.replace(" ", " \u200b", 1) + "\u200f"
    if kind == "bom":
        return "\ufeff" + text
    if kind == "nbsp":
        return text.replace(" ", "\u00a0")
    if kind == "full_width":
        return text.translate(_FULL_WIDTH)
    if kind == "upper":
        return text.upper()
    if kind == "padded":
        return f"  {text}  "
    return text


DAMAGE = st.sampled_from(
    ["none", "nfd", "old_tones", "eth", "zero_width", "bom", "nbsp", "full_width", "upper", "padded"]
)


def column(pool: list[str]) -> st.SearchStrategy[list[str | None]]:
    """Columns of damaged cells drawn from ``pool``, with repeats (so ``per_distinct`` joins back) and nulls."""
    cell = st.one_of(st.none(), st.tuples(st.sampled_from(pool), DAMAGE).map(lambda p: _damage(*p)))
    return st.lists(cell, min_size=1, max_size=30).flatmap(
        lambda cells: st.lists(st.sampled_from(cells), min_size=len(cells), max_size=2 * len(cells) + 5)
    )


def _checked(values: list[str | None], vectorized: Callable[[pl.Series], pl.DataFrame]) -> pl.DataFrame:
    series = pl.Series("values", values, dtype=pl.String)
    result = vectorized(series)
    assert series.to_list() == values  # input unchanged
    assert result.height == len(values)  # same height
    return result


def _same_on_distinct(values: list[str | None], vectorized: Callable[..., pl.DataFrame]) -> None:
    """The ``already_distinct`` path (what per_distinct_columns uses) gives what the grouping path gives."""
    distinct = pl.Series("values", list(dict.fromkeys(values)), dtype=pl.String)
    assert_frame_equal(vectorized(distinct, already_distinct=True), vectorized(distinct))
    assert distinct.to_list() == list(dict.fromkeys(values))


@FAST
@given(column(NAMES))
def test_names_equal_parse_name(values: list[str | None]) -> None:
    result = _checked(values, name_columns)
    _same_on_distinct(values, name_columns)
    for value, row in zip(values, result.iter_rows(named=True), strict=True):
        parsed = parse_name(value)
        assert row["name_remark"] == parsed.remark, value
        assert row["legacy"] == (parsed.legacy_encoding is not None), value
        if not parsed.display:
            assert row["norm"] is None and row["name_key"] is None and row["name_reordered"] is False, value
            continue
        assert (row["norm"], row["family_name"], row["middle_name"], row["given_name"]) == (
            parsed.display,
            parsed.family,
            parsed.middle,
            parsed.given,
        ), value
        assert (row["name_key"], row["family_key"], row["middle_key"], row["given_key"]) == (
            parsed.name_key,
            parsed.family_key,
            parsed.middle_key,
            parsed.given_key,
        ), value
        assert (row["name_key_no_middle"], row["name_key_glued"]) == (
            parsed.name_key_no_middle,
            parsed.name_key_glued,
        ), value
        assert (row["name_prefix"], row["name_convention"], row["name_reordered"]) == (
            parsed.prefix,
            parsed.convention,
            parsed.reordered,
        ), value


@FAST
@given(column(ADDRESSES))
def test_addresses_equal_resolve_address(values: list[str | None]) -> None:
    result = _checked(values, address_columns)
    _same_on_distinct(values, address_columns)
    for value, row in zip(values, result.iter_rows(named=True), strict=True):
        single = resolve_address(value)
        assert row["status"] == single.status, value
        assert (row["ward_code"], row["province_code"], row["legacy_ward_code"]) == (
            single.ward_code,
            single.province_code,
            single.legacy_ward_code,
        ), value
        assert (row["norm"], row["street"]) == (single.normalized, single.street), value
        assert row["candidates"] == (list(single.candidates) if single.status else None), value
        assert row["legacy"] == (single.legacy_encoding is not None), value


@FAST
@given(column(DATES), st.sampled_from(["birth_date", "card_expiry_date"]))
def test_dates_equal_parse_date(values: list[str | None], name: str) -> None:
    result = _checked(values, lambda s: _date_columns(s, name, TODAY))
    for value, row in zip(values, result.iter_rows(named=True), strict=True):
        parsed = parse_date(value, as_of=TODAY, allow_future=name == "card_expiry_date")
        assert (row["value"], row["precision"], row["valid"]) == (parsed.value, parsed.precision, parsed.valid), value
        assert row["swapped"] == (parsed.swapped.isoformat() if parsed.swapped else None), value


@FAST
@given(column(IDS), st.lists(st.sampled_from([None, 1990, 2005]), min_size=1), st.sampled_from([None, "Nam", "Nữ"]))
def test_ids_equal_decode_personal_id(values: list[str | None], years: list[int | None], sex: str | None) -> None:
    birth_years = [years[i % len(years)] for i in range(len(values))]

    def vectorized(series: pl.Series) -> pl.DataFrame:
        frame = pl.DataFrame(
            {"person_id": series, "by": birth_years, "sx": [sex] * len(values)},
            schema={"person_id": pl.String, "by": pl.Int32, "sx": pl.String},
        )
        return id_columns(frame, "person_id", "by", "sx", as_of=TODAY).with_columns(
            frame.select(old_id_kind_expr("person_id").alias("kind"))
        )

    result = _checked(values, vectorized)
    for value, year, row in zip(values, birth_years, result.iter_rows(named=True), strict=True):
        decoded = decode_personal_id(value, birth_year=year, sex=sex, as_of=TODAY)
        assert row["person_id_norm"] == decoded.number, value
        assert row["person_id_issue"] == decoded.issue, value
        assert row["person_id_valid"] == decoded.valid, value
        assert (row["person_id_birth_year"], row["person_id_sex"]) == (decoded.birth_year, decoded.sex), value
        assert row["person_id_contradiction"] == decoded.contradiction, value
        assert row["kind"] == old_id_kind(value), value


@FAST
@given(column(NAMES + ADDRESSES + ["N÷", "Hµ Néi", "Lª Kh¸nh", "Lê Tâm"]))
def test_legacy_series_equals_fix_legacy_encoding(values: list[str | None]) -> None:
    series = pl.Series("values", values, dtype=pl.String)
    converted, flags = fix_legacy_series(series)
    assert series.to_list() == values
    assert converted.len() == flags.len() == len(values)
    for value, text, flag in zip(values, converted.to_list(), flags.to_list(), strict=True):
        if value is None:
            assert text is None and flag is False
            continue
        expected, encoding = fix_legacy_encoding(value)
        assert (text, flag) == (expected, encoding is not None), value


@FAST
@given(column(NAMES + ADDRESSES))
def test_per_distinct_equals_computing_every_row(values: list[str | None]) -> None:
    def compute(distinct: pl.Series) -> pl.DataFrame:
        fixed = nfc_series(distinct)
        return pl.DataFrame({"nfc": fixed, "length": fixed.str.len_chars()})

    result = _checked(values, lambda s: per_distinct(s, compute))
    assert result.equals(compute(pl.Series(values, dtype=pl.String)))


@FAST
@given(st.lists(column(NAMES + ADDRESSES), min_size=1, max_size=3), st.booleans())
def test_distinct_codes_spread_back_every_column(columns: list[list[str | None]], collide: bool) -> None:
    """Hash codes give every row of every column back its value, the distinct values in first-seen order with one
    null last, also when all hashes collide (the exact string grouping then takes over)."""
    series = [pl.Series(f"c{i}", c, dtype=pl.String) for i, c in enumerate(columns)]
    with pytest.MonkeyPatch.context() as patch:
        if collide:
            one_hash = lambda values: pl.repeat(7, values.len(), dtype=pl.UInt64, eager=True)  # noqa: E731
            patch.setattr(text_module, "_hash_keys", one_hash)
        distinct, codes = distinct_codes(series)
    flat = [v for c in columns for v in c]
    expected = list(dict.fromkeys(v for v in flat if v is not None)) + ([None] if None in flat else [])
    assert distinct.to_list() == expected
    for values, code in zip(columns, codes, strict=True):
        assert distinct.gather(code).to_list() == values
    assert [s.to_list() for s in series] == columns  # inputs unchanged


@FAST
@given(column(NAMES + ADDRESSES + IDS + DATES), st.booleans())
@example(["TrÇn V¨n §øc", "Lê Khánh Thy Oânh", None, "001090012345", "TrÇn V¨n §øc"], False)
@example(["Traàn Vaên Ñöùc", "Lê Tâm", None, "1990-03-15"], True)
def test_legacy_flags_equal_fix_legacy_encoding(values: list[str | None], many_distinct: bool) -> None:
    """legacy_flags (the columns normalized elsewhere) flags a cell exactly when its conversion happens, on the
    grouping path (few distinct values) and on the scanning path (mostly distinct: each value once more, numbered)."""
    if many_distinct:
        values = values + [f"{v}{i}" if v is not None else None for i, v in enumerate(values)]
    series = pl.Series("values", values, dtype=pl.String)
    flags = legacy_flags(series)
    assert series.to_list() == values and flags.len() == len(values) and flags.null_count() == 0
    for value, flag in zip(values, flags.to_list(), strict=True):
        assert flag == (value is not None and fix_legacy_encoding(value)[1] is not None), value
