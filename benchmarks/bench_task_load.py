"""A first night's task load into an empty SQLite task store, alone: ``apply_night`` with synthetic drafts.

    .venv/bin/python benchmarks/bench_task_load.py --tasks 140000 --snapshots 316000     # a 1M first night's volume
    .venv/bin/python benchmarks/bench_task_load.py --tasks 140000 --row-by-row           # without the bulk load

Drafts are generated (random fingerprints, record ids and wards; Vietnamese text), so the store's cost is measured
without the million-person night in front of it. Prints CPU and wall seconds of ``apply_night`` and of its two big
steps, and the store's statements that took the most CPU. ``--row-by-row`` raises ``BULK_LOAD_MIN`` above the
number of tasks (the load before ``corrections.nightly._BulkLoad``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import corrections.nightly as nightly  # noqa: E402
from corrections.build import NightDrafts, TaskDraft  # noqa: E402
from corrections.db import make_engine, migrate  # noqa: E402


def drafts(tasks: int, snapshots: int, seed: int = 5) -> NightDrafts:
    rng = random.Random(seed)
    rules = [f"rule_{i}" for i in range(20)]
    wards = [f"{rng.randrange(10**5):05d}" for _ in range(120)]
    made = []
    for i in range(tasks):
        record = f"37-R{rng.randrange(10**8):08d}"
        made.append(
            TaskDraft(
                fingerprint=hashlib.sha256(f"{i}".encode()).hexdigest(),
                task_type="record_fix",
                rule=rng.choice(rules),
                quality=rng.choice(["đúng", "đủ", "sạch", "sống"]),
                severity=rng.choice(["error", "warning"]),
                ward_code=rng.choice(wards),
                province_code="37",
                record_ids=[record],
                subject_record_id=record,
                subject_name=f"Nguyễn Văn {i}",
                subject_person_id=f"{rng.randrange(10**12):012d}",
                title="Tiêu đề",
                description="Mô tả lỗi " * 40,
                problem_fields=["full_name"],
                explanation=None,
                priority=rng.choice([1, 2, 3]),
                person_keys=[f"P{i}"],
            )
        )
    shown = {f"37-R{i:08d}": ("base", {"full_name": "Nguyễn Văn A", "birth_date": "1990-01-01", "n": i})
             for i in range(snapshots)}  # fmt: skip
    return NightDrafts(night=dt.date(2025, 11, 11), findings=tasks, tasks=made, reviews=[], snapshots=shown)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=140_000)
    parser.add_argument("--snapshots", type=int, default=316_000)
    parser.add_argument("--row-by-row", action="store_true", help="no bulk load (BULK_LOAD_MIN above --tasks)")
    args = parser.parse_args()
    if args.row_by_row:
        nightly.BULK_LOAD_MIN = args.tasks + 1
    night = drafts(args.tasks, args.snapshots)
    steps: dict[str, tuple[float, float]] = {}
    for name in ("_upsert_snapshots", "_apply_tasks"):
        function = getattr(nightly, name)

        def timed(*a: Any, _function: Any = function, _name: str = name, **k: Any) -> Any:
            cpu, wall = time.process_time(), time.perf_counter()
            result = _function(*a, **k)
            steps[_name] = (time.process_time() - cpu, time.perf_counter() - wall)
            return result

        setattr(nightly, name, timed)
    from sqlalchemy import event

    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").is_dir() else None) as folder:
        engine = make_engine(f"sqlite:///{folder}/store.sqlite")
        migrate(engine)
        statements: list[tuple[float, str]] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn: Any, *_: Any) -> None:
            conn.info["cpu"] = time.process_time()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append((time.process_time() - conn.info["cpu"], " ".join(statement.split())[:100]))

        cpu, wall = time.process_time(), time.perf_counter()
        nightly.apply_night(engine, night)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        engine.dispose()
    mode = "row by row" if args.row_by_row else f"bulk load from {nightly.BULK_LOAD_MIN:,} new tasks"
    print(f"apply_night, {args.tasks:,} new tasks and {args.snapshots:,} snapshots ({mode}): "
          f"{cpu:.2f} s CPU, {wall:.2f} s wall")  # fmt: skip
    for name, (step_cpu, step_wall) in steps.items():
        print(f"  {name:<20} {step_cpu:7.2f} s CPU {step_wall:7.2f} s wall")
    print("statements by CPU:")
    for seconds, statement in sorted(statements, reverse=True)[:5]:
        print(f"  {seconds:7.2f}  {statement}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
