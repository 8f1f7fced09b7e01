"""``dancu dedupe``: find duplicate records within a population base file."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from matchers.engine.clustering import person_clusters
from matchers.engine.files import read_table
from matchers.engine.linker import dedupe
from matchers.engine.population import population_settings
from matchers.engine.settings import Thresholds
from pipelines.engine_options import EngineResource, add_engine_options, engine_of, spark_for
from pipelines.errors import CommandError
from pipelines.io import write_parquet_atomic
from pipelines.person_files import read_command_records, read_spark_records
from pipelines.progress import terminal_progress

if TYPE_CHECKING:  # pyspark is an optional extra: only the type checker imports it here
    from pyspark.sql import DataFrame


def add_threshold_options(parser: argparse.ArgumentParser) -> None:
    defaults = Thresholds()
    parser.add_argument(
        "--match-threshold",
        type=float,
        default=defaults.match,
        help=f"xác suất tối thiểu để coi là cùng người / match threshold (mặc định {defaults.match})",
    )
    parser.add_argument(
        "--review-threshold",
        type=float,
        default=defaults.review,
        help=f"xác suất tối thiểu để đưa ra xem xét / review threshold (mặc định {defaults.review})",
    )
    parser.add_argument("--labels", type=Path, help="quyết định xem xét (left_id, right_id, same_person) / labels")


def thresholds_of(args: argparse.Namespace) -> Thresholds:
    try:
        return Thresholds(match=args.match_threshold, review=args.review_threshold)
    except ValueError as error:
        raise CommandError(f"ngưỡng không hợp lệ / invalid thresholds: {error}") from error


def print_summary(pairs_count: int, decisions: dict[str, int], clusters: int, records: int, seconds: float) -> None:
    print(f"Số cặp ứng viên / candidate pairs: {pairs_count:,}")
    print(
        f"Cùng người / match: {decisions['match']:,}   Cần xem xét / review: {decisions['review']:,}   "
        f"Khác người / non-match: {decisions['non_match']:,}"
    )
    print(f"Bản ghi / records: {records:,} → người / persons (cụm): {clusters:,}")
    print(f"Thời gian / time: {seconds:.1f} s")


def _run(args: argparse.Namespace) -> int:
    engine = engine_of(args)
    if engine.is_spark:
        return _run_on_spark(args, engine)
    started = time.perf_counter()
    settings = population_settings(thresholds=thresholds_of(args))
    try:
        base = read_command_records(args.base, settings, args.out)
        labels = read_table(args.labels) if args.labels else None
        with terminal_progress("dancu dedupe: ") as progress:
            result = dedupe(base, settings, labels=labels, progress=progress)
    except (FileNotFoundError, ValueError) as error:
        raise CommandError(str(error)) from error
    clusters, _ = person_clusters(base, result.pairs, settings)
    args.out.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(result.pairs, args.out / "pairs.parquet")
    write_parquet_atomic(clusters, args.out / "clusters.parquet")
    result.model.save(args.out / "model.json")
    print_summary(
        result.pairs.height,
        result.decision_counts(),
        clusters.get_column("cluster_id").n_unique(),
        clusters.height,
        time.perf_counter() - started,
    )
    print(f"Đã ghi / written: {args.out / 'pairs.parquet'}, {args.out / 'clusters.parquet'}")
    return 0


def _run_on_spark(args: argparse.Namespace, engine: EngineResource) -> int:
    """The same job on Spark: same pairs, model and clusters; outputs are folders of Parquet part files."""
    started = time.perf_counter()
    settings = population_settings(thresholds=thresholds_of(args))
    with spark_for(engine) as spark:
        from scaleout import clustering, linker
        from scaleout.frames import read_parquet

        try:
            base = read_spark_records(spark, args.base, settings, args.out)
            labels = read_table(args.labels) if args.labels else None
            result = linker.dedupe(base, settings, labels=labels)
        except (FileNotFoundError, ValueError) as error:
            raise CommandError(str(error)) from error
        clusters, _ = clustering.person_clusters(base, result.pairs, settings)
        write_spark_outputs(result.pairs, clusters, args.out)
        result.model.save(args.out / "model.json")
        written = read_parquet(spark, args.out / "clusters.parquet")
        print_summary(
            read_parquet(spark, args.out / "pairs.parquet").count(),
            result.decision_counts(),
            written.select("cluster_id").distinct().count(),
            written.count(),
            time.perf_counter() - started,
        )
    print(f"Đã ghi / written: {args.out / 'pairs.parquet'}, {args.out / 'clusters.parquet'} (Spark)")
    return 0


def write_spark_outputs(pairs: DataFrame, clusters: DataFrame, out: Path) -> None:
    """Pairs and clusters (in record order) as Parquet folders under ``out``."""
    from scaleout.frames import ROW, write_parquet

    out.mkdir(parents=True, exist_ok=True)
    write_parquet(pairs, out / "pairs.parquet")
    write_parquet(clusters, out / "clusters.parquet", order=[ROW], drop=[ROW])


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dedupe",
        help="tìm bản ghi trùng trong cơ sở dữ liệu dân cư / find duplicates within a base",
        description="Tìm các bản ghi trùng trong tệp cơ sở (Parquet/CSV, lược đồ chuẩn hoặc đã chuẩn hóa).",
    )
    parser.add_argument("--base", type=Path, required=True, help="tệp cơ sở / base file")
    parser.add_argument("--out", type=Path, required=True, help="thư mục kết quả / output folder")
    add_threshold_options(parser)
    add_engine_options(parser)
    parser.set_defaults(handler=_run)
