"""A night's tasks drafted and staged a slice at a time (``corrections.build.DraftPlan``, what the asset does) give
the task store one whole ``build_drafts`` gives: every table row for row, in the same order (the same task ids and
snapshot rows), on a first night and on the incremental night after it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.state.nights import copy_output, province, run_night, small_block_settings

WALL_CLOCK = ("created_at", "updated_at", "finished_at", "resolved_at", "claimed_at", "at")
"""Columns holding when the run happened, not what it wrote."""


def _tables(database: Path) -> dict[str, list[tuple[object, ...]]]:
    tables: dict[str, list[tuple[object, ...]]] = {}
    with sqlite3.connect(database) as connection:
        names = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for name in names:
            columns = [r[1] for r in connection.execute(f'PRAGMA table_info("{name}")') if r[1] not in WALL_CLOCK]
            query = f'SELECT {", ".join(columns)} FROM "{name}" ORDER BY rowid'
            tables[name] = connection.execute(query).fetchall()
    return tables


@pytest.mark.slow
def test_tasks_drafted_in_slices_give_the_store_of_one_whole_draft(tmp_path: Path) -> None:
    where = province(tmp_path / "province", 400, 8, nights=2)
    settings = small_block_settings()
    first, second = where.nights
    whole, sliced = tmp_path / "whole", tmp_path / "sliced"
    run_night(where, first, whole, full=True, settings=settings)
    copy_output(whole, sliced)
    (sliced / "tasks.sqlite").unlink()
    # The same state, the task store drafted again in slices of three tasks.
    run_night(where, first, sliced, full=True, settings=settings, draft_slice=3)
    before = _tables(whole / "tasks.sqlite")
    assert len(before["tasks"]) > 9 and len(before["record_snapshots"]) > 9  # several slices
    assert _tables(sliced / "tasks.sqlite") == before
    run_night(where, second, whole, full=False, settings=settings)
    run_night(where, second, sliced, full=False, settings=settings, draft_slice=3)
    assert _tables(sliced / "tasks.sqlite") == _tables(whole / "tasks.sqlite")
