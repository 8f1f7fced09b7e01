"""Logging in and out (``console/auth``): the login form, throttling, CSRF, open redirects, session expiry."""

from __future__ import annotations

import time
from datetime import timedelta

import requests
from sqlalchemy import select

from corrections.auth import SessionPolicy
from corrections.db import session_scope
from corrections.models import AuditEntry
from tests.console.conftest import PASSWORD, LiveServer, Scenario
from tests.console.helpers import CSRF, csrf_of, login, task_of


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
