"""``dancu demo``: generate a demo province if absent, then run the nightly job on it."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.commands.nightly import resolve_night, run_and_report
from pipelines.resources import DEFAULT_OUTPUT_DIR

DEMO_PEOPLE = 20_000
DEMO_SEED = 6


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="tạo tỉnh mẫu (nếu chưa có) rồi chạy quy trình hằng đêm / generate a demo province, run the nightly job",
        description=(
            "Tạo một tỉnh mẫu có lỗi cài sẵn (nếu thư mục chưa có) và chạy quy trình hằng đêm trên nó với cấu hình "
            "nhúng mặc định (Parquet, DuckDB, SQLite). Generates a demo province into --dir if absent, then runs "
            "the nightly job on its latest night."
        ),
    )
    parser.add_argument("--dir", type=Path, default=Path("demo"), help="thư mục tỉnh mẫu (mặc định demo/)")
    parser.add_argument("--output", type=Path, default=Path(DEFAULT_OUTPUT_DIR), help="thư mục kết quả (mặc định var/)")
    parser.add_argument("--people", type=int, default=DEMO_PEOPLE, help=f"số người (mặc định {DEMO_PEOPLE})")
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help=f"hạt giống ngẫu nhiên (mặc định {DEMO_SEED})")
    parser.add_argument("--quiet", action="store_true", help="chỉ in cảnh báo và lỗi của Dagster")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from datagen import generate_province
    from pipelines.nightly import today_in_vietnam

    if not (args.dir / "population_base.parquet").exists():
        print(f"dancu demo: tạo tỉnh mẫu {args.people} người vào {args.dir} …", flush=True)
        generate_province(args.people, args.seed, args.dir, night=today_in_vietnam())
    night = resolve_night(args.dir, None)
    return run_and_report(args.dir, args.output, night, quiet=args.quiet)
