"""The queue and the task page (``console/tasks``): ward isolation, masking, keyset pages, routing of tasks without
a ward."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from console.tasks import routes as task_routes
from corrections.db import session_scope
from corrections.models import AuditEntry
from tests.console.conftest import LiveServer, Scenario
from tests.console.factories import finding, record
from tests.console.helpers import add_tasks, add_user, csrf_of, login, task_for, task_of


def test_ward_officer_cannot_reach_another_ward(live: LiveServer, store: Scenario) -> None:
    client = login(live, "congan.a")
    other = task_of(store, "address_unresolved")
    assert other.ward_code == store.ward_b
    page = client.get(f"{live.base_url}/tasks/{other.id}")
    assert page.status_code == 404 and "Không tìm thấy việc này" in page.text
    token = csrf_of(client, f"{live.base_url}/tasks")
    assert client.post(f"{live.base_url}/tasks/{other.id}/claim", data={"csrf_token": token}).status_code == 404
    assert task_of(store, "address_unresolved").state == "open"
    queue = client.get(f"{live.base_url}/tasks?ward={store.ward_b}&state=all")  # the ward filter is ignored
    assert "B-005" not in queue.text and "B-001" in queue.text
    assert client.get(f"{live.base_url}/reviews").status_code == 404
    assert client.get(f"{live.base_url}/audit").status_code == 404
    with session_scope(store.engine) as session:
        assert "task_not_found" in session.scalars(select(AuditEntry.action)).all()


def test_ids_masked_in_lists_and_shown_on_the_task_page(live: LiveServer, store: Scenario) -> None:
    client = login(live, "congan.a")
    queue = client.get(f"{live.base_url}/tasks")
    assert "001090000101" not in queue.text and "0010••••••01" in queue.text
    duplicate = task_of(store, "duplicate_person")
    page = client.get(f"{live.base_url}/tasks/{duplicate.id}")
    assert "001090000101" in page.text and "001090000102" in page.text
    assert 'class="problem"' in page.text and "Giải thích ghép nối" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_queue_pages_follow_next_and_previous_links(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_routes, "PAGE_SIZE", 2)
    client = login(live, "dulieu")
    link = re.compile(r'href="([^"]+)" rel="(next|prev)"')
    row = re.compile(r'<td><a href="/tasks/(\d+)">#')
    page = client.get(f"{live.base_url}/tasks?state=open")
    pages = [row.findall(page.text)]
    assert "6 việc · trang 1/3" in page.text
    while (found := dict((kind, href) for href, kind in link.findall(page.text))).get("next"):
        page = client.get(live.base_url + "/tasks" + found["next"].replace("&amp;", "&"))
        pages.append(row.findall(page.text))
    assert [len(p) for p in pages] == [2, 2, 2] and "trang 3/3" in page.text
    assert len({task for p in pages for task in p}) == 6
    back = client.get(live.base_url + "/tasks" + found["prev"].replace("&amp;", "&"))
    assert row.findall(back.text) == pages[1] and "trang 2/3" in back.text
    tampered = client.get(f"{live.base_url}/tasks?state=open&after=1.2025-07-09.1%27&page=7")
    assert row.findall(tampered.text) == pages[0] and "trang 1/3" in tampered.text


# ---- finding 5: work without a ward goes to a province by address, hometown or ID, else national only -------------


def test_unrouted_tasks_are_national_and_the_rest_reach_their_province(live: LiveServer, store: Scenario) -> None:
    other = "79"
    add_tasks(
        store,
        [
            finding("U-001", "death_not_reflected", "sống", None, "Đã khai tử, CSDL chưa cập nhật"),
            finding("U-002", "required_field_missing", "đủ", None, "Thiếu Dân tộc", severity="warning"),
            finding("U-003", "required_field_missing", "đủ", None, "Thiếu Dân tộc", severity="warning"),
        ],
        [
            # Nothing places it: no ward, no province, no valid ID.
            record("U-001", None, person_id="12345"),
            # Birth registered in Hà Nội (ID prefix 001): the province of the scenario.
            record("U-002", None, person_id="001190000777"),
            # The address names no ward, but the hometown is in another province.
            record("U-003", None, hometown_province_code=other),
        ],
    )
    national, hanoi, elsewhere = (task_for(store, r) for r in ("U-001", "U-002", "U-003"))
    assert (national.province_code, hanoi.province_code, elsewhere.province_code) == (None, store.province, other)
    add_user(store, f"dulieu.{other}", "data_officer", province_code=other)
    officer, other_officer, admin = (login(live, u) for u in ("dulieu", f"dulieu.{other}", "quantri"))
    token = csrf_of(officer, f"{live.base_url}/tasks")
    assert officer.get(f"{live.base_url}/tasks/{national.id}").status_code == 404
    assert officer.post(f"{live.base_url}/tasks/{national.id}/claim", data={"csrf_token": token}).status_code == 404
    assert "U-001" not in officer.get(f"{live.base_url}/tasks?state=all").text
    # "Claim next" takes the most urgent task in scope: a routed one, never the (more urgent) national one.
    claimed = officer.post(f"{live.base_url}/tasks/claim-next", data={"csrf_token": token}, allow_redirects=False)
    assert claimed.headers["location"] != f"/tasks/{national.id}"
    assert officer.get(f"{live.base_url}/tasks/{hanoi.id}").status_code == 200
    assert officer.get(f"{live.base_url}/tasks/{elsewhere.id}").status_code == 404
    assert other_officer.get(f"{live.base_url}/tasks/{elsewhere.id}").status_code == 200
    assert other_officer.get(f"{live.base_url}/tasks/{hanoi.id}").status_code == 404
    assert other_officer.get(f"{live.base_url}/tasks/{national.id}").status_code == 404
    assert admin.get(f"{live.base_url}/tasks/{national.id}").status_code == 200
    assert task_for(store, "U-001").state == "open"
