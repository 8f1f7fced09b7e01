"""The nightly quality report (HTML + Excel) in the night's reports folder, with the Data Docs index beside it."""

import datetime as dt
from typing import Any

import dagster as dg
import polars as pl

from checks.datadocs import rebuild_index
from checks.incremental import NightFindings
from checks.report import DATA_DOCS_DIR, MATCH_REPORT_HTML, QualityReportInput, RegisterSummary, write_quality_report
from checks.scores import read_history
from corrections.selection import policy_table
from pipelines.defs.check.assets import HISTORY_FILE
from pipelines.defs.register.assets import CHANGES_XLSX
from pipelines.io import as_frame
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths
from pipelines.timing import Stopwatch
from register.changes import changes_by_rule, changes_by_ward, changes_totals
from register.rules import survivorship_rules
from state.register import RegisterChanges
from state.tables import TableVersion


def _changes(register_changes: Any) -> pl.DataFrame | pl.LazyFrame:
    """The night's change set: the store's scan for a state output (never read whole), a frame as it is."""
    return register_changes.scan() if isinstance(register_changes, RegisterChanges) else as_frame(register_changes)


def register_summary(
    night: dt.date,
    register_scores: pl.DataFrame,
    register_changes: pl.DataFrame | pl.LazyFrame,
    task_outcomes: pl.DataFrame,
) -> RegisterSummary:
    """The register's before → after scores, change set and findings → tasks, as the report shows them."""
    policy = policy_table().select("rule", "action", "why")
    outcomes = task_outcomes.join(policy, on="rule", how="left").with_columns(
        pl.col("action").fill_null("task"), pl.col("why").fill_null("")
    )
    changes, tonight, records = changes_totals(register_changes, night)
    return RegisterSummary(
        scores=register_scores,
        changes_by_rule=changes_by_rule(register_changes, night, survivorship_rules().change_rules),
        changes_by_ward=changes_by_ward(register_changes, night),
        changes=changes,
        changes_tonight=tonight,
        changed_records=records,
        excel=CHANGES_XLSX,
        outcomes=outcomes,
    )


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="report",
    kinds={"html", "excel"},
    description="Báo cáo chất lượng dữ liệu của đêm cho cán bộ quản lý dữ liệu: bao-cao-chat-luong.html (mở được "
    "khi không có mạng) và bao-cao-chat-luong.xlsx, với điểm trước → sau làm sạch và bộ thay đổi của sổ dân cư sạch.",
)
def quality_report(
    context: dg.AssetExecutionContext,
    paths: DancuPaths,
    quality_findings: NightFindings,
    quality_scores: pl.DataFrame,
    normalized_base: TableVersion,
    extract_records: pl.DataFrame,
    ingest_files: pl.DataFrame,
    register_scores: pl.DataFrame,
    register_changes: Any,
    task_outcomes: pl.DataFrame,
) -> dg.MaterializeResult:
    """Render the night's findings, scores and score history into the HTML report and the Excel workbook, with the
    clean register beside them: scores before → after, the change set (link to its Excel file), findings → tasks."""
    watch = Stopwatch()
    night = dt.date.fromisoformat(context.partition_key)
    folder = paths.reports_dir(context.partition_key)
    history = read_history(paths.state_dir / HISTORY_FILE).filter(pl.col("night") <= night)
    by_source = {"base": normalized_base.rows}
    findings = quality_findings.all()
    by_source.update({s: n for s, n in extract_records.group_by("source").len().sort("source").iter_rows()})
    # The GX checks of this night may finish in any order; the index lists whatever suites have run so far.
    docs = folder / DATA_DOCS_DIR
    docs.mkdir(parents=True, exist_ok=True)
    rebuild_index(docs, night)
    html, xlsx = write_quality_report(
        folder,
        QualityReportInput(
            night=night,
            findings=findings,
            scores=quality_scores,
            history=history,
            records_by_source=by_source,
            match_report=MATCH_REPORT_HTML,
            data_docs=f"{DATA_DOCS_DIR}/index.html",
            input_files=ingest_files,
            register=register_summary(night, register_scores, _changes(register_changes), task_outcomes),
        ),
    )
    return dg.MaterializeResult(
        metadata={
            **watch.metadata(),
            "html": dg.MetadataValue.path(str(html)),
            "excel": dg.MetadataValue.path(str(xlsx)),
            "data_docs": dg.MetadataValue.path(str(docs / "index.html")),
            "findings": dg.MetadataValue.int(findings.height),
            "nights_in_trend": dg.MetadataValue.int(history["night"].n_unique()),
            "files_quarantined_whole": dg.MetadataValue.json(
                ingest_files.filter(pl.col("error").is_not_null())["source_file"].to_list()
            ),
        }
    )
