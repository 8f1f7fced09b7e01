"""Shared fixtures. Area-specific fixtures live in each tests/<area>/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_server import running_postgres


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real, empty PostgreSQL database on 127.0.0.1 for this test session."""
    with running_postgres() as url:
        yield url
