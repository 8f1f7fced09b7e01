"""The nightly schedule: 01:00 in Vietnam, processing the extract date that has just ended."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.defs.orchestration.jobs import nightly_job
from pipelines.partitions import TIMEZONE, nightly_partitions

NIGHTLY_CRON = "0 1 * * *"


def night_for_tick(scheduled_time: dt.datetime) -> str:
    """The partition a tick processes: the Vietnam calendar day before the tick (01:00 on the 15th → the 14th).

    The extracts of a day are produced during that day and land in the evening; by 01:00 the day is closed.
    """
    local = scheduled_time.astimezone(ZoneInfo(TIMEZONE))
    return (local.date() - dt.timedelta(days=1)).isoformat()


def first_night() -> str:
    """The first partition key (the date the nightly partitions start)."""
    return nightly_partitions.start.astimezone(ZoneInfo(TIMEZONE)).date().isoformat()


@dg.schedule(
    name="nightly_0100",
    job=nightly_job,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Chạy đêm lúc 01:00 giờ Việt Nam cho ngày trích xuất vừa kết thúc. Nightly run at 01:00 Asia/Ho_Chi_Minh."
    ),
)
def nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    if context.scheduled_execution_time is None:
        raise ValueError("nightly_0100: the tick has no scheduled time")
    night = night_for_tick(context.scheduled_execution_time)
    if night < first_night():
        return dg.SkipReason(f"Ngày {night} nằm ngoài phân vùng hợp lệ / outside the nightly partitions")
    return dg.RunRequest(
        run_key=f"schedule:{night}",
        partition_key=night,
        tags={"dancu/trigger": "schedule"},
    )
