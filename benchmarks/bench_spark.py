"""Spark against the embedded engine on a generated province: identity, time, per-partition throughput.

    .venv/bin/python benchmarks/bench_spark.py --people 1000000            # embedded, local[2], 2-worker cluster
    .venv/bin/python benchmarks/bench_spark.py --people 100000 --no-cluster

The province comes from the project's generator, ingested and normalized as the pipeline does (cached in
``--data``, shared with ``bench_match.py generated``). Each run is a child process (its own peak RSS) doing the
match stage: dedupe of the base + link of every extract row (``dedupe_and_link``), then person clusters, outputs
written as Parquet. Spark runs on ``local[2]`` and on a standalone cluster of two one-core workers on 127.0.0.1
(``scaleout.standalone``); the session's start-up is timed apart (once per night, not per record).

Identity: the Spark pairs are compared with the embedded ones (same pairs and orientation, largest probability
difference) and the clusters row by row. Throughput: Spark's own task metrics (executor run time summed over all
tasks of the match stage), as records per core-second: what a cluster of N cores does in a night follows from it
(docs/spark.md). Figures are whatever this machine measures; run it on a quiet machine (``uptime``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_match import _peak_rss_mb, prepare_generated

from matchers.engine import dedupe_and_link, population_settings
from matchers.engine.clustering import person_clusters


def _timed(clock: dict[str, float], name: str, started: float) -> float:
    now = time.perf_counter()
    clock[name] = now - started
    return now


def run_embedded(folder: Path, out: Path) -> dict[str, Any]:
    settings = population_settings()
    clock: dict[str, float] = {}
    started = time.perf_counter()
    base = pl.read_parquet(folder / "base.parquet")
    extract = pl.read_parquet(folder / "extracts.parquet")
    deduped, linked = dedupe_and_link(base, extract, settings)
    records = pl.concat([base, extract.select(base.columns)], how="vertical_relaxed")
    clusters, _ = person_clusters(records, pl.concat([deduped.pairs, linked.pairs]), settings)
    pl.concat([deduped.pairs, linked.pairs]).write_parquet(out / "pairs.parquet")
    clusters.write_parquet(out / "clusters.parquet")
    _timed(clock, "match_stage", started)
    return {
        "seconds": clock,
        "records": base.height + extract.height,
        "pairs": deduped.pairs.height + linked.pairs.height,
    }


def _stage_metrics(spark: Any) -> dict[str, float]:
    """Executor run time and task count summed over every stage this application ran, from Spark's REST API."""
    context = spark.sparkContext
    url = f"{context.uiWebUrl}/api/v1/applications/{context.applicationId}/stages?status=complete"
    with urllib.request.urlopen(url, timeout=30) as response:
        stages = json.load(response)
    return {
        "task_seconds": sum(stage["executorRunTime"] for stage in stages) / 1000.0,
        "tasks": float(sum(stage["numCompleteTasks"] for stage in stages)),
        "stages": float(len(stages)),
        "peak_task_memory_mb": max((stage.get("peakExecutionMemory", 0) for stage in stages), default=0) / 2**20,
    }


def _cached_megabytes(spark: Any) -> float:
    context = spark.sparkContext
    url = f"{context.uiWebUrl}/api/v1/applications/{context.applicationId}/storage/rdd"
    with urllib.request.urlopen(url, timeout=30) as response:
        cached = json.load(response)
    return sum(rdd.get("memoryUsed", 0) + rdd.get("diskUsed", 0) for rdd in cached) / 2**20


def _dump_stages(spark: Any, path: Path) -> None:
    """Every stage's own figures (run and CPU time, rows and bytes in and out, shuffles), for the profiler."""
    context = spark.sparkContext
    url = f"{context.uiWebUrl}/api/v1/applications/{context.applicationId}/stages?status=complete"
    with urllib.request.urlopen(url, timeout=30) as response:
        stages = json.load(response)
    keys = (
        "stageId", "name", "description", "numTasks", "executorRunTime", "executorCpuTime", "inputRecords",
        "outputRecords", "shuffleReadRecords", "shuffleReadBytes", "shuffleWriteRecords", "shuffleWriteBytes",
        "peakExecutionMemory",
    )  # fmt: skip
    path.write_text(json.dumps([{key: stage.get(key) for key in keys} for stage in stages], indent=1), "utf-8")


def run_spark(folder: Path, out: Path, master: str, partitions: int, *, stages: Path | None = None) -> dict[str, Any]:
    from scaleout import clustering, frames, linker
    from scaleout.session import SparkOptions, start_session, stop_session

    settings = population_settings()
    clock: dict[str, float] = {}
    started = time.perf_counter()
    spark = start_session(
        SparkOptions(master=master, shuffle_partitions=partitions, driver_memory="6g", executor_memory="3g")
    )
    spark.range(1).count()
    started = _timed(clock, "session_start", started)
    base = frames.read_table(spark, folder / "base.parquet")
    extract = frames.read_table(spark, folder / "extracts.parquet")
    deduped, linked = linker.dedupe_and_link(base, extract, settings)
    pairs = deduped.pairs.unionByName(linked.pairs)
    clusters, _ = clustering.person_clusters(clustering.night_records(base, extract), pairs, settings)
    frames.write_parquet(pairs, out / "pairs.parquet")
    frames.write_parquet(clusters, out / "clusters.parquet", order=[frames.ROW], drop=[frames.ROW])
    records = base.count() + extract.count()
    cached = _cached_megabytes(spark)
    _timed(clock, "match_stage", started)
    metrics = _stage_metrics(spark)
    if stages is not None:
        _dump_stages(spark, stages)
    stop_session(spark)
    return {"seconds": clock, "records": records, "metrics": metrics, "cached_mb": cached, "partitions": partitions}


def _child(arguments: list[str]) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *arguments], stdout=subprocess.PIPE, text=True, check=False
    )
    lines = completed.stdout.splitlines()
    if completed.returncode != 0 or not lines:
        raise SystemExit(f"tiến trình con lỗi / child failed: {' '.join(arguments)} (exit {completed.returncode})")
    return dict(json.loads(lines[-1]))


def _identity(embedded: Path, spark: Path) -> dict[str, Any]:
    key = ["left_id", "right_id"]
    want = pl.read_parquet(embedded / "pairs.parquet").sort(key)
    got = pl.read_parquet(spark / "pairs.parquet").sort(key)
    same_pairs = got.height == want.height and got.select(key).equals(want.select(key))
    gap = (got.get_column("match_probability") - want.get_column("match_probability")).abs()
    largest = gap.cast(pl.Float64).max() if same_pairs and gap.len() else 0.0
    difference = (float(largest) if isinstance(largest, float | int) else 0.0) if same_pairs else float("nan")
    same_decisions = same_pairs and got.get_column("decision").equals(want.get_column("decision"))
    clusters = pl.read_parquet(spark / "clusters.parquet").equals(pl.read_parquet(embedded / "clusters.parquet"))
    return {
        "pairs": got.height,
        "same_pairs": same_pairs,
        "max_probability_difference": difference,
        "same_decisions": same_decisions,
        "same_clusters": clusters,
    }


def _print(rows: list[dict[str, Any]], people: int) -> None:
    header = (
        f"{'engine':<22} {'stage s':>8} {'× embedded':>10} {'session s':>9} {'same pairs':>10} {'max |Δp|':>9} "
        f"{'same clusters':>13} {'core-s':>8} {'rec/core-s':>10} {'peak RSS MB':>11}"
    )
    print(f"\nmatch stage (dedupe + link + clusters) on a generated province of {people:,} people")
    print(header)
    print("-" * len(header))
    embedded = rows[0]["seconds"]["match_stage"]
    for row in rows:
        identity = row.get("identity", {})
        metrics = row.get("metrics", {})
        core_seconds = metrics.get("task_seconds")
        throughput = f"{row['records'] / core_seconds:>10,.0f}" if core_seconds else f"{'':>10}"
        print(
            f"{row['engine']:<22} {row['seconds']['match_stage']:>8.1f} "
            f"{row['seconds']['match_stage'] / embedded:>10.2f} {row['seconds'].get('session_start', 0.0):>9.1f} "
            f"{identity.get('same_pairs', '')!s:>10} {identity.get('max_probability_difference', float('nan')):>9.1e} "
            f"{identity.get('same_clusters', '')!s:>13} {core_seconds or 0.0:>8.1f} {throughput} "
            f"{row['rss_mb']:>11,.0f}"
        )
    for row in rows[1:]:
        metrics = row["metrics"]
        print(
            f"{row['engine']}: {row['partitions']} shuffle partitions, {metrics['stages']:.0f} stages, "
            f"{metrics['tasks']:.0f} tasks, cached records {row['cached_mb']:,.0f} MB "
            f"({row['cached_mb'] / row['records'] * 1e6:,.0f} MB per million records), "
            f"peak task execution memory {metrics['peak_task_memory_mb']:,.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--nights", type=int, default=8, help="nights of extracts (about 1.4 %% of people each)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data", type=Path, help="folder of the generated, normalized data (cached)")
    parser.add_argument("--partitions", type=int, default=8, help="shuffle partitions (Spark runs)")
    parser.add_argument("--no-cluster", action="store_true", help="skip the 2-worker standalone cluster run")
    parser.add_argument("--stages", type=Path, help="write the local[2] run's per-stage metrics (JSON) here")
    parser.add_argument("--mode", choices=("bench", "_embedded", "_spark"), default="bench", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--master", default="local[2]", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode == "_embedded":
        print(json.dumps({**run_embedded(args.folder, args.out), "rss_mb": _peak_rss_mb()}))
        return
    if args.mode == "_spark":
        result = run_spark(args.folder, args.out, args.master, args.partitions, stages=args.stages)
        print(json.dumps({**result, "rss_mb": _peak_rss_mb()}))
        return
    data = args.data or Path(tempfile.gettempdir()) / f"dancu-bench-{args.people}-{args.seed}-{args.nights}"
    folder = prepare_generated(args.people, args.seed, args.nights, data)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="dancu-bench-spark-") as scratch:
        embedded_out = Path(scratch) / "embedded"
        embedded_out.mkdir()
        rows.append({"engine": "embedded (polars)", **_child(["--mode", "_embedded", "--folder", str(folder),
                                                              "--out", str(embedded_out)])})  # fmt: skip
        runs = [("spark local[2]", "local[2]")]
        cluster = None
        if not args.no_cluster:
            from scaleout.standalone import local_cluster

            cluster = local_cluster(2, cores_per_worker=1, memory_per_worker="5g")
            runs.append(("spark 2-worker cluster", cluster.__enter__().master_url))
        try:
            for label, master in runs:
                out = Path(scratch) / label.replace(" ", "-")
                out.mkdir()
                environment_master = ["--master", master, "--partitions", str(args.partitions)]
                if args.stages is not None and master.startswith("local"):
                    environment_master += ["--stages", str(args.stages.resolve())]
                row = _child(["--mode", "_spark", "--folder", str(folder), "--out", str(out), *environment_master])
                rows.append({"engine": label, **row, "identity": _identity(embedded_out, out)})
                shutil.rmtree(out, ignore_errors=True)
        finally:
            if cluster is not None:
                cluster.__exit__(None, None, None)
    _print(rows, args.people)
    print(f"machine load (uptime): {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
