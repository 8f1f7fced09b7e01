"""The console over HTTP (real server on 127.0.0.1): login, sessions, CSRF, scopes, masking, export, audit."""

from __future__ import annotations

import io
import re
import time
from datetime import timedelta

import openpyxl
import pytest
import requests
from sqlalchemy import select

from console import app as console_app
from corrections.auth import SessionPolicy
from corrections.db import session_scope
from corrections.models import AuditEntry, Task
from tests.console.conftest import PASSWORD, LiveServer, Scenario

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def login(server: LiveServer, username: str, password: str = PASSWORD) -> requests.Session:
    client = requests.Session()
    form = client.get(f"{server.base_url}/login")
    token = CSRF.search(form.text)
    assert token is not None
    response = client.post(
        f"{server.base_url}/login",
        data={"username": username, "password": password, "csrf_token": token.group(1), "next": "/tasks"},
    )
    assert response.status_code == 200
    return client


def csrf_of(client: requests.Session, url: str) -> str:
    match = CSRF.search(client.get(url).text)
    assert match is not None
    return match.group(1)


def task_of(store: Scenario, rule: str) -> Task:
    with session_scope(store.engine) as session:
        task = session.scalar(select(Task).where(Task.rule == rule))
        assert task is not None
        return task


def test_pages_need_a_login_and_bad_passwords_fail(live: LiveServer, store: Scenario) -> None:
    anonymous = requests.get(f"{live.base_url}/tasks/1", allow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=%2Ftasks%2F1")
    client = login(live, "congan.a", "sai-mat-khau")
    assert client.get(f"{live.base_url}/tasks", allow_redirects=False).status_code == 303
    page = client.get(f"{live.base_url}/login?error=invalid")
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in page.text
    with session_scope(store.engine) as session:
        assert session.scalars(select(AuditEntry.action)).all()[-1] == "login_failed"


def test_login_is_throttled_after_repeated_failures(live: LiveServer) -> None:
    for _ in range(5):
        login(live, "congan.b", "sai")
    blocked = login(live, "congan.b")  # the right password, but too late
    assert blocked.get(f"{live.base_url}/tasks", allow_redirects=False).status_code == 303


def test_posts_need_the_session_csrf_token_and_same_origin(live: LiveServer, store: Scenario) -> None:
    client = login(live, "congan.a")
    target = task_of(store, "card_expired").id
    forged = client.post(f"{live.base_url}/tasks/{target}/claim", data={"csrf_token": "doan-bua"})
    assert forged.status_code == 403 and "Yêu cầu bị từ chối" in forged.text
    token = csrf_of(client, f"{live.base_url}/tasks")
    cross_site = client.post(
        f"{live.base_url}/tasks/{target}/claim", data={"csrf_token": token}, headers={"Origin": "http://evil.example"}
    )
    assert cross_site.status_code == 403
    assert task_of(store, "card_expired").state == "open"
    # A login form posted without its cookie-bound token is refused too (login CSRF).
    fresh = requests.post(f"{live.base_url}/login", data={"username": "congan.a", "password": PASSWORD})
    assert fresh.status_code == 403
    accepted = client.post(f"{live.base_url}/tasks/{target}/claim", data={"csrf_token": token})
    assert accepted.status_code == 200 and task_of(store, "card_expired").state == "in_progress"


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
    officer = login(live, "dulieu")
    review = officer.get(f"{live.base_url}/reviews/1")
    assert review.status_code == 200
    assert "001300000105" not in review.text and "0013••••••05" in review.text


def test_export_and_audit_log(live: LiveServer, store: Scenario) -> None:
    client = login(live, "congan.a")
    workbook = client.get(f"{live.base_url}/export?ward={store.ward_b}")
    assert workbook.status_code == 200
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    ids = {row[8] for row in sheet.iter_rows(min_row=5, values_only=True)}
    assert ids == {"B-001", "B-003", "B-004"}  # own ward only, whatever the URL asked for
    officer = login(live, "dulieu")
    assert officer.get(f"{live.base_url}/export?ward={store.ward_b}").status_code == 200
    admin = login(live, "quantri")
    log = admin.get(f"{live.base_url}/audit")
    assert log.status_code == 200 and "xuất Excel" in log.text and "congan.a" in log.text


def test_open_redirect_is_refused(live: LiveServer) -> None:
    client = requests.Session()
    token = CSRF.search(client.get(f"{live.base_url}/login").text)
    assert token is not None
    response = client.post(
        f"{live.base_url}/login",
        data={"username": "congan.a", "password": PASSWORD, "csrf_token": token.group(1), "next": "//evil.example/"},
        allow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/tasks"


def test_sessions_expire_and_logout_ends_them(store: Scenario) -> None:
    policy = SessionPolicy(idle=timedelta(seconds=1), absolute=timedelta(hours=1), touch_every=timedelta(hours=1))
    with LiveServer(store.url, policy) as server:
        client = login(server, "congan.a")
        assert client.get(f"{server.base_url}/tasks", allow_redirects=False).status_code == 200
        time.sleep(1.2)
        assert client.get(f"{server.base_url}/tasks", allow_redirects=False).status_code == 303
    with LiveServer(store.url) as server:
        client = login(server, "congan.a")
        token = csrf_of(client, f"{server.base_url}/tasks")
        cookie = client.cookies.get("dancu_session")
        client.post(f"{server.base_url}/logout", data={"csrf_token": token})
        replay = requests.get(
            f"{server.base_url}/tasks", cookies={"dancu_session": cookie or ""}, allow_redirects=False
        )
        assert replay.status_code == 303


def test_queue_pages_follow_next_and_previous_links(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console_app, "PAGE_SIZE", 2)
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
