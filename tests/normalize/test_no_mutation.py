"""No normalizer changes its argument, and none changes the number of rows.

polars ``Series.scatter`` writes into the series it is called on. A normalizer that scattered into its input
changed the caller's column; inside ``per_distinct`` it changed the distinct keys, so a column holding the same
name in NFC and in NFD came back with more rows than it went in (``ShapeError`` in every command).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date

import polars as pl
import pytest

from normalize.addresses import address_columns
from normalize.frame import normalize_records
from normalize.ids import id_columns
from normalize.names import family_name_frequencies, name_columns
from normalize.text import fix_legacy_series, nfc_series, per_distinct, replaced_at
from records.schema import CANONICAL_SCHEMA, conform


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


NAMES = ["Nguyễn Thị Hòa", _nfd("Nguyễn Thị Hòa"), "Nguyễn Thị Hoà", "TrÇn V¨n §øc", None, "Ðinh Văn An", "Lê An"]
ADDRESSES = [
    "Số 12 ngõ 34 Khâm Thiên, P. Thổ Quan, Q. Đống Đa, TP. Hà Nội",
    _nfd("Số 12 ngõ 34 Khâm Thiên, P. Thổ Quan, Q. Đống Đa, TP. Hà Nội"),
    "SỐ 5 NGÕ 2, PHƯỜNG BA ĐÌNH, HÀ NỘI",
    _nfd("SỐ 5 NGÕ 2, PHƯỜNG BA ĐÌNH, HÀ NỘI"),
    "P. Cèng VÞ, Q. Ba §×nh, HN",
    None,
    "",
]
# The bug hid whenever another cell of the column was legacy-encoded (the legacy fix made a copy first).
PLAIN_NAMES = [v for v in NAMES if v != "TrÇn V¨n §øc"]
PLAIN_ADDRESSES = [v for v in ADDRESSES if v != "P. Cèng VÞ, Q. Ba §×nh, HN"]


def _repeat(values: list[str | None], times: int = 5) -> pl.Series:
    # Repeats make per_distinct take its join-back path (few distinct values), where the bug lived.
    return pl.Series("column", values * times, dtype=pl.String)


def _column_normalizers() -> list[tuple[str, Callable[[pl.Series], object], list[str | None]]]:
    normalizers: list[tuple[str, Callable[[pl.Series], object], list[str]]] = [
        ("nfc_series", nfc_series, ["names"]),
        ("fix_legacy_series", fix_legacy_series, ["names", "addresses"]),
        ("name_columns", name_columns, ["names"]),
        ("address_columns", address_columns, ["addresses"]),
        ("per_distinct", lambda s: per_distinct(s, lambda d: nfc_series(d).to_frame("v")), ["names"]),
    ]
    columns = {"names": (NAMES, PLAIN_NAMES), "addresses": (ADDRESSES, PLAIN_ADDRESSES)}
    return [
        (f"{name}-{kind}-{'plain' if i else 'legacy'}", function, columns[kind][i])
        for name, function, kinds in normalizers
        for kind in kinds
        for i in (0, 1)
    ]


@pytest.mark.parametrize(
    ("name", "normalizer", "values"), _column_normalizers(), ids=[case[0] for case in _column_normalizers()]
)
def test_column_normalizer_leaves_its_argument_alone(
    name: str, normalizer: Callable[[pl.Series], object], values: list[str | None]
) -> None:
    for times in (1, 5):  # all distinct (no join back) and repeated (join back)
        column = _repeat(values, times)
        before = column.to_list()
        result = normalizer(column)
        assert column.to_list() == before, name
        frames = result if isinstance(result, tuple) else (result,)
        for frame in frames:
            height = frame.height if isinstance(frame, pl.DataFrame) else frame.len()  # type: ignore[attr-defined]
            assert height == column.len(), name


def _canonical(times: int, names: list[str | None], addresses: list[str | None]) -> pl.DataFrame:
    n = len(names) * times
    return conform(
        pl.DataFrame(
            {
                "record_id": [str(i) for i in range(n)],
                "person_id": _cycle(["001090012345", "０01090012345", None, "0010 9001 2346", "x", ""], n),
                "full_name": names * times,
                "birth_date": _cycle(["1990-03-05", "00/00/1950", "1/1/90", None, "19900315", "2099-01-01"], n),
                "sex": _cycle(["Nam", "nu", None, "Nữ", _nfd("Nữ"), "F"], n),
                "permanent_address": _cycle(addresses, n),
                "current_address": _cycle(list(reversed(addresses)), n),
                "hometown": _cycle(addresses, n),
                "father_name": list(reversed(names)) * times,
            }
        ),
        source="base",
    )


def _cycle(values: list[str | None], n: int) -> list[str | None]:
    return [values[i % len(values)] for i in range(n)]


@pytest.mark.parametrize("times", [1, 40])
@pytest.mark.parametrize("legacy", [True, False])
def test_normalize_records_leaves_its_argument_alone(times: int, legacy: bool) -> None:
    frame = _canonical(times, NAMES if legacy else PLAIN_NAMES, ADDRESSES if legacy else PLAIN_ADDRESSES)
    before = frame.clone().rows()
    normalized = normalize_records(frame, as_of=date(2025, 7, 1))
    assert frame.rows() == before
    assert normalized.height == frame.height
    assert normalized.select(list(CANONICAL_SCHEMA)).equals(frame)
    # NFC and NFD spellings of one name give one normalized form.
    norms = normalized.filter(pl.col("full_name").is_in([NAMES[0], NAMES[1]]))["full_name_norm"].unique()
    assert norms.to_list() == ["Nguyễn Thị Hòa"]


def test_frame_helpers_leave_their_argument_alone() -> None:
    frame = normalize_records(_canonical(3, NAMES, ADDRESSES), as_of=date(2025, 7, 1))
    before = frame.rows()
    family_name_frequencies(frame)
    id_columns(frame, "person_id", "birth_year", "sex_norm", as_of=date(2025, 7, 1))
    assert frame.rows() == before


def test_replaced_at_returns_a_copy() -> None:
    original = pl.Series(["a", "b", "c"])
    changed = replaced_at(original, pl.Series([1], dtype=pl.UInt32), pl.Series(["x"]))
    assert original.to_list() == ["a", "b", "c"]
    assert changed.to_list() == ["a", "x", "c"]
