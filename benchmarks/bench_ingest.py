"""What a night's ingest costs: the extract files and the base snapshot against last night's base version.

    .venv/bin/python benchmarks/bench_nightly.py --people 1000000 --inputs-only          # the cached inputs
    .venv/bin/python benchmarks/bench_ingest.py --people 1000000 [--repeat 2]

Reads the inputs ``bench_nightly.py`` caches (``--work``, default ``var/bench/nightly``): night 1's base is ingested
and normalized once into a state folder beside them (``ingest-state-<people>x<provinces>``, reused), then night 2 is
timed the way ``dancu nightly`` ingests it, without Dagster: ``ingest_base_changes`` (one pass over the snapshot,
only new and changed rows validated) and ``ingest_extracts`` (every CSV/XLSX file of the night). Printed: wall and
CPU seconds (all threads), rows and rows/s, peak RSS of the process, and the load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from records.ingest import IdRegistry, ingest_extracts  # noqa: E402
from state.base import base_store, ingest_base_changes, normalize_base  # noqa: E402


def _timed(step: str, rows: int, run: object) -> tuple[str, float, float, int, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()  # type: ignore[operator]
    return step, time.perf_counter() - wall, time.process_time() - cpu, rows, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--provinces", type=int, default=1)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "nightly")
    parser.add_argument("--repeat", type=int, default=1, help="time each step this many times (the first warms up)")
    args = parser.parse_args()
    inputs = args.work / f"inputs-{args.people}x{args.provinces}"
    manifest = inputs / "inputs.json"
    if not manifest.exists():
        print(f"no inputs at {inputs}: run bench_nightly.py --people {args.people} --inputs-only first")
        return 2
    info = json.loads(manifest.read_text("utf-8"))
    night1, night2 = Path(info["night1"]), Path(info["night2"])
    first, second = (
        sorted(p.name for p in (night1 / "extracts").iterdir()),
        sorted(p.name for p in (night2 / "extracts").iterdir()),
    )
    store = base_store(args.work / f"ingest-state-{args.people}x{args.provinces}")
    previous = store.latest(before=second[0])
    if previous is None:
        started = time.perf_counter()
        normalize_base(ingest_base_changes(night1 / "population_base.parquet", None, first[0]), store)
        previous = store.latest(before=second[0])
        print(f"night 1's base version built in {time.perf_counter() - started:.0f} s")
    assert previous is not None
    extracts = night2 / "extracts" / second[0]
    as_of = dt.date.fromisoformat(second[0])
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows: list[tuple[str, float, float, int, object]] = []
    for _ in range(args.repeat):
        rows.append(
            _timed(
                "base snapshot vs last night",
                int(info["base_rows_night2"]),
                lambda: ingest_base_changes(night2 / "population_base.parquet", previous, second[0]),
            )
        )
        rows.append(
            _timed(
                "extract files",
                int(info["extract_rows_night2"]),
                lambda: ingest_extracts(extracts, taken_ids=IdRegistry(), as_of=as_of),
            )
        )
    print(
        f"\n== night 2 ingest, {info['base_rows_night2']:,} base records, {info['extract_rows_night2']:,} extract rows"
    )
    print(f"{'step':<30}{'wall s':>9}{'CPU s':>9}{'rows':>12}{'rows/s (CPU)':>14}")
    for step, wall, cpu, count, _ in rows:
        print(f"{step:<30}{wall:>9.2f}{cpu:>9.2f}{count:>12,}{count / cpu if cpu else 0:>14,.0f}")
    changes = rows[0][4]
    print(f"base: {changes.changed_count():,} new or changed, {changes.removed.len():,} removed, {changes.kept:,} kept")  # type: ignore[attr-defined]
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
