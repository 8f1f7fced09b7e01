"""Starting and stopping the Spark session dancu runs on.

The defaults make a laptop or CI machine work out of the box (``local[2]``, loopback networking, the driver's own
Python for the workers); a real cluster sets its master, memory and checkpoint folder through ``SparkOptions``.
Nothing here reaches a package repository: no ``spark.jars.packages``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["SparkOptions", "SparkUnavailable", "spark_session", "start_session", "started_session", "stop_session"]

_PANDAS_WARNING = "PySpark does not yet fully support pandas >= 3"
_LOOPBACK = ("local", "spark://127.0.0.1", "spark://localhost")
_MIN_PARTITION_SIZE = "64k"
"""Adaptive execution merges small shuffle partitions down to this size (Spark's default: 1 MB). A megabyte of pairs
is tens of thousands of rows for the engine's Python functions, seconds of work: merged to 1 MB, the 8 partitions
of 200,000 people's pairs ran as 3 tasks on 2 cores, one core idle for a third of the stage."""


class SparkUnavailable(RuntimeError):
    """pyspark (or Java) is missing: the Spark engine cannot start."""


@dataclass(frozen=True, slots=True)
class SparkOptions:
    """How to reach and size the Spark session.

    ``master``: ``local[N]``, ``spark://host:7077`` (standalone), ``yarn``, ``k8s://https://...``; ``sc://host:15002``
    for a Spark Connect server (its own master, memory and ``spark.checkpoint.dir`` are set where it was started; only
    ``shuffle_partitions`` and ``conf`` SQL settings apply from here).
    ``shuffle_partitions``: partitions of every shuffle and the number of coarse groups (default: 4 per core of a
    local master, else Spark's setting). ``checkpoint_dir``: where connected-component rounds are checkpointed;
    on a cluster it must be shared storage (HDFS, S3, a shared mount).
    """

    master: str = "local[2]"
    app_name: str = "dancu"
    shuffle_partitions: int | None = None
    driver_memory: str | None = None
    executor_memory: str | None = None
    checkpoint_dir: str | None = None
    conf: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_connect(self) -> bool:
        """A Spark Connect server (``sc://``): a client session, no SparkContext on this side."""
        return self.master.startswith("sc://")

    @property
    def is_loopback(self) -> bool:
        """A master on this machine: everything may bind to 127.0.0.1."""
        return self.master.startswith(_LOOPBACK)

    def default_partitions(self) -> int | None:
        if self.shuffle_partitions is not None:
            return self.shuffle_partitions
        if self.master.startswith("local"):
            inside = self.master.partition("[")[2].rstrip("]")
            cores = (os.cpu_count() or 2) if inside in ("", "*") else int(inside.split(",")[0])
            return 4 * max(1, cores)
        return None


def _quiet_pandas_warning() -> None:
    # pyspark 4.3 warns on every Arrow function while pandas >= 3 is installed; dancu never hands pandas frames to
    # Spark (Arrow and Polars only), so the warning says nothing about this code.
    warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)


def start_session(options: SparkOptions | None = None) -> SparkSession:
    """A Spark session for ``options`` (an existing one with the same master is reused by Spark)."""
    options = options or SparkOptions()
    _quiet_pandas_warning()
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise SparkUnavailable(
            "pyspark chưa được cài / pyspark is not installed: pip install 'dancu[spark]' (needs Java 17+)"
        ) from error
    if options.is_connect:
        return _connect_session(SparkSession, options)
    if options.is_loopback:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # The workers must run this Python (it has pyarrow, polars and dancu); the system Python has none of them.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(options.master)
        .appName(options.app_name)
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.adaptive.coalescePartitions.minPartitionSize", _MIN_PARTITION_SIZE)
        .config("spark.executorEnv.PYTHONWARNINGS", f"ignore:{_PANDAS_WARNING}:FutureWarning")
    )
    if options.is_loopback:
        builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
    partitions = options.default_partitions()
    if partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(partitions))
    if options.driver_memory:
        builder = builder.config("spark.driver.memory", options.driver_memory)
    if options.executor_memory:
        builder = builder.config("spark.executor.memory", options.executor_memory)
    for key, value in options.conf.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # py4j / Java start-up errors have no common base class
        raise SparkUnavailable(
            f"không khởi động được Spark / Spark did not start ({options.master}): {error}"
        ) from error
    spark.sparkContext.setLogLevel("ERROR")
    checkpoints = options.checkpoint_dir or tempfile.mkdtemp(prefix="dancu-spark-checkpoints-")
    spark.sparkContext.setCheckpointDir(checkpoints)
    return spark


def _connect_session(session_class: type[SparkSession], options: SparkOptions) -> SparkSession:
    """A client session of the Spark Connect server at ``options.master``: the session settings are SQL ones
    (the server was started with its master, memory and checkpoint folder)."""
    if options.driver_memory or options.executor_memory or options.checkpoint_dir:
        raise SparkUnavailable(
            "Spark Connect: bộ nhớ và thư mục checkpoint đặt khi khởi động máy chủ / memory and the checkpoint "
            "folder are set where the Connect server is started (spark.checkpoint.dir), not by the client"
        )
    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.minPartitionSize": _MIN_PARTITION_SIZE,
        **({"spark.sql.shuffle.partitions": str(options.shuffle_partitions)} if options.shuffle_partitions else {}),
        **options.conf,
    }
    try:
        spark = session_class.builder.remote(options.master).appName(options.app_name).getOrCreate()
        for key, value in settings.items():
            spark.conf.set(key, value)
    except Exception as error:  # gRPC errors have no common base class with the classic start-up errors
        raise SparkUnavailable(
            f"không kết nối được Spark Connect / Spark Connect not reachable ({options.master}): {error}"
        ) from error
    return spark


def started_session(options: SparkOptions | None = None) -> tuple[SparkSession, bool]:
    """``start_session``, and whether this call started it (False: a session of this process was reused, and
    whoever started it stops it)."""
    active = _active_session()
    spark = start_session(options)
    return spark, active is None


def _active_session() -> SparkSession | None:
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - depends on the installation
        return None
    return SparkSession.getActiveSession()


def stop_session(spark: SparkSession | None) -> None:
    """Stop the session and its JVM-side context (safe to call twice)."""
    if spark is not None:
        spark.stop()


@contextmanager
def spark_session(options: SparkOptions | None = None) -> Iterator[SparkSession]:
    """``with spark_session(SparkOptions(master=...)) as spark:`` — stopped on the way out if it started here."""
    spark, started = started_session(options)
    try:
        yield spark
    finally:
        if started:
            stop_session(spark)
