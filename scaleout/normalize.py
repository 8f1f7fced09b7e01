"""Normalization on Spark: ``normalize.frame.normalize_records`` on every partition, unchanged.

Normalization is row by row (each value is normalized from itself; the work is shared per distinct value inside a
batch only for speed), so a partition gives the rows the whole frame would.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from pyspark.sql import DataFrame

from normalize.frame import normalize_records
from records.schema import conform
from scaleout.frames import ROW, map_frames, spark_schema

__all__ = ["normalize_dataframe"]


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
