"""Benchmark of the correction queue against the generator's ground truth (issue 11).

    .venv/bin/python benchmarks/bench_tasks.py [--people 20000] [--seed 6] [--nights 1] [--date 2026-12-01]

Generates a province, then runs each night as the nightly graph does (ingest → normalize → match → checks → clean
register → task selection; the same library functions the assets call, without Dagster or a database) and prints,
for the last night, per task type: tasks, true (tasks naming a record that carries an injected defect of a type
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

from checks import CheckContext, rules_table, run_rules
from corrections.build import build_drafts
from corrections.evaluation import needed_defects, task_scores
from datagen import generate_province
from matchers.engine.nightly import cluster_night, find_candidates, score_candidates
from matchers.engine.population import population_settings
from normalize.frame import normalize_records
from records.ingest import ingest_night
from register.changes import build_changes
from register.golden import build_golden
from register.quality import persistent_findings, register_findings

PRECISION_TARGET, RECALL_TARGET, VOLUME_TARGET = 0.98, 0.99, 1.1


@contextmanager
def timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - started


def run(out: Path, state: Path, dump: Path | None = None) -> tuple[pl.DataFrame, dict[str, int], dict[str, float], int]:
    """Every night of the province at ``out``; returns the last night's evaluation table, the findings the register
    settled that night, seconds per stage, and the queue before this issue (every finding a task)."""
    seconds: dict[str, float] = {}
    settings = population_settings()
    titles = dict(rules_table().select("rule", "title").iter_rows())
    truth = pl.read_parquet(out / "truth" / "defects.parquet")
    persons = pl.read_parquet(out / "truth" / "persons.parquet")
    folders = sorted((out / "extracts").iterdir())
    first_night = dt.date.fromisoformat(folders[0].name)
    previous = previous_changes = None
    seen: list[pl.DataFrame] = []
    table = pl.DataFrame()
    settled: dict[str, int] = {}
    before = 0
    for folder in folders:
        night = dt.date.fromisoformat(folder.name)
        with timed(seconds, "ingest"):
            ingested = ingest_night(out / "population_base.parquet", folder, as_of=night)
            base, extracts = ingested.base.accepted, ingested.extracts.accepted
        if not seen:
            seen.append(base)
        with timed(seconds, "normalize"):
            normalized_base = normalize_records(base, as_of=night)
            normalized = normalize_records(extracts, as_of=night)
        with timed(seconds, "match"):
            candidates, _ = find_candidates(normalized_base, normalized, settings, state)
            pairs = score_candidates(candidates, normalized_base, normalized, settings, state, labels=None)
            clusters, _ = cluster_night(normalized_base, normalized, pairs, settings, state, folder.name)
        with timed(seconds, "checks"):
            context = CheckContext(
                base=normalized_base, extracts=normalized, night=night, pairs=pairs, clusters=clusters
            )
            findings, _ = run_rules(context)
        with timed(seconds, "register"):
            records = pl.concat([normalized_base, normalized], how="diagonal_relaxed")
            build = build_golden(records, clusters, night, previous=previous)
            changes = build_changes(build, night, previous_changes=previous_changes)
        with timed(seconds, "register_checks"):
            golden_findings = register_findings(build.golden, night)
        with timed(seconds, "tasks"):
            drafts = build_drafts(
                night,
                pl.concat([findings, persistent_findings(build.register, changes, clusters, night)], how="vertical"),
                pairs,
                [normalized_base, normalized],
                rule_titles=titles,
                clusters=clusters,
                register=build.register,
                register_findings=golden_findings,
            )
            before = build_drafts(night, findings, pairs, [normalized_base, normalized], rule_titles=titles).tasks
        previous, previous_changes = build.register, changes
        seen.append(extracts)
        tasks = pl.DataFrame(
            {
                "rule": [t.rule for t in drafts.tasks],
                "record_ids": [t.record_ids for t in drafts.tasks],
                "description": [t.description for t in drafts.tasks],
            },
            schema={"rule": pl.String, "record_ids": pl.List(pl.String), "description": pl.String},
        )
        read = pl.concat(seen, how="diagonal_relaxed")
        tonight = extracts["record_id"].to_list() if len(folders) > 1 else None
        needed = needed_defects(truth, persons, read, first_night, tonight)
        table = task_scores(tasks, truth, needed)
        if dump is not None:
            dump.mkdir(parents=True, exist_ok=True)
            tasks.write_parquet(dump / f"tasks-{night}.parquet")
            needed.write_parquet(dump / f"needed-{night}.parquet")
        settled = drafts.settled
        print(
            f"night {night}: {len(drafts.tasks):,} tasks (every finding a task: {len(before):,}), "
            f"{needed.height:,} defects need a person, {build.register.height:,} persons, {changes.height:,} changes"
        )
    return table, settled, seconds, len(before)


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
