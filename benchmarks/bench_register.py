"""Speed and memory of the clean register on one machine (issue 11).

    .venv/bin/python benchmarks/bench_register.py [--people 1000000] [--nights 2] [--seed 1]

Generates a province, ingests and normalizes each night, and builds the register (``build_golden``, as the nightly
asset does), the change set and the checks of the register, night
after night (the second night starts from the first night's version, as the nightly graph does), then writes each
version to a store. The person clusters are the generator's true persons: this benchmark measures the register, not
the matcher (``bench_match.py`` does). Prints seconds per step (wall clock, and the CPU seconds of the golden
records: on a shared machine the CPU figure is the steadier one) and peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import tempfile
import time
from pathlib import Path

import polars as pl

from datagen import generate_province
from normalize.frame import normalize_records
from records.ingest import ingest_night
from register.changes import build_changes
from register.golden import build_golden
from register.quality import register_findings
from register.store import RegisterStore


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--nights", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--date", default="2026-12-01", help="the last night (YYYY-MM-DD)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dancu-bench-register-"))
    try:
        started = time.perf_counter()
        generate_province(
            args.people, args.seed, work / "in", night=dt.date.fromisoformat(args.date), nights=args.nights
        )
        print(f"generate: {time.perf_counter() - started:.1f} s")
        persons = pl.read_parquet(work / "in" / "truth" / "persons.parquet").select(
            "record_id", pl.col("true_person").alias("cluster_id")
        )
        store = RegisterStore(work / "register")
        previous = previous_changes = None
        for folder in sorted((work / "in" / "extracts").iterdir()):
            night = dt.date.fromisoformat(folder.name)
            step = time.perf_counter()
            ingested = ingest_night(work / "in" / "population_base.parquet", folder, as_of=night)
            records = pl.concat(
                [
                    normalize_records(ingested.base.accepted, as_of=night),
                    normalize_records(ingested.extracts.accepted, as_of=night),
                ],
                how="diagonal_relaxed",
            )
            prepared = time.perf_counter() - step
            step, cpu = time.perf_counter(), _cpu()
            build = build_golden(records, persons, night, previous=previous)
            golden_seconds, golden_cpu = time.perf_counter() - step, _cpu() - cpu
            step = time.perf_counter()
            changes = build_changes(build, night, previous_changes=previous_changes)
            changes_seconds = time.perf_counter() - step
            step = time.perf_counter()
            findings = register_findings(build.golden, night)
            checks_seconds = time.perf_counter() - step
            step = time.perf_counter()
            store.write(folder.name, build.register, changes)
            store_seconds = time.perf_counter() - step
            print(
                f"night {night}: records={records.height:,} persons={build.register.height:,} "
                f"changes={changes.height:,} register_findings={findings.height:,}"
            )
            rows = records.height
            previous, previous_changes = build.register, changes
            # As between two nightly runs: nothing of this night but its version is kept.
            del build, records, ingested, findings, changes
            print(
                f"  seconds: ingest+normalize {prepared:.1f} | golden records {golden_seconds:.1f} | change set "
                f"{changes_seconds:.1f} | checks of the register {checks_seconds:.1f} | store {store_seconds:.1f}"
            )
            print(
                f"  golden records: {golden_cpu:.1f} CPU s, {rows / max(golden_seconds, 1e-9):,.0f} "
                f"records/s wall, {rows / max(golden_cpu, 1e-9):,.0f} records per CPU second"
            )
            print(f"  register.parquet {store.register_path().stat().st_size / 2**20:,.1f} MiB, peak RSS so far "
                  f"{_peak_mib():,.0f} MiB")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
