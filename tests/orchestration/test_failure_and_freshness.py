"""The run-failure sensor writes a clear failure record; the freshness check flags a stale population base."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import dagster as dg
import pytest

from pipelines.defs.orchestration.checks import base_age_nights
from pipelines.defs.orchestration.sensors import run_failure_record
from pipelines.resources import DancuPaths


def run_night(definitions: dg.Definitions, instance: dg.DagsterInstance, night: str) -> dg.ExecuteInProcessResult:
    return definitions.resolve_job_def("nightly").execute_in_process(
        partition_key=night, instance=instance, raise_on_error=False
    )


def test_a_failed_run_leaves_a_failure_record(definitions: dg.Definitions, paths: DancuPaths) -> None:
    night_dir = Path(paths.input_dir) / "extracts" / "2025-07-14"
    night_dir.mkdir(parents=True)
    (night_dir / "broken.csv").write_text("x\n")
    (night_dir / "cu_tru.csv").write_text("x\n")
    with dg.instance_for_test() as instance:
        result = run_night(definitions, instance, "2025-07-14")
        assert not result.success
        with dg.build_run_status_sensor_context(
            sensor_name="run_failure_record",
            dagster_event=result.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            resources={"paths": paths},
        ).for_run_failure() as context:
            run_failure_record(context)
    records = list((paths.state_dir / "failures").glob("*.json"))
    assert [p.name for p in records] == [f"2025-07-14__{result.run_id}.json"]
    record = json.loads(records[0].read_text(encoding="utf-8"))
    assert record["night"] == "2025-07-14"
    assert record["job"] == "nightly"
    assert [step["step"] for step in record["failed_steps"]] == ["population_base"]
    assert record["failed_steps"][0]["error"] == "ValueError: tệp hỏng trong đêm 2025-07-14"
    assert record["extract_files"] == ["broken.csv", "cu_tru.csv"]
    assert record["summary_vi"].startswith("Lượt chạy nightly cho đêm 2025-07-14 thất bại lúc ")
    assert "population_base" in record["summary_vi"]
    assert not list((paths.state_dir / "failures").glob(".*"))  # no temporary file left behind


def set_base_date(paths: DancuPaths, day: dt.date) -> None:
    stamp = dt.datetime(day.year, day.month, day.day, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=7))).timestamp()
    os.utime(paths.base_file(), (stamp, stamp))


def check_result(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 1
    return evaluations[0]


@pytest.mark.parametrize(
    ("snapshot", "night", "passed", "age"),
    [
        (dt.date(2025, 7, 10), "2025-07-14", True, 4),
        (dt.date(2025, 7, 7), "2025-07-14", True, 7),
        (dt.date(2025, 7, 6), "2025-07-14", False, 8),
        (dt.date(2025, 8, 1), "2025-07-14", True, 0),  # re-running an old night with a newer snapshot
    ],
)
def test_freshness_check_of_the_base(
    definitions: dg.Definitions, paths: DancuPaths, snapshot: dt.date, night: str, passed: bool, age: int
) -> None:
    set_base_date(paths, snapshot)
    with dg.instance_for_test() as instance:
        result = run_night(definitions, instance, night)
    assert result.success  # a stale base warns; it does not stop the night
    evaluation = check_result(result)
    assert evaluation.passed is passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["age_nights"].value == age
    assert evaluation.metadata["snapshot_date"].value == snapshot.isoformat()


def test_freshness_limit_comes_from_the_environment(
    definitions: dg.Definitions, paths: DancuPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_base_date(paths, dt.date(2025, 7, 12))
    monkeypatch.setenv("DANCU_BASE_MAX_AGE_NIGHTS", "1")
    with dg.instance_for_test() as instance:
        evaluation = check_result(run_night(definitions, instance, "2025-07-14"))
    assert not evaluation.passed
    assert evaluation.metadata["max_age_nights"].value == 1
    assert "cần xuất snapshot mới" in (evaluation.description or "")


def test_age_is_counted_in_vietnam_days(paths: DancuPaths) -> None:
    # 23:30 on the 13th in Vietnam is 16:30 UTC: the snapshot is from the 13th, one night before the 14th.
    stamp = dt.datetime(2025, 7, 13, 16, 30, tzinfo=dt.UTC).timestamp()
    os.utime(paths.base_file(), (stamp, stamp))
    assert base_age_nights(paths.base_file(), "2025-07-14") == 1
