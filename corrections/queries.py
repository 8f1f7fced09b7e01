"""Read side of the queue: the filtered, paged task list and its counts, within the user's scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, union_all
from sqlalchemy.orm import Session

from corrections.access import Actor, task_scope, task_scope_branches
from corrections.lifecycle import QueueFilter
from corrections.models import RecordSnapshot, Task, TaskEvent

__all__ = ["QUEUE_COLUMNS", "QueuePage", "queue_page", "task_history", "task_records"]

QUEUE_COLUMNS = (
    Task.id,
    Task.title,
    Task.rule,
    Task.quality,
    Task.task_type,
    Task.severity,
    Task.priority,
    Task.due_date,
    Task.state,
    Task.resolution,
    Task.assignee,
    Task.ward_code,
    Task.subject_record_id,
    Task.subject_name,
    Task.subject_person_id,
    Task.first_seen_night,
)


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[Any]
    total: int
    by_state: dict[str, int] = field(default_factory=dict)
    by_quality: dict[str, int] = field(default_factory=dict)
    page: int = 1
    page_size: int = 50

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _conditions(
    actor: Actor, filters: QueueFilter, *, with_state: bool, with_quality: bool, scoped: bool = True
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [task_scope(actor)] if scoped else []
    if with_state and filters.state:
        conditions.append(Task.state == filters.state)
    if with_quality and filters.quality:
        conditions.append(Task.quality == filters.quality)
    if filters.priority:
        conditions.append(Task.priority == filters.priority)
    if filters.rule:
        conditions.append(Task.rule == filters.rule)
    if filters.ward_code:
        conditions.append(Task.ward_code == filters.ward_code)
    if filters.assignee:
        conditions.append(Task.assignee == filters.assignee)
    if filters.search:
        term = filters.search.strip()
        conditions.append(
            or_(Task.subject_record_id == term, Task.subject_person_id == term, Task.subject_name.ilike(f"%{term}%"))
        )
    return conditions


CountRows = list[tuple[str, str, int]]


def queue_counts(session: Session, actor: Actor, filters: QueueFilter) -> CountRows:
    """(state, quality, count) in ``actor``'s scope under every filter except state and quality."""
    rows = session.execute(
        select(Task.state, Task.quality, func.count())
        .where(*_conditions(actor, filters, with_state=False, with_quality=False))
        .group_by(Task.state, Task.quality)
    ).all()
    return [(str(state), str(quality), int(count)) for state, quality, count in rows]


def queue_page(
    session: Session,
    actor: Actor,
    filters: QueueFilter,
    *,
    page: int = 1,
    page_size: int = 50,
    counts: CountRows | None = None,
) -> QueuePage:
    """One page of the queue, most urgent first, with counts per state and per quality.

    The state counts ignore the state filter (they label the state tabs); the quality counts ignore the quality
    filter (they label the quality chips); both honour every other filter. ``counts`` may be passed in when the
    caller keeps them (``queue_counts``) for a large scope.
    """
    page = max(1, page)
    if counts is None:
        counts = queue_counts(session, actor, filters)
    by_state: dict[str, int] = {}
    by_quality: dict[str, int] = {}
    total = 0
    for state, quality, count in counts:
        if not filters.quality or quality == filters.quality:
            by_state[state] = by_state.get(state, 0) + count
        if not filters.state or state == filters.state:
            by_quality[quality] = by_quality.get(quality, 0) + count
            if not filters.quality or quality == filters.quality:
                total += count
    offset = (page - 1) * page_size
    filtered = _conditions(actor, filters, with_state=True, with_quality=True, scoped=False)
    branches = task_scope_branches(actor)
    order = (Task.priority, Task.due_date, Task.id)
    query: Select[Any]
    if len(branches) == 1:
        query = select(*QUEUE_COLUMNS).where(branches[0], *filtered).order_by(*order).limit(page_size).offset(offset)
    else:
        # Each branch takes its first offset + page_size rows off its own index; the merge sorts only those.
        members = [
            select(
                select(*QUEUE_COLUMNS).where(branch, *filtered).order_by(*order).limit(offset + page_size).subquery()
            )
            for branch in branches
        ]
        merged = union_all(*members).subquery()
        query = (
            select(*(merged.c[c.key] for c in QUEUE_COLUMNS))
            .order_by(merged.c.priority, merged.c.due_date, merged.c.id)
            .limit(page_size)
            .offset(offset)
        )
    rows = list(session.execute(query).all())
    return QueuePage(rows=rows, total=total, by_state=by_state, by_quality=by_quality, page=page, page_size=page_size)


def task_records(session: Session, task: Task) -> list[RecordSnapshot]:
    """The snapshots of the task's records, in the task's order (a record never seen is left out)."""
    found = {
        s.record_id: s
        for s in session.scalars(select(RecordSnapshot).where(RecordSnapshot.record_id.in_(task.record_ids)))
    }
    return [found[r] for r in task.record_ids if r in found]


def task_history(session: Session, task_id: int) -> list[TaskEvent]:
    return list(session.scalars(select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)))
