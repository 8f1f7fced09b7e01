"""Read side of the queue: the filtered task list, a page at a time, and its counts, within the user's scope.

Built to stay fast with 500,000 tasks in a province (issue 6):
- counts come from ``task_counts`` (kept by triggers in the same transaction as every task change), not from an
  aggregate over the tasks; only "my tasks" and a name search count live, a search at most ``SEARCH_COUNT_LIMIT``;
- pages are keyset pages (``after``/``before`` a row's sort key), each read straight off a queue index in order: no
  OFFSET, so the thousandth page costs what the first does;
- a scope or state set that is an OR (a province's tasks plus the unrouted ones; all three states) is split into
  disjoint branches that each walk their own index; the merge sorts at most ``page_size + 1`` rows per branch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true, tuple_, union_all
from sqlalchemy.orm import Session

from corrections.access import Actor, task_scope, task_scope_branches
from corrections.lifecycle import QueueFilter
from corrections.models import TASK_STATES, RecordSnapshot, Task, TaskCount, TaskEvent
from corrections.search import name_pattern

__all__ = [
    "QUEUE_COLUMNS",
    "SEARCH_COUNT_LIMIT",
    "CountRows",
    "Cursor",
    "QueueCounts",
    "QueuePage",
    "queue_counts",
    "queue_page",
    "queue_wards",
    "task_history",
    "task_records",
]

SEARCH_COUNT_LIMIT = 1000
"""A search counts its matches up to this many; beyond it the page says "more than" and asks for a narrower term."""

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

_CURSOR = re.compile(r"^([1-9])\.(\d{4}-\d{2}-\d{2})\.(\d{1,18})$")

CountRows = list[tuple[str, str, int]]


@dataclass(frozen=True, slots=True)
class Cursor:
    """A row's position in queue order (priority, due date, id): pages start after or end before one."""

    priority: int
    due_date: date
    id: int

    def encode(self) -> str:
        return f"{self.priority}.{self.due_date.isoformat()}.{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """The cursor in ``text``, or ``None`` for anything malformed (a hand-edited URL shows the first page)."""
        match = _CURSOR.match(text or "")
        if match is None:
            return None
        try:
            return cls(int(match.group(1)), date.fromisoformat(match.group(2)), int(match.group(3)))
        except ValueError:
            return None

    @classmethod
    def of(cls, row: Any) -> Cursor:
        return cls(int(row.priority), row.due_date, int(row.id))


@dataclass(frozen=True, slots=True)
class QueueCounts:
    rows: CountRows
    capped: bool = False
    """More than ``SEARCH_COUNT_LIMIT`` tasks match: ``rows`` count only the first ones found."""


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[Any]
    total: int
    by_state: dict[str, int] = field(default_factory=dict)
    by_quality: dict[str, int] = field(default_factory=dict)
    page: int = 1
    page_size: int = 50
    capped: bool = False
    next_cursor: str | None = None
    prev_cursor: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _search_condition(term: str) -> ColumnElement[bool]:
    exact = [Task.subject_record_id == term, Task.subject_person_id == term]
    pattern = name_pattern(term)
    return or_(*exact, Task.subject_search.like(pattern)) if pattern else or_(*exact)


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
    if filters.search and filters.search.strip():
        conditions.append(_search_condition(filters.search.strip()))
    return conditions


def _count_scope(actor: Actor) -> ColumnElement[bool]:
    """``task_scope`` over ``task_counts``, whose missing ward/province is ``""``."""
    if actor.role == "admin" or (actor.role == "data_officer" and actor.province_code is None):
        return true()
    if actor.role == "data_officer":
        return TaskCount.province_code.in_((actor.province_code, ""))
    if actor.role == "ward_officer" and actor.ward_code:
        return TaskCount.ward_code == actor.ward_code
    return false()


def queue_counts(session: Session, actor: Actor, filters: QueueFilter) -> QueueCounts:
    """(state, quality, count) in ``actor``'s scope under every filter except state and quality."""
    if filters.search and filters.search.strip():
        # Bounded: a common name matches a third of a province; counting all of it per keystroke is not worth it.
        matching = (
            select(Task.state, Task.quality)
            .where(*_conditions(actor, filters, with_state=False, with_quality=False))
            .limit(SEARCH_COUNT_LIMIT + 1)
            .subquery()
        )
        query: Select[Any] = select(matching.c.state, matching.c.quality, func.count()).group_by(
            matching.c.state, matching.c.quality
        )
    elif filters.assignee:
        query = (
            select(Task.state, Task.quality, func.count())
            .where(*_conditions(actor, filters, with_state=False, with_quality=False))
            .group_by(Task.state, Task.quality)
        )
    else:
        conditions = [_count_scope(actor), TaskCount.tasks != 0]
        if filters.priority:
            conditions.append(TaskCount.priority == filters.priority)
        if filters.rule:
            conditions.append(TaskCount.rule == filters.rule)
        if filters.ward_code:
            conditions.append(TaskCount.ward_code == filters.ward_code)
        query = (
            select(TaskCount.state, TaskCount.quality, func.sum(TaskCount.tasks))
            .where(*conditions)
            .group_by(TaskCount.state, TaskCount.quality)
        )
    rows = [(str(state), str(quality), int(count)) for state, quality, count in session.execute(query).all()]
    capped = bool(filters.search and filters.search.strip()) and sum(r[2] for r in rows) > SEARCH_COUNT_LIMIT
    return QueueCounts(rows, capped)


def queue_wards(session: Session, actor: Actor) -> list[str]:
    """The wards that have tasks in ``actor``'s scope (the ward filter's choices), in code order."""
    query = (
        select(TaskCount.ward_code)
        .where(_count_scope(actor), TaskCount.ward_code != "", TaskCount.tasks != 0)
        .distinct()
        .order_by(TaskCount.ward_code)
    )
    return list(session.scalars(query))


def _branches(actor: Actor, filters: QueueFilter) -> list[ColumnElement[bool]]:
    """Disjoint conditions whose union is the scope and state filter, each an equality prefix of a queue index."""
    states = [filters.state] if filters.state else list(TASK_STATES)
    return [and_(scope, Task.state == state) for scope in task_scope_branches(actor) for state in states]


def queue_page(
    session: Session,
    actor: Actor,
    filters: QueueFilter,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    page: int = 1,
    page_size: int = 50,
    counts: QueueCounts | None = None,
) -> QueuePage:
    """One page of the queue, most urgent first, with counts per state and per quality.

    The first page without a cursor; the page following a row with ``after``, the page preceding one with ``before``
    (``page`` only numbers the page for display). The state counts ignore the state filter (they label the state
    tabs); the quality counts ignore the quality filter (they label the quality chips); both honour every other filter.
    """
    if counts is None:
        counts = queue_counts(session, actor, filters)
    by_state: dict[str, int] = {}
    by_quality: dict[str, int] = {}
    total = 0
    for state, quality, count in counts.rows:
        if not filters.quality or quality == filters.quality:
            by_state[state] = by_state.get(state, 0) + count
        if not filters.state or state == filters.state:
            by_quality[quality] = by_quality.get(quality, 0) + count
            if not filters.quality or quality == filters.quality:
                total += count

    backward = before is not None and after is None
    anchor = before if backward else after
    filtered = _conditions(actor, filters, with_state=False, with_quality=True, scoped=False)
    key = tuple_(Task.priority, Task.due_date, Task.id)
    if anchor is not None:
        bound = tuple_(anchor.priority, anchor.due_date, anchor.id)
        filtered.append(key < bound if backward else key > bound)
    order = (
        (Task.priority.desc(), Task.due_date.desc(), Task.id.desc())
        if backward
        else (
            Task.priority,
            Task.due_date,
            Task.id,
        )
    )
    fetch = page_size + 1  # one more than shown: tells whether there is a page beyond
    branches = _branches(actor, filters)
    query: Select[Any]
    if len(branches) == 1:
        query = select(*QUEUE_COLUMNS).where(branches[0], *filtered).order_by(*order).limit(fetch)
    else:
        members = [
            select(select(*QUEUE_COLUMNS).where(branch, *filtered).order_by(*order).limit(fetch).subquery())
            for branch in branches
        ]
        merged = union_all(*members).subquery()
        columns = (merged.c.priority, merged.c.due_date, merged.c.id)
        query = (
            select(*(merged.c[c.key] for c in QUEUE_COLUMNS))
            .order_by(*((c.desc() for c in columns) if backward else columns))
            .limit(fetch)
        )
    fetched = list(session.execute(query).all())
    more = len(fetched) > page_size
    rows = fetched[:page_size]
    if backward:
        rows.reverse()
        has_prev, has_next = more, bool(rows)
    else:
        has_prev, has_next = anchor is not None and bool(rows), more
    page = max(1, page) if has_prev else 1
    return QueuePage(
        rows=rows,
        total=total,
        by_state=by_state,
        by_quality=by_quality,
        page=page,
        page_size=page_size,
        capped=counts.capped,
        next_cursor=Cursor.of(rows[-1]).encode() if has_next and rows else None,
        prev_cursor=Cursor.of(rows[0]).encode() if has_prev and rows else None,
    )


def task_records(session: Session, task: Task) -> list[RecordSnapshot]:
    """The snapshots of the task's records, in the task's order (a record never seen is left out)."""
    found = {
        s.record_id: s
        for s in session.scalars(select(RecordSnapshot).where(RecordSnapshot.record_id.in_(task.record_ids)))
    }
    return [found[r] for r in task.record_ids if r in found]


def task_history(session: Session, task_id: int) -> list[TaskEvent]:
    return list(session.scalars(select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)))
