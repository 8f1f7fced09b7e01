"""The person files a command reads (``dedupe``, ``match``, ``register``, ``normalize``).

A Parquet file is read as it is (normalized or canonical). A CSV or workbook is read the way the nightly reads its
files (``records.ingest.read_person_file``): any encoding (UTF-8, UTF-16, Windows-1258, legacy TCVN3/VNI fonts), any
delimiter, the canonical columns or an extract's own Vietnamese headers; rows that cannot be accepted are written to
``<out>/<file>.quarantine.parquet`` with their reasons and named on screen, never dropped silently.

On Spark (``--engine spark``) a Parquet file or folder, or a remote path, is read by Spark; a local CSV or workbook is
read on the driver exactly as above (the same rows accepted, the same quarantine) and normalized on Spark, so both
engines see the same records.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Final

import polars as pl

from matchers.engine.files import prepared_records, read_records
from matchers.engine.settings import MatchSettings
from pipelines.errors import CommandError
from pipelines.io import write_parquet_atomic
from records.ingest import IngestResult, read_person_file

if TYPE_CHECKING:  # pyspark is an optional extra: only the type checker imports it here
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["accepted_rows", "read_command_records", "read_spark_records", "report_quarantine"]

TEXT_SUFFIXES: Final = (".csv", ".txt", ".xlsx")
_SHOWN_PROBLEMS: Final = 5


def report_quarantine(result: IngestResult, target: Path) -> None:
    """Write the rows ``result`` could not accept to ``target`` and name the first of them (or remove a ``target``
    left by an earlier run, which would otherwise be read as this run's)."""
    quarantined = result.quarantine
    if not quarantined.height:
        target.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(quarantined, target)
    print(f"  Cách ly {quarantined.height:,} dòng không nhận được / rows quarantined → {target}")
    for row in quarantined.head(_SHOWN_PROBLEMS).iter_rows(named=True):
        print(f"    {row['source_file']}, dòng {row['source_row']}: {row['reason']}")


def accepted_rows(source: Path, *, as_of: dt.date | None = None) -> IngestResult:
    """The file read as the nightly reads it; a file none of whose rows could be read is an error naming why."""
    result = read_person_file(source, as_of=as_of)
    rejected = result.files.filter(result.files["error"].is_not_null())
    if rejected.height and result.accepted.height == 0:
        raise CommandError(rejected["error"][0])
    for row in result.files.iter_rows(named=True):
        if row["source"] != "base":
            print(f"Đọc {row['source_file']} như tệp trích xuất / read as an extract: {row['source']}")
        if row["warnings"]:
            print(f"Lưu ý ({row['source_file']}, đọc theo {row['encoding']}): {row['warnings']}")
    return result


def read_command_records(
    source: Path, settings: MatchSettings, out: Path, *, as_of: dt.date | None = None
) -> pl.DataFrame:
    """``source``'s records ready for ``settings`` (see the module's note); quarantined rows go under ``out``."""
    if not _is_text_file(source):
        return read_records(source, settings, as_of=as_of)
    return prepared_records(_accepted_file(source, out, as_of), settings, as_of=as_of)


def read_spark_records(
    spark: SparkSession, source: Path, settings: MatchSettings, out: Path, *, as_of: dt.date | None = None
) -> DataFrame:
    """``read_command_records`` for the Spark engine: the same records, with ``_row`` in file order."""
    from scaleout.files import prepared_dataframe
    from scaleout.files import read_records as spark_records
    from scaleout.frames import ROW, from_polars

    if not _is_text_file(source):
        return spark_records(spark, source, settings, as_of=as_of)
    accepted = _accepted_file(source, out, as_of)
    numbered = accepted.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
    return prepared_dataframe(from_polars(spark, numbered), settings, as_of=as_of)


def _is_text_file(source: Path) -> bool:
    return source.suffix.lower() in TEXT_SUFFIXES and source.is_file()


def _accepted_file(source: Path, out: Path, as_of: dt.date | None) -> pl.DataFrame:
    result = accepted_rows(source, as_of=as_of)
    report_quarantine(result, out / f"{source.stem}.quarantine.parquet")
    return result.accepted
