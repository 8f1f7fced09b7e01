"""The nightly schedule ticks at 01:00 Vietnam time and processes the day that has just ended."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._utils.schedules import cron_string_iterator

from pipelines.defs.orchestration.schedules import night_for_tick, nightly_schedule

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def next_ticks(start: dt.datetime, count: int) -> list[dt.datetime]:
    # The same iterator the Dagster daemon uses to decide when a schedule fires.
    cron = nightly_schedule.cron_schedule
    assert isinstance(cron, str)  # one cron string, not a list of them
    ticks = cron_string_iterator(start.timestamp(), cron, nightly_schedule.execution_timezone)
    return [next(ticks) for _ in range(count)]


def test_next_ticks_are_0100_in_vietnam() -> None:
    start = dt.datetime(2025, 12, 30, 14, 0, tzinfo=VIETNAM)
    ticks = next_ticks(start, 3)
    assert [t.astimezone(VIETNAM) for t in ticks] == [
        dt.datetime(2025, 12, 31, 1, 0, tzinfo=VIETNAM),
        dt.datetime(2026, 1, 1, 1, 0, tzinfo=VIETNAM),
        dt.datetime(2026, 1, 2, 1, 0, tzinfo=VIETNAM),
    ]
    # 01:00 in Vietnam (UTC+7, no daylight saving) is 18:00 UTC the evening before.
    assert [t.astimezone(dt.UTC).hour for t in ticks] == [18, 18, 18]
    assert ticks[0].astimezone(dt.UTC).date() == dt.date(2025, 12, 30)


def test_tick_just_before_0100_is_the_same_night() -> None:
    start = dt.datetime(2026, 3, 8, 0, 59, 59, tzinfo=VIETNAM)
    assert next_ticks(start, 1)[0].astimezone(VIETNAM) == dt.datetime(2026, 3, 8, 1, 0, tzinfo=VIETNAM)


def test_a_tick_requests_the_previous_vietnam_day(definitions: dg.Definitions) -> None:
    tick = dt.datetime(2026, 1, 1, 1, 0, tzinfo=VIETNAM)
    context = dg.build_schedule_context(scheduled_execution_time=tick, repository_def=definitions.get_repository_def())
    request = nightly_schedule.evaluate_tick(context).run_requests
    assert request is not None and len(request) == 1
    assert request[0].partition_key == "2025-12-31"
    assert request[0].run_key == "schedule:2025-12-31"
    assert request[0].tags["dancu/trigger"] == "schedule"


def test_night_uses_vietnam_calendar_not_utc() -> None:
    # 18:00 UTC on the 14th is 01:00 on the 15th in Vietnam: the night processed is the 14th, not the 13th.
    assert night_for_tick(dt.datetime(2025, 7, 14, 18, 0, tzinfo=dt.UTC)) == "2025-07-14"
    assert night_for_tick(dt.datetime(2025, 7, 15, 1, 0, tzinfo=VIETNAM)) == "2025-07-14"


def test_no_request_before_the_first_partition() -> None:
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2025, 7, 1, 1, 0, tzinfo=VIETNAM))
    result = nightly_schedule.evaluate_tick(context)
    assert not result.run_requests
    assert result.skip_message and "2025-06-30" in result.skip_message
