"""``--engine embedded|spark`` and ``--spark-master URL`` for the commands that run on either engine."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pipelines.errors import CommandError
from pipelines.resources import ENGINES, EngineResource, engine_from_environment

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


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
