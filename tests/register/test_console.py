"""The console's task page shows what the clean register holds now for the person, beside the records."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlalchemy import select

from corrections.auth import create_user
from corrections.build import build_drafts, register_snapshot_id
from corrections.db import make_engine, migrate, session_scope
from corrections.models import RecordSnapshot, Task
from corrections.nightly import apply_night
from register.quality import register_findings
from tests.console.conftest import PASSWORD, LiveServer
from tests.console.helpers import login
from tests.register.factories import NIGHT, OLD_FORM, build, person
from tests.register.test_tasks import PAIRS, _finding, _findings


def test_task_page_shows_the_golden_record_and_where_each_value_came_from(tmp_path: Path) -> None:
    result = build([
        person("B1", full_name="Nguyen Van An", permanent_address=OLD_FORM, last_verified_date="2015-01-01"),
        person("CC1", "card", full_name="NGUYỄN VĂN AN"),
    ])  # fmt: skip
    clusters = pl.DataFrame({"record_id": ["B1", "CC1"], "cluster_id": ["P-B1", "P-B1"], "source": ["base", "card"]})
    drafts = build_drafts(
        NIGHT,
        _findings(_finding("B1", "not_verified_recently", "sống")),
        PAIRS,
        [result.records],
        clusters=clusters,
        register=result.register,
        register_findings=register_findings(result.golden, NIGHT),
    )
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = make_engine(url)
    migrate(engine)
    apply_night(engine, drafts)
    with session_scope(engine, write=True) as session:
        create_user(session, "quantri", PASSWORD, "admin", display_name="Quản trị")
    with session_scope(engine) as session:
        task = session.scalar(select(Task))
        assert task is not None and task.person_keys == ["P-B1"]
        task_id = task.id
        golden = session.get(RecordSnapshot, register_snapshot_id("P-B1"))
        assert golden is not None and golden.source == "register"
    engine.dispose()
    with LiveServer(url) as server:
        page = login(server, "quantri").get(f"{server.base_url}/tasks/{task_id}").text
    assert 'class="golden">Sổ dân cư sạch' in page and "mã người P-B1 · còn sống" in page
    assert "Nguyễn Văn An (theo CC1)" in page  # the golden name, from the card
    assert "Phường Tam Chúc, Tỉnh Ninh Bình (theo B1)" in page  # the post-2025 address of the base record
    assert "Nguyen Van An" in page  # the base record as it is
    assert "Sổ dân cư sạch hiện ghi (mã người P-B1, còn sống)" in page
