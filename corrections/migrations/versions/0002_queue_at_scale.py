"""The queue at 500,000 tasks: maintained counts, a name search key, indexes for ID search.

- ``task_counts``: tasks per (province, ward, state, quality, priority, rule), kept by triggers on ``tasks`` in the
  same transaction as every insert, update and delete (PostgreSQL: one statement-level trigger per statement with
  transition tables, so a nightly upsert of 500,000 rows aggregates its change once; SQLite: row-level triggers).
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
    "update": f"""
        INSERT INTO task_counts AS c ({_KEY}, tasks)
        SELECT p, w, s, q, pr, r, sum(d) FROM (
            SELECT {_ROW_KEY}, 1 FROM new_rows
            UNION ALL
            SELECT {_ROW_KEY}, -1 FROM old_rows
        ) AS changed (p, w, s, q, pr, r, d)
        GROUP BY p, w, s, q, pr, r HAVING sum(d) <> 0 ORDER BY p, w, s, q, pr, r
        ON CONFLICT ({_KEY}) DO UPDATE SET tasks = c.tasks + EXCLUDED.tasks""",
    "delete": f"""
        UPDATE task_counts AS c SET tasks = c.tasks - gone.n
        FROM (SELECT {_ROW_KEY}, count(*) FROM old_rows GROUP BY {_ROW_KEY}) AS gone (p, w, s, q, pr, r, n)
        WHERE (c.province_code, c.ward_code, c.state, c.quality, c.priority, c.rule) = (gone.p, gone.w, gone.s,
              gone.q, gone.pr, gone.r)""",
}
_PG_REFERENCING = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}


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


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for operation in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS tasks_count_{operation}" + (" ON tasks" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS task_counts_{operation}()")
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
