"""The task store's tables. The schema is owned by the Alembic migrations in ``corrections/migrations``;
these models must stay identical to it (a test compares them).

Everything a person acts on carries its history: ``task_events`` is the state history of a task, ``review_decisions``
the history of a pair's decisions and ``audit_log`` every action taken in the console or by the nightly run.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "DECISIONS",
    "HUMAN_RESOLUTIONS",
    "OPEN_STATES",
    "RESOLUTIONS",
    "REVIEW_STATES",
    "ROLES",
    "TASK_STATES",
    "AuditEntry",
    "Base",
    "ConsoleSession",
    "LoginThrottle",
    "NightRun",
    "RecordSnapshot",
    "ReviewDecision",
    "ReviewItem",
    "Task",
    "TaskCount",
    "TaskEvent",
    "User",
]

TASK_STATES: Final = ("open", "in_progress", "resolved")
OPEN_STATES: Final = ("open", "in_progress")
RESOLUTIONS: Final = ("fixed_at_source", "not_an_error", "merged", "defect_gone")
"""``defect_gone`` is only set by the nightly run: the defect is no longer in tonight's data."""
HUMAN_RESOLUTIONS: Final = ("fixed_at_source", "not_an_error", "merged")
ROLES: Final = ("ward_officer", "data_officer", "admin")
REVIEW_STATES: Final = ("pending", "decided", "withdrawn")
DECISIONS: Final = ("same", "different", "unsure")

# Stable constraint names so the migrations can refer to them on both SQLite and PostgreSQL.
NAMING: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Task(Base):
    """One correction task for ward police: one rule on one set of records."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    task_type: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(64))
    quality: Mapped[str] = mapped_column(String(8))
    severity: Mapped[str] = mapped_column(String(16))
    ward_code: Mapped[str | None] = mapped_column(String(8))
    province_code: Mapped[str | None] = mapped_column(String(4))
    record_ids: Mapped[list[str]] = mapped_column(JSON)
    subject_record_id: Mapped[str] = mapped_column(String(64))
    subject_name: Mapped[str | None] = mapped_column(String(200))
    subject_search: Mapped[str | None] = mapped_column(String(220))
    """``corrections.search.name_key`` of the name: what the queue's name search matches (PostgreSQL: trigram index)."""
    subject_person_id: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    problem_fields: Mapped[list[str]] = mapped_column(JSON)
    explanation: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    priority: Mapped[int] = mapped_column(Integer)
    person_keys: Mapped[list[str] | None] = mapped_column(JSON)
    """The clean register's person keys of the task's records (migration 0003); their golden records are shown."""
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    resolution: Mapped[str | None] = mapped_column(String(32))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    first_seen_night: Mapped[date] = mapped_column(Date)
    last_seen_night: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # The queue pages: a ward's (or a province's) tasks in a state, in priority order.
        Index("ix_tasks_ward_queue", "ward_code", "state", "priority", "due_date", "id"),
        Index("ix_tasks_province_queue", "province_code", "state", "priority", "due_date", "id"),
        # The same filtered by quality: no quality's tasks have to be walked past to reach another's.
        Index("ix_tasks_ward_quality_queue", "ward_code", "state", "quality", "priority", "due_date", "id"),
        Index("ix_tasks_province_quality_queue", "province_code", "state", "quality", "priority", "due_date", "id"),
        Index("ix_tasks_assignee", "assignee"),
        # The queue's search box also takes an exact record or personal ID.
        Index("ix_tasks_subject_record_id", "subject_record_id"),
        Index("ix_tasks_subject_person_id", "subject_person_id"),
    )


class TaskCount(Base):
    """How many tasks there are per routing unit, state, quality, priority and rule.

    Maintained by database triggers on ``tasks`` (migration 0002) in the same transaction as every change, so the
    queue's tab and chip counts read a few thousand rows instead of aggregating hundreds of thousands of tasks.
    ``ward_code``/``province_code`` are ``""`` for tasks without one (key columns cannot be NULL).
    """

    __tablename__ = "task_counts"

    province_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    ward_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    quality: Mapped[str] = mapped_column(String(8), primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rule: Mapped[str] = mapped_column(String(64), primary_key=True)
    tasks: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_task_counts_ward", "ward_code", "state"),)


class TaskEvent(Base):
    """The state history of a task: created, claimed, released, resolved, reopened, auto-closed."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    night: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class RecordSnapshot(Base):
    """The canonical columns of a record as the nightly run last saw it, shown side by side in the console."""

    __tablename__ = "record_snapshots"

    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    night: Mapped[date] = mapped_column(Date)


class ReviewItem(Base):
    """A pair the matching engine could not decide; a data officer says whether it is one person."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    left_id: Mapped[str] = mapped_column(String(64))
    right_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    ward_code: Mapped[str | None] = mapped_column(String(8))
    province_code: Mapped[str | None] = mapped_column(String(4))
    match_probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)
    explanation: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    first_seen_night: Mapped[date] = mapped_column(Date)
    last_seen_night: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_review_items_queue", "province_code", "state", "match_probability", "id"),
        Index("ix_review_items_pair", "left_id", "right_id"),
    )


class ReviewDecision(Base):
    """Every decision ever taken on a review item (the item keeps the latest)."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class User(Base):
    """A console account. Ward officers are bound to one current ward, data officers to one province or, explicitly,
    to the whole country (``national``); admins are national."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    ward_code: Mapped[str | None] = mapped_column(String(8))
    province_code: Mapped[str | None] = mapped_column(String(4))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    national: Mapped[bool] = mapped_column(Boolean, server_default=false())
    demo: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """Created by ``dancu console``'s demo seeding with the published password: never accepted in production."""


class ConsoleSession(Base):
    """A logged-in browser. Only a hash of the cookie's token is stored, so a leaked table opens no session."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """One action by a person or by the nightly run."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str | None] = mapped_column(String(16))
    object_id: Mapped[str | None] = mapped_column(String(64))
    ward_code: Mapped[str | None] = mapped_column(String(8))
    detail: Mapped[str | None] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(String(64))
    province_code: Mapped[str | None] = mapped_column(String(4))
    """The province the entry belongs to (of its task, pair or ward, else of the acting user): who may read it."""

    __table_args__ = (Index("ix_audit_log_province_code_id", "province_code", "id"),)


class LoginThrottle(Base):
    """Failed logins per (user name, client address); ``username`` ``""`` counts every name from one client.

    Kept in the store, so every worker process and a restart see the same counts; see ``corrections.throttle``.
    """

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NightRun(Base):
    """What each nightly upsert did (re-running a night updates its row)."""

    __tablename__ = "night_runs"

    night: Mapped[date] = mapped_column(Date, primary_key=True)
    runs: Mapped[int] = mapped_column(Integer)
    findings: Mapped[int] = mapped_column(Integer)
    tasks_seen: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer)
    reopened: Mapped[int] = mapped_column(Integer)
    auto_closed: Mapped[int] = mapped_column(Integer)
    suppressed: Mapped[int] = mapped_column(Integer)
    reviews_seen: Mapped[int] = mapped_column(Integer)
    reviews_created: Mapped[int] = mapped_column(Integer)
    reviews_withdrawn: Mapped[int] = mapped_column(Integer)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
