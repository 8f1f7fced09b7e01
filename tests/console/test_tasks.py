"""The queue and the task page (``console/tasks``): ward isolation, masking, keyset pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from console.tasks import routes as task_routes
from corrections.db import session_scope
from corrections.models import AuditEntry
from tests.console.conftest import LiveServer, Scenario
from tests.console.helpers import csrf_of, login, task_of


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
