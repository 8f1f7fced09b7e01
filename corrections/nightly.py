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

import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

import polars as pl
from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from corrections.build import REGISTER_SOURCE, DraftPlan, NightDrafts, ReviewDraft, TaskDraft, register_snapshot_id
from corrections.db import session_scope, utcnow
from corrections.models import (
    OPEN_STATES,
    AuditEntry,
    NightRun,
    RecordSnapshot,
    ReviewItem,
    Task,
    TaskCount,
    TaskEvent,
)
from corrections.search import name_key

__all__ = ["SYSTEM_ACTOR", "NightScope", "NightSummary", "apply_night", "open_task_counts", "resolved_since"]

SYSTEM_ACTOR = "he-thong"
"""The actor name of the nightly run in task history and the audit log."""

_CHUNK = 2000
_STAGE_CHUNK = 20_000
_REOPEN_NOTE = "Lỗi xuất hiện lại trong dữ liệu đêm nay"
_GONE_NOTE = "Lỗi không còn trong dữ liệu đêm nay"
_CONTENT_COLUMNS = (
    "task_type",
    "rule",
    "quality",
    "severity",
    "ward_code",
    "province_code",
    "record_ids",
    "subject_record_id",
    "subject_name",
    "subject_search",
    "subject_person_id",
    "title",
    "description",
    "problem_fields",
    "explanation",
    "priority",
    "person_keys",
)
"""What a night's draft sets on its task (``_task_content``)."""

# Per-transaction staging tables (never in the store's schema: their own metadata, dropped before commit).
_STAGING = MetaData()
_TASKS_TABLE: Table = Task.__table__  # type: ignore[assignment]
_TASK_STAGE = Table(
    "night_task_stage",
    _STAGING,
    Column("fingerprint", String(64), primary_key=True),
    *(Column(c, _TASKS_TABLE.c[c].type) for c in _CONTENT_COLUMNS),
    Column("due_date", Date),
    Column("task_id", Integer),
    Column("action", String(16)),
    prefixes=["TEMPORARY"],
)
_SNAPSHOT_STAGE = Table(
    "night_snapshot_stage",
    _STAGING,
    Column("record_id", String(64), primary_key=True),
    Column("source", String(16)),
    Column("data", JSON),
    Column("night", Date),
    Column("position", Integer),
    prefixes=["TEMPORARY"],
)
_SCOPE_STAGE = Table(
    "night_scope_stage",
    _STAGING,
    Column("record_id", String(64), primary_key=True),
    prefixes=["TEMPORARY"],
)
T = TypeVar("T")


@dataclass(frozen=True)
class NightScope:
    """What an incremental night re-evaluated (``None`` scope: everything, a full night).

    ``subjects``: records whose findings were computed again tonight; a task whose subject is one of them is seen
    tonight only if a draft says so, every other task is still seen (its finding is unchanged in the state).
    ``pair_records``: records whose pairs were scored again; a pending review item touching one of them is withdrawn
    unless tonight's review band still holds it, every other one is still seen.
    """

    subjects: Sequence[str]
    pair_records: Sequence[str]


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


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _csv_formatter(column: Column[Any]) -> Callable[[Any], str]:
    """How one column's values are written in PostgreSQL CSV: NULL unquoted and empty, every text quoted (so an
    empty string stays an empty string)."""
    if isinstance(column.type, JSON):
        return lambda v: "" if v is None else _quoted(json.dumps(v, ensure_ascii=False))
    if isinstance(column.type, Integer):
        return lambda v: "" if v is None else str(int(v))
    if isinstance(column.type, Date | DateTime):
        return lambda v: "" if v is None else v.isoformat()
    return lambda v: "" if v is None else _quoted(str(v))


def _stage(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Create the temporary ``table`` and fill it with ``rows``: COPY on PostgreSQL, batched inserts on SQLite."""
    table.create(connection)
    _fill(connection, table, rows)
    _analyse(connection, table)


def _analyse(connection: Connection, table: Table) -> None:
    # Temporary tables are never analysed automatically; without statistics the joins below plan as if empty.
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {table.name}")


def _fill(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` to the temporary ``table`` (created by ``_stage`` or ``table.create``)."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        _stage_sqlite(connection, table, rows)
        return
    columns = [c for c in table.columns if c.name in rows[0]]
    formatters = [(c.name, _csv_formatter(c)) for c in columns]
    names = [c.name for c in columns]
    driver = connection.connection.driver_connection
    assert driver is not None
    for chunk in _chunks(rows, _STAGE_CHUNK):
        buffer = io.StringIO()
        buffer.writelines(",".join([fmt(row[name]) for name, fmt in formatters]) + "\n" for row in chunk)
        buffer.seek(0)
        with driver.cursor() as cursor:
            cursor.copy_expert(f"COPY {table.name} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)", buffer)


def _stage_sqlite(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Fill ``table`` with ``rows`` through the driver's executemany, each value converted by its column type's own
    bind processor (what ``insert(table)`` stores, byte for byte) without compiling parameters row by row: staging
    the scope of a large night (hundreds of thousands of ids) costs a fraction of a second instead of seconds."""
    columns = [c for c in table.columns if c.name in rows[0]]
    processors = [(c.name, c.type.bind_processor(connection.dialect)) for c in columns]
    statement = (
        f"INSERT INTO {table.name} ({', '.join(c.name for c in columns)}) VALUES ({', '.join('?' for _ in columns)})"
    )
    for chunk in _chunks(rows, _STAGE_CHUNK):
        values = [
            tuple(row[name] if process is None else process(row[name]) for name, process in processors) for row in chunk
        ]
        connection.exec_driver_sql(statement, values)


def _snapshot_rows(
    night: date, snapshots: Iterable[tuple[str, str, dict[str, Any]]], positions: Iterable[int]
) -> list[dict[str, Any]]:
    return [
        {"record_id": rid, "source": source, "data": data, "night": night, "position": position}
        for (rid, source, data), position in zip(snapshots, positions, strict=True)
    ]


def _upsert_snapshots(connection: Connection, night: date, snapshots: dict[str, tuple[str, dict[str, Any]]]) -> None:
    rows = _snapshot_rows(night, ((r, s, d) for r, (s, d) in snapshots.items()), range(len(snapshots)))
    _stage(connection, _SNAPSHOT_STAGE, rows)
    _upsert_staged_snapshots(connection)


def _upsert_staged_snapshots(connection: Connection) -> None:
    """The staged snapshots into the store (in the order they were staged), and the stage dropped."""
    table: Table = RecordSnapshot.__table__  # type: ignore[assignment]
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    staged = _SNAPSHOT_STAGE.c
    # "WHERE true": SQLite cannot tell ON CONFLICT from a join constraint after a bare INSERT ... SELECT.
    statement = dialect.insert(table).from_select(
        ["record_id", "source", "data", "night"],
        # In the order of one night's snapshots (staged in slices, the persons' golden records as they are drafted).
        select(staged.record_id, staged.source, staged.data, staged.night).where(true()).order_by(staged.position),
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["record_id"],
            set_={c: statement.excluded[c] for c in ("source", "data", "night")},
        )
    )
    _SNAPSHOT_STAGE.drop(connection)


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
        "subject_search": name_key(draft.subject_name),
        "subject_person_id": draft.subject_person_id,
        "title": draft.title,
        "description": draft.description,
        "problem_fields": draft.problem_fields,
        "explanation": draft.explanation,
        "priority": draft.priority,
        "person_keys": draft.person_keys or None,
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


def _previous_run(night: date) -> Any:
    """The night of the last nightly upsert before ``night`` (a scalar subquery)."""
    runs: Table = NightRun.__table__  # type: ignore[assignment]
    return select(func.max(runs.c.night)).where(runs.c.night < night).scalar_subquery()


def _stage_scope(connection: Connection, ids: Sequence[str]) -> None:
    _stage(connection, _SCOPE_STAGE, [{"record_id": i} for i in dict.fromkeys(ids)])


BULK_LOAD_MIN = 10_000
"""New tasks in one night from which SQLite loads them in bulk (``_bulk_load``), if they at least double the table."""
_COUNT_KEY = "province_code, ward_code, state, quality, priority, rule"


@dataclass(frozen=True)
class _BulkLoad:
    """SQLite, a night that adds many tasks (a first night: 140,000 at 1,000,000 people): the table's secondary
    indexes and its per-row count trigger are dropped before the insert and created again after it, from the very
    SQL they were created with, and the counts the trigger would have added are added by one grouped statement.

    Inserting into seven indexes row by row costs more the larger they grow (random keys: 9 s of CPU for 140,000
    tasks against 0.6 s for 14,000); building an index over the loaded rows sorts once. Same rows, same indexes,
    same counts (new count rows in the order the trigger would have made them: the order of their first task);
    all in the night's transaction."""

    first_id: int
    schema: list[tuple[str, str, str]]  # (type, name, sql) of the dropped indexes and trigger, in creation order

    def finish(self, connection: Connection) -> None:
        for kind, _name, sql in self.schema:
            if kind == "index":
                connection.exec_driver_sql(sql)
        key = "coalesce(province_code, ''), coalesce(ward_code, ''), state, quality, priority, rule"
        # "WHERE": SQLite needs one before an upsert's ON CONFLICT after INSERT ... SELECT.
        connection.exec_driver_sql(
            f"INSERT INTO task_counts ({_COUNT_KEY}, tasks) SELECT {key}, count(*) FROM tasks WHERE id > ? "
            f"GROUP BY {key} ORDER BY min(id) "
            f"ON CONFLICT ({_COUNT_KEY}) DO UPDATE SET tasks = task_counts.tasks + excluded.tasks",
            (self.first_id,),
        )
        for kind, _name, sql in self.schema:
            if kind == "trigger":
                connection.exec_driver_sql(sql)


def _bulk_load(connection: Connection, new_tasks: int) -> _BulkLoad | None:
    """Prepare a bulk load of ``new_tasks`` (``_BulkLoad``) when it pays: SQLite, at least ``BULK_LOAD_MIN`` new
    tasks and at least as many as the table holds. None otherwise (row by row, as PostgreSQL's statement-level
    count trigger and index builds need no help)."""
    if connection.dialect.name != "sqlite" or new_tasks < BULK_LOAD_MIN:
        return None
    stored, last = connection.exec_driver_sql("SELECT count(*), coalesce(max(id), 0) FROM tasks").one()
    if new_tasks < stored:
        return None
    schema = [
        (str(kind), str(name), str(sql))
        for kind, name, sql in connection.exec_driver_sql(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'tasks' AND sql IS NOT NULL "
            "AND (type = 'index' OR (type = 'trigger' AND name = 'tasks_count_insert')) ORDER BY rowid"
        )
    ]
    for kind, name, _sql in schema:
        connection.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
    return _BulkLoad(first_id=int(last), schema=schema)


def _apply_tasks(
    connection: Connection, night: date, drafts: list[TaskDraft], subjects: Sequence[str] | None = None
) -> dict[str, int]:
    """Set-based: tonight's drafts are staged, classified against the store by one join, then applied with one
    statement per kind of change (insert, refresh, reopen, auto-close) and their history written the same way.

    ``subjects`` (an incremental night): only tasks of these subject records can be new, changed or gone tonight;
    every other open task is seen again as it is."""
    unique = {d.fingerprint: d for d in drafts}
    _TASK_STAGE.create(connection)
    _fill(connection, _TASK_STAGE, _task_rows(night, unique))
    return _apply_staged_tasks(connection, night, len(unique), subjects)


def _task_rows(night: date, drafts: dict[str, TaskDraft]) -> list[dict[str, Any]]:
    return [
        {**_task_content(d), "fingerprint": f, "due_date": night + timedelta(days=d.due_days)}
        for f, d in drafts.items()
    ]


def _stage_task_slice(connection: Connection, night: date, drafts: list[TaskDraft], staged: set[str]) -> None:
    """Append one slice of drafts to the task stage. A fingerprint already staged (by an earlier slice) takes the
    later draft's content in its first place, as one dict of the whole night's drafts would."""
    unique = {d.fingerprint: d for d in drafts}
    again = {f: d for f, d in unique.items() if f in staged}
    _fill(connection, _TASK_STAGE, _task_rows(night, {f: d for f, d in unique.items() if f not in staged}))
    for row in _task_rows(night, again):
        fingerprint = row.pop("fingerprint")
        connection.execute(update(_TASK_STAGE).where(_TASK_STAGE.c.fingerprint == fingerprint).values(row))
    staged.update(unique)


def _apply_staged_tasks(
    connection: Connection, night: date, tasks_seen: int, subjects: Sequence[str] | None
) -> dict[str, int]:
    """Classify the staged drafts against the store and apply them (``_apply_tasks``); the stage is dropped."""
    _analyse(connection, _TASK_STAGE)
    tasks: Table = Task.__table__  # type: ignore[assignment]
    events: Table = TaskEvent.__table__  # type: ignore[assignment]
    staged = _TASK_STAGE.c
    now = utcnow()
    if connection.dialect.name == "postgresql":
        # Take every count row first, in key order: the statements below change counts in an order of their own,
        # and an officer's transaction holding one of them could otherwise deadlock with this one.
        key = (
            TaskCount.province_code,
            TaskCount.ward_code,
            TaskCount.state,
            TaskCount.quality,
            TaskCount.priority,
            TaskCount.rule,
        )
        connection.execute(select(TaskCount.tasks).order_by(*key).with_for_update())
    on_night = literal(night, Date)
    at_now = literal(now, DateTime(timezone=True))

    # Which stored task each draft is, and what tonight does to it (no row: a new task).
    connection.execute(
        update(_TASK_STAGE)
        .where(tasks.c.fingerprint == staged.fingerprint)
        .values(
            task_id=tasks.c.id,
            action=case(
                (and_(tasks.c.state == "resolved", tasks.c.resolution == "not_an_error"), "suppressed"),
                (and_(tasks.c.state == "resolved", tasks.c.last_seen_night < on_night), "reopen"),
                else_="refresh",
            ),
        )
    )
    actions: dict[str | None, int] = {
        action: int(count)
        for action, count in connection.execute(select(staged.action, func.count()).group_by(staged.action))
    }

    def history(action: str, from_state: Any, to_state: str, note: str | None) -> list[Any]:
        return [at_now, literal(SYSTEM_ACTOR), literal(action), from_state, literal(to_state), on_night, literal(note)]

    event_columns = ["task_id", "at", "actor", "action", "from_state", "to_state", "night", "note"]
    new = staged.task_id.is_(None)
    bulk = _bulk_load(connection, actions.get(None, 0))
    connection.execute(
        insert(tasks).from_select(
            [
                *_CONTENT_COLUMNS,
                "fingerprint",
                "due_date",
                "state",
                "first_seen_night",
                "last_seen_night",
                "created_at",
                "updated_at",
            ],
            select(
                *(staged[c] for c in _CONTENT_COLUMNS),
                staged.fingerprint,
                staged.due_date,
                literal("open"),
                on_night,
                on_night,
                at_now,
                at_now,
            ).where(new),
        )
    )
    if bulk is not None:
        bulk.finish(connection)
    connection.execute(
        insert(events).from_select(
            event_columns,
            select(tasks.c.id, *history("created", null(), "open", None))
            .select_from(tasks.join(_TASK_STAGE, tasks.c.fingerprint == staged.fingerprint))
            .where(new),
        )
    )
    content = {c: staged[c] for c in _CONTENT_COLUMNS}
    seen = and_(tasks.c.id == staged.task_id, staged.action.in_(("refresh", "suppressed")))
    # Most nights change the content of few known tasks: rewrite only those, then move "last seen" on the rest with
    # a one-column update that PostgreSQL can keep on the same page without touching any index (a HOT update).
    # JSON has no equality in PostgreSQL: compare its text (both sides are written by the same serializer).
    changed = or_(
        *(
            cast(tasks.c[c], Text).is_distinct_from(cast(staged[c], Text))
            if isinstance(tasks.c[c].type, JSON)
            else tasks.c[c].is_distinct_from(staged[c])
            for c in _CONTENT_COLUMNS
        )
    )
    connection.execute(update(tasks).where(seen, changed).values(content | {"updated_at": at_now}))
    # Re-running an older night must not move "last seen" back (it decides reopening).
    connection.execute(
        update(tasks)
        .where(seen, tasks.c.last_seen_night < on_night)
        .values(last_seen_night=on_night, updated_at=at_now)
    )
    reopen = staged.action == "reopen"
    connection.execute(
        insert(events).from_select(
            event_columns,
            select(staged.task_id, *history("reopened", literal("resolved"), "open", _REOPEN_NOTE)).where(reopen),
        )
    )
    connection.execute(
        update(tasks)
        .where(tasks.c.id == staged.task_id, reopen)
        .values(
            content
            | {
                "last_seen_night": on_night,
                "due_date": staged.due_date,
                "state": "open",
                "resolution": None,
                "resolution_note": None,
                "assignee": None,
                "claimed_at": None,
                "resolved_at": None,
                "resolved_by": None,
                "updated_at": at_now,
            }
        )
    )
    _TASK_STAGE.drop(connection)

    in_scope: ColumnElement[bool] = true()
    if subjects is not None:
        _stage_scope(connection, subjects)
        in_scope = tasks.c.subject_record_id.in_(select(_SCOPE_STAGE.c.record_id))
        # Outside tonight's scope every finding is the one of the last night run: a task seen then is seen again.
        connection.execute(
            update(tasks)
            .where(tasks.c.last_seen_night == _previous_run(night), ~in_scope)
            .values(last_seen_night=on_night, updated_at=at_now)
        )

    # Tasks still open that tonight's data no longer shows: the defect is gone (one sequential pass: an index on
    # "last seen" would turn every nightly refresh into an update of all the table's indexes). History first, while
    # the rows still carry the state they are closed from.
    gone = and_(tasks.c.state.in_(OPEN_STATES), tasks.c.last_seen_night < on_night, in_scope)
    connection.execute(
        insert(events).from_select(
            event_columns,
            select(tasks.c.id, *history("auto_closed", tasks.c.state, "resolved", _GONE_NOTE)).where(gone),
        )
    )
    auto_closed = connection.execute(
        update(tasks)
        .where(gone)
        .values(state="resolved", resolution="defect_gone", resolved_at=now, resolved_by=SYSTEM_ACTOR, updated_at=now)
    ).rowcount
    if subjects is not None:
        _SCOPE_STAGE.drop(connection)
    return {
        "tasks_seen": tasks_seen,
        "created": actions.get(None, 0),
        "refreshed": actions.get("refresh", 0),
        "reopened": actions.get("reopen", 0),
        "auto_closed": int(auto_closed or 0),
        "suppressed": actions.get("suppressed", 0),
    }


def _apply_reviews(
    connection: Connection, night: date, drafts: list[ReviewDraft], pair_records: Sequence[str] | None = None
) -> dict[str, int]:
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
    in_scope: ColumnElement[bool] = true()
    if pair_records is not None:
        _stage_scope(connection, pair_records)
        scoped = select(_SCOPE_STAGE.c.record_id)
        in_scope = or_(items.c.left_id.in_(scoped), items.c.right_id.in_(scoped))
        connection.execute(
            update(items)
            .where(items.c.last_seen_night == _previous_run(night), ~in_scope)
            .values(last_seen_night=night, updated_at=now)
        )
    withdrawn = connection.execute(
        update(items)
        .where(items.c.state == "pending", items.c.last_seen_night < night, in_scope)
        .values(state="withdrawn", updated_at=now)
    ).rowcount
    if pair_records is not None:
        _SCOPE_STAGE.drop(connection)
    return {"reviews_seen": len(unique), "reviews_created": len(new_rows), "reviews_withdrawn": int(withdrawn or 0)}


def apply_night(engine: Engine, drafts: NightDrafts | DraftPlan, scope: NightScope | None = None) -> NightSummary:
    """Upsert one night's drafts; all or nothing (one transaction). ``scope``: what an incremental night
    re-evaluated (the drafts cover exactly that); None: the drafts are the whole night. A ``DraftPlan`` is drafted
    and staged a slice at a time (``DRAFT_SLICE`` tasks), to the same store as its ``NightDrafts`` would give."""
    night = drafts.night
    subjects = scope.subjects if scope else None
    with session_scope(engine, write=True) as session:
        connection = session.connection()
        if isinstance(drafts, DraftPlan):
            task_counts, reviews = _apply_plan(connection, drafts, subjects)
        else:
            _upsert_snapshots(connection, night, drafts.snapshots)
            task_counts, reviews = _apply_tasks(connection, night, drafts.tasks, subjects), drafts.reviews
        review_counts = _apply_reviews(connection, night, reviews, scope.pair_records if scope else None)
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


def _apply_plan(
    connection: Connection, plan: DraftPlan, subjects: Sequence[str] | None
) -> tuple[dict[str, int], list[ReviewDraft]]:
    """Stage the shown records' snapshots, then draft and stage the tasks a slice at a time with their persons'
    golden records (each person once, placed as in one whole night's snapshots: after the records, by person key);
    then upsert the snapshots and apply the tasks as ``_apply_tasks`` does."""
    night = plan.night
    _SNAPSHOT_STAGE.create(connection)
    position = 0
    for chunk in plan.record_snapshots():
        _fill(connection, _SNAPSHOT_STAGE, _snapshot_rows(night, chunk, range(position, position + len(chunk))))
        position += len(chunk)
    persons = {key: position + rank for rank, key in enumerate(plan.task_persons())}
    _TASK_STAGE.create(connection)
    staged: set[str] = set()
    shown: set[str] = set()
    for drafts, golden in plan.task_slices():
        _stage_task_slice(connection, night, drafts, staged)
        new = [key for key in golden if key not in shown]
        shown.update(new)
        snapshots = ((register_snapshot_id(key), REGISTER_SOURCE, golden[key]) for key in new)
        _fill(connection, _SNAPSHOT_STAGE, _snapshot_rows(night, snapshots, (persons[key] for key in new)))
    _analyse(connection, _SNAPSHOT_STAGE)
    _upsert_staged_snapshots(connection)
    return _apply_staged_tasks(connection, night, len(staged), subjects), plan.review_drafts()


def resolved_since(engine: Engine, night: date) -> list[str]:
    """Record ids of the tasks a person resolved after the nightly run of ``night`` finished (a fix that is not yet
    in the data gets its task reopened by the next night, so the next night must look at those records again)."""
    tasks: Table = Task.__table__  # type: ignore[assignment]
    runs: Table = NightRun.__table__  # type: ignore[assignment]
    with session_scope(engine) as session:
        connection = session.connection()
        finished = connection.execute(select(runs.c.finished_at).where(runs.c.night == night)).scalar()
        if finished is None:
            return []
        rows = connection.execute(
            select(tasks.c.record_ids).where(
                tasks.c.state == "resolved",
                tasks.c.resolution != "not_an_error",
                tasks.c.resolved_by != SYSTEM_ACTOR,
                tasks.c.resolved_at >= finished,
            )
        )
        return sorted({record for (ids,) in rows for record in (ids or [])})


def open_task_counts(engine: Engine) -> pl.DataFrame:
    """Open tasks in the store per ``ward_code, quality, task_type, rule, priority`` (column ``tasks``)."""
    tasks: Table = Task.__table__  # type: ignore[assignment]
    keys = (tasks.c.ward_code, tasks.c.quality, tasks.c.task_type, tasks.c.rule, tasks.c.priority)
    with session_scope(engine) as session:
        rows = session.connection().execute(
            select(*keys, func.count()).where(tasks.c.state.in_(OPEN_STATES)).group_by(*keys)
        )
        data = [tuple(row) for row in rows]
    return pl.DataFrame(
        data,
        schema={"ward_code": pl.String, "quality": pl.String, "task_type": pl.String, "rule": pl.String,
                "priority": pl.Int32, "tasks": pl.UInt32},
        orient="row",
    )  # fmt: skip
