"""Connecting to the task store: SQLite (embedded default) or PostgreSQL (production), migrated by Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

__all__ = ["is_current", "make_engine", "migrate", "session_scope", "store_engine", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the console read while the nightly run writes; the busy timeout queues writers instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # A deferred BEGIN that reads and then writes fails at once (no busy wait) when another writer committed in
    # between; write sessions take the write lock up front with BEGIN IMMEDIATE so they queue on the busy timeout.
    # Read sessions stay deferred so readers never wait on writers (WAL).
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(database_url: str, **options: Any) -> Engine:
    """An engine for ``database_url`` with the settings the task store relies on."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    options.setdefault("pool_pre_ping", True)
    if url.get_driver_name() == "psycopg2":
        # The nightly upsert updates thousands of rows with executemany: batch them instead of one round trip each.
        options.setdefault("executemany_mode", "values_plus_batch")
    return create_engine(url, **options)


@cache
def store_engine(database_url: str) -> Engine:
    """One shared, migrated engine per URL for long-lived processes (console, nightly asset)."""
    engine = make_engine(database_url)
    migrate(engine)
    return engine


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("corrections").joinpath("migrations")))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database to the newest schema, or up to ``revision`` (idempotent; safe on an existing store)."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session committed on success and rolled back on error; ``write=True`` for sessions that change data."""
    bind = engine.execution_options(sqlite_immediate=True) if write and engine.dialect.name == "sqlite" else engine
    session = Session(bind=bind, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
