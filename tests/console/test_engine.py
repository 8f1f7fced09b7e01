"""The console's connection pool: pooled connections are pinged only after sitting idle, and a dead one is replaced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from console import engine as console_engine_module


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    created = console_engine_module.console_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    yield created
    created.dispose()


def count_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch, *, fail_first: bool = False) -> list[Any]:
    pinged: list[Any] = []
    original = engine.dialect.do_ping

    def ping(dbapi_connection: Any) -> bool:
        pinged.append(dbapi_connection)
        if fail_first and len(pinged) == 1:
            raise engine.dialect.loaded_dbapi.OperationalError("server closed the connection unexpectedly")
        return original(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", ping)
    return pinged


def dbapi_of(engine: Engine) -> Any:
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
        return connection.connection.dbapi_connection


def test_connection_in_steady_use_is_not_pinged(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pinged = count_pings(engine, monkeypatch)
    first = dbapi_of(engine)
    assert dbapi_of(engine) is first
    assert dbapi_of(engine) is first
    assert pinged == []


def test_idle_connection_is_pinged_and_kept_when_alive(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pinged = count_pings(engine, monkeypatch)
    first = dbapi_of(engine)
    monkeypatch.setattr(console_engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert dbapi_of(engine) is first
    assert pinged == [first]


def test_dead_idle_connection_is_replaced(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pinged = count_pings(engine, monkeypatch, fail_first=True)
    first = dbapi_of(engine)
    monkeypatch.setattr(console_engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    replaced = dbapi_of(engine)
    assert pinged[0] is first
    assert replaced is not first
