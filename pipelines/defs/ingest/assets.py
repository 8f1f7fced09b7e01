"""Ingest assets: read the base snapshot and the night's extracts; quarantine what cannot be accepted."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths
from pipelines.timing import Stopwatch
from records.ingest import IngestResult, ingest_base, ingest_extracts, summarize
from records.schema import validate_canonical


def _counts_metadata(result: IngestResult, watch: Stopwatch) -> dict[str, dg.MetadataValue]:
    summary = summarize(result)
    return {
        **watch.metadata(),
        "rows_read": dg.MetadataValue.int(summary["rows_read"]),
        "rows_accepted": dg.MetadataValue.int(summary["rows_accepted"]),
        "rows_quarantined": dg.MetadataValue.int(summary["rows_quarantined"]),
        "files": dg.MetadataValue.md(
            result.files.to_pandas().to_markdown(index=False) if result.files.height else "(không có tệp)"
        ),
    }


@dg.multi_asset(
    outs={
        "population_base": dg.AssetOut(
            description="Ảnh chụp cơ sở dữ liệu dân cư của đêm, theo lược đồ chuẩn (source = base).",
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
            description="Từng tệp đã đọc trong đêm: nguồn, mã hóa, số dòng đọc / nhận / cách ly, lỗi cấp tệp.",
            kinds={"polars", "parquet"},
        ),
    },
    partitions_def=nightly_partitions,
    group_name="ingest",
)
def ingest(context: dg.AssetExecutionContext, paths: DancuPaths) -> Iterator[dg.Output[pl.DataFrame]]:
    """Read the population base snapshot, then every extract file of the night, into the canonical record.

    Record ids must be unique across the base and all extracts; every input row is either accepted or quarantined
    with its file, row, field and reason, and read = accepted + quarantined is asserted per file.
    """
    night = context.partition_key
    watch = Stopwatch()
    taken: set[str] = set()
    base = ingest_base(paths.base_file(), taken_ids=taken)
    extracts_dir = paths.extracts_dir(night)
    extracts = ingest_extracts(extracts_dir, taken_ids=taken)
    for result in (base, extracts):
        result.check_counts()
        validate_canonical(result.accepted)
    everything = IngestResult.combine([base, extracts])
    context.log.info(
        f"{night}: đọc {everything.rows_read} dòng, nhận {everything.accepted.height}, "
        f"cách ly {everything.quarantine.height} (thư mục {extracts_dir})"
    )
    yield dg.Output(base.accepted, output_name="population_base", metadata=_counts_metadata(base, watch))
    yield dg.Output(
        extracts.accepted,
        output_name="extract_records",
        metadata={
            **_counts_metadata(extracts, watch),
            "rows_by_source": dg.MetadataValue.json(
                {s: n for s, n in extracts.accepted.group_by("source").len().iter_rows()}
            ),
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
    yield dg.Output(everything.files, output_name="ingest_files", metadata=_counts_metadata(everything, watch))
