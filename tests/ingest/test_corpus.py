"""The damaged-file corpus (``tests/ingest/corpus``): every file has its expected outcome, and one night over all of
them finishes with every file in ``ingest_files`` and every row accounted for."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from normalize.frame import normalize_records
from pipelines.io import output_frame
from pipelines.nightly import run_nightly
from records.ingest import IngestResult, ingest_base, ingest_extracts
from tests.ingest.corpus import build

CASES: list[dict[str, Any]] = json.loads(build.MANIFEST.read_text(encoding="utf-8"))
NIGHT = dt.date.fromisoformat(build.NIGHT)
EXTRACTS = [c for c in CASES if c["kind"] == "extract"]
BASES = [c for c in CASES if c["kind"] == "base"]


def test_the_committed_corpus_is_what_the_script_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "FILES", tmp_path)
    rebuilt = [case.__dict__ for case in build.build()]
    assert rebuilt == CASES
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in build.FILES.iterdir())
    assert sorted(c["file"] for c in CASES) == sorted(p.name for p in build.FILES.iterdir())
    for case in CASES:  # text files byte for byte (workbooks and Parquet embed library versions)
        if case["file"].endswith(".csv"):
            assert (tmp_path / case["file"]).read_bytes() == (build.FILES / case["file"]).read_bytes()


@pytest.fixture(scope="module")
def extracts_result() -> IngestResult:
    result = ingest_extracts(build.FILES, as_of=NIGHT)
    result.check_counts()
    return result


def _part(result: IngestResult, file: str) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    files = result.files.filter(pl.col("source_file").str.starts_with(file))
    assert files.height >= 1, f"{file} is missing from the file report"
    accepted = result.accepted.filter(pl.col("source_file").str.starts_with(file))
    quarantine = result.quarantine.filter(pl.col("source_file").str.starts_with(file))
    report = {
        "error": next((e for e in files["error"].to_list() if e), None),
        "warnings": "; ".join(w for w in files["warnings"].to_list() if w),
    }
    return accepted, quarantine, report


def _assert_outcome(case: dict[str, Any], accepted: pl.DataFrame, quarantine: pl.DataFrame, report: dict) -> None:
    what = f"{case['file']} ({case['what']})"
    assert (accepted.height, quarantine.height) == (case["accepted"], case["quarantined"]), (
        what,
        quarantine["reason"].to_list(),
    )
    if case["outcome"] == "file_quarantined":
        assert report["error"] is not None, what
    else:
        assert report["error"] is None, (what, report["error"])
    if case["reason"]:
        reasons = quarantine["reason"].to_list() + ([report["error"]] if report["error"] else [])
        assert reasons and all(case["reason"] in r for r in quarantine["reason"].to_list()), (what, reasons)
    if case["warning"]:
        assert case["warning"] in report["warnings"], (what, report["warnings"])
    for record_id, values in case["values"].items():
        row = accepted.filter(pl.col("record_id") == record_id).row(0, named=True)
        for column, expected in values.items():
            assert row[column] == expected, (what, record_id, column)
    if case["normalized"]:
        normalized = normalize_records(accepted, as_of=NIGHT)
        assert normalized.height == accepted.height
        for record_id, values in case["normalized"].items():
            row = normalized.filter(pl.col("record_id") == record_id).row(0, named=True)
            for column, expected in values.items():
                assert row[column] == expected, (what, record_id, column, row[column])


@pytest.mark.parametrize("case", EXTRACTS, ids=[c["file"] for c in EXTRACTS])
def test_extract_file_has_its_expected_outcome(case: dict[str, Any], extracts_result: IngestResult) -> None:
    _assert_outcome(case, *_part(extracts_result, case["file"]))


@pytest.mark.parametrize("case", BASES, ids=[c["file"] for c in BASES])
def test_base_file_has_its_expected_outcome(case: dict[str, Any]) -> None:
    result = ingest_base(build.FILES / case["file"], as_of=NIGHT)
    result.check_counts()
    _assert_outcome(case, *_part(result, case["file"]))


def test_a_night_over_the_whole_corpus(tmp_path: Path) -> None:
    folder = tmp_path / "in" / "extracts" / build.NIGHT
    folder.mkdir(parents=True)
    for case in EXTRACTS:
        shutil.copy(build.FILES / case["file"], folder / case["file"])
    shutil.copy(build.FILES / "base_missing_columns.parquet", tmp_path / "in" / "population_base.parquet")
    outcome = run_nightly(tmp_path / "in", tmp_path / "out", build.NIGHT, log_level="ERROR")
    assert outcome.success, outcome
    stage = tmp_path / "out" / "nights" / build.NIGHT
    files = pl.read_parquet(stage / "ingest_files.parquet")
    # Every file is in ingest_files (a workbook with several sheets may add a row per sheet).
    reported = set(files["source_file"].str.replace(r"\[.*\]$", "").to_list())
    assert reported == {c["file"] for c in EXTRACTS} | {"population_base.parquet"}
    assert (files["rows_read"] == files["rows_accepted"] + files["rows_quarantined"]).all()
    base = output_frame(tmp_path / "out", build.NIGHT, "population_base")  # the whole base (state output)
    extracts = pl.read_parquet(stage / "extract_records.parquet")
    quarantine = pl.read_parquet(stage / "ingest_quarantine.parquet")
    assert files["rows_read"].sum() == base.height + extracts.height + quarantine.height
    assert extracts.height == sum(c["accepted"] for c in EXTRACTS)
    # Ids are unique within a source; the one that two sources share was qualified for the night's graph.
    assert extracts["record_id"].is_unique().all()
    assert {"residence:NF1", "card:NF1"} <= set(extracts["record_id"].to_list())
    normalized = pl.read_parquet(stage / "normalized_extracts.parquet")
    assert normalized.height == extracts.height
    rejected = outcome.materialized["ingest_files"]["rejected_files"]
    assert len(rejected) == sum(c["outcome"] == "file_quarantined" for c in EXTRACTS)
    report = (tmp_path / "out" / "reports" / build.NIGHT / "bao-cao-chat-luong.html").read_text(encoding="utf-8")
    assert "cu_tru_binary.csv" in report and "Cách ly toàn bộ" in report
