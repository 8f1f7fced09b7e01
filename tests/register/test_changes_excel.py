"""The change set's workbook: every change in its summaries, at most ``max_rows`` rows of changes, tonight's first."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from openpyxl import load_workbook

from register.changes import CHANGES_EXCEL_SHEET, write_changes_excel
from register.types import CHANGES_SCHEMA

TONIGHT, EARLIER = date(2026, 12, 1), date(2026, 11, 20)


def _changes(nights: list[date]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "night": nights,
            "person_key": [f"P{i}" for i in range(len(nights))],
            "record_id": [f"R{i}" for i in range(len(nights))],
            "person_id": [None] * len(nights),
            "ward_code": ["00001"] * len(nights),
            "field": ["full_name"] * len(nights),
            "old_value": ["NGUYEN VAN AN"] * len(nights),
            "new_value": ["Nguyễn Văn An"] * len(nights),
            "rule": ["normalized_name"] * len(nights),
            "evidence_record_ids": [[f"R{i}"] for i in range(len(nights))],
        },
        schema=CHANGES_SCHEMA,
    )


def test_a_long_change_set_shows_tonights_changes_first_and_says_where_the_rest_is(tmp_path: Path) -> None:
    changes = _changes([EARLIER, EARLIER, TONIGHT, EARLIER, TONIGHT])
    path = tmp_path / "changes.xlsx"
    assert write_changes_excel(path, changes, TONIGHT, max_rows=3) == 3
    workbook = load_workbook(path, read_only=True)
    rows = list(workbook[CHANGES_EXCEL_SHEET].iter_rows(values_only=True))[1:]
    assert [row[0] for row in rows] == ["01/12/2026", "01/12/2026", "20/11/2026"]
    summary = [cell for row in workbook["Theo căn cứ sửa"].iter_rows(values_only=True) for cell in row if cell]
    assert any("3 trên 5 dòng" in str(cell) and "changes.parquet" in str(cell) for cell in summary)
    assert 5 in summary  # the summary counts every change, not only the rows shown


def test_a_short_change_set_is_written_whole_without_a_note(tmp_path: Path) -> None:
    changes = _changes([TONIGHT, EARLIER])
    path = tmp_path / "changes.xlsx"
    assert write_changes_excel(path, changes, TONIGHT) == 2
    summary = load_workbook(path, read_only=True)["Theo căn cứ sửa"]
    assert not any("changes.parquet" in str(cell) for row in summary.iter_rows(values_only=True) for cell in row)
