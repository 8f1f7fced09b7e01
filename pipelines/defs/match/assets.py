"""Match assets: find candidate pairs, score them (Fellegi–Sunter, EM, term frequencies), cluster into persons."""

from collections.abc import Mapping, Sequence

import dagster as dg
import polars as pl

from corrections.reviews import load_labels
from matchers.engine.linker import decision_counts
from matchers.engine.nightly import ClusterNight, cluster_night, find_candidates, score_candidates
from matchers.engine.population import population_settings
from matchers.engine.types import LABEL_SCHEMA
from pipelines.nightstate import NightlyState
from pipelines.partitions import nightly_partitions
from pipelines.progress import reporter
from pipelines.resources import DancuPaths, TaskStoreResource
from pipelines.timing import Stopwatch
from state.tables import TableVersion


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
    description="Các cặp bản ghi ứng viên của đêm: trong cơ sở dữ liệu (các cặp có bản ghi mới, đã đổi hoặc thuộc "
    "khối vừa đổi cỡ) và nối trích xuất → cơ sở, theo quy tắc chặn trên chỉ mục cơ sở của đêm.",
)
def candidate_pairs(
    context: dg.AssetExecutionContext,
    normalized_base: TableVersion,
    normalized_extracts: pl.DataFrame,
    paths: DancuPaths,
    night_state: NightlyState,
) -> dg.Output[pl.DataFrame]:
    """Update the persisted base index to tonight's base, then block what tonight changed against it (every base
    pair on a full night) and the night's extracts against it."""
    watch = Stopwatch()
    candidates, summary = find_candidates(
        normalized_base,
        normalized_extracts,
        population_settings(),
        paths.state_dir,
        full=night_state.rebuild,
        retrain=night_state.retrain,
        progress=reporter(),
    )
    per_rule = [{"quy_tac": rule, **counts} for rule, counts in summary.per_rule().items()]
    by_kind = candidates.get_column("kind").value_counts()
    kinds = dict(zip(by_kind.get_column("kind").to_list(), by_kind.get_column("count").to_list(), strict=True))
    context.log.info(
        f"{candidates.height} cặp ứng viên; {summary.dirty} bản ghi cơ sở cần ghép lại "
        f"({summary.flipped_blocks} khối đổi cỡ){'; dựng lại toàn bộ' if summary.full else ''}"
        f"{'; huấn luyện mô hình' if summary.training else ''}"
    )
    return dg.Output(
        candidates,
        metadata={
            **watch.metadata(),
            "pairs_dedupe": dg.MetadataValue.int(int(kinds.get("dedupe", 0))),
            "pairs_link": dg.MetadataValue.int(int(kinds.get("link", 0))),
            "pairs_per_rule": _table(per_rule),
            "dirty_records": dg.MetadataValue.int(summary.dirty),
            "flipped_blocks": dg.MetadataValue.int(summary.flipped_blocks),
            "full": dg.MetadataValue.bool(summary.full),
            "training": dg.MetadataValue.bool(summary.training),
        },
    )


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="match",
    kinds={"polars"},
    description="Các cặp đã chấm điểm của đêm: mọi cặp nối trích xuất → cơ sở và các cặp trong cơ sở ở mức ghép hoặc "
    "cần xem xét (xác suất, quyết định, giải thích từng tiêu chí); mọi cặp trong cơ sở nằm trong trạng thái.",
)
def scored_pairs(
    context: dg.AssetExecutionContext,
    candidate_pairs: pl.DataFrame,
    normalized_extracts: pl.DataFrame,
    paths: DancuPaths,
    task_store: TaskStoreResource,
) -> dg.Output[pl.DataFrame]:
    """Score tonight's candidate pairs with the frozen base model (trained here on a training night); reviewers'
    decisions from the task store act as labels and fix the decision of every pair they decided."""
    watch = Stopwatch()
    labels = review_labels(task_store.database_url)
    scored = score_candidates(
        candidate_pairs,
        normalized_extracts,
        population_settings(),
        paths.state_dir,
        context.partition_key,
        labels=labels,
        progress=reporter(),
    )
    pairs = scored.pairs
    bands = [{"loai": kind, **decision_counts(pairs.filter(pl.col("kind") == kind))} for kind in ("dedupe", "link")]
    totals = decision_counts(pairs)
    context.log.info(f"quyết định: {totals}; {scored.store.rows} cặp trong cơ sở được lưu")
    return dg.Output(
        pairs,
        metadata={
            **watch.metadata(),
            "decisions": _table(bands),
            "match": dg.MetadataValue.int(totals["match"]),
            "review": dg.MetadataValue.int(totals["review"]),
            "non_match": dg.MetadataValue.int(totals["non_match"]),
            "labels_used": dg.MetadataValue.int(labels.height),
            "base_pairs_stored": dg.MetadataValue.int(scored.store.rows),
            "model_trained": dg.MetadataValue.bool(scored.trained),
        },
    )


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="match",
    kinds={"polars"},
    description="Mỗi bản ghi (cơ sở và trích xuất của đêm) với mã cụm người, ổn định qua các đêm; các lần gộp, tách "
    "cụm của đêm.",
)
def person_clusters(
    context: dg.AssetExecutionContext,
    scored_pairs: pl.DataFrame,
    normalized_base: TableVersion,
    normalized_extracts: pl.DataFrame,
    paths: DancuPaths,
) -> dg.Output[ClusterNight]:
    """Cluster matched pairs into persons, refusing merges that would chain two different citizens; only the
    connected components that tonight changed are clustered again."""
    watch = Stopwatch()
    night = cluster_night(
        normalized_base,
        normalized_extracts,
        scored_pairs,
        population_settings(),
        paths.state_dir,
        context.partition_key,
        progress=reporter(),
    )
    changes = night.changes.group_by("kind").len()
    counted = dict(changes.iter_rows())
    return dg.Output(
        night,
        metadata={
            **watch.metadata(),
            "records": dg.MetadataValue.int(night.clusters.rows),
            "clustered_tonight": dg.MetadataValue.int(night.touched.height),
            "merges": dg.MetadataValue.int(int(counted.get("merge", 0))),
            "splits": dg.MetadataValue.int(int(counted.get("split", 0))),
            **{key: dg.MetadataValue.int(value) for key, value in night.report.as_dict().items()},
        },
    )
