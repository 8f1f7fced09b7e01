"""Fixtures of the console tests: a seeded task store (SQLite or PostgreSQL) and a live console server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, text

from console.app import create_app
from corrections.auth import SessionPolicy, create_user
from corrections.build import NightDrafts
from corrections.db import make_engine, migrate, session_scope
from corrections.models import Base
from corrections.nightly import apply_night
from tests.console.factories import finding, findings_frame, night_drafts, pairs_frame, record, records_frame, wards

PASSWORD = "mat-khau-thu-nghiem"
NIGHT = date(2025, 7, 2)
TODAY = date(2025, 7, 3)


@dataclass(frozen=True)
class Scenario:
    url: str
    engine: Engine
    ward_a: str
    ward_b: str
    province: str


def scenario_night() -> tuple[list[str], NightDrafts]:
    """Ward A: an ID/birth-year mismatch, a duplicate pair (with its match explanation), an expired card, a missing
    field; ward B: an unresolved address and a record not verified recently; one pair in the review band."""
    ward_a, ward_b, _ = wards(3)
    rows = [
        record("B-001", ward_a, person_id="001090000101", full_name="Nguyễn Văn An", birth_date="1991-05-17"),
        record("B-002", ward_a, person_id="001090000102", full_name="Nguyễn Văn An", birth_date="1990-05-17"),
        record(
            "B-003",
            ward_a,
            person_id="001185000103",
            full_name="Lê Thị Hoa",
            sex="Nữ",
            birth_date="1985-02-01",
            card_expiry_date="2025-02-01",
        ),
        record("B-004", ward_a, person_id="001070000104", full_name="Phạm Văn Hùng", birth_date="1970-09-09"),
        record(
            "B-005",
            ward_b,
            person_id="001300000105",
            full_name="Trần Thị Bình",
            sex="Nữ",
            birth_date="2000-01-01",
            permanent_address="Thôn Đông, xã không rõ",
        ),
        record("B-006", ward_b, person_id="001065000106", full_name="Đỗ Minh Khôi", birth_date="1965-03-03"),
        record(
            "X-007",
            ward_b,
            person_id="001300000115",
            full_name="Trần Thị Bính",
            sex="Nữ",
            birth_date="2000-01-01",
            source="residence",
        ),
    ]
    findings = findings_frame(
        [
            finding(
                "B-001", "id_birth_year_mismatch", "đúng", ward_a, "Số định danh ghi năm sinh 1990, bản ghi ghi 1991"
            ),
            finding("B-001", "duplicate_person", "sạch", ward_a, "Có thể trùng với bản ghi B-002", ["B-002"]),
            finding("B-002", "duplicate_person", "sạch", ward_a, "Có thể trùng với bản ghi B-001", ["B-001"]),
            finding(
                "B-003", "card_expired", "sống", ward_a, "Thẻ căn cước hết hạn ngày 01/02/2025", severity="warning"
            ),
            finding("B-004", "required_field_missing", "đủ", ward_a, "Thiếu Dân tộc", severity="warning"),
            finding("B-005", "address_unresolved", "đúng", ward_b, "Không xác định được xã/phường của nơi thường trú"),
            finding("B-006", "not_verified_recently", "sống", ward_b, "Chưa xác minh từ năm 2019", severity="warning"),
        ]
    )
    pairs = pairs_frame([("B-001", "B-002", 0.997, "match"), ("B-005", "X-007", 0.62, "review")])
    return [ward_a, ward_b], night_drafts(NIGHT, findings, pairs, records_frame(rows))


def seed(url: str) -> Scenario:
    engine = make_engine(url)
    migrate(engine)
    (ward_a, ward_b), drafts = scenario_night()
    apply_night(engine, drafts)
    province = drafts.tasks[0].province_code
    assert province is not None
    with session_scope(engine, write=True) as session:
        create_user(
            session,
            "congan.a",
            PASSWORD,
            "ward_officer",
            display_name="Công an phường A",
            ward_code=ward_a,
            province_code=province,
        )
        create_user(
            session,
            "congan.b",
            PASSWORD,
            "ward_officer",
            display_name="Công an phường B",
            ward_code=ward_b,
            province_code=province,
        )
        create_user(session, "dulieu", PASSWORD, "data_officer", display_name="Cán bộ dữ liệu", province_code=province)
        create_user(session, "quantri", PASSWORD, "admin", display_name="Quản trị")
    return Scenario(url, engine, ward_a, ward_b, province)


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Scenario]:
    scenario = seed(sqlite_url)
    yield scenario
    scenario.engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The console served by uvicorn in a thread on a free loopback port."""

    def __init__(
        self, url: str, policy: SessionPolicy | None = None, *, app: FastAPI | None = None, **options: Any
    ) -> None:
        """``options``: further ``console.settings.ConsoleSettings`` fields (production, trusted_proxies, clock...);
        ``app``: serve this app instead of building one."""
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        app = app or create_app(url, policy=policy, today=lambda: TODAY, **options)
        # As ``dancu console`` serves it: uvicorn's own proxy handling off, the app's trusted proxies decide.
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", proxy_headers=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("console server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live(store: Scenario) -> Iterator[LiveServer]:
    with LiveServer(store.url) as server:
        yield server
