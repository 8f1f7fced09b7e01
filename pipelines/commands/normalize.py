"""``dancu normalize``: normalize one canonical person file (CSV, XLSX or Parquet) into Parquet.

The file is read exactly as the nightly reads the population base (``records.ingest.read_person_file``): any
encoding, delimiter or line ending of a CSV, a workbook's sheet, a Parquet file; rows that cannot be accepted are
quarantined with their reason into ``<output>.quarantine.parquet`` and named on screen, never dropped silently.
With ``--engine spark`` the file is read the same way and the normalization runs on Spark (the output is then a
folder of Parquet part files, rows in the same order).
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import polars as pl

from normalize.frame import normalize_records, summarize
from pipelines.engine_options import EngineResource, add_engine_options, engine_of, spark_for
from pipelines.errors import CommandError
from pipelines.io import write_parquet_atomic
from pipelines.person_files import accepted_rows, report_quarantine
from pipelines.progress import terminal_progress
from records.progress import tracked

_READABLE = (".csv", ".txt", ".xlsx", ".parquet")
_CHUNK = 200_000


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "normalize",
        help="chuẩn hóa một tệp dân cư theo lược đồ chuẩn / normalize a canonical person file",
        description=(
            "Đọc một tệp dân cư theo lược đồ chuẩn (CSV, XLSX hoặc Parquet; bắt buộc có record_id và full_name) và "
            "ghi Parquet gồm các cột gốc cùng các cột đã chuẩn hóa (xem docs/normalized-columns.md); các dòng không "
            "nhận được ghi vào <output>.quarantine.parquet kèm lý do. "
            "Reads a canonical person file and writes Parquet with the normalized columns beside the originals."
        ),
    )
    parser.add_argument("--input", required=True, type=Path, help="tệp vào / input file (.csv, .xlsx, .parquet)")
    parser.add_argument("--output", required=True, type=Path, help="tệp ra / output file (.parquet)")
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="ngày đối chiếu cho ngày trong tương lai (YYYY-MM-DD, mặc định hôm nay) / reference day",
    )
    add_engine_options(parser)
    parser.set_defaults(handler=run)


def quarantine_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}.quarantine.parquet")


def _normalize_on_spark(
    accepted: pl.DataFrame, as_of: date | None, output: Path, engine: EngineResource
) -> dict[str, int]:
    """``normalize_records`` on Spark over the accepted rows (reading and checking the file is ingest's, on the
    driver as in process); the same rows in the same order, written as a folder of part files."""
    with spark_for(engine) as spark:
        from scaleout.frames import ROW, from_polars, read_parquet, write_parquet
        from scaleout.normalize import normalize_dataframe, summarize_dataframe

        numbered = accepted.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
        normalized = normalize_dataframe(from_polars(spark, numbered), as_of=as_of)
        write_parquet(normalized.drop(ROW), output)
        return summarize_dataframe(read_parquet(spark, output))


def run(args: argparse.Namespace) -> int:
    output: Path = args.output
    source: Path = args.input
    if output.suffix.lower() != ".parquet":
        raise CommandError(f"tệp ra phải là .parquet / output must be a .parquet file: {output}")
    engine = engine_of(args)
    if not source.is_file():
        raise CommandError(f"không tìm thấy tệp / file not found: {source}")
    if source.suffix.lower() not in _READABLE:
        raise CommandError(
            f"định dạng không hỗ trợ / unsupported format '{source.suffix}': dùng .csv, .xlsx hoặc .parquet"
        )
    result = accepted_rows(source, as_of=args.as_of)
    started = time.perf_counter()
    accepted = result.accepted
    if engine.is_spark:
        counts = _normalize_on_spark(accepted, args.as_of, output, engine)
    else:
        # In chunks, to show progress: every record is normalized on its own, so the result is the same.
        starts = list(range(0, max(accepted.height, 1), _CHUNK))
        sizes = [min(_CHUNK, accepted.height - s) for s in starts]
        with terminal_progress("dancu normalize: ") as progress:
            parts = [
                normalize_records(accepted.slice(start, _CHUNK), as_of=args.as_of)
                for start in tracked(progress, "chuẩn hóa / normalizing", starts, sizes)
            ]
        normalized = pl.concat(parts) if len(parts) > 1 else parts[0]
        write_parquet_atomic(normalized, output)
        counts = summarize(normalized)
    elapsed = time.perf_counter() - started
    print(f"Đã chuẩn hóa {counts['rows']:,} bản ghi trong {elapsed:.1f} giây → {output}")
    print(
        f"  Địa chỉ: {counts['address_resolved']:,} xác định, {counts['address_ambiguous']:,} nhiều khả năng "
        f"(phường/xã cũ bị chia tách), {counts['address_unresolved']:,} không xác định"
    )
    print(f"  Số định danh sai cấu trúc: {counts['person_id_invalid']:,}")
    print(f"  Bản ghi có trường gõ bằng mã cũ TCVN3/VNI (đã chuyển đổi): {counts['legacy_encoded_records']:,}")
    report_quarantine(result, quarantine_path(output))
    return 0
