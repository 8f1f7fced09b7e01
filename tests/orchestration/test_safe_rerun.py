"""A night killed in the middle of a stage leaves intact outputs, and its rerun equals an uninterrupted run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.orchestration.nightly_graph import NightRun, assert_same_outputs, parquet_outputs

POLL_SECONDS = 0.02


def start_night(run: NightRun, output_dir: Path, dagster_home: Path) -> subprocess.Popen[bytes]:
    """The nightly job in a process of its own (as a run worker is), on a persistent SQLite instance."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(__file__).resolve().parents[2] / "dagster.yaml", dagster_home / "dagster.yaml")
    code = (
        "import dagster as dg, sys\n"
        "from pathlib import Path\n"
        "from tests.orchestration.nightly_graph import nightly_definitions\n"
        "definitions = nightly_definitions(Path(sys.argv[1]), Path(sys.argv[2]))\n"
        "with dg.DagsterInstance.get() as instance:\n"
        "    result = definitions.resolve_job_def('nightly').execute_in_process(\n"
        "        partition_key=sys.argv[3], instance=instance, raise_on_error=False)\n"
        "sys.exit(0 if result.success else 1)\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, str(run.province.input_dir), str(output_dir), run.province.night],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DAGSTER_HOME": str(dagster_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


@pytest.mark.slow
def test_a_night_killed_mid_stage_reruns_to_identical_outputs(uninterrupted_night: NightRun, tmp_path: Path) -> None:
    reference = parquet_outputs(uninterrupted_night.output_dir)
    night_files = [name for name in reference if name.startswith(f"nights/{uninterrupted_night.province.night}/")]
    assert len(night_files) >= 2, "the graph needs at least two stored assets for a run to be killed mid-way"
    # Kill once about half of the night's assets are stored: the run is then inside a later stage.
    kill_after = max(1, len(night_files) // 2)
    output_dir = tmp_path / "out"
    night_dir = output_dir / "nights" / uninterrupted_night.province.night
    process = start_night(uninterrupted_night, output_dir, tmp_path / "dagster_home")
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and process.poll() is None:
            if night_dir.is_dir() and len(list(night_dir.glob("*.parquet"))) >= kill_after:
                os.killpg(process.pid, signal.SIGKILL)
                break
            time.sleep(POLL_SECONDS)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    stderr = process.stderr.read().decode() if process.stderr else ""
    assert process.returncode == -signal.SIGKILL, f"the run ended before it could be killed: {stderr[-2000:]}"

    survived = parquet_outputs(output_dir)
    assert survived, "nothing was stored before the kill"
    assert len([n for n in survived if n.startswith("nights/")]) < len(night_files), "the run had already finished"
    for name, frame in survived.items():
        # Whatever the kill left behind is complete and correct: never half a file, never a stale mix.
        assert frame.equals(reference[name]), f"{name} was left damaged by the kill"
    leftovers = [p for p in output_dir.rglob("*") if p.is_file() and p.name.startswith(".")]
    for leftover in leftovers:
        # Only the writer's own temporary files may remain, and nothing reads them.
        assert leftover.name.endswith(".tmp"), leftover

    rerun = start_night(uninterrupted_night, output_dir, tmp_path / "dagster_home")
    _, rerun_errors = rerun.communicate(timeout=900)
    assert rerun.returncode == 0, rerun_errors.decode()[-3000:]
    assert_same_outputs(uninterrupted_night.output_dir, output_dir)


@pytest.mark.slow
def test_reference_outputs_are_deterministic(uninterrupted_night: NightRun, tmp_path: Path) -> None:
    """A second uninterrupted run, in a fresh interpreter, agrees with the first: otherwise the rerun comparison
    above would prove nothing. A fresh process matters: it has another hash seed, as every nightly run does."""
    again = tmp_path / "again"
    process = start_night(uninterrupted_night, again, tmp_path / "dagster_home")
    _, errors = process.communicate(timeout=900)
    assert process.returncode == 0, errors.decode()[-3000:]
    assert_same_outputs(uninterrupted_night.output_dir, again)
