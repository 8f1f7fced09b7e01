"""Resources, chosen per environment in this one place.

Environment ``DANCU_ENV``: ``embedded`` (default: Parquet files, DuckDB, SQLite under ``DANCU_OUTPUT_DIR``) or
``production`` (task store on PostgreSQL from ``DANCU_DATABASE_URL``).
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipelines.engine_options import EngineResource, engine_from_environment
from pipelines.io import ParquetIOManager
from pipelines.nightstate import nightly_state

DEFAULT_INPUT_DIR = "demo"
DEFAULT_OUTPUT_DIR = "var"


class DancuPaths(dg.ConfigurableResource):
    """Where a night's input files are read from and where every output goes."""

    input_dir: str
    output_dir: str

    def extracts_dir(self, night: str) -> Path:
        """Extract files of one night: ``{input}/extracts/{night}/`` when present, else ``{input}`` itself."""
        dated = Path(self.input_dir) / "extracts" / night
        return dated if dated.is_dir() else Path(self.input_dir)

    def base_file(self) -> Path:
        return Path(self.input_dir) / "population_base.parquet"

    def reports_dir(self, night: str) -> Path:
        return Path(self.output_dir) / "reports" / night

    @property
    def output_dir_path(self) -> Path:
        return Path(self.output_dir)

    @property
    def state_dir(self) -> Path:
        """Long-lived state across nights (match index, quality history)."""
        return Path(self.output_dir) / "state"


class TaskStoreResource(dg.ConfigurableResource):
    """The correction-task and review-decision database (SQLAlchemy URL)."""

    database_url: str


def embedded_database_url(output_dir: str) -> str:
    """The embedded (SQLite) task store under ``output_dir``, as an absolute SQLAlchemy URL."""
    return f"sqlite:///{Path(output_dir).resolve() / 'dancu.sqlite'}"


def build_resources(
    input_dir: str | None = None,
    output_dir: str | None = None,
    *,
    full: bool = False,
    retrain: bool = False,
    keep_nights: int | None = None,
    engine: EngineResource | None = None,
) -> dict[str, object]:
    """The resources for the current environment; explicit directories win over the environment variables.

    ``full`` / ``retrain``: tonight rebuilds the state from the snapshot (and re-estimates the model);
    ``keep_nights``: retention (default ``$DANCU_KEEP_NIGHTS`` or 14); ``engine``: embedded or Spark (default
    ``$DANCU_ENGINE``, ``$DANCU_SPARK_MASTER`` …).
    """
    input_dir = input_dir or os.environ.get("DANCU_INPUT_DIR", DEFAULT_INPUT_DIR)
    output_dir = output_dir or os.environ.get("DANCU_OUTPUT_DIR", DEFAULT_OUTPUT_DIR)
    environment = os.environ.get("DANCU_ENV", "embedded")
    if environment == "production":
        task_store = TaskStoreResource(database_url=dg.EnvVar("DANCU_DATABASE_URL"))
    elif environment == "embedded":
        task_store = TaskStoreResource(database_url=embedded_database_url(output_dir))
    else:
        raise ValueError(f"DANCU_ENV must be 'embedded' or 'production', not {environment!r}")
    return {
        "paths": DancuPaths(input_dir=input_dir, output_dir=output_dir),
        "task_store": task_store,
        "io_manager": ParquetIOManager(base_dir=output_dir),
        "night_state": nightly_state(full=full, retrain=retrain, keep_nights=keep_nights),
        "engine": engine or engine_from_environment(),
    }
