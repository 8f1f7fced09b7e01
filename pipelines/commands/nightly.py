"""``dancu nightly``: run the whole nightly graph on a folder of input files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from checks.expectations import load_gx
from pipelines.defs.ingest.assets import missing_night_folder
from pipelines.engine_options import EngineResource, add_engine_options, engine_of
from pipelines.errors import CommandError
from pipelines.nightly import latest_extract_night, run_nightly, today_in_vietnam, write_run_summary
from pipelines.nightstate import DEFAULT_KEEP_NIGHTS, KEEP_NIGHTS_ENV
from pipelines.partitions import nightly_partitions
from pipelines.progress import terminal_progress
from pipelines.resources import DEFAULT_OUTPUT_DIR
from pipelines.timing import freeze_long_lived


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "nightly",
        help="chạy toàn bộ quy trình hằng đêm / run the whole nightly job",
        description=(
            "Chạy toàn bộ đồ thị Dagster cho một đêm: nạp → chuẩn hóa → ghép nối → kiểm tra → báo cáo và nhiệm vụ "
            "chỉnh sửa. Runs every stage for one night through Dagster, in process. INPUT holds "
            "population_base.parquet and the extract files (in INPUT/extracts/YYYY-MM-DD/ or INPUT itself)."
        ),
    )
    parser.add_argument("--input", required=True, type=Path, help="thư mục dữ liệu vào / input folder")
    parser.add_argument("--date", help="đêm cần chạy YYYY-MM-DD (mặc định: đêm mới nhất có tệp, hoặc hôm nay)")
    parser.add_argument("--output", type=Path, default=Path(DEFAULT_OUTPUT_DIR), help="thư mục kết quả (mặc định var/)")
    parser.add_argument("--quiet", action="store_true", help="chỉ in cảnh báo và lỗi của Dagster")
    parser.add_argument(
        "--full",
        action="store_true",
        help="dựng lại toàn bộ trạng thái từ ảnh chụp đêm nay (cùng kết quả) / rebuild the state from the snapshot",
    )
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="ước lượng lại mô hình ghép nối (kéo theo --full) / re-estimate the matching model (implies --full)",
    )
    parser.add_argument(
        "--keep-nights",
        type=int,
        help=f"giữ kết quả và trạng thái của N đêm gần nhất (mặc định ${KEEP_NIGHTS_ENV} hoặc {DEFAULT_KEEP_NIGHTS})",
    )
    add_engine_options(parser)
    parser.set_defaults(handler=handle)


def resolve_night(input_dir: Path, date: str | None) -> str:
    if date:
        import datetime as dt

        try:
            return dt.date.fromisoformat(date).isoformat()
        except ValueError:
            raise CommandError(f"--date phải có dạng YYYY-MM-DD, nhận được '{date}'") from None
    return latest_extract_night(input_dir) or today_in_vietnam().isoformat()


def check_night(night: str) -> None:
    """A night the schedule can have: from the first partition to today in Vietnam (a later folder is a typo or a
    clock set wrong, and Dagster would only answer with a traceback)."""
    import datetime as dt

    day, today = dt.date.fromisoformat(night), today_in_vietnam()
    first = nightly_partitions.start.date()
    if day > today:
        raise CommandError(
            f"đêm {night} chưa tới: hôm nay ở Việt Nam là {today.isoformat()} (thư mục hoặc --date sai, hay đồng hồ "
            f"máy sai?) / night {night} is in the future"
        )
    if day < first:
        raise CommandError(
            f"đêm {night} trước đêm đầu tiên của lịch chạy ({first.isoformat()}) / night {night} is before the first "
            "partition"
        )


def run_and_report(
    input_dir: Path,
    output_dir: Path,
    night: str,
    *,
    quiet: bool = False,
    full: bool = False,
    retrain: bool = False,
    keep_nights: int | None = None,
    engine: EngineResource | None = None,
) -> int:
    if not input_dir.is_dir():
        raise CommandError(f"không tìm thấy thư mục dữ liệu vào: {input_dir}")
    if not (input_dir / "population_base.parquet").exists():
        raise CommandError(f"{input_dir} không có population_base.parquet (ảnh chụp cơ sở dữ liệu dân cư)")
    if keep_nights is not None and keep_nights < 1:
        raise CommandError("--keep-nights phải từ 1 trở lên / must be at least 1")
    check_night(night)
    mode = " (dựng lại toàn bộ trạng thái / full rebuild)" if full or retrain else ""
    if engine is not None and engine.is_spark:
        mode += f" — chuẩn hóa trên Spark / normalizing on Spark ({engine.spark_master})"
    print(f"dancu nightly: đêm {night}, dữ liệu vào {input_dir}, kết quả {output_dir}{mode}", flush=True)
    nothing_tonight = missing_night_folder(input_dir, night)
    if nothing_tonight:
        print(f"CẢNH BÁO / WARNING: {nothing_tonight}", file=sys.stderr, flush=True)
    with terminal_progress():
        outcome = run_nightly(
            input_dir,
            output_dir,
            night,
            log_level="WARNING" if quiet else "INFO",
            full=full,
            retrain=retrain,
            keep_nights=keep_nights,
            engine=engine,
        )
    print("\nKết quả theo tài sản (asset):          dòng       giây   RSS đỉnh MB")
    for key, metadata in outcome.materialized.items():
        rows = metadata.get("rows", metadata.get("rows_accepted", ""))
        where = metadata.get("path") or metadata.get("html") or ""
        seconds, peak = metadata.get("seconds", ""), metadata.get("peak_rss_mb", "")
        print(f"  {key:<22} {rows!s:>12} {seconds!s:>10} {peak!s:>12}  {where}")
    summary = write_run_summary(output_dir, outcome)
    print(f"\nTóm tắt lượt chạy / run summary: {summary}")
    reports = output_dir / "reports" / night
    print(f"\nBáo cáo: {reports}")
    print(f"Dữ liệu từng bước: {output_dir / 'nights' / night}")
    if not outcome.success:
        print("dancu nightly: có bước bị lỗi — xem nhật ký ở trên / a step failed, see the log above", file=sys.stderr)
        return 1
    rejected = outcome.materialized.get("ingest_files", {}).get("rejected_files") or []
    for line in rejected if isinstance(rejected, list) else []:
        print(f"CẢNH BÁO: tệp bị cách ly toàn bộ / file quarantined whole: {line}", file=sys.stderr)
    if nothing_tonight:
        print(f"dancu nightly: hoàn tất, nhưng không có tệp trích xuất nào cho đêm {night} / done, no extract files")
        return 0
    print("dancu nightly: hoàn tất / done")
    return 0


def handle(args: argparse.Namespace) -> int:
    night = resolve_night(args.input, args.date)
    # This process runs one night: the checks' Great Expectations is imported now, with everything else alive
    # before the run, and frozen out of the collection each asset starts with (pipelines.timing).
    load_gx()
    freeze_long_lived()
    return run_and_report(
        args.input,
        args.output,
        night,
        quiet=args.quiet,
        full=args.full,
        retrain=args.retrain,
        keep_nights=args.keep_nights,
        engine=engine_of(args),
    )
