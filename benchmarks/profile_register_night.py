"""Where a first night's register spends its time and memory: ``state.register.register_night`` (full) step by step.

    .venv/bin/dancu nightly --input <inputs>/night1 --output var/prof/out --date 2025-11-11 --quiet   # once
    .venv/bin/python benchmarks/profile_register_night.py var/prof/out 2025-11-11 [--dump var/prof/register-a]
    .venv/bin/python benchmarks/profile_register_night.py var/prof/out 2025-11-12 --incremental   # a later night

Reads a finished night's ``normalized_base``, ``normalized_extracts`` and ``person_clusters`` outputs, builds the
whole register again into a scratch state folder (the night's own state is not touched), then does what the
``register`` asset does after it (the change workbook, the stored outputs). Prints per step: wall and CPU seconds,
and the process's RSS before, at its peak during the step (sampled every 5 ms) and after. ``--dump`` writes the
register, change set, golden records and findings as Parquet, for comparing two versions of the code
(``--compare A B``: every file equal, exit 1 if not). ``--incremental``: a later night as the nightly run builds it,
from the previous night's register, golden records and findings (copied from the output's state into the scratch
folder, tonight's versions taken out), rebuilding only the persons the night touched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 2**20


def _anon_mb() -> float:
    """Resident memory that is not file-backed (RSS less the shared pages: memory-mapped files the kernel can drop
    under pressure), what must fit the machine."""
    with open("/proc/self/statm") as statm:
        fields = statm.read().split()
    return (int(fields[1]) - int(fields[2])) * _PAGE / 2**20


class Steps:
    """Wall/CPU seconds and RSS (before, peak, after) of each call of the wrapped functions, nested by depth."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, float, float, float, float, float, float]] = []
        """In the order the calls began (an outer step before its inner ones)."""
        self.peak = 0.0
        self.anon_peak = 0.0
        self.depth = 0
        self.lock = threading.Lock()  # the sampler must not write back a peak a step has just reset
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            with self.lock:
                self.peak = max(self.peak, _rss_mb())
                self.anon_peak = max(self.anon_peak, _anon_mb())
            time.sleep(0.005)

    def run(self, name: str, call: Callable[[], Any]) -> Any:
        self.depth += 1
        slot = len(self.rows)
        self.rows.append((self.depth, name, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0))
        with self.lock:
            before = _rss_mb()
            outer_peak, self.peak = self.peak, before
            outer_anon, self.anon_peak = self.anon_peak, _anon_mb()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return call()
        finally:
            with self.lock:
                after = _rss_mb()
                peak = max(self.peak, after)
                self.peak = max(outer_peak, peak)
                anon = max(self.anon_peak, _anon_mb())
                self.anon_peak = max(outer_anon, anon)
            self.rows[slot] = (self.depth, name, time.perf_counter() - wall, time.process_time() - cpu, before,
                               peak, after, anon)  # fmt: skip
            self.depth -= 1

    def wrap(self, owner: Any, name: str, label: str | None = None) -> None:
        function = getattr(owner, name)

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            return self.run(label or name, lambda: function(*args, **kwargs))

        setattr(owner, name, timed)

    def print(self) -> None:
        # "anon peak": the peak of RSS less memory-mapped file pages (the index's records are mapped, and a gather
        # from them counts the pages it touched in RSS although the kernel may drop them at any time).
        print(f"{'step':<34}{'wall s':>8}{'cpu s':>8}{'RSS in':>9}{'peak':>9}{'RSS out':>9}{'anon peak':>10}")
        for depth, name, wall, cpu, before, peak, after, anon in self.rows:
            print(f"{'  ' * (depth - 1) + name:<34}{wall:>8.1f}{cpu:>8.1f}{before:>9.0f}{peak:>9.0f}{after:>9.0f}"
                  f"{anon:>10.0f}")  # fmt: skip


def _compare(first: Path, second: Path) -> int:
    same = True
    for name in sorted(p.name for p in first.glob("*.parquet")):
        a, b = pl.read_parquet(first / name), pl.read_parquet(second / name)
        equal = a.schema == b.schema and a.equals(b, null_equal=True)
        same &= equal
        print(f"{name:<22}{a.height:>10,} rows {a.width:>4} columns  identical: {'yes' if equal else 'NO'}")
    return 0 if same else 1


def night_arguments(
    description: str | None, dump_help: str, extra: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    """The command line the night profilers share: a finished night (output folder, night), ``--dump`` of what the
    profiled step wrote, ``--compare`` of two dumps (and what ``extra`` adds)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    if extra is not None:
        extra(parser)
    parser.add_argument("output", type=Path, nargs="?", help="a finished night's --output folder")
    parser.add_argument("night", nargs="?", help="the night (YYYY-MM-DD)")
    parser.add_argument("--dump", type=Path, help=dump_help)
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("A", "B"), help="compare two --dump folders")
    args = parser.parse_args()
    if not args.compare and (args.output is None or args.night is None):
        parser.error("output and night are required")
    return args


def _previous_state(state: Path, scratch: Path, night: str) -> None:
    """The register, golden records and register findings of ``state`` as they were before ``night``."""
    from register.store import RegisterStore
    from state.register import GOLDEN_TABLE, REGISTER_FINDINGS_TABLE, REGISTER_FOLDER
    from state.tables import TableStore

    for name in (REGISTER_FOLDER, GOLDEN_TABLE, REGISTER_FINDINGS_TABLE):
        shutil.copytree(state / name, scratch / name)
    RegisterStore(scratch / REGISTER_FOLDER).rollback(night)
    for name in (GOLDEN_TABLE, REGISTER_FINDINGS_TABLE):
        table = TableStore(scratch / name)
        table.rollback(max(n for n in table.nights() if n < night))


def _register_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--incremental", action="store_true", help="build from the previous night's state")
    parser.add_argument("--partition-persons", type=int, help="persons a full night builds at once")


def main() -> int:
    args = night_arguments(__doc__, "write register, changes, golden records and findings here", _register_options)
    if args.compare:
        return _compare(*args.compare)

    import register.golden as golden
    import state.register as state_register
    from pipelines.defs.register.assets import _ward_names
    from pipelines.io import load_output
    from register.changes import write_changes_excel
    from register.rules import survivorship_rules
    from register.store import RegisterStore
    from state.tables import TableStore

    steps = Steps()
    for name in (
        "attach_person_keys",
        "_prepare",
        "assign_successors",
        "_previous_candidates",
        "_status",
        "_keep_lineage_nights",
        "renormalized",
    ):
        steps.wrap(golden, name, f"build_golden: {name}")
    for name in (
        "_person_records",
        "route_rows",
        "build_golden",
        "build_changes",
        "check_records",
        "_findings_of",
        "_touched_persons",
        "_night_sensitive",
        "_groups",
    ):
        steps.wrap(state_register, name)
    steps.wrap(RegisterStore, "write", "RegisterStore.write")
    steps.wrap(RegisterStore, "write_with", "RegisterStore.write_with")
    steps.wrap(RegisterStore, "write_delta", "RegisterStore.write_delta")
    steps.wrap(TableStore, "commit", "TableStore.commit")

    base = load_output(args.output, args.night, "normalized_base")
    extracts = load_output(args.output, args.night, "normalized_extracts")
    clusters = load_output(args.output, args.night, "person_clusters")
    scratch = Path(tempfile.mkdtemp(prefix="dancu-profile-register-"))
    try:
        if args.incremental:
            _previous_state(args.output / "state", scratch, args.night)
        start = _rss_mb()
        full = not args.incremental
        partitions = {"partition_persons": args.partition_persons} if args.partition_persons else {}
        built = steps.run(
            f"register_night ({'full' if full else 'incremental'})",
            lambda: state_register.register_night(
                base, extracts, clusters.clusters, scratch, args.night, full=full, **partitions
            ),
        )
        night = dt.date.fromisoformat(args.night)
        rules = survivorship_rules()
        changes = state_register.RegisterChanges(built.store_root, args.night, built.changes, full=built.full)
        wards = _ward_names()

        def workbook() -> int:
            return write_changes_excel(scratch / "changes.xlsx", changes.scan(), night, labels=rules.change_rules,
                                       ward_names=wards)  # fmt: skip

        def outputs() -> None:
            built.save(scratch / "out-register")
            changes.save(scratch / "out-changes")

        steps.run("asset: change workbook", workbook)
        steps.run("asset: stored outputs", outputs)
        print(f"{built.rows:,} persons; RSS {start:.0f} MB before the build")
        steps.print()
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            built.frame().write_parquet(args.dump / "register.parquet")
            built.store.read_changes(args.night).write_parquet(args.dump / "changes.parquet")
            built.findings.read().write_parquet(args.dump / "findings.parquet")
            state_register.golden_store(scratch).version(args.night).read().write_parquet(args.dump / "golden.parquet")
            print(f"written to {args.dump}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
