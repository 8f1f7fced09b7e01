"""Console accounts and sessions: Argon2id-hashed passwords under a policy (``corrections.passwords``), server-side
sessions that expire, per-session CSRF tokens, and the demo accounts that exist only outside production."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from corrections import audit
from corrections.access import Actor
from corrections.db import utcnow
from corrections.models import ROLES, ConsoleSession, Task, User
from corrections.passwords import (
    DEMO_PASSWORD,
    WeakPassword,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)

__all__ = [
    "DEMO_PASSWORD",
    "AuthenticatedSession",
    "DemoAccount",
    "DemoSeeding",
    "SessionPolicy",
    "WeakPassword",
    "authenticate",
    "close_session",
    "create_user",
    "disable_demo_accounts",
    "ensure_demo_accounts",
    "hash_password",
    "load_session",
    "open_session",
    "province_of",
    "touch_session",
    "verify_password",
]

# Verifying against a fixed hash when the user does not exist keeps the response time the same either way.
_DUMMY_HASH: Final = hash_password(secrets.token_hex(8))


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str,
    ward_code: str | None = None,
    province_code: str | None = None,
    national: bool = False,
) -> User:
    """A new account with an explicit scope: a ward officer one ward, a data officer one province or (``national``)
    the whole country; the password must meet the policy (``corrections.passwords.check_password``)."""
    if role not in ROLES:
        raise ValueError(f"vai trò không hợp lệ: {role!r}")
    if role == "ward_officer" and not ward_code:
        raise ValueError("cán bộ xã/phường phải gắn với một mã xã/phường")
    if role == "data_officer" and bool(province_code) == national:
        raise ValueError(
            "cán bộ quản lý dữ liệu phải có phạm vi rõ ràng: một mã tỉnh (--province) hoặc toàn quốc (--national)"
        )
    if role == "ward_officer" and national:
        raise ValueError("cán bộ xã/phường không có phạm vi toàn quốc")
    check_password(password, role=role, username=username, other_inputs=display_name.split())
    return _add_user(session, username, password, role, display_name, ward_code, province_code, national)


def _add_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    display_name: str,
    ward_code: str | None,
    province_code: str | None,
    national: bool,
    *,
    demo: bool = False,
) -> User:
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        ward_code=ward_code,
        province_code=None if national else province_code,
        national=national or role == "admin",
        demo=demo,
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(
    session: Session, username: str, password: str, *, client: str | None = None, accept_demo: bool = True
) -> User | None:
    """The active user with these credentials, or None; every outcome is audited.

    ``accept_demo=False`` (production) refuses the demo accounts and the published demo password whatever the account.
    A hash of an older scheme or weaker parameters is replaced on success, in the same transaction.
    """
    user = session.scalar(select(User).where(User.username == username))
    name = username[:64] or "?"
    if user is None or not user.active:
        verify_password(password, _DUMMY_HASH)
        audit.record(session, name, "login_failed", client=client, province_code=user.province_code if user else None)
        return None
    if not accept_demo and (user.demo or password == DEMO_PASSWORD):
        verify_password(password, _DUMMY_HASH)
        audit.record(session, user.username, "login_demo_refused", client=client, province_code=user.province_code)
        return None
    if not verify_password(password, user.password_hash):
        audit.record(session, user.username, "login_failed", client=client, province_code=user.province_code)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(
        session, user.username, "login", ward_code=user.ward_code, province_code=user.province_code, client=client
    )
    return user


def province_of(session: Session, username: str) -> str | None:
    """The province an account belongs to (None: unknown name, or national): whose audit entries its logins are."""
    row = session.execute(select(User.province_code, User.national).where(User.username == username)).first()
    return None if row is None or row.national else row.province_code


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """Idle timeout (sliding) and absolute lifetime of a console session."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(minutes=1)
    accept_demo: bool = True
    """False in production: a session of a demo account (opened before the switch) is not live."""


@dataclass(frozen=True, slots=True)
class AuthenticatedSession:
    actor: Actor
    csrf_token: str
    needs_touch: bool = False
    """The idle expiry should slide (``touch_session``); kept out of the read path so page views stay read-only."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def open_session(session: Session, user: User, policy: SessionPolicy) -> tuple[str, str]:
    """Create a session for ``user``; returns (cookie token, CSRF token). Expired sessions are swept here."""
    now = utcnow()
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.idle,
        )
    )
    return token, csrf


_SESSION_LOOKUP = (
    select(
        ConsoleSession.created_at,
        ConsoleSession.expires_at,
        ConsoleSession.last_seen_at,
        ConsoleSession.csrf_token,
        User.id,
        User.username,
        User.display_name,
        User.role,
        User.ward_code,
        User.province_code,
        User.active,
        User.national,
        User.demo,
    )
    .join(User, User.id == ConsoleSession.user_id)
    .where(ConsoleSession.token_hash == bindparam("token_hash"))
)


def load_session(session: Session, token: str | None, policy: SessionPolicy) -> AuthenticatedSession | None:
    """The live session for a cookie token, or None when missing or expired (read-only)."""
    if not token:
        return None
    # Plain columns rather than two ORM entities: this runs on every page view.
    row = session.execute(_SESSION_LOOKUP, {"token_hash": _token_hash(token)}).first()
    if row is None:
        return None
    now = utcnow()
    created = _aware(row.created_at)
    if _aware(row.expires_at) <= now or created + policy.absolute <= now or not row.active:
        return None
    if row.demo and not policy.accept_demo:
        return None
    # Sliding the expiry on every request would write on every page view; once a minute is enough.
    touch = now - _aware(row.last_seen_at) >= policy.touch_every
    actor = Actor(
        row.id, row.username, row.display_name, row.role, row.ward_code, row.province_code, bool(row.national)
    )
    return AuthenticatedSession(actor, row.csrf_token, touch)


def touch_session(session: Session, token: str, policy: SessionPolicy) -> None:
    """Slide the idle expiry of a live session (capped by its absolute lifetime)."""
    row = session.get(ConsoleSession, _token_hash(token))
    if row is None:
        return
    now = utcnow()
    row.last_seen_at = now
    row.expires_at = min(now + policy.idle, _aware(row.created_at) + policy.absolute)


def close_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _token_hash(token)))


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    password: str
    role: str
    display_name: str
    ward_code: str | None
    province_code: str | None


@dataclass(frozen=True, slots=True)
class DemoSeeding:
    accounts: list[DemoAccount]
    """The demo accounts that now exist with the published password."""
    kept: list[str]
    """Names a demo account would take that belong to real (non-demo) accounts: left exactly as they are."""


def ensure_demo_accounts(session: Session, ward_names: dict[str, str] | None = None) -> DemoSeeding:
    """Create (or reset) the demo accounts for the wards that have tasks, deterministically. Never in production.

    An admin; a data officer for the province with the most tasks; a ward officer for each of the two wards with
    the most open tasks (two, so the isolation between wards can be tried). They are marked ``demo`` and their
    passwords reset to ``DEMO_PASSWORD`` so the printed credentials always work; an account of the same name that is
    not a demo account (created with ``--add-user``, its password changed) is never touched.
    """
    ward_names = ward_names or {}
    wards = session.execute(
        select(Task.ward_code, Task.province_code, func.count())
        .where(Task.state.in_(("open", "in_progress")), Task.ward_code.is_not(None))
        .group_by(Task.ward_code, Task.province_code)
        .order_by(func.count().desc(), Task.ward_code)
        .limit(2)
    ).all()
    province = session.execute(
        select(Task.province_code, func.count())
        .where(Task.province_code.is_not(None))
        .group_by(Task.province_code)
        .order_by(func.count().desc(), Task.province_code)
        .limit(1)
    ).first()
    wanted = [DemoAccount("quantri", DEMO_PASSWORD, "admin", "Quản trị hệ thống", None, None)]
    if province is not None:
        wanted.append(
            DemoAccount(
                f"dulieu.{province[0]}", DEMO_PASSWORD, "data_officer", "Cán bộ quản lý dữ liệu tỉnh", None, province[0]
            )
        )
    for ward_code, province_code, _count in wards:
        name = ward_names.get(ward_code, ward_code)
        wanted.append(
            DemoAccount(
                f"congan.{ward_code}", DEMO_PASSWORD, "ward_officer", f"Công an {name}", ward_code, province_code
            )
        )
    accounts: list[DemoAccount] = []
    kept: list[str] = []
    for account in wanted:
        user = session.scalar(select(User).where(User.username == account.username))
        if user is None:
            _add_user(
                session,
                account.username,
                account.password,
                account.role,
                account.display_name,
                account.ward_code,
                account.province_code,
                False,
                demo=True,
            )
        elif not user.demo:
            kept.append(account.username)
            continue
        else:
            user.password_hash = hash_password(account.password)
            user.role = account.role
            user.ward_code = account.ward_code
            user.province_code = account.province_code
            user.display_name = account.display_name
            user.national = account.role == "admin"
            user.active = True
        accounts.append(account)
    return DemoSeeding(accounts, kept)


def disable_demo_accounts(session: Session, *, reason: str) -> list[str]:
    """Deactivate every demo account still active (and end its sessions); returns their names, audited."""
    names = list(session.scalars(select(User.username).where(User.demo.is_(True), User.active.is_(True))))
    if not names:
        return []
    session.execute(update(User).where(User.demo.is_(True)).values(active=False))
    demo_ids = select(User.id).where(User.demo.is_(True)).scalar_subquery()
    session.execute(delete(ConsoleSession).where(ConsoleSession.user_id.in_(demo_ids)))
    audit.record(session, audit.SYSTEM_ACTOR, "demo_accounts_disabled", detail=f"{reason}: {', '.join(names)}")
    return names
