"""The check and report assets in Dagster, two nights in a row, with every asset check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from openpyxl import load_workbook

from checks.report import DATA_DOCS_DIR, MATCH_REPORT_HTML, QUALITY_REPORT_HTML, QUALITY_REPORT_XLSX
from checks.scores import read_history
from tests.checks.conftest import NIGHTS, STUBS, findings_of, run_nights


def _check_results(result: dg.ExecuteInJobResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_two_nights_materialize_and_history_has_two_points(two_nights: tuple[Path, list[Any]]) -> None:
    output, results = two_nights
    assert all(r.success for r in results)
    history = read_history(output / "state" / "quality_history.parquet")
    overall = history.filter((pl.col("level") == "all") & (pl.col("quality") == "đủ")).sort("night")
    assert [str(n) for n in overall["night"]] == list(NIGHTS)
    assert overall["score"][1] > overall["score"][0]  # B2's missing sex was fixed on the second night
    findings = findings_of(output, NIGHTS[1])
    assert {"death_not_reflected", "card_expired", "duplicate_person", "name_not_normalized"} <= set(findings["rule"])
    assert findings.filter(pl.col("rule") == "death_not_reflected")["record_id"].to_list() == ["B4"]


def test_reports_are_written_for_each_night(two_nights: tuple[Path, list[Any]]) -> None:
    output, _ = two_nights
    for night in NIGHTS:
        folder = output / "reports" / night
        assert (folder / QUALITY_REPORT_HTML).stat().st_size > 10_000
        assert (folder / MATCH_REPORT_HTML).stat().st_size > 5_000
        index = (folder / DATA_DOCS_DIR / "index.html").read_text(encoding="utf-8")
        for suite in ("extract_records", "normalized_base", "scored_pairs", "person_clusters"):
            assert f"{suite}.html" in index
            payload = json.loads((folder / DATA_DOCS_DIR / f"{suite}.json").read_text(encoding="utf-8"))
            assert payload["gx_results"], suite
    html = (output / "reports" / NIGHTS[1] / QUALITY_REPORT_HTML).read_text(encoding="utf-8")
    assert "2 đêm có dữ liệu." in html
    assert html.count('class="point"') >= 10  # five series × two nights in the trend chart
    workbook = load_workbook(output / "reports" / NIGHTS[1] / QUALITY_REPORT_XLSX, read_only=True)
    assert workbook.sheetnames == [
        "Tổng quan",
        "Điểm theo xã phường",
        "Điểm theo tỉnh",
        "Xu hướng",
        "Theo quy tắc",
        "Phát hiện",
        "Tệp đầu vào",
        "Trước sau theo tỉnh",
        "Trước sau theo xã phường",
        "Sổ sạch thay đổi",
        "Phát hiện thành việc",
    ]
    assert "Tệp đầu vào cần chú ý" in html and "ho_tich.csv" in html
    # Before → after: the register's scores, its change set (linked to its workbook), findings → tasks.
    assert 'id="truoc-sau"' in html and "gốc → sổ sạch" in html
    assert 'href="so-dan-cu-sach-thay-doi.xlsx"' in html
    assert (output / "reports" / NIGHTS[1] / "so-dan-cu-sach-thay-doi.xlsx").exists()
    assert 'id="phat-hien-thanh-viec"' in html
    trend_rows = list(workbook["Xu hướng"].iter_rows(values_only=True))
    assert len(trend_rows) == 3  # header + two nights
    finding_rows = list(workbook["Phát hiện"].iter_rows(values_only=True))
    findings = findings_of(output, NIGHTS[1])
    assert len(finding_rows) == findings.height + 1


def test_asset_checks_pass_on_good_data(two_nights: tuple[Path, list[Any]]) -> None:
    _, results = two_nights
    checks = _check_results(results[1])
    assert {"gx_extract_records", "gx_normalized_base", "ingest_rows_accounted", "no_file_rejected"} <= set(checks)
    failed = {name: c.description for name, c in checks.items() if not c.passed}
    assert failed == {}


def test_blocking_check_stops_the_night_on_missing_mandatory_column(tmp_path: Path) -> None:
    broken = dict(STUBS)
    broken["extract_records"] = lambda night: STUBS["extract_records"](night).drop("full_name")
    results = run_nights(tmp_path, broken, nights=NIGHTS[:1])
    checks = _check_results(results[0])
    gx = checks["gx_extract_records"]
    assert not gx.passed and gx.severity == dg.AssetCheckSeverity.ERROR
    assert gx.metadata["blocking_failures"].value >= 1
    # Downstream of extract_records, the reports were not produced.
    assert not (tmp_path / "reports" / NIGHTS[0] / QUALITY_REPORT_HTML).exists()


def test_row_accounting_check_fails_when_rows_are_lost(tmp_path: Path) -> None:
    lossy = dict(STUBS)
    lossy["ingest_quarantine"] = lambda night: STUBS["ingest_quarantine"](night).head(0)
    results = run_nights(tmp_path, lossy, nights=NIGHTS[:1])
    check = _check_results(results[0])["ingest_rows_accounted"]
    assert not check.passed and "cách ly 1" in (check.description or "")
