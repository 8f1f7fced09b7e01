"""The console's connection pool: migrated on start, pinging a pooled connection only after it sat idle."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event, exc
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from corrections.db import make_engine, migrate

__all__ = ["PING_AFTER_IDLE_SECONDS", "console_engine", "read_only"]

PING_AFTER_IDLE_SECONDS = 30.0


def console_engine(database_url: str) -> Engine:
    """The console's engine: migrated, pinging a pooled connection only after it sat idle.

    A ping on every checkout (``pool_pre_ping``) costs a round trip per page view; a connection in steady use is known
    to be alive, while one that sat idle may have been cut (server restart, idle timeout), so only those are checked.
    """
    engine = make_engine(database_url, pool_pre_ping=False)
    migrate(engine)

    @event.listens_for(engine, "checkin")
    def _remember_checkin(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        idle_since = record.info.get("checked_in_at")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            # The dialect's ping leaves no transaction open (psycopg2 would otherwise BEGIN before the SELECT 1).
            engine.dialect.do_ping(dbapi)
        except Exception as error:
            # The pool discards this connection and checks out (or opens) another one.
            raise exc.DisconnectionError(str(error)) from error

    return engine


def read_only(engine: Engine) -> Engine:
    """The engine pages that only read go through.

    On PostgreSQL they run without BEGIN/COMMIT: two round trips fewer per page view. Each statement sees its own
    snapshot, which a list view tolerates (a count may be a moment older than the rows shown).
    """
    return engine.execution_options(isolation_level="AUTOCOMMIT") if engine.dialect.name == "postgresql" else engine
