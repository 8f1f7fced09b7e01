"""The nightly match report for data officers (bao-cao-ghep-noi.html), linked from the quality report."""

import datetime as dt

import dagster as dg
import polars as pl

from checks.match_report import MatchReportInput, write_match_report
from matchers.engine.nightly import ClusterNight, report_pairs
from matchers.engine.population import population_settings
from pipelines.defs.match.assets import review_labels
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths, TaskStoreResource
from pipelines.timing import Stopwatch
from state.tables import TableVersion


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="report",
    kinds={"html"},
    description="Báo cáo ghép nối bản ghi: số cặp theo mức quyết định, phân bố xác suất, thống kê phân khối và mẫu "
    "các cặp cần xem xét đặt cạnh nhau kèm giải thích.",
)
def match_report(
    context: dg.AssetExecutionContext,
    paths: DancuPaths,
    task_store: TaskStoreResource,
    scored_pairs: pl.DataFrame,
    person_clusters: ClusterNight,
    normalized_base: TableVersion,
    extract_records: pl.DataFrame,
) -> dg.MaterializeResult:
    """Render the night's pairs (every stored base pair and tonight's links) and clusters into the match report."""
    watch = Stopwatch()
    night = dt.date.fromisoformat(context.partition_key)
    settings = population_settings()
    pairs = report_pairs(
        scored_pairs, paths.state_dir, context.partition_key, review_labels(task_store.database_url), settings
    )
    review = scored_pairs.filter(pl.col("decision") == "review")
    shown = pl.concat([review.get_column("left_id"), review.get_column("right_id")]).unique()
    base_rows = normalized_base.lookup(shown, [c for c in extract_records.columns if c != "source_row"])
    records = pl.concat([base_rows, extract_records], how="diagonal_relaxed")
    clusters = person_clusters.clusters.read(["cluster_id"])
    path = write_match_report(
        paths.reports_dir(context.partition_key),
        MatchReportInput(night=night, pairs=pairs, clusters=clusters, records=records),
    )
    counts = {d: n for d, n in pairs.group_by("decision").len().iter_rows()}
    return dg.MaterializeResult(
        metadata={
            **watch.metadata(),
            "html": dg.MetadataValue.path(str(path)),
            **{f"pairs_{d}": dg.MetadataValue.int(int(counts.get(d, 0))) for d in ("match", "review", "non_match")},
        }
    )
