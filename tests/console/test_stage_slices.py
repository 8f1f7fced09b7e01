"""``corrections.nightly._stage_task_slice``: a fingerprint staged by an earlier slice takes the later draft's
content in its first place, as one dict of the whole night's drafts (``{d.fingerprint: d}``) would."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from sqlalchemy import select

from corrections.build import TaskDraft
from corrections.db import session_scope, store_engine
from corrections.nightly import _TASK_STAGE, _stage_task_slice

NIGHT = dt.date(2025, 11, 11)


def _draft(fingerprint: str, description: str) -> TaskDraft:
    return TaskDraft(
        fingerprint=fingerprint, task_type="record_fix", rule="address_ambiguous", quality="đúng", severity="error",
        ward_code="13420", province_code="37", record_ids=["B1"], subject_record_id="B1", subject_name="Nguyễn Văn An",
        subject_person_id=None, title="Địa chỉ", description=description, problem_fields=["permanent_address"],
        explanation=None, priority=2,
    )  # fmt: skip


def test_a_fingerprint_in_two_slices_keeps_its_first_place_and_the_later_content(tmp_path: Path) -> None:
    engine = store_engine(f"sqlite:///{tmp_path / 'tasks.sqlite'}")
    first, other = _draft("a" * 64, "lần đầu"), _draft("b" * 64, "việc khác")
    again = dataclasses.replace(first, description="lần sau", priority=1)
    whole = {d.fingerprint: d for d in [first, other, again]}
    with session_scope(engine, write=True) as session:
        connection = session.connection()
        _TASK_STAGE.create(connection)
        staged: set[str] = set()
        _stage_task_slice(connection, NIGHT, [first, other], staged)
        _stage_task_slice(connection, NIGHT, [again], staged)
        stage = _TASK_STAGE.c
        rows = connection.execute(select(stage.fingerprint, stage.description, stage.priority)).all()
        _TASK_STAGE.drop(connection)
    assert staged == set(whole)
    assert [tuple(r) for r in rows] == [(f, d.description, d.priority) for f, d in whole.items()]
    assert rows[0][1] == "lần sau"
    engine.dispose()
