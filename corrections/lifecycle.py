"""What people do with a task: claim it, release it, resolve it with a note, reopen it.

Every transition is one conditional UPDATE (``... WHERE state = <expected>``): of two officers claiming the same task
at once, exactly one UPDATE matches, the other gets ``TaskConflict``. ``claim_next`` hands each of many concurrent
officers a different task (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serializes writers).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from corrections import audit
from corrections.access import AccessDenied, Actor, can_see, task_scope
from corrections.db import utcnow
from corrections.models import HUMAN_RESOLUTIONS, Task, TaskEvent
from corrections.text import RESOLUTION_NAMES

__all__ = [
    "QueueFilter",
    "TaskConflict",
    "TaskNotFound",
    "claim",
    "claim_next",
    "get_task",
    "release",
    "reopen",
    "resolve",
]


class TaskNotFound(LookupError):
    """No such task (or not visible to the user: the two are indistinguishable on purpose)."""


class TaskConflict(Exception):
    """The task is no longer in the state the action expects (someone else acted first)."""


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Filters of the queue page; empty values mean "all"."""

    state: str | None = None
    quality: str | None = None
    priority: int | None = None
    rule: str | None = None
    ward_code: str | None = None
    assignee: str | None = None
    search: str | None = None


def get_task(session: Session, actor: Actor, task_id: int) -> Task:
    """The task if ``actor`` may see it; another ward's task is reported as not found (no existence oracle)."""
    task = session.get(Task, task_id)
    if task is None or not can_see(actor, task.ward_code, task.province_code):
        raise TaskNotFound(task_id)
    return task


def _event(session: Session, task: Task, actor: Actor, action: str, from_state: str, note: str | None = None) -> None:
    session.add(
        TaskEvent(
            task_id=task.id,
            at=utcnow(),
            actor=actor.username,
            action=action,
            from_state=from_state,
            to_state=task.state,
            note=note,
        )
    )


def _transition(
    session: Session, actor: Actor, task_id: int, expected: tuple[str, ...], values: dict[str, object]
) -> Task:
    task = get_task(session, actor, task_id)
    guard = and_(Task.id == task_id, Task.state.in_(expected))
    result = session.execute(
        update(Task).where(guard).values(**values, updated_at=utcnow()).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise TaskConflict(task_id)
    session.refresh(task)
    return task


def claim(session: Session, actor: Actor, task_id: int, *, client: str | None = None) -> Task:
    """Take an open task: it becomes "in progress" with ``actor`` as assignee."""
    task = _transition(
        session,
        actor,
        task_id,
        ("open",),
        {"state": "in_progress", "assignee": actor.username, "claimed_at": utcnow()},
    )
    _event(session, task, actor, "claimed", "open")
    audit.record(
        session,
        actor.username,
        "claim",
        object_type="task",
        object_id=task.id,
        ward_code=task.ward_code,
        province_code=task.province_code,
        client=client,
    )
    return task


def claim_next(
    session: Session, actor: Actor, filters: QueueFilter | None = None, *, client: str | None = None
) -> Task | None:
    """Claim the most urgent open task in ``actor``'s scope; None when the queue is empty."""
    filters = filters or QueueFilter()
    conditions = [Task.state == "open"]
    if filters.quality:
        conditions.append(Task.quality == filters.quality)
    if filters.ward_code:
        conditions.append(Task.ward_code == filters.ward_code)
    if filters.rule:
        conditions.append(Task.rule == filters.rule)
    if filters.priority:
        conditions.append(Task.priority == filters.priority)
    # One scope condition (a ward, a province, or all), walked in order off its queue index.
    query = (
        select(Task.id).where(task_scope(actor), *conditions).order_by(Task.priority, Task.due_date, Task.id).limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    task_id = session.scalar(query)
    if task_id is None:
        return None
    return claim(session, actor, task_id, client=client)


def release(session: Session, actor: Actor, task_id: int, *, client: str | None = None) -> Task:
    """Give an in-progress task back to the queue (its assignee, or a data officer/admin)."""
    task = get_task(session, actor, task_id)
    if task.assignee != actor.username and not actor.is_reviewer:
        raise AccessDenied("Chỉ người đang xử lý mới trả lại được việc này.")
    task = _transition(
        session, actor, task_id, ("in_progress",), {"state": "open", "assignee": None, "claimed_at": None}
    )
    _event(session, task, actor, "released", "in_progress")
    audit.record(
        session,
        actor.username,
        "release",
        object_type="task",
        object_id=task.id,
        ward_code=task.ward_code,
        province_code=task.province_code,
        client=client,
    )
    return task


def resolve(
    session: Session, actor: Actor, task_id: int, resolution: str, note: str, *, client: str | None = None
) -> Task:
    """Close a task the actor is working on, with a resolution and a note saying what was done."""
    if resolution not in HUMAN_RESOLUTIONS:
        raise ValueError(f"Cách đóng việc không hợp lệ: {resolution!r}")
    note = note.strip()
    if len(note) < 3:
        raise ValueError("Cần ghi chú nội dung đã xử lý (ít nhất 3 ký tự).")
    task = get_task(session, actor, task_id)
    if task.state == "in_progress" and task.assignee != actor.username and not actor.is_reviewer:
        raise AccessDenied("Việc này đang do người khác xử lý.")
    expected = ("open", "in_progress") if actor.is_reviewer or task.state == "open" else ("in_progress",)
    from_state = task.state
    task = _transition(
        session,
        actor,
        task_id,
        expected,
        {
            "state": "resolved",
            "resolution": resolution,
            "resolution_note": note,
            "resolved_at": utcnow(),
            "resolved_by": actor.username,
            "assignee": task.assignee or actor.username,
        },
    )
    _event(session, task, actor, "resolved", from_state, f"{RESOLUTION_NAMES[resolution]}: {note}")
    audit.record(
        session,
        actor.username,
        "resolve",
        object_type="task",
        object_id=task.id,
        ward_code=task.ward_code,
        province_code=task.province_code,
        detail=f"{resolution}: {note}",
        client=client,
    )
    return task


def reopen(session: Session, actor: Actor, task_id: int, note: str, *, client: str | None = None) -> Task:
    """Put a closed task back in the queue (e.g. the fix did not hold, or "not an error" was a mistake)."""
    note = note.strip()
    if len(note) < 3:
        raise ValueError("Cần ghi lý do mở lại (ít nhất 3 ký tự).")
    task = _transition(
        session,
        actor,
        task_id,
        ("resolved",),
        {
            "state": "open",
            "resolution": None,
            "resolution_note": None,
            "resolved_at": None,
            "resolved_by": None,
            "assignee": None,
            "claimed_at": None,
        },
    )
    _event(session, task, actor, "reopened", "resolved", note)
    audit.record(
        session,
        actor.username,
        "reopen",
        object_type="task",
        object_id=task.id,
        ward_code=task.ward_code,
        province_code=task.province_code,
        detail=note,
        client=client,
    )
    return task
