"""Between Spark and Polars: schemas, Arrow batches, row numbers in the embedded engine's order, Parquet I/O.

Every distributed step is ``map_frames``: Spark hands a partition's rows as Arrow batches, the engine's own Polars
function turns them into a frame, and the frame goes back as Arrow with exactly the declared Spark types.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_schema

from matchers.engine.settings import MatchSettings

__all__ = [
    "ROW",
    "by_row",
    "collect_polars",
    "empty_polars",
    "from_polars",
    "input_columns",
    "is_local_path",
    "map_frames",
    "materialize",
    "output_schema",
    "read_parquet",
    "read_table",
    "spark_schema",
    "spark_type",
    "with_row_numbers",
    "write_parquet",
]

ROW = "_row"
"""Dense row number (0..n-1) of a record in the order the embedded engine reads the same data."""

_BATCH_ROWS = 100_000
"""Rows handed to a Polars function at once: the engine works per distinct value, so bigger batches share more."""


def spark_type(dtype: Any) -> T.DataType:
    """The Spark type a Polars column travels as (unsigned integers widen; UInt64 keeps its bits in a long)."""
    simple: dict[type[pl.DataType], T.DataType] = {
        pl.String: T.StringType(),
        pl.Categorical: T.StringType(),
        pl.Enum: T.StringType(),
        pl.Null: T.StringType(),
        pl.Boolean: T.BooleanType(),
        pl.Int8: T.ByteType(),
        pl.Int16: T.ShortType(),
        pl.Int32: T.IntegerType(),
        pl.Int64: T.LongType(),
        pl.UInt8: T.ShortType(),
        pl.UInt16: T.IntegerType(),
        pl.UInt32: T.LongType(),
        pl.UInt64: T.LongType(),
        pl.Float32: T.FloatType(),
        pl.Float64: T.DoubleType(),
        pl.Date: T.DateType(),
    }
    if isinstance(dtype, pl.List):
        return T.ArrayType(spark_type(dtype.inner))
    if isinstance(dtype, pl.Struct):
        return T.StructType([T.StructField(f.name, spark_type(f.dtype)) for f in dtype.fields])
    if isinstance(dtype, pl.Datetime):
        return T.TimestampType() if dtype.time_zone else T.TimestampNTZType()
    for kind, target in simple.items():
        if dtype == kind or isinstance(dtype, kind):
            return target
    raise TypeError(f"no Spark type for Polars {dtype}")


def spark_schema(schema: pl.Schema) -> T.StructType:
    return T.StructType([T.StructField(name, spark_type(dtype)) for name, dtype in schema.items()])


def _spark_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """UInt64 (hash keys) reinterpreted as Int64 (same bits, equality kept); Null columns typed as text."""
    casts = []
    for name, dtype in frame.schema.items():
        if dtype == pl.UInt64:
            casts.append(pl.col(name).reinterpret(signed=True))
        elif dtype == pl.Null:
            casts.append(pl.col(name).cast(pl.String))
    return frame.with_columns(casts) if casts else frame


def _to_arrow(frame: pl.DataFrame, target: pa.Schema) -> pa.Table:
    return _spark_ready(frame).select(target.names).to_arrow().cast(target)


def _rebatch(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pl.DataFrame]:
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pl.from_arrow(pa.Table.from_batches(pending))  # type: ignore[misc]
            pending, count = [], 0
    if count:
        yield pl.from_arrow(pa.Table.from_batches(pending))  # type: ignore[misc]


def map_frames(
    df: DataFrame,
    function: Callable[[pl.DataFrame], pl.DataFrame],
    schema: T.StructType,
    *,
    batch_rows: int = _BATCH_ROWS,
) -> DataFrame:
    """``mapInArrow`` with a Polars function: each partition in frames of up to ``batch_rows`` rows."""
    target = to_arrow_schema(schema)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for frame in _rebatch(batches, batch_rows):
            yield from _to_arrow(function(frame), target).to_batches()

    return df.mapInArrow(run, schema)


RELIABLE_CHECKPOINTS = "spark.dancu.reliableCheckpoints"
"""Session setting: ``true`` to write ``materialize``d frames to the checkpoint folder (survives a lost executor)
instead of keeping them in the executors' block stores."""


_ADAPTIVE = "spark.sql.adaptive.enabled"


def materialize(df: DataFrame, *, keep_layout: bool = False) -> DataFrame:
    """``df`` computed once and kept (memory, spilling to disk), its plan cut to a leaf.

    Every step reads the frames of the steps before it several times; persisting alone keeps their whole plans,
    which Spark analyses again at every use and which grow with each step (minutes of driver time per night).

    ``keep_layout``: the kept frame remembers how its rows are partitioned and sorted (``by_row``), so joins on
    that key do not shuffle it again. Adaptive execution is off while it is computed: an adaptive plan does not
    tell its layout until it has run, and a checkpoint taken of it forgets the layout.
    """
    spark = df.sparkSession
    reliable = spark.conf.get(RELIABLE_CHECKPOINTS, "false") == "true"
    adaptive = spark.conf.get(_ADAPTIVE, "true")
    if keep_layout:
        spark.conf.set(_ADAPTIVE, "false")
    try:
        return df.checkpoint(eager=True) if reliable else df.localCheckpoint(eager=True)
    finally:
        if keep_layout:
            spark.conf.set(_ADAPTIVE, adaptive or "true")


def by_row(df: DataFrame) -> DataFrame:
    """``df`` hashed on ``_row`` into the session's shuffle partitions and sorted by it within each.

    A join on ``_row`` (or on a column that is ``_row`` renamed) with a frame laid out so shuffles only the other
    side, and sorts nothing on this one, as long as the layout is kept: ``materialize`` keeps it, a Python pass
    (``map_frames``) does not. The partitions are not merged by adaptive execution (an explicit repartition).
    """
    partitions = int(df.sparkSession.conf.get("spark.sql.shuffle.partitions") or 200)
    return df.repartition(partitions, ROW).sortWithinPartitions(ROW)


def input_columns(settings: MatchSettings, columns: Iterable[str], df: DataFrame) -> list[str]:
    """The columns of ``df`` that computing ``columns`` per partition reads: a derived column is computed from its
    inputs. Only these cross from Spark to Python: every value crossing costs a conversion each way."""
    derived = {expr.meta.output_name(): expr for expr in settings.derived}
    wanted: list[str] = []
    for column in columns:
        if column in derived and column not in df.columns:
            wanted.extend(derived[column].meta.root_names())
        else:
            wanted.append(column)
    return [c for c in dict.fromkeys(wanted) if c in df.columns]


def empty_polars(df: DataFrame) -> pl.DataFrame:
    """A Polars frame with no rows and the dtypes the rows of ``df`` arrive with in ``map_frames`` (from the
    schema alone: no Spark job)."""
    arrow = to_arrow_schema(df.schema)
    frame = pl.from_arrow(pa.Table.from_batches([], schema=arrow))
    assert isinstance(frame, pl.DataFrame)
    return frame


def output_schema(function: Callable[[pl.DataFrame], pl.DataFrame], df: DataFrame) -> T.StructType:
    """The Spark schema of ``function``'s output, found by running it on no rows."""
    return spark_schema(function(empty_polars(df)).schema)


def from_polars(spark: SparkSession, frame: pl.DataFrame) -> DataFrame:
    """A Spark DataFrame of a (small) Polars frame, rows in order."""
    schema = spark_schema(frame.schema)
    return spark.createDataFrame(_to_arrow(frame, to_arrow_schema(schema)), schema=schema)


def collect_polars(df: DataFrame) -> pl.DataFrame:
    """Collect ``df`` to the driver as Polars (only for small results: counts, patterns, samples)."""
    frame = pl.from_arrow(df.toArrow())
    assert isinstance(frame, pl.DataFrame)
    return frame


def is_local_path(path: str | Path) -> bool:
    text = str(path)
    return "://" not in text or text.startswith("file://")


def _qualified(path: str | Path) -> str:
    """A local path made absolute here: a Spark Connect server would resolve a relative one against its own
    working folder, not this process's."""
    text = str(path)
    return str(Path(text).resolve()) if "://" not in text else text


def _files_column(df: DataFrame) -> DataFrame:
    """``_file``: the file each row was read from ("" when ``df`` was not read from files)."""
    try:
        return df.withColumn("_file", F.col("_metadata.file_path"))
    except AnalysisException:  # a frame built in memory has no file metadata
        return df.withColumn("_file", F.lit(""))


def with_row_numbers(df: DataFrame, *, name: str = ROW) -> DataFrame:
    """``df`` with a dense row number: files in path order, rows in file order (partition order otherwise).

    Call it on a frame straight from ``spark.read`` (or ``createDataFrame``). The numbers are what the embedded
    engine's row positions are for the same data read by Polars, so pair orientation and the random pairs u is
    estimated on are the same in both engines.
    """
    spark = df.sparkSession
    numbered = _files_column(df).withColumn("_mono", F.monotonically_increasing_id())
    numbered = numbered.withColumn("_part", F.shiftright(F.col("_mono"), 33))
    slices = (
        numbered.groupBy("_file", "_part")
        .agg(F.count(F.lit(1)).alias("_n"), F.min("_mono").alias("_first"))
        .orderBy("_file", "_part")
        .collect()
    )
    # Within one file the partitions holding its splits come in split order (Spark sorts splits by size with a
    # stable sort, so a file's equal-sized splits keep their order and its shorter last split comes last).
    start = 0
    offsets = []
    for row in slices:
        offsets.append((row["_file"], int(row["_part"]), int(row["_first"]), start))
        start += int(row["_n"])
    table = spark.createDataFrame(offsets or [("", -1, 0, 0)], "_file string, _part long, _first long, _start long")
    joined = numbered.join(F.broadcast(table), ["_file", "_part"])
    return joined.withColumn(name, F.col("_start") + F.col("_mono") - F.col("_first")).drop(
        "_file", "_part", "_mono", "_first", "_start"
    )


def read_parquet(spark: SparkSession, path: str | Path) -> DataFrame:
    """A Parquet file or folder of part files as it is (no row numbers)."""
    return spark.read.parquet(_qualified(path))


def read_table(spark: SparkSession, path: str | Path) -> DataFrame:
    """A Parquet file or folder of part files, or a CSV file (every column as text, RFC 4180 quoting), with
    ``_row`` numbers (``with_row_numbers``)."""
    text = _qualified(path)
    if is_local_path(text) and not Path(text.removeprefix("file://")).exists():
        raise FileNotFoundError(f"không tìm thấy tệp / file not found: {text}")
    suffix = Path(text.rstrip("/")).suffix.lower()
    if suffix == ".parquet":
        df = spark.read.parquet(text)
    elif suffix in (".csv", ".txt"):
        df = (
            spark.read.option("header", "true")
            .option("inferSchema", "false")
            .option("escape", '"')
            .option("multiLine", "true")
            .option("encoding", "UTF-8")
            .csv(text)
        )
    else:
        raise ValueError(f"chỉ đọc được .parquet hoặc .csv / only .parquet or .csv: {text}")
    return with_row_numbers(df)


def write_parquet(
    df: DataFrame, path: str | Path, *, order: Sequence[str] = (), drop: Sequence[str] = (), compression: str = "zstd"
) -> None:
    """Write ``df`` as a Parquet folder of part files (zstd, as the embedded engine writes); on a local disk the
    previous output is replaced only once the new one is complete (a crash leaves the old one). ``order``: sort the
    rows first (part files then hold them in that order); ``drop``: columns left out (after sorting)."""
    if order:
        df = df.orderBy(*order)
    if drop:
        df = df.drop(*drop)
    text = _qualified(path)
    if not is_local_path(text):
        df.write.mode("overwrite").option("compression", compression).parquet(text)
        return
    target = Path(text.removeprefix("file://"))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    df.write.mode("overwrite").option("compression", compression).parquet(str(staging))
    # Only the part files stay: Hadoop's local checksums (.crc) and the _SUCCESS marker are not Parquet, and Polars
    # and DuckDB read a folder as the Parquet files in it.
    for extra in staging.iterdir():
        if not extra.name.endswith(".parquet"):
            extra.unlink()
    previous = target.with_name(f".{target.name}.{uuid.uuid4().hex}.old")
    if target.exists():
        os.replace(target, previous)
    os.replace(staging, target)
    if previous.is_dir():
        shutil.rmtree(previous, ignore_errors=True)
    elif previous.exists():
        previous.unlink()


def in_input_order(df: DataFrame) -> DataFrame:
    """``df`` with its rows in ``_row`` order when it was read from several files (one file's partitions already
    come in file order, and row-by-row steps keep it, so the sort is skipped then)."""
    return df.orderBy(ROW) if len(df.inputFiles()) > 1 else df
