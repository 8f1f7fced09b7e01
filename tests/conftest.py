"""Shared fixtures. Area-specific fixtures live in each tests/<area>/conftest.py."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.postgres_server import running_postgres

# CI runs must be reproducible: the same examples every run (locally, hypothesis keeps exploring new ones). How fast
# examples are drawn says nothing about the code under test, only how loaded the machine is: not a CI failure.
settings.register_profile(
    "ci", derandomize=True, print_blob=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real, empty PostgreSQL database on 127.0.0.1 for this test session."""
    with running_postgres() as url:
        yield url
