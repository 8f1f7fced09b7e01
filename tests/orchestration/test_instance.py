"""The Dagster instance configurations: SQLite by default, PostgreSQL from environment variables (real server)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.instance.ref import InstanceRef
from dagster._core.run_coordinator import QueuedRunCoordinator

from tests.orchestration.nightly_graph import Province, nightly_definitions

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def instance_from(template: Path, home: Path) -> dg.DagsterInstance:
    """Load an instance exactly as Dagster does from ``$DAGSTER_HOME/dagster.yaml``."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, home / "dagster.yaml")
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def assert_run_limits(instance: dg.DagsterInstance) -> None:
    assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    # What the run-queue daemon reads to decide which queued run may start.
    queue = instance.get_concurrency_config().run_queue_config
    assert queue is not None and queue.max_concurrent_runs == 2
    limits = queue.tag_concurrency_limits
    assert [(limit["key"], limit["limit"]) for limit in limits] == [("dagster/partition", 1)]
    assert limits[0]["value"] == {"applyLimitPerUniqueValue": True}
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
    assert not instance.run_retries_retry_on_asset_or_op_failure
    assert instance.run_monitoring_enabled


def test_default_instance_is_sqlite_with_run_limits(tmp_path: Path) -> None:
    with instance_from(PROJECT_ROOT / "dagster.yaml", tmp_path / "home") as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert Path(instance.root_directory) == tmp_path / "home"
        assert_run_limits(instance)


@pytest.fixture
def dagster_database(postgres_url: str) -> Iterator[dict[str, str]]:
    """A database of its own for Dagster on the test server, as docs/operations.md asks; dropped afterwards."""
    url = sa.make_url(postgres_url)
    name = f"dagster_{uuid.uuid4().hex[:8]}"
    # The throwaway server trusts local connections; its superuser creates the database for the dancu role.
    admin = sa.create_engine(
        url.set(username="postgres", password=None, database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" OWNER "{url.username}"'))
    try:
        yield {
            "DANCU_DAGSTER_PG_HOST": str(url.host),
            "DANCU_DAGSTER_PG_PORT": str(url.port),
            "DANCU_DAGSTER_PG_USER": str(url.username),
            "DANCU_DAGSTER_PG_PASSWORD": str(url.password),
            "DANCU_DAGSTER_PG_DB": name,
        }
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_postgres_instance_runs_the_nightly_job_end_to_end(
    dagster_database: dict[str, str], province: Province, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in dagster_database.items():
        monkeypatch.setenv(name, value)
    template = PROJECT_ROOT / "deploy" / "dagster.postgres.yaml"
    definitions = nightly_definitions(province.input_dir, tmp_path / "out")
    with instance_from(template, tmp_path / "home") as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert_run_limits(instance)
        result = definitions.resolve_job_def("nightly").execute_in_process(
            instance=instance, partition_key=province.night, tags={"dancu/trigger": "test"}
        )
        assert result.success
        run_id = result.run_id
    expected = {key.to_user_string() for key in definitions.resolve_asset_graph().get_all_asset_keys()}
    # A fresh instance, new connections: what the webserver and daemon would read from PostgreSQL.
    with instance_from(template, tmp_path / "home") as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags["dagster/partition"] == province.night
        materialized = {
            key.to_user_string()
            for key in expected_keys(expected)
            if province.night in instance.get_materialized_partitions(key)
        }
        assert materialized == expected
    engine = sa.create_engine(
        sa.URL.create(
            "postgresql+psycopg2",
            username=dagster_database["DANCU_DAGSTER_PG_USER"],
            password=dagster_database["DANCU_DAGSTER_PG_PASSWORD"],
            host=dagster_database["DANCU_DAGSTER_PG_HOST"],
            port=int(dagster_database["DANCU_DAGSTER_PG_PORT"]),
            database=dagster_database["DANCU_DAGSTER_PG_DB"],
        )
    )
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT count(*) FROM runs WHERE run_id = :id"), {"id": run_id}).scalar()
    engine.dispose()
    assert stored == 1


def expected_keys(names: set[str]) -> list[dg.AssetKey]:
    return [dg.AssetKey.from_user_string(name) for name in sorted(names)]
