"""``dancu console``: serve the correction-queue and match-review console on 127.0.0.1."""

from __future__ import annotations

import argparse
import os

import polars as pl
from sqlalchemy import Engine

from pipelines.errors import CommandError
from pipelines.resources import DEFAULT_OUTPUT_DIR, embedded_database_url


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "console",
        help="bàn làm việc cho công an xã/phường và cán bộ dữ liệu / serve the review console",
        description=(
            "Phục vụ bàn làm việc (hàng việc sửa dữ liệu, đối chiếu trùng) tại http://HOST:PORT. "
            "Mặc định dùng CSDL SQLite của `dancu demo` (var/dancu.sqlite); dùng --database-url hoặc biến "
            "DANCU_DATABASE_URL cho PostgreSQL."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="địa chỉ lắng nghe (mặc định 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="cổng (mặc định 8000)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL của kho việc, ví dụ postgresql+psycopg2://user:pass@host/dancu "
        "(mặc định: DANCU_DATABASE_URL, hoặc SQLite trong DANCU_OUTPUT_DIR/var)",
    )
    parser.add_argument(
        "--no-demo-accounts",
        action="store_true",
        help="không tạo tài khoản thử nghiệm (dùng cho môi trường thật)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="số tiến trình phục vụ (mặc định 1; 2 trên máy 2 nhân khi tải cao)"
    )
    accounts = parser.add_argument_group("tài khoản / accounts (tạo rồi thoát / create then exit)")
    accounts.add_argument("--add-user", metavar="USERNAME", help="tạo tài khoản; mật khẩu đọc từ bàn phím hoặc stdin")
    accounts.add_argument("--role", choices=("ward_officer", "data_officer", "admin"), default="ward_officer")
    accounts.add_argument("--ward", help="mã xã/phường hiện hành (cán bộ xã/phường)")
    accounts.add_argument("--province", help="mã tỉnh hiện hành (cán bộ dữ liệu)")
    accounts.add_argument("--display-name", help="tên hiển thị")
    parser.add_argument("--secure-cookies", action="store_true", help="cookie chỉ gửi qua HTTPS (sau reverse proxy)")
    parser.set_defaults(handler=run)


def _database_url(args: argparse.Namespace) -> tuple[str, bool]:
    """The store URL and whether it is the embedded demo default."""
    if args.database_url:
        return args.database_url, False
    if os.environ.get("DANCU_DATABASE_URL"):
        return os.environ["DANCU_DATABASE_URL"], False
    return embedded_database_url(os.environ.get("DANCU_OUTPUT_DIR", DEFAULT_OUTPUT_DIR)), True


def run(args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy.exc import OperationalError

    from console.app import DATABASE_URL_VARIABLE, create_app
    from corrections.auth import ensure_demo_accounts
    from corrections.db import session_scope, store_engine
    from normalize import units

    if not 0 < args.port < 65536:
        raise CommandError(f"cổng không hợp lệ / invalid port: {args.port}")
    url, embedded = _database_url(args)
    if embedded and args.no_demo_accounts is False:
        print("Dùng kho việc nhúng của `dancu demo` / using the embedded demo store")
    try:
        engine = store_engine(url)
    except OperationalError as error:
        raise CommandError(f"không kết nối được kho việc / cannot open the task store {url}: {error.orig}") from error
    wards = units.current_wards()
    if args.add_user:
        return _add_user(args, engine, wards)
    names = dict(zip(wards.get_column("ward_code").to_list(), wards.get_column("ward_name").to_list(), strict=True))
    print(f"dancu console — kho việc / task store: {engine.url.render_as_string(hide_password=True)}")
    if not args.no_demo_accounts:
        with session_scope(engine, write=True) as session:
            accounts = ensure_demo_accounts(session, names)
        print("Tài khoản thử nghiệm / demo accounts:")
        for account in accounts:
            scope = names.get(account.ward_code or "", account.province_code or "toàn quốc")
            print(f"  {account.username:<22} mật khẩu {account.password:<18} {account.role:<13} {scope}")
        if len(accounts) == 1:
            print("  (chưa có việc nào: chạy `dancu demo` trước để có dữ liệu / run `dancu demo` first for data)")
    if args.workers < 1:
        raise CommandError(f"số tiến trình không hợp lệ / invalid --workers: {args.workers}")
    print(f"Mở trình duyệt / open: http://{args.host}:{args.port}/  (Ctrl-C để dừng / to stop)", flush=True)
    if args.workers == 1:
        app = create_app(url, secure_cookies=args.secure_cookies)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", proxy_headers=False)
        return 0
    # Worker processes build their own app (and connection pool) from the environment.
    os.environ[DATABASE_URL_VARIABLE] = url
    os.environ["DANCU_CONSOLE_SECURE_COOKIES"] = "1" if args.secure_cookies else "0"
    uvicorn.run(
        "console.app:app_from_environment",
        factory=True,
        workers=args.workers,
        host=args.host,
        port=args.port,
        log_level="warning",
        proxy_headers=False,
    )
    return 0


def _add_user(args: argparse.Namespace, engine: Engine, wards: pl.DataFrame) -> int:
    import getpass
    import sys

    from corrections.auth import create_user
    from corrections.db import session_scope

    province = args.province
    if args.role == "ward_officer":
        match = wards.filter(pl.col("ward_code") == (args.ward or ""))
        if match.height == 0:
            raise CommandError(f"mã xã/phường không có trong danh mục hiện hành / unknown ward code: {args.ward}")
        province = match.get_column("province_code")[0]
    elif province and wards.filter(pl.col("province_code") == province).height == 0:
        raise CommandError(f"mã tỉnh không có trong danh mục hiện hành / unknown province code: {province}")
    password = getpass.getpass("Mật khẩu / password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    try:
        with session_scope(engine, write=True) as session:
            create_user(
                session,
                args.add_user.strip().lower(),
                password,
                args.role,
                display_name=args.display_name or args.add_user,
                ward_code=args.ward,
                province_code=province,
            )
    except ValueError as error:
        raise CommandError(str(error)) from error
    except Exception as error:  # the unique constraint on the user name
        if "unique" in str(error).lower():
            raise CommandError(f"tài khoản đã tồn tại / user exists: {args.add_user}") from error
        raise
    print(f"Đã tạo tài khoản {args.add_user} ({args.role})")
    return 0
