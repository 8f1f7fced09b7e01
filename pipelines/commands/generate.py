"""``dancu generate``: write a deterministic demo province (base, nightly extracts, ground truth)."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from datagen import DEFAULT_NIGHT, DEFAULT_PROVINCE, generate_province
from normalize import units
from pipelines.errors import CommandError
from pipelines.progress import terminal_progress


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="sinh dữ liệu tỉnh mẫu có lỗi cài sẵn và đáp án / generate a demo province with injected defects",
        description=(
            "Sinh cơ sở dữ liệu dân cư mẫu, các tệp trích xuất hằng đêm (cư trú, hộ tịch, cấp CCCD) có lỗi cài "
            "sẵn, và đáp án (truth/). Cùng tham số cho cùng kết quả từng byte."
        ),
    )
    parser.add_argument("--people", type=int, required=True, help="số người trong tỉnh / number of people")
    parser.add_argument("--seed", type=int, default=1, help="hạt giống ngẫu nhiên / random seed (mặc định 1)")
    parser.add_argument("--out", type=Path, required=True, help="thư mục ghi kết quả / output directory")
    parser.add_argument(
        "--date",
        type=date.fromisoformat,
        default=DEFAULT_NIGHT,
        help=f"đêm cuối cùng YYYY-MM-DD / last night (mặc định {DEFAULT_NIGHT.isoformat()})",
    )
    parser.add_argument("--nights", type=int, default=1, help="số đêm trích xuất / number of nights (mặc định 1)")
    parser.add_argument(
        "--province",
        default=DEFAULT_PROVINCE,
        help=f"mã tỉnh sau sáp nhập 2025 / current province code (mặc định {DEFAULT_PROVINCE})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.people < 50:
        raise CommandError("--people phải từ 50 trở lên / --people must be at least 50")
    if args.nights < 1:
        raise CommandError("--nights phải từ 1 trở lên / --nights must be at least 1")
    codes = units.current_provinces()["province_code"].to_list()
    if args.province not in codes:
        raise CommandError(f"mã tỉnh {args.province!r} không tồn tại; các mã hợp lệ: {', '.join(codes)}")
    started = time.perf_counter()
    with terminal_progress("dancu generate: ") as progress:
        result = generate_province(args.people, args.seed, args.out, night=args.date, nights=args.nights,
                                   province_code=args.province, progress=progress)  # fmt: skip
    elapsed = time.perf_counter() - started
    print(f"Đã sinh dữ liệu tỉnh mẫu vào {result.out_dir} trong {elapsed:.1f} giây:")
    print(f"  Cơ sở dữ liệu dân cư: {result.base_rows:,} bản ghi ({result.people:,} người)")
    for relative, rows in result.extract_rows.items():
        print(f"  {relative}: {rows:,} dòng")
    print(f"  Đáp án: {result.persons_path.relative_to(result.out_dir)}, "
          f"{result.defects_path.relative_to(result.out_dir)} ({result.defect_rows:,} lỗi cài sẵn)")  # fmt: skip
    return 0
