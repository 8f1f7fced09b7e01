"""``dancu console``: serve the correction-queue and match-review console on 127.0.0.1.

With ``DANCU_ENV=production`` it never creates, resets or accepts demo accounts (it disables those in the store),
and the session cookie is Secure with HSTS on (``console.settings``); ``--no-demo-accounts`` disables them too.
"""

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
            "DANCU_DATABASE_URL cho PostgreSQL. Với DANCU_ENV=production: không có tài khoản thử nghiệm, cookie "
            "Secure và HSTS (xem docs/operations.md)."
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
        help="không tạo tài khoản thử nghiệm và khoá các tài khoản thử nghiệm đã có (luôn như vậy khi "
        "DANCU_ENV=production)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="số tiến trình phục vụ (mặc định 1; 2 trên máy 2 nhân khi tải cao)"
    )
    accounts = parser.add_argument_group("tài khoản / accounts (tạo rồi thoát / create then exit)")
    accounts.add_argument("--add-user", metavar="USERNAME", help="tạo tài khoản; mật khẩu đọc từ bàn phím hoặc stdin")
    accounts.add_argument("--role", choices=("ward_officer", "data_officer", "admin"), default="ward_officer")
    accounts.add_argument("--ward", help="mã xã/phường hiện hành (cán bộ xã/phường)")
    accounts.add_argument("--province", help="mã tỉnh hiện hành (cán bộ dữ liệu: --province hoặc --national)")
    accounts.add_argument(
        "--national", action="store_true", help="cán bộ dữ liệu có phạm vi toàn quốc (phải ghi rõ / explicit)"
    )
    accounts.add_argument("--display-name", help="tên hiển thị")
    parser.add_argument(
        "--secure-cookies",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="cookie chỉ gửi qua HTTPS và HSTS (sau reverse proxy HTTPS); mặc định: bật khi DANCU_ENV=production",
    )
    parser.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="địa chỉ hoặc mạng (CIDR) của reverse proxy được tin cậy: địa chỉ thật của máy khách lấy từ "
        "X-Forwarded-For chỉ khi yêu cầu đến từ đây (lặp lại được; biến DANCU_CONSOLE_TRUSTED_PROXIES)",
    )
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

    from console.settings import ConsoleSettings, environment_is_production, parse_proxies
    from corrections.auth import disable_demo_accounts, ensure_demo_accounts
    from corrections.db import session_scope, store_engine
    from normalize import units

    if not 0 < args.port < 65536:
        raise CommandError(f"cổng không hợp lệ / invalid port: {args.port}")
    if args.workers < 1:
        raise CommandError(f"số tiến trình không hợp lệ / invalid --workers: {args.workers}")
    try:
        production = environment_is_production()
        proxies = tuple(args.trusted_proxy) or parse_proxies(os.environ.get("DANCU_CONSOLE_TRUSTED_PROXIES", ""))
        parse_proxies(",".join(proxies))  # the --trusted-proxy values are checked too
    except ValueError as error:
        raise CommandError(str(error)) from error
    url, embedded = _database_url(args)
    if production and embedded:
        raise CommandError(
            "DANCU_ENV=production cần kho việc thật: đặt DANCU_DATABASE_URL hoặc --database-url "
            "(kho SQLite của `dancu demo` chỉ dành cho thử nghiệm) / production needs DANCU_DATABASE_URL"
        )
    if embedded and not args.no_demo_accounts:
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
    if production or args.no_demo_accounts:
        reason = "DANCU_ENV=production" if production else "--no-demo-accounts"
        with session_scope(engine, write=True) as session:
            disabled = disable_demo_accounts(session, reason=reason)
        if disabled:
            print(f"Đã khoá tài khoản thử nghiệm / demo accounts disabled ({reason}): {', '.join(disabled)}")
    else:
        with session_scope(engine, write=True) as session:
            seeding = ensure_demo_accounts(session, names)
        print("Tài khoản thử nghiệm / demo accounts:")
        for account in seeding.accounts:
            scope = names.get(account.ward_code or "", account.province_code or "toàn quốc")
            print(f"  {account.username:<22} mật khẩu {account.password:<18} {account.role:<13} {scope}")
        for name in seeding.kept:
            print(f"  {name:<22} (tài khoản thật trùng tên: giữ nguyên / a real account: left untouched)")
        if len(seeding.accounts) + len(seeding.kept) == 1:
            print("  (chưa có việc nào: chạy `dancu demo` trước để có dữ liệu / run `dancu demo` first for data)")
    settings = ConsoleSettings(
        url,
        production=production,
        secure_cookies=args.secure_cookies,
        trusted_proxies=proxies,
    )
    mode = "production" if production else "thử nghiệm / embedded"
    secure = "Secure + HSTS" if settings.https else "không Secure (HTTP)"
    trusted = ", ".join(settings.trusted_proxies) or "không / none"
    print(f"Chế độ / mode: {mode}; cookie: {secure}; proxy tin cậy / trusted proxies: {trusted}")
    print(f"Mở trình duyệt / open: http://{args.host}:{args.port}/  (Ctrl-C để dừng / to stop)", flush=True)
    if args.workers == 1:
        from console.app import build_app

        uvicorn.run(build_app(settings), host=args.host, port=args.port, log_level="warning", proxy_headers=False)
        return 0
    # Worker processes build their own app (and connection pool) from the environment.
    os.environ.update(settings.environment())
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
    if args.role == "data_officer" and bool(province) == bool(args.national):
        raise CommandError(
            "cán bộ quản lý dữ liệu cần đúng một phạm vi: --province MÃ_TỈNH hoặc --national (toàn quốc) / "
            "a data officer needs exactly one of --province or --national"
        )
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
                national=bool(args.national) and args.role == "data_officer",
            )
    except ValueError as error:
        raise CommandError(str(error)) from error
    except Exception as error:  # the unique constraint on the user name
        if "unique" in str(error).lower():
            raise CommandError(f"tài khoản đã tồn tại / user exists: {args.add_user}") from error
        raise
    print(f"Đã tạo tài khoản {args.add_user} ({args.role})")
    return 0
