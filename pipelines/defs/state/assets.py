"""The last step of a night: keep the newest nights of outputs and state versions, report the night's disk use."""

import dagster as dg

from matchers.engine.nightly import collect_index_garbage
from matchers.engine.population import population_settings
from pipelines.nightstate import NightlyState
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths
from pipelines.timing import Stopwatch
from state.retention import apply_retention

# Retention runs once everything of the night is written; these are the graph's last assets.
FINAL_ASSETS = ("quality_report", "match_report", "correction_tasks")


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="state",
    kinds={"parquet"},
    deps=list(FINAL_ASSETS),
    description="Lưu giữ: giữ lại kết quả và các phiên bản trạng thái của N đêm gần nhất (mặc định 14) để có thể "
    "quay lại; báo dung lượng đĩa đêm nay dùng.",
)
def state_retention(
    context: dg.AssetExecutionContext, paths: DancuPaths, night_state: NightlyState
) -> dg.MaterializeResult:
    """Delete the outputs and reports of nights older than the newest ``keep_nights``, drop their state versions
    (files a kept version needs stay), and report the bytes this night wrote, per place."""
    watch = Stopwatch()
    report = apply_retention(paths.output_dir_path, context.partition_key, night_state.keep_nights)
    collect_index_garbage(paths.state_dir, population_settings())
    megabytes = {place: round(size / 1e6, 2) for place, size in report.night_bytes.items()}
    context.log.info(
        f"Giữ {night_state.keep_nights} đêm; đã xóa kết quả của {len(report.removed_outputs)} đêm; "
        f"đêm nay ghi {report.night_total_bytes / 1e6:.1f} MB"
    )
    return dg.MaterializeResult(
        metadata={
            **watch.metadata(),
            "keep_nights": dg.MetadataValue.int(night_state.keep_nights),
            "removed_nights": dg.MetadataValue.json(report.removed_outputs),
            "removed_versions": dg.MetadataValue.json(report.removed_versions),
            "night_mb": dg.MetadataValue.float(round(report.night_total_bytes / 1e6, 2)),
            "night_mb_by_place": dg.MetadataValue.json(megabytes),
        }
    )
