"""Helpers of the console tests: log in through the real form, read a page's CSRF token, find tasks and audit
entries, add users and tasks to the seeded store."""

from __future__ import annotations

import re
from typing import Any

import requests
from sqlalchemy import select

from corrections.auth import create_user
from corrections.build import NightDrafts
from corrections.db import session_scope
from corrections.models import AuditEntry, Task
from corrections.nightly import apply_night
from tests.console.conftest import NIGHT, PASSWORD, LiveServer, Scenario, scenario_night
from tests.console.factories import findings_frame, night_drafts, records_frame

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


def attempt_login(
    server: LiveServer, username: str, password: str = PASSWORD, *, headers: dict[str, str] | None = None
) -> requests.Response:
    """One login through the form; the response is the redirect (303) the browser would follow.

    The form's cookie is handed back explicitly: in production it is ``Secure``, which a client on plain HTTP (this
    test server; in production the HTTPS proxy is in between) would not send.
    """
    form = requests.get(f"{server.base_url}/login")
    token = CSRF.search(form.text)
    assert token is not None
    return requests.post(
        f"{server.base_url}/login",
        data={"username": username, "password": password, "csrf_token": token.group(1), "next": "/tasks"},
        # Secure cookies carry the ``__Host-`` prefix: hand back whichever of the two names the form set.
        cookies={name: value or "" for name, value in form.cookies.items() if name.endswith("dancu_login_csrf")},
        headers=headers,
        allow_redirects=False,
    )


def logged_in(response: requests.Response) -> bool:
    return response.status_code == 303 and response.headers["location"] == "/tasks"


def add_user(store: Scenario, username: str, role: str, password: str = PASSWORD, **scope: Any) -> None:
    with session_scope(store.engine, write=True) as session:
        create_user(session, username, password, role, display_name=username, **scope)


def add_tasks(store: Scenario, findings: list[dict[str, Any]], records: list[dict[str, Any]]) -> None:
    """Apply the scenario's night again with these findings (and their records) added to it."""
    _, drafts = scenario_night()
    extra = night_drafts(NIGHT, findings_frame(findings), None, records_frame(records))
    apply_night(
        store.engine,
        NightDrafts(
            NIGHT,
            drafts.findings + extra.findings,
            [*drafts.tasks, *extra.tasks],
            drafts.reviews,
            {**drafts.snapshots, **extra.snapshots},
        ),
    )


def task_for(store: Scenario, record_id: str) -> Task:
    with session_scope(store.engine) as session:
        task = session.scalar(select(Task).where(Task.subject_record_id == record_id))
        assert task is not None
        return task


def audit_actions(store: Scenario, **where: Any) -> list[str]:
    with session_scope(store.engine) as session:
        query = select(AuditEntry.action).order_by(AuditEntry.id)
        for column, value in where.items():
            query = query.where(getattr(AuditEntry, column) == value)
        return list(session.scalars(query))
