"""The audit log: one row per action, written in the same transaction as the action itself.

Each entry carries the province it belongs to (``province_code``), which decides who may read it
(``corrections.access.audit_scope``): the province of what the entry is about, given by the caller or derived from
its ward, else of the acting user; none (national) for what belongs to no province.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from corrections.db import utcnow
from corrections.models import AuditEntry

__all__ = ["SYSTEM_ACTOR", "recent", "record"]

SYSTEM_ACTOR = "he-thong"
"""The actor of what the system itself does (the nightly run, start-up housekeeping)."""


@cache
def _ward_provinces() -> dict[str, str]:
    from normalize import units

    table = units.current_wards()
    return dict(zip(table["ward_code"].to_list(), table["province_code"].to_list(), strict=True))


def record(
    session: Session,
    actor: str,
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | int | None = None,
    ward_code: str | None = None,
    province_code: str | None = None,
    detail: str | None = None,
    client: str | None = None,
) -> None:
    if province_code is None and ward_code:
        province_code = _ward_provinces().get(ward_code)
    session.add(
        AuditEntry(
            at=utcnow(),
            actor=actor[:64],
            action=action[:32],
            object_type=object_type,
            object_id=None if object_id is None else str(object_id)[:64],
            ward_code=ward_code,
            province_code=province_code,
            detail=detail,
            client=None if client is None else client[:64],
        )
    )


def recent(
    session: Session,
    *,
    limit: int = 100,
    offset: int = 0,
    actor: str | None = None,
    ward_code: str | None = None,
    scope: ColumnElement[bool] | None = None,
) -> list[AuditEntry]:
    """The newest entries first; ``scope`` (``corrections.access.audit_scope``) limits them to what a reader may see."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if scope is not None:
        query = query.where(scope)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if ward_code:
        query = query.where(AuditEntry.ward_code == ward_code)
    return list(session.scalars(query))
