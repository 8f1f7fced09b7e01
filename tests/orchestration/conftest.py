"""Fixtures of the orchestration tests: a tiny stand-in graph for the unit tests of schedule and sensors."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pipelines.defs.orchestration.checks import base_snapshot_fresh
from pipelines.defs.orchestration.jobs import nightly_job
from pipelines.defs.orchestration.schedules import nightly_schedule
from pipelines.defs.orchestration.sensors import landing_sensor, run_failure_record
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths
from tests.orchestration.nightly_graph import NIGHT, PEOPLE, SEED, NightRun, Province, nightly_definitions


@dg.asset(partitions_def=nightly_partitions, group_name="ingest", kinds={"polars"})
def population_base(context: dg.AssetExecutionContext, paths: DancuPaths) -> pl.DataFrame:
    """Stand-in for the ingest stage: fails when the night's extract folder holds a file named ``broken.csv``."""
    night = context.partition_key
    if (paths.extracts_dir(night) / "broken.csv").exists():
        raise ValueError(f"tệp hỏng trong đêm {night}")
    return pl.read_parquet(paths.base_file())


def stand_in_definitions(paths: DancuPaths) -> dg.Definitions:
    return dg.Definitions(
        assets=[population_base],
        asset_checks=[base_snapshot_fresh],
        jobs=[nightly_job],
        schedules=[nightly_schedule],
        sensors=[landing_sensor, run_failure_record],
        resources={"paths": paths, "io_manager": dg.mem_io_manager},
    )


@pytest.fixture
def paths(tmp_path: Path) -> DancuPaths:
    input_dir = tmp_path / "in"
    input_dir.mkdir()
    pl.DataFrame({"record_id": ["B1", "B2"], "full_name": ["Nguyễn Văn An", "Trần Thị Bình"]}).write_parquet(
        input_dir / "population_base.parquet"
    )
    return DancuPaths(input_dir=str(input_dir), output_dir=str(tmp_path / "out"))


@pytest.fixture
def definitions(paths: DancuPaths) -> dg.Definitions:
    return stand_in_definitions(paths)


@pytest.fixture(scope="session")
def province(tmp_path_factory: pytest.TempPathFactory) -> Province:
    """A small generated province with one night of extracts (read-only for the tests: copy before changing)."""
    from datagen import generate_province

    root = tmp_path_factory.mktemp("province")
    generate_province(PEOPLE, SEED, root / "in", night=NIGHT)
    return Province(input_dir=root / "in", night=NIGHT.isoformat())


@pytest.fixture(scope="session")
def uninterrupted_night(province: Province, tmp_path_factory: pytest.TempPathFactory) -> NightRun:
    """The province's night run once, start to finish, through the nightly job: the reference outputs."""
    output_dir = tmp_path_factory.mktemp("uninterrupted") / "out"
    definitions = nightly_definitions(province.input_dir, output_dir)
    with dg.instance_for_test() as instance:
        result = definitions.resolve_job_def("nightly").execute_in_process(
            partition_key=province.night, instance=instance
        )
    assert result.success
    return NightRun(province=province, output_dir=output_dir)
