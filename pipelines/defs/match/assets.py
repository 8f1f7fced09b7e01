"""Match assets: find candidate pairs, score them (Fellegi–Sunter, EM, term frequencies), cluster into persons.

On the Spark engine (``pipelines.resources.EngineResource``) the inputs arrive as Spark DataFrames and the same
engine functions run distributed (``scaleout.nightly``), with the same results.
"""

from collections.abc import Mapping, Sequence

import dagster as dg
import polars as pl

from corrections.reviews import load_labels
from matchers.engine.linker import decision_counts
from matchers.engine.nightly import cluster_night, find_candidates, score_candidates
from matchers.engine.population import population_settings
from matchers.engine.types import LABEL_SCHEMA
from pipelines.io import EngineFrame, engine_inputs, on_spark
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths, TaskStoreResource
from pipelines.timing import Stopwatch


def review_labels(database_url: str) -> pl.DataFrame:
    """Data officers' decisions from the task store, as the engine's labels (a decided pair is never re-reviewed)."""
    return load_labels(database_url).select(list(LABEL_SCHEMA))


def _table(rows: Sequence[Mapping[str, object]]) -> dg.MetadataValue:
    if not rows:
        return dg.MetadataValue.md("(trống)")
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(str(row[c]) for c in header) + " |" for row in rows)
    return dg.MetadataValue.md("\n".join(lines))


def _kind_counts(pairs: EngineFrame) -> dict[str, int]:
    if on_spark(pairs):
        return {row["kind"]: int(row["count"]) for row in pairs.groupBy("kind").count().collect()}
    by_kind = pairs.get_column("kind").value_counts()
    return dict(zip(by_kind.get_column("kind").to_list(), by_kind.get_column("count").to_list(), strict=True))


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="match",
    kinds={"polars", "numpy", "spark"},
    ins=engine_inputs("normalized_base", "normalized_extracts"),
    description="Các cặp bản ghi ứng viên (trùng trong cơ sở dữ liệu và nối trích xuất → cơ sở) theo quy tắc chặn.",
)
def candidate_pairs(
    context: dg.AssetExecutionContext,
    normalized_base: EngineFrame,
    normalized_extracts: EngineFrame,
    paths: DancuPaths,
) -> dg.Output[EngineFrame]:
    """Block the base against itself and the night's extracts against the persisted base index (on Spark: against
    the base's blocks, joined by Spark)."""
    watch = Stopwatch()
    candidates: EngineFrame
    if on_spark(normalized_base):
        from scaleout import nightly

        candidates, summary = nightly.find_candidates(normalized_base, normalized_extracts, population_settings())
        candidates = candidates.persist()
    else:
        candidates, summary = find_candidates(
            normalized_base, normalized_extracts, population_settings(), paths.state_dir
        )
    per_rule = [{"quy_tac": rule, **counts} for rule, counts in summary.per_rule().items()]
    kinds = _kind_counts(candidates)
    context.log.info(
        f"{sum(kinds.values())} cặp ứng viên; chỉ mục cơ sở {'dựng lại' if summary.index_rebuilt else 'dùng lại'}"
    )
    return dg.Output(
        candidates,
        metadata={
            **watch.metadata(),
            "pairs_dedupe": dg.MetadataValue.int(int(kinds.get("dedupe", 0))),
            "pairs_link": dg.MetadataValue.int(int(kinds.get("link", 0))),
            "pairs_per_rule": _table(per_rule),
            "index_rebuilt": dg.MetadataValue.bool(summary.index_rebuilt),
        },
    )


def _decision_bands(pairs: EngineFrame) -> tuple[list[dict[str, object]], dict[str, int]]:
    """Decisions per kind of pair and in all."""
    if on_spark(pairs):
        counted = {
            (row["kind"], row["decision"]): int(row["count"])
            for row in pairs.groupBy("kind", "decision").count().collect()
        }
        per_kind = {
            kind: {decision: counted.get((kind, decision), 0) for decision in ("match", "review", "non_match")}
            for kind in ("dedupe", "link")
        }
    else:
        per_kind = {kind: decision_counts(pairs.filter(pl.col("kind") == kind)) for kind in ("dedupe", "link")}
    totals = {
        decision: sum(counts[decision] for counts in per_kind.values()) for decision in ("match", "review", "non_match")
    }
    return [{"loai": kind, **counts} for kind, counts in per_kind.items()], totals


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="match",
    kinds={"polars", "spark"},
    ins=engine_inputs("candidate_pairs", "normalized_base", "normalized_extracts"),
    description="Các cặp đã chấm điểm: xác suất trùng, quyết định (match/review/non_match), giải thích từng tiêu chí.",
)
def scored_pairs(
    context: dg.AssetExecutionContext,
    candidate_pairs: EngineFrame,
    normalized_base: EngineFrame,
    normalized_extracts: EngineFrame,
    paths: DancuPaths,
    task_store: TaskStoreResource,
) -> dg.Output[EngineFrame]:
    """Score every candidate pair; reviewers' decisions from the task store act as labels and fix the decision."""
    watch = Stopwatch()
    labels = review_labels(task_store.database_url)
    pairs: EngineFrame
    if on_spark(candidate_pairs):
        from scaleout import nightly

        pairs = nightly.score_candidates(
            candidate_pairs, normalized_base, normalized_extracts, population_settings(), labels=labels
        ).persist()
    else:
        pairs = score_candidates(
            candidate_pairs, normalized_base, normalized_extracts, population_settings(), paths.state_dir, labels=labels
        )
    bands, totals = _decision_bands(pairs)
    context.log.info(f"quyết định: {totals}")
    return dg.Output(
        pairs,
        metadata={
            **watch.metadata(),
            "decisions": _table(bands),
            "match": dg.MetadataValue.int(totals["match"]),
            "review": dg.MetadataValue.int(totals["review"]),
            "non_match": dg.MetadataValue.int(totals["non_match"]),
            "labels_used": dg.MetadataValue.int(labels.height),
        },
    )


def _cluster_sizes(clusters: EngineFrame) -> tuple[int, int, int]:
    """Records, clusters, clusters of several records."""
    if on_spark(clusters):
        sizes = clusters.groupBy("cluster_id").count()
        row = sizes.selectExpr("sum(count) AS records", "count(*) AS clusters", "count_if(count > 1) AS multi").first()
        return int(row["records"] or 0), int(row["clusters"]), int(row["multi"])
    counted = clusters.group_by("cluster_id").len()
    return clusters.height, counted.height, counted.filter(pl.col("len") > 1).height


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="match",
    kinds={"polars", "spark"},
    ins=engine_inputs("scored_pairs", "normalized_base", "normalized_extracts"),
    description="Mỗi bản ghi (cơ sở và trích xuất) với mã cụm người, ổn định qua các đêm.",
)
def person_clusters(
    context: dg.AssetExecutionContext,
    scored_pairs: EngineFrame,
    normalized_base: EngineFrame,
    normalized_extracts: EngineFrame,
    paths: DancuPaths,
) -> dg.Output[EngineFrame]:
    """Cluster matched pairs into persons, refusing merges that would chain two different citizens."""
    watch = Stopwatch()
    night_clusters = cluster_night
    if on_spark(scored_pairs):
        from scaleout import nightly

        night_clusters = nightly.cluster_night  # type: ignore[assignment]
    clusters, report = night_clusters(
        normalized_base,
        normalized_extracts,
        scored_pairs,
        population_settings(),
        paths.state_dir,
        context.partition_key,
    )
    records, cluster_count, multi = _cluster_sizes(clusters)
    return dg.Output(
        clusters,
        metadata={
            **watch.metadata(),
            "records": dg.MetadataValue.int(records),
            "clusters": dg.MetadataValue.int(cluster_count),
            "multi_record_clusters": dg.MetadataValue.int(multi),
            **{key: dg.MetadataValue.int(value) for key, value in report.as_dict().items()},
        },
    )
