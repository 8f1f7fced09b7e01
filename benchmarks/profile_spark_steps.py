"""Where a Spark match stage's wall time goes, step by step (development profiler for issue 13).

    .venv/bin/python benchmarks/profile_spark_steps.py --data var/bench/p200k

Runs ``bench_spark.run_spark`` on the normalized data of ``bench_spark.py --data`` (generate it there first) with
the steps of ``scaleout.linker`` and ``scaleout.clustering`` wrapped: the wall seconds and the Spark stages each
step ran (a wrapped step's own time excludes the wrapped steps it calls). Figures are this machine's, under its
load (``uptime`` is printed).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

_SECONDS: dict[str, float] = defaultdict(float)
_STAGES: dict[str, int] = defaultdict(int)
_CALLS: dict[str, int] = defaultdict(int)
_STACK: list[list[float]] = []


def _stage_count() -> int:
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        return 0
    context = spark.sparkContext
    url = f"{context.uiWebUrl}/api/v1/applications/{context.applicationId}/stages"
    with urllib.request.urlopen(url, timeout=30) as response:
        return len([s for s in json.load(response) if s.get("status") != "SKIPPED"])


_LABELS: list[str] = []


def _describe(label: str | None) -> None:
    """Name the jobs that follow after the step running them (the stages' ``description`` in ``--stages``)."""
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is not None:
        spark.sparkContext.setJobDescription(label)


def _wrap(module: Any, name: str, label: str) -> None:
    original: Callable[..., Any] = getattr(module, name)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started, stages = time.perf_counter(), _stage_count()
        _STACK.append([0.0, 0.0])
        _LABELS.append(label)
        _describe(label)
        try:
            return original(*args, **kwargs)
        finally:
            _LABELS.pop()
            _describe(_LABELS[-1] if _LABELS else None)
            inner_seconds, inner_stages = _STACK.pop()
            seconds, ran = time.perf_counter() - started, _stage_count() - stages
            _SECONDS[label] += seconds - inner_seconds
            _STAGES[label] += int(ran - inner_stages)
            _CALLS[label] += 1
            if _STACK:
                _STACK[-1][0] += seconds
                _STACK[-1][1] += ran

    setattr(module, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the --data folder of bench_spark.py")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument(
        "--without", action="append", default=[], choices=["by_row"], help="switch a layout step off (A/B runs)"
    )
    parser.add_argument(
        "--embedded", type=Path, help="folder of the embedded engine's outputs (made when absent): identity checked"
    )
    parser.add_argument("--stages", type=Path, help="write every stage's metrics (JSON) here")
    args = parser.parse_args()

    import bench_spark

    from scaleout import blocking, clustering, components, frames, linker

    for module, name in [
        (linker, "prepare_records"),
        (linker, "_term_frequencies"),
        (linker, "compare"),
        (linker, "estimate_u_on"),
        (linker, "train_and_score"),
        (blocking, "guard_blocks"),
        (clustering, "person_clusters"),
        (clustering, "connected_components"),
        (clustering, "_group_clusters"),
        (clustering, "stable_cluster_ids"),
        (clustering, "night_records"),
        (frames, "write_parquet"),
    ]:
        _wrap(module, name, f"{module.__name__.split('.')[-1]}.{name}")
    # The lazily built frames cost where they are materialized: label those by their caller.
    for module in (linker, clustering):
        original = module.materialize

        def materialize(df: Any, _original: Any = original, _module: str = module.__name__, **kwargs: Any) -> Any:
            caller = sys._getframe(1)
            label = f"  materialize {_module.split('.')[-1]}:{caller.f_code.co_name}:{caller.f_lineno}"
            started, stages = time.perf_counter(), _stage_count()
            _describe(label.strip())
            result = _original(df, **kwargs)
            _describe(_LABELS[-1] if _LABELS else None)
            seconds, ran = time.perf_counter() - started, _stage_count() - stages
            _SECONDS[label] += seconds
            _STAGES[label] += ran
            _CALLS[label] += 1
            if _STACK:
                _STACK[-1][0] += seconds
                _STACK[-1][1] += ran
            return result

        module.materialize = materialize  # type: ignore[attr-defined]
    del components
    if "by_row" in args.without:
        linker.by_row = lambda df: df  # type: ignore[attr-defined]
    identity = None
    if args.embedded is not None and not (args.embedded / "clusters.parquet").exists():
        args.embedded.mkdir(parents=True, exist_ok=True)
        bench_spark.run_embedded(args.data / "normalized", args.embedded)
    with tempfile.TemporaryDirectory(prefix="dancu-profile-spark-") as scratch:
        result = bench_spark.run_spark(
            args.data / "normalized", Path(scratch), args.master, args.partitions, stages=args.stages
        )
        if args.embedded is not None:
            identity = bench_spark._identity(args.embedded, Path(scratch))
    print(f"{'step':<58} {'calls':>5} {'wall s':>8} {'stages':>6}")
    for label in sorted(_SECONDS, key=lambda key: -_SECONDS[key]):
        print(f"{label:<58} {_CALLS[label]:>5} {_SECONDS[label]:>8.1f} {_STAGES[label]:>6}")
    seconds = result["seconds"]
    print(
        f"match stage {seconds['match_stage']:.1f} s (session {seconds['session_start']:.1f} s), "
        f"{result['metrics']['stages']:.0f} stages, {result['metrics']['task_seconds']:.1f} core-s; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    if identity is not None:
        print(f"identity against {args.embedded}: {identity}")


if __name__ == "__main__":
    main()
