"""The real nightly graph on a small generated province, for the end-to-end orchestration tests."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl

from pipelines.defs import load_pipeline_definitions
from pipelines.resources import build_resources

NIGHT = dt.date(2025, 9, 15)
PEOPLE = 400
SEED = 7


@dataclass(frozen=True)
class Province:
    input_dir: Path
    night: str


@dataclass(frozen=True)
class NightRun:
    province: Province
    output_dir: Path


def nightly_definitions(input_dir: Path, output_dir: Path) -> dg.Definitions:
    """The code location of ``pipelines/definitions.py``, with its resources pointed at the given folders."""
    return dg.Definitions.merge(
        load_pipeline_definitions(),
        dg.Definitions(resources=build_resources(str(input_dir), str(output_dir))),
    )


def parquet_outputs(output_dir: Path) -> dict[str, pl.DataFrame]:
    """Every Parquet file under ``output_dir`` (nights and long-lived state), keyed by relative path."""
    return {
        path.relative_to(output_dir).as_posix(): pl.read_parquet(path)
        for path in sorted(output_dir.rglob("*.parquet"))
        if not path.name.startswith(".")
    }


def database_counts(output_dir: Path) -> dict[str, int]:
    """Rows per table of the embedded task store (SQLite), when the graph writes one."""
    database = output_dir / "dancu.sqlite"
    if not database.exists():
        return {}
    with sqlite3.connect(database) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in sorted(tables)}


def assert_same_outputs(expected_dir: Path, actual_dir: Path) -> None:
    expected, actual = parquet_outputs(expected_dir), parquet_outputs(actual_dir)
    assert sorted(actual) == sorted(expected)
    different = [name for name, frame in expected.items() if not frame.equals(actual[name])]
    assert not different, f"outputs differ from the uninterrupted run: {different}"
    assert database_counts(actual_dir) == database_counts(expected_dir)
