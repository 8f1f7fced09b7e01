"""Identifiers already canonical skip the per-value converter (``records.ingest._as_is_pattern``): the base and the
extracts ingest exactly as when every distinct value goes through ``canonical_digits``."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import polars as pl
import pytest

from records import ingest
from records.ingest import ID_LENGTHS, ingest_base, ingest_file
from records.schema import REQUIRED_COLUMNS
from records.values import ValueProblem, canonical_digits
from tests.ingest.test_ingest import GOOD, HEADER, write_csv

IDS = [
    "001090012345", "37304203655", "3.7304203655E+10", "37304203655.0", "001 090 012 345", "００１０９００１２３４５",
    "001090012345\u200b", "12345", "0010900123456", "abc", "", None, "123456789", "0123456789012", "  001090012346 ",
    "001-090-012-347", "1.5",
]  # fmt: skip


def _both(monkeypatch: pytest.MonkeyPatch, run: object) -> tuple[object, object]:
    fast = run()  # type: ignore[operator]
    monkeypatch.setattr(ingest, "_as_is_pattern", lambda column: None)
    slow = run()  # type: ignore[operator]
    return fast, slow


def test_the_pattern_holds_only_values_the_converter_keeps() -> None:
    rng = random.Random(3)
    for column, lengths in ID_LENGTHS.items():
        pattern = ingest._as_is_pattern(column)
        assert pattern is not None
        digits = ("".join(rng.choice("0123456789") for _ in range(rng.randint(7, 14))) for _ in range(500))
        values = [*IDS[:-1], *digits]
        series = pl.Series(values, dtype=pl.String)
        for value, matches in zip(values, series.str.contains(pattern).to_list(), strict=True):
            if matches:
                assert canonical_digits(value, lengths, column) == value
            elif value is not None:
                with contextlib.suppress(ValueProblem):
                    assert canonical_digits(value, lengths, column) != value
    assert ingest._as_is_pattern("full_name") is None


def test_base_ingests_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n = len(IDS)
    frame = pl.DataFrame({c: [f"{c}-{i}" for i in range(n)] for c in REQUIRED_COLUMNS}).with_columns(
        pl.Series("record_id", [f"R{i}" for i in range(n)]),
        pl.Series("person_id", IDS, dtype=pl.String),
        pl.Series("card_number", list(reversed(IDS)), dtype=pl.String),
        pl.Series("old_id_number", [*IDS[4:], *IDS[:4]], dtype=pl.String),
        pl.lit("1990-01-02").alias("birth_date"),
        pl.lit("Nữ").alias("sex"),
    )
    frame.write_parquet(tmp_path / "population_base.parquet")
    before = frame.clone()
    fast, slow = _both(monkeypatch, lambda: ingest_base(tmp_path / "population_base.parquet"))
    assert fast.accepted.equals(slow.accepted)  # type: ignore[attr-defined]
    assert fast.quarantine.equals(slow.quarantine)  # type: ignore[attr-defined]
    assert fast.files.equals(slow.files)  # type: ignore[attr-defined]
    assert 0 < fast.accepted.height < n and fast.quarantine.height > 0  # type: ignore[attr-defined]
    assert "001090012345" in fast.accepted["person_id"].to_list()  # type: ignore[attr-defined]
    assert frame.equals(before)


def test_extract_ingests_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    column = 1  # HEADER: record_id, person_id, ...
    rows = [HEADER]
    for i, value in enumerate(IDS):
        row = list(GOOD)
        row[0], row[column] = f"CT{i}", value or ""
        rows.append(row)
    path = write_csv(tmp_path / "cu_tru.csv", rows)
    fast, slow = _both(monkeypatch, lambda: ingest_file(path))
    assert fast.accepted.equals(slow.accepted)  # type: ignore[attr-defined]
    assert fast.quarantine.equals(slow.quarantine)  # type: ignore[attr-defined]
    assert fast.accepted.height > 0 and fast.quarantine.height > 0  # type: ignore[attr-defined]
