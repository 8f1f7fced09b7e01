"""The console over HTTP on PostgreSQL, where read-only pages run without a transaction and actions in one."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from corrections.db import session_scope
from corrections.models import Task
from tests.console.conftest import LiveServer, reset_postgres, seed
from tests.console.helpers import csrf_of, login

pytestmark = pytest.mark.postgres

ROW = re.compile(r'<td><a href="/tasks/(\d+)">#')


def test_reads_and_actions_share_the_pool_on_postgresql(postgres_url: str) -> None:
    reset_postgres(postgres_url)
    store = seed(postgres_url)
    try:
        with LiveServer(postgres_url) as live:
            client = login(live, "congan.a")
            queue = client.get(f"{live.base_url}/tasks?state=open")
            open_ids = ROW.findall(queue.text)
            assert queue.status_code == 200 and open_ids
            task_id = int(open_ids[0])
            token = csrf_of(client, f"{live.base_url}/tasks/{task_id}")
            claimed = client.post(f"{live.base_url}/tasks/{task_id}/claim", data={"csrf_token": token})
            assert claimed.status_code == 200
            # Reads after a write on the same pooled connections: back in autocommit, seeing the committed claim.
            for _ in range(3):
                mine = client.get(f"{live.base_url}/tasks?state=in_progress&mine=1")
                assert ROW.findall(mine.text) == [str(task_id)]
            with store.engine.connect() as connection:
                stuck = connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND state LIKE 'idle in transaction%'"
                    )
                ).scalar_one()
            assert stuck == 0
        with session_scope(store.engine) as session:
            task = session.scalar(select(Task).where(Task.id == task_id))
            assert task is not None and task.state == "in_progress" and task.assignee == "congan.a"
    finally:
        store.engine.dispose()
