"""The audit log: one row per action, written in the same transaction as the action itself."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from corrections.db import utcnow
from corrections.models import AuditEntry

__all__ = ["recent", "record"]


def record(
    session: Session,
    actor: str,
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | int | None = None,
    ward_code: str | None = None,
    detail: str | None = None,
    client: str | None = None,
) -> None:
    session.add(
        AuditEntry(
            at=utcnow(),
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            ward_code=ward_code,
            detail=detail,
            client=client,
        )
    )


def recent(
    session: Session,
    *,
    limit: int = 100,
    offset: int = 0,
    actor: str | None = None,
    ward_code: str | None = None,
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if ward_code:
        query = query.where(AuditEntry.ward_code == ward_code)
    return list(session.scalars(query))
