"""``dancu normalize``: normalize one canonical person file (CSV, XLSX or Parquet) into Parquet."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import polars as pl

from normalize.frame import normalize_records, summarize
from pipelines.engine_options import add_engine_options, engine_of, spark_for
from pipelines.errors import CommandError
from pipelines.io import write_parquet_atomic
from pipelines.resources import EngineResource
from records.schema import SchemaError, conform

_READABLE = (".csv", ".xlsx", ".parquet")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "normalize",
        help="chuẩn hóa một tệp dân cư theo lược đồ chuẩn / normalize a canonical person file",
        description=(
            "Đọc một tệp dân cư theo lược đồ chuẩn (CSV, XLSX hoặc Parquet; tối thiểu 9 cột đầu) và ghi Parquet "
            "gồm các cột gốc cùng các cột đã chuẩn hóa (xem docs/normalized-columns.md). "
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


def read_person_file(path: Path) -> pl.DataFrame:
    """Read a person file with every column as text (IDs keep their leading zeros)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise CommandError(f"không tìm thấy tệp / file not found: {path}")
    if suffix not in _READABLE:
        raise CommandError(f"định dạng không hỗ trợ / unsupported format '{suffix}': dùng .csv, .xlsx hoặc .parquet")
    try:
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
        if suffix == ".xlsx":
            return pl.read_excel(path, infer_schema_length=0)
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, ValueError) as error:
        raise CommandError(f"không đọc được / cannot read {path}: {error}") from error


def _clean_headers(columns: list[str]) -> list[str]:
    # BOM-prefixed or padded headers are a spreadsheet artefact, not a different column.
    return [c.strip().lstrip("\ufeff") for c in columns]


def run(args: argparse.Namespace) -> int:
    output: Path = args.output
    if output.suffix.lower() != ".parquet":
        raise CommandError(f"tệp ra phải là .parquet / output must be a .parquet file: {output}")
    engine = engine_of(args)
    if engine.is_spark:
        return _run_on_spark(args, engine)
    frame = read_person_file(args.input)
    frame = frame.rename(dict(zip(frame.columns, _clean_headers(frame.columns), strict=True)))
    try:
        canonical = conform(frame)
    except SchemaError as error:
        raise CommandError(str(error)) from error
    started = time.perf_counter()
    normalized = normalize_records(canonical, as_of=args.as_of)
    elapsed = time.perf_counter() - started
    write_parquet_atomic(normalized, output)
    _print_counts(summarize(normalized), elapsed, output)
    return 0


def _run_on_spark(args: argparse.Namespace, engine: EngineResource) -> int:
    """The same normalization on Spark: the output is a folder of Parquet part files, rows in input order."""
    path: Path = args.input
    if not path.is_file() and not (path.is_dir() and path.suffix.lower() == ".parquet"):
        raise CommandError(f"không tìm thấy tệp / file not found: {path}")
    if path.suffix.lower() not in _READABLE:
        raise CommandError(
            f"định dạng không hỗ trợ / unsupported format '{path.suffix}': dùng .csv, .xlsx hoặc .parquet"
        )
    with spark_for(engine) as spark:
        from scaleout.frames import ROW, from_polars, in_input_order, read_table, write_parquet
        from scaleout.normalize import normalize_dataframe, summarize_dataframe

        if path.suffix.lower() == ".xlsx":
            frame = read_person_file(path)
            df = from_polars(spark, frame.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64)))
        else:
            df = read_table(spark, path)
        df = df.toDF(*_clean_headers(df.columns))
        started = time.perf_counter()
        try:
            normalized = normalize_dataframe(df, as_of=args.as_of)
        except SchemaError as error:
            raise CommandError(str(error)) from error
        write_parquet(in_input_order(normalized).drop(ROW), args.output)
        elapsed = time.perf_counter() - started
        counts = summarize_dataframe(spark.read.parquet(str(args.output)))
    _print_counts(counts, elapsed, args.output)
    return 0


def _print_counts(counts: dict[str, int], elapsed: float, output: Path) -> None:
    print(f"Đã chuẩn hóa {counts['rows']:,} bản ghi trong {elapsed:.1f} giây → {output}")
    print(
        f"  Địa chỉ: {counts['address_resolved']:,} xác định, {counts['address_ambiguous']:,} nhiều khả năng "
        f"(phường/xã cũ bị chia tách), {counts['address_unresolved']:,} không xác định"
    )
    print(f"  Số định danh sai cấu trúc: {counts['person_id_invalid']:,}")
    print(f"  Bản ghi có trường gõ bằng mã cũ TCVN3/VNI (đã chuyển đổi): {counts['legacy_encoded_records']:,}")
