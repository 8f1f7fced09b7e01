"""End to end on a real Spark cluster: a standalone master and two workers on 127.0.0.1, and ``dancu nightly
--engine spark`` run against it as an operator would, giving what the embedded engine gives on the same night."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from pipelines.nightly import run_nightly
from pipelines.resources import EngineResource
from register.store import RegisterStore
from tests.spark.conftest import NIGHT, SPARK, Province, assert_same_pairs

pytestmark = SPARK


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from scaleout.standalone import local_cluster

    with local_cluster(2, cores_per_worker=1, memory_per_worker="1500m", log_dir=tmp_path_factory.mktemp("logs")) as c:
        yield c


def _stage(out: Path, asset: str) -> pl.DataFrame:
    return pl.read_parquet(out / "nights" / NIGHT.isoformat() / f"{asset}.parquet")


def test_nightly_on_a_two_worker_cluster_gives_the_embedded_results(
    cluster: object, province: Province, tmp_path: Path
) -> None:
    from scaleout.standalone import LocalCluster

    assert isinstance(cluster, LocalCluster)
    embedded = run_nightly(
        province.input_dir, tmp_path / "embedded", NIGHT.isoformat(), log_level="ERROR", engine=EngineResource()
    )
    assert embedded.success
    command = [
        str(Path(sys.executable).parent / "dancu"), "nightly", "--input", str(province.input_dir),
        "--output", str(tmp_path / "spark"), "--date", NIGHT.isoformat(), "--quiet",
        "--engine", "spark", "--spark-master", cluster.master_url, "--spark-partitions", "4",
    ]  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DANCU_", "PYSPARK_"))}
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900, env=environment, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    spark_out, embedded_out = tmp_path / "spark", tmp_path / "embedded"
    for asset in ("normalized_base", "normalized_extracts", "person_clusters"):
        assert _stage(spark_out, asset).equals(_stage(embedded_out, asset)), asset
    key = ["left_id", "right_id"]
    assert _stage(spark_out, "candidate_pairs").sort(key).equals(_stage(embedded_out, "candidate_pairs").sort(key))
    assert_same_pairs(_stage(spark_out, "scored_pairs"), _stage(embedded_out, "scored_pairs"))
    # The register the cluster wrote (folders of part files) is the embedded night's, read by the same store.
    spark_store, embedded_store = (RegisterStore(out / "state" / "register") for out in (spark_out, embedded_out))
    assert spark_store.read_register().equals(embedded_store.read_register())
    assert spark_store.read_changes().equals(embedded_store.read_changes())
    # The rest of the graph read the Spark outputs: the night's findings and tasks are the embedded night's.
    for asset in ("quality_findings", "correction_tasks"):
        assert _stage(spark_out, asset).equals(_stage(embedded_out, asset)), asset
    # The run was a cluster application that ran on both workers and was stopped, not abandoned.
    status = cluster.status()
    assert not status["activeapps"]
    assert [(app["state"], app["cores"]) for app in status["completedapps"]] == [("FINISHED", 2)]
    assert [worker["state"] for worker in status["workers"]] == ["ALIVE", "ALIVE"]
