"""Who may see and act on what: ward officers on their ward, data officers on their province, admins on all."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, true

from corrections.models import ReviewItem, Task, User

__all__ = ["AccessDenied", "Actor", "can_see", "require_reviewer", "review_scope", "task_scope"]


class AccessDenied(Exception):
    """The user may not see or act on this object."""


@dataclass(frozen=True, slots=True)
class Actor:
    """The acting user, detached from any database session."""

    id: int
    username: str
    display_name: str
    role: str
    ward_code: str | None
    province_code: str | None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.username, user.display_name, user.role, user.ward_code, user.province_code)

    @property
    def is_reviewer(self) -> bool:
        return self.role in ("data_officer", "admin")


def can_see(actor: Actor, ward_code: str | None, province_code: str | None) -> bool:
    if actor.role == "admin":
        return True
    if actor.role == "data_officer":
        # Unrouted items (no resolvable ward) fall to the province's data officers.
        return actor.province_code is None or province_code is None or province_code == actor.province_code
    return actor.role == "ward_officer" and ward_code is not None and ward_code == actor.ward_code


def task_scope(actor: Actor) -> ColumnElement[bool]:
    """SQL condition selecting the tasks ``actor`` may see."""
    if actor.role == "admin":
        return true()
    if actor.role == "data_officer":
        if actor.province_code is None:
            return true()
        return or_(Task.province_code == actor.province_code, Task.province_code.is_(None))
    if actor.role == "ward_officer" and actor.ward_code:
        return Task.ward_code == actor.ward_code
    return false()


def review_scope(actor: Actor) -> ColumnElement[bool]:
    """SQL condition selecting the review items ``actor`` may decide."""
    if actor.role == "admin" or (actor.role == "data_officer" and actor.province_code is None):
        return true()
    if actor.role == "data_officer":
        return or_(ReviewItem.province_code == actor.province_code, ReviewItem.province_code.is_(None))
    return false()


def require_reviewer(actor: Actor) -> None:
    if not actor.is_reviewer:
        raise AccessDenied("Chỉ cán bộ quản lý dữ liệu mới được xem xét cặp bản ghi.")
