"""Reading record files for the command line: Parquet or CSV, canonical or already normalized."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path

import polars as pl

from matchers.engine.settings import MatchSettings

__all__ = ["prepared_records", "read_records", "read_table"]


def read_table(path: Path) -> pl.DataFrame:
    """A Parquet or CSV file (CSV read as text, UTF-8)."""
    if not path.exists():
        raise FileNotFoundError(f"không tìm thấy tệp / file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pl.read_parquet(path)
    if suffix in (".csv", ".txt"):
        return pl.read_csv(path, infer_schema=False)
    raise ValueError(f"chỉ đọc được .parquet hoặc .csv / only .parquet or .csv: {path}")


def read_records(path: Path, settings: MatchSettings, *, as_of: date | None = None) -> pl.DataFrame:
    """Records ready for ``settings``: a file that already has the normalized columns is used as is; a file in the
    canonical schema is normalized first with ``normalize.frame.normalize_records`` (as of ``as_of``)."""
    return prepared_records(read_table(path), settings, as_of=as_of)


def prepared_records(frame: pl.DataFrame, settings: MatchSettings, *, as_of: date | None = None) -> pl.DataFrame:
    """``frame`` ready for ``settings``: used as is when it has the normalized columns, else normalized first, as of
    ``as_of`` (the day a date after which is "in the future"; default today)."""
    derived = {expr.meta.output_name() for expr in settings.derived}
    needed = [c for c in (settings.id_column, *settings.record_columns) if c not in derived]
    if all(column in frame.columns for column in needed):
        return frame
    try:
        normalize = importlib.import_module("normalize.frame").normalize_records
    except (ImportError, AttributeError) as error:
        raise ValueError("tệp chưa chuẩn hóa và chưa có bộ chuẩn hóa / file not normalized, no normalizer") from error
    normalized = normalize(frame, as_of=as_of)
    missing = [c for c in needed if c not in normalized.columns]
    if missing:
        raise ValueError(f"thiếu cột sau chuẩn hóa / missing columns after normalizing: {', '.join(missing)}")
    return normalized
