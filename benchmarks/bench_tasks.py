"""Benchmark of the correction queue against the generator's ground truth (issue 11).

    .venv/bin/python benchmarks/bench_tasks.py [--people 20000] [--seed 6] [--nights 1] [--date 2026-12-01]

Generates a province, then runs each night as the nightly graph does (ingest → normalize → match → checks → clean
register → task selection → task store; the same library functions and nightly state the assets use, without
Dagster; the first night full, the next ones incremental) and prints, for the open queue after the last night, per
task type: tasks, true (tasks naming a record that carries an injected defect of a type
the rule reports), precision, needed (injected defects of that type that need a person), found, recall; then the
total against 1.1 x needed, the findings the register settled, and the seconds of each stage. Which injected
defects need a person is defined in ``corrections.evaluation``.

Targets: per task type precision >= 0.98 and recall >= 0.99; tasks <= 1.1 x needed defects.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
from sqlalchemy import select

from checks import rules_table
from checks.incremental import night_findings
from corrections.build import build_drafts
from corrections.db import store_engine
from corrections.evaluation import needed_defects, task_scores
from corrections.models import OPEN_STATES, Task
from corrections.nightly import NightScope, apply_night
from datagen import generate_province
from matchers.engine.nightly import cluster_night, find_candidates, repaired_pairs, score_candidates
from matchers.engine.population import population_settings
from normalize.frame import normalize_records
from records.ingest import ingest_night
from state.base import base_store, ingest_base_changes, normalize_base
from state.register import RegisterChanges, register_night
from state.tasks import task_inputs

PRECISION_TARGET, RECALL_TARGET, VOLUME_TARGET = 0.98, 0.99, 1.1


@contextmanager
def timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - started


def _open_tasks(database: Path) -> pl.DataFrame:
    """The queue a ward officer sees after the night: every open task (rule, record_ids, description)."""
    engine = store_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Task.rule, Task.record_ids, Task.description).where(Task.state.in_(OPEN_STATES))
            ).all()
    finally:
        engine.dispose()
    return pl.DataFrame(
        {"rule": [r[0] for r in rows], "record_ids": [list(r[1]) for r in rows], "description": [r[2] for r in rows]},
        schema={"rule": pl.String, "record_ids": pl.List(pl.String), "description": pl.String},
    )


def run(out: Path, state: Path, dump: Path | None = None) -> tuple[pl.DataFrame, dict[str, int], dict[str, float], int]:
    """Every night of the province at ``out`` through the nightly state (the first night full, the next ones
    incremental, as the nightly graph runs them), each night's drafts applied to a task store; returns the last
    night's evaluation of the open queue, the findings the register settled that night, seconds per stage, and the
    queue before this issue (every finding of the night a task)."""
    seconds: dict[str, float] = {}
    settings = population_settings()
    titles = dict(rules_table().select("rule", "title").iter_rows())
    truth = pl.read_parquet(out / "truth" / "defects.parquet")
    persons = pl.read_parquet(out / "truth" / "persons.parquet")
    folders = sorted((out / "extracts").iterdir())
    first_night = dt.date.fromisoformat(folders[0].name)
    snapshot = out / "population_base.parquet"
    store = base_store(state)
    database = state / "tasks.sqlite"
    seen: list[pl.DataFrame] = []
    table = pl.DataFrame()
    settled: dict[str, int] = {}
    before = 0
    for folder in folders:
        night, as_of = folder.name, dt.date.fromisoformat(folder.name)
        previous = store.latest(before=night)
        full = previous is None
        with timed(seconds, "ingest"):
            base_changes = ingest_base_changes(snapshot, previous, night)
            ingested = ingest_night(snapshot, folder, as_of=as_of, base=base_changes.ingest,
                                    base_ids=base_changes.accepted_ids)  # fmt: skip
        if not seen:
            seen.append(base_changes.ingest.accepted)
        with timed(seconds, "normalize"):
            base = normalize_base(base_changes, store)
            extracts = normalize_records(ingested.extracts.accepted, as_of=as_of)
        with timed(seconds, "match"):
            candidates, _ = find_candidates(base, extracts, settings, state, full=full)
            scored = score_candidates(candidates, extracts, settings, state, night, labels=None)
            clusters = cluster_night(base, extracts, scored.pairs, settings, state, night)
        with timed(seconds, "checks"):
            findings = night_findings(base, extracts, scored.pairs, clusters.clusters, state, night, full=full)
        with timed(seconds, "register"):
            register = register_night(base, extracts, clusters.clusters, state, night, full=full)
            changes = RegisterChanges(register.store_root, night, register.changes)
        with timed(seconds, "tasks"):
            inputs = task_inputs(findings, scored.pairs, base, extracts, clusters.clusters, register, changes,
                                 repaired_pairs(state, night, settings))  # fmt: skip
            drafts = build_drafts(
                as_of,
                inputs.findings,
                inputs.pairs,
                inputs.records,
                rule_titles=titles,
                clusters=inputs.clusters,
                register=inputs.register,
                register_findings=inputs.register_findings,
            )
            scope = None if inputs.full else NightScope(subjects=inputs.subjects, pair_records=inputs.pair_records)
            engine = store_engine(f"sqlite:///{database}")
            try:
                apply_night(engine, drafts, scope)
            finally:
                engine.dispose()
            before = len(build_drafts(as_of, inputs.quality, inputs.pairs, inputs.records, rule_titles=titles).tasks)
        seen.append(ingested.extracts.accepted)
        queue = _open_tasks(database)
        read = pl.concat(seen, how="diagonal_relaxed")
        tonight = ingested.extracts.accepted["record_id"].to_list() if len(folders) > 1 else None
        needed = needed_defects(truth, persons, read, first_night, tonight)
        table = task_scores(queue, truth, needed)
        if dump is not None:
            dump.mkdir(parents=True, exist_ok=True)
            queue.write_parquet(dump / f"tasks-{night}.parquet")
            needed.write_parquet(dump / f"needed-{night}.parquet")
        settled = drafts.settled
        print(
            f"night {night} ({'full' if full else 'incremental'}): {queue.height:,} open tasks (every finding of "
            f"the night a task: {before:,}), {needed.height:,} defects need a person, "
            f"{register.frame().height:,} persons"
        )
    return table, settled, seconds, before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--nights", type=int, default=1)
    parser.add_argument("--date", default="2026-12-01", help="the last night (YYYY-MM-DD)")
    parser.add_argument("--keep", type=Path, default=None, help="generate here and keep the files")
    parser.add_argument("--dump", type=Path, default=None, help="write each night's tasks and needed defects here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dancu-bench-tasks-"))
    out = args.keep or work / "province"
    try:
        started = time.perf_counter()
        generate_province(args.people, args.seed, out, night=dt.date.fromisoformat(args.date), nights=args.nights)
        generated = time.perf_counter() - started
        table, settled, seconds, before = run(out, work / "state", args.dump)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    total, needed = int(table["tasks"].sum()), int(table["needed"].sum())
    with pl.Config(tbl_rows=60, tbl_hide_dataframe_shape=True, float_precision=4, tbl_width_chars=120):
        print(f"\nTasks against the ground truth ({args.people:,} people, seed {args.seed}, {args.nights} night(s)):")
        print(table.rename({"rule": "type"}))
    print(f"total tasks {total:,}; needed defects {needed:,}; ratio {total / max(needed, 1):.3f} (target <= 1.1)")
    print(f"queue before the register (every finding a task): {before:,}")
    print("settled by the register (findings, not tasks): " + ", ".join(f"{r} {n:,}" for r, n in settled.items()))
    print(f"seconds: generate {generated:.1f}, " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    print(f"peak_rss_mib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    low_precision = table.filter(pl.col("precision") < PRECISION_TARGET)["rule"].to_list()
    low_recall = table.filter(pl.col("recall") < RECALL_TARGET)["rule"].to_list()
    over = total > VOLUME_TARGET * needed
    if low_precision or low_recall or over:
        print(f"MISSED TARGETS: precision {low_precision}, recall {low_recall}, volume {over}")
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
