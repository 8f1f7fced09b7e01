"""Check assets: tonight's findings of the four qualities and the quality scores (with their history)."""

import datetime as dt

import dagster as dg
import polars as pl
from unidecode import unidecode

from checks import CheckContext, run_rules
from checks.scores import OVERALL, compute_scores, update_history
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths
from pipelines.timing import Stopwatch

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
    normalized_base: pl.DataFrame,
    normalized_extracts: pl.DataFrame,
    scored_pairs: pl.DataFrame,
    person_clusters: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Run every registered rule of ``checks`` on the night's normalized records and match results."""
    watch = Stopwatch()
    check_context = CheckContext(
        base=normalized_base,
        extracts=normalized_extracts,
        night=night_of(context.partition_key),
        pairs=scored_pairs,
        clusters=person_clusters,
    )
    findings, timings = run_rules(check_context)
    context.log.info(f"{findings.height} phát hiện từ {timings.height} quy tắc trong {timings['seconds'].sum():.1f} s")
    return dg.Output(
        findings,
        metadata={
            **watch.metadata(),
            "rows": dg.MetadataValue.int(findings.height),
            "by_quality": dg.MetadataValue.json(_counts(findings, "quality")),
            "by_severity": dg.MetadataValue.json(_counts(findings, "severity")),
            "by_rule": dg.MetadataValue.json(_counts(findings, "rule")),
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
    quality_findings: pl.DataFrame,
    normalized_base: pl.DataFrame,
    normalized_extracts: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Score the night per ward, province and overall, and replace this night in the score history."""
    watch = Stopwatch()
    night = night_of(context.partition_key)
    records = CheckContext(base=normalized_base, extracts=normalized_extracts, night=night).records
    scores = compute_scores(records, quality_findings, night)
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
