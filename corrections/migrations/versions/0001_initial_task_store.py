"""Initial task store: tasks and their history, record snapshots, match review, users, sessions, audit log.

Revision ID: 0001
Revises:
Create Date: 2025-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("object_type", sa.String(length=16), nullable=True),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("ward_code", sa.String(length=8), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_actor"), "audit_log", ["actor"], unique=False)
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)

    op.create_table(
        "night_runs",
        sa.Column("night", sa.Date(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("tasks_seen", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("auto_closed", sa.Integer(), nullable=False),
        sa.Column("suppressed", sa.Integer(), nullable=False),
        sa.Column("reviews_seen", sa.Integer(), nullable=False),
        sa.Column("reviews_created", sa.Integer(), nullable=False),
        sa.Column("reviews_withdrawn", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("night", name=op.f("pk_night_runs")),
    )
    op.create_table(
        "record_snapshots",
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_record_snapshots")),
    )
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("left_id", sa.String(length=64), nullable=False),
        sa.Column("right_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ward_code", sa.String(length=8), nullable=True),
        sa.Column("province_code", sa.String(length=4), nullable=True),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("first_seen_night", sa.Date(), nullable=False),
        sa.Column("last_seen_night", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_review_items_fingerprint")),
    )
    op.create_index("ix_review_items_pair", "review_items", ["left_id", "right_id"], unique=False)
    op.create_index(
        "ix_review_items_queue", "review_items", ["province_code", "state", "match_probability", "id"], unique=False
    )

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("task_type", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("quality", sa.String(length=8), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("ward_code", sa.String(length=8), nullable=True),
        sa.Column("province_code", sa.String(length=4), nullable=True),
        sa.Column("record_ids", sa.JSON(), nullable=False),
        sa.Column("subject_record_id", sa.String(length=64), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=True),
        sa.Column("subject_person_id", sa.String(length=16), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("problem_fields", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("first_seen_night", sa.Date(), nullable=False),
        sa.Column("last_seen_night", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_tasks_fingerprint")),
    )
    op.create_index("ix_tasks_assignee", "tasks", ["assignee"], unique=False)
    op.create_index(
        "ix_tasks_province_queue", "tasks", ["province_code", "state", "priority", "due_date", "id"], unique=False
    )
    op.create_index("ix_tasks_state_last_seen", "tasks", ["state", "last_seen_night"], unique=False)
    op.create_index("ix_tasks_ward_counts", "tasks", ["ward_code", "quality", "state"], unique=False)
    op.create_index("ix_tasks_province_counts", "tasks", ["province_code", "quality", "state"], unique=False)
    op.create_index("ix_tasks_ward_queue", "tasks", ["ward_code", "state", "priority", "due_date", "id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("ward_code", sa.String(length=8), nullable=True),
        sa.Column("province_code", sa.String(length=4), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_console_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_console_sessions")),
    )
    op.create_index(op.f("ix_console_sessions_user_id"), "console_sessions", ["user_id"], unique=False)

    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["review_items.id"],
            name=op.f("fk_review_decisions_review_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
    )
    op.create_index(op.f("ix_review_decisions_review_id"), "review_decisions", ["review_id"], unique=False)

    op.create_table(
        "task_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("night", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_events_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_events")),
    )
    op.create_index(op.f("ix_task_events_task_id"), "task_events", ["task_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_task_events_task_id"), table_name="task_events")

    op.drop_table("task_events")
    op.drop_index(op.f("ix_review_decisions_review_id"), table_name="review_decisions")

    op.drop_table("review_decisions")
    op.drop_index(op.f("ix_console_sessions_user_id"), table_name="console_sessions")

    op.drop_table("console_sessions")
    op.drop_table("users")
    op.drop_index("ix_tasks_ward_queue", table_name="tasks")
    op.drop_index("ix_tasks_ward_counts", table_name="tasks")
    op.drop_index("ix_tasks_province_counts", table_name="tasks")
    op.drop_index("ix_tasks_state_last_seen", table_name="tasks")
    op.drop_index("ix_tasks_province_queue", table_name="tasks")
    op.drop_index("ix_tasks_assignee", table_name="tasks")

    op.drop_table("tasks")
    op.drop_index("ix_review_items_queue", table_name="review_items")
    op.drop_index("ix_review_items_pair", table_name="review_items")

    op.drop_table("review_items")
    op.drop_table("record_snapshots")
    op.drop_table("night_runs")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_actor"), table_name="audit_log")

    op.drop_table("audit_log")
