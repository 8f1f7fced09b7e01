"""The nightly job: every asset of the code location, one run per night (partition)."""

from __future__ import annotations

import dagster as dg

NIGHTLY_JOB_NAME = "nightly"

# Started at 01:00, the night must be done before ward offices open; run monitoring (dagster.yaml) fails a run
# that is still going after five hours so the failure sensor reports it instead of it silently running into the day.
MAX_RUNTIME_SECONDS = 5 * 60 * 60

# Partitioned by night (pipelines.partitions.nightly_partitions): Dagster infers it from the selected assets, all of
# which use it, and asks that it not be repeated here.
nightly_job = dg.define_asset_job(
    NIGHTLY_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description=(
        "Chạy đêm: nhập ba tệp trích xuất, chuẩn hoá, so khớp, kiểm tra đúng-đủ-sạch-sống, xuất báo cáo. "
        "Nightly run: ingest, normalize, match, check, report — one run per extract date."
    ),
    tags={"dagster/max_runtime": str(MAX_RUNTIME_SECONDS), "dancu/pipeline": NIGHTLY_JOB_NAME},
    # One process for the whole night: Polars already spreads each step over every core, so parallel steps would
    # only compete for them, and a process per step would pay Dagster's start-up cost a dozen times a night.
    executor_def=dg.in_process_executor,
)
