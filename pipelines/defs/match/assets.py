"""Match assets: find candidate pairs, score them (Fellegi–Sunter, EM, term frequencies), cluster into persons."""

from collections.abc import Mapping, Sequence

import dagster as dg
import polars as pl

from corrections.reviews import load_labels
from matchers.engine.linker import decision_counts
from matchers.engine.nightly import cluster_night, find_candidates, score_candidates
from matchers.engine.population import population_settings
from matchers.engine.types import LABEL_SCHEMA
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


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="match",
    kinds={"polars", "numpy"},
    description="Các cặp bản ghi ứng viên (trùng trong cơ sở dữ liệu và nối trích xuất → cơ sở) theo quy tắc chặn.",
)
def candidate_pairs(
    context: dg.AssetExecutionContext,
    normalized_base: pl.DataFrame,
    normalized_extracts: pl.DataFrame,
    paths: DancuPaths,
) -> dg.Output[pl.DataFrame]:
    """Block the base against itself and the night's extracts against the persisted base index."""
    watch = Stopwatch()
    candidates, summary = find_candidates(normalized_base, normalized_extracts, population_settings(), paths.state_dir)
    per_rule = [{"quy_tac": rule, **counts} for rule, counts in summary.per_rule().items()]
    by_kind = candidates.get_column("kind").value_counts()
    kinds = dict(zip(by_kind.get_column("kind").to_list(), by_kind.get_column("count").to_list(), strict=True))
    context.log.info(
        f"{candidates.height} cặp ứng viên; chỉ mục cơ sở {'dựng lại' if summary.index_rebuilt else 'dùng lại'}"
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


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="match",
    kinds={"polars"},
    description="Các cặp đã chấm điểm: xác suất trùng, quyết định (match/review/non_match), giải thích từng tiêu chí.",
)
def scored_pairs(
    context: dg.AssetExecutionContext,
    candidate_pairs: pl.DataFrame,
    normalized_base: pl.DataFrame,
    normalized_extracts: pl.DataFrame,
    paths: DancuPaths,
    task_store: TaskStoreResource,
) -> dg.Output[pl.DataFrame]:
    """Score every candidate pair; reviewers' decisions from the task store act as labels and fix the decision."""
    watch = Stopwatch()
    labels = review_labels(task_store.database_url)
    pairs = score_candidates(
        candidate_pairs, normalized_base, normalized_extracts, population_settings(), paths.state_dir, labels=labels
    )
    bands = [{"loai": kind, **decision_counts(pairs.filter(pl.col("kind") == kind))} for kind in ("dedupe", "link")]
    totals = decision_counts(pairs)
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


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="match",
    kinds={"polars"},
    description="Mỗi bản ghi (cơ sở và trích xuất) với mã cụm người, ổn định qua các đêm.",
)
def person_clusters(
    context: dg.AssetExecutionContext,
    scored_pairs: pl.DataFrame,
    normalized_base: pl.DataFrame,
    normalized_extracts: pl.DataFrame,
    paths: DancuPaths,
) -> dg.Output[pl.DataFrame]:
    """Cluster matched pairs into persons, refusing merges that would chain two different citizens."""
    watch = Stopwatch()
    clusters, report = cluster_night(
        normalized_base,
        normalized_extracts,
        scored_pairs,
        population_settings(),
        paths.state_dir,
        context.partition_key,
    )
    sizes = clusters.group_by("cluster_id").len()
    return dg.Output(
        clusters,
        metadata={
            **watch.metadata(),
            "records": dg.MetadataValue.int(clusters.height),
            "clusters": dg.MetadataValue.int(sizes.height),
            "multi_record_clusters": dg.MetadataValue.int(sizes.filter(pl.col("len") > 1).height),
            **{key: dg.MetadataValue.int(value) for key, value in report.as_dict().items()},
        },
    )
