"""The correction_tasks asset: tonight's findings and review-band pairs upserted into the task store."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import polars as pl

from checks import rules_table
from checks.incremental import NightFindings
from corrections.build import plan_drafts
from corrections.db import store_engine
from corrections.nightly import NightScope, apply_night, open_task_counts
from corrections.text import ComparisonInfo
from matchers.engine.nightly import ClusterNight, repaired_pairs
from matchers.engine.population import population_settings
from normalize import units
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths, TaskStoreResource
from pipelines.timing import Stopwatch, collector_paused
from state.register import RegisterChanges, RegisterNight
from state.tables import TableVersion
from state.tasks import commit_outcomes, outcome_totals, person_outcomes, task_inputs

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


def queue_summary(counts: pl.DataFrame) -> pl.DataFrame:
    """The queue after tonight (``corrections.nightly.open_task_counts``: open tasks per ward, quality, type, rule
    and priority) with the ward's name: the same whether the night was incremental or full."""
    wards = units.current_wards().select("ward_code", "ward_name")
    return (
        counts.join(wards, on="ward_code", how="left")
        .select(SUMMARY_SCHEMA.names())
        .sort("ward_code", "quality", "task_type", "rule", "priority", nulls_last=True)
        .match_to_schema(SUMMARY_SCHEMA)
    )


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
    paths: DancuPaths,
    quality_findings: NightFindings,
    scored_pairs: pl.DataFrame,
    normalized_base: TableVersion,
    normalized_extracts: pl.DataFrame,
    person_clusters: ClusterNight,
    register: RegisterNight,
    register_changes: RegisterChanges,
    register_findings: TableVersion,
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
    settings = population_settings()
    inputs = task_inputs(
        quality_findings,
        scored_pairs,
        normalized_base,
        normalized_extracts,
        person_clusters.clusters,
        register,
        register_changes,
        repaired_pairs(paths.state_dir, context.partition_key, settings),
    )
    # Drafting allocates hundreds of thousands of small objects and frees none in cycles (``collector_paused``); the
    # plan is drafted and staged a slice at a time by ``apply_night``.
    with collector_paused():
        drafts = plan_drafts(
            night,
            inputs.findings,
            inputs.pairs,
            inputs.records,
            rule_titles=dict(zip(rules.get_column("rule").to_list(), rules.get_column("title").to_list(), strict=True)),
            comparisons=comparison_infos(),
            ward_provinces=dict(
                zip(wards.get_column("ward_code").to_list(), wards.get_column("province_code").to_list(), strict=True)
            ),
            clusters=inputs.clusters,
            register=inputs.register,
            register_findings=inputs.register_findings,
        )
        scope = None if inputs.full else NightScope(subjects=inputs.subjects, pair_records=inputs.pair_records)
        engine = store_engine(task_store.database_url)
        summary = apply_night(engine, drafts, scope)
        outcomes_version = commit_outcomes(
            paths.state_dir,
            context.partition_key,
            person_outcomes(
                inputs.quality,
                inputs.findings,
                inputs.clusters,
                inputs.register_findings,
                selection=drafts.selection,
            ),
            full=inputs.full,
            persons=inputs.persons,
        )
    context.log.info(
        f"{night}: {summary.tasks_seen} việc lập lại trong đêm — mới {summary.created}, mở lại {summary.reopened}, "
        f"tự đóng {summary.auto_closed}; {summary.reviews_seen} cặp cần đối chiếu (mới {summary.reviews_created})"
        f"{'' if scope is None else f' (chỉ những người đêm nay chạm tới: {inputs.persons.len()} người)'}"
    )
    frame = queue_summary(open_task_counts(engine))
    outcomes = outcome_totals(outcomes_version).match_to_schema(OUTCOME_SCHEMA)
    yield dg.Output(
        frame,
        output_name="correction_tasks",
        metadata={
            **watch.metadata(),
            "rows": dg.MetadataValue.int(frame.height),
            **{key: dg.MetadataValue.int(value) for key, value in summary.as_dict().items() if key != "night"},
            "open_tasks": dg.MetadataValue.int(int(frame.get_column("tasks").sum())),
            "drafted_tonight": dg.MetadataValue.int(drafts.task_count),
            "full": dg.MetadataValue.bool(inputs.full),
            "unrouted_tasks": dg.MetadataValue.int(drafts.unrouted),
        },
    )
    yield dg.Output(
        outcomes,
        output_name="task_outcomes",
        metadata={
            **watch.metadata(),
            "rows": dg.MetadataValue.int(outcomes.height),
            "tasks": dg.MetadataValue.int(int(outcomes.get_column("tasks").sum())),
            "settled_by_register": dg.MetadataValue.int(int(outcomes.get_column("settled").sum())),
        },
    )
