"""The common date shapes are canonicalized without a Python call per value (``records.ingest._date_without_python``)
and the cell text column by column (``_column_text``): every value comes out as ``canonical_date`` / ``_cell_text``
make it, and a whole file ingests exactly as before (accepted rows, quarantine with its raw JSON, file report)."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from records import ingest
from records.ingest import ingest_base, ingest_file
from records.values import ValueProblem, canonical_date
from tests.ingest.test_ingest import GOOD, HEADER, write_csv

YEARS = (0, 1849, 1850, 1900, 1996, 2000, 2023, 2024, 2200, 2201, 9999)
NIGHT = dt.date(2025, 11, 12)


def _shapes(year: int, month: int, day: int) -> list[str]:
    y = f"{year:04d}"
    return [
        f"{day:02d}/{month:02d}/{y}", f"{day}/{month}/{y}", f"{y}-{month:02d}-{day:02d}", f"{y}-{month}-{day}",
        f"ngày {day:02d} tháng {month:02d} năm {y}", f"ngày {day} tháng {month} năm {y}",
        f"{month}/{day}/{y} 12:00:00 AM", f"{month:02d}/{day:02d}/{y} 11:30:15 PM", f"{day}/{month}/{y} 1:00:00 PM",
        # Near misses: other spacing, case, separators, two-digit years, NFD text, non-ASCII digits.
        f"{day:02d}-{month:02d}-{y}", f"{day:02d}.{month:02d}.{y}", f"Ngày {day} tháng {month} năm {y}",
        f"ngày  {day} tháng {month} năm {y}", f"{day:02d}/{month:02d}/{y[2:]}", f"{month}/{day}/{y} 12:00 AM",
        f"nga\u0300y {day} tha\u0301ng {month} na\u0306m {y}", f"\uff10{day}/{month:02d}/{y}",
        f"{y}{month:02d}{day:02d}", f"{month:02d}/{y}", y,
    ]  # fmt: skip


def _canonical(value: str) -> str | None:
    try:
        return canonical_date(value, as_of=NIGHT)
    except ValueProblem:
        return None


def test_every_fast_date_is_the_converters_date() -> None:
    """Decided without Python: exactly the values of the four shapes whose date is a whole valid day, each to the
    converter's own result; every near miss is left to the converter."""
    common, near_misses = [], []
    for y, m, d in itertools.product(YEARS, range(14), range(33)):
        shapes = _shapes(y, m, d)
        common += shapes[:9]
        near_misses += shapes[9:]
    values = common + near_misses
    fast = pl.DataFrame({"birth_date": values}).select(ingest._date_without_python("birth_date")).to_series()
    for k, (value, quick) in enumerate(zip(values, fast.to_list(), strict=True)):
        converted = _canonical(value)
        if quick is not None:
            assert quick == converted, value
        elif k < len(common):
            assert converted is None or len(converted) < 10, value  # invalid, or a year or month only
    assert fast.head(len(common)).null_count() < len(common) // 2
    assert fast.tail(len(near_misses)).null_count() == len(near_misses)


def test_us_dates_put_the_month_first_only_when_it_can_be_one() -> None:
    frame = pl.DataFrame({"d": ["3/15/1990 12:00:00 AM", "15/3/1990 12:00:00 AM", "3/4/1990 12:00:00 PM"]})
    fast = frame.select(ingest._date_without_python("d")).to_series().to_list()
    assert fast == ["1990-03-15", "1990-03-15", "1990-03-04"]


def test_text_cells_column_by_column_equal_cell_by_cell() -> None:
    rng = random.Random(5)
    pieces = ["", " ", "\ufeff", "\u200b", "０１２", "Nguyễn", "abc", "\t", "037 ", "\u00ad9", " x\ufeff "]
    cells: list[Any] = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 4))) for _ in range(2000)]
    cells += [None, 12, 3.5, dt.date(1990, 1, 2), True]
    for column in ("full_name", "person_id", "birth_date", "sex"):
        for part in (cells[:-5], cells):  # text only (the comprehension) and mixed (the per-cell path)
            assert ingest._column_text(part, column) == [ingest._cell_text(c, column) for c in part]


def _per_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """The former path: every distinct date through ``canonical_date``, the raw JSON of every row made up front."""
    monkeypatch.setattr(ingest, "_date_without_python", lambda column: pl.lit(None, dtype=pl.String))
    monkeypatch.setattr(ingest, "_column_text", lambda cells, column: [ingest._cell_text(c, column) for c in cells])


def _frames(result: ingest.IngestResult) -> tuple[pl.DataFrame, ...]:
    return result.accepted, result.quarantine, result.files


def test_an_extract_ingests_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dates = ["15/03/1990", "ngày 5 tháng 3 năm 1990", "3/15/1990 12:00:00 AM", "31/02/1990", "00/00/1950", "x"]
    rows = [[f"CT-{i:03d}", *GOOD[1:3], d, *GOOD[4:]] for i, d in enumerate(dates)]
    rows.append(["CT-000", *GOOD[1:]])  # a repeated record id: quarantined with its raw JSON
    path = write_csv(tmp_path / "cu_tru_2025-11-12.csv", [HEADER, *rows])
    fast = ingest_file(path, as_of=NIGHT)
    _per_value(monkeypatch)
    slow = ingest_file(path, as_of=NIGHT)
    for new, old in zip(_frames(fast), _frames(slow), strict=True):
        assert new.equals(old)
    assert fast.quarantine.height >= 3
    lines = path.read_text("utf-8").splitlines()
    header = next(csv.reader([lines[0]]))
    for row, raw in zip(fast.quarantine["source_row"], fast.quarantine["raw_values"], strict=True):
        assert json.loads(raw) == dict(zip(header, next(csv.reader([lines[row - 1]])), strict=True))


def test_a_parquet_base_quarantines_with_the_same_raw_values(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "record_id": ["B1", "B2", "B2", None],
            "full_name": ["Lê Văn An", "Trần Thị Bích", "Trần Thị Bích", "Ngô Văn Ba"],
            "birth_date": ["1990-03-15", "31/02/1990", "1990-01-01", "1991-01-01"],
            "sex": ["Nam", "Nữ", "Nữ", "Nam"],
        }
    )
    frame.write_parquet(tmp_path / "population_base.parquet")
    result = ingest_base(tmp_path / "population_base.parquet", as_of=NIGHT)
    encoded = frame.select(pl.struct(pl.all()).struct.json_encode()).to_series().to_list()
    quarantine = result.quarantine
    by_row = dict(zip(quarantine["source_row"].to_list(), quarantine["raw_values"].to_list(), strict=True))
    assert by_row == {3: encoded[1], 4: encoded[2], 5: encoded[3]}


def test_blank_cells_as_before() -> None:
    """``_blank``'s ASCII shortcut says what the substitution of every format character said."""
    rng = random.Random(9)
    pieces = ["", " ", "\t", "\u200b", "\ufeff", "\u00ad", "a", "Đ", "\x1f", "\u3000"]
    cells: list[Any] = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 3))) for _ in range(3000)]
    cells += [None, 0, 1.5, dt.date(2000, 1, 1)]
    for cell in cells:
        before = cell is None or (isinstance(cell, str) and not ingest._FORMAT_RE.sub("", cell).strip())
        assert ingest._blank(cell) == before, repr(cell)
