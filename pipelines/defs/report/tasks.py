"""The correction_tasks asset: tonight's findings and review-band pairs upserted into the task store."""

import datetime as dt
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from checks import rules_table
from checks.context import ROUTING_COLUMNS
from checks.incremental import NightFindings
from corrections.build import build_drafts
from corrections.db import store_engine
from corrections.nightly import NightScope, apply_night, open_task_counts
from corrections.text import DISPLAY_FIELDS, ComparisonInfo
from matchers.engine.nightly import repaired_pairs
from matchers.engine.population import population_settings
from normalize import units
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths, TaskStoreResource
from pipelines.timing import Stopwatch
from state.tables import TableVersion

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


def _night_inputs(
    quality_findings: NightFindings | pl.DataFrame,
    scored_pairs: pl.DataFrame,
    normalized_base: TableVersion | pl.DataFrame,
    normalized_extracts: pl.DataFrame,
    state_dir: Path,
    night: str,
) -> tuple[pl.DataFrame, pl.DataFrame, list[pl.DataFrame], NightScope | None]:
    """Findings, pairs and records the drafts are built from, and the scope they decide (None: the whole night).

    An incremental night drafts only what it checked again: the findings of its scope and the review pairs that were
    scored again; every other task and review item is unchanged in the store."""
    if isinstance(quality_findings, pl.DataFrame) or quality_findings.full:
        findings = quality_findings if isinstance(quality_findings, pl.DataFrame) else quality_findings.all()
        pairs, scope = scored_pairs, None
    else:
        findings = quality_findings.tonight()
        repaired = pl.concat(
            [repaired_pairs(state_dir, night, population_settings()), quality_findings.subjects]
        ).unique()
        wanted = repaired.implode()
        pairs = scored_pairs.filter(pl.col("left_id").is_in(wanted) | pl.col("right_id").is_in(wanted))
        scope = NightScope(subjects=quality_findings.subjects.to_list(), pair_records=repaired.to_list())
    if isinstance(normalized_base, pl.DataFrame):
        return findings, pairs, [normalized_base, normalized_extracts], scope
    referenced = pl.concat(
        [
            findings.get_column("record_id"),
            findings.get_column("related_record_ids").explode().drop_nulls(),
            pairs.filter(pl.col("decision") == "review").get_column("left_id"),
            pairs.filter(pl.col("decision") == "review").get_column("right_id"),
        ]
    ).unique()
    columns = [c for c in (*DISPLAY_FIELDS, *ROUTING_COLUMNS) if c in normalized_extracts.columns or c == "source"]
    return findings, pairs, [normalized_base.lookup(referenced, columns), normalized_extracts], scope


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
    findings, pairs, records, scope = _night_inputs(
        quality_findings, scored_pairs, normalized_base, normalized_extracts, paths.state_dir, context.partition_key
    )
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
