"""Sensors: new extract files in the landing folder start a night; a failed run leaves a clear failure record."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import dagster as dg
from dagster._utils.error import SerializableErrorInfo

from pipelines.defs.orchestration.failures import FailedStep, FailureRecord, write_failure_record
from pipelines.defs.orchestration.jobs import nightly_job
from pipelines.defs.orchestration.landing import LandingCursor, LandingTick, landing_dir_for, scan_landing
from pipelines.defs.orchestration.schedules import first_night
from pipelines.resources import DancuPaths

LANDING_INTERVAL_SECONDS = 30
_TAG_VALUE_LIMIT = 200


def landing_run_requests(tick: LandingTick) -> list[dg.RunRequest]:
    """One run per night that received files this tick; the run key names the files, so a replay is a no-op."""
    requests = []
    for night, files in sorted(tick.nights().items()):
        keys = "|".join(sorted(accepted.key for accepted in files))
        names = ", ".join(sorted(accepted.name for accepted in files))
        requests.append(
            dg.RunRequest(
                run_key=f"landing:{night}:{hashlib.sha256(keys.encode('utf-8')).hexdigest()[:24]}",
                partition_key=night,
                tags={"dancu/trigger": "landing", "dancu/files": names[:_TAG_VALUE_LIMIT]},
            )
        )
    return requests


@dg.sensor(
    name="landing_folder",
    job=nightly_job,
    minimum_interval_seconds=LANDING_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Theo dõi thư mục landing ($DANCU_LANDING_DIR, mặc định {input_dir}/landing): tệp trích xuất mới, đã ghi "
        "xong, được chuyển vào extracts/<ngày>/ và khởi chạy đêm đó. Watches the landing folder for extract files."
    ),
)
def landing_sensor(context: dg.SensorEvaluationContext, paths: DancuPaths) -> dg.SensorResult:
    landing = landing_dir_for(paths.input_dir)
    tick = scan_landing(
        landing,
        Path(paths.input_dir),
        LandingCursor.from_json(context.cursor),
        first_night=first_night(),
        now=dt.datetime.now(dt.UTC),
        journal=paths.state_dir / "landing" / "journal.jsonl",
    )
    for rejected in tick.rejected:
        context.log.warning(f"Từ chối tệp {rejected.name}: {rejected.reason} → {rejected.moved_to}")
    for duplicate in tick.duplicates:
        context.log.info(f"Tệp {duplicate} trùng với tệp đã có cho cùng đêm: bỏ qua, không chạy lại")
    for accepted in tick.accepted:
        replaced = f" (tệp cũ chuyển sang {accepted.superseded})" if accepted.superseded else ""
        context.log.info(f"Nhận tệp {accepted.name} cho đêm {accepted.night} → {accepted.destination}{replaced}")
    if tick.waiting:
        context.log.info("Đang chờ tệp ghi xong: " + ", ".join(tick.waiting))
    requests = landing_run_requests(tick)
    skip = None
    if not requests:
        skip = dg.SkipReason(
            f"Không có tệp mới hoàn chỉnh trong {landing}"
            + (f"; đang chờ {len(tick.waiting)} tệp ghi xong" if tick.waiting else "")
        )
    return dg.SensorResult(run_requests=requests, skip_reason=skip, cursor=tick.cursor.to_json())


def root_cause(error: SerializableErrorInfo | None) -> str:
    """The innermost error of a chain: Dagster wraps the asset's own exception in a step-execution error."""
    if error is None:
        return ""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def failure_record_for(context: dg.RunFailureSensorContext, paths: DancuPaths) -> FailureRecord:
    run = context.dagster_run
    night = run.tags.get("dagster/partition")
    steps = tuple(
        FailedStep(step=event.step_key or "?", error=root_cause(event.step_failure_data.error) or event.message or "")
        for event in context.get_step_failure_events()
    )
    files: tuple[str, ...] = ()
    if night:
        folder = Path(paths.input_dir) / "extracts" / night
        if folder.is_dir():
            files = tuple(sorted(entry.name for entry in folder.iterdir() if entry.is_file()))
    return FailureRecord(
        run_id=run.run_id,
        job=run.job_name,
        night=night,
        failed_at=dt.datetime.now(dt.UTC),
        message=(context.failure_event.message or "").strip(),
        trigger=run.tags.get("dancu/trigger"),
        failed_steps=steps,
        extract_files=files,
        retry_of=run.tags.get("dagster/parent_run_id"),
    )


@dg.run_failure_sensor(
    name="run_failure_record",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Ghi một bản ghi lỗi (JSON, có tóm tắt tiếng Việt) vào {output_dir}/state/failures/ "
        "cho mỗi lượt chạy thất bại. "
        "Writes a failure record for every failed run of this code location."
    ),
)
def run_failure_record(context: dg.RunFailureSensorContext, paths: DancuPaths) -> None:
    record = failure_record_for(context, paths)
    path = write_failure_record(record, paths.state_dir)
    context.log.error(f"{record.summary()} Bản ghi lỗi: {path}")
