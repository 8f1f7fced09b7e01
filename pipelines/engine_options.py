"""``--engine embedded|spark`` and ``--spark-master URL`` for the commands that run on either engine."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

import dagster as dg
import polars as pl
from pydantic import Field, PrivateAttr

from pipelines.environment import environment_int
from pipelines.errors import CommandError
from state.base import Normalizer, normalize_in_process

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from scaleout.session import SparkOptions

ENGINES = ("embedded", "spark")
DEFAULT_SPARK_MASTER = "local[2]"


class EngineResource(dg.ConfigurableResource):
    """The engine ``dancu normalize``, ``dedupe``, ``match`` and ``register`` run on: ``embedded`` or ``spark``.

    With ``spark`` the session starts at the first use and is stopped at teardown (the dagster-pyspark resource
    never stops its session; this one does, so no JVM outlives its run). In the nightly graph the resource chooses
    how the normalize assets run (``normalizer``); the match and register assets keep their incremental state in
    process on either engine (see docs/spark.md).
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

    def normalizer(self) -> Normalizer:
        """``normalize_records`` on this engine: in process, or distributed over the Spark session's executors
        (the same rows, order and dtypes)."""
        if not self.is_spark:
            return normalize_in_process

        def on_spark(records: pl.DataFrame, as_of: date) -> pl.DataFrame:
            from scaleout.normalize import normalize_on_spark

            return normalize_on_spark(self.spark(), records, as_of=as_of)

        return on_spark

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
    partitions = spark_partitions or environment_int("DANCU_SPARK_PARTITIONS", None, minimum=1)
    return EngineResource(
        kind=kind,
        spark_master=spark_master or os.environ.get("DANCU_SPARK_MASTER", DEFAULT_SPARK_MASTER),
        spark_partitions=partitions,
        spark_checkpoint_dir=os.environ.get("DANCU_SPARK_CHECKPOINTS") or None,
        spark_conf=spark_conf or {},
    )


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="bộ máy xử lý / engine: embedded (Polars, mặc định) hoặc spark (Apache Spark); env DANCU_ENGINE",
    )
    parser.add_argument(
        "--spark-master",
        default=None,
        metavar="URL",
        help="Spark master (local[2], spark://host:7077, yarn, k8s://...); mặc định DANCU_SPARK_MASTER hoặc local[2]",
    )
    parser.add_argument(
        "--spark-partitions",
        type=int,
        default=None,
        metavar="N",
        help="số phân vùng shuffle / shuffle partitions (mặc định 4 × số lõi khi local); env DANCU_SPARK_PARTITIONS",
    )
    parser.add_argument(
        "--spark-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="cấu hình Spark thêm, lặp lại được / extra Spark setting, repeatable (spark.executor.memory=8g)",
    )


def engine_of(args: argparse.Namespace) -> EngineResource:
    """The engine the options (or the environment) ask for."""
    conf = {}
    for item in args.spark_conf:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--spark-conf cần dạng KEY=VALUE / needs KEY=VALUE, not {item!r}")
        conf[key.strip()] = value.strip()
    try:
        engine = engine_from_environment(args.engine, args.spark_master, args.spark_partitions, spark_conf=conf)
    except ValueError as error:
        raise CommandError(str(error)) from error
    if args.spark_master and not engine.is_spark:
        raise CommandError("--spark-master chỉ dùng với --engine spark / only with --engine spark")
    return engine


@contextmanager
def spark_for(engine: EngineResource) -> Iterator[SparkSession]:
    """The command's Spark session, stopped when the command ends if the command started it (errors starting it
    become CommandError)."""
    from scaleout.session import SparkUnavailable, started_session, stop_session

    try:
        spark, started = started_session(engine.spark_options())
    except SparkUnavailable as error:
        raise CommandError(str(error)) from error
    try:
        yield spark
    finally:
        if started:
            stop_session(spark)
