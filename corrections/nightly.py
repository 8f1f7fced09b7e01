"""The nightly upsert: tonight's drafts into the store, by fingerprint, in one transaction.

Rules (issue 6):
- a new fingerprint creates an open task; a known one is refreshed (no duplicates when a night is re-run);
- an open or in-progress task not found tonight is closed with the reason ``defect_gone``;
- a resolved task found again on a *later* night than it was last seen is reopened (re-running the same night after
  an officer fixed the record at source does not reopen it: the fix cannot be in that night's data yet);
- a task resolved as ``not_an_error`` stays closed: the officer said the finding is wrong, so it is suppressed.
Review items follow the same pattern: pending items no longer in the review band are withdrawn; decided items keep
their decision (the matching engine uses it as a label, so the pair should not come back to review).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from corrections.build import NightDrafts, ReviewDraft, TaskDraft
from corrections.db import session_scope, utcnow
from corrections.models import AuditEntry, NightRun, RecordSnapshot, ReviewItem, Task, TaskEvent

__all__ = ["SYSTEM_ACTOR", "NightSummary", "apply_night"]

SYSTEM_ACTOR = "he-thong"
"""The actor name of the nightly run in task history and the audit log."""

_CHUNK = 2000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NightSummary:
    night: date
    findings: int
    tasks_seen: int
    created: int
    refreshed: int
    reopened: int
    auto_closed: int
    suppressed: int
    reviews_seen: int
    reviews_created: int
    reviews_withdrawn: int

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["night"] = self.night.isoformat()
        return values


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert(connection: Connection, table: Table, rows: list[dict[str, Any]], key: str) -> None:
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    updates = {c: statement.excluded[c] for c in rows[0] if c != key}
    # One statement executed for many rows: SQLAlchemy batches it ("insertmanyvalues") without recompiling.
    for chunk in _chunks(rows):
        connection.execute(statement.on_conflict_do_update(index_elements=[key], set_=updates), list(chunk))


def _task_content(draft: TaskDraft) -> dict[str, Any]:
    return {
        "task_type": draft.task_type,
        "rule": draft.rule,
        "quality": draft.quality,
        "severity": draft.severity,
        "ward_code": draft.ward_code,
        "province_code": draft.province_code,
        "record_ids": draft.record_ids,
        "subject_record_id": draft.subject_record_id,
        "subject_name": draft.subject_name,
        "subject_person_id": draft.subject_person_id,
        "title": draft.title,
        "description": draft.description,
        "problem_fields": draft.problem_fields,
        "explanation": draft.explanation,
        "priority": draft.priority,
    }


def _review_content(draft: ReviewDraft) -> dict[str, Any]:
    return {
        "kind": draft.kind,
        "ward_code": draft.ward_code,
        "province_code": draft.province_code,
        "match_probability": draft.match_probability,
        "match_weight": draft.match_weight,
        "explanation": draft.explanation,
    }


def _existing(connection: Connection, table: Table, fingerprints: list[str], columns: Iterable[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    selected = [table.c.fingerprint, *(table.c[c] for c in columns)]
    for chunk in _chunks(fingerprints):
        for row in connection.execute(select(*selected).where(table.c.fingerprint.in_(list(chunk)))):
            found[row.fingerprint] = row
    return found


def _apply_tasks(connection: Connection, night: date, drafts: list[TaskDraft]) -> dict[str, int]:
    tasks: Table = Task.__table__  # type: ignore[assignment]
    events: Table = TaskEvent.__table__  # type: ignore[assignment]
    now = utcnow()
    unique = {d.fingerprint: d for d in drafts}
    existing = _existing(connection, tasks, list(unique), ("id", "state", "resolution", "last_seen_night", "due_date"))
    new_rows: list[dict[str, Any]] = []
    refresh: list[dict[str, Any]] = []
    reopen: list[dict[str, Any]] = []
    suppressed = 0
    for fingerprint, draft in unique.items():
        row = existing.get(fingerprint)
        content = _task_content(draft)
        if row is None:
            new_rows.append(
                {
                    **content,
                    "fingerprint": fingerprint,
                    "due_date": night + timedelta(days=draft.due_days),
                    "state": "open",
                    "first_seen_night": night,
                    "last_seen_night": night,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        last_seen = max(row.last_seen_night, night)
        if row.state == "resolved" and row.resolution == "not_an_error":
            suppressed += 1
            refresh.append({"_id": row.id, **content, "last_seen_night": last_seen, "due_date": row.due_date})
        elif row.state == "resolved" and night > row.last_seen_night:
            reopen.append(
                {"_id": row.id, **content, "last_seen_night": night, "due_date": night + timedelta(days=draft.due_days)}
            )
        else:
            refresh.append({"_id": row.id, **content, "last_seen_night": last_seen, "due_date": row.due_date})

    for chunk in _chunks(new_rows, 500):
        connection.execute(insert(tasks), list(chunk))
    created_ids = _existing(connection, tasks, [r["fingerprint"] for r in new_rows], ("id",)) if new_rows else {}
    event_rows = [
        {
            "task_id": created_ids[r["fingerprint"]].id,
            "at": now,
            "actor": SYSTEM_ACTOR,
            "action": "created",
            "from_state": None,
            "to_state": "open",
            "night": night,
            "note": None,
        }
        for r in new_rows
    ]

    content_columns = [*_task_content(drafts[0]).keys(), "last_seen_night", "due_date"] if drafts else []
    if refresh:
        statement = (
            update(tasks)
            .where(tasks.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in content_columns} | {"updated_at": now})
        )
        for chunk in _chunks(refresh):
            connection.execute(statement, list(chunk))
    if reopen:
        statement = (
            update(tasks)
            .where(tasks.c.id == bindparam("_id"))
            .values(
                {c: bindparam(c) for c in content_columns}
                | {
                    "state": "open",
                    "resolution": None,
                    "resolution_note": None,
                    "assignee": None,
                    "claimed_at": None,
                    "resolved_at": None,
                    "resolved_by": None,
                    "updated_at": now,
                }
            )
        )
        for chunk in _chunks(reopen):
            connection.execute(statement, list(chunk))
        event_rows.extend(
            {
                "task_id": r["_id"],
                "at": now,
                "actor": SYSTEM_ACTOR,
                "action": "reopened",
                "from_state": "resolved",
                "to_state": "open",
                "night": night,
                "note": "Lỗi xuất hiện lại trong dữ liệu đêm nay",
            }
            for r in reopen
        )

    # Tasks still open that tonight's data no longer shows: the defect is gone.
    gone = connection.execute(
        select(tasks.c.id, tasks.c.state).where(
            tasks.c.state.in_(("open", "in_progress")), tasks.c.last_seen_night < night
        )
    ).all()
    if gone:
        statement = (
            update(tasks)
            .where(tasks.c.id == bindparam("_id"))
            .values(
                state="resolved", resolution="defect_gone", resolved_at=now, resolved_by=SYSTEM_ACTOR, updated_at=now
            )
        )
        for chunk in _chunks([{"_id": r.id} for r in gone]):
            connection.execute(statement, list(chunk))
        event_rows.extend(
            {
                "task_id": r.id,
                "at": now,
                "actor": SYSTEM_ACTOR,
                "action": "auto_closed",
                "from_state": r.state,
                "to_state": "resolved",
                "night": night,
                "note": "Lỗi không còn trong dữ liệu đêm nay",
            }
            for r in gone
        )
    for chunk in _chunks(event_rows, 1000):
        connection.execute(insert(events), list(chunk))
    return {
        "tasks_seen": len(unique),
        "created": len(new_rows),
        "refreshed": len(refresh) - suppressed,
        "reopened": len(reopen),
        "auto_closed": len(gone),
        "suppressed": suppressed,
    }


def _apply_reviews(connection: Connection, night: date, drafts: list[ReviewDraft]) -> dict[str, int]:
    items: Table = ReviewItem.__table__  # type: ignore[assignment]
    now = utcnow()
    unique = {d.fingerprint: d for d in drafts}
    existing = _existing(connection, items, list(unique), ("id", "state", "last_seen_night"))
    new_rows: list[dict[str, Any]] = []
    refresh: list[dict[str, Any]] = []
    for fingerprint, draft in unique.items():
        row = existing.get(fingerprint)
        if row is None:
            new_rows.append(
                {
                    **_review_content(draft),
                    "fingerprint": fingerprint,
                    "left_id": draft.left_id,
                    "right_id": draft.right_id,
                    "state": "pending",
                    "first_seen_night": night,
                    "last_seen_night": night,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        else:
            state = "pending" if row.state == "withdrawn" else row.state
            refresh.append(
                {
                    "_id": row.id,
                    **_review_content(draft),
                    "state": state,
                    "last_seen_night": max(row.last_seen_night, night),
                }
            )
    for chunk in _chunks(new_rows, 500):
        connection.execute(insert(items), list(chunk))
    if refresh:
        columns = [*_review_content(drafts[0]).keys(), "state", "last_seen_night"]
        statement = (
            update(items)
            .where(items.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in columns} | {"updated_at": now})
        )
        for chunk in _chunks(refresh):
            connection.execute(statement, list(chunk))
    withdrawn = connection.execute(
        update(items)
        .where(items.c.state == "pending", items.c.last_seen_night < night)
        .values(state="withdrawn", updated_at=now)
    ).rowcount
    return {"reviews_seen": len(unique), "reviews_created": len(new_rows), "reviews_withdrawn": int(withdrawn or 0)}


def apply_night(engine: Engine, drafts: NightDrafts) -> NightSummary:
    """Upsert one night's drafts; all or nothing (one transaction)."""
    night = drafts.night
    with session_scope(engine, write=True) as session:
        connection = session.connection()
        snapshots: Table = RecordSnapshot.__table__  # type: ignore[assignment]
        _upsert(
            connection,
            snapshots,
            [
                {"record_id": rid, "source": source, "data": data, "night": night}
                for rid, (source, data) in sorted(drafts.snapshots.items())
            ],
            "record_id",
        )
        task_counts = _apply_tasks(connection, night, drafts.tasks)
        review_counts = _apply_reviews(connection, night, drafts.reviews)
        summary = NightSummary(night=night, findings=drafts.findings, **task_counts, **review_counts)
        run = session.get(NightRun, night)
        values = {k: v for k, v in summary.as_dict().items() if k not in ("night", "refreshed")}
        if run is None:
            session.add(NightRun(night=night, runs=1, finished_at=utcnow(), **values))
        else:
            run.runs += 1
            run.finished_at = utcnow()
            for key, value in values.items():
                setattr(run, key, value)
        session.add(
            AuditEntry(
                at=utcnow(),
                actor=SYSTEM_ACTOR,
                action="nightly_upsert",
                object_type="night",
                object_id=night.isoformat(),
                detail=json.dumps(summary.as_dict(), ensure_ascii=False),
            )
        )
    return summary
