"""A backfill of three nights, launched with ``dagster job backfill`` exactly as an operator would."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from tests.orchestration.nightly_graph import Province

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# The production instance queues runs for the daemon; here each backfill run executes inside the CLI process, so
# the test needs no daemon. Everything else (backfill record, one run per night, run tags) is Dagster's own path.
TEST_INSTANCE = """\
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
run_launcher:
  module: dagster._core.launcher.sync_in_memory_run_launcher
  class: SyncInMemoryRunLauncher
telemetry:
  enabled: false
"""

LOCATION = """\
from pathlib import Path

from tests.orchestration.nightly_graph import nightly_definitions

defs = nightly_definitions(Path({input_dir!r}), Path({output_dir!r}))
"""


def three_nights(province: Province, root: Path) -> tuple[Path, list[str]]:
    """A copy of the province with the same extracts delivered on three consecutive nights."""
    input_dir = root / "in"
    shutil.copytree(province.input_dir, input_dir)
    last = dt.date.fromisoformat(province.night)
    nights = [(last - dt.timedelta(days=offset)).isoformat() for offset in (2, 1, 0)]
    delivered = input_dir / "extracts" / province.night
    if delivered.is_dir():
        for night in nights[:-1]:
            shutil.copytree(delivered, input_dir / "extracts" / night)
    return input_dir, nights


@pytest.mark.slow
def test_a_backfill_of_three_nights_runs_each_night(province: Province, tmp_path: Path) -> None:
    input_dir, nights = three_nights(province, tmp_path)
    output_dir = tmp_path / "out"
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(TEST_INSTANCE)
    location = tmp_path / "location.py"
    location.write_text(LOCATION.format(input_dir=str(input_dir), output_dir=str(output_dir)))
    completed = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            "job",
            "backfill",
            "-f",
            str(location),
            "-d",
            str(PROJECT_ROOT),
            "-j",
            "nightly",
            "--partitions",
            ",".join(nights),
            "--noprompt",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "Launched backfill job" in completed.stdout

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        backfills = instance.get_backfills()
        assert len(backfills) == 1
        assert sorted(backfills[0].partition_names or []) == nights
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfills[0].backfill_id}))
        assert sorted(run.tags["dagster/partition"] for run in runs) == nights
        assert {run.status for run in runs} == {dg.DagsterRunStatus.SUCCESS}
        assert {run.job_name for run in runs} == {"nightly"}
        for key in instance.get_asset_keys():
            assert set(nights) <= instance.get_materialized_partitions(key), key.to_user_string()
    stored = {night: sorted(p.name for p in (output_dir / "nights" / night).glob("*.parquet")) for night in nights}
    assert stored[nights[0]] and stored[nights[0]] == stored[nights[1]] == stored[nights[2]]
