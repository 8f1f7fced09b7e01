"""Load benchmark of the console: the queue page with 500,000 tasks in PostgreSQL under 20 concurrent clients.

    .venv/bin/python benchmarks/bench_console.py                 # throwaway PostgreSQL server, 500,000 tasks
    .venv/bin/python benchmarks/bench_console.py --tasks 50000 --seconds 20
    .venv/bin/python benchmarks/bench_console.py --database-url postgresql+psycopg2://... (an EMPTY database)

Steps: generate a province's worth of findings (one per task, spread unevenly over the real wards of Hà Nội), run
them through the same code the nightly asset runs (``build_drafts`` + ``apply_night``), then once more as the next
night (every task known: the usual nightly case), time each view of the queue in-process (``--explain`` also prints
PostgreSQL's EXPLAIN ANALYZE of every statement a view issues), start ``dancu console`` in its own process, then 20
client threads (closed loop, no think time, one keep-alive connection each) each log in as the ward officer of a
different ward and load queue pages (default view, following "next page" links, quality/priority filters, "my
tasks", name search) for a fixed time. A second phase repeats it with 20 province-level data officers, whose queue
spans every task.
Prints per phase: requests, throughput and latency percentiles of the queue page. Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import polars as pl
import requests
from sqlalchemy import event, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corrections import queries  # noqa: E402
from corrections.access import Actor  # noqa: E402
from corrections.auth import create_user  # noqa: E402
from corrections.build import build_drafts  # noqa: E402
from corrections.db import make_engine, migrate, session_scope  # noqa: E402
from corrections.lifecycle import QueueFilter  # noqa: E402
from corrections.models import Task  # noqa: E402
from corrections.nightly import apply_night  # noqa: E402
from normalize import units  # noqa: E402

PASSWORD = "mat-khau-do-tai"
NIGHT = date(2025, 7, 2)
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = {"Nam": ["Văn", "Hữu", "Đức", "Minh", "Quang", "Thành"], "Nữ": ["Thị", "Ngọc", "Thu", "Thanh", "Mai", "Kim"]}
GIVEN = {
    "Nam": ["An", "Bình", "Cường", "Dũng", "Hùng", "Khánh", "Long", "Nam", "Phong", "Quân", "Sơn", "Tuấn", "Việt"],
    "Nữ": ["Anh", "Chi", "Dung", "Hà", "Hoa", "Hương", "Lan", "Linh", "Mai", "Ngọc", "Phương", "Thảo", "Trang"],
}
RULES = [
    # rule, quality, severity, share of tasks, detail
    ("card_expired", "sống", "warning", 0.28, "Thẻ căn cước hết hạn, cần cấp đổi"),
    ("not_verified_recently", "sống", "warning", 0.22, "Chưa xác minh thông tin quá 3 năm"),
    ("required_field_missing", "đủ", "warning", 0.15, "Thiếu dân tộc hoặc quê quán"),
    ("address_legacy_form", "sạch", "warning", 0.10, "Nơi thường trú còn ghi theo đơn vị hành chính cũ"),
    ("id_birth_year_mismatch", "đúng", "error", 0.08, "Số định danh không khớp năm sinh"),
    ("duplicate_person", "sạch", "error", 0.07, "Có thể trùng với một bản ghi khác"),
    ("ethnicity_not_recognized", "đúng", "error", 0.05, "Dân tộc không thuộc 54 dân tộc"),
    ("death_not_reflected", "sống", "error", 0.05, "Đã đăng ký khai tử nhưng CSDL chưa cập nhật"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from tests.postgres_server import running_postgres

    with running_postgres() as started:
        yield started


def generate(tasks: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, list[str], str]:
    """Findings (one task each), scored pairs for the duplicates, the records; wards ordered by size."""
    rng = random.Random(seed)
    wards = units.current_wards().filter(pl.col("province_short") == "Hà Nội")
    codes = wards.get_column("ward_code").to_list()
    province = wards.get_column("province_code")[0]
    # Uneven ward sizes (Zipf-like), as in a real province: a few big urban wards, many small communes.
    weights = [1.0 / (rank + 1) ** 0.6 for rank in range(len(codes))]
    ward_of_task = rng.choices(codes, weights=weights, k=tasks)
    rules = rng.choices(RULES, weights=[r[3] for r in RULES], k=tasks)
    record_ids: list[str] = []
    person_ids: list[str] = []
    names: list[str] = []
    births: list[str] = []
    sexes: list[str] = []
    record_wards: list[str] = []
    finding_rows: list[tuple[str, str, str, str, str, str, str, list[str]]] = []
    pairs: list[tuple[str, str]] = []
    serial = 0

    def person(ward: str) -> str:
        nonlocal serial
        serial += 1
        sex = rng.choice(("Nam", "Nữ"))
        year = rng.randint(1935, 2010)
        record_id = f"B{serial:08d}"
        record_ids.append(record_id)
        person_ids.append(f"001{(0 if year < 2000 else 2) + (sex == 'Nữ')}{year % 100:02d}{rng.randrange(10**6):06d}")
        names.append(f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}")
        births.append(f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
        sexes.append(sex)
        record_wards.append(ward)
        return record_id

    for ward, (rule, quality, severity, _share, detail) in zip(ward_of_task, rules, strict=True):
        subject = person(ward)
        related: list[str] = []
        if rule == "duplicate_person":
            other = person(ward)
            related = [other]
            pairs.append((subject, other))
        finding_rows.append((subject, "base", rule, quality, severity, ward, detail, related))
    findings = pl.DataFrame(
        finding_rows,
        schema={
            "record_id": pl.String,
            "source": pl.String,
            "rule": pl.String,
            "quality": pl.String,
            "severity": pl.String,
            "ward_code": pl.String,
            "detail": pl.String,
            "related_record_ids": pl.List(pl.String),
        },
        orient="row",
    )
    scored = pl.DataFrame(
        {
            "left_id": [p[0] for p in pairs],
            "right_id": [p[1] for p in pairs],
            "match_probability": [round(rng.uniform(0.99, 1.0), 4) for _ in pairs],
            "match_weight": [round(rng.uniform(8, 20), 2) for _ in pairs],
            "decision": ["match"] * len(pairs),
            "kind": ["dedupe"] * len(pairs),
        }
    )
    records = pl.DataFrame(
        {
            "record_id": record_ids,
            "person_id": person_ids,
            "full_name": names,
            "birth_date": births,
            "sex": sexes,
            "permanent_address": [f"Số {rng.randint(1, 300)} phố {rng.choice(GIVEN['Nam'])}" for _ in record_ids],
            "source": ["base"] * len(record_ids),
            "permanent_address_ward_code": record_wards,
        }
    )
    sizes = findings.group_by("ward_code").len().sort("len", descending=True)
    return findings, scored, records, sizes.get_column("ward_code").to_list(), province


def ward_province(ward: str) -> str:
    table = units.current_wards().filter(pl.col("ward_code") == ward)
    return str(table.get_column("province_code")[0])


def seed_store(url: str, tasks: int, seed: int, officers: int) -> tuple[list[str], list[str], list[str]]:
    engine = make_engine(url)
    migrate(engine)
    with engine.connect() as connection:
        existing = connection.execute(select(func.count()).select_from(Task)).scalar_one()
    if existing:
        raise SystemExit(f"the database already holds {existing} tasks: give an empty database")
    started = time.perf_counter()
    findings, pairs, records, wards_by_size, province = generate(tasks, seed)
    generated = time.perf_counter()
    drafts = build_drafts(NIGHT, findings, pairs, [records], ward_provinces={w: province for w in wards_by_size})
    built = time.perf_counter()
    summary = apply_night(engine, drafts)
    upserted = time.perf_counter()
    vacuum(engine)
    vacuumed = time.perf_counter()
    # The usual night: the same defects seen again, every task refreshed in place.
    again = apply_night(
        engine, type(drafts)(NIGHT + timedelta(days=1), drafts.findings, drafts.tasks, drafts.reviews, drafts.snapshots)
    )
    refreshed = time.perf_counter()
    vacuum(engine)
    print(
        f"seeded {summary.created:,} tasks in {len(wards_by_size)} wards: generate {generated - started:.1f} s, "
        f"build_drafts {built - generated:.1f} s, apply_night {upserted - built:.1f} s (all new), "
        f"apply_night next night {refreshed - vacuumed:.1f} s ({again.refreshed:,} refreshed, {again.created} new)"
    )
    ward_users = [f"congan.{code}" for code in wards_by_size[:officers]]
    data_users = [f"dulieu.{i:02d}" for i in range(officers)]
    with session_scope(engine, write=True) as session:
        for code, username in zip(wards_by_size, ward_users, strict=False):
            create_user(
                session,
                username,
                PASSWORD,
                "ward_officer",
                display_name=f"Công an {code}",
                ward_code=code,
                province_code=province,
            )
        for username in data_users:
            create_user(
                session, username, PASSWORD, "data_officer", display_name="Cán bộ dữ liệu", province_code=province
            )
    with engine.connect() as connection:
        sizes = connection.execute(
            select(func.count()).select_from(Task).where(Task.ward_code.in_(wards_by_size[:officers]))
        ).scalar_one()
    print(f"the {officers} ward officers' wards hold {sizes:,} tasks ({sizes / officers:,.0f} per ward on average)")
    engine.dispose()
    return ward_users, data_users, ["Nguyễn", "Hoa", "Trần Văn", "Linh"]


def vacuum(engine: Any) -> None:
    """What autovacuum would do after a night's bulk load (statistics, visibility map for index-only scans)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def time_views(url: str, ward: str, province: str, searches: list[str], show_plans: bool) -> None:
    """Median in-process time of each queue view (counts + one page), optionally with the plans of its statements."""
    engine = make_engine(url)
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    officer = Actor(0, "congan.bench", "Công an", "ward_officer", ward, province)
    data_officer = Actor(0, "dulieu.bench", "Cán bộ dữ liệu", "data_officer", None, province)
    views: list[tuple[str, Actor, QueueFilter, bool]] = [
        ("ward: open", officer, QueueFilter(state="open"), False),
        ("ward: open, page 5", officer, QueueFilter(state="open"), True),
        ("ward: open, quality sạch", officer, QueueFilter(state="open", quality="sạch"), False),
        ("ward: all, search 'Hoa'", officer, QueueFilter(search="Hoa"), False),
        ("province: open", data_officer, QueueFilter(state="open"), False),
        ("province: open, page 5", data_officer, QueueFilter(state="open"), True),
        ("province: open, quality đúng", data_officer, QueueFilter(state="open", quality="đúng"), False),
        ("province: open, priority 1", data_officer, QueueFilter(state="open", priority=1), False),
        ("province: open, one ward", data_officer, QueueFilter(state="open", ward_code=ward), False),
        ("province: in progress, mine", data_officer, QueueFilter(state="in_progress", assignee="dulieu.00"), False),
        *((f"province: all, search '{term}'", data_officer, QueueFilter(search=term), False) for term in searches),
        ("province: all, search 'Đỗ Thu Trang'", data_officer, QueueFilter(search="Đỗ Thu Trang"), False),
        ("province: all, search an ID", data_officer, QueueFilter(search="001190123456"), False),
    ]
    print("queue views in-process (median of 5, counts + one page of 50):")
    for name, actor, filters, deep in views:
        timings: list[float] = []
        for _ in range(5):
            with session_scope(engine) as session:
                cursor = None
                if deep:  # walk to page 5 first, timing only the last page
                    for _page in range(4):
                        page = queries.queue_page(session, actor, filters, after=cursor)
                        cursor = queries.Cursor.decode(page.next_cursor)
                captured.clear()
                started = time.perf_counter()
                page = queries.queue_page(session, actor, filters, after=cursor)
                timings.append(time.perf_counter() - started)
        total = f"> {page.total:,}" if page.capped else f"{page.total:,}"
        print(f"  {name:<42} {statistics.median(timings) * 1000:7.1f} ms  ({total} tasks)")
        if show_plans:
            statements = list(captured)
            event.remove(engine, "before_cursor_execute", capture)
            with engine.connect() as connection:
                for statement, parameters in statements:
                    plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    print("    " + "\n    ".join(str(r[0]) for r in plan))
            event.listen(engine, "before_cursor_execute", capture)
    engine.dispose()


def start_console(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "console",
            "--database-url",
            url,
            "--port",
            str(port),
            "--no-demo-accounts",
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"console exited: {process.stderr.read().decode() if process.stderr else ''}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return process
        time.sleep(0.2)
    process.kill()
    raise SystemExit("console did not start within 60 s")


def log_in(base: str, username: str) -> requests.Session:
    client = requests.Session()
    form = client.get(f"{base}/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    response = client.post(
        f"{base}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/tasks"},
        timeout=30,
    )
    if "Hàng việc cần xử lý" not in response.text:
        raise SystemExit(f"login failed for {username}")
    return client


NEXT_PAGE = "next"
"""Follow the "next page" link of the client's last open-tasks page (up to page 6, then back to the first)."""
NEXT_LINK = re.compile(r'href="([^"]+)" rel="next"')


def queue_urls(rng: random.Random, searches: list[str], province_wide: bool, wards: list[str]) -> Iterator[str]:
    """The mix of queue views an officer goes through in a morning."""
    while True:
        choice = rng.random()
        if choice < 0.40:
            yield "/tasks"
        elif choice < 0.55:
            yield NEXT_PAGE
        elif choice < 0.70:
            yield f"/tasks?state=open&quality={rng.choice(['đúng', 'đủ', 'sạch', 'sống'])}"
        elif choice < 0.80:
            yield f"/tasks?state=open&priority={rng.randint(1, 3)}"
        elif choice < 0.88:
            yield "/tasks?state=in_progress&mine=1"
        elif choice < 0.95 and province_wide:
            yield f"/tasks?state=open&ward={rng.choice(wards)}"
        else:
            yield f"/tasks?state=all&q={rng.choice(searches)}"


class PageClient:
    """One officer's browser for the timed loop: a keep-alive connection with the session cookie.

    Plain ``http.client`` rather than ``requests``: the load generator shares the two cores with the console, and
    ``requests``' cookie jar and adapter layers cost several times the CPU of the request itself.
    """

    def __init__(self, base: str, session: requests.Session) -> None:
        parts = urlsplit(base)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        self.headers = {"Cookie": cookies, "Accept": "text/html", "Accept-Encoding": "identity"}
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def get(self, path: str) -> tuple[int, str]:
        """Status and body of ``path`` (the whole page is read, as a browser would)."""
        try:
            self.connection.request("GET", path, headers=self.headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            # The server closed the idle keep-alive connection: reconnect once, as a browser does.
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.connection.request("GET", path, headers=self.headers)
            response = self.connection.getresponse()
        body = response.read()
        return response.status, body.decode("utf-8")

    def close(self) -> None:
        self.connection.close()


def run_phase(
    base: str, users: list[str], seconds: float, searches: list[str], wards: list[str], province_wide: bool
) -> list[float]:
    clients = [PageClient(base, log_in(base, user)) for user in users]
    latencies: list[list[float]] = [[] for _ in clients]
    failures: list[str] = []
    stop_at = time.monotonic() + seconds
    barrier = threading.Barrier(len(clients))

    def work(index: int) -> None:
        rng = random.Random(index)
        urls = queue_urls(rng, searches, province_wide, wards)
        next_link: str | None = None
        depth = 1
        barrier.wait()
        while time.monotonic() < stop_at:
            url = next(urls)
            if url == NEXT_PAGE:
                url, depth = (next_link, depth + 1) if next_link and depth < 6 else ("/tasks?state=open", 1)
            path = quote(url, safe="/?&=%")
            started = time.perf_counter()
            status, text = clients[index].get(path)
            elapsed = time.perf_counter() - started
            if status != 200 or "Hàng việc cần xử lý" not in text:
                failures.append(f"{url}: {status}")
                continue
            latencies[index].append(elapsed)
            if url.startswith("/tasks?state=open") and "&quality=" not in url and "&priority=" not in url:
                found = NEXT_LINK.search(text)
                next_link = "/tasks" + found.group(1).replace("&amp;", "&") if found else None
                depth = 1 if "after=" not in url else depth

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    if failures:
        raise SystemExit(f"{len(failures)} failed requests, first: {failures[0]}")
    return [value for values in latencies for value in values]


def report(name: str, latencies: list[float], seconds: float) -> float:
    ordered = sorted(latencies)
    quantiles = statistics.quantiles(ordered, n=100, method="inclusive")
    p95 = quantiles[94] * 1000
    print(
        f"{name}: {len(ordered):,} requests in {seconds:.0f} s ({len(ordered) / seconds:.1f} req/s) — "
        f"p50 {quantiles[49] * 1000:.0f} ms, p95 {p95:.0f} ms, p99 {quantiles[98] * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )
    return p95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=500_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of each load phase")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2, help="console worker processes (dancu console --workers)")
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database (default: throwaway)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of every queue statement")
    args = parser.parse_args()
    print(
        f"dancu console load benchmark: {args.tasks:,} tasks, {args.clients} concurrent clients, "
        f"{args.seconds:.0f} s per phase, console workers {args.workers}, {os.cpu_count()} CPU cores"
    )
    with database(args.database_url) as url:
        ward_users, data_users, searches = seed_store(url, args.tasks, args.seed, args.clients)
        wards = [u.removeprefix("congan.") for u in ward_users]
        time_views(url, wards[0], ward_province(wards[0]), searches, args.explain)
        port = free_port()
        console = start_console(url, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        try:
            for user in ward_users[:2]:  # warm the server and the database caches
                log_in(base, user).get(f"{base}/tasks", timeout=60)
            ward_p95 = report(
                f"queue page, {args.clients} ward officers (own ward)",
                run_phase(base, ward_users, args.seconds, searches, wards, province_wide=False),
                args.seconds,
            )
            province_p95 = report(
                f"queue page, {args.clients} data officers (whole province, {args.tasks:,} tasks)",
                run_phase(base, data_users, args.seconds, searches, wards, province_wide=True),
                args.seconds,
            )
        finally:
            os.killpg(console.pid, 15)
            console.wait(timeout=30)
    target = 300
    print(
        f"target p95 <= {target} ms: ward officers {'met' if ward_p95 <= target else 'NOT met'}, "
        f"data officers {'met' if province_p95 <= target else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
