"""Excel workbooks whose data cells are always text: the one place dancu opens an ``xlsxwriter.Workbook``.

Values come from extracts typed by people. xlsxwriter's ``write()`` turns a string that starts with ``=`` into a
live formula and one that looks like a URL (``http://``, ``external:c:\\...``) into a hyperlink, so a name such as
``=HYPERLINK("http://…"&J5,"Xem")`` would run in the officer's Excel (CSV/formula injection, OWASP). Every
workbook dancu writes (the ward export, the quality report, the register's change set) is opened here with those
conversions off; numbers and dates are written with their explicit ``write_number``/``write_datetime`` calls.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import xlsxwriter

__all__ = ["EXCEL_SHOWN_ROWS", "TEXT_ONLY_OPTIONS", "text_only_workbook"]

EXCEL_SHOWN_ROWS = 50_000
"""Rows of a long list (change set, findings) a workbook shows. Workbooks are read by people; the machine-readable
whole is the night's Parquet file. Writing every row costs about 25 s per 100,000 rows on this machine (xlsxwriter is
pure Python), so a 1,000,000-person first night (1.6 million changes) would spend minutes in Excel alone."""

TEXT_ONLY_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def text_only_workbook(target: str | Path | io.BytesIO, **options: Any) -> xlsxwriter.Workbook:
    """An ``xlsxwriter.Workbook`` that writes every string as a string (never a formula, URL or number)."""
    if isinstance(target, io.BytesIO):
        options.setdefault("in_memory", True)
    return xlsxwriter.Workbook(
        target if isinstance(target, io.BytesIO) else str(target), {**options, **TEXT_ONLY_OPTIONS}
    )
