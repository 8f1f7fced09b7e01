"""Login throttling kept in the store: exponential back-off per (user name, client), never a lockout.

Keys: (user name, client address) — an attacker's wrong guesses delay only the attacker's own client, not the real
user at another address — and (any name, client address) with a larger allowance, against one client trying a
password on many names (ward accounts have predictable names). The client is the real one: behind a reverse proxy,
the console takes it from ``X-Forwarded-For`` only when the peer is a configured trusted proxy.

Back-off: the first ``free_failures`` failures cost nothing; after that each failure makes the key wait
``first_delay`` × 2^(failures − free_failures), at most ``max_delay``. A key forgets its failures ``forget_after`` its
last one, and a successful login clears its (user, client) key.

Atomic across worker processes and restarts: ``begin_attempt`` counts the attempt as a failure *before* the password
is checked, in one short write transaction (PostgreSQL: the key rows locked ``FOR UPDATE``; SQLite: ``BEGIN
IMMEDIATE`` serializes writers), so of many parallel guesses only the allowance is ever checked; ``succeeded``
takes the count back for the right password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from corrections.models import LoginThrottle

__all__ = ["ANY_USER", "Attempt", "ThrottlePolicy", "begin_attempt", "succeeded"]

ANY_USER = ""
"""The user-name part of the per-client key (real user names are never empty)."""


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_failures: int = 5
    free_client_failures: int = 50
    first_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=1)

    def delay(self, failures: int, free: int) -> timedelta:
        if failures < free:
            return timedelta(0)
        return min(self.first_delay * 2 ** min(failures - free, 30), self.max_delay)


@dataclass(frozen=True, slots=True)
class Attempt:
    allowed: bool
    retry_after: timedelta = timedelta(0)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _insert_missing(session: Session, username: str, client: str, now: datetime) -> None:
    values: dict[str, Any] = {
        "username": username,
        "client": client,
        "failures": 0,
        "last_failure_at": now,
        "blocked_until": now,
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(LoginThrottle).values(**values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(LoginThrottle).values(**values).on_conflict_do_nothing())


def _locked(session: Session, username: str, client: str, now: datetime, policy: ThrottlePolicy) -> LoginThrottle:
    _insert_missing(session, username, client, now)
    row = session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.username == username, LoginThrottle.client == client)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if now - _aware(row.last_failure_at) > policy.forget_after:
        row.failures = 0
        row.blocked_until = now
    return row


def _keys(username: str, client: str) -> list[tuple[str, str]]:
    # Locked in one order in every transaction, so two attempts never wait on each other's second row (deadlock).
    return sorted({(username[:64], client[:64]), (ANY_USER, client[:64])})


def begin_attempt(
    session: Session, username: str, client: str, *, now: datetime, policy: ThrottlePolicy | None = None
) -> Attempt:
    """Whether a login for ``username`` from ``client`` may be checked now; if so it is counted as a failure.

    Run it in a write transaction of its own and commit before checking the password (a slow hash must not hold the
    rows locked); call ``succeeded`` when the password was right.
    """
    policy = policy or ThrottlePolicy()
    rows = [_locked(session, user, address, now, policy) for user, address in _keys(username, client)]
    waits = [_aware(row.blocked_until) - now for row in rows]
    if max(waits) > timedelta(0):
        return Attempt(False, max(waits))
    for row in rows:
        free = policy.free_client_failures if row.username == ANY_USER else policy.free_failures
        row.failures += 1
        row.last_failure_at = now
        row.blocked_until = now + policy.delay(row.failures, free)
    return Attempt(True)


def succeeded(
    session: Session, username: str, client: str, *, now: datetime, policy: ThrottlePolicy | None = None
) -> None:
    """The password was right: forget the (user, client) failures and take this attempt back from the client's."""
    policy = policy or ThrottlePolicy()
    for user, address in _keys(username, client):
        row = _locked(session, user, address, now, policy)
        if user == ANY_USER:
            row.failures = max(0, row.failures - 1)
            if row.failures < policy.free_client_failures:
                row.blocked_until = min(_aware(row.blocked_until), now)
        else:
            session.delete(row)
