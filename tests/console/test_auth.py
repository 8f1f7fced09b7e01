"""Logging in and out (``console/auth``): the login form, throttling and back-off, CSRF, open redirects, session
expiry, production mode (no demo accounts, Secure cookie, HSTS), password hash upgrades."""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from console.app import app_from_environment
from console.settings import DATABASE_URL_VARIABLE
from corrections.auth import DEMO_PASSWORD, SessionPolicy, ensure_demo_accounts, hash_password, verify_password
from corrections.db import session_scope
from corrections.models import AuditEntry, User
from corrections.throttle import ThrottlePolicy
from tests.console.conftest import PASSWORD, LiveServer, Scenario
from tests.console.helpers import CSRF, attempt_login, audit_actions, csrf_of, logged_in, login, task_of


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


# ---- finding 1: production never accepts demo accounts ------------------------------------------------------------


def test_production_refuses_demo_accounts_and_the_demo_password(store: Scenario) -> None:
    with session_scope(store.engine, write=True) as session:
        seeding = ensure_demo_accounts(session)
    demo = next(a.username for a in seeding.accounts if a.role == "ward_officer")
    with LiveServer(store.url) as embedded:
        demo_session = login(embedded, demo, DEMO_PASSWORD)
        assert demo_session.get(f"{embedded.base_url}/tasks", allow_redirects=False).status_code == 200
        cookie = demo_session.cookies.get("dancu_session") or ""
    # The same store served in production: what worked a moment ago is refused.
    with LiveServer(store.url, production=True) as production:
        assert not logged_in(attempt_login(production, demo, DEMO_PASSWORD))
        # Under either name: the production cookie is ``__Host-`` prefixed, the token is what must be refused.
        for name in ("dancu_session", "__Host-dancu_session"):
            stale = requests.get(f"{production.base_url}/tasks", cookies={name: cookie}, allow_redirects=False)
            assert stale.status_code == 303
        # A real account whose password was (re)set to the published one is refused too, the others log in.
        with session_scope(store.engine, write=True) as session:
            officer = session.scalar(select(User).where(User.username == "congan.b"))
            assert officer is not None
            officer.password_hash = hash_password(DEMO_PASSWORD)
        assert not logged_in(attempt_login(production, "congan.b", DEMO_PASSWORD))
        assert logged_in(attempt_login(production, "congan.a"))
    with session_scope(store.engine) as session:
        assert not any(session.scalars(select(User.active).where(User.demo.is_(True))))
    assert "login_demo_refused" in audit_actions(store)


# ---- finding 6: the throttle holds under parallel guesses, across workers and restarts ----------------------------


def test_parallel_guesses_are_counted_before_any_is_checked(live: LiveServer, store: Scenario) -> None:
    passwords = ["sai-mat-khau"] * 39 + [PASSWORD]
    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(lambda p: attempt_login(live, "congan.b", p), passwords))
    checked = [a for a in audit_actions(store, actor="congan.b") if a in ("login", "login_failed")]
    assert len(checked) <= ThrottlePolicy().free_failures
    throttled = [r for r in results if "error=throttled" in r.headers["location"]]
    assert len(throttled) >= len(passwords) - ThrottlePolicy().free_failures


def test_throttle_is_shared_by_workers_and_survives_a_restart(store: Scenario) -> None:
    with LiveServer(store.url) as first, LiveServer(store.url) as second:
        for _ in range(ThrottlePolicy().free_failures):
            attempt_login(first, "congan.a", "sai")
        assert "error=throttled" in attempt_login(second, "congan.a").headers["location"]
    with LiveServer(store.url) as restarted:
        assert "error=throttled" in attempt_login(restarted, "congan.a").headers["location"]


# ---- finding 7: back-off per (user, client), the client from a trusted proxy only ---------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 7, 3, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_guesses_delay_only_their_own_client_and_back_off(store: Scenario) -> None:
    clock = Clock()
    attacker = {"X-Forwarded-For": "203.0.113.9"}
    officer = {"X-Forwarded-For": "198.51.100.7"}
    policy = ThrottlePolicy()
    with LiveServer(store.url, trusted_proxies=("127.0.0.1",), clock=clock) as behind_proxy:
        for _ in range(policy.free_failures):
            attempt_login(behind_proxy, "congan.a", "doan-mo", headers=attacker)
        refused = attempt_login(behind_proxy, "congan.a", PASSWORD, headers=attacker)
        assert "error=throttled" in refused.headers["location"]
        # The real officer, at another address behind the same proxy, is not held back.
        assert logged_in(attempt_login(behind_proxy, "congan.a", headers=officer))
        # Back-off, not lockout: after the wait one more guess is checked, then the wait doubles.
        clock.now += policy.delay(policy.free_failures, policy.free_failures)
        assert (
            "error=invalid" in attempt_login(behind_proxy, "congan.a", "doan-mo", headers=attacker).headers["location"]
        )
        clock.now += policy.delay(policy.free_failures, policy.free_failures)
        assert "error=throttled" in attempt_login(behind_proxy, "congan.a", headers=attacker).headers["location"]
        clock.now += policy.delay(policy.free_failures + 1, policy.free_failures)
        assert logged_in(attempt_login(behind_proxy, "congan.a", headers=attacker))
    with session_scope(store.engine) as session:
        clients = set(session.scalars(select(AuditEntry.client).where(AuditEntry.actor == "congan.a")))
    assert clients == {"203.0.113.9", "198.51.100.7"}


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(store: Scenario) -> None:
    with LiveServer(store.url) as direct:
        for n in range(ThrottlePolicy().free_failures):
            attempt_login(direct, "congan.a", "doan-mo", headers={"X-Forwarded-For": f"203.0.113.{n}"})
        dodged = attempt_login(direct, "congan.a", headers={"X-Forwarded-For": "198.51.100.7"})
        assert "error=throttled" in dodged.headers["location"]


# ---- finding 10: production defaults to a Secure cookie and HSTS --------------------------------------------------


def test_production_sets_a_secure_cookie_and_hsts(store: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANCU_ENV", "production")
    monkeypatch.setenv(DATABASE_URL_VARIABLE, store.url)
    monkeypatch.delenv("DANCU_CONSOLE_SECURE_COOKIES", raising=False)
    app = app_from_environment()
    with LiveServer(store.url, app=app) as production:
        page = requests.get(f"{production.base_url}/login")
        assert page.headers["strict-transport-security"].startswith("max-age=31536000")
        assert all("; secure" in c.lower() for c in set_cookies(page))
        response = attempt_login(production, "congan.a")
        assert logged_in(response) and response.headers["strict-transport-security"]
        session_cookie = next(c for c in set_cookies(response) if c.startswith("__Host-dancu_session="))
        assert "; secure" in session_cookie.lower() and "; httponly" in session_cookie.lower()
        assert "; path=/" in session_cookie.lower() and "domain=" not in session_cookie.lower()
        assert all(c.startswith("__Host-") for c in set_cookies(page))
    with LiveServer(store.url) as embedded:
        assert "strict-transport-security" not in requests.get(f"{embedded.base_url}/login").headers


def set_cookies(response: requests.Response) -> list[str]:
    return list(response.raw.headers.getlist("set-cookie"))


# ---- finding 12: old hashes are upgraded at login -----------------------------------------------------------------


def test_old_scrypt_hashes_are_upgraded_at_login(live: LiveServer, store: Scenario) -> None:
    salt = bytes(range(16))
    digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    with session_scope(store.engine, write=True) as session:
        user = session.scalar(select(User).where(User.username == "congan.a"))
        assert user is not None
        user.password_hash = f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"
    assert logged_in(attempt_login(live, "congan.a"))
    with session_scope(store.engine) as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "congan.a"))
    assert stored is not None and stored.startswith("$argon2id$") and verify_password(PASSWORD, stored)
    assert logged_in(attempt_login(live, "congan.a"))
