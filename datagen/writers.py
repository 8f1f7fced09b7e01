"""Writing extract files the way real exports look: Vietnamese headers from the mapping files, CSV in UTF-8,
UTF-8 with BOM or Windows-1258, Excel workbooks with dates as text, serial numbers or date cells; reproducible
byte for byte."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl
import xlsxwriter

from datagen.mappings import source_mapping
from datagen.text import to_cp1258_bytes

__all__ = ["FIXED_TIMESTAMP", "write_extract_file"]

FIXED_TIMESTAMP: Final = datetime(2025, 7, 1, 0, 0, 0)
_EXCEL_EPOCH: Final = date(1899, 12, 30)
_DATE_CANONICAL: Final = frozenset({"birth_date", "death_date", "card_issue_date", "card_expiry_date",
                                    "registration_date"})  # fmt: skip


def _headers_and_values(
    rng: np.random.Generator, source: str, rows: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, str]]:
    """The file's columns under their headers (mostly the first alias) with controlled values from the mapping."""
    mapping = source_mapping(source)
    headers: dict[str, str] = {}
    columns = []
    for canonical, aliases in mapping.columns.items():
        header = aliases[0]
        if len(aliases) > 1 and rng.random() < 0.15:
            header = aliases[1 + int(rng.integers(0, len(aliases) - 1))]
        headers[canonical] = header
        column = rows[canonical]
        table = mapping.values.get(canonical)
        if table:
            values = column.to_list()
            swap = rng.random(len(values)) < 0.05
            for i, value in enumerate(values):
                if swap[i] and value in table and table[value]:
                    options = table[value]
                    values[i] = options[int(rng.integers(0, len(options)))]
            column = pl.Series(values, dtype=pl.String)
        columns.append(column.alias(header))
    return pl.DataFrame(columns), headers


def write_extract_file(
    rng: np.random.Generator, directory: Path, source: str, stem: str, rows: pl.DataFrame, fmt: str, encoding: str
) -> tuple[Path, dict[str, str]]:
    """Write one extract file; returns its path and the headers used (canonical column -> header)."""
    directory.mkdir(parents=True, exist_ok=True)
    frame, headers = _headers_and_values(rng, source, rows)
    if fmt == "csv":
        path = directory / f"{stem}.csv"
        text = frame.write_csv(line_terminator="\r\n" if encoding == "cp1258" else "\n")
        if encoding == "cp1258":
            data = to_cp1258_bytes(text)
        elif encoding == "utf-8-sig":
            data = text.encode("utf-8-sig")
        else:
            data = text.encode("utf-8")
        path.write_bytes(data)
        return path, headers
    path = directory / f"{stem}.xlsx"
    date_headers = {headers[c] for c in headers if c in _DATE_CANONICAL}
    _write_xlsx(rng, path, frame, date_headers)
    return path, headers


def _write_xlsx(rng: np.random.Generator, path: Path, frame: pl.DataFrame, date_headers: set[str]) -> None:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                            "strings_to_formulas": False, "strings_to_urls": False})  # fmt: skip
    workbook.set_properties({"created": FIXED_TIMESTAMP, "author": "dancu", "title": path.stem})
    sheet = workbook.add_worksheet("Sheet1")
    bold = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    for col, header in enumerate(frame.columns):
        sheet.write_string(0, col, header, bold)
    for col, header in enumerate(frame.columns):
        values = frame[header].to_list()
        is_date = header in date_headers
        style = rng.random(len(values)) if is_date else None
        for row, value in enumerate(values, start=1):
            if value is None:
                continue
            if is_date and style is not None and style[row - 1] < 0.3 and _full_date(value):
                day = date(int(value[6:10]), int(value[3:5]), int(value[0:2]))
                if style[row - 1] < 0.15:
                    sheet.write_number(row, col, (day - _EXCEL_EPOCH).days)
                else:
                    sheet.write_datetime(row, col, datetime(day.year, day.month, day.day), date_format)
            else:
                sheet.write_string(row, col, value)
    workbook.close()
    path.write_bytes(buffer.getvalue())


def _full_date(value: str) -> bool:
    if len(value) != 10 or value[2] != "/" or value[5] != "/":
        return False
    try:
        date(int(value[6:10]), int(value[3:5]), int(value[0:2]))
    except ValueError:
        return False
    return True
