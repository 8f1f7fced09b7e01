"""Read side of the queue: the filtered task list, a page at a time, and its counts, within the user's scope.

Built to stay fast with 500,000 tasks in a province (issue 6):
- counts come from ``task_counts`` (kept by triggers in the same transaction as every task change), not from an
  aggregate over the tasks; only "my tasks" and a search count live, a search at most ``SEARCH_COUNT_LIMIT``
  matches (more: the page says so), which also lets a search with fewer matches page them without any index walk;
- pages are keyset pages (``after``/``before`` a row's sort key), each read straight off a queue index in order: no
  OFFSET, so the thousandth page costs what the first does;
- a state set that is an OR (all three states) is split into disjoint branches that each walk their own index; the
  merge sorts at most ``page_size + 1`` rows per branch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from corrections.access import Actor
from corrections.lifecycle import QueueFilter
from corrections.models import TASK_STATES, RecordSnapshot, Task, TaskCount, TaskEvent
from corrections.search import name_pattern

__all__ = [
    "QUEUE_COLUMNS",
    "SEARCH_COUNT_LIMIT",
    "SEARCH_PROBE_MATCHES",
    "SEARCH_PROBE_ROWS",
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

SEARCH_PROBE_ROWS = 8000
SEARCH_PROBE_MATCHES = 100
"""A search first reads up to ``SEARCH_PROBE_ROWS`` tasks of the scope and stops at ``SEARCH_PROBE_MATCHES + 1``
matches: a common name (one task in eighty or more) is settled there, as "more than SEARCH_PROBE_MATCHES", and its
pages are read off the queue indexes, where matches are dense. Only rarer terms use the trigram index."""
SEARCH_COUNT_LIMIT = 2000
"""A rarer term counts its matches exactly up to this many and pages them by their sort key, without walking an
index (a rare name is passed only after most of a province); beyond it: "more than SEARCH_COUNT_LIMIT"."""

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

_CURSOR = re.compile(r"^([1-9])\.([0-9]{4}-[0-9]{2}-[0-9]{2})\.([0-9]{1,18})$")

CountRows = list[tuple[str, str, int]]


def _as_date(value: date | str) -> date:
    """A date column's value (SQLite hands back text from a column of a union or an untyped select)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


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
        return cls(int(row.priority), _as_date(row.due_date), int(row.id))


@dataclass(frozen=True, slots=True)
class QueueCounts:
    rows: CountRows
    capped_at: int | None = None
    """A search with more matches than this: ``rows`` count only the first ones found."""

    @property
    def capped(self) -> bool:
        return self.capped_at is not None


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[Any]
    total: int
    by_state: dict[str, int] = field(default_factory=dict)
    by_quality: dict[str, int] = field(default_factory=dict)
    page: int = 1
    page_size: int = 50
    capped: bool = False
    """``total`` is a lower bound: a search matched more tasks than it counts."""
    next_cursor: str | None = None
    prev_cursor: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


# Statements are built once per shape (which filters are present) with every value a bound parameter: building a
# union of ordered branches and its cache key costs more than running it, and a statement object reused keeps its
# cache key, so each request goes straight to SQLAlchemy's compiled-statement cache.
_SCOPE_WARD = bindparam("scope_ward", type_=String)
_SCOPE_PROVINCE = bindparam("scope_province", type_=String)


@dataclass(frozen=True, slots=True)
class _Shape:
    scope: str  # "all", "province", "ward" or "none" (``corrections.access.Scope``)
    state: str | None
    quality: str | None
    priority: int | None
    rule: bool
    ward: bool
    assignee: bool
    search: str  # "", "ids" (only an exact ID can match) or "name"

    @classmethod
    def of(cls, actor: Actor, filters: QueueFilter) -> _Shape:
        scope = {"national": "all", "province": "province", "ward": "ward"}.get(actor.scope.level, "none")
        term = (filters.search or "").strip()
        # Names have no digits: a term with one is a record or personal ID, matched exactly and only so.
        search = "" if not term else "ids" if any(c.isdigit() for c in term) or not name_pattern(term) else "name"
        return cls(
            scope,
            filters.state,
            filters.quality,
            filters.priority,
            bool(filters.rule),
            bool(filters.ward_code),
            bool(filters.assignee),
            search,
        )


def _parameters(actor: Actor, filters: QueueFilter) -> dict[str, Any]:
    term = (filters.search or "").strip()
    return {
        "scope_ward": actor.ward_code,
        "scope_province": actor.province_code,
        "rule": filters.rule,
        "ward": filters.ward_code,
        "assignee": filters.assignee,
        "term": term,
        "pattern": name_pattern(term) if term else None,
    }


def _scope_branches(shape: _Shape) -> list[ColumnElement[bool]]:
    """The scope as disjoint conditions that can each walk a queue index in order (an OR of two cannot)."""
    if shape.scope == "all":
        return [true()]
    if shape.scope == "province":
        return [Task.province_code == _SCOPE_PROVINCE]
    if shape.scope == "ward":
        return [Task.ward_code == _SCOPE_WARD]
    return [false()]


def _filters(shape: _Shape, *, with_quality: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if with_quality and shape.quality:
        conditions.append(Task.quality == shape.quality)
    if shape.priority:
        conditions.append(Task.priority == shape.priority)
    if shape.rule:
        conditions.append(Task.rule == bindparam("rule", type_=String))
    if shape.ward:
        conditions.append(Task.ward_code == bindparam("ward", type_=String))
    if shape.assignee:
        conditions.append(Task.assignee == bindparam("assignee", type_=String))
    if shape.search:
        term = bindparam("term", type_=String)
        exact = [Task.subject_record_id == term, Task.subject_person_id == term]
        if shape.search == "name":
            exact.append(Task.subject_search.like(bindparam("pattern", type_=String)))
        conditions.append(or_(*exact))
    return conditions


@lru_cache(maxsize=1024)
def _counts_statement(shape: _Shape) -> Select[Any]:
    if shape.assignee:
        scope = _scope_branches(shape)
        return (
            select(Task.state, Task.quality, func.count())
            .where(or_(*scope) if len(scope) > 1 else scope[0], *_filters(shape, with_quality=False))
            .group_by(Task.state, Task.quality)
        )
    conditions: list[ColumnElement[bool]] = [TaskCount.tasks != 0]
    if shape.scope == "province":
        conditions.append(TaskCount.province_code == _SCOPE_PROVINCE)
    elif shape.scope == "ward":
        conditions.append(TaskCount.ward_code == _SCOPE_WARD)
    elif shape.scope == "none":
        conditions.append(false())
    if shape.priority:
        conditions.append(TaskCount.priority == shape.priority)
    if shape.rule:
        conditions.append(TaskCount.rule == bindparam("rule", type_=String))
    if shape.ward:
        conditions.append(TaskCount.ward_code == bindparam("ward", type_=String))
    return (
        select(TaskCount.state, TaskCount.quality, func.sum(TaskCount.tasks))
        .where(*conditions)
        .group_by(TaskCount.state, TaskCount.quality)
    )


@lru_cache(maxsize=1024)
def _matches_statement(shape: _Shape, search_limit: int) -> Select[Any]:
    """Up to ``search_limit + 1`` tasks matching a search (every filter but state and quality), with their sort key.

    Bounded: a common name matches a third of a province; counting all of it per keystroke is not worth it.
    """
    scope = _scope_branches(shape)
    return (
        select(Task.id, Task.state, Task.quality, Task.priority, Task.due_date)
        .where(or_(*scope) if len(scope) > 1 else scope[0], *_filters(shape, with_quality=False))
        .limit(search_limit + 1)
    )


@lru_cache(maxsize=1024)
def _probe_statement(shape: _Shape, search_limit: int, budget: int) -> Select[Any]:
    """``_matches_statement`` over the first ``budget`` tasks of the scope only.

    Any ``budget`` tasks do, but a ward's tasks are scattered over the table: read in the order of its queue index,
    not by a scan that passes every other ward's tasks to find them.
    """
    scope = _scope_branches(shape)
    in_order = (Task.state, Task.priority, Task.due_date, Task.id) if shape.scope == "ward" or shape.ward else ()
    window = (
        select(
            Task.id,
            Task.state,
            Task.quality,
            Task.priority,
            Task.due_date,
            Task.subject_record_id,
            Task.subject_person_id,
            Task.subject_search,
        )
        .where(or_(*scope) if len(scope) > 1 else scope[0], *_filters(replace(shape, search=""), with_quality=False))
        .order_by(*in_order)
        .limit(budget)
        .subquery()
    )
    term = bindparam("term", type_=String)
    matching = [window.c.subject_record_id == term, window.c.subject_person_id == term]
    if shape.search == "name":
        matching.append(window.c.subject_search.like(bindparam("pattern", type_=String)))
    return (
        select(window.c.id, window.c.state, window.c.quality, window.c.priority, window.c.due_date)
        .where(or_(*matching))
        .limit(search_limit + 1)
    )


_ROWS_BY_ID = select(*QUEUE_COLUMNS).where(Task.id.in_(bindparam("ids", expanding=True)))


def _search_matches(session: Session, actor: Actor, filters: QueueFilter) -> QueueCounts:
    """The matches of a search (every filter but state and quality) as counts, and the matches themselves when they
    are all known (not capped)."""
    shape = _Shape.of(actor, replace(filters, state=None, quality=None))
    parameters = _parameters(actor, filters)
    if shape.search == "name":
        probe = _probe_statement(shape, SEARCH_PROBE_MATCHES, SEARCH_PROBE_ROWS)
        probed = session.execute(probe, parameters).all()
        if len(probed) > SEARCH_PROBE_MATCHES:
            return _match_counts(probed, SEARCH_PROBE_MATCHES)
    matches = session.execute(_matches_statement(shape, SEARCH_COUNT_LIMIT), parameters).all()
    return _match_counts(matches, SEARCH_COUNT_LIMIT if len(matches) > SEARCH_COUNT_LIMIT else None)


@dataclass(frozen=True, slots=True)
class _SearchCounts(QueueCounts):
    matches: tuple[Any, ...] = ()


def _match_counts(matches: Sequence[Any], capped_at: int | None) -> _SearchCounts:
    tally: dict[tuple[str, str], int] = {}
    for match in matches:
        tally[(match.state, match.quality)] = tally.get((match.state, match.quality), 0) + 1
    return _SearchCounts([(s, q, n) for (s, q), n in tally.items()], capped_at, tuple(matches))


@lru_cache(maxsize=1024)
def _page_statement(shape: _Shape, direction: str, fetch: int) -> Select[Any]:
    """``direction``: "" (first page), "after" or "before" the cursor in ``:c_priority, :c_due, :c_id``."""
    conditions = _filters(shape, with_quality=True)
    if direction:
        key = tuple_(Task.priority, Task.due_date, Task.id)
        bound = tuple_(
            bindparam("c_priority", type_=Integer), bindparam("c_due", type_=Date), bindparam("c_id", type_=Integer)
        )
        conditions.append(key < bound if direction == "before" else key > bound)
    backward = direction == "before"
    order = (
        (Task.priority.desc(), Task.due_date.desc(), Task.id.desc())
        if backward
        else (Task.priority, Task.due_date, Task.id)
    )
    states = [shape.state] if shape.state else list(TASK_STATES)
    branches = [and_(scope, Task.state == state) for scope in _scope_branches(shape) for state in states]
    if len(branches) == 1:
        return select(*QUEUE_COLUMNS).where(branches[0], *conditions).order_by(*order).limit(fetch)
    # Each branch takes its first ``fetch`` rows off its own index; the merge sorts only those.
    members = [
        select(select(*QUEUE_COLUMNS).where(branch, *conditions).order_by(*order).limit(fetch).subquery())
        for branch in branches
    ]
    merged = union_all(*members).subquery()
    columns = (merged.c.priority, merged.c.due_date, merged.c.id)
    return (
        select(*(merged.c[c.key] for c in QUEUE_COLUMNS))
        .order_by(*((c.desc() for c in columns) if backward else columns))
        .limit(fetch)
    )


def queue_counts(session: Session, actor: Actor, filters: QueueFilter) -> QueueCounts:
    """(state, quality, count) in ``actor``'s scope under every filter except state and quality."""
    shape = _Shape.of(actor, replace(filters, state=None, quality=None))
    if shape.search:
        return _search_matches(session, actor, filters)
    result = session.execute(_counts_statement(shape), _parameters(actor, filters))
    return QueueCounts([(str(state), str(quality), int(count)) for state, quality, count in result.all()])


def queue_wards(session: Session, actor: Actor) -> list[str]:
    """The wards that have tasks in ``actor``'s scope (the ward filter's choices), in code order."""
    shape = _Shape.of(actor, QueueFilter())
    conditions: list[ColumnElement[bool]] = [TaskCount.ward_code != "", TaskCount.tasks != 0]
    if shape.scope == "province":
        conditions.append(TaskCount.province_code == actor.province_code)
    elif shape.scope == "ward":
        conditions.append(TaskCount.ward_code == actor.ward_code)
    elif shape.scope == "none":
        return []
    return list(
        session.scalars(select(TaskCount.ward_code).where(*conditions).distinct().order_by(TaskCount.ward_code))
    )


def queue_page(
    session: Session,
    actor: Actor,
    filters: QueueFilter,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    page: int = 1,
    page_size: int = 50,
) -> QueuePage:
    """One page of the queue, most urgent first, with counts per state and per quality.

    The first page without a cursor; the page following a row with ``after``, the page preceding one with ``before``
    (``page`` only numbers the page for display). The state counts ignore the state filter (they label the state
    tabs); the quality counts ignore the quality filter (they label the quality chips); both honour every other filter.
    """
    shape = _Shape.of(actor, filters)
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
    fetch = page_size + 1  # one more row than shown: tells whether there is a page beyond
    if isinstance(counts, _SearchCounts) and not counts.capped:
        # Every match is known (a handful to a thousand): page them by their sort key and read the page by id, rather
        # than walk a queue index hoping to meet matches (a rare name is passed only after most of a province).
        keys = sorted(
            (m.priority, _as_date(m.due_date), m.id)
            for m in counts.matches
            if (not filters.state or m.state == filters.state) and (not filters.quality or m.quality == filters.quality)
        )
        if anchor is not None:
            bound = (anchor.priority, anchor.due_date, anchor.id)
            keys = [k for k in keys if k < bound][::-1] if backward else [k for k in keys if k > bound]
        wanted = {k[2] for k in keys[:fetch]}
        found = session.execute(_ROWS_BY_ID, {"ids": list(wanted)}).all() if wanted else []
        fetched = sorted(found, key=lambda r: (r.priority, _as_date(r.due_date), r.id), reverse=backward)
    else:
        parameters = _parameters(actor, filters)
        direction = ""
        if anchor is not None:
            direction = "before" if backward else "after"
            parameters.update(c_priority=anchor.priority, c_due=anchor.due_date, c_id=anchor.id)
        fetched = list(session.execute(_page_statement(shape, direction, fetch), parameters).all())
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
        total=counts.capped_at if counts.capped_at is not None else total,
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


def task_persons(session: Session, task: Task) -> list[RecordSnapshot]:
    """The golden records the clean register holds now for the task's persons (snapshots ``register:<key>``)."""
    from corrections.build import register_snapshot_id

    ids = [register_snapshot_id(key) for key in task.person_keys or []]
    if not ids:
        return []
    found = {s.record_id: s for s in session.scalars(select(RecordSnapshot).where(RecordSnapshot.record_id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def task_history(session: Session, task_id: int) -> list[TaskEvent]:
    return list(session.scalars(select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)))
