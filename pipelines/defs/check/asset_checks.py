"""Asset checks over every stage: GX suites from ``checks.expectations`` and the ingest row accounting.

Blocking checks guard data that must not flow on (missing mandatory columns, duplicate record ids, rows lost at
ingest); a failed expectation that is not blocking is reported with WARN severity and the night continues. The GX
results are summarized in the check metadata and written as offline Data Docs next to the night's reports.
"""

import datetime as dt
import inspect
from typing import Any

import dagster as dg
import polars as pl

from checks.datadocs import write_data_docs
from checks.expectations import SUITES, validate_suite
from checks.report import DATA_DOCS_DIR
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths

# asset → blocking: whether a failed blocking expectation stops the downstream stages.
GX_CHECKED_ASSETS: dict[str, bool] = {
    "population_base": True,
    "extract_records": True,
    "normalized_base": True,
    "normalized_extracts": True,
    "scored_pairs": True,
    "person_clusters": True,
    "quality_findings": False,
}


def _gx_result(
    context: dg.AssetCheckExecutionContext, paths: DancuPaths, asset: str, frame: pl.DataFrame
) -> dg.AssetCheckResult:
    night = dt.date.fromisoformat(context.partition_key)
    summary = validate_suite(frame, asset)
    page = write_data_docs(paths.reports_dir(context.partition_key) / DATA_DOCS_DIR, summary, night)
    blocking = summary.blocking_failures
    metadata: dict[str, Any] = {
        **{k: v for k, v in summary.metadata().items() if k != "failed_expectations"},
        "failed_expectations": dg.MetadataValue.json(summary.metadata()["failed_expectations"]),
        "blocking_failures": dg.MetadataValue.int(len(blocking)),
        "data_docs": dg.MetadataValue.path(str(page)),
    }
    return dg.AssetCheckResult(
        passed=summary.success,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=(
            "Đạt mọi kỳ vọng."
            if summary.success
            else f"{len(summary.failures)} kỳ vọng không đạt, {len(blocking)} trong đó chặn luồng xử lý."
        ),
    )


def rows_to_validate(output: object, columns: list[str] | None = None) -> pl.DataFrame:
    """The rows a suite validates: a frame itself, or what a state output changed tonight (the unchanged rows were
    validated on the night they changed), only the ``columns`` the suite reads."""
    if isinstance(output, pl.DataFrame):
        return output
    changed = getattr(output, "changed_rows", None)
    if changed is None:
        raise TypeError(f"no rows to validate in {type(output)!r}")
    rows = changed(columns)
    assert isinstance(rows, pl.DataFrame)
    return rows


def _build_gx_checks() -> list[dg.AssetChecksDefinition]:
    checks = []
    for asset, blocking in GX_CHECKED_ASSETS.items():
        checks.append(
            dg.asset_check(
                asset=asset,
                name=f"gx_{asset}",
                description=f'Bộ kỳ vọng Great Expectations của "{asset}" '
                "(cột bắt buộc, khóa không trùng, miền giá trị).",
                blocking=blocking,
                partitions_def=nightly_partitions,
            )(_make_body(asset))
        )
    return checks


def _make_body(asset: str) -> Any:
    """A check body whose third parameter is named after the asset, which is how Dagster loads the checked asset."""

    def body(context: dg.AssetCheckExecutionContext, paths: DancuPaths, **inputs: Any) -> dg.AssetCheckResult:
        columns = sorted({e.column for e in SUITES[asset]})
        return _gx_result(context, paths, asset, rows_to_validate(inputs[asset], columns))

    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
    body.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("context", keyword, annotation=dg.AssetCheckExecutionContext),
            inspect.Parameter("paths", keyword, annotation=DancuPaths),
            inspect.Parameter(asset, keyword, annotation=Any),
        ],
        return_annotation=dg.AssetCheckResult,
    )
    body.__annotations__ = {
        "context": dg.AssetCheckExecutionContext,
        "paths": DancuPaths,
        asset: Any,
        "return": dg.AssetCheckResult,
    }
    body.__name__ = f"gx_{asset}"
    return body


gx_checks = _build_gx_checks()


@dg.asset_check(
    asset="ingest_files",
    description="Kế toán dòng khi nạp: với mọi tệp, số dòng đọc = số dòng nhận + số dòng cách ly; tổng số dòng nhận "
    "bằng số bản ghi của CSDL và trích xuất, tổng số dòng cách ly bằng số dòng trong bảng cách ly.",
    blocking=True,
    partitions_def=nightly_partitions,
    additional_ins={
        "population_base": dg.AssetIn(),
        "extract_records": dg.AssetIn(),
        "ingest_quarantine": dg.AssetIn(),
    },
)
def ingest_rows_accounted(
    ingest_files: pl.DataFrame,
    population_base: Any,
    extract_records: pl.DataFrame,
    ingest_quarantine: pl.DataFrame,
) -> dg.AssetCheckResult:
    unbalanced = ingest_files.filter(pl.col("rows_read") != pl.col("rows_accepted") + pl.col("rows_quarantined"))
    accepted, quarantined = int(ingest_files["rows_accepted"].sum()), int(ingest_files["rows_quarantined"].sum())
    # The base output is tonight's change to the state: its accepted rows are the unchanged ones plus the new.
    base_rows = population_base.height if isinstance(population_base, pl.DataFrame) else population_base.accepted
    stored = base_rows + extract_records.height
    problems = [
        f"{r['source_file']}: đọc {r['rows_read']} ≠ nhận {r['rows_accepted']} + cách ly {r['rows_quarantined']}"
        for r in unbalanced.iter_rows(named=True)
    ]
    if accepted != stored:
        problems.append(f"tổng nhận {accepted} ≠ số bản ghi đã lưu {stored}")
    if quarantined != ingest_quarantine.height:
        problems.append(f"tổng cách ly {quarantined} ≠ số dòng bảng cách ly {ingest_quarantine.height}")
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows_read": int(ingest_files["rows_read"].sum()),
            "rows_accepted": accepted,
            "rows_quarantined": quarantined,
            "problems": dg.MetadataValue.json(problems),
        },
        description="Không mất dòng nào khi nạp." if not problems else "; ".join(problems[:5]),
    )


@dg.asset_check(
    asset="ingest_files",
    description="Cảnh báo khi có tệp trích xuất bị từ chối toàn bộ (không đọc được, thiếu cột bắt buộc, tên tệp lạ).",
    partitions_def=nightly_partitions,
)
def no_file_rejected(ingest_files: pl.DataFrame) -> dg.AssetCheckResult:
    rejected = ingest_files.filter(pl.col("error").is_not_null())
    return dg.AssetCheckResult(
        passed=rejected.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "files": ingest_files.height,
            "rejected": dg.MetadataValue.json(
                [f"{r['source_file']}: {r['error']}" for r in rejected.iter_rows(named=True)]
            ),
        },
    )


@dg.asset_check(
    asset="quality_scores",
    description="Cảnh báo khi điểm tổng của đêm giảm quá 5 điểm phần trăm so với đêm trước trong lịch sử.",
    partitions_def=nightly_partitions,
)
def score_did_not_drop(paths: DancuPaths, quality_scores: pl.DataFrame) -> dg.AssetCheckResult:
    from checks.scores import OVERALL, read_history
    from pipelines.defs.check.assets import HISTORY_FILE

    tonight = quality_scores.filter((pl.col("level") == "all") & (pl.col("quality") == OVERALL))
    night, score = tonight["night"][0], float(tonight["score"][0])
    history = read_history(paths.state_dir / HISTORY_FILE).filter(
        (pl.col("level") == "all") & (pl.col("quality") == OVERALL) & (pl.col("night") < night)
    )
    if history.height == 0:
        return dg.AssetCheckResult(passed=True, metadata={"score": score, "previous": None})
    previous = history.sort("night")[-1]
    before = float(previous["score"][0])
    return dg.AssetCheckResult(
        passed=score >= before - 0.05,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"score": score, "previous": before, "previous_night": str(previous["night"][0])},
    )
