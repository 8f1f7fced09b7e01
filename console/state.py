"""What every route of one console app shares: the store, the settings, the ward directory, the templates."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

import polars as pl
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from console.settings import ConsoleSettings
from corrections.auth import SessionPolicy
from corrections.db import session_scope
from normalize import units

__all__ = ["WARD_LIST_TTL_SECONDS", "Console", "TtlCache", "Wards"]

WARD_LIST_TTL_SECONDS = 60.0

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """A small thread-safe cache whose entries live ``seconds``."""

    def __init__(self, seconds: float, max_entries: int = 1024) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
        if found is not None and found[0] > now:
            return found[1]
        value = compute()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now + self.seconds, value)
        return value


@dataclass(frozen=True)
class Wards:
    """The current (post-2025) wards and provinces, by code."""

    table: pl.DataFrame
    ward_names: dict[str, str]
    province_names: dict[str, str]
    ward_provinces: dict[str, str]

    @classmethod
    def current(cls) -> Wards:
        table = units.current_wards()
        codes = table.get_column("ward_code").to_list()
        provinces = table.get_column("province_code").to_list()
        return cls(
            table,
            dict(zip(codes, table.get_column("ward_name").to_list(), strict=True)),
            dict(zip(provinces, table.get_column("province_name").to_list(), strict=False)),
            dict(zip(codes, provinces, strict=True)),
        )


@dataclass
class Console:
    engine: Engine
    reader: Engine
    """``engine`` for pages that only read (autocommit on PostgreSQL, see ``console.engine.read_only``)."""
    settings: ConsoleSettings
    today: Callable[[], date]
    wards: Wards
    templates: Jinja2Templates
    ward_lists: TtlCache[tuple[object, ...], list[str]] = field(
        default_factory=lambda: TtlCache(seconds=WARD_LIST_TTL_SECONDS)
    )
    """The ward filter's choices change at most nightly: read once a minute, not on every page."""

    @property
    def policy(self) -> SessionPolicy:
        return self.settings.session_policy

    @property
    def secure_cookies(self) -> bool:
        return self.settings.https

    def cookie_name(self, name: str) -> str:
        """``name`` with the ``__Host-`` prefix when cookies are secure: a browser then accepts the cookie only from
        this host over HTTPS, with ``Path=/`` and no ``Domain``, so a sibling subdomain cannot plant or shadow it."""
        return f"__Host-{name}" if self.secure_cookies else name

    def now(self) -> datetime:
        return self.settings.clock()

    @contextmanager
    def db(self, *, write: bool = False) -> Iterator[Session]:
        with session_scope(self.engine if write else self.reader, write=write) as session:
            yield session
