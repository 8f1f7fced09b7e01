"""The register's stored outputs: an incremental night keeps the rows it rebuilt beside the output; a full night's
rows are the store's version itself, so its output refers to the store and a loaded output reads them when asked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from checks.findings import FINDINGS_SCHEMA
from register.store import RegisterStore
from register.types import CHANGES_SCHEMA
from state.register import REGISTER_FOLDER, RegisterChanges, RegisterNight, register_findings_store

NIGHT = "2025-11-11"


def _night(state: Path, *, full: bool) -> tuple[RegisterNight, RegisterChanges]:
    register = pl.DataFrame({"person_key": ["P1", "P2", "P3"], "status": ["alive", "deceased", "alive"]})
    changes = pl.DataFrame(
        {"person_key": ["P2"], "record_id": ["B2"], "field": ["status"], "night": [dt.date(2025, 11, 11)]}
    ).match_to_schema(CHANGES_SCHEMA, missing_columns="insert")
    store = RegisterStore(state / REGISTER_FOLDER)
    store.write(NIGHT, register, changes)
    findings = register_findings_store(state).commit(
        NIGHT, base=None, added=pl.DataFrame(schema=FINDINGS_SCHEMA), empty_schema=FINDINGS_SCHEMA
    )
    rebuilt = register if full else register.head(1)
    tonight = changes if full else changes.head(0)
    keys = rebuilt.get_column("person_key")
    night = RegisterNight(store.root, NIGHT, rebuilt, tonight, keys.head(0), findings, keys, full)
    return night, RegisterChanges(store.root, NIGHT, tonight, full=full)


def test_a_full_night_output_refers_to_the_store_and_reads_it_when_asked(tmp_path: Path) -> None:
    built, changes = _night(tmp_path / "state", full=True)
    built.save(tmp_path / "out" / "register")
    changes.save(tmp_path / "out" / "register_changes")
    assert not (tmp_path / "out" / "register" / "rebuilt.parquet").exists()
    assert not (tmp_path / "out" / "register_changes" / "changes.parquet").exists()
    loaded = RegisterNight.load(tmp_path / "out" / "register")
    loaded_changes = RegisterChanges.load(tmp_path / "out" / "register_changes")
    assert "rebuilt" not in vars(loaded) and "changes" not in vars(loaded)  # nothing read yet
    assert loaded.full and loaded_changes.full
    assert loaded.rebuilt.equals(built.rebuilt)
    assert loaded.changes.equals(built.changes)
    assert loaded.changed_rows(["person_key"]).equals(built.rebuilt.select("person_key"))
    assert loaded_changes.changed_rows().equals(changes.rebuilt)
    assert loaded_changes.frame().equals(changes.rebuilt)


def test_an_incremental_night_output_keeps_the_rows_it_rebuilt(tmp_path: Path) -> None:
    built, changes = _night(tmp_path / "state", full=False)
    built.save(tmp_path / "out" / "register")
    changes.save(tmp_path / "out" / "register_changes")
    loaded = RegisterNight.load(tmp_path / "out" / "register")
    loaded_changes = RegisterChanges.load(tmp_path / "out" / "register_changes")
    assert not loaded.full and not loaded_changes.full
    assert loaded.rebuilt.get_column("person_key").to_list() == ["P1"]  # tonight's rows, not the whole version
    assert loaded.changes.height == 0 and loaded_changes.changed_rows().height == 0
    assert loaded.frame().height == 3 and loaded_changes.frame().height == 1
