"""Reading record files on Spark the way ``matchers.engine.files`` reads them in process."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from matchers.engine.settings import MatchSettings
from scaleout.frames import read_table
from scaleout.normalize import normalize_dataframe

__all__ = ["prepared_dataframe", "read_records"]


def read_records(spark: SparkSession, path: Path, settings: MatchSettings, *, as_of: date | None = None) -> DataFrame:
    """Records ready for ``settings`` (with ``_row``): a file that already has the normalized columns is used as
    is; a file in the canonical schema is normalized first (``scaleout.normalize``, as of ``as_of``)."""
    return prepared_dataframe(read_table(spark, path), settings, as_of=as_of)


def prepared_dataframe(frame: DataFrame, settings: MatchSettings, *, as_of: date | None = None) -> DataFrame:
    """``frame`` (with ``_row``) ready for ``settings``: ``matchers.engine.files.prepared_records`` on Spark."""
    derived = {expr.meta.output_name() for expr in settings.derived}
    needed = [c for c in (settings.id_column, *settings.record_columns) if c not in derived]
    if all(column in frame.columns for column in needed):
        return frame
    normalized = normalize_dataframe(frame, as_of=as_of)
    missing = [c for c in needed if c not in normalized.columns]
    if missing:
        raise ValueError(f"thiếu cột sau chuẩn hóa / missing columns after normalizing: {', '.join(missing)}")
    return normalized
