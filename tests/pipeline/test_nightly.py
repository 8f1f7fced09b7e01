"""The whole nightly graph on a small generated province, asserting on every stage's output."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import polars as pl
import pytest

from datagen import generate_province
from normalize.columns import ADDRESS_COLUMNS
from pipelines.io import output_frame
from pipelines.nightly import NightlyOutcome, run_nightly

NIGHT = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def night_outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, NightlyOutcome]:
    root = tmp_path_factory.mktemp("province")
    generate_province(1_500, 11, root / "in", night=NIGHT)
    outcome = run_nightly(root / "in", root / "out", NIGHT.isoformat(), log_level="WARNING")
    assert outcome.success, outcome
    return root / "in", root / "out", outcome


def stage(out: Path, asset: str) -> pl.DataFrame:
    return output_frame(out, NIGHT.isoformat(), asset)


def test_ingest_accounts_for_every_row(night_outputs: tuple[Path, Path, NightlyOutcome]) -> None:
    source, out, _ = night_outputs
    files = stage(out, "ingest_files")
    base, extracts, quarantine = (
        stage(out, "population_base"),
        stage(out, "extract_records"),
        stage(out, "ingest_quarantine"),
    )
    assert files["rows_read"].sum() == base.height + extracts.height + quarantine.height
    assert set(extracts["source"].unique()) == {"residence", "civil_status", "card"}
    truth = pl.read_parquet(source / "truth" / "defects.parquet")
    malformed = truth.filter(pl.col("defect") == "malformed_row")
    if malformed.height:
        quarantined_ids = set(quarantine["raw_values"].str.extract(r'"([A-Z]{1,2}\d+)"').drop_nulls().to_list())
        assert quarantined_ids & set(malformed["record_id"].to_list())


def test_normalize_resolves_addresses(night_outputs: tuple[Path, Path, NightlyOutcome]) -> None:
    _, out, _ = night_outputs
    base = stage(out, "normalized_base")
    for column in (
        "full_name_norm",
        "name_key",
        "birth_year",
        "person_id_valid",
        *(f"{c}_status" for c in ADDRESS_COLUMNS),
    ):
        assert column in base.columns
    resolved = base["permanent_address_status"].value_counts()
    assert resolved.filter(pl.col("permanent_address_status") == "resolved")["count"].sum() > base.height * 0.8


def test_match_finds_pairs_and_clusters(night_outputs: tuple[Path, Path, NightlyOutcome]) -> None:
    _, out, _ = night_outputs
    pairs = stage(out, "scored_pairs")
    assert {"left_id", "right_id", "match_probability", "decision"} <= set(pairs.columns)
    assert pairs["decision"].is_in(["match", "review", "non_match"]).all()
    assert pairs.filter(pl.col("decision") == "match").height > 0
    clusters = stage(out, "person_clusters")
    base = stage(out, "normalized_base")
    assert set(base["record_id"]) <= set(clusters["record_id"])


def test_checks_and_reports(night_outputs: tuple[Path, Path, NightlyOutcome]) -> None:
    _, out, _ = night_outputs
    findings = stage(out, "quality_findings")
    assert set(findings["quality"].unique()) <= {"đúng", "đủ", "sạch", "sống"}
    assert findings.height > 0
    reports = out / "reports" / NIGHT.isoformat()
    html = (reports / "bao-cao-chat-luong.html").read_text(encoding="utf-8")
    assert "<html" in html and "sống" in html
    assert (reports / "bao-cao-chat-luong.xlsx").exists()


def test_correction_tasks_are_stored(night_outputs: tuple[Path, Path, NightlyOutcome]) -> None:
    _, out, _ = night_outputs
    with sqlite3.connect(out / "dancu.sqlite") as connection:
        tables = {name for (name,) in connection.execute("select name from sqlite_master where type='table'")}
        task_table = next(name for name in tables if "task" in name)
        count = connection.execute(f"select count(*) from {task_table}").fetchone()[0]
    assert count > 0


def test_every_asset_reports_its_time_and_size(night_outputs: tuple[Path, Path, NightlyOutcome]) -> None:
    _, _, outcome = night_outputs
    assert len(outcome.materialized) >= 14
    for asset, metadata in outcome.materialized.items():
        assert "seconds" in metadata, asset
        assert isinstance(metadata["seconds"], float) and metadata["seconds"] >= 0, asset
