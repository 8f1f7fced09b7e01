"""A night killed in the middle of a stage leaves intact outputs, and its rerun equals an uninterrupted run: the night's
outputs, the task store, and every file of the long-lived state (the second night, which builds on the first)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from datagen.evolve import evolve_base
from tests.orchestration.nightly_graph import (
    PEOPLE,
    SEED,
    NightRun,
    Province,
    assert_same_outputs,
    night_outputs,
    parquet_outputs,
)

POLL_SECONDS = 0.02


def start_night(input_dir: Path, night: str, output_dir: Path, dagster_home: Path) -> subprocess.Popen[bytes]:
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
        [sys.executable, "-c", code, str(input_dir), str(output_dir), night],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DAGSTER_HOME": str(dagster_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def run_to_end(input_dir: Path, night: str, output_dir: Path, dagster_home: Path) -> None:
    process = start_night(input_dir, night, output_dir, dagster_home)
    _, errors = process.communicate(timeout=900)
    assert process.returncode == 0, errors.decode()[-3000:]


def kill_after(input_dir: Path, night: str, output_dir: Path, dagster_home: Path, stored: int) -> None:
    """Run the night and SIGKILL it (the whole process group) once ``stored`` of its outputs exist."""
    process = start_night(input_dir, night, output_dir, dagster_home)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and process.poll() is None:
            if len(night_outputs(output_dir, night)) >= stored:
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


def assert_left_intact(reference: Path, output_dir: Path, night: str) -> None:
    expected = parquet_outputs(reference)
    survived = parquet_outputs(output_dir)
    assert survived, "nothing was stored before the kill"
    assert len(night_outputs(output_dir, night)) < len(night_outputs(reference, night)), "the run had finished"
    for name, frame in survived.items():
        if not name.startswith(f"nights/{night}/"):
            continue
        # Whatever the kill left behind of tonight's outputs is complete and correct: never half a file.
        assert frame.equals(expected[name]), f"{name} was left damaged by the kill"
    for leftover in (p for p in output_dir.rglob("*") if p.is_file() and p.name.startswith(".")):
        # Only the writers' own temporary files may remain, and nothing reads them.
        assert leftover.name.endswith(".tmp") or leftover.parent.name.startswith("."), leftover


@pytest.mark.slow
def test_a_night_killed_mid_stage_reruns_to_identical_outputs(uninterrupted_night: NightRun, tmp_path: Path) -> None:
    night = uninterrupted_night.province.night
    stored = night_outputs(uninterrupted_night.output_dir, night)
    assert len(stored) >= 2, "the graph needs at least two stored assets for a run to be killed mid-way"
    output_dir = tmp_path / "out"
    kill_after(uninterrupted_night.province.input_dir, night, output_dir, tmp_path / "home", len(stored) // 2)
    assert_left_intact(uninterrupted_night.output_dir, output_dir, night)
    run_to_end(uninterrupted_night.province.input_dir, night, output_dir, tmp_path / "home")
    assert_same_outputs(uninterrupted_night.output_dir, output_dir)


@pytest.mark.slow
def test_reference_outputs_are_deterministic(uninterrupted_night: NightRun, tmp_path: Path) -> None:
    """A second uninterrupted run, in a fresh interpreter, agrees with the first: otherwise the rerun comparison
    above would prove nothing. A fresh process matters: it has another hash seed, as every nightly run does."""
    again = tmp_path / "again"
    run_to_end(uninterrupted_night.province.input_dir, uninterrupted_night.province.night, again, tmp_path / "home")
    assert_same_outputs(uninterrupted_night.output_dir, again)


# ---------------------------------------------------------------- the second night, which builds on the state

SECOND = dt.date(2025, 9, 16)


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Province, Province, Path]:
    """A province over two nights, its base edited between them, run start to finish: the reference state."""
    from datagen import generate_province

    root = tmp_path_factory.mktemp("two_nights")
    generate_province(PEOPLE, SEED, root / "first", night=SECOND, nights=2)
    shutil.copytree(root / "first", root / "second")
    base = pl.read_parquet(root / "first" / "population_base.parquet")
    evolved, _ = evolve_base(base, SECOND, seed=SEED, changed=0.03, added=0.01, removed=0.005)
    evolved.write_parquet(root / "second" / "population_base.parquet")
    first = Province(root / "first", (SECOND - dt.timedelta(days=1)).isoformat())
    second = Province(root / "second", SECOND.isoformat())
    reference = root / "reference"
    for province in (first, second):
        run_to_end(province.input_dir, province.night, reference, root / "home")
    return first, second, reference


@pytest.mark.slow
@pytest.mark.parametrize("share", [0.25, 0.7], ids=["early", "late"])
def test_a_second_night_killed_and_rerun_leaves_the_state_of_one_clean_run(
    two_nights: tuple[Province, Province, Path], tmp_path: Path, share: float
) -> None:
    first, second, reference = two_nights
    output_dir, home = tmp_path / "out", tmp_path / "home"
    run_to_end(first.input_dir, first.night, output_dir, home)
    stored = max(1, int(len(night_outputs(reference, second.night)) * share))
    kill_after(second.input_dir, second.night, output_dir, home, stored)
    assert_left_intact(reference, output_dir, second.night)
    run_to_end(second.input_dir, second.night, output_dir, home)
    assert_same_outputs(reference, output_dir)
