"""The task store: migrations, the nightly upsert (idempotence, auto-close, reopen, suppression), the lifecycle,
access scopes, review labels and the Excel export — on SQLite, and the nightly rules on PostgreSQL too."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import openpyxl
import polars as pl
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from corrections import lifecycle, queries, reviews
from corrections.access import AccessDenied, Actor
from corrections.auth import authenticate, hash_password, verify_password
from corrections.build import task_fingerprint
from corrections.db import is_current, make_engine, migrate, session_scope
from corrections.export import EXPORT_HEADERS, export_ward_tasks
from corrections.lifecycle import QueueFilter, TaskConflict, TaskNotFound
from corrections.models import AuditEntry, Base, NightRun, ReviewItem, Task, TaskEvent, User
from corrections.nightly import apply_night
from corrections.queries import Cursor
from tests.console.conftest import NIGHT, PASSWORD, Scenario, reset_postgres, scenario_night, seed
from tests.console.factories import finding, findings_frame, night_drafts, pairs_frame, record, records_frame, wards


def actor(scenario: Scenario, username: str) -> Actor:
    with session_scope(scenario.engine) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return Actor.of(user)


def task_states(scenario: Scenario) -> dict[tuple[str, tuple[str, ...]], tuple[str, str | None]]:
    with session_scope(scenario.engine) as session:
        return {(t.rule, tuple(t.record_ids)): (t.state, t.resolution) for t in session.scalars(select(Task))}


def task_id(scenario: Scenario, rule: str) -> int:
    with session_scope(scenario.engine) as session:
        found = session.scalar(select(Task.id).where(Task.rule == rule))
        assert found is not None
        return found


def rerun_without(scenario: Scenario, night: date, *, drop_rules: set[str]) -> None:
    """Apply ``night`` with the scenario's findings minus ``drop_rules`` (those defects were fixed)."""
    _, drafts = scenario_night()
    kept = [t for t in drafts.tasks if t.rule not in drop_rules]
    apply_night(scenario.engine, type(drafts)(night, drafts.findings, kept, drafts.reviews, drafts.snapshots))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Scenario]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/store.sqlite"
    else:
        url = request.getfixturevalue("postgres_url")
        reset_postgres(url)
    scenario = seed(url)
    yield scenario
    scenario.engine.dispose()


def test_migrations_match_the_models(store: Scenario) -> None:
    assert is_current(store.engine)
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    migrate(store.engine)  # a second upgrade is a no-op
    assert is_current(store.engine)


def test_tasks_carry_what_the_officer_needs(store: Scenario) -> None:
    with session_scope(store.engine) as session:
        duplicate = session.scalar(select(Task).where(Task.rule == "duplicate_person"))
        assert duplicate is not None
        # Found from both sides (B-001 -> B-002 and B-002 -> B-001): one task.
        assert session.scalar(select(func.count()).where(Task.rule == "duplicate_person")) == 1
        assert duplicate.record_ids == ["B-001", "B-002"]
        assert duplicate.fingerprint == task_fingerprint("duplicate_person", ["B-002", "B-001"])
        assert duplicate.task_type == "duplicate" and duplicate.priority == 1
        assert duplicate.ward_code == store.ward_a and duplicate.province_code == store.province
        assert duplicate.due_date == NIGHT + timedelta(days=7)
        assert "Giải thích ghép nối B-001 – B-002" in duplicate.description
        assert "99,7%" in duplicate.description
        assert duplicate.explanation is not None and duplicate.explanation[0]["match_probability"] == 0.997
        # The records differ on birth date and ID: both highlighted.
        assert {"birth_date", "person_id"} <= set(duplicate.problem_fields)
        expired = session.scalar(select(Task).where(Task.rule == "card_expired"))
        assert expired is not None and expired.priority == 3 and expired.task_type == "update"
        assert "card_expiry_date" in expired.problem_fields
        events = session.scalars(select(TaskEvent.action).where(TaskEvent.task_id == duplicate.id)).all()
        assert events == ["created"]


def test_same_night_twice_gives_the_same_tasks(any_store: Scenario) -> None:
    before = task_states(any_store)
    _, drafts = scenario_night()
    summary = apply_night(any_store.engine, drafts)
    assert task_states(any_store) == before
    assert summary.created == 0 and summary.auto_closed == 0 and summary.reopened == 0
    assert summary.tasks_seen == len(before) == 6
    with session_scope(any_store.engine) as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 6
        assert session.scalar(select(func.count()).select_from(ReviewItem)) == 1
        run = session.get(NightRun, NIGHT)
        assert run is not None and run.runs == 2 and run.created == 0


def test_fixed_defect_closes_and_returning_defect_reopens(any_store: Scenario) -> None:
    night2, night3 = NIGHT + timedelta(days=1), NIGHT + timedelta(days=2)
    rerun_without(any_store, night2, drop_rules={"card_expired"})
    states = task_states(any_store)
    assert states[("card_expired", ("B-003",))] == ("resolved", "defect_gone")
    assert states[("duplicate_person", ("B-001", "B-002"))] == ("open", None)
    with session_scope(any_store.engine) as session:
        closed = session.scalar(select(Task).where(Task.rule == "card_expired"))
        assert closed is not None and closed.resolved_by == "he-thong"
        actions = session.scalars(select(TaskEvent.action).where(TaskEvent.task_id == closed.id).order_by(TaskEvent.id))
        assert list(actions) == ["created", "auto_closed"]
    _, drafts = scenario_night()
    summary = apply_night(
        any_store.engine, type(drafts)(night3, drafts.findings, drafts.tasks, drafts.reviews, drafts.snapshots)
    )
    assert summary.reopened == 1 and summary.created == 0
    assert task_states(any_store)[("card_expired", ("B-003",))] == ("open", None)


def test_not_an_error_suppresses_later_nights(any_store: Scenario) -> None:
    officer = actor(any_store, "congan.a")
    target = task_id(any_store, "id_birth_year_mismatch")
    fixed = task_id(any_store, "required_field_missing")
    with session_scope(any_store.engine, write=True) as session:
        lifecycle.claim(session, officer, target)
        lifecycle.resolve(session, officer, target, "not_an_error", "Đã đối chiếu giấy khai sinh: đúng năm 1991")
        lifecycle.claim(session, officer, fixed)
        lifecycle.resolve(session, officer, fixed, "fixed_at_source", "Đã bổ sung dân tộc Kinh")
    # Same night again (the fix is not in this night's data yet): nothing reopens.
    _, drafts = scenario_night()
    apply_night(any_store.engine, drafts)
    states = task_states(any_store)
    assert states[("id_birth_year_mismatch", ("B-001",))] == ("resolved", "not_an_error")
    assert states[("required_field_missing", ("B-004",))] == ("resolved", "fixed_at_source")
    # Next night still shows both findings: the "not an error" stays suppressed, the "fixed" one comes back.
    summary = apply_night(
        any_store.engine,
        type(drafts)(NIGHT + timedelta(days=1), drafts.findings, drafts.tasks, drafts.reviews, drafts.snapshots),
    )
    states = task_states(any_store)
    assert states[("id_birth_year_mismatch", ("B-001",))] == ("resolved", "not_an_error")
    assert states[("required_field_missing", ("B-004",))] == ("open", None)
    assert summary.suppressed == 1 and summary.reopened == 1


def test_claim_conflicts_and_resolution_rules(store: Scenario) -> None:
    first, second = actor(store, "congan.a"), actor(store, "dulieu")
    target = task_id(store, "card_expired")
    with session_scope(store.engine, write=True) as session:
        lifecycle.claim(session, first, target)
    with pytest.raises(TaskConflict), session_scope(store.engine, write=True) as session:
        lifecycle.claim(session, second, target)
    with pytest.raises(ValueError), session_scope(store.engine, write=True) as session:
        lifecycle.resolve(session, first, target, "fixed_at_source", "  ")
    with pytest.raises(ValueError), session_scope(store.engine, write=True) as session:
        lifecycle.resolve(session, first, target, "defect_gone", "chỉ hệ thống được dùng")
    other_officer = Actor(999, "congan.khac", "Khác", "ward_officer", store.ward_a, store.province)
    with pytest.raises(AccessDenied), session_scope(store.engine, write=True) as session:
        lifecycle.release(session, other_officer, target)
    with session_scope(store.engine, write=True) as session:
        task = lifecycle.resolve(session, first, target, "fixed_at_source", "Đã cấp đổi thẻ mới")
        assert (task.state, task.resolved_by) == ("resolved", "congan.a")
    with session_scope(store.engine, write=True) as session:
        lifecycle.reopen(session, second, target, "Thẻ mới chưa được cập nhật")
    with session_scope(store.engine) as session:
        actions = list(
            session.scalars(select(TaskEvent.action).where(TaskEvent.task_id == target).order_by(TaskEvent.id))
        )
        assert actions == ["created", "claimed", "resolved", "reopened"]
        audited = list(session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(target))))
        assert audited == ["claim", "resolve", "reopen"]


def test_ward_officer_sees_only_own_ward(store: Scenario) -> None:
    officer_a, officer_b, officer = actor(store, "congan.a"), actor(store, "congan.b"), actor(store, "dulieu")
    in_b = task_id(store, "address_unresolved")
    with session_scope(store.engine) as session:
        page_a = queries.queue_page(session, officer_a, QueueFilter(state="open"))
        page_b = queries.queue_page(session, officer_b, QueueFilter(state="open"))
        page_all = queries.queue_page(session, officer, QueueFilter(state="open"))
        assert page_a.total == 4 and page_b.total == 2 and page_all.total == 6
        assert {r.id for r in page_a.rows}.isdisjoint({r.id for r in page_b.rows})
        # Most urgent first: the duplicate (priority 1) leads ward A's queue.
        assert page_a.rows[0].rule == "duplicate_person"
        assert page_a.by_quality == {"đúng": 1, "sạch": 1, "sống": 1, "đủ": 1}
        filtered = queries.queue_page(session, officer_a, QueueFilter(state="open", quality="sống"))
        assert [r.subject_record_id for r in filtered.rows] == ["B-003"] and filtered.total == 1
        assert queries.queue_page(session, officer_a, QueueFilter(state=None, search="Hoa")).total == 1
        with pytest.raises(TaskNotFound):
            lifecycle.get_task(session, officer_a, in_b)
        assert lifecycle.get_task(session, officer, in_b).ward_code == store.ward_b
    with pytest.raises(TaskNotFound), session_scope(store.engine, write=True) as session:
        lifecycle.claim(session, officer_a, in_b)
    with session_scope(store.engine, write=True) as session:
        claimed = lifecycle.claim_next(session, officer_b)
        assert claimed is not None and claimed.ward_code == store.ward_b and claimed.rule == "address_unresolved"


def test_review_decisions_become_labels(any_store: Scenario) -> None:
    officer, ward_officer = actor(any_store, "dulieu"), actor(any_store, "congan.b")
    with session_scope(any_store.engine) as session:
        pending = reviews.list_reviews(session, officer)
        assert [(i.left_id, i.right_id, i.ward_code) for i in pending] == [("B-005", "X-007", any_store.ward_b)]
        with pytest.raises(AccessDenied):
            reviews.list_reviews(session, ward_officer)
    assert reviews.load_labels(any_store.url).height == 0
    with session_scope(any_store.engine, write=True) as session:
        reviews.decide(session, officer, pending[0].id, "unsure", "Cần hỏi thêm")
    with session_scope(any_store.engine, write=True) as session:
        reviews.decide(session, officer, pending[0].id, "different", "Khác cha mẹ")
    labels = reviews.load_labels(any_store.url)
    assert labels.schema == reviews.LABEL_SCHEMA
    row = labels.row(0, named=True)
    assert (row["left_id"], row["right_id"], row["same_person"], row["decided_by"]) == (
        "B-005",
        "X-007",
        False,
        "dulieu",
    )
    assert row["decided_at"] is not None
    # The engine now decides the pair from the label; the next night has it out of the review band.
    _, drafts = scenario_night()
    summary = apply_night(
        any_store.engine, type(drafts)(NIGHT + timedelta(days=1), drafts.findings, drafts.tasks, [], drafts.snapshots)
    )
    assert summary.reviews_withdrawn == 0
    with session_scope(any_store.engine) as session:
        item = session.get(ReviewItem, pending[0].id)
        assert item is not None and (item.state, item.decision) == ("decided", "different")
        history = session.scalars(select(reviews.ReviewDecision.decision).order_by(reviews.ReviewDecision.id)).all()
        assert history == ["unsure", "different"]


def test_undecided_pair_leaving_the_band_is_withdrawn(store: Scenario) -> None:
    _, drafts = scenario_night()
    summary = apply_night(
        store.engine, type(drafts)(NIGHT + timedelta(days=1), drafts.findings, drafts.tasks, [], drafts.snapshots)
    )
    assert summary.reviews_withdrawn == 1
    with session_scope(store.engine) as session:
        assert session.scalars(select(ReviewItem.state)).all() == ["withdrawn"]


def test_passwords_are_hashed_and_checked(store: Scenario) -> None:
    stored = hash_password("bí mật 123")
    assert stored.startswith("$argon2id$") and "bí mật" not in stored
    assert verify_password("bí mật 123", stored) and not verify_password("bí mật 124", stored)
    assert hash_password("bí mật 123") != stored  # salted
    with session_scope(store.engine, write=True) as session:
        assert authenticate(session, "congan.a", PASSWORD) is not None
        assert authenticate(session, "congan.a", "sai") is None
        assert authenticate(session, "khong-ton-tai", PASSWORD) is None
    with session_scope(store.engine) as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("login%"))).all()
        assert actions == ["login", "login_failed", "login_failed"]
        assert all(u.password_hash.startswith("$argon2id$") for u in session.scalars(select(User)))


def test_excel_export_of_a_ward(store: Scenario) -> None:
    with session_scope(store.engine) as session:
        content = export_ward_tasks(session, store.ward_a, "Phường A", today=date(2025, 7, 20))
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    assert [c.value for c in sheet[4]] == list(EXPORT_HEADERS)
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    assert len(rows) == 4
    assert rows[0][1] == "Cao" and rows[0][7] == "Một người có nhiều bản ghi trong CSDL dân cư"
    assert {r[8] for r in rows} == {"B-001", "B-003", "B-004"}
    assert all("•" in (r[10] or "") for r in rows)  # IDs masked outside the task page
    assert "Phường A" in str(sheet["A1"].value)


def test_drafts_reject_frames_without_the_contract_columns() -> None:
    ward = wards(1)[0]
    records = records_frame([record("R1", ward)])
    findings = findings_frame([finding("R1", "name_not_normalized", "sạch", ward, "Họ tên viết hoa toàn bộ")])
    with pytest.raises(ValueError, match="findings lack"):
        night_drafts(NIGHT, findings.drop("detail"), None, records)
    with pytest.raises(ValueError, match="pairs lack"):
        night_drafts(NIGHT, findings, pairs_frame([]).drop("kind"), records)
    drafts = night_drafts(NIGHT, findings, None, records)
    assert [t.task_type for t in drafts.tasks] == ["record_fix"]  # one record, "sạch": a fix, not a duplicate
    assert drafts.snapshots["R1"][1]["full_name"] == "Nguyễn Văn An"


def test_store_file_is_created_on_first_use(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/new/dir/store.sqlite"
    engine = make_engine(url)
    migrate(engine)
    assert is_current(engine)
    assert reviews.load_labels(url).equals(pl.DataFrame(schema=reviews.LABEL_SCHEMA))
    engine.dispose()


def test_unrouted_tasks_reach_national_reviewers_in_priority_order(store: Scenario) -> None:
    _, drafts = scenario_night()
    unrouted = findings_frame([finding("B-009", "death_not_reflected", "sống", None, "Đã khai tử, CSDL chưa cập nhật")])
    extra = night_drafts(NIGHT, unrouted, None, records_frame([record("B-009", None)]))
    assert extra.tasks[0].ward_code is None and extra.tasks[0].priority == 1
    apply_night(
        store.engine,
        type(drafts)(NIGHT, drafts.findings, [*drafts.tasks, *extra.tasks], drafts.reviews, drafts.snapshots),
    )
    # Routed to no province: national (the admin), never the province's data officer.
    officer = actor(store, "quantri")
    with session_scope(store.engine) as session:
        assert queries.queue_page(session, actor(store, "dulieu"), QueueFilter(state="open")).total == 6
        page = queries.queue_page(session, officer, QueueFilter(state="open"))
        assert page.total == 7
        assert [(r.priority, r.subject_record_id) for r in page.rows][:2] == [(1, "B-001"), (1, "B-009")]
        ordered = [(r.priority, r.due_date, r.id) for r in page.rows]
        assert ordered == sorted(ordered)
        # Keyset pages: forward from the first page, then back again.
        first = queries.queue_page(session, officer, QueueFilter(state="open"), page_size=3)
        assert first.prev_cursor is None and first.next_cursor is not None
        second = queries.queue_page(
            session, officer, QueueFilter(state="open"), after=Cursor.decode(first.next_cursor), page=2, page_size=3
        )
        assert [r.id for r in second.rows] == [r.id for r in page.rows][3:6] and second.page == 2
        last = queries.queue_page(
            session, officer, QueueFilter(state="open"), after=Cursor.decode(second.next_cursor), page=3, page_size=3
        )
        assert [r.id for r in last.rows] == [r.id for r in page.rows][6:] and last.next_cursor is None
        back = queries.queue_page(
            session, officer, QueueFilter(state="open"), before=Cursor.decode(second.prev_cursor), page=1, page_size=3
        )
        assert [r.id for r in back.rows] == [r.id for r in first.rows] and back.prev_cursor is None
        first_two = [r.id for r in page.rows][:2]
        for other in ("congan.a", "dulieu"):
            assert "B-009" not in {
                r.subject_record_id for r in queries.queue_page(session, actor(store, other), QueueFilter()).rows
            }
    # "Claim next" takes them in the same order, across the routed tasks and the unrouted ones.
    for expected in first_two:
        with session_scope(store.engine, write=True) as session:
            claimed = lifecycle.claim_next(session, officer)
            assert claimed is not None and claimed.id == expected


def test_sqlite_staging_stores_what_an_insert_stores(tmp_path: object) -> None:
    """The nightly staging on SQLite bypasses SQLAlchemy's per-row parameter compilation: it must store exactly
    what ``insert(table)`` stores (JSON text including JSON null, dates, Vietnamese text)."""
    from sqlalchemy import Column, Date, Integer, MetaData, String, Table, insert
    from sqlalchemy.types import JSON

    from corrections.nightly import _stage

    engine = make_engine(f"sqlite:///{tmp_path}/stage.sqlite")
    metadata = MetaData()

    def table(name: str) -> Table:
        return Table(name, metadata, Column("key", String, primary_key=True), Column("data", JSON),
                     Column("night", Date), Column("count", Integer), prefixes=["TEMPORARY"])  # fmt: skip

    rows: list[dict[str, Any]] = [
        {"key": "a", "data": {"tên": "Nguyễn Văn Ánh", "ids": ["1", "2"]}, "night": NIGHT, "count": 3},
        {"key": "b", "data": None, "night": None, "count": None},
        {"key": "c", "data": [{"w": 1.5}], "night": NIGHT + timedelta(days=9), "count": 0},
    ]
    with engine.begin() as connection:
        staged, inserted = table("staged"), table("inserted")
        _stage(connection, staged, rows)
        inserted.create(connection)
        connection.execute(insert(inserted), rows)
        raw = "SELECT key, data, typeof(data), night, count FROM {} ORDER BY key"
        assert (
            connection.exec_driver_sql(raw.format("staged")).all()
            == connection.exec_driver_sql(raw.format("inserted")).all()
        )
        assert connection.execute(select(staged.c.data).order_by(staged.c.key)).scalars().all() == [
            r["data"] for r in rows
        ]
