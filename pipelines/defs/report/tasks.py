"""The correction_tasks asset: tonight's findings and review-band pairs upserted into the task store."""

import datetime as dt
from typing import Any

import dagster as dg
import polars as pl

from checks import rules_table
from checks.incremental import task_inputs
from corrections.build import build_drafts
from corrections.db import store_engine
from corrections.nightly import NightScope, apply_night, open_task_counts
from corrections.text import ComparisonInfo
from matchers.engine.nightly import repaired_pairs
from matchers.engine.population import population_settings
from normalize import units
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths, TaskStoreResource
from pipelines.timing import Stopwatch

SUMMARY_SCHEMA = pl.Schema(
    {
        "ward_code": pl.String,
        "ward_name": pl.String,
        "quality": pl.String,
        "task_type": pl.String,
        "priority": pl.Int32,
        "tasks": pl.UInt32,
    }
)


def comparison_infos() -> dict[str, ComparisonInfo]:
    """Vietnamese wording of the matching engine's comparisons and levels, for the match explanations."""
    return {
        c.name: ComparisonInfo(
            title=c.description or c.name,
            levels={level.label: level.description for level in c.levels if level.description},
            codes=tuple(c.labels),
        )
        for c in population_settings().comparisons
    }


def queue_summary(counts: pl.DataFrame) -> pl.DataFrame:
    """The open queue after tonight per ward, quality, type and priority (``corrections.nightly.open_task_counts``),
    with the ward's name: the same whether the night was incremental or full."""
    wards = units.current_wards().select("ward_code", "ward_name")
    return (
        counts.join(wards, on="ward_code", how="left")
        .select(SUMMARY_SCHEMA.names())
        .sort("ward_code", "quality", "task_type", "priority", nulls_last=True)
        .match_to_schema(SUMMARY_SCHEMA)
    )


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="report",
    kinds={"polars", "sqlalchemy"},
    description="Việc sửa dữ liệu cho Công an xã/phường và cặp bản ghi cần cán bộ dữ liệu đối chiếu, cập nhật vào "
    "kho việc theo dấu vân tay (chạy lại một đêm không tạo việc trùng).",
)
def correction_tasks(
    context: dg.AssetExecutionContext,
    task_store: TaskStoreResource,
    paths: DancuPaths,
    # NightFindings and TableVersion in the nightly graph; plain frames (a whole night) are accepted as well.
    quality_findings: Any,
    scored_pairs: pl.DataFrame,
    normalized_base: Any,
    normalized_extracts: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Group findings into tasks (rule + records), pairs in the review band into review items, and upsert both.

    Tasks whose defect is gone tonight are closed, resolved tasks whose defect is back are reopened, and "not an
    error" decisions keep suppressing their finding (``corrections.nightly``).
    """
    watch = Stopwatch()
    night = dt.date.fromisoformat(context.partition_key)
    rules = rules_table()
    wards = units.current_wards()
    if isinstance(quality_findings, pl.DataFrame):  # a whole night handed over as frames
        findings, pairs, records, scope = quality_findings, scored_pairs, [normalized_base, normalized_extracts], None
    else:
        repaired = repaired_pairs(paths.state_dir, context.partition_key, population_settings())
        inputs = task_inputs(quality_findings, scored_pairs, normalized_base, normalized_extracts, repaired)
        findings, pairs, records = inputs.findings, inputs.pairs, inputs.records
        scope = None if inputs.full else NightScope(subjects=inputs.subjects, pair_records=inputs.pair_records)
    drafts = build_drafts(
        night,
        findings,
        pairs,
        records,
        rule_titles=dict(zip(rules.get_column("rule").to_list(), rules.get_column("title").to_list(), strict=True)),
        comparisons=comparison_infos(),
        ward_provinces=dict(
            zip(wards.get_column("ward_code").to_list(), wards.get_column("province_code").to_list(), strict=True)
        ),
    )
    engine = store_engine(task_store.database_url)
    summary = apply_night(engine, drafts, scope)
    context.log.info(
        f"{night}: {summary.tasks_seen} việc lập lại trong đêm — mới {summary.created}, mở lại {summary.reopened}, "
        f"tự đóng {summary.auto_closed}; {summary.reviews_seen} cặp cần đối chiếu (mới {summary.reviews_created})"
        f"{'' if scope is None else f' (chỉ phần đêm nay kiểm tra lại: {len(scope.subjects)} bản ghi)'}"
    )
    frame = queue_summary(open_task_counts(engine))
    return dg.Output(
        frame,
        metadata={
            **watch.metadata(),
            "rows": dg.MetadataValue.int(frame.height),
            **{key: dg.MetadataValue.int(value) for key, value in summary.as_dict().items() if key != "night"},
            "unrouted_tasks": dg.MetadataValue.int(sum(1 for t in drafts.tasks if t.ward_code is None)),
        },
    )
