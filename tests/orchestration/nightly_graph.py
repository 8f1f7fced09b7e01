"""The real nightly graph on a small generated province, for the end-to-end orchestration tests."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl

from pipelines.defs import load_pipeline_definitions
from pipelines.resources import build_resources
from register.store import RegisterStore

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


def _visible(path: Path, root: Path) -> bool:
    """Not a writer's hidden temporary file or staging folder (nothing reads those)."""
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def parquet_outputs(output_dir: Path) -> dict[str, pl.DataFrame]:
    """Every Parquet file under ``output_dir`` (nights and long-lived state), keyed by relative path."""
    return {
        path.relative_to(output_dir).as_posix(): pl.read_parquet(path)
        for path in sorted(output_dir.rglob("*.parquet"))
        if _visible(path, output_dir)
    }


def state_files(output_dir: Path) -> dict[str, str]:
    """Every file of the long-lived state (``state/``: tables, index, model, manifests), by content digest.

    The register store keeps every version it ever wrote, named by time (a rerun adds one: nothing is lost), so it
    is compared by what each night's version holds (``register_versions``), not by its files."""
    root = output_dir / "state"
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and _visible(path, root)
        and path.suffix != ".lock"
        and path.relative_to(root).parts[0] != "register"
    }


def register_versions(output_dir: Path) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """Per night of the register's catalog: its register and change set."""
    store = RegisterStore(output_dir / "state" / "register")
    return {night: (store.read_register(night), store.read_changes(night)) for night in store.nights()}


def night_outputs(output_dir: Path, night: str) -> list[str]:
    """The outputs stored for ``night`` so far (a Parquet file or a folder per asset)."""
    folder = output_dir / "nights" / night
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".") and p.suffix != ".json")


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
    expected_state, actual_state = state_files(expected_dir), state_files(actual_dir)
    assert sorted(actual_state) == sorted(expected_state), "the state holds other files than one clean run leaves"
    changed = [name for name, digest in expected_state.items() if actual_state[name] != digest]
    assert not changed, f"state files differ from the uninterrupted run: {changed}"
    expected_register, actual_register = register_versions(expected_dir), register_versions(actual_dir)
    assert sorted(actual_register) == sorted(expected_register)
    for night, (register, changes) in expected_register.items():
        assert actual_register[night][0].equals(register), f"register of {night} differs"
        assert actual_register[night][1].equals(changes), f"change set of {night} differs"
    assert database_counts(actual_dir) == database_counts(expected_dir)
