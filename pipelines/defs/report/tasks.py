"""The correction_tasks asset: tonight's findings and review-band pairs upserted into the task store."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import polars as pl

from checks import rules_table
from corrections.build import NightDrafts, build_drafts
from corrections.db import store_engine
from corrections.nightly import apply_night
from corrections.text import ComparisonInfo
from matchers.engine.population import population_settings
from normalize import units
from pipelines.partitions import nightly_partitions
from pipelines.resources import TaskStoreResource
from pipelines.timing import Stopwatch
from register.quality import persistent_findings

SUMMARY_SCHEMA = pl.Schema(
    {
        "ward_code": pl.String,
        "ward_name": pl.String,
        "quality": pl.String,
        "task_type": pl.String,
        "rule": pl.String,
        "priority": pl.Int32,
        "tasks": pl.UInt32,
    }
)
OUTCOME_SCHEMA = pl.Schema({"rule": pl.String, "findings": pl.UInt32, "tasks": pl.UInt32, "settled": pl.UInt32,
                            "superseded": pl.UInt32})  # fmt: skip
"""Per rule: tonight's findings, the tasks made of them, and how many findings the register settled or another task
of the same person covers (the quality report shows it)."""


def comparison_infos() -> dict[str, ComparisonInfo]:
    """Vietnamese wording of the matching engine's comparisons and levels (and of its vetoes, a line of every
    explanation), for the match explanations."""
    settings = population_settings()
    infos = {
        c.name: ComparisonInfo(
            title=c.description or c.name,
            levels={level.label: level.description for level in c.levels if level.description},
            codes=tuple(c.labels),
        )
        for c in settings.comparisons
    }
    infos["veto"] = ComparisonInfo(
        title="Phủ quyết",
        levels={"none": "Không", **{veto.name: veto.description for veto in settings.vetoes}},
        codes=settings.veto_labels,
    )
    return infos


def summarize_drafts(drafts: NightDrafts) -> pl.DataFrame:
    """Tonight's tasks per ward, quality, type and priority (what the night found, independent of store state)."""
    wards = units.current_wards().select("ward_code", "ward_name")
    frame = pl.DataFrame(
        {
            "ward_code": [t.ward_code for t in drafts.tasks],
            "quality": [t.quality for t in drafts.tasks],
            "task_type": [t.task_type for t in drafts.tasks],
            "rule": [t.rule for t in drafts.tasks],
            "priority": [t.priority for t in drafts.tasks],
        },
        schema={
            "ward_code": pl.String,
            "quality": pl.String,
            "task_type": pl.String,
            "rule": pl.String,
            "priority": pl.Int32,
        },
    )
    return (
        frame.group_by("ward_code", "quality", "task_type", "rule", "priority")
        .agg(pl.len().cast(pl.UInt32).alias("tasks"))
        .join(wards, on="ward_code", how="left")
        .select(SUMMARY_SCHEMA.names())
        .sort("ward_code", "quality", "task_type", "rule", "priority", nulls_last=True)
        .match_to_schema(SUMMARY_SCHEMA)
    )


def task_outcomes(findings: pl.DataFrame, drafts: NightDrafts) -> pl.DataFrame:
    """Per rule: findings, tasks, settled by the register, covered by another task (``OUTCOME_SCHEMA``)."""
    tasks: dict[str, int] = {}
    for task in drafts.tasks:
        tasks[task.rule] = tasks.get(task.rule, 0) + 1
    found = {str(r): int(n) for r, n in findings.group_by("rule").len().iter_rows()}
    rules = sorted(set(found) | set(tasks))
    return pl.DataFrame(
        {
            "rule": rules,
            "findings": [found.get(r, 0) for r in rules],
            "tasks": [tasks.get(r, 0) for r in rules],
            "settled": [drafts.settled.get(r, 0) for r in rules],
            "superseded": [drafts.superseded.get(r, 0) for r in rules],
        },
        schema=OUTCOME_SCHEMA,
    ).sort("findings", "rule", descending=[True, False])


@dg.multi_asset(
    partitions_def=nightly_partitions,
    group_name="report",
    outs={
        "correction_tasks": dg.AssetOut(
            kinds={"polars", "sqlalchemy"},
            description="Việc sửa dữ liệu cho Công an xã/phường (chỉ những gì cần con người: xác nhận, xác minh, sửa "
            "tại nguồn) và cặp bản ghi cần cán bộ dữ liệu đối chiếu, cập nhật vào kho việc theo dấu vân tay (chạy "
            "lại một đêm không tạo việc trùng).",
        ),
        "task_outcomes": dg.AssetOut(
            kinds={"polars"},
            description="Theo từng quy tắc: số phát hiện của đêm, số việc giao, số phát hiện sổ dân cư sạch đã tự "
            "sửa an toàn (không thành việc) và số đã có việc khác của cùng người bao hàm.",
        ),
    },
)
def correction_tasks(
    context: dg.AssetExecutionContext,
    task_store: TaskStoreResource,
    quality_findings: pl.DataFrame,
    scored_pairs: pl.DataFrame,
    normalized_base: pl.DataFrame,
    normalized_extracts: pl.DataFrame,
    person_clusters: pl.DataFrame,
    register: pl.DataFrame,
    register_changes: pl.DataFrame,
    register_findings: pl.DataFrame,
) -> Iterator[dg.Output[pl.DataFrame]]:
    """Turn the findings that need a person into tasks (one per rule and person; what the clean register settled is
    counted, not tasked: ``corrections/task_rules.toml``), pairs in the review band into review items, and upsert
    both.

    Tasks whose defect is gone tonight are closed, resolved tasks whose defect is back are reopened, and "not an
    error" decisions keep suppressing their finding (``corrections.nightly``).
    """
    watch = Stopwatch()
    night = dt.date.fromisoformat(context.partition_key)
    rules = rules_table()
    wards = units.current_wards()
    # Events of earlier nights the base still does not reflect come from the register (tonight's extracts only hold
    # tonight's events).
    findings = pl.concat(
        [quality_findings, persistent_findings(register, register_changes, person_clusters, night)], how="vertical"
    )
    drafts = build_drafts(
        night,
        findings,
        scored_pairs,
        [normalized_base, normalized_extracts],
        rule_titles=dict(zip(rules.get_column("rule").to_list(), rules.get_column("title").to_list(), strict=True)),
        comparisons=comparison_infos(),
        ward_provinces=dict(
            zip(wards.get_column("ward_code").to_list(), wards.get_column("province_code").to_list(), strict=True)
        ),
        clusters=person_clusters,
        register=register,
        register_findings=register_findings,
    )
    summary = apply_night(store_engine(task_store.database_url), drafts)
    context.log.info(
        f"{night}: {summary.tasks_seen} việc trong đêm — mới {summary.created}, mở lại {summary.reopened}, "
        f"tự đóng {summary.auto_closed}; {summary.reviews_seen} cặp cần đối chiếu (mới {summary.reviews_created})"
    )
    frame = summarize_drafts(drafts)
    outcomes = task_outcomes(quality_findings, drafts)
    yield dg.Output(
        frame,
        output_name="correction_tasks",
        metadata={
            **watch.metadata(),
            "rows": dg.MetadataValue.int(frame.height),
            **{key: dg.MetadataValue.int(value) for key, value in summary.as_dict().items() if key != "night"},
            "unrouted_tasks": dg.MetadataValue.int(sum(1 for t in drafts.tasks if t.ward_code is None)),
            "settled_by_register": dg.MetadataValue.int(sum(drafts.settled.values())),
        },
    )
    yield dg.Output(
        outcomes,
        output_name="task_outcomes",
        metadata={
            **watch.metadata(),
            "rows": dg.MetadataValue.int(outcomes.height),
            "tasks": dg.MetadataValue.int(len(drafts.tasks)),
            "settled_by_register": dg.MetadataValue.int(sum(drafts.settled.values())),
        },
    )
