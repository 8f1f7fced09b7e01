"""The audit log (``console/audit``): scoped like the tasks, and complete: views of personal data, ID searches,
denials and CSRF failures are in it."""

from __future__ import annotations

import re

from sqlalchemy import select

from corrections.db import session_scope
from corrections.models import AuditEntry
from tests.console.conftest import LiveServer, Scenario
from tests.console.helpers import add_user, attempt_login, audit_actions, csrf_of, login, task_of

ACTOR_CELL = re.compile(r"<td>\d\d/\d\d/\d{4} \d\d:\d\d</td><td>([^<]*)</td>")


def test_actions_appear_in_the_audit_log(live: LiveServer, store: Scenario) -> None:
    client = login(live, "congan.a")
    assert client.get(f"{live.base_url}/export").status_code == 200
    admin = login(live, "quantri")
    log = admin.get(f"{live.base_url}/audit")
    assert log.status_code == 200 and "xuất Excel" in log.text and "congan.a" in log.text


# ---- finding 4: a data officer reads only their province's entries ------------------------------------------------


def test_data_officer_reads_only_their_provinces_audit_log(live: LiveServer, store: Scenario) -> None:
    add_user(store, "dulieu.79", "data_officer", province_code="79")
    ward_officer = login(live, "congan.a")
    task = task_of(store, "card_expired").id
    ward_officer.post(
        f"{live.base_url}/tasks/{task}/claim", data={"csrf_token": csrf_of(ward_officer, live.base_url + "/tasks")}
    )
    attempt_login(live, "ai-do-khong-ton-tai", "doan-mo")
    attempt_login(live, "congan.b", "doan-mo")
    with session_scope(store.engine) as session:
        entries = list(session.scalars(select(AuditEntry)))
    assert {e.province_code for e in entries if e.actor in ("congan.a", "congan.b")} == {store.province}
    assert next(e for e in entries if e.actor == "ai-do-khong-ton-tai").province_code is None

    other = login(live, "dulieu.79").get(f"{live.base_url}/audit").text
    assert set(ACTOR_CELL.findall(other)) == {"dulieu.79"}  # their own login and views only
    for leaked in ("congan.a", "congan.b", "ai-do-khong-ton-tai", f"việc #{task}", "nhận việc"):
        assert leaked not in other
    own = login(live, "dulieu").get(f"{live.base_url}/audit").text
    assert "congan.a" in own and f"việc #{task}" in own and "congan.b" in own
    assert "ai-do-khong-ton-tai" not in own  # a failed login of an unknown name belongs to no province
    national = login(live, "quantri").get(f"{live.base_url}/audit").text
    assert "ai-do-khong-ton-tai" in national and "congan.a" in national


# ---- finding 9: views of personal data, ID searches, denials and CSRF failures are audited ------------------------


def test_views_searches_and_denials_are_audited(live: LiveServer, store: Scenario) -> None:
    officer = login(live, "dulieu")
    officer.get(f"{live.base_url}/reviews")
    officer.get(f"{live.base_url}/reviews/1")
    officer.get(f"{live.base_url}/audit?page=2")
    officer.get(f"{live.base_url}/reviews/999")
    officer.get(f"{live.base_url}/export", params={"ward": "99998"})
    assert audit_actions(store, actor="dulieu") == [
        "login",
        "view_reviews",
        "view_review",
        "view_audit",
        "review_not_found",
        "access_denied",
    ]

    ward_officer = login(live, "congan.a")
    token = csrf_of(ward_officer, f"{live.base_url}/tasks")
    ward_officer.get(f"{live.base_url}/tasks", params={"q": "001090000101"})
    ward_officer.get(f"{live.base_url}/reviews")
    ward_officer.get(f"{live.base_url}/audit")
    other_ward = task_of(store, "address_unresolved").id
    ward_officer.post(f"{live.base_url}/tasks/{other_ward}/claim", data={"csrf_token": token})
    ward_officer.post(f"{live.base_url}/reviews/1", data={"csrf_token": token, "decision": "same"})
    forged = ward_officer.post(f"{live.base_url}/tasks/{other_ward}/release", data={"csrf_token": "gia-mao"})
    assert forged.status_code == 403
    assert audit_actions(store, actor="congan.a") == [
        "login",
        "search_id",
        "access_denied",
        "access_denied",
        "task_not_found",
        "review_not_found",
        "csrf_failed",
    ]
    with session_scope(store.engine) as session:
        rows = {e.action: e for e in session.scalars(select(AuditEntry).where(AuditEntry.actor == "congan.a"))}
    assert rows["search_id"].detail == "001090000101"
    assert rows["task_not_found"].object_id == str(other_ward) and rows["task_not_found"].detail == "claim"
    assert rows["csrf_failed"].object_id == f"/tasks/{other_ward}/release"
    assert rows["access_denied"].client == "127.0.0.1"
    # The audit page shows the searched ID masked, like every list.
    log = login(live, "quantri").get(f"{live.base_url}/audit").text
    assert "tìm theo số định danh" in log and "001090000101" not in log and "0010••••••01" in log
