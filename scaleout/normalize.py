"""Normalization on Spark: ``normalize.frame.normalize_records`` on every partition, unchanged.

Normalization is row by row (each value is normalized from itself; the work is shared per distinct value inside a
batch only for speed), so a partition gives the rows the whole frame would.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from normalize.frame import normalize_records, summarize
from records.schema import conform
from scaleout.frames import ROW, collect_polars, empty_polars, from_polars, map_frames, spark_schema

__all__ = ["normalize_dataframe", "normalize_on_spark", "summarize_dataframe"]


def normalize_dataframe(df: DataFrame, *, as_of: date | None = None, batch_rows: int = 100_000) -> DataFrame:
    """Canonical person records (+ ``_row``, kept) → the same records with every normalized column added.

    The columns are checked on the driver first (``records.schema.conform``: a missing required or an unknown
    column is a ``SchemaError`` before any work starts). ``as_of``: the day "future" dates are judged against
    (default: today, fixed once here so every partition uses the same day). ``batch_rows``: rows normalized at
    once (bigger batches share more distinct values).
    """
    today = as_of or date.today()
    carried = [ROW] if ROW in df.columns else []
    canonical_columns = [c for c in df.columns if c not in carried]
    conform(pl.DataFrame(schema={c: pl.String for c in canonical_columns}))  # raises SchemaError, names columns

    def normalize_batch(batch: pl.DataFrame) -> pl.DataFrame:
        normalized = normalize_records(conform(batch.select(canonical_columns)), as_of=today)
        return pl.concat([batch.select(carried), normalized], how="horizontal") if carried else normalized

    empty = pl.DataFrame(schema={**{c: pl.String for c in canonical_columns}, **{c: pl.Int64 for c in carried}})
    schema = spark_schema(normalize_batch(empty).schema)
    strings = df.select(*(df[c].cast("string").alias(c) for c in canonical_columns), *carried)
    return map_frames(strings, normalize_batch, schema, batch_rows=batch_rows)


def normalize_on_spark(spark: SparkSession, records: pl.DataFrame, *, as_of: date | None = None) -> pl.DataFrame:
    """``normalize_records(records, as_of=as_of)``, computed on Spark: the same rows in the same order with the same
    dtypes (Spark's types mapped back to the engine's). For the pipeline's stages that hand Polars frames on."""
    numbered = records.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
    normalized = normalize_dataframe(from_polars(spark, numbered), as_of=as_of)
    collected = collect_polars(normalized).sort(ROW).drop(ROW)
    expected = normalize_records(records.clear(), as_of=as_of or date.today()).schema
    return collected.select(list(expected)).cast(expected)


def summarize_dataframe(normalized: DataFrame) -> dict[str, int]:
    """``normalize.frame.summarize`` of a normalized Spark DataFrame: the per-partition counts, summed."""

    def count_batch(batch: pl.DataFrame) -> pl.DataFrame:
        return pl.DataFrame([summarize(batch)], schema=dict.fromkeys(names, pl.Int64))

    names = list(summarize(empty_polars(normalized)))
    schema = spark_schema(pl.Schema(dict.fromkeys(names, pl.Int64)))
    totals = map_frames(normalized, count_batch, schema).select(*(F.sum(c).alias(c) for c in names)).first()
    return {name: int(totals[name] or 0) if totals is not None else 0 for name in names}
