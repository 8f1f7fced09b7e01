"""The queue at scale: trigger-kept counts agree with the tasks through every kind of change, the name search folds
diacritics and matches word starts, a search counts at most a bounded number of matches, and the nightly staging
(COPY on PostgreSQL) keeps awkward text intact."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from corrections import lifecycle, queries
from corrections.access import Actor
from corrections.db import make_engine, migrate, session_scope
from corrections.lifecycle import QueueFilter
from corrections.models import RecordSnapshot, Task, TaskCount, User
from corrections.nightly import apply_night
from tests.console.conftest import NIGHT, Scenario, reset_postgres, scenario_night, seed
from tests.console.factories import finding, findings_frame, night_drafts, record, records_frame


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


def actor(scenario: Scenario, username: str) -> Actor:
    with session_scope(scenario.engine) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return Actor.of(user)


def counts_agree(scenario: Scenario) -> dict[tuple[str, str, str], int]:
    """Asserts ``task_counts`` equals a live aggregate of ``tasks``; returns it by (ward, state, quality)."""
    with session_scope(scenario.engine) as session:
        live = {
            (p or "", w or "", s, q, pr, r): n
            for p, w, s, q, pr, r, n in session.execute(
                select(
                    Task.province_code, Task.ward_code, Task.state, Task.quality, Task.priority, Task.rule, func.count()
                ).group_by(Task.province_code, Task.ward_code, Task.state, Task.quality, Task.priority, Task.rule)
            )
        }
        kept = {
            (c.province_code, c.ward_code, c.state, c.quality, c.priority, c.rule): c.tasks
            for c in session.scalars(select(TaskCount))
            if c.tasks
        }
    assert kept == live
    summary: dict[tuple[str, str, str], int] = {}
    for (_p, w, s, q, _pr, _r), n in live.items():
        summary[(w, s, q)] = summary.get((w, s, q), 0) + n
    return summary


def test_counts_follow_every_change(any_store: Scenario) -> None:
    assert counts_agree(any_store)[(any_store.ward_a, "open", "sạch")] == 1
    officer, data_officer = actor(any_store, "congan.a"), actor(any_store, "dulieu")
    with session_scope(any_store.engine, write=True) as session:
        claimed = lifecycle.claim_next(session, officer)
        assert claimed is not None
    after_claim = counts_agree(any_store)
    assert after_claim[(any_store.ward_a, "in_progress", claimed.quality)] == 1
    with session_scope(any_store.engine, write=True) as session:
        lifecycle.resolve(session, officer, claimed.id, "fixed_at_source", "Đã sửa trên hệ thống nguồn")
    counts_agree(any_store)
    with session_scope(any_store.engine, write=True) as session:
        lifecycle.reopen(session, data_officer, claimed.id, "Chưa thấy cập nhật")
    counts_agree(any_store)
    # A later night without two defects (auto-closed), then one with all of them again (reopened).
    _, drafts = scenario_night()
    kept = [t for t in drafts.tasks if t.rule not in {"card_expired", "not_verified_recently"}]
    night2 = type(drafts)(NIGHT + timedelta(days=1), drafts.findings, kept, drafts.reviews, drafts.snapshots)
    assert apply_night(any_store.engine, night2).auto_closed == 2
    closed = counts_agree(any_store)
    assert closed[(any_store.ward_b, "resolved", "sống")] == 1
    night3 = type(drafts)(NIGHT + timedelta(days=2), drafts.findings, drafts.tasks, drafts.reviews, drafts.snapshots)
    assert apply_night(any_store.engine, night3).reopened == 2
    counts_agree(any_store)
    with session_scope(any_store.engine) as session:
        page = queries.queue_page(session, data_officer, QueueFilter(state="open"))
        assert page.total == 6 and page.by_state.get("open") == 6 and not page.capped
        assert queries.queue_wards(session, data_officer) == sorted([any_store.ward_a, any_store.ward_b])
        assert queries.queue_wards(session, officer) == [any_store.ward_a]


def test_name_search_folds_diacritics_and_matches_word_starts(store: Scenario) -> None:
    officer = actor(store, "dulieu")

    def found(term: str) -> set[str]:
        with session_scope(store.engine) as session:
            page = queries.queue_page(session, officer, QueueFilter(search=term))
            assert page.total == len(page.rows)
            return {r.subject_record_id for r in page.rows}

    assert found("Nguyễn Văn An") == found("nguyen van an") == found("NGUYÊN VAN") == {"B-001"}
    assert found("hoa") == found("Hòa") == found("Hoà") == {"B-003"}
    assert found("oa") == set()  # inside a word: not a match
    assert found("Khôi") == found("khoi") == {"B-006"}
    assert found("B-005") == {"B-005"}  # an exact record ID
    assert found("001070000104") == {"B-004"}  # an exact personal ID
    assert found("0010700") == set()  # part of an ID finds nothing: IDs are masked in the list
    assert found("%") == found("_") == set()  # no wildcard from the user


@pytest.mark.parametrize(("probe_rows", "count_limit"), [(4000, 1000), (1, 2)])
def test_search_counts_are_bounded(
    store: Scenario, monkeypatch: pytest.MonkeyPatch, probe_rows: int, count_limit: int
) -> None:
    """Capped by the probe of the first tasks (it finds more than 2 matches among 4000 tasks), or, when the probe
    sees too few tasks to tell (1), by the bounded count of all matches."""
    officer = actor(store, "dulieu")
    monkeypatch.setattr(queries, "SEARCH_PROBE_MATCHES", 2)
    monkeypatch.setattr(queries, "SEARCH_PROBE_ROWS", probe_rows)
    monkeypatch.setattr(queries, "SEARCH_COUNT_LIMIT", count_limit)
    with session_scope(store.engine) as session:
        many = queries.queue_page(session, officer, QueueFilter(search="van"), page_size=1)
        assert many.capped and many.total == 2 and len(many.rows) == 1 and many.next_cursor is not None
        few = queries.queue_page(session, officer, QueueFilter(search="hoa"))
        assert not few.capped and few.total == 1
        unfiltered = queries.queue_page(session, officer, QueueFilter())
        assert not unfiltered.capped and unfiltered.total == 6


def test_all_states_are_paged_in_queue_order(store: Scenario) -> None:
    officer = actor(store, "dulieu")
    with session_scope(store.engine, write=True) as session:
        lifecycle.claim_next(session, officer)
    seen: list[tuple[int, object, int]] = []
    cursor: queries.Cursor | None = None
    with session_scope(store.engine) as session:
        while True:
            page = queries.queue_page(session, officer, QueueFilter(), after=cursor, page_size=2)
            seen.extend((r.priority, r.due_date, r.id) for r in page.rows)
            if page.next_cursor is None:
                break
            cursor = queries.Cursor.decode(page.next_cursor)
        assert page.total == 6
    assert len(seen) == 6 and seen == sorted(seen)


def test_cursor_text_is_validated() -> None:
    cursor = queries.Cursor.decode("2.2025-07-09.17")
    assert cursor is not None and cursor.encode() == "2.2025-07-09.17"
    for bad in ("", "2.2025-13-40.17", "x.2025-07-09.1", "2.2025-07-09.1;DROP", None):
        assert queries.Cursor.decode(bad) is None


def test_awkward_text_survives_the_nightly_staging(any_store: Scenario) -> None:
    name = 'Nguyễn "Tí", Văn\nAn \\ ;'
    rows = [record("Q-1", any_store.ward_a, full_name=name, permanent_address="", person_id=None)]
    findings = findings_frame(
        [finding("Q-1", "required_field_missing", "đủ", any_store.ward_a, 'Thiếu "dân tộc",\tghi chú')]
    )
    apply_night(any_store.engine, night_drafts(NIGHT, findings, None, records_frame(rows)))
    with session_scope(any_store.engine) as session:
        task = session.scalar(select(Task).where(Task.subject_record_id == "Q-1"))
        assert task is not None and task.subject_name == name and task.subject_person_id is None
        assert task.subject_search == " nguyen ti van an"
        snapshot = session.get(RecordSnapshot, "Q-1")
        assert snapshot is not None and snapshot.data["full_name"] == name
        assert snapshot.data["permanent_address"] == "" and snapshot.data.get("person_id") is None
    counts_agree(any_store)


def test_refresh_rewrites_changed_content_only(any_store: Scenario) -> None:
    _, drafts = scenario_night()
    target = next(t for t in drafts.tasks if t.rule == "card_expired")
    with session_scope(any_store.engine) as session:
        before = {t.fingerprint: t.updated_at for t in session.scalars(select(Task))}
    changed = replace(target, title="Thẻ căn cước đã hết hạn", priority=2)
    tasks = [changed if t is target else t for t in drafts.tasks]
    summary = apply_night(
        any_store.engine, type(drafts)(NIGHT, drafts.findings, tasks, drafts.reviews, drafts.snapshots)
    )
    assert summary.refreshed == 6 and summary.created == 0
    with session_scope(any_store.engine) as session:
        stored = {t.fingerprint: t for t in session.scalars(select(Task))}
    assert (stored[target.fingerprint].title, stored[target.fingerprint].priority) == ("Thẻ căn cước đã hết hạn", 2)
    # Same night, nothing else changed: the other tasks are not rewritten.
    assert [f for f, t in stored.items() if t.updated_at != before[f]] == [target.fingerprint]
    counts_agree(any_store)


@pytest.mark.parametrize("limit", [1000, 2])
def test_search_results_page_forward_and_back(store: Scenario, monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    """Both ways of paging a search agree: from the bounded set of matches, and (past the bound) off the index."""
    monkeypatch.setattr(queries, "SEARCH_COUNT_LIMIT", limit)
    monkeypatch.setattr(queries, "SEARCH_PROBE_MATCHES", limit)
    officer = actor(store, "dulieu")
    term = QueueFilter(search="van")
    with session_scope(store.engine) as session:
        first = queries.queue_page(session, officer, term, page_size=2)
        assert first.capped == (limit == 2) and first.prev_cursor is None
        second = queries.queue_page(
            session, officer, term, after=queries.Cursor.decode(first.next_cursor), page=2, page_size=2
        )
        assert second.next_cursor is None and second.page == 2
        back = queries.queue_page(
            session, officer, term, before=queries.Cursor.decode(second.prev_cursor), page=1, page_size=2
        )
    ordered = [(r.priority, r.due_date, r.id) for r in [*first.rows, *second.rows]]
    assert len(ordered) == 3 and ordered == sorted(ordered)
    assert {r.subject_record_id for r in [*first.rows, *second.rows]} == {"B-001", "B-004"}
    assert [r.id for r in back.rows] == [r.id for r in first.rows] and back.prev_cursor is None


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_upgrade_from_0001_backfills_search_keys_and_counts(
    backend: str, tmp_path: object, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}/old.sqlite"
    else:
        url = request.getfixturevalue("postgres_url")
        reset_postgres(url)
    engine = make_engine(url)
    migrate(engine, "0001")
    columns = (
        "fingerprint, task_type, rule, quality, severity, ward_code, province_code, record_ids, subject_record_id, "
        "subject_name, title, description, problem_fields, priority, due_date, state, first_seen_night, "
        "last_seen_night, created_at, updated_at"
    )
    old_rows = [
        ("f1", "00004", "01", "open", "Nguyễn Thị Hoà"),
        ("f2", "00004", "01", "resolved", "Trần Văn Bình"),
        ("f3", None, None, "open", None),
    ]
    with engine.begin() as connection:
        for fingerprint, ward, province, state, name in old_rows:
            connection.execute(
                text(
                    f"INSERT INTO tasks ({columns}) VALUES (:f, 'update', 'card_expired', 'sống', 'warning', :w, :p, "
                    "'[\"R\"]', :f, :n, 'Thẻ hết hạn', 'Thẻ hết hạn', '[]', 3, '2025-07-09', :s, '2025-07-02', "
                    "'2025-07-02', '2025-07-02 00:00:00+00:00', '2025-07-02 00:00:00+00:00')"
                ),
                {"f": fingerprint, "w": ward, "p": province, "s": state, "n": name},
            )
    migrate(engine)
    scenario = Scenario(url, engine, "00004", "00008", "01")
    with session_scope(engine) as session:
        keys = dict(session.execute(select(Task.fingerprint, Task.subject_search)).tuples().all())
    assert keys == {"f1": " nguyen thi hoa", "f2": " tran van binh", "f3": None}
    counts = counts_agree(scenario)
    assert counts[("00004", "open", "sống")] == 1 and counts[("", "open", "sống")] == 1
    with session_scope(engine, write=True) as session:  # the triggers are live after the upgrade
        session.execute(update(Task).where(Task.fingerprint == "f1").values(state="resolved"))
    assert counts_agree(scenario)[("00004", "resolved", "sống")] == 2
    engine.dispose()
