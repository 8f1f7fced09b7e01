"""A night costs what the night brings: ``dancu nightly`` end to end (Dagster, register and tasks included) on a
generated base, first night then a second night with a 100,000-record extract and 0.5 % of the base changed.

    .venv/bin/python benchmarks/bench_nightly.py --people 100000                  # a quick look
    .venv/bin/python benchmarks/bench_nightly.py --people 1000000 --check         # + incremental == full at 1M
    .venv/bin/python benchmarks/bench_nightly.py --people 1000000 --provinces 10  # the 10,000,000-person base

A base of ``--provinces`` generated provinces of ``--people`` each (distinct province codes; record and household ids
prefixed with the province code so they stay unique) is built once and cached under ``--work``. The extracts are
those of the first province: night 1 gets its first night's files, night 2 as many of its later nights' files as
make ``--extract-rows`` rows (100,000), so both sizes of base get the same extracts. Night 2's base is night 1's
with ``--changed`` (0.5 %) of its records edited (``datagen.evolve``), plus a few added and removed.

Each night runs ``dancu nightly`` in a process of its own. Printed per night: wall time, the process's peak RSS
(from the OS, ``wait4``) and its CPU seconds (user + system: what to compare on a shared machine); per asset:
seconds and peak RSS while it ran (the run's own sampler, ``pipelines.timing``: the in-process executor runs every
asset in one process, so an asset's peak includes what earlier assets left allocated, an upper bound); disk
written per night. ``--check`` then recomputes night 2 with ``--full`` on a copy of
the state after night 1 and compares register, clusters, pairs above the review threshold, findings and tasks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datagen import generate_province  # noqa: E402
from datagen.evolve import evolve_base  # noqa: E402
from normalize import units  # noqa: E402
from records.mappings import source_for_file  # noqa: E402

LAST_NIGHT = dt.date(2025, 11, 10)
GENERATED_NIGHTS = 8
FIRST, SECOND = dt.date(2025, 11, 11), dt.date(2025, 11, 12)


def _province_codes(count: int) -> list[str]:
    codes = sorted(units.current_provinces()["province_code"].to_list())
    first = "37"
    ordered = [first, *[c for c in codes if c != first]]
    return ordered[:count]


def _rows(path: Path) -> int:
    from records.ingest import ingest_file

    result = ingest_file(path)
    return int(result.files["rows_read"].sum())


def build_inputs(work: Path, people: int, provinces: int, extract_rows: int, changed: float) -> dict[str, Any]:
    """The two nights' input folders (cached): base snapshots and extract files."""
    inputs = work / f"inputs-{people}x{provinces}"
    manifest = inputs / "inputs.json"
    if manifest.exists():
        return json.loads(manifest.read_text("utf-8"))
    generated = work / "provinces"
    night1, night2 = inputs / "night1", inputs / "night2"
    for folder in (night1, night2):
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "parts").mkdir(parents=True)
    changed_ids = added_ids = removed_ids = 0
    # One province at a time (generated, prefixed, evolved, written), then the parts streamed into one snapshot
    # per night: memory stays that of one province whatever --provinces is.
    for k, code in enumerate(_province_codes(provinces)):
        folder = generated / f"{code}-{people}"
        if not (folder / "truth" / "manifest.json").exists():
            started = time.perf_counter()
            count = GENERATED_NIGHTS if k == 0 else 1
            generate_province(people, 100 + k, folder, night=LAST_NIGHT, nights=count, province_code=code)
            print(f"  generated province {code} ({people:,} people) in {time.perf_counter() - started:.0f} s",
                  flush=True)  # fmt: skip
        prefix = f"{code}-"
        first_base = pl.read_parquet(folder / "population_base.parquet").with_columns(
            (pl.lit(prefix) + pl.col("record_id")).alias("record_id"),
            pl.when(pl.col("household_id").is_not_null())
            .then(pl.lit(prefix) + pl.col("household_id"))
            .alias("household_id"),
        )
        first_base.write_parquet(night1 / "parts" / f"{code}.parquet")
        second_base, edits = evolve_base(first_base, SECOND, seed=7 + k, changed=changed, id_prefix=f"{prefix}N")
        second_base.write_parquet(night2 / "parts" / f"{code}.parquet")
        changed_ids, added_ids = changed_ids + len(edits.changed), added_ids + len(edits.added)
        removed_ids += len(edits.removed)
        del first_base, second_base, edits
    for folder in (night1, night2):
        parts = sorted((folder / "parts").glob("*.parquet"))
        pl.scan_parquet(parts).sink_parquet(folder / "population_base.parquet", compression="zstd", statistics=True)
        shutil.rmtree(folder / "parts")
    source = generated / f"{_province_codes(1)[0]}-{people}" / "extracts"
    nights = sorted(p.name for p in source.iterdir())
    tonight1 = night1 / "extracts" / FIRST.isoformat()
    tonight1.mkdir(parents=True)
    rows1 = 0
    for path in sorted((source / nights[0]).iterdir()):
        shutil.copy(path, tonight1 / path.name)
        rows1 += _rows(path)
    tonight2 = night2 / "extracts" / SECOND.isoformat()
    tonight2.mkdir(parents=True)
    rows2 = 0
    for night in nights[1:]:
        for path in sorted((source / night).iterdir()):
            if rows2 >= extract_rows:
                break
            mapping = source_for_file(path)
            assert mapping is not None, path
            target = tonight2 / f"{path.stem}_{night}{path.suffix}"
            shutil.copy(path, target)
            rows2 += _rows(path)
    info: dict[str, Any] = {
        "people": people,
        "provinces": provinces,
        "base_rows_night1": pl.scan_parquet(night1 / "population_base.parquet").select(pl.len()).collect().item(),
        "base_rows_night2": pl.scan_parquet(night2 / "population_base.parquet").select(pl.len()).collect().item(),
        "changed": changed_ids,
        "added": added_ids,
        "removed": removed_ids,
        "extract_rows_night1": rows1,
        "extract_rows_night2": rows2,
        "night1": str(night1),
        "night2": str(night2),
    }
    manifest.write_text(json.dumps(info, indent=1), "utf-8")
    return info


def run_night(input_dir: Path, output: Path, night: dt.date, *, full: bool = False) -> dict[str, Any]:
    """``dancu nightly`` in its own process; wall time, CPU seconds (user + system) and the OS's peak RSS of the
    process, the run summary."""
    command = [str(ROOT / ".venv" / "bin" / "dancu"), "nightly", "--input", str(input_dir), "--output", str(output),
               "--date", night.isoformat(), "--quiet", *(["--full"] if full else [])]  # fmt: skip
    log = output.parent / f"{output.name}-{night.isoformat()}{'-full' if full else ''}.log"
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(log, "w") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"dancu nightly failed for {night} (see {log})")
    summary = json.loads((output / "nights" / night.isoformat() / "run-summary.json").read_text("utf-8"))
    cpu = usage.ru_utime + usage.ru_stime
    peak = usage.ru_maxrss / 1024**2
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_gb": peak, "assets": summary["assets"], "log": str(log)}


def _assets_table(first: dict[str, Any], second: dict[str, Any]) -> None:
    one, two = first["assets"], second["assets"]
    assert isinstance(one, dict) and isinstance(two, dict)
    print(f"\n{'asset':<24}{'night 1 s':>11}{'RSS GB':>9}{'night 2 s':>11}{'RSS GB':>9}")
    for asset in one:
        a, b = one[asset], two.get(asset, {})
        print(f"{asset:<24}{a.get('seconds', 0):>11.1f}{a.get('peak_rss_mb', 0) / 1024:>9.2f}"
              f"{b.get('seconds', 0):>11.1f}{b.get('peak_rss_mb', 0) / 1024:>9.2f}")  # fmt: skip


def _disk(output: Path, night: dt.date) -> dict[str, float]:
    summary = json.loads((output / "nights" / night.isoformat() / "run-summary.json").read_text("utf-8"))
    places = summary["assets"].get("state_retention", {}).get("night_mb_by_place", {})
    return {str(k): float(v) for k, v in places.items()}


def _compare(incremental: Path, full: Path, night: str) -> dict[str, bool]:
    """Register, clusters, pairs at match/review, findings and tasks: the same on both paths?"""
    from pipelines.io import output_frame

    def same(name: str, columns: list[str] | None = None) -> bool:
        a, b = output_frame(incremental, night, name), output_frame(full, night, name)
        if columns is not None:
            a, b = a.select(columns), b.select(columns)
        lists = [c for c, t in a.schema.items() if isinstance(t, pl.List | pl.Struct)]
        a = a.with_columns(pl.col(lists).hash()).sort(pl.all())
        b = b.with_columns(pl.col(lists).hash()).sort(pl.all())
        return a.equals(b)

    def tasks(folder: Path) -> list[tuple[object, ...]]:
        columns = ("fingerprint, rule, state, resolution, record_ids, subject_record_id, description, priority, "
                   "ward_code, last_seen_night")  # fmt: skip
        with sqlite3.connect(folder / "dancu.sqlite") as connection:
            return sorted(connection.execute(f"SELECT {columns} FROM tasks").fetchall(), key=repr)

    return {
        "register": same("register"),
        "clusters": same("person_clusters"),
        "pairs at match or review": same("scored_pairs"),
        "findings": same("quality_findings"),
        "tasks": tasks(incremental) == tasks(full),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000, help="people per province (default 100,000)")
    parser.add_argument("--provinces", type=int, default=1, help="provinces in the base (10 for 10,000,000)")
    parser.add_argument("--extract-rows", type=int, default=100_000, help="night 2's extract rows (about)")
    parser.add_argument("--changed", type=float, default=0.005, help="share of base records changed for night 2")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "nightly")
    parser.add_argument("--check", action="store_true", help="also recompute night 2 with --full and compare")
    parser.add_argument("--inputs-only", action="store_true", help="build (and cache) the inputs, run no night")
    args = parser.parse_args()
    print(f"bench_nightly: {args.provinces} x {args.people:,} people; inputs under {args.work}", flush=True)
    started = time.perf_counter()
    info = build_inputs(args.work, args.people, args.provinces, args.extract_rows, args.changed)
    print(f"inputs ready in {time.perf_counter() - started:.0f} s: {json.dumps(info)}", flush=True)
    if args.inputs_only:
        return 0
    output = args.work / f"out-{args.people}x{args.provinces}"
    shutil.rmtree(output, ignore_errors=True)
    first = run_night(Path(str(info["night1"])), output, FIRST)
    before = args.work / f"after-night1-{args.people}x{args.provinces}"
    if args.check:
        shutil.rmtree(before, ignore_errors=True)
        shutil.copytree(output, before)
    second = run_night(Path(str(info["night2"])), output, SECOND)
    base = f"{int(info['base_rows_night1']):,} base records ({args.provinces} x {args.people:,} people)"
    print(f"\n== dancu nightly on {base}")
    print(f"{'night':<10}{'wall':>10}{'peak RSS':>11}{'extract rows':>14}{'base changed':>14}{'disk MB':>10}"
          f"{'CPU s':>9}")  # fmt: skip
    disk1, disk2 = _disk(output, FIRST), _disk(output, SECOND)
    changed = f"{info['changed']:,}+{info['added']}-{info['removed']}"
    for label, night, extract, edit, disk in (
        ("1 (full)", first, info["extract_rows_night1"], "-", disk1),
        ("2", second, info["extract_rows_night2"], changed, disk2),
    ):
        print(f"{label:<10}{night['seconds']:>9.1f}s{night['peak_rss_gb']:>9.2f}GB{extract:>14,}{edit:>14}"
              f"{sum(disk.values()):>10.1f}{night['cpu_seconds']:>9.1f}")  # fmt: skip
    _assets_table(first, second)
    print("\ndisk written by night 2, MB: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(disk2.items()) if v))
    if args.check:
        recomputed = run_night(Path(str(info["night2"])), before, SECOND, full=True)
        print(f"\nnight 2 recomputed with --full: {recomputed['seconds']:.1f} s, {recomputed['peak_rss_gb']:.2f} GB")
        for part, equal in _compare(output, before, SECOND.isoformat()).items():
            print(f"  incremental == full: {part:<26} {'yes' if equal else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
