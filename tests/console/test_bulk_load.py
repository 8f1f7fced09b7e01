"""A night that adds many tasks to a SQLite store loads them in bulk (indexes and the count trigger dropped, then
made again, counts added in one statement): the store ends exactly as row by row, night after night."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from corrections import nightly
from corrections.build import NightDrafts, TaskDraft, task_fingerprint
from corrections.db import make_engine, migrate

_BULK_LOAD = nightly._bulk_load
_RUN_TIMES = {"at", "created_at", "updated_at", "resolved_at", "claimed_at", "finished_at"}


def _draft(i: int, ward: str | None) -> TaskDraft:
    rule = ("id_birth_year_mismatch", "required_field_missing", "card_expired")[i % 3]
    record = f"B-{i:05d}"
    return TaskDraft(
        fingerprint=task_fingerprint(rule, [record]),
        task_type="record_fix",
        rule=rule,
        quality=("đúng", "đủ", "sống")[i % 3],
        severity=("error", "warning")[i % 2],
        ward_code=ward,
        province_code=None if ward is None else "01",
        record_ids=[record],
        subject_record_id=record,
        subject_name=f"Nguyễn Văn Ánh {i}",
        subject_person_id=f"{i:012d}",
        title="Lỗi",
        description=f"Mô tả {i}",
        problem_fields=["full_name"],
        explanation=None if i % 4 else [{"left_id": record, "weight": 1.5}],
        priority=1 + i % 3,
        person_keys=[f"P{i}"],
    )


def _night(day: int, tasks: list[int]) -> NightDrafts:
    wards = ["00001", "00004", None]
    return NightDrafts(
        night=date(2025, 11, 10) + timedelta(days=day),
        findings=len(tasks),
        tasks=[_draft(i, wards[i % 3]) for i in tasks],
        reviews=[],
        snapshots={f"B-{i:05d}": ("base", {"full_name": f"Nguyễn Văn Ánh {i}"}) for i in tasks},
    )


def _tables(path: Path) -> dict[str, Any]:
    with sqlite3.connect(path) as connection:
        names = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        tables: dict[str, Any] = {}
        for name in sorted(names):
            cursor = connection.execute(f'SELECT rowid, * FROM "{name}" ORDER BY rowid')
            keep = [i for i, d in enumerate(cursor.description) if d[0] not in _RUN_TIMES and name != "audit_log"]
            tables[name] = [tuple(row[i] for i in keep) for row in cursor.fetchall()]
        tables["schema"] = sorted(connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
        tables["integrity"] = connection.execute("PRAGMA integrity_check").fetchall()
    return tables


def _run(path: Path, nights: list[NightDrafts], bulk_min: int, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    monkeypatch.setattr(nightly, "BULK_LOAD_MIN", bulk_min)
    used: list[bool] = []

    def spy(connection: Any, new_tasks: int) -> Any:
        load = _BULK_LOAD(connection, new_tasks)
        used.append(load is not None)
        return load

    monkeypatch.setattr(nightly, "_bulk_load", spy)
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    for drafts in nights:
        nightly.apply_night(engine, drafts)
    engine.dispose()
    return used


def test_bulk_load_stores_what_row_by_row_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nights = [
        _night(1, list(range(60))),  # empty store: bulk
        _night(2, list(range(30, 200))),  # 140 new against 60 stored: bulk, with count rows already there
        _night(3, list(range(100, 230))),  # 30 new against 200 stored: row by row; 100 closed as gone
        _night(4, list(range(0, 20))),  # reopened tasks, row by row
    ]
    bulk = _run(tmp_path / "bulk.sqlite", nights, 10, monkeypatch)
    rows = _run(tmp_path / "rows.sqlite", nights, 10**9, monkeypatch)
    assert bulk == [True, True, False, False] and rows == [False] * 4
    a, b = _tables(tmp_path / "bulk.sqlite"), _tables(tmp_path / "rows.sqlite")
    assert a == b
    assert a["integrity"] == [("ok",)]
    with sqlite3.connect(tmp_path / "bulk.sqlite") as connection:
        key = "coalesce(province_code, ''), coalesce(ward_code, ''), state, quality, priority, rule"
        recounted = connection.execute(f"SELECT {key}, count(*) FROM tasks GROUP BY {key} ORDER BY {key}").fetchall()
        stored = connection.execute(
            f"SELECT {nightly._COUNT_KEY}, tasks FROM task_counts WHERE tasks > 0 ORDER BY {nightly._COUNT_KEY}"
        ).fetchall()
        assert recounted == stored
        states = dict(connection.execute("SELECT state, count(*) FROM tasks GROUP BY state").fetchall())
    assert states == {"open": 20, "resolved": 210}  # a full night closes what it does not see
