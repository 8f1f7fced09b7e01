"""``dancu match``: link an extract file to a population base file through the persisted base index."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from matchers.engine.clustering import person_clusters
from matchers.engine.files import read_table
from matchers.engine.index import BaseIndex, file_digest
from matchers.engine.linker import prepare_records
from matchers.engine.population import population_settings
from pipelines.commands.dedupe import add_threshold_options, print_summary, thresholds_of, write_spark_outputs
from pipelines.engine_options import EngineResource, add_engine_options, engine_of, spark_for
from pipelines.errors import CommandError
from pipelines.io import write_parquet_atomic
from pipelines.person_files import read_command_records, read_spark_records
from pipelines.progress import terminal_progress


def _run(args: argparse.Namespace) -> int:
    engine = engine_of(args)
    if engine.is_spark:
        return _run_on_spark(args, engine)
    started = time.perf_counter()
    settings = population_settings(thresholds=thresholds_of(args))
    index_dir = args.index or args.out / "match_index"
    try:
        digest = file_digest(args.base)
        index = BaseIndex.reuse(index_dir, settings, digest)
        with terminal_progress("dancu match: ") as progress:
            if index is None:
                # No index of this very file yet: read and normalize the base once, and index it.
                progress("chuẩn hóa cơ sở / normalizing the base", 0, None)
                base = read_command_records(args.base, settings, args.out)
                progress("lập chỉ mục cơ sở / indexing the base", 0, base.height)
                index = BaseIndex.build(base, settings, index_dir, source_digest=digest)
                progress("lập chỉ mục cơ sở / indexing the base", base.height, base.height)
                print(f"Chỉ mục cơ sở / base index: {index_dir} (dựng mới / built)")
            else:
                print(f"Chỉ mục cơ sở / base index: {index_dir} (dùng lại, không chuẩn hóa lại cơ sở / reused)")
            progress("chuẩn hóa trích xuất / normalizing the extract", 0, None)
            extract = read_command_records(args.extract, settings, args.out)
            labels = read_table(args.labels) if args.labels else None
            progress("nối với cơ sở / linking to the base", 0, extract.height)
            result = index.link(extract, labels=labels)
            progress("nối với cơ sở / linking to the base", extract.height, extract.height)
    except (FileNotFoundError, ValueError) as error:
        raise CommandError(str(error)) from error
    # The base side of the clusters comes from the index: the conflict columns are among the indexed ones.
    conflict = list(dict.fromkeys(c for rule in settings.conflicts for c in rule.columns))
    base_side = index.record_frame([settings.id_column, *conflict]).with_columns(pl.lit("base").alias("source"))
    extract_side = prepare_records(extract, settings, with_tf=False).select(settings.id_column, *conflict)
    if "source" in extract.columns:
        extract_side = extract_side.with_columns(extract.get_column("source").cast(pl.String))
    records = pl.concat([base_side, extract_side], how="diagonal_relaxed")
    clusters, _ = person_clusters(records, result.pairs, settings)
    args.out.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(result.pairs, args.out / "pairs.parquet")
    write_parquet_atomic(clusters, args.out / "clusters.parquet")
    result.model.save(args.out / "model.json")
    linked = result.pairs.filter(pl.col("decision") == "match").get_column("left_id").n_unique()
    print_summary(
        result.pairs.height,
        result.decision_counts(),
        clusters.get_column("cluster_id").n_unique(),
        clusters.height,
        time.perf_counter() - started,
    )
    print(f"Bản ghi trích xuất nối được / extract records linked: {linked:,} / {extract.height:,}")
    print(f"Đã ghi / written: {args.out / 'pairs.parquet'}, {args.out / 'clusters.parquet'}")
    return 0


def _run_on_spark(args: argparse.Namespace, engine: EngineResource) -> int:
    """The same link on Spark, joining the extract's blocks against the base's (the base index is not used)."""
    started = time.perf_counter()
    settings = population_settings(thresholds=thresholds_of(args))
    with spark_for(engine) as spark:
        from pyspark.sql import functions as F

        from scaleout import clustering, linker
        from scaleout.frames import read_parquet

        try:
            base = read_spark_records(spark, args.base, settings, args.out)
            extract = read_spark_records(spark, args.extract, settings, args.out)
            labels = read_table(args.labels) if args.labels else None
            print("Chỉ mục cơ sở / base index: không dùng trên Spark / not used on Spark")
            result = linker.link(extract, base, settings, labels=labels)
        except (FileNotFoundError, ValueError) as error:
            raise CommandError(str(error)) from error
        clusters, _ = clustering.person_clusters(clustering.night_records(base, extract), result.pairs, settings)
        write_spark_outputs(result.pairs, clusters, args.out)
        result.model.save(args.out / "model.json")
        pairs = read_parquet(spark, args.out / "pairs.parquet")
        written = read_parquet(spark, args.out / "clusters.parquet")
        linked = pairs.where(F.col("decision") == "match").select("left_id").distinct().count()
        print_summary(
            pairs.count(),
            result.decision_counts(),
            written.select("cluster_id").distinct().count(),
            written.count(),
            time.perf_counter() - started,
        )
        print(f"Bản ghi trích xuất nối được / extract records linked: {linked:,} / {extract.count():,}")
    print(f"Đã ghi / written: {args.out / 'pairs.parquet'}, {args.out / 'clusters.parquet'} (Spark)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "match",
        help="nối bản ghi trích xuất với cơ sở dữ liệu dân cư / link an extract to a base",
        description="Nối từng bản ghi của tệp trích xuất với cơ sở (qua chỉ mục cơ sở lưu sẵn).",
    )
    parser.add_argument("--base", type=Path, required=True, help="tệp cơ sở / base file")
    parser.add_argument("--extract", type=Path, required=True, help="tệp trích xuất / extract file")
    parser.add_argument("--out", type=Path, required=True, help="thư mục kết quả / output folder")
    parser.add_argument("--index", type=Path, help="thư mục chỉ mục cơ sở (mặc định OUT/match_index) / index folder")
    add_threshold_options(parser)
    add_engine_options(parser)
    parser.set_defaults(handler=_run)
