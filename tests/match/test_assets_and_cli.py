from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from matchers.engine.types import LABEL_SCHEMA
from pipelines.cli import main
from pipelines.defs.match.assets import candidate_pairs, person_clusters, review_labels, scored_pairs
from pipelines.io import write_parquet_atomic
from pipelines.partitions import nightly_partitions
from pipelines.resources import build_resources


def _stage_inputs(output_dir: Path, night: str, base: pl.DataFrame, extract: pl.DataFrame) -> None:
    folder = output_dir / "nights" / night
    write_parquet_atomic(base.drop("entity"), folder / "normalized_base.parquet")
    write_parquet_atomic(extract.drop("entity"), folder / "normalized_extracts.parquet")


def _materialize(tmp_path: Path, night: str) -> dg.ExecuteInPlaceResult:
    upstream = [
        dg.AssetSpec(key, partitions_def=nightly_partitions) for key in ("normalized_base", "normalized_extracts")
    ]
    return dg.materialize(
        [*upstream, candidate_pairs, scored_pairs, person_clusters],
        partition_key=night,
        resources=build_resources(str(tmp_path / "in"), str(tmp_path / "out")),
        selection=[candidate_pairs, scored_pairs, person_clusters],
    )


def test_match_assets_over_two_nights(tmp_path: Path, base: pl.DataFrame, extract: pl.DataFrame) -> None:
    small_base, small_extract = base.head(1200), extract.head(200)
    for night in ("2025-07-02", "2025-07-03"):
        _stage_inputs(tmp_path / "out", night, small_base, small_extract)
    first = _materialize(tmp_path, "2025-07-02")
    assert first.success
    metadata = first.asset_materializations_for_node("candidate_pairs")[0].metadata
    assert metadata["index_rebuilt"].value is True
    assert metadata["pairs_link"].value > 0
    second = _materialize(tmp_path, "2025-07-03")
    assert second.asset_materializations_for_node("candidate_pairs")[0].metadata["index_rebuilt"].value is False
    night_dir = tmp_path / "out" / "nights"
    pairs = pl.read_parquet(night_dir / "2025-07-03" / "scored_pairs.parquet")
    assert set(pairs.get_column("kind").unique()) == {"dedupe", "link"}
    assert {"level_name", "weight_name", "match_probability", "decision"} <= set(pairs.columns)
    clusters_1 = pl.read_parquet(night_dir / "2025-07-02" / "person_clusters.parquet")
    clusters_2 = pl.read_parquet(night_dir / "2025-07-03" / "person_clusters.parquet")
    assert clusters_1.height == small_base.height + small_extract.height
    assert clusters_1.sort("record_id").equals(clusters_2.sort("record_id"))  # same input → same ids next night
    assert (tmp_path / "out" / "state" / "match_index" / "manifest.json").exists()


def test_review_labels_read_from_the_task_store(tmp_path: Path) -> None:
    # The store is created on first use; before any decision there are no labels, in the engine's label schema.
    # Decisions becoming labels is covered with the real review flow in tests/console/test_store.py.
    labels = review_labels(f"sqlite:///{tmp_path / 'store.sqlite'}")
    assert labels.schema == LABEL_SCHEMA and labels.height == 0
    assert (tmp_path / "store.sqlite").exists()


def test_cli_dedupe_match_evaluate(
    tmp_path: Path, base: pl.DataFrame, extract: pl.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    base_file, extract_file, truth_file = (
        tmp_path / "base.parquet",
        tmp_path / "extract.parquet",
        tmp_path / "t.parquet",
    )
    base.drop("entity").write_parquet(base_file)
    extract.drop("entity").write_parquet(extract_file)
    pl.concat([base.select("record_id", "entity"), extract.select("record_id", "entity")]).write_parquet(truth_file)

    assert main(["dedupe", "--base", str(base_file), "--out", str(tmp_path / "d")]) == 0
    pairs = pl.read_parquet(tmp_path / "d" / "pairs.parquet")
    assert pairs.columns[:4] == ["left_id", "right_id", "match_probability", "match_weight"]
    clusters = pl.read_parquet(tmp_path / "d" / "clusters.parquet")
    assert clusters.height == base.height
    capsys.readouterr()
    code = main(
        [
            "evaluate",
            "--truth",
            str(truth_file),
            "--pairs",
            str(tmp_path / "d" / "pairs.parquet"),
            "--entity-column",
            "entity",
            "--left-records",
            str(base_file),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    f1 = float(next(line for line in printed.splitlines() if line.startswith("F1")).split()[-1])
    assert f1 >= 0.95

    assert main(["match", "--base", str(base_file), "--extract", str(extract_file), "--out", str(tmp_path / "m")]) == 0
    assert "dựng mới" in capsys.readouterr().out
    assert main(["match", "--base", str(base_file), "--extract", str(extract_file), "--out", str(tmp_path / "m")]) == 0
    assert "dùng lại" in capsys.readouterr().out
    code = main(
        [
            "evaluate",
            "--truth",
            str(truth_file),
            "--pairs",
            str(tmp_path / "m" / "pairs.parquet"),
            "--left-records",
            str(extract_file),
            "--right-records",
            str(base_file),
        ]
    )
    printed = capsys.readouterr().out
    precision = float(next(line for line in printed.splitlines() if "precision" in line).split()[-1])
    assert precision >= 0.99

    assert main(["dedupe", "--base", str(tmp_path / "missing.parquet"), "--out", str(tmp_path / "x")]) == 2
    assert main(["dedupe", "--base", str(base_file), "--out", str(tmp_path / "x"), "--match-threshold", "0.1"]) == 2


def test_cli_normalizes_canonical_files(tmp_path: Path) -> None:
    from records.schema import conform

    rows = {
        "record_id": ["1", "2", "3"],
        "person_id": ["001085000001", None, "079190000123"],
        "full_name": ["Nguyễn Văn An", "NGUYEN VAN AN", "Trần Thị Bích"],
        "birth_date": ["1985-03-07", "1985-07-03", "1990-01-02"],
        "sex": ["Nam", "Nam", "Nữ"],
        "permanent_address": ["12 Lê Lợi, P. Thượng Đình, Q. Thanh Xuân, HN"] * 3,
        "current_address": [None, None, None],
        "hometown": [None, None, None],
        "father_name": ["Nguyễn Văn Bình", "Nguyễn Văn Bình", None],
    }
    conform(pl.DataFrame(rows), source="base").write_csv(tmp_path / "base.csv")
    assert main(["dedupe", "--base", str(tmp_path / "base.csv"), "--out", str(tmp_path / "out")]) == 0
    pairs = pl.read_parquet(tmp_path / "out" / "pairs.parquet")
    assert pairs.filter((pl.col("left_id") == "1") & (pl.col("right_id") == "2")).height == 1
    involving_third = pairs.filter((pl.col("left_id") == "3") | (pl.col("right_id") == "3"))
    assert "match" not in involving_third.get_column("decision").to_list()
