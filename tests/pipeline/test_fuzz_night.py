"""Mutation fuzzing of the night: hypothesis damages generated extract files (bytes, encodings, line endings, cells,
sheets) and the night must end with every row accounted for.

Two layers. Every example goes through the night's file path (``ingest_night`` and ``normalize_records``: where
input damage lives) with the row accounting asserted per file; a few examples run the whole Dagster night over a
folder of mutated files. CI runs a fixed derandomized sample that stays fast; ``DANCU_FUZZ=slow`` selects the slow
profile (thousands of examples and dozens of whole nights), run outside CI::

    DANCU_FUZZ=slow .venv/bin/pytest tests/pipeline/test_fuzz_night.py -p no:xdist
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

from datagen import generate_province
from normalize.frame import normalize_records
from pipelines.io import output_frame
from pipelines.nightly import run_nightly
from records.encodings import encode_cp1258
from records.ingest import ingest_night
from records.schema import validate_canonical

NIGHT = dt.date(2026, 11, 20)
SLOW = os.environ.get("DANCU_FUZZ") == "slow"
FILE_EXAMPLES = 3000 if SLOW else 25
NIGHT_EXAMPLES = 40 if SLOW else 1
PROFILE = {"deadline": None, "suppress_health_check": list(HealthCheck)}


@dataclass(frozen=True)
class Source:
    base: bytes
    files: dict[str, bytes]  # name -> bytes of tonight's generated extract files


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    root = tmp_path_factory.mktemp("fuzz_source")
    generate_province(600, 21, root, night=NIGHT)
    folder = root / "extracts" / NIGHT.isoformat()
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    # The same residence rows as a workbook, for the sheet mutations.
    workbook = io.BytesIO()
    with xlsxwriter.Workbook(workbook, {"in_memory": True, "strings_to_numbers": False}) as book:
        sheet = book.add_worksheet("Sheet1")
        for r, row in enumerate(_rows(files["cu_tru.csv"])):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value)
    files["cu_tru_bang.xlsx"] = workbook.getvalue()
    return Source(base=(root / "population_base.parquet").read_bytes(), files=files)


# ---------------------------------------------------------------- mutations


def _text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("cp1258", errors="replace")


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(_text(data), newline="")))


def _csv(rows: list[list[str]], delimiter: str = ",", newline: str = "\n") -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buffer.getvalue()


CELL_TEXT = st.one_of(
    st.text(max_size=15),
    st.sampled_from(
        ['"', '""', ",", ";", "\n", "\r", "\t", "\ufeff", "\u200b", "\x00", "37304203655.0", "3.7E+10", "=1+1",
         "００１０９００１２３４５", "TrÇn V¨n §øc", "Lê Khánh Thy Oânh", "Nguyễn Văn An (chết)", "1/1/90",
         "ngày 5 tháng 3 năm 1990", "30/02/1990", "", "   ", "NULL", "x" * 300]
    ),
)  # fmt: skip


CSV_MUTATIONS = ("cell", "drop_cell", "add_cell", "header", "title", "blank", "repeat", "column_b")


@st.composite
def csv_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """Damage a CSV extract the ways exports and people do."""
    rows = _rows(data)
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(CSV_MUTATIONS))
        row = draw(st.integers(0, len(rows) - 1))
        if kind == "cell" and rows[row]:
            rows[row][draw(st.integers(0, len(rows[row]) - 1))] = draw(CELL_TEXT)
        elif kind == "drop_cell" and rows[row]:
            del rows[row][draw(st.integers(0, len(rows[row]) - 1))]
        elif kind == "add_cell":
            rows[row].append(draw(CELL_TEXT))
        elif kind == "header" and rows[0]:
            rows[0][draw(st.integers(0, len(rows[0]) - 1))] = draw(st.sampled_from(["", "Cột lạ", "STT", "Họ tên"]))
        elif kind == "title":
            rows.insert(0, [draw(st.sampled_from(["DANH SÁCH CÔNG DÂN", "", "Báo cáo tháng 11"]))])
        elif kind == "blank":
            rows.insert(row, [])
        elif kind == "repeat":
            rows.insert(row, list(rows[row]))
        elif kind == "column_b":
            rows = [["", *r] for r in rows]
    text = _csv(rows, draw(st.sampled_from([",", ",", ";", "\t"])), draw(st.sampled_from(["\n", "\r\n", "\r"])))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1258", "utf-16", "utf-16-le"]))
    out = encode_cp1258(text, errors="replace") if encoding == "cp1258" else text.encode(encoding, errors="replace")
    return draw(byte_mutation(out))


@st.composite
def byte_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """Flip, insert or delete bytes, truncate, or break a quote."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 2))):
        if not out:
            break
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "quote", "none", "none"]))
        # A position drawn independently of the length: a workbook's bytes vary from save to save (timestamps).
        at = draw(st.integers(0, 1 << 20)) % len(out)
        if kind == "flip":
            out[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "delete":
            del out[at]
        elif kind == "truncate":
            del out[at:]
        elif kind == "quote":
            out[at:at] = b'"'
    return bytes(out)


def _write_cell(sheet: Worksheet, row: int, column: int, value: str) -> None:
    """Write one cell; inside a merged range only its top-left cell holds a value (openpyxl's MergedCell is
    read-only), as in Excel."""
    for merged in sheet.merged_cells.ranges:
        if (row, column) in merged.cells:
            row, column = merged.min_row, merged.min_col
            break
    sheet.cell(row, column, value)


@st.composite
def xlsx_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """Damage a workbook: title rows, a shifted table, merged cells, formulas, extra sheets, no <dimension>,
    or broken bytes."""
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["title", "shift", "merge", "formula", "cell", "sheet", "empty_sheet"]))
        rows = max(sheet.max_row, 2)
        if kind == "title":
            sheet.insert_rows(1)
            sheet.cell(1, 1, "DANH SÁCH CÔNG DÂN")
        elif kind == "shift":
            sheet.insert_cols(1)
        elif kind == "merge":
            first = draw(st.integers(2, rows))
            column = draw(st.integers(1, max(sheet.max_column, 1)))
            sheet.merge_cells(start_row=first, start_column=column, end_row=min(first + 2, rows), end_column=column)
        elif kind == "formula":
            _write_cell(sheet, draw(st.integers(2, rows)), draw(st.integers(1, max(sheet.max_column, 1))), '="A"&1')
        elif kind == "cell":
            value = ILLEGAL_CHARACTERS_RE.sub("", draw(CELL_TEXT))  # a workbook cannot hold control characters
            _write_cell(sheet, draw(st.integers(1, rows)), draw(st.integers(1, max(sheet.max_column, 1))), value)
        elif kind == "sheet":
            extra = workbook.create_sheet("Hướng dẫn")
            extra.cell(1, 1, "Tệp này gồm danh sách công dân")
        else:
            workbook.create_sheet("Trống")
    buffer = io.BytesIO()
    workbook.save(buffer)
    out = buffer.getvalue()
    if draw(st.booleans()):  # no <dimension> element
        source = zipfile.ZipFile(io.BytesIO(out))
        rebuilt = io.BytesIO()
        with zipfile.ZipFile(rebuilt, "w") as target:
            for item in source.infolist():
                content = source.read(item.filename)
                if item.filename.startswith("xl/worksheets/"):
                    content = re.sub(rb"<dimension[^>]*/>", b"", content)
                target.writestr(item, content)
        out = rebuilt.getvalue()
    if draw(st.integers(0, 9)) == 0:
        out = draw(byte_mutation(out))
    return out


@st.composite
def mutated_folder(draw: st.DrawFn, source: Source) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for name, data in source.files.items():
        for copy in range(draw(st.integers(1, 2))):
            target = name if copy == 0 else name.replace(".", f"_{copy}.", 1)
            files[target] = draw(xlsx_mutation(data) if name.endswith(".xlsx") else csv_mutation(data))
    return files


# ---------------------------------------------------------------- the properties


def _write(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def _assert_accounted(root: Path, files: dict[str, bytes]) -> None:
    night = ingest_night(root / "population_base.parquet", root / "extracts", as_of=NIGHT)
    for part in (night.base, night.extracts):
        part.check_counts()
        validate_canonical(part.accepted)
    reported = set(night.extracts.files["source_file"].str.replace(r"\[.*\]$", "").to_list())
    assert reported == set(files)
    assert night.extracts.quarantine["reason"].null_count() == 0
    normalized = normalize_records(night.extracts.accepted, as_of=NIGHT)
    assert normalized.height == night.extracts.accepted.height
    assert normalized["record_id"].equals(night.extracts.accepted["record_id"])


def test_mutated_files_are_accounted_for(source: Source) -> None:
    @settings(max_examples=FILE_EXAMPLES, **PROFILE)  # type: ignore[arg-type]
    @given(mutated_folder(source))
    def run(files: dict[str, bytes]) -> None:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            (root / "population_base.parquet").write_bytes(source.base)
            _write(root / "extracts", files)
            _assert_accounted(root, files)

    run()


def test_a_whole_night_over_mutated_files(source: Source) -> None:
    @settings(max_examples=NIGHT_EXAMPLES, **PROFILE)  # type: ignore[arg-type]
    @given(mutated_folder(source))
    def run(files: dict[str, bytes]) -> None:
        root = Path(tempfile.mkdtemp())
        try:
            (root / "in").mkdir()
            (root / "in" / "population_base.parquet").write_bytes(source.base)
            _write(root / "in" / "extracts" / NIGHT.isoformat(), files)
            outcome = run_nightly(root / "in", root / "out", NIGHT.isoformat(), log_level="CRITICAL")
            assert outcome.success, outcome
            stage = root / "out" / "nights" / NIGHT.isoformat()
            report = pl.read_parquet(stage / "ingest_files.parquet")
            assert (report["rows_read"] == report["rows_accepted"] + report["rows_quarantined"]).all()
            stored = sum(
                output_frame(root / "out", NIGHT.isoformat(), name).height
                for name in ("population_base", "extract_records", "ingest_quarantine")
            )
            assert report["rows_read"].sum() == stored
            assert set(report["source_file"].str.replace(r"\[.*\]$", "").to_list()) >= set(files)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    run()
