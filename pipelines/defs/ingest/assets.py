"""Ingest assets: read the base snapshot and the night's extracts; quarantine what cannot be accepted."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from pipelines.nightstate import NightlyState
from pipelines.partitions import nightly_partitions
from pipelines.progress import reporter
from pipelines.resources import DancuPaths
from pipelines.timing import Stopwatch
from records.ingest import EXTRACT_SUFFIXES, IngestResult, ingest_night, summarize
from records.schema import validate_canonical
from state.base import base_store, check_base_counts, ingest_base_changes, previous_base


def missing_night_folder(input_dir: Path, night: str) -> str | None:
    """A warning when there is nothing to ingest for ``night``: the input keeps dated extract folders but none for
    that night, or it has no dated folders and no extract file of its own."""
    folder = input_dir / "extracts"
    if (folder / night).is_dir():
        return None
    if folder.is_dir():
        nights = sorted(child.name for child in folder.iterdir() if child.is_dir())
        latest = f"; các đêm có thư mục: {', '.join(nights[-3:])}" if nights else ""
        return (
            f"không có thư mục trích xuất cho đêm {night} ({folder / night}): đêm này không có tệp trích xuất nào, "
            f"chỉ CSDL dân cư được kiểm tra{latest}"
        )
    if input_dir.is_dir() and not any(
        p.is_file() and p.suffix.lower() in EXTRACT_SUFFIXES and not p.name.startswith(".") for p in input_dir.iterdir()
    ):
        return (
            f"không có tệp trích xuất nào cho đêm {night}: {input_dir} không có thư mục extracts/{night}/ và không có "
            "tệp .csv/.xlsx; chỉ CSDL dân cư được kiểm tra"
        )
    return None


def _counts_metadata(result: IngestResult, watch: Stopwatch) -> dict[str, dg.MetadataValue]:
    summary = summarize(result)
    return {
        **watch.metadata(),
        "rows_read": dg.MetadataValue.int(summary["rows_read"]),
        # From the file reports: the base's accepted frame holds only the rows that changed tonight.
        "rows_accepted": dg.MetadataValue.int(int(result.files["rows_accepted"].sum())),
        "rows_quarantined": dg.MetadataValue.int(summary["rows_quarantined"]),
        "files_rejected": dg.MetadataValue.int(summary["files_rejected"]),
        "files": dg.MetadataValue.md(
            result.files.to_pandas().to_markdown(index=False) if result.files.height else "(không có tệp)"
        ),
    }


def _file_warnings(result: IngestResult) -> list[str]:
    return [
        f"{row['source_file']}: {row['error'] or row['warnings']}"
        for row in result.files.iter_rows(named=True)
        if row["error"] or row["warnings"]
    ]


@dg.multi_asset(
    outs={
        "population_base": dg.AssetOut(
            description="Ảnh chụp cơ sở dữ liệu dân cư của đêm so với đêm trước: các bản ghi mới hoặc đã đổi (theo "
            "lược đồ chuẩn, source = base) và các bản ghi đã bị xóa; bản ghi không đổi nằm trong trạng thái.",
            kinds={"polars", "parquet"},
        ),
        "extract_records": dg.AssetOut(
            description="Các bản ghi của ba nguồn trích xuất trong đêm (cư trú, hộ tịch, cấp thẻ) theo lược đồ chuẩn.",
            kinds={"polars", "parquet"},
        ),
        "ingest_quarantine": dg.AssetOut(
            description="Các dòng bị cách ly khi nạp: tệp, dòng, cột và lý do.",
            kinds={"polars", "parquet"},
        ),
        "ingest_files": dg.AssetOut(
            description="Từng tệp đã đọc trong đêm: nguồn, mã hóa, số dòng đọc / nhận / cách ly, lỗi cấp tệp, "
            "cảnh báo (cột vắng, dòng phía trên dòng tiêu đề, ô gộp...).",
            kinds={"polars", "parquet"},
        ),
    },
    partitions_def=nightly_partitions,
    group_name="ingest",
)
def ingest(context: dg.AssetExecutionContext, paths: DancuPaths, night_state: NightlyState) -> Iterator[dg.Output[Any]]:
    """Read the population base snapshot, then every extract file of the night, into the canonical record.

    Record ids are unique within a source; every input row is either accepted or quarantined with its file, row,
    field and reason, read = accepted + quarantined is asserted per file, and a file that cannot be used is
    quarantined whole while the night goes on. Files rejected whole and the files' warnings are in the metadata.
    """
    night = context.partition_key
    watch = Stopwatch()
    extracts_dir = paths.extracts_dir(night)
    warning = missing_night_folder(Path(paths.input_dir), night)
    if warning:
        context.log.warning(warning)
    store = base_store(paths.state_dir)
    previous = None if night_state.rebuild else previous_base(store, night)
    changes = ingest_base_changes(paths.base_file(), previous, night, progress=reporter())
    result = ingest_night(
        paths.base_file(),
        extracts_dir,
        as_of=date.fromisoformat(night),
        warnings=[warning] if warning else [],
        base=changes.ingest,
        base_ids=changes.accepted_ids,
    )
    base, extracts, everything = result.base, result.extracts, result.everything
    check_base_counts(base)
    extracts.check_counts()
    for part in (base, extracts):
        validate_canonical(part.accepted)
    accepted = int(everything.files["rows_accepted"].sum())
    context.log.info(
        f"{night}: đọc {everything.rows_read} dòng, nhận {accepted}, cách ly {everything.quarantine.height} "
        f"(thư mục {extracts_dir}); cơ sở: {changes.changed_count()} bản ghi mới/đã đổi, {changes.removed.len()} "
        f"bị xóa, {changes.kept} không đổi{'' if previous else ' (dựng lại toàn bộ)'}"
    )
    rejected = everything.files.filter(pl.col("error").is_not_null())
    for row in rejected.iter_rows(named=True):
        context.log.warning(f"tệp bị cách ly toàn bộ: {row['error']}")
    yield dg.Output(
        changes,
        output_name="population_base",
        metadata={
            **_counts_metadata(base, watch),
            "changed": dg.MetadataValue.int(changes.changed_count()),
            "removed": dg.MetadataValue.int(changes.removed.len()),
            "unchanged": dg.MetadataValue.int(changes.kept),
            "full": dg.MetadataValue.bool(previous is None),
        },
    )
    yield dg.Output(
        extracts.accepted,
        output_name="extract_records",
        metadata={
            **_counts_metadata(extracts, watch),
            "rows_by_source": dg.MetadataValue.json(
                {s: n for s, n in extracts.accepted.group_by("source").len().iter_rows()}
            ),
            "warnings": dg.MetadataValue.json(list(result.warnings)),
        },
    )
    yield dg.Output(
        everything.quarantine,
        output_name="ingest_quarantine",
        metadata={
            "rows": dg.MetadataValue.int(everything.quarantine.height),
            **watch.metadata(),
            "by_field": dg.MetadataValue.json(
                {str(k): n for k, n in everything.quarantine.group_by("field").len().iter_rows()}
            ),
        },
    )
    yield dg.Output(
        everything.files,
        output_name="ingest_files",
        metadata={
            **_counts_metadata(everything, watch),
            "rejected_files": dg.MetadataValue.json(rejected["error"].to_list()),
            "warnings": dg.MetadataValue.json([*result.warnings, *_file_warnings(everything)]),
        },
    )
