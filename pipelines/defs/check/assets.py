"""Check assets: tonight's findings of the four qualities and the quality scores (with their history)."""

import datetime as dt

import dagster as dg
import polars as pl
from unidecode import unidecode

from checks.incremental import NightFindings, night_findings, score_records
from checks.scores import OVERALL, compute_scores, update_history
from matchers.engine.nightly import ClusterNight
from pipelines.nightstate import NightlyState
from pipelines.partitions import nightly_partitions
from pipelines.progress import reporter
from pipelines.resources import DancuPaths
from pipelines.timing import Stopwatch
from state.tables import TableVersion

HISTORY_FILE = "quality_history.parquet"


def night_of(partition_key: str) -> dt.date:
    return dt.date.fromisoformat(partition_key)


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    return {str(k): int(n) for k, n in frame.group_by(column).len().sort(column).iter_rows()}


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="check",
    kinds={"polars"},
    description="Các phát hiện theo bốn tiêu chí đúng, đủ, sạch, sống: mỗi dòng là một vấn đề của một bản ghi, "
    "kèm xã/phường chịu trách nhiệm sửa.",
)
def quality_findings(
    context: dg.AssetExecutionContext,
    normalized_base: TableVersion,
    normalized_extracts: pl.DataFrame,
    scored_pairs: pl.DataFrame,
    person_clusters: ClusterNight,
    paths: DancuPaths,
    night_state: NightlyState,
) -> dg.Output[NightFindings]:
    """Run every registered rule of ``checks`` on what tonight changed (the base records that changed, their groups,
    the records linked to tonight's extracts, the records a night-dependent rule may flip) and on the extracts; the
    findings of every other base record are kept from last night (``checks.incremental``)."""
    watch = Stopwatch()
    found = night_findings(
        normalized_base,
        normalized_extracts,
        scored_pairs,
        person_clusters.clusters,
        paths.state_dir,
        context.partition_key,
        full=night_state.rebuild,
        progress=reporter(),
    )
    counts = found.version.read(["quality", "severity", "rule"]).vstack(
        found.extracts.select("quality", "severity", "rule")
    )
    timings = found.timings
    context.log.info(
        f"{found.rows} phát hiện; kiểm tra lại {found.scope.len()} bản ghi cơ sở và {normalized_extracts.height} "
        f"bản ghi trích xuất trong {timings['seconds'].sum():.1f} s{' (toàn bộ)' if found.full else ''}"
    )
    return dg.Output(
        found,
        metadata={
            **watch.metadata(),
            "rows": dg.MetadataValue.int(found.rows),
            "checked_base_records": dg.MetadataValue.int(found.scope.len()),
            "full": dg.MetadataValue.bool(found.full),
            "by_quality": dg.MetadataValue.json(_counts(counts, "quality")),
            "by_severity": dg.MetadataValue.json(_counts(counts, "severity")),
            "by_rule": dg.MetadataValue.json(_counts(counts, "rule")),
            "rule_seconds": dg.MetadataValue.json(
                {r: round(s, 3) for r, s in timings.select("rule", "seconds").iter_rows()}
            ),
        },
    )


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="check",
    kinds={"polars", "parquet"},
    description="Điểm chất lượng của đêm theo toàn bộ, tỉnh và xã/phường cho từng tiêu chí (tỷ lệ bản ghi không có "
    "lỗi); đồng thời cập nhật lịch sử điểm qua các đêm.",
)
def quality_scores(
    context: dg.AssetExecutionContext,
    paths: DancuPaths,
    quality_findings: NightFindings,
    normalized_base: TableVersion,
    normalized_extracts: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Score the night per ward, province and overall, and replace this night in the score history."""
    watch = Stopwatch()
    night = night_of(context.partition_key)
    records = score_records(normalized_base, normalized_extracts)
    scores = compute_scores(records, quality_findings.all(["record_id", "source", "quality", "severity"]), night)
    history = update_history(paths.state_dir / HISTORY_FILE, scores)
    overall = {q: s for q, s in scores.filter(pl.col("level") == "all").select("quality", "score").iter_rows()}
    return dg.Output(
        scores,
        metadata={
            **watch.metadata(),
            **{f"score_{unidecode(q)}": dg.MetadataValue.float(round(float(s), 6)) for q, s in overall.items()},
            "records": dg.MetadataValue.int(records.height),
            "wards": dg.MetadataValue.int(
                scores.filter((pl.col("level") == "ward") & (pl.col("quality") == OVERALL)).height
            ),
            "history_nights": dg.MetadataValue.int(history["night"].n_unique()),
            "history_path": dg.MetadataValue.path(str(paths.state_dir / HISTORY_FILE)),
        },
    )
