"""HTTP helpers of the console tests: log in through the real form, read a page's CSRF token, find a task."""

from __future__ import annotations

import re

import requests
from sqlalchemy import select

from corrections.db import session_scope
from corrections.models import Task
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
