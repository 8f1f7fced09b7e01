"""The versioned store: immutable versions per night, reruns replace one night, rollback restores byte for byte."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from register.changes import build_changes
from register.store import CHANGES_FILE, MANIFEST_FILE, REGISTER_FILE, RegisterStore, StoreError, file_sha256
from tests.register.factories import NEXT_NIGHT, NIGHT, OLD_FORM, build, person

THIRD = "2026-03-04"


def _write(store: RegisterStore, night: str, rows: list[dict[str, object]]) -> Path:
    previous_night = store.previous_night(night)
    previous = store.read_register(previous_night) if previous_night else None
    previous_changes = store.read_changes(previous_night) if previous_night else None
    day = pl.Series([night]).str.to_date()[0]
    result = build(rows, night=day, previous=previous)  # type: ignore[arg-type]
    changes = build_changes(result, day, previous_changes=previous_changes)
    return store.write(night, result.register, changes)


def _hashes(folder: Path) -> dict[str, str]:
    return {name: file_sha256(folder / name) for name in (REGISTER_FILE, CHANGES_FILE, MANIFEST_FILE)}


NIGHT_1, NIGHT_2 = NIGHT.isoformat(), NEXT_NIGHT.isoformat()
ROWS_1 = [person("B1", permanent_address=OLD_FORM)]
ROWS_2 = [person("B1", permanent_address=OLD_FORM), person("HT1", "civil_status", event_type="Khai tử",
                                                            death_date="2026-03-01")]  # fmt: skip


def test_versions_are_written_with_a_manifest_and_read_back(tmp_path: Path) -> None:
    store = RegisterStore(tmp_path / "register")
    assert store.current() is None and store.nights() == []
    with pytest.raises(StoreError, match="chưa có phiên bản"):
        store.read_register()
    folder = _write(store, NIGHT_1, ROWS_1)
    assert store.current() == NIGHT_1 and store.version_dir() == folder
    manifest = store.manifest()
    assert manifest["persons"] == 1 and manifest["previous_night"] is None
    assert manifest["sha256"][REGISTER_FILE] == file_sha256(folder / REGISTER_FILE)
    assert store.read_register()["person_key"].to_list() == ["P-B1"]
    assert "post_2025_address" in store.read_changes()["rule"].to_list()
    assert not list((tmp_path / "register" / "versions").glob(".*"))  # no staging folder left


def test_a_rerun_replaces_that_night_only(tmp_path: Path) -> None:
    store = RegisterStore(tmp_path / "register")
    first = _write(store, NIGHT_1, ROWS_1)
    second = _write(store, NIGHT_2, ROWS_2)
    assert (first.name, second.name) == (f"{NIGHT_1}--v1", f"{NIGHT_2}--v1")
    before = {NIGHT_1: _hashes(first), NIGHT_2: _hashes(second)}
    # The same inputs again: the same register and change set, byte for byte, so nothing is added.
    assert _write(store, NIGHT_2, ROWS_2) == second
    assert [h["action"] for h in store.catalog()["history"]] == ["write", "write"]
    # Other inputs for night 2: a new version of night 2 only; the replaced one stays on disk.
    rerun = _write(store, NIGHT_2, [*ROWS_2, person("CT9", "residence", event_type="Đăng ký tạm trú")])
    assert rerun.name == f"{NIGHT_2}--v2" and store.version_dir(NIGHT_2) == rerun
    assert store.version_dir(NIGHT_1) == first and _hashes(first) == before[NIGHT_1]
    assert _hashes(second) == before[NIGHT_2], "the replaced version stays as it was"
    assert store.nights() == [NIGHT_1, NIGHT_2]
    # An older night rerun after a later one: the later one stays current and untouched.
    again = _write(store, NIGHT_1, [*ROWS_1, person("CT8", "residence", event_type="Đăng ký tạm trú")])
    assert store.current() == NIGHT_2 and store.version_dir(NIGHT_1) == again and again.name == f"{NIGHT_1}--v2"


def test_a_version_a_crash_left_unnamed_is_replaced(tmp_path: Path) -> None:
    store = RegisterStore(tmp_path / "register")
    orphan = tmp_path / "register" / "versions" / f"{NIGHT_1}--v1"
    orphan.mkdir(parents=True)
    (orphan / REGISTER_FILE).write_bytes(b"half")
    folder = _write(store, NIGHT_1, ROWS_1)
    assert folder == orphan and store.read_register()["person_key"].to_list() == ["P-B1"]
    assert not [p for p in (tmp_path / "register").rglob("*") if p.name.startswith(".") and p.is_file()]


def test_rollback_restores_the_previous_version_byte_for_byte(tmp_path: Path) -> None:
    store = RegisterStore(tmp_path / "register")
    first = _write(store, NIGHT_1, ROWS_1)
    hashes = _hashes(first)
    register_before = store.read_register()
    _write(store, NIGHT_2, ROWS_2)
    _write(store, THIRD, ROWS_2)
    assert store.read_register()["status"].to_list() == ["deceased"]
    undone = store.rollback(NIGHT_2)
    assert undone.current == NIGHT_1 and sorted(undone.removed) == [NIGHT_2, THIRD]
    assert store.current() == NIGHT_1 and store.nights() == [NIGHT_1]
    assert _hashes(store.version_dir()) == hashes
    assert store.read_register().equals(register_before)
    assert store.catalog()["history"][-1]["action"] == "rollback"
    for version in undone.removed.values():
        assert (tmp_path / "register" / "versions" / version).exists(), "nothing is lost"
    # The next build of night 2 starts from night 1 again.
    assert store.previous_night(NIGHT_2) == NIGHT_1
    with pytest.raises(StoreError, match=NIGHT_2):
        store.rollback(NIGHT_2)


def test_show_and_diff(tmp_path: Path) -> None:
    store = RegisterStore(tmp_path / "register")
    _write(store, NIGHT_1, ROWS_1)
    _write(store, NIGHT_2, ROWS_2)
    for query in ("P-B1", "B1", "HT1", "037090001234"):
        assert store.find_person(query)["person_key"].to_list() == ["P-B1"], query
    assert store.find_person("B1", NIGHT_1)["status"].to_list() == ["alive"]
    diff = store.diff(NIGHT_1, NIGHT_2)
    changed = {row["field"]: (row[NIGHT_1], row[NIGHT_2]) for row in diff.iter_rows(named=True)}
    assert changed["status"] == ("alive", "deceased")
    assert changed["death_date"] == (None, "2026-03-01")
    assert "full_name" not in changed
    with pytest.raises(StoreError, match="2020-01-01"):
        store.diff(NIGHT_1, "2020-01-01")
    with pytest.raises(StoreError, match="invalid night"):
        store.version_dir("yesterday")


def test_part_folders_a_distributed_writer_leaves_are_a_version_like_files(tmp_path: Path) -> None:
    """``write_with``: register and change set as folders of part files (Spark's layout) are staged, named
    ``<night>--v<k>``, read back like files, and an identical rerun (other part names, same rows) adds nothing."""
    store = RegisterStore(tmp_path / "register")
    day = NIGHT
    result = build(ROWS_2, night=day)
    changes = build_changes(result, day)

    def parts(run: str) -> Callable[[Path, Path], dict[str, int]]:
        def write(register_path: Path, changes_path: Path) -> dict[str, int]:
            for frame, folder in ((result.register, register_path), (changes, changes_path)):
                folder.mkdir()
                half = frame.height // 2
                frame.head(half).write_parquet(folder / f"part-00000-{run}.parquet")
                frame.slice(half).write_parquet(folder / f"part-00001-{run}.parquet")
            tonight = int((changes["night"] == day).sum())
            return {"persons": result.register.height, "changes": changes.height, "changes_tonight": tonight}

        return write

    folder = store.write_with(NIGHT_1, parts("job-a"))
    assert folder.name == f"{NIGHT_1}--v1" and (folder / REGISTER_FILE).is_dir()
    assert store.read_register().equals(result.register)
    assert store.read_changes().equals(changes)
    assert store.manifest()["persons"] == result.register.height
    assert store.write_with(NIGHT_1, parts("job-b")) == folder
    assert [h["action"] for h in store.catalog()["history"]] == ["write"]
    assert not list((tmp_path / "register" / "versions").glob(".*"))
