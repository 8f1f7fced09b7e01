"""The queue at 500,000 tasks: maintained counts, a name search key, indexes for ID search.

- ``task_counts``: tasks per (province, ward, state, quality, priority, rule), kept by triggers on ``tasks`` in the
  same transaction as every insert, update and delete (PostgreSQL: inserts and deletes by one statement-level trigger
  with a transition table, so a nightly load of 500,000 tasks aggregates once; updates by a row-level trigger that
  fires only when a counted column changes; SQLite: row-level triggers).
- ``tasks.subject_search``: the ASCII name key of ``corrections.search``, backfilled here; on PostgreSQL a pg_trgm
  GIN index serves ``LIKE '% key%'`` (pg_trgm is a trusted extension: the database owner may create it).
- btree indexes on ``subject_record_id`` and ``subject_person_id`` for exact ID search.
- the ``*_counts`` indexes of the tasks go (counts come from ``task_counts``); in their place queue indexes led by
  quality, so a quality filter reads its own tasks in order instead of walking past every other quality's.
- ``ix_tasks_state_last_seen`` goes: the nightly run moves ``last_seen_night`` on every task it sees, and an index on
  it made each of those an update of every index of the table; the once-a-night "defect gone" pass scans instead.
  On PostgreSQL, ``tasks`` keeps 20% of each page free (fillfactor) so that update stays on the page (HOT).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from corrections.search import name_key

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = "province_code, ward_code, state, quality, priority, rule"
_ROW_KEY = "coalesce(province_code, ''), coalesce(ward_code, ''), state, quality, priority, rule"
_BACKFILL_CHUNK = 5000

# One function per operation: a transition table only exists for the operations that define it.
_PG_FUNCTIONS = {
    "insert": f"""
        INSERT INTO task_counts AS c ({_KEY}, tasks)
        SELECT {_ROW_KEY}, count(*) FROM new_rows GROUP BY {_ROW_KEY} ORDER BY {_ROW_KEY}
        ON CONFLICT ({_KEY}) DO UPDATE SET tasks = c.tasks + EXCLUDED.tasks""",
    "delete": f"""
        UPDATE task_counts AS c SET tasks = c.tasks - gone.n
        FROM (SELECT {_ROW_KEY}, count(*) FROM old_rows GROUP BY {_ROW_KEY}) AS gone (p, w, s, q, pr, r, n)
        WHERE (c.province_code, c.ward_code, c.state, c.quality, c.priority, c.rule) = (gone.p, gone.w, gone.s,
              gone.q, gone.pr, gone.r)""",
}
_PG_REFERENCING = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}

# Updates count per row, and only rows whose counted columns change: a transition table would copy every updated
# row (the nightly run moves "last seen" on all of them), and the WHEN clause skips the others without a call.
# The two count rows are locked in key order, so two officers moving tasks in opposite directions cannot deadlock.
_PG_ROW_KEY = (
    "coalesce({r}.province_code, ''), coalesce({r}.ward_code, ''), {r}.state, {r}.quality, {r}.priority, {r}.rule"
)
_PG_UPDATE_FUNCTIONS = (
    f"""CREATE OR REPLACE FUNCTION task_counts_add(
            p text, w text, s text, q text, pr integer, r text, delta integer) RETURNS void LANGUAGE sql AS $$
        INSERT INTO task_counts AS c ({_KEY}, tasks) VALUES (p, w, s, q, pr, r, delta)
        ON CONFLICT ({_KEY}) DO UPDATE SET tasks = c.tasks + EXCLUDED.tasks $$""",
    f"""CREATE OR REPLACE FUNCTION task_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF ROW({_PG_ROW_KEY.format(r="OLD")}) < ROW({_PG_ROW_KEY.format(r="NEW")}) THEN
                PERFORM task_counts_add({_PG_ROW_KEY.format(r="OLD")}, -1);
                PERFORM task_counts_add({_PG_ROW_KEY.format(r="NEW")}, 1);
            ELSE
                PERFORM task_counts_add({_PG_ROW_KEY.format(r="NEW")}, 1);
                PERFORM task_counts_add({_PG_ROW_KEY.format(r="OLD")}, -1);
            END IF;
            RETURN NULL;
        END $$""",
    """CREATE TRIGGER tasks_count_update
        AFTER UPDATE OF province_code, ward_code, state, quality, priority, rule ON tasks FOR EACH ROW
        WHEN ((OLD.province_code, OLD.ward_code, OLD.state, OLD.quality, OLD.priority, OLD.rule)
              IS DISTINCT FROM (NEW.province_code, NEW.ward_code, NEW.state, NEW.quality, NEW.priority, NEW.rule))
        EXECUTE FUNCTION task_counts_update()""",
)


def _sqlite_key(row: str) -> str:
    return (
        f"coalesce({row}.province_code, ''), coalesce({row}.ward_code, ''), {row}.state, {row}.quality, "
        f"{row}.priority, {row}.rule"
    )


def _sqlite_add(row: str) -> str:
    return (
        f"INSERT INTO task_counts ({_KEY}, tasks) VALUES ({_sqlite_key(row)}, 1) "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET tasks = tasks + 1;"
    )


def _sqlite_remove(row: str) -> str:
    return f"UPDATE task_counts SET tasks = tasks - 1 WHERE ({_KEY}) = ({_sqlite_key(row)});"


_SQLITE_TRIGGERS = {
    "insert": f"AFTER INSERT ON tasks BEGIN {_sqlite_add('NEW')} END",
    "update": (
        "AFTER UPDATE OF province_code, ward_code, state, quality, priority, rule ON tasks "
        f"BEGIN {_sqlite_remove('OLD')} {_sqlite_add('NEW')} END"
    ),
    "delete": f"AFTER DELETE ON tasks BEGIN {_sqlite_remove('OLD')} END",
}


def _backfill_search_keys() -> None:
    connection = op.get_bind()
    tasks = sa.table("tasks", sa.column("id", sa.Integer), sa.column("subject_name"), sa.column("subject_search"))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(tasks.c.id, tasks.c.subject_name)
            .where(tasks.c.id > last, tasks.c.subject_name.is_not(None))
            .order_by(tasks.c.id)
            .limit(_BACKFILL_CHUNK)
        ).all()
        if not rows:
            return
        connection.execute(
            sa.update(tasks).where(tasks.c.id == sa.bindparam("_id")).values(subject_search=sa.bindparam("_key")),
            [{"_id": r.id, "_key": name_key(r.subject_name)} for r in rows],
        )
        last = rows[-1].id


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("tasks", sa.Column("subject_search", sa.String(length=220), nullable=True))
    _backfill_search_keys()
    op.drop_index("ix_tasks_state_last_seen", table_name="tasks")
    op.drop_index("ix_tasks_ward_counts", table_name="tasks")
    op.drop_index("ix_tasks_province_counts", table_name="tasks")
    for unit in ("ward", "province"):
        op.create_index(
            f"ix_tasks_{unit}_quality_queue",
            "tasks",
            [f"{unit}_code", "state", "quality", "priority", "due_date", "id"],
            unique=False,
        )
    op.create_index("ix_tasks_subject_record_id", "tasks", ["subject_record_id"], unique=False)
    op.create_index("ix_tasks_subject_person_id", "tasks", ["subject_person_id"], unique=False)
    if postgres:
        op.execute("ALTER TABLE tasks SET (fillfactor = 80)")
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_tasks_subject_search_trgm ON tasks USING gin (subject_search gin_trgm_ops)")

    op.create_table(
        "task_counts",
        sa.Column("province_code", sa.String(length=4), nullable=False),
        sa.Column("ward_code", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("quality", sa.String(length=8), nullable=False),
        sa.Column("priority", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "province_code", "ward_code", "state", "quality", "priority", "rule", name=op.f("pk_task_counts")
        ),
    )
    op.create_index("ix_task_counts_ward", "task_counts", ["ward_code", "state"], unique=False)
    op.execute(f"INSERT INTO task_counts ({_KEY}, tasks) SELECT {_ROW_KEY}, count(*) FROM tasks GROUP BY {_ROW_KEY}")
    for operation, body in (_PG_FUNCTIONS if postgres else _SQLITE_TRIGGERS).items():
        if postgres:
            op.execute(
                f"CREATE OR REPLACE FUNCTION task_counts_{operation}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {body}; RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER tasks_count_{operation} AFTER {operation.upper()} ON tasks "
                f"{_PG_REFERENCING[operation]} FOR EACH STATEMENT EXECUTE FUNCTION task_counts_{operation}()"
            )
        else:
            op.execute(f"CREATE TRIGGER tasks_count_{operation} {body}")
    if postgres:
        for statement in _PG_UPDATE_FUNCTIONS:
            op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for operation in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS tasks_count_{operation}" + (" ON tasks" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS task_counts_{operation}()")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS task_counts_add(text, text, text, text, integer, text, integer)")
    op.drop_index("ix_task_counts_ward", table_name="task_counts")
    op.drop_table("task_counts")
    if postgres:
        op.execute("DROP INDEX IF EXISTS ix_tasks_subject_search_trgm")
    op.drop_index("ix_tasks_subject_person_id", table_name="tasks")
    op.drop_index("ix_tasks_subject_record_id", table_name="tasks")
    op.create_index("ix_tasks_state_last_seen", "tasks", ["state", "last_seen_night"], unique=False)
    for unit in ("ward", "province"):
        op.drop_index(f"ix_tasks_{unit}_quality_queue", table_name="tasks")
        op.create_index(f"ix_tasks_{unit}_counts", "tasks", [f"{unit}_code", "quality", "state"], unique=False)
    if postgres:
        op.execute("ALTER TABLE tasks RESET (fillfactor)")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("subject_search")
