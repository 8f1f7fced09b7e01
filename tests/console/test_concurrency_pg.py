"""Twenty officers claiming from one queue at once on a real PostgreSQL server: every task claimed exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from corrections import lifecycle
from corrections.access import Actor
from corrections.build import build_drafts
from corrections.db import make_engine, migrate, session_scope
from corrections.lifecycle import TaskConflict
from corrections.models import Task, TaskEvent
from corrections.nightly import apply_night
from tests.console.conftest import reset_postgres
from tests.console.factories import finding, findings_frame, pairs_frame, record, records_frame, ward_provinces, wards

OFFICERS = 20
TASKS = 300

pytestmark = pytest.mark.postgres


def test_twenty_officers_claim_each_task_exactly_once(postgres_url: str) -> None:
    reset_postgres(postgres_url)
    engine = make_engine(postgres_url, pool_size=OFFICERS, max_overflow=0)
    migrate(engine)
    ward = wards(1)[0]
    ids = [f"R{i:04d}" for i in range(TASKS)]
    findings = findings_frame(
        [finding(i, "not_verified_recently", "sống", ward, "Chưa xác minh", severity="warning") for i in ids]
    )
    drafts = build_drafts(
        date(2025, 7, 2),
        findings,
        pairs_frame([]),
        [records_frame([record(i, ward) for i in ids])],
        ward_provinces=ward_provinces(),
    )
    assert apply_night(engine, drafts).created == TASKS
    officers = [Actor(i, f"congan.{i:02d}", f"Cán bộ {i}", "ward_officer", ward, None) for i in range(OFFICERS)]
    claimed: dict[str, list[int]] = {o.username: [] for o in officers}
    errors: list[BaseException] = []
    start = threading.Barrier(OFFICERS)

    def work(officer: Actor) -> None:
        try:
            start.wait()
            while True:
                with session_scope(engine, write=True) as session:
                    task = lifecycle.claim_next(session, officer)
                    if task is None:
                        return
                    claimed[officer.username].append(task.id)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(o,)) for o in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    all_claims = [task_id for claims in claimed.values() for task_id in claims]
    assert len(all_claims) == TASKS  # none lost
    assert len(set(all_claims)) == TASKS  # none claimed twice
    assert sum(1 for claims in claimed.values() if claims) > 1  # the work really was spread across officers
    with session_scope(engine) as session:
        rows = session.execute(select(Task.id, Task.state, Task.assignee)).all()
        assert {r.state for r in rows} == {"in_progress"}
        owner = {task_id: name for name, claims in claimed.items() for task_id in claims}
        assert all(owner[r.id] == r.assignee for r in rows)
        events = Counter(session.scalars(select(TaskEvent.task_id).where(TaskEvent.action == "claimed")))
        assert len(events) == TASKS and set(events.values()) == {1}
    engine.dispose()


def test_twenty_officers_racing_for_one_task(postgres_url: str) -> None:
    reset_postgres(postgres_url)
    engine = make_engine(postgres_url, pool_size=OFFICERS, max_overflow=0)
    migrate(engine)
    ward = wards(1)[0]
    findings = findings_frame([finding("R1", "card_expired", "sống", ward, "Thẻ hết hạn")])
    apply_night(
        engine,
        build_drafts(
            date(2025, 7, 2),
            findings,
            pairs_frame([]),
            [records_frame([record("R1", ward)])],
            ward_provinces=ward_provinces(),
        ),
    )
    with session_scope(engine) as session:
        target = session.scalar(select(func.min(Task.id)))
    assert target is not None
    officers = [Actor(i, f"congan.{i:02d}", f"Cán bộ {i}", "ward_officer", ward, None) for i in range(OFFICERS)]
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(OFFICERS)

    def race(officer: Actor) -> None:
        start.wait()
        try:
            with session_scope(engine, write=True) as session:
                lifecycle.claim(session, officer, target)
            result = "won"
        except TaskConflict:
            result = "lost"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=race, args=(o,)) for o in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["lost"] * (OFFICERS - 1) + ["won"]
    engine.dispose()
