"""Resources, chosen per environment in this one place.

Environment ``DANCU_ENV``: ``embedded`` (default: Parquet files, DuckDB, SQLite under ``DANCU_OUTPUT_DIR``) or
``production`` (task store on PostgreSQL from ``DANCU_DATABASE_URL``).

Engine ``DANCU_ENGINE``: ``embedded`` (default: Polars in this process) or ``spark`` (the same functions distributed
by Apache Spark at ``DANCU_SPARK_MASTER``, default ``local[2]``; ``DANCU_SPARK_PARTITIONS`` shuffle partitions;
``DANCU_SPARK_CHECKPOINTS`` a shared checkpoint folder on a cluster). The asset graph is the same for both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field, PrivateAttr

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from scaleout.session import SparkOptions

ENGINES = ("embedded", "spark")
DEFAULT_SPARK_MASTER = "local[2]"

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
    def state_dir(self) -> Path:
        """Long-lived state across nights (match index, quality history)."""
        return Path(self.output_dir) / "state"


class TaskStoreResource(dg.ConfigurableResource):
    """The correction-task and review-decision database (SQLAlchemy URL)."""

    database_url: str


class EngineResource(dg.ConfigurableResource):
    """The engine that normalizes, matches and writes the register: ``embedded`` or ``spark``.

    With ``spark`` the session starts at the first use in a run and is stopped when the run's step ends (the
    dagster-pyspark resource never stops its session; this one does, so no JVM outlives its run).
    """

    kind: str = "embedded"
    spark_master: str = DEFAULT_SPARK_MASTER
    spark_partitions: int | None = None
    spark_checkpoint_dir: str | None = None
    spark_conf: dict[str, str] = Field(default_factory=dict)
    _session: Any = PrivateAttr(default=None)
    _started: bool = PrivateAttr(default=False)

    @property
    def is_spark(self) -> bool:
        if self.kind not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {self.kind!r}")
        return self.kind == "spark"

    def spark_options(self) -> SparkOptions:
        from scaleout.session import SparkOptions

        return SparkOptions(
            master=self.spark_master,
            shuffle_partitions=self.spark_partitions,
            checkpoint_dir=self.spark_checkpoint_dir,
            conf=dict(self.spark_conf),
        )

    def spark(self) -> SparkSession:
        """The run's Spark session (started on first use)."""
        if self._session is None:
            from scaleout.session import started_session

            self._session, self._started = started_session(self.spark_options())
        return self._session

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Stop the session this resource started (one already running in the process belongs to its starter)."""
        if self._session is not None and self._started:
            from scaleout.session import stop_session

            stop_session(self._session)
        self._session, self._started = None, False


def engine_from_environment(
    kind: str | None = None,
    spark_master: str | None = None,
    spark_partitions: int | None = None,
    *,
    spark_conf: dict[str, str] | None = None,
) -> EngineResource:
    """The engine of this environment (``DANCU_ENGINE`` …); explicit arguments (command-line options) win."""
    kind = kind or os.environ.get("DANCU_ENGINE", "embedded")
    if kind not in ENGINES:
        raise ValueError(f"DANCU_ENGINE must be one of {', '.join(ENGINES)}, not {kind!r}")
    partitions = spark_partitions or (
        int(os.environ["DANCU_SPARK_PARTITIONS"]) if os.environ.get("DANCU_SPARK_PARTITIONS") else None
    )
    return EngineResource(
        kind=kind,
        spark_master=spark_master or os.environ.get("DANCU_SPARK_MASTER", DEFAULT_SPARK_MASTER),
        spark_partitions=partitions,
        spark_checkpoint_dir=os.environ.get("DANCU_SPARK_CHECKPOINTS") or None,
        spark_conf=spark_conf or {},
    )


def embedded_database_url(output_dir: str) -> str:
    """The embedded (SQLite) task store under ``output_dir``, as an absolute SQLAlchemy URL."""
    return f"sqlite:///{Path(output_dir).resolve() / 'dancu.sqlite'}"


def build_resources(
    input_dir: str | None = None, output_dir: str | None = None, *, engine: EngineResource | None = None
) -> dict[str, object]:
    """The resources for the current environment; explicit directories (and engine) win over the environment."""
    input_dir = input_dir or os.environ.get("DANCU_INPUT_DIR", DEFAULT_INPUT_DIR)
    output_dir = output_dir or os.environ.get("DANCU_OUTPUT_DIR", DEFAULT_OUTPUT_DIR)
    environment = os.environ.get("DANCU_ENV", "embedded")
    if environment == "production":
        task_store = TaskStoreResource(database_url=dg.EnvVar("DANCU_DATABASE_URL"))
    elif environment == "embedded":
        task_store = TaskStoreResource(database_url=embedded_database_url(output_dir))
    else:
        raise ValueError(f"DANCU_ENV must be 'embedded' or 'production', not {environment!r}")
    from pipelines.io import ParquetIOManager  # the IO manager depends on the engine resource defined here

    engine = engine or engine_from_environment()
    return {
        "paths": DancuPaths(input_dir=input_dir, output_dir=output_dir),
        "task_store": task_store,
        "engine": engine,
        "io_manager": ParquetIOManager(base_dir=output_dir, engine=engine),
    }
