"""Tonight's base snapshot against the previous base version, read in one pass batch by batch
(``state.base.ingest_base_changes``): the same changes whatever the batch size, including a record id repeated in a
later batch, a repeat of an unchanged row, new, edited, night-dependent and removed rows, and quarantined ones."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import state.base
from state.base import BaseChanges, base_store, ingest_base_changes, normalize_base

NIGHT1, NIGHT2 = "2025-11-11", "2025-11-12"


def _person(k: int, name: str | None = None, birth: str = "1990-03-15") -> dict[str, str | None]:
    return {
        "record_id": f"R{k:02d}",
        "full_name": name or f"Nguyễn Văn Người {k}",
        "birth_date": birth,
        "sex": "Nam" if k % 2 else "Nữ",
        "person_id": f"0010900{k:05d}",
    }


def _snapshot(path: Path, rows: list[dict[str, str | None]]) -> Path:
    pl.DataFrame(rows, schema={c: pl.String for c in rows[0]}).write_parquet(path)
    return path


def _night1_rows() -> list[dict[str, str | None]]:
    # R17's two-digit year is read against the night: unchanged, but validated again every night.
    return [_person(k, birth="15/03/26" if k == 17 else "1990-03-15") for k in range(20)]


def _night2_rows() -> list[dict[str, str | None]]:
    rows = [r for r in _night1_rows() if r["record_id"] not in ("R04", "R15")]  # removed
    rows[3] = _person(3, "Trần Thị Đổi")  # edited
    rows.insert(9, _person(5))  # R05 (unchanged) repeated in a later batch
    rows.insert(2, _person(12, "Lê Văn Lặp"))  # R12's first occurrence is now early (changed), its old row repeats
    rows += [_person(30), _person(31, birth="31/02/1990"), {**_person(32), "record_id": None}]  # new, bad, no id
    return rows


def _changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_rows: int) -> BaseChanges:
    monkeypatch.setattr(state.base, "BATCH_ROWS", batch_rows)
    folder = tmp_path / f"batch-{batch_rows}"
    folder.mkdir(parents=True)
    store = base_store(folder / "state")
    first = ingest_base_changes(_snapshot(folder / "night1.parquet", _night1_rows()), None, NIGHT1)
    normalize_base(first, store)
    previous = store.latest(before=NIGHT2)
    assert previous is not None
    return ingest_base_changes(_snapshot(folder / "night2.parquet", _night2_rows()), previous, NIGHT2)


def test_changes_do_not_depend_on_the_batch_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _changes(tmp_path, monkeypatch, 1_000_000)
    for batch_rows in (1, 3, 7):
        batched = _changes(tmp_path, monkeypatch, batch_rows)
        assert batched.changed_frame().equals(whole.changed_frame())
        assert batched.removed.equals(whole.removed)
        assert batched.kept == whole.kept
        assert batched.ingest.quarantine.equals(whole.ingest.quarantine)
        assert batched.ingest.files.equals(whole.ingest.files)
        assert batched.accepted_ids is not None and whole.accepted_ids is not None
        assert batched.accepted_ids.equals(whole.accepted_ids)


def test_what_the_night_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    changes = _changes(tmp_path, monkeypatch, 4)
    changed = changes.changed_frame().get_column("record_id").to_list()
    assert changed == ["R12", "R03", "R17", "R30"]  # file order: changed, edited, night-dependent, new
    assert changes.removed.to_list() == ["R04", "R15"]
    quarantine = changes.ingest.quarantine
    assert quarantine.height == 4
    reasons = dict(zip(quarantine["source_row"].to_list(), quarantine["reason"].to_list(), strict=True))
    repeated = [r for r in reasons.values() if "trùng" in r]
    assert len(repeated) == 2  # R05's and R12's later rows
    assert any("R05" in r for r in repeated) and any("R12" in r for r in repeated)
    assert changes.kept == 20 - 2 - 3  # 20 rows last night, 2 removed, R03/R12/R17 validated again
    files = changes.ingest.files.row(0, named=True)
    assert files["rows_read"] == len(_night2_rows())
    assert files["rows_read"] == files["rows_accepted"] + files["rows_quarantined"]


def test_rows_whose_hash_two_live_rows_share_are_validated_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are looked up by content hash, then by id: a hash two live rows share (a collision, forced here by a hash
    of the birth date only) decides nothing, so those rows are validated again instead of one of them being kept."""
    normal = _changes(tmp_path / "normal", monkeypatch, 1_000_000)

    def birth_date_hash(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
        return frame.get_column("birth_date").hash(seed=1).alias(state.base.HASH_COLUMN)

    monkeypatch.setattr(state.base, "row_hashes", birth_date_hash)
    colliding = _changes(tmp_path / "colliding", monkeypatch, 1_000_000)
    assert colliding.kept == 0  # every live row shares its hash with another
    assert colliding.removed.equals(normal.removed)
    assert colliding.ingest.quarantine.equals(normal.ingest.quarantine)
    columns = [c for c in normal.changed_frame().columns if c != state.base.HASH_COLUMN]
    assert set(colliding.changed_frame().get_column("record_id")) == {*normal.changed_frame()["record_id"],
                                                                       *normal.accepted_ids["record_id"]}  # fmt: skip
    assert colliding.changed_frame().select(columns).height == normal.kept + normal.changed_count()
