"""Who may see and act on what: ward officers on their ward, data officers on their province (or the whole country
when their account says so explicitly), admins on all.

One rule, ``Scope``, decides for tasks, review pairs and the audit log alike. Work that could not be routed to any
province (``province_code`` NULL) is national: only admins and national data officers see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, false, true

from corrections.models import AuditEntry, ReviewItem, Task, User

__all__ = [
    "AccessDenied",
    "Actor",
    "Scope",
    "audit_scope",
    "can_see",
    "require_reviewer",
    "review_scope",
    "task_scope",
]


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
    national: bool = False
    """A data officer for the whole country (set explicitly when the account is created); admins always are."""

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(
            user.id, user.username, user.display_name, user.role, user.ward_code, user.province_code, user.national
        )

    @property
    def is_reviewer(self) -> bool:
        return self.role in ("data_officer", "admin")

    @property
    def scope(self) -> Scope:
        return Scope.of(self)


@dataclass(frozen=True, slots=True)
class Scope:
    """What one user may see: the whole country, one province, one ward, or nothing."""

    level: Literal["national", "province", "ward", "none"]
    code: str | None = None

    @classmethod
    def of(cls, actor: Actor) -> Scope:
        if actor.role == "admin" or (actor.role == "data_officer" and actor.national):
            return cls("national")
        if actor.role == "data_officer" and actor.province_code:
            return cls("province", actor.province_code)
        if actor.role == "ward_officer" and actor.ward_code:
            return cls("ward", actor.ward_code)
        # A data officer with neither a province nor the national flag sees nothing (least privilege).
        return cls("none")

    def sees(self, ward_code: str | None, province_code: str | None) -> bool:
        if self.level == "national":
            return True
        if self.level == "province":
            return province_code is not None and province_code == self.code
        if self.level == "ward":
            return ward_code is not None and ward_code == self.code
        return False

    def condition(self, ward_column: Any, province_column: Any) -> ColumnElement[bool]:
        """SQL condition selecting the rows of a table with these routing columns that this scope sees."""
        if self.level == "national":
            return true()
        if self.level == "province":
            return province_column == self.code
        if self.level == "ward" and ward_column is not None:
            return ward_column == self.code
        return false()


def can_see(actor: Actor, ward_code: str | None, province_code: str | None) -> bool:
    return actor.scope.sees(ward_code, province_code)


def task_scope(actor: Actor) -> ColumnElement[bool]:
    """SQL condition selecting the tasks ``actor`` may see."""
    return actor.scope.condition(Task.ward_code, Task.province_code)


def review_scope(actor: Actor) -> ColumnElement[bool]:
    """SQL condition selecting the review items ``actor`` may decide (reviewers only)."""
    if not actor.is_reviewer:
        return false()
    return actor.scope.condition(ReviewItem.ward_code, ReviewItem.province_code)


def audit_scope(actor: Actor) -> ColumnElement[bool]:
    """SQL condition selecting the audit entries ``actor`` may read: like the tasks, for reviewers only.

    An entry belongs to the province of what it is about (a task, a pair, a ward) or of the user who acted; an entry
    with neither (a failed login with an unknown name, the nightly run) is national.
    """
    if not actor.is_reviewer:
        return false()
    return actor.scope.condition(None, AuditEntry.province_code)


def require_reviewer(actor: Actor) -> None:
    if not actor.is_reviewer:
        raise AccessDenied("Chỉ cán bộ quản lý dữ liệu mới được xem xét cặp bản ghi.")
