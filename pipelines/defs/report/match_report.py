"""The nightly match report for data officers (bao-cao-ghep-noi.html), linked from the quality report."""

import datetime as dt

import dagster as dg
import polars as pl

from checks.match_report import MatchReportInput, write_match_report
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths
from pipelines.timing import Stopwatch


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
    scored_pairs: pl.DataFrame,
    person_clusters: pl.DataFrame,
    population_base: pl.DataFrame,
    extract_records: pl.DataFrame,
) -> dg.MaterializeResult:
    """Render the night's scored pairs and clusters into the match report."""
    watch = Stopwatch()
    night = dt.date.fromisoformat(context.partition_key)
    records = pl.concat([population_base, extract_records], how="diagonal_relaxed")
    path = write_match_report(
        paths.reports_dir(context.partition_key),
        MatchReportInput(night=night, pairs=scored_pairs, clusters=person_clusters, records=records),
    )
    counts = {d: n for d, n in scored_pairs.group_by("decision").len().iter_rows()}
    return dg.MaterializeResult(
        metadata={
            **watch.metadata(),
            "html": dg.MetadataValue.path(str(path)),
            **{f"pairs_{d}": dg.MetadataValue.int(int(counts.get(d, 0))) for d in ("match", "review", "non_match")},
        }
    )
