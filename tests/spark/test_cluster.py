"""End to end on a real Spark cluster: a standalone master and two workers on 127.0.0.1, and ``dancu register
--engine spark`` run against it as an operator would, giving what the embedded engine gives on the same night."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from pipelines.cli import main
from tests.spark.conftest import NIGHT, SPARK, Province

pytestmark = SPARK


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from scaleout.standalone import local_cluster

    with local_cluster(2, cores_per_worker=1, memory_per_worker="1500m", log_dir=tmp_path_factory.mktemp("logs")) as c:
        yield c


def test_register_command_on_a_two_worker_cluster_gives_the_embedded_register(
    cluster: object, province: Province, tmp_path: Path
) -> None:
    from scaleout.standalone import LocalCluster

    assert isinstance(cluster, LocalCluster)
    inputs = ["--base", str(province.base_file), "--extract", str(province.extracts_file), "--night", NIGHT.isoformat()]
    assert main(["register", *inputs, "--out", str(tmp_path / "embedded")]) == 0
    command = [
        str(Path(sys.executable).parent / "dancu"), "register", *inputs, "--out", str(tmp_path / "spark"),
        "--engine", "spark", "--spark-master", cluster.master_url, "--spark-partitions", "4",
    ]  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DANCU_", "PYSPARK_"))}
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900, env=environment, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    # Matching, clusters and the register's builders ran on the workers: the register and the change set (folders
    # of part files) are the embedded command's, row for row.
    for name in ("register.parquet", "changes.parquet"):
        written = tmp_path / "spark" / name
        assert written.is_dir() and all(p.suffix == ".parquet" for p in written.iterdir()), name
        assert pl.read_parquet(written).equals(pl.read_parquet(tmp_path / "embedded" / name)), name
    assert (tmp_path / "spark" / "changes.xlsx").is_file()
    # The run was a cluster application that ran on both workers and was stopped, not abandoned.
    status = cluster.status()
    assert not status["activeapps"]
    assert [(app["state"], app["cores"]) for app in status["completedapps"]] == [("FINISHED", 2)]
    assert [worker["state"] for worker in status["workers"]] == ["ALIVE", "ALIVE"]
