"""Console accounts and sessions: scrypt-hashed passwords, server-side sessions that expire, per-session CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from corrections import audit
from corrections.access import Actor
from corrections.db import utcnow
from corrections.models import ROLES, ConsoleSession, Task, User

__all__ = [
    "DEMO_PASSWORD",
    "AuthenticatedSession",
    "DemoAccount",
    "SessionPolicy",
    "authenticate",
    "close_session",
    "create_user",
    "ensure_demo_accounts",
    "hash_password",
    "load_session",
    "open_session",
    "touch_session",
    "verify_password",
]

_SCRYPT: Final = {"n": 2**14, "r": 8, "p": 1}
DEMO_PASSWORD: Final = "dancu-demo-2025"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(candidate.hex(), digest)


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
) -> User:
    if role not in ROLES:
        raise ValueError(f"vai trò không hợp lệ: {role!r}")
    if role == "ward_officer" and not ward_code:
        raise ValueError("cán bộ xã/phường phải gắn với một mã xã/phường")
    if len(password) < 8:
        raise ValueError("mật khẩu phải có ít nhất 8 ký tự")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        ward_code=ward_code,
        province_code=province_code,
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str, *, client: str | None = None) -> User | None:
    """The active user with these credentials, or None; both outcomes are audited."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        verify_password(password, _DUMMY_HASH)
        audit.record(session, username[:64] or "?", "login_failed", client=client)
        return None
    if not verify_password(password, user.password_hash):
        audit.record(session, user.username, "login_failed", client=client)
        return None
    audit.record(session, user.username, "login", ward_code=user.ward_code, client=client)
    return user


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """Idle timeout (sliding) and absolute lifetime of a console session."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(minutes=1)


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
    # Sliding the expiry on every request would write on every page view; once a minute is enough.
    touch = now - _aware(row.last_seen_at) >= policy.touch_every
    actor = Actor(row.id, row.username, row.display_name, row.role, row.ward_code, row.province_code)
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


def ensure_demo_accounts(session: Session, ward_names: dict[str, str] | None = None) -> list[DemoAccount]:
    """Create (or reset) the demo accounts for the wards that have tasks, deterministically.

    An admin; a data officer for the province with the most tasks; a ward officer for each of the two wards with
    the most open tasks (two, so the isolation between wards can be tried). Passwords are reset to
    ``DEMO_PASSWORD`` so the printed credentials always work.
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
    accounts = [DemoAccount("quantri", DEMO_PASSWORD, "admin", "Quản trị hệ thống", None, None)]
    if province is not None:
        accounts.append(
            DemoAccount(
                f"dulieu.{province[0]}", DEMO_PASSWORD, "data_officer", "Cán bộ quản lý dữ liệu tỉnh", None, province[0]
            )
        )
    for ward_code, province_code, _count in wards:
        name = ward_names.get(ward_code, ward_code)
        accounts.append(
            DemoAccount(
                f"congan.{ward_code}", DEMO_PASSWORD, "ward_officer", f"Công an {name}", ward_code, province_code
            )
        )
    for account in accounts:
        user = session.scalar(select(User).where(User.username == account.username))
        if user is None:
            create_user(
                session,
                account.username,
                account.password,
                account.role,
                display_name=account.display_name,
                ward_code=account.ward_code,
                province_code=account.province_code,
            )
        else:
            user.password_hash = hash_password(account.password)
            user.role = account.role
            user.ward_code = account.ward_code
            user.province_code = account.province_code
            user.display_name = account.display_name
            user.active = True
    return accounts
