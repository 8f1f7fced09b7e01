"""``dancu serve``: the Dagster web UI and the daemon (schedules, sensors, run queue, retries) on 127.0.0.1.

Both run as child processes in sessions of their own (the webserver ignores signals sent to a background process
group), and this command forwards Ctrl-C / SIGTERM to both, waits, and kills what is left.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

from pipelines.errors import CommandError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INSTANCE_TEMPLATES = {
    "sqlite": PROJECT_ROOT / "dagster.yaml",
    "postgres": PROJECT_ROOT / "deploy" / "dagster.postgres.yaml",
}
POSTGRES_VARIABLES = (
    "DANCU_DAGSTER_PG_HOST",
    "DANCU_DAGSTER_PG_PORT",
    "DANCU_DAGSTER_PG_USER",
    "DANCU_DAGSTER_PG_PASSWORD",
    "DANCU_DAGSTER_PG_DB",
)
DEFAULT_PORT = 3000
STOP_GRACE_SECONDS = 15.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="mở giao diện Dagster và daemon (lịch chạy, cảm biến) / start the Dagster UI and daemon",
        description=(
            "Khởi động giao diện web Dagster và daemon (lịch chạy 01:00, cảm biến thư mục landing, hàng đợi, chạy lại) "
            "cho dự án này trên 127.0.0.1. Ctrl-C dừng cả hai. Starts the Dagster webserver and daemon for this "
            "project; DAGSTER_HOME defaults to .dagster_home/ in the project."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="địa chỉ lắng nghe (mặc định 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"cổng (mặc định {DEFAULT_PORT})")
    parser.add_argument(
        "--instance",
        choices=sorted(INSTANCE_TEMPLATES),
        default="sqlite",
        help="lưu trữ Dagster: sqlite (mặc định) hoặc postgres (biến môi trường DANCU_DAGSTER_PG_*)",
    )
    parser.add_argument("--input", type=Path, help="thư mục dữ liệu vào (đặt DANCU_INPUT_DIR)")
    parser.add_argument("--output", type=Path, help="thư mục kết quả (đặt DANCU_OUTPUT_DIR)")
    parser.add_argument("--no-daemon", action="store_true", help="chỉ mở giao diện, không chạy lịch và cảm biến")
    parser.set_defaults(handler=handle)


def prepare_home(environ: Mapping[str, str], instance: str) -> Path:
    """The Dagster home to use, with its ``dagster.yaml`` in place.

    An explicit ``$DAGSTER_HOME`` is the operator's: its ``dagster.yaml`` is kept when present. The project's own
    ``.dagster_home/`` is managed: the chosen template is copied in every time, so edits go in the repository.
    """
    template = INSTANCE_TEMPLATES[instance]
    if not template.exists():
        raise CommandError(f"không tìm thấy tệp cấu hình Dagster {template}")
    if instance == "postgres":
        missing = [name for name in POSTGRES_VARIABLES if not environ.get(name)]
        if missing:
            raise CommandError("thiếu biến môi trường cho PostgreSQL / missing variables: " + ", ".join(missing))
    explicit = environ.get("DAGSTER_HOME", "").strip()
    home = Path(explicit).resolve() if explicit else PROJECT_ROOT / ".dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not explicit or not config.exists():
        shutil.copyfile(template, config)
    elif instance == "postgres" and "postgres" not in config.read_text(encoding="utf-8"):
        raise CommandError(f"{config} không dùng PostgreSQL; bỏ DAGSTER_HOME hoặc sửa tệp này")
    return home


def prepare_storage(environment: Mapping[str, str]) -> None:
    """Create (or upgrade) the instance's storage once, before the webserver and the daemon start.

    Started together on a fresh ``DAGSTER_HOME``, both create the SQLite schema at the same moment and one of them
    dies on ``UNIQUE constraint failed: alembic_version``; ``dagster instance migrate`` is idempotent.
    """
    result = subprocess.run(
        [_tool("dagster"), "instance", "migrate"],
        env=dict(environment),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CommandError(
            "không khởi tạo được lưu trữ Dagster / cannot prepare Dagster storage:\n" + result.stderr[-2000:]
        )


def _tool(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise CommandError(f"không tìm thấy lệnh {name}: cài dagster-webserver vào môi trường này")
    return found


def commands(host: str, port: int, *, daemon: bool) -> dict[str, list[str]]:
    target = ["-m", "pipelines.definitions", "--working-directory", str(PROJECT_ROOT)]
    planned = {"webserver": [_tool("dagster-webserver"), "-h", host, "-p", str(port), *target]}
    if daemon:
        planned["daemon"] = [_tool("dagster-daemon"), "run", *target]
    return planned


def stop(processes: Mapping[str, subprocess.Popen[bytes]], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM every child's process group, wait up to ``grace`` seconds, then SIGKILL what is still there."""
    for process in processes.values():
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
    # Grandchildren (the code server, run workers) share the child's group; make sure none outlives us.
    for process in processes.values():
        _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def handle(args: argparse.Namespace) -> int:
    environment = dict(os.environ)
    if args.input:
        environment["DANCU_INPUT_DIR"] = str(args.input.resolve())
    if args.output:
        environment["DANCU_OUTPUT_DIR"] = str(args.output.resolve())
    home = prepare_home(environment, args.instance)
    environment["DAGSTER_HOME"] = str(home)
    planned = commands(args.host, args.port, daemon=not args.no_daemon)
    prepare_storage(environment)

    stopping = False

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    exited: tuple[str, int] | None = None
    try:
        for name, command in planned.items():
            processes[name] = subprocess.Popen(command, env=environment, cwd=PROJECT_ROOT, start_new_session=True)
        print(
            f"dancu serve: giao diện Dagster tại http://{args.host}:{args.port} "
            f"(DAGSTER_HOME={home}, lưu trữ {args.instance}"
            f"{'' if args.no_daemon else ', daemon đang chạy lịch và cảm biến'}). Ctrl-C để dừng.",
            flush=True,
        )
        while not stopping and exited is None:
            for name, process in processes.items():
                code = process.poll()
                if code is not None:
                    exited = (name, code)
                    break
            else:
                time.sleep(0.5)
    finally:
        stop(processes)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if exited is not None:
        name, code = exited
        print(f"dancu serve: {name} đã dừng bất ngờ (mã {code}); đã dừng các tiến trình còn lại", file=sys.stderr)
        return 1
    print("dancu serve: đã dừng / stopped", flush=True)
    return 0
