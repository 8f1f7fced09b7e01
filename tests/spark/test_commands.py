"""``dancu normalize|dedupe|match --engine spark`` write what the embedded engine writes, and the engine resource
leaves alone a session it did not start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from pipelines.cli import main
from pipelines.engine_options import EngineResource, engine_from_environment, engine_of
from pipelines.errors import CommandError
from tests.spark.conftest import NIGHT, SPARK, Province, assert_same_pairs

pytestmark = SPARK


def _run(*arguments: str) -> None:
    assert main(list(arguments)) == 0


def test_normalize_command_on_spark_writes_the_same_rows(spark: Any, province: Province, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    province.canonical_base.write_csv(source)
    _run("normalize", "--input", str(source), "--output", str(tmp_path / "embedded.parquet"), "--as-of", str(NIGHT))
    _run(
        "normalize", "--input", str(source), "--output", str(tmp_path / "spark.parquet"), "--as-of", str(NIGHT),
        "--engine", "spark",
    )  # fmt: skip
    written = tmp_path / "spark.parquet"
    assert written.is_dir() and all(p.suffix == ".parquet" for p in written.iterdir())
    assert pl.read_parquet(written).equals(pl.read_parquet(tmp_path / "embedded.parquet"))


def _labels(province: Province, path: Path) -> Path:
    ids = province.base.get_column("record_id")
    pl.DataFrame(
        {"left_id": ids.head(3), "right_id": ids.slice(3, 3), "same_person": [True, False, None]}
    ).write_parquet(path)
    return path


def _legacy_csv(province: Province, path: Path) -> Path:
    """The canonical base as a Windows-1258 CSV with semicolons and one broken row (line 3)."""
    from records.encodings import encode_cp1258

    lines = province.canonical_base.write_csv(separator=";").splitlines()
    lines.insert(2, "broken-1;079190000124;Lê Văn Cường")  # too few fields
    # A character the code page lacks (the generator damages some text) becomes "?", as a legacy export writes it.
    path.write_bytes(encode_cp1258("\r\n".join(lines) + "\r\n", errors="replace"))
    return path


def test_dedupe_and_match_commands_on_spark_write_the_same_pairs_clusters_and_models(
    spark: Any, province: Province, tmp_path: Path
) -> None:
    """Both engines on the same files: dedupe reads a legacy-encoded CSV the way the nightly reads it (the broken
    row quarantined beside the output by both), match reads the normalized Parquet files."""
    labels = _labels(province, tmp_path / "labels.parquet")
    legacy = _legacy_csv(province, tmp_path / "legacy.csv")
    for engine in ("embedded", "spark"):
        _run("dedupe", "--base", str(legacy), "--out", str(tmp_path / f"dedupe-{engine}"),
             "--labels", str(labels), "--engine", engine)  # fmt: skip
        quarantined = pl.read_parquet(tmp_path / f"dedupe-{engine}" / "legacy.quarantine.parquet")
        assert quarantined.select("source_file", "source_row").rows() == [("legacy.csv", 3)]
        _run("match", "--base", str(province.base_file), "--extract", str(province.extracts_file),
             "--out", str(tmp_path / f"match-{engine}"), "--engine", engine)  # fmt: skip
    for job in ("dedupe", "match"):
        embedded, on_spark = tmp_path / f"{job}-embedded", tmp_path / f"{job}-spark"
        assert_same_pairs(pl.read_parquet(on_spark / "pairs.parquet"), pl.read_parquet(embedded / "pairs.parquet"))
        assert pl.read_parquet(on_spark / "clusters.parquet").equals(pl.read_parquet(embedded / "clusters.parquet"))
        assert json.loads((on_spark / "model.json").read_text()) == json.loads((embedded / "model.json").read_text())


def test_engine_options_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    def options(**values: Any) -> argparse.Namespace:
        return argparse.Namespace(
            **{"engine": None, "spark_master": None, "spark_partitions": None, "spark_conf": [], **values}
        )

    monkeypatch.delenv("DANCU_ENGINE", raising=False)
    assert not engine_of(options()).is_spark
    with pytest.raises(CommandError, match="only with --engine spark"):
        engine_of(options(spark_master="spark://127.0.0.1:7077"))
    with pytest.raises(CommandError, match="KEY=VALUE"):
        engine_of(options(engine="spark", spark_conf=["spark.executor.memory"]))
    engine = engine_of(options(engine="spark", spark_conf=["spark.executor.memory=8g"], spark_partitions=64))
    assert engine.spark_options().conf == {"spark.executor.memory": "8g"}
    assert engine.spark_options().default_partitions() == 64
    monkeypatch.setenv("DANCU_ENGINE", "spark")
    monkeypatch.setenv("DANCU_SPARK_MASTER", "spark://10.0.0.5:7077")
    assert engine_from_environment().spark_master == "spark://10.0.0.5:7077"
    monkeypatch.setenv("DANCU_ENGINE", "flink")
    with pytest.raises(ValueError, match="DANCU_ENGINE"):
        engine_from_environment()


def test_engine_resource_leaves_a_session_it_did_not_start_running(spark: Any) -> None:
    engine = EngineResource(kind="spark", spark_master="local[2]")

    @dg.asset
    def counted(engine: EngineResource) -> int:
        return int(engine.spark().range(5).count())

    assert dg.materialize([counted], resources={"engine": engine}).output_for_node("counted") == 5
    assert spark.range(3).count() == 3  # the session of this test run is still alive after the run's teardown
