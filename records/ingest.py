"""Ingest: extract files (CSV / XLSX / Parquet) and the population base into the canonical person record.

Every input row ends in exactly one of two places: the canonical table, or the quarantine table with the file, row,
field and a Vietnamese reason. Nothing is dropped silently, so for every file ``read = accepted + quarantined``.
A file that cannot be used at all (undecodable, no header row, an unknown or unnamed column, a missing required
column, an unrecognized name) has all its rows quarantined with that reason, or, when not even its rows can be read,
one quarantine entry for the file that counts as one unit read. Either way the night goes on.

What real exports carry is handled where a person would expect it: UTF-8 (with or without BOM, or with a few
damaged bytes), UTF-16, Windows-1258 and legacy-font text; comma, semicolon, tab or bar delimiters; CR, LF or CRLF
line endings; a quote left open (that line is quarantined, the next lines are read again); a title above the header,
a table that starts in column B, empty layout columns and an ``STT`` row-number column; in workbooks, a sheet
without a ``<dimension>``, merged cells (the merged value fills the whole area) and formulas (their cached value is
used; a formula Excel never calculated quarantines its row). Every such repair is listed in the file's
``warnings`` in ``ingest_files``.

Row numbers are those a person sees: the line of a CSV file and the row of a sheet (header = 1 when it is on top).
Record ids are unique within a source, not across sources.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from normalize.ids import FORMAT_CHARACTERS
from normalize.text import fix_legacy_encoding
from records.mappings import SourceMapping, all_mappings, header_key, source_for_file, value_key
from records.schema import CANONICAL_COLUMNS, CANONICAL_SCHEMA, REQUIRED_COLUMNS, SEX_VALUES, missing_optional
from records.values import ValueProblem, canonical_date, canonical_digits, excel_serial_to_date, number_as_id

__all__ = [
    "EXTRACT_SUFFIXES",
    "FILE_REPORT_SCHEMA",
    "QUARANTINE_SCHEMA",
    "IdRegistry",
    "IngestError",
    "IngestResult",
    "NightInput",
    "decode_bytes",
    "ingest_base",
    "ingest_base_rows",
    "ingest_extracts",
    "ingest_file",
    "ingest_night",
    "read_person_file",
]

EXTRACT_SUFFIXES: Final = (".csv", ".xlsx", ".txt")
DATE_COLUMNS: Final = tuple(c for c in CANONICAL_SCHEMA if c.endswith("_date"))
ID_LENGTHS: Final = {"person_id": (12,), "card_number": (12,), "old_id_number": (9, 12)}
ID_LABELS: Final = {"person_id": "person_id", "card_number": "card_number", "old_id_number": "số CMND"}
# Columns that hold codes, never text typed in words: invisible characters in them are always damage.
CODE_COLUMNS: Final = ("record_id", "household_id", *ID_LENGTHS)
LINEAGE: Final = ("source_file", "source_row")
BASE_LABEL: Final = "CSDL dân cư"
# How far down a file the header row is looked for, and how many lines one quoted cell may span before its
# quote is taken to be left open.
HEADER_SEARCH_ROWS: Final = 30
MAX_LINES_PER_CELL: Final = 50

QUARANTINE_SCHEMA: Final = pl.Schema(
    {
        "source_file": pl.String,
        "source_row": pl.Int64,
        "source": pl.String,
        "field": pl.String,
        "reason": pl.String,
        "raw_values": pl.String,
    }
)
FILE_REPORT_SCHEMA: Final = pl.Schema(
    {
        "source_file": pl.String,
        "source": pl.String,
        "encoding": pl.String,
        "rows_read": pl.Int64,
        "rows_accepted": pl.Int64,
        "rows_quarantined": pl.Int64,
        "error": pl.String,
        "warnings": pl.String,
    }
)

_SEX_LOOKUP: Final = {
    "nam": "Nam",
    "m": "Nam",
    "male": "Nam",
    "trai": "Nam",
    "nu": "Nữ",
    "f": "Nữ",
    "female": "Nữ",
    "gai": "Nữ",
}
_LABELS: Final = {c.name: c.vietnamese.split(":")[0].split(" (")[0] for c in CANONICAL_COLUMNS}
_FORMAT_RE: Final = re.compile(FORMAT_CHARACTERS)
_REPLACEMENT: Final = "\ufffd"


class IngestError(Exception):
    """A documented ingest failure, naming the file, row and field."""

    def __init__(
        self, file: str, reason: str, *, row: int | None = None, field: str | None = None, header_row: int | None = None
    ) -> None:
        self.file, self.row, self.field, self.reason = file, row, field, reason
        self.header_row = header_row  # the file's header row, when it was found (it is not data)
        where = file + (f", dòng {row}" if row is not None else "") + (f", cột '{field}'" if field else "")
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class IngestResult:
    accepted: pl.DataFrame
    quarantine: pl.DataFrame
    files: pl.DataFrame

    @property
    def rows_read(self) -> int:
        return int(self.files["rows_read"].sum())

    def check_counts(self) -> None:
        """Assert read = accepted + quarantined, per file and in total; a mismatch is a bug, never data."""
        for row in self.files.iter_rows(named=True):
            if row["rows_read"] != row["rows_accepted"] + row["rows_quarantined"]:
                raise AssertionError(f"{row['source_file']}: read {row['rows_read']} != accepted + quarantined")
        if self.rows_read != self.accepted.height + self.quarantine.height:
            raise AssertionError(
                f"read {self.rows_read} != accepted {self.accepted.height} + quarantined {self.quarantine.height}"
            )

    @staticmethod
    def combine(results: Iterable[IngestResult]) -> IngestResult:
        parts = list(results)
        return IngestResult(
            accepted=pl.concat([p.accepted for p in parts]) if parts else pl.DataFrame(schema=CANONICAL_SCHEMA),
            quarantine=(pl.concat([p.quarantine for p in parts]) if parts else pl.DataFrame(schema=QUARANTINE_SCHEMA)),
            files=pl.concat([p.files for p in parts]) if parts else pl.DataFrame(schema=FILE_REPORT_SCHEMA),
        )


class IdRegistry:
    """The record ids accepted so far tonight, per source, with the file and row of each (ids are unique within a
    source only: the same id in two sources names two different records)."""

    def __init__(self) -> None:
        self._seen: dict[str, pl.DataFrame] = {}

    def seen(self, source: str) -> pl.DataFrame:
        """``record_id, _first_file, _first_row`` of the ids of ``source`` accepted so far."""
        return self._seen.get(
            source, pl.DataFrame(schema={"record_id": pl.String, "_first_file": pl.String, "_first_row": pl.String})
        )

    def add(self, source: str, accepted: pl.DataFrame) -> None:
        new = accepted.select(
            "record_id", pl.col("source_file").alias("_first_file"), pl.col("source_row").alias("_first_row")
        )
        self._seen[source] = pl.concat([self.seen(source), new])

    def copy(self) -> IdRegistry:
        other = IdRegistry()
        other._seen = dict(self._seen)
        return other


# ---------------------------------------------------------------- decoding


def decode_bytes(data: bytes, file: str) -> tuple[str, str]:
    """Decode an extract's bytes; returns (text, encoding name).

    UTF-8 (with or without BOM) and UTF-16 (with a BOM, or recognized by its zero bytes) are taken as they are.
    UTF-8 with a few damaged bytes stays UTF-8 (``utf-8 (hỏng)``): the damaged characters become U+FFFD and
    only the rows holding them are quarantined, instead of the whole file being misread as another code page.
    Any other 8-bit text is either Windows-1258 (Vietnamese with combining tone marks) or a legacy font encoding
    (TCVN3/VNI) saved as Windows-1252; the two are told apart by whether cp1258's combining marks land on vowels.
    Legacy text stays as decoded here: repairing it per column is the normalizer's job, which keeps the original
    beside the repair.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise IngestError(
                file, f"tệp UTF-16 bị hỏng, không giải mã được ({error.reason}); xuất lại tệp và gửi lại"
            ) from None
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return utf16
        raise IngestError(
            file,
            "tệp không phải văn bản (có byte NUL): có thể là tệp nén, tệp Excel cũ (.xls) hoặc tệp bị hỏng; "
            "xuất lại dưới dạng CSV (UTF-8) hoặc .xlsx",
        )
    try:
        return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass  # not clean UTF-8: damaged UTF-8, or one of the 8-bit code pages, told apart below
    damaged = data.decode("utf-8-sig", errors="replace")
    non_ascii = len(damaged) - len(damaged.encode("ascii", errors="ignore"))  # characters above U+007F
    bad = damaged.count(_REPLACEMENT)
    if non_ascii > bad and bad <= max(2, 0.05 * non_ascii):
        return damaged, "utf-8 (hỏng)"
    as_1258 = data.decode("cp1258", errors="replace")
    if _looks_like_cp1258(as_1258):
        return unicodedata.normalize("NFC", as_1258), "cp1258"
    return data.decode("cp1252", errors="strict") if _cp1252_ok(data) else data.decode("latin-1"), "cp1252"


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 text saved without a BOM: ASCII-range characters leave a zero byte on one side of every pair."""
    even, odd = data[0::2], data[1::2]
    if len(data) < 4 or len(data) % 2:
        return None
    for zeros, name in ((odd, "utf-16-le"), (even, "utf-16-be")):
        if zeros.count(0) > 0.3 * len(zeros) and (even if zeros is odd else odd).count(0) < 0.05 * len(zeros):
            try:
                return data.decode(name), name
            except UnicodeDecodeError:
                return None
    return None


def _cp1252_ok(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


_VOWELS: Final = set("aăâeêioôơuưyAĂÂEÊIOÔƠUƯY")
_TONE_MARKS: Final = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


_TONE_MARK_RE: Final = re.compile("[" + "".join(sorted(_TONE_MARKS)) + "]")
_TONE_ON_VOWEL_RE: Final = re.compile("(?<=[" + "".join(sorted(_VOWELS)) + "])[" + "".join(sorted(_TONE_MARKS)) + "]")


def _looks_like_cp1258(text: str) -> bool:
    """Whether the combining tone marks (after the first character) mostly follow a vowel, as Windows-1258's do."""
    marks = len(_TONE_MARK_RE.findall(text, 1))
    on_vowel = len(_TONE_ON_VOWEL_RE.findall(text, 1))
    off_vowel = marks - on_vowel
    return on_vowel > 0 and off_vowel <= on_vowel * 0.02


# ---------------------------------------------------------------- reading into a grid of cells


@dataclass
class _Grid:
    """The cells of one CSV file or one sheet, by the row number a person sees, before any header is known."""

    name: str
    kind: str  # "csv" or "xlsx"
    encoding: str
    rows: list[tuple[int, list[Any]]]
    broken: list[tuple[int, str, str]] = field(default_factory=list)  # (row, reason, raw text): unreadable lines
    row_problems: dict[int, str] = field(default_factory=dict)  # row -> why its values cannot be trusted
    notes: list[str] = field(default_factory=list)


_LINES: Final = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class _OpenQuote(Exception):
    """A quoted cell ran over more lines than a real cell has."""


def _csv_records(text: str, delimiter: str) -> tuple[list[tuple[int, list[str]]], list[tuple[int, str, str]]]:
    """(first line number, fields) of every record, and the lines that are not CSV.

    Parsing is strict: a quote left open (or text after a closing quote) makes the line where that record started
    unreadable; it is set aside and reading starts again on the next line, so one stray quote never swallows the
    rows after it.
    """
    lines = _LINES.findall(text)
    records: list[tuple[int, list[str]]] = []
    broken: list[tuple[int, str, str]] = []
    position = 0
    while position < len(lines):
        start = [position]  # first line of the record being read

        def feed(first: int, start: list[int] = start) -> Iterator[str]:
            for number in range(first, len(lines)):
                if number - start[0] >= MAX_LINES_PER_CELL:
                    raise _OpenQuote
                yield lines[number]

        reader = csv.reader(feed(position), delimiter=delimiter, strict=True)
        base = position
        try:
            for fields in reader:
                records.append((start[0] + 1, fields))
                start[0] = base + reader.line_num
            position = len(lines)
        except (csv.Error, _OpenQuote):
            reason = (
                'dấu ngoặc kép (") không đóng hoặc đặt sai chỗ: dòng này không đọc được theo CSV (các dòng sau nó '
                "vẫn được đọc)"
            )
            broken.append((start[0] + 1, reason + "; sửa dòng này trong tệp rồi gửi lại", lines[start[0]].rstrip()))
            position = start[0] + 1
    return records, broken


def _choose_delimiter(text: str, known_headers: dict[str, str]) -> str:
    """The delimiter under which some early line splits into the most known headers (then: the most fields)."""
    sample = "".join(_LINES.findall(text[:200_000])[:HEADER_SEARCH_ROWS])
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";", "\t", "|"):
        rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
        known = max(
            (sum(1 for cell in row if _header_key(cell) in known_headers) for row in rows),
            default=0,
        )
        widths = [len(row) for row in rows if row]
        score = (known, max(set(widths), key=widths.count) if widths else 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_grid(path: Path, display: str, known_headers: dict[str, str]) -> _Grid:
    text, encoding = decode_bytes(path.read_bytes(), display)
    if not text.strip():
        raise IngestError(display, "tệp rỗng, không có dòng tiêu đề và dữ liệu", row=1)
    delimiter = _choose_delimiter(text, known_headers)
    records, broken = _csv_records(text, delimiter)
    grid = _Grid(display, "csv", encoding, [(line, fields) for line, fields in records], broken)
    if delimiter != ",":
        grid.notes.append(f"dấu phân cách cột là {_DELIMITER_NAMES[delimiter]}")
    if encoding == "utf-8 (hỏng)":
        grid.notes.append("tệp UTF-8 có byte hỏng: các dòng chứa byte hỏng bị cách ly")
        for line, fields in records:
            if any(_REPLACEMENT in cell for cell in fields):
                grid.row_problems[line] = (
                    "dòng có byte không hợp lệ theo UTF-8 (ký tự hỏng '\ufffd'): tệp bị hỏng ở dòng này; "
                    "xuất lại tệp từ hệ thống nguồn rồi gửi lại"
                )
    return grid


_DELIMITER_NAMES: Final = {";": "dấu chấm phẩy (;)", "\t": "tab", "|": "dấu gạch đứng (|)", ",": "dấu phẩy (,)"}


def _xlsx_grids(path: Path, display: str) -> list[_Grid]:
    """Every sheet's cells (see :func:`_read_xlsx`); a workbook that cannot be read is one ``IngestError``."""
    try:
        return _read_xlsx(path, display)
    except IngestError:
        raise
    except Exception as error:  # a damaged archive fails anywhere inside the readers (zip, zlib, XML)
        raise IngestError(
            display,
            f"tệp Excel bị hỏng, không đọc được ({type(error).__name__}: {error}): mở bằng Excel, lưu lại dưới dạng "
            ".xlsx rồi gửi lại",
        ) from None


def _read_xlsx(path: Path, display: str) -> list[_Grid]:
    """Every sheet's cells, positioned as in Excel.

    Read with python-calamine (Rust calamine): it computes a sheet's extent from its cells, so a sheet without a
    ``<dimension>`` element is read whole, it keeps leading empty rows and columns (row numbers stay those Excel
    shows), and it reports merged areas. Formulas are looked at with openpyxl only in sheets that have some.
    """
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as error:
        raise IngestError(
            display,
            f"không mở được tệp Excel ({type(error).__name__}: {error}); tệp có thể bị hỏng hoặc không phải .xlsx: "
            "mở bằng Excel, lưu lại dưới dạng .xlsx rồi gửi lại",
        ) from None
    formulas = _formula_cells(path)
    grids: list[_Grid] = []
    try:
        names = list(workbook.sheet_names)
        for index, sheet_name in enumerate(names):
            sheet = workbook.get_sheet_by_index(index)
            cells = sheet.to_python(skip_empty_area=False)
            name = display if len(names) == 1 else f"{display}[{sheet_name}]"
            grid = _Grid(name, "xlsx", "xlsx", [])
            merged = list(sheet.merged_cell_ranges or [])
            for (top, left), (bottom, right) in merged:
                value = cells[top][left] if top < len(cells) and left < len(cells[top]) else ""
                for r in range(top, min(bottom, len(cells) - 1) + 1):
                    row = cells[r]
                    row.extend([""] * (right + 1 - len(row)))
                    for c in range(left, right + 1):
                        row[c] = value
            if merged:
                grid.notes.append(f"{len(merged)} vùng ô gộp: giá trị của ô đầu được điền cho cả vùng")
            uncalculated = 0
            for (r, c), formula in formulas.get(index, {}).items():
                value = cells[r][c] if r < len(cells) and c < len(cells[r]) else ""
                if value in ("", None):
                    uncalculated += 1
                    grid.row_problems.setdefault(
                        r + 1,
                        f"ô {_column_letter(c)}{r + 1} là công thức chưa được tính ({formula}): mở tệp bằng Excel, "
                        "lưu lại để Excel tính công thức rồi gửi lại",
                    )
            if uncalculated:
                grid.notes.append(f"{uncalculated} ô công thức chưa có giá trị tính sẵn")
            grid.rows = [(r + 1, [None if v == "" else v for v in row]) for r, row in enumerate(cells)]
            grids.append(grid)
    finally:
        workbook.close()
    return grids


def _formula_cells(path: Path) -> dict[int, dict[tuple[int, int], str]]:
    """sheet index -> (row, column) (0-based) -> formula, for the sheets whose XML holds a formula element."""
    try:
        with zipfile.ZipFile(path) as archive:
            candidates = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
            has_formula = any(re.search(rb"<(?:\w+:)?f[ >/]", archive.read(n)) for n in candidates)
    except (zipfile.BadZipFile, OSError, KeyError):
        return {}
    if not has_formula:
        return {}
    from openpyxl import load_workbook

    found: dict[int, dict[tuple[int, int], str]] = {}
    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        for index, sheet in enumerate(workbook.worksheets):
            for row in sheet.iter_rows():
                for cell in row:
                    value = getattr(cell, "value", None)
                    if isinstance(value, str) and value.startswith("=") and getattr(cell, "data_type", "") == "f":
                        found.setdefault(index, {})[(cell.row - 1, cell.column - 1)] = value
    finally:
        workbook.close()
    return found


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


# ---------------------------------------------------------------- finding the table in a grid


@dataclass
class _Table:
    name: str
    encoding: str
    header: list[str]  # header text of the kept columns
    columns: list[str]  # their canonical names
    positions: list[int]  # their positions in the grid's rows
    rows: list[tuple[int, list[Any], list[Any]]]  # (row, cells of the kept columns, cells of the whole row)
    bad: list[tuple[int, str | None, str, str]]  # (row, field, reason, raw JSON)
    notes: list[str]
    raw_header: list[str]  # the names of every column of a whole row, for its raw JSON (see ``raw_json``)

    def raw_json(self, positions: Iterable[int]) -> list[str]:
        """The raw JSON of the rows at ``positions`` in ``rows``: made for the rows quarantined only, since an
        accepted row never shows it (a night's 100,000 extract rows would be serialized for a few hundred)."""
        return [_raw_json(self.raw_header, self.rows[p][2]) for p in positions]


@functools.lru_cache(maxsize=65536, typed=True)
def _header_key(cell: Any) -> str:
    """Match key of a header cell. Cached: the header search and the delimiter choice ask for the same cells of the
    first rows many times (typed, so that 1, 1.0 and True each keep their own text)."""
    if cell is None:
        return ""
    repaired, _ = fix_legacy_encoding(_FORMAT_RE.sub("", str(cell)).strip())
    return header_key(repaired)


def _blank(cell: Any) -> bool:
    if cell is None:
        return True
    if not isinstance(cell, str):
        return False
    # ASCII text holds no format character: only other text needs the substitution.
    return not (cell if cell.isascii() else _FORMAT_RE.sub("", cell)).strip()


def _preview(cells: list[Any], limit: int = 80) -> str:
    text = " | ".join(str(c).strip() for c in cells if not _blank(c))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _raw_json(header: list[str], cells: list[Any]) -> str:
    if len(cells) == len(header):
        if all(type(c) is str or c is None for c in cells):  # CSV rows: nothing to convert
            return json.dumps(dict(zip(header, cells, strict=True)), ensure_ascii=False)
        return json.dumps(dict(zip(header, map(_json_cell, cells), strict=True)), ensure_ascii=False)
    return json.dumps([_json_cell(c) for c in cells], ensure_ascii=False)


@dataclass(frozen=True)
class _Vocabulary:
    """What a table of one source may hold: header key -> canonical column, ignorable header keys, labels."""

    source: str
    label: str
    lookup: dict[str, str]
    ignored: frozenset[str]
    examples: tuple[str, ...]
    aliases: Callable[[str], str]
    mapping_file: str | None
    known_columns: tuple[str, ...]  # the canonical columns a file of this source may have


def _vocabulary(mapping: SourceMapping) -> _Vocabulary:
    return _Vocabulary(
        source=mapping.source,
        label=mapping.label,
        lookup=mapping.header_lookup,
        ignored=frozenset(header_key(h) for h in mapping.ignored_headers),
        examples=tuple(mapping.columns[c][0] for c in REQUIRED_COLUMNS if c in mapping.columns),
        aliases=lambda column: mapping.columns[column][0] if column in mapping.columns else column,
        mapping_file=f"records/mappings/{mapping.source}.toml",
        known_columns=tuple(mapping.columns),
    )


def _base_vocabulary() -> _Vocabulary:
    lookup = {header_key(name): name for name in CANONICAL_SCHEMA}
    return _Vocabulary(
        source="base",
        label=BASE_LABEL,
        lookup=lookup,
        ignored=frozenset({"stt"}),
        examples=REQUIRED_COLUMNS,
        aliases=lambda column: column,
        mapping_file=None,
        known_columns=tuple(CANONICAL_SCHEMA),
    )


def _locate(grid: _Grid, vocabulary: _Vocabulary) -> _Table:
    """Find the header row and the columns of the table in ``grid``; raise ``IngestError`` saying what is wrong
    with the file (and what to do) when there is no usable table."""
    content = [(number, cells) for number, cells in grid.rows if not all(_blank(c) for c in cells)]
    if not content:
        raise IngestError(grid.name, "tệp/trang tính không có dòng nào có nội dung", row=1)
    best: tuple[int, int] | None = None  # (known headers, index in content)
    for index, (_, cells) in enumerate(content[:HEADER_SEARCH_ROWS]):
        known = sum(1 for cell in cells if _header_key(cell) in vocabulary.lookup)
        if known and (best is None or known > best[0]):
            best = (known, index)
    first_number, first_cells = content[0]
    if best is None or (best[0] < 2 and len([c for c in content[best[1]][1] if not _blank(c)]) > 1):
        hint = ""
        if any(_REPLACEMENT in str(c) for c in first_cells) or grid.encoding in ("cp1252", "utf-8 (hỏng)"):
            hint = f" Tệp có vẻ sai bảng mã (đọc theo {grid.encoding}): lưu lại tệp dưới dạng CSV UTF-8."
        raise IngestError(
            grid.name,
            f"không tìm thấy dòng tiêu đề trong {min(len(content), HEADER_SEARCH_ROWS)} dòng đầu: tệp cần một dòng "
            f"tiêu đề với các cột của nguồn {vocabulary.label} (ví dụ: "
            + ", ".join(f"'{e}'" for e in vocabulary.examples)
            + f"). Dòng có nội dung đầu tiên (dòng {first_number}): '{_preview(first_cells)}'. Kiểm tra đây có đúng "
            f"là tệp trích xuất {vocabulary.label} không, rồi xuất lại kèm dòng tiêu đề.{hint}",
            row=first_number,
        )
    header_index = best[1]
    header_number, header_cells = content[header_index]
    notes = list(grid.notes)
    above = content[:header_index]
    if above:
        notes.append(
            f"bỏ qua {len(above)} dòng phía trên dòng tiêu đề (dòng {header_number}): "
            + "; ".join(f"dòng {n}: '{_preview(c, 60)}'" for n, c in above[:3])
        )
    data = [(n, cells) for n, cells in grid.rows if n > header_number]
    # A sheet's columns are its extent (an unnamed column with data is a layout problem of the file); a CSV line's
    # fields beyond the header are a problem of that line only.
    width = max([len(header_cells), *(len(cells) for _, cells in data)]) if grid.kind == "xlsx" else len(header_cells)
    header_text = [_FORMAT_RE.sub("", str(c)).strip() if not _blank(c) else "" for c in header_cells]
    header_text += [""] * (width - len(header_text))
    positions: list[int] = []
    columns: list[str] = []
    kept_header: list[str] = []
    for position, text in enumerate(header_text):
        letter = _column_letter(position)
        if not text:
            filled = [n for n, cells in data if position < len(cells) and not _blank(cells[position])]
            if filled:
                raise IngestError(
                    grid.name,
                    f"cột {letter} có dữ liệu ({len(filled)} dòng, đầu tiên ở dòng {filled[0]}) nhưng ô tiêu đề "
                    f"(dòng {header_number}) để trống: đặt tiêu đề cho cột hoặc xóa cột rồi gửi lại tệp",
                    row=header_number,
                    header_row=header_number,
                    field=letter,
                )
            continue
        key = _header_key(text)
        if key in vocabulary.ignored:
            notes.append(f"bỏ qua cột số thứ tự '{text}' (cột {letter})")
            continue
        column = vocabulary.lookup.get(key)
        if column is None:
            if _REPLACEMENT in text:
                reason = (
                    f"tiêu đề cột {letter} '{text}' có ký tự hỏng: tệp sai bảng mã hoặc bị hỏng "
                    f"(đọc theo {grid.encoding}); lưu lại tệp dưới dạng CSV UTF-8 hoặc .xlsx rồi gửi lại"
                )
            elif vocabulary.mapping_file is None:
                reason = (
                    f"cột '{text}' (cột {letter}) không thuộc lược đồ chuẩn của {vocabulary.label}: đổi tên theo "
                    "lược đồ (README, mục Lược đồ chuẩn) hoặc xóa cột rồi gửi lại tệp"
                )
            else:
                reason = (
                    f"cột '{text}' (cột {letter}) không có trong bảng ánh xạ của nguồn {vocabulary.label}: nếu là "
                    f"cột mới của hệ thống nguồn, thêm tên này vào {vocabulary.mapping_file}; nếu gõ nhầm, sửa "
                    "tiêu đề rồi gửi lại tệp"
                )
            raise IngestError(grid.name, reason, row=header_number, header_row=header_number, field=text)
        if column in columns:
            first = kept_header[columns.index(column)]
            raise IngestError(
                grid.name,
                f"hai cột '{first}' và '{text}' cùng là {_LABELS.get(column, column)} ({column}): xóa một cột rồi "
                "gửi lại tệp",
                row=header_number,
                header_row=header_number,
                field=text,
            )
        positions.append(position)
        columns.append(column)
        kept_header.append(text)
    first_named = next((i for i, text in enumerate(header_text) if text), 0)
    if first_named > 0:
        notes.append(f"bảng bắt đầu ở cột {_column_letter(first_named)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        names = ", ".join(f"'{vocabulary.aliases(c)}' ({_LABELS.get(c, c)})" for c in missing)
        raise IngestError(
            grid.name,
            f"thiếu cột bắt buộc {names}: không có cột này thì không ghép nối được bản ghi; xuất lại tệp có cột này",
            row=header_number,
            header_row=header_number,
            field=vocabulary.aliases(missing[0]),
        )
    absent = [c for c in missing_optional(columns) if c in vocabulary.known_columns]
    if absent:
        notes.append(f"{len(absent)} cột không có trong tệp (để trống): " + ", ".join(absent))
    rows: list[tuple[int, list[Any], list[Any]]] = []
    bad: list[tuple[int, str | None, str, str]] = []
    for number, reason, raw in grid.broken:
        if number > header_number:
            bad.append((number, None, reason, json.dumps(raw, ensure_ascii=False)))
    full_header = [t or _column_letter(i) for i, t in enumerate(header_text)]
    last = positions[-1] if positions else -1
    for number, cells in data:
        if all(_blank(c) for c in cells):
            continue  # blank lines are layout, not data
        whole = cells if len(cells) >= len(full_header) else cells + [None] * (len(full_header) - len(cells))
        extra = [c for c in cells[len(header_text) :] if not _blank(c)]
        if (grid.kind == "csv" and len(cells) < last + 1) or extra:
            reason = (
                f"dòng có {len(cells)} trường, dòng tiêu đề có {len(header_cells)}: thiếu hoặc thừa dấu phân cách "
                "(có thể ô chứa dấu phân cách mà không đặt trong ngoặc kép); sửa dòng rồi gửi lại"
            )
            bad.append((number, None, reason, json.dumps([_json_cell(c) for c in cells], ensure_ascii=False)))
            continue
        if number in grid.row_problems:
            bad.append((number, None, grid.row_problems[number], _raw_json(full_header, whole)))
            continue
        values = [cells[p] if p < len(cells) else None for p in positions]
        rows.append((number, values, whole))
    bad.sort(key=lambda b: b[0])
    return _Table(grid.name, grid.encoding, kept_header, columns, positions, rows, bad, notes, full_header)


# ---------------------------------------------------------------- cell conversion


def _cell_text(cell: Any, column: str) -> str | None:
    """Text of one cell as the canonical column wants it, undoing Excel's habits (dates as serials, IDs as numbers)."""
    if cell is None:
        return None
    if type(cell) is str:  # every CSV cell and most sheet cells: the other types are Excel's
        if column in CODE_COLUMNS:
            cell = unicodedata.normalize("NFKC", _FORMAT_RE.sub("", cell))
        return cell.strip().lstrip("\ufeff").strip() or None
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, dt.time | dt.timedelta):
        return str(cell)
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, int | float):
        if column in DATE_COLUMNS:
            return excel_serial_to_date(float(cell)).isoformat()
        if column in ID_LENGTHS:
            return number_as_id(cell, ID_LENGTHS[column])
        if float(cell).is_integer():
            return str(int(cell))
        return repr(cell)
    text = str(cell)
    if column in CODE_COLUMNS:
        text = unicodedata.normalize("NFKC", _FORMAT_RE.sub("", text))
    text = text.strip().lstrip("\ufeff").strip()
    return text or None


def _column_text(cells: Iterable[Any], column: str) -> list[str | None]:
    """``_cell_text`` of every cell of one column. A column of text cells only (every CSV column, most sheet
    columns) takes the same steps in one comprehension instead of one call per cell."""
    cells = list(cells)
    if not set(map(type, cells)) <= _TEXT_CELL_TYPES:
        return [_cell_text(c, column) for c in cells]
    if column in CODE_COLUMNS:
        # ASCII text holds no format character and is its own NFKC form: only the other cells need both steps.
        nfkc, format_re = unicodedata.normalize, _FORMAT_RE
        return [
            None
            if c is None
            else ((c if c.isascii() else nfkc("NFKC", format_re.sub("", c))).strip().lstrip("\ufeff").strip() or None)
            for c in cells
        ]
    return [None if c is None else (c.strip().lstrip("\ufeff").strip() or None) for c in cells]


_TEXT_CELL_TYPES: Final = frozenset({str, type(None)})


def _json_cell(cell: Any) -> Any:
    if isinstance(cell, dt.date | dt.datetime | dt.time):
        return cell.isoformat()
    if isinstance(cell, dt.timedelta):
        return str(cell)
    return cell


# ---------------------------------------------------------------- validation


def _unique_map(values: pl.Series, convert: Any) -> tuple[dict[str, str], dict[str, str]]:
    ok: dict[str, str] = {}
    bad: dict[str, str] = {}
    for value in values.drop_nulls().unique().to_list():
        try:
            ok[value] = convert(value)
        except ValueProblem as problem:
            bad[value] = str(problem)
    return ok, bad


_FAST_DATE_FORMS: Final = (
    (r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$", "day first"),
    (r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$", "year first"),
    (r"^ngày ([0-9]{1,2}) tháng ([0-9]{1,2}) năm ([0-9]{4})$", "day first"),
    (r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4}) [0-9]{1,2}:[0-9]{2}:[0-9]{2} [AP]M$", "US"),
)
"""The shapes nearly every date of an extract has (``dd/mm/yyyy``, ISO and Excel's date cells, the spelled-out
``ngày 05 tháng 03 năm 1990``, a US export's ``3/15/1990 12:00:00 AM``: month first when it can be a month), with
ASCII digits and single spaces exactly as ``normalize.dates.parse_date`` reads them."""


def _date_without_python(column: str) -> pl.Expr:
    """``canonical_date`` of the values in one of ``_FAST_DATE_FORMS`` that name a valid day of a year the parser
    accepts (1850-2200): that day as ``yyyy-mm-dd``, whatever the night (a four-digit year has no century to
    guess). Null for every other value, which goes to ``canonical_date``: partial dates such as 00/00/1950,
    impossible days, other shapes and spacings. ``tests/ingest/test_dates_without_python.py`` compares the two."""
    value = pl.col(column)
    candidates = []
    for pattern, order in _FAST_DATE_FORMS:
        groups = value.str.extract_groups(pattern)
        first, second, third = (groups.struct.field(str(k)) for k in (1, 2, 3))
        if order == "year first":
            year, month, day = first, second, third
        elif order == "day first":
            day, month, year = first, second, third
        else:
            month_first = first.cast(pl.Int32) <= 12
            month = pl.when(month_first).then(first).otherwise(second)
            day = pl.when(month_first).then(second).otherwise(first)
            year = third
        candidates.append(year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2))
    iso = pl.coalesce(candidates)
    valid = iso.str.to_date("%Y-%m-%d", strict=False).is_not_null() & iso.str.slice(0, 4).cast(pl.Int32).is_between(
        1850, 2200
    )
    return pl.when(valid).then(iso)


def _as_is_pattern(column: str) -> str | None:
    """The values of ``column`` its converter returns unchanged, as a regex (None: no such shortcut): an identifier
    already made of ASCII digits only, of a valid length (``canonical_digits`` returns it as it is: nothing to undo,
    no number form, no zero to put back). A base of 1,000,000 people brings about as many distinct personal IDs and
    card numbers, converted one by one in Python otherwise."""
    if column in ID_LENGTHS:
        return "^(?:" + "|".join(f"[0-9]{{{n}}}" for n in ID_LENGTHS[column]) + ")$"
    return None


def _coded_lookup(column: str, mapping: SourceMapping | None) -> dict[str, str] | None:
    if column == "sex":
        lookup = dict(_SEX_LOOKUP)
        lookup.update({value_key(v): v for v in SEX_VALUES})
        return lookup
    if mapping is not None and column in mapping.values:
        return mapping.value_lookup(column)
    return None


def _convert_coded(lookup: dict[str, str], column: str) -> Any:
    allowed = ", ".join(sorted(set(lookup.values())))

    def convert(value: str) -> str:
        repaired, _ = fix_legacy_encoding(value)
        found = lookup.get(value_key(repaired))
        if found is None:
            raise ValueProblem(f"giá trị '{value}' không hợp lệ cho {column} (hợp lệ: {allowed})")
        return found

    return convert


def _converter(column: str, mapping: SourceMapping | None, as_of: dt.date | None) -> Any:
    if column in DATE_COLUMNS:
        return lambda value: canonical_date(value, as_of=as_of)
    if column in ID_LENGTHS:
        lengths, what = ID_LENGTHS[column], ID_LABELS[column]
        return lambda value: canonical_digits(value, lengths, what)
    if (lookup := _coded_lookup(column, mapping)) is not None:
        return _convert_coded(lookup, column)
    return None


RawJson = Callable[[list[int]], list[str]]
"""Rows of a frame being validated (their positions in it) -> their raw JSON, for the quarantine's ``raw_values``."""


def _validate(
    frame: pl.DataFrame,
    raw_json: RawJson,
    *,
    source: str,
    label: str,
    mapping: SourceMapping | None,
    registry: IdRegistry,
    as_of: dt.date | None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonicalize values column by column; rows with any problem go to quarantine with every reason listed."""
    problems: list[pl.Expr] = []  # a (field, reason) struct where the row has that problem, else null
    conditions: list[pl.Expr] = []  # where each of them applies
    replacements: list[pl.Expr] = []
    for column in frame.columns:
        if column in LINEAGE or column == "source":
            continue
        convert = _converter(column, mapping, as_of)
        if convert is None:
            continue
        values = frame[column]
        as_is = _as_is_pattern(column) if values.dtype == pl.String else None
        if column in DATE_COLUMNS and values.dtype == pl.String:
            # The common shapes of the distinct dates without a Python call each; only the rest go through the
            # converter (a night's extract has tens of thousands of distinct birth dates).
            distinct = values.drop_nulls().unique()
            fast = distinct.to_frame(column).select(_date_without_python(column)).to_series()
            ok, bad = _unique_map(distinct.filter(fast.is_null()), convert)
            old = pl.concat([distinct.filter(fast.is_not_null()), pl.Series(list(ok), dtype=pl.String)])
            new = pl.concat([fast.drop_nulls(), pl.Series(list(ok.values()), dtype=pl.String)])
            replaced = pl.col(column).replace_strict(old, new, default=None, return_dtype=pl.String)
        elif as_is is None:
            ok, bad = _unique_map(values, convert)
            replaced = pl.col(column).replace_strict(ok, default=None, return_dtype=pl.String)
        else:
            # Only the other values go through the converter; the canonical ones stay as they are.
            ok, bad = _unique_map(values.filter(~values.str.contains(as_is)), convert)
            replaced = (
                pl.when(pl.col(column).str.contains(as_is))
                .then(pl.col(column))
                .otherwise(pl.col(column).replace_strict(ok, default=None, return_dtype=pl.String))
            )
        replacements.append(replaced.alias(column))
        if bad:
            conditions.append(pl.col(column).is_in(list(bad)))
            problems.append(
                pl.when(conditions[-1]).then(
                    pl.struct(
                        pl.lit(column).alias("field"), pl.col(column).replace_strict(bad, default=None).alias("reason")
                    )
                )
            )
    conditions.append(pl.col("record_id").is_null())
    problems.append(
        pl.when(conditions[-1]).then(
            pl.struct(pl.lit("record_id").alias("field"), pl.lit("thiếu mã bản ghi").alias("reason"))
        )
    )
    # A record with neither a name nor any identifier cannot be matched to anyone; one that lacks only its name
    # still can (by its ID) and stays, for the completeness checks to report.
    identifiers = [c for c in ("full_name", *ID_LENGTHS) if c in frame.columns]
    conditions.append(pl.all_horizontal([pl.col(c).is_null() for c in identifiers]))
    problems.append(
        pl.when(conditions[-1]).then(
            pl.struct(
                pl.lit("full_name").alias("field"),
                pl.lit("thiếu họ tên và mọi số giấy tờ: bản ghi không ghép nối được với ai").alias("reason"),
            )
        )
    )
    # The list of problems is built for the rows that have one only (a night's rows mostly have none).
    checked = frame.with_columns(
        _position=pl.int_range(pl.len(), dtype=pl.Int64),
        _has_problem=pl.any_horizontal(c.fill_null(False) for c in conditions),
    )
    checked = _mark_duplicates(checked, registry.seen(source), label)
    is_bad = pl.col("_has_problem") | pl.col("_duplicate").is_not_null()
    bad_rows = checked.filter(is_bad).with_columns(_problems=pl.concat_list(problems).list.drop_nulls())
    bad_rows = bad_rows.with_columns(
        pl.Series("_raw", raw_json(bad_rows.get_column("_position").to_list()), dtype=pl.String)
    )
    good_rows = checked.filter(~is_bad).with_columns(replacements).drop("_position", "_has_problem", "_duplicate")
    quarantine = bad_rows.select(
        "source_file",
        pl.col("source_row").cast(pl.Int64),
        pl.lit(source).alias("source"),
        pl.when(pl.col("_problems").list.len() > 0)
        .then(pl.col("_problems").list.first().struct.field("field"))
        .otherwise(pl.lit("record_id"))
        .alias("field"),
        pl.concat_list(
            pl.col("_problems").list.eval(
                pl.element().struct.field("field") + ": " + pl.element().struct.field("reason")
            ),
            pl.when(pl.col("_duplicate").is_not_null())
            .then(pl.concat_list(pl.lit("record_id: ") + pl.col("_duplicate")))
            .otherwise(pl.lit([], dtype=pl.List(pl.String))),
        )
        .list.join("; ")
        .alias("reason"),
        pl.col("_raw").alias("raw_values"),
    )
    derived = mapping.derived if mapping else {}
    for target, origin in derived.items():
        if origin not in good_rows.columns:
            continue  # the file has no column to derive from (every column but the required ones may be absent)
        if target in good_rows.columns:
            good_rows = good_rows.with_columns(pl.coalesce(target, origin).alias(target))
        else:
            good_rows = good_rows.with_columns(pl.col(origin).alias(target))
    registry.add(source, good_rows)
    return good_rows, quarantine


def _mark_duplicates(checked: pl.DataFrame, seen: pl.DataFrame, label: str) -> pl.DataFrame:
    """``_duplicate``: why a row repeats a record id of its source (earlier in this file, or an earlier file),
    naming the file and row that holds it first; null for a first occurrence."""
    # Only the ids of these rows are looked up among the ids seen so far (a night's changed base rows against the
    # million unchanged ones registered before them): the first of each, in the order they were seen.
    ids = checked.get_column("record_id").drop_nulls().unique()
    earlier = seen.filter(pl.col("record_id").is_in(ids.implode())).unique("record_id", keep="first")
    firsts = (
        checked.filter(pl.col("record_id").is_not_null())
        .group_by("record_id", maintain_order=True)
        .agg(pl.col("source_file").first().alias("_in_file"), pl.col("source_row").first().alias("_in_row"))
    )
    marked = (
        checked.join(firsts, on="record_id", how="left", maintain_order="left")
        .join(earlier, on="record_id", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("_first_file").is_not_null())
            .then(pl.struct(pl.col("_first_file").alias("f"), pl.col("_first_row").alias("r")))
            .when(pl.col("_in_row").is_not_null() & (pl.col("_in_row") != pl.col("source_row")))
            .then(pl.struct(pl.col("_in_file").alias("f"), pl.col("_in_row").alias("r")))
            .alias("_clash")
        )
    )
    return marked.with_columns(
        pl.when(pl.col("_clash").is_not_null())
        .then(
            pl.format(
                "mã bản ghi '{}' trùng với bản ghi đã nạp ở {}, dòng {} (mã bản ghi phải duy nhất trong nguồn {})",
                pl.col("record_id"),
                pl.col("_clash").struct.field("f"),
                pl.col("_clash").struct.field("r"),
                pl.lit(label),
            )
        )
        .alias("_duplicate")
    ).drop("_in_file", "_in_row", "_first_file", "_first_row", "_clash")


def _canonical(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    return (
        frame.select(
            [
                (pl.col(name).cast(pl.String) if name in frame.columns else pl.lit(None, dtype=pl.String)).alias(name)
                for name in CANONICAL_SCHEMA
                if name != "source"
            ]
        )
        .with_columns(pl.lit(source).alias("source"))
        .select(list(CANONICAL_SCHEMA))
    )


def _file_report(
    file: str,
    source: str | None,
    encoding: str | None,
    read: int,
    ok: int,
    bad: int,
    error: str | None,
    notes: list[str] | None = None,
) -> pl.DataFrame:
    warnings = "; ".join(notes) if notes else None
    return pl.DataFrame(
        [(file, source, encoding, read, ok, bad, error, warnings)], schema=FILE_REPORT_SCHEMA, orient="row"
    )


def _grid_quarantined(grid: _Grid, source: str | None, error: IngestError) -> IngestResult:
    """Every non-blank row of a grid quarantined with the file-level reason (the file cannot be used)."""
    entries = [
        (
            grid.name,
            number,
            source,
            error.field,
            error.reason,
            json.dumps([_json_cell(c) for c in cells], ensure_ascii=False),
        )
        for number, cells in grid.rows
        if not all(_blank(c) for c in cells) and (error.header_row is None or number > error.header_row)
    ]
    entries += [
        (grid.name, n, source, None, f"{error.reason} ({reason})", json.dumps(raw)) for n, reason, raw in grid.broken
    ]
    if not entries:
        return _unreadable(grid.name, source, error, grid.encoding)
    quarantine = pl.DataFrame(entries, schema=QUARANTINE_SCHEMA, orient="row").sort("source_row")
    return IngestResult(
        accepted=pl.DataFrame(schema=CANONICAL_SCHEMA),
        quarantine=quarantine,
        files=_file_report(grid.name, source, grid.encoding, len(entries), 0, len(entries), str(error), grid.notes),
    )


def _unreadable(file: str, source: str | None, error: IngestError, encoding: str | None = None) -> IngestResult:
    quarantine = pl.DataFrame(
        [(file, error.row, source, error.field, error.reason, None)], schema=QUARANTINE_SCHEMA, orient="row"
    )
    return IngestResult(
        accepted=pl.DataFrame(schema=CANONICAL_SCHEMA),
        quarantine=quarantine,
        files=_file_report(file, source, encoding, 1, 0, 1, str(error)),
    )


def _ingest_table(
    table: _Table,
    *,
    source: str,
    label: str,
    mapping: SourceMapping | None,
    registry: IdRegistry,
    as_of: dt.date | None,
) -> IngestResult:
    numbers = [number for number, _, _ in table.rows]
    by_column = list(zip(*(cells for _, cells, _ in table.rows), strict=True)) if table.rows else []
    data = {column: _column_text(by_column[k] if by_column else (), column) for k, column in enumerate(table.columns)}
    frame = pl.DataFrame(data, schema={c: pl.String for c in table.columns}).with_columns(
        pl.lit(table.name).alias("source_file"), pl.Series("source_row", numbers, dtype=pl.Int64).cast(pl.String)
    )
    accepted, quarantine = _validate(
        frame,
        table.raw_json,
        source=source,
        label=label,
        mapping=mapping,
        registry=registry,
        as_of=as_of,
    )
    unreadable = pl.DataFrame(
        [(table.name, number, source, field, reason, raw_values) for number, field, reason, raw_values in table.bad],
        schema=QUARANTINE_SCHEMA,
        orient="row",
    )
    quarantine = pl.concat([quarantine, unreadable]).sort("source_row")
    read = len(table.rows) + len(table.bad)
    return IngestResult(
        accepted=_canonical(accepted, source),
        quarantine=quarantine,
        files=_file_report(
            table.name, source, table.encoding, read, accepted.height, quarantine.height, None, table.notes
        ),
    )


def _read_grids(path: Path, display: str, known_headers: dict[str, str], formats: str) -> list[_Grid]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return [_csv_grid(path, display, known_headers)]
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_grids(path, display)
    raise IngestError(display, f"định dạng tệp '{suffix}' không được hỗ trợ (chỉ {formats})")


def _ingest_grids(
    grids: list[_Grid],
    vocabulary: _Vocabulary,
    mapping: SourceMapping | None,
    registry: IdRegistry,
    as_of: dt.date | None,
) -> IngestResult:
    results = []
    for grid in grids:
        if len(grids) > 1 and all(all(_blank(c) for c in cells) for _, cells in grid.rows) and not grid.broken:
            continue  # an empty extra sheet of a workbook is layout
        try:
            table = _locate(grid, vocabulary)
        except IngestError as error:
            results.append(_grid_quarantined(grid, vocabulary.source, error))
            continue
        results.append(
            _ingest_table(
                table, source=vocabulary.source, label=vocabulary.label, mapping=mapping, registry=registry, as_of=as_of
            )
        )
    if not results:
        name = grids[0].name if grids else "?"
        return _unreadable(name, vocabulary.source, IngestError(name, "tệp Excel không có trang tính nào có dữ liệu"))
    return IngestResult.combine(results)


def ingest_file(
    path: Path,
    mapping: SourceMapping | None = None,
    *,
    taken_ids: IdRegistry | None = None,
    as_of: dt.date | None = None,
) -> IngestResult:
    """Ingest one extract file; the source comes from ``mapping`` or else from the file name.

    ``taken_ids`` holds the record ids accepted before tonight's earlier files (a repeat within a source is a
    duplicate); ``as_of`` is the night (it decides the century of two-digit years).
    """
    registry = taken_ids if taken_ids is not None else IdRegistry()
    display = path.name
    mapping = mapping or source_for_file(path)
    if mapping is None:
        known = "; ".join(f"{m.label}: {', '.join(m.file_patterns)}" for m in all_mappings())
        return _unreadable(
            display,
            None,
            IngestError(
                display,
                f"không nhận ra nguồn của tệp theo tên (mẫu tên: {known}); đổi tên tệp theo mẫu của nguồn rồi đặt "
                "lại vào thư mục",
            ),
        )
    try:
        grids = _read_grids(path, display, mapping.header_lookup, ".csv, .xlsx")
    except IngestError as error:
        return _unreadable(display, mapping.source, error)
    return _ingest_grids(grids, _vocabulary(mapping), mapping, registry, as_of)


def ingest_extracts(folder: Path, *, taken_ids: IdRegistry | None = None, as_of: dt.date | None = None) -> IngestResult:
    """Ingest every extract file in ``folder`` (not recursive). Hidden and partial files (.part/.tmp) are skipped,
    since they are still being written; every other file is either ingested or reported as unrecognized."""
    registry = taken_ids if taken_ids is not None else IdRegistry()
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith((".part", ".tmp", ".parquet"))
    )
    return IngestResult.combine(ingest_file(path, taken_ids=registry, as_of=as_of) for path in files)


# ---------------------------------------------------------------- the population base


def ingest_base(path: Path, *, taken_ids: IdRegistry | None = None, as_of: dt.date | None = None) -> IngestResult:
    """Ingest the population base snapshot: a canonical person file (Parquet, CSV or XLSX with canonical column
    names). Only ``REQUIRED_COLUMNS`` must be there; every other canonical column may be absent (it is added as
    nulls and named in the file's warnings). An unknown column or one of a type that is not text-like quarantines
    the whole file, naming the column."""
    registry = taken_ids if taken_ids is not None else IdRegistry()
    display = path.name
    vocabulary = _base_vocabulary()
    if not path.exists():
        return _unreadable(display, "base", IngestError(display, "không tìm thấy tệp CSDL dân cư"))
    if path.suffix.lower() != ".parquet":
        try:
            grids = _read_grids(path, display, vocabulary.lookup, ".parquet, .csv, .xlsx")
        except IngestError as error:
            return _unreadable(display, "base", error)
        return _ingest_grids(grids, vocabulary, None, registry, as_of)
    try:
        frame = pl.read_parquet(path)
    except Exception as error:
        return _unreadable(
            display,
            "base",
            IngestError(display, f"không đọc được tệp Parquet ({type(error).__name__}: {error}); tệp có thể bị hỏng"),
        )
    return _ingest_base_frame(frame, display, registry, as_of)


_TEXT_LIKE: Final = (pl.String, pl.Categorical, pl.Enum, pl.Date, pl.Datetime, pl.Time, pl.Boolean, pl.Null)


def _base_problem(frame: pl.DataFrame) -> tuple[str, str] | None:
    """(field, reason) that makes a base frame unusable as a whole, or None."""
    unknown = [c for c in frame.columns if c not in CANONICAL_SCHEMA]
    if unknown:
        return unknown[0], (
            "cột không thuộc lược đồ chuẩn: " + ", ".join(f"'{c}'" for c in unknown) + "; đổi tên theo lược đồ "
            "(README, mục Lược đồ chuẩn) hoặc bỏ cột rồi xuất lại CSDL dân cư"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        return missing[0], (
            "thiếu cột bắt buộc: " + ", ".join(missing) + "; không có cột này thì không ghép nối được bản ghi"
        )
    for name, dtype in frame.schema.items():
        if not (dtype.is_numeric() or isinstance(dtype, _TEXT_LIKE)):
            return name, (
                f"cột '{name}' có kiểu dữ liệu {dtype} (danh sách/cấu trúc lồng nhau), không phải một giá trị mỗi ô; "
                "xuất lại cột dưới dạng văn bản"
            )
    return None


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text; a numeric ID column goes through ``number_as_id`` (leading zeros, whole numbers)."""
    columns = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if name in ID_LENGTHS and dtype.is_numeric():
            lengths = ID_LENGTHS[name]
            columns.append(
                column.map_elements(functools.partial(number_as_id, lengths=lengths), return_dtype=pl.String)
            )
        elif dtype.is_float():
            integral = column.is_finite() & (column == column.floor())
            columns.append(
                pl.when(integral)
                .then(column.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(column.cast(pl.String))
            )
        else:
            columns.append(column.cast(pl.String))
    return frame.select(columns)


def _raw_values(frame: pl.DataFrame) -> pl.Series:
    try:
        return frame.select(pl.struct(pl.all()).struct.json_encode()).to_series()
    except Exception:  # a type JSON cannot hold: the row's text form is the best evidence
        return pl.Series([str(row) for row in frame.iter_rows()], dtype=pl.String)


def ingest_base_rows(
    frame: pl.DataFrame,
    display: str,
    *,
    registry: IdRegistry,
    as_of: dt.date | None,
    row_numbers: pl.Series | None = None,
) -> IngestResult:
    """Ingest rows of a base snapshot already read; ``row_numbers``: their rows in the file (header = 1) when
    ``frame`` holds only some of them (the nightly state re-reads only the rows that changed)."""
    return _ingest_base_frame(frame, display, registry, as_of, row_numbers)


def _ingest_base_frame(
    frame: pl.DataFrame,
    display: str,
    registry: IdRegistry,
    as_of: dt.date | None,
    row_numbers: pl.Series | None = None,
) -> IngestResult:
    frame = frame.drop([c for c in (*LINEAGE, "source") if c in frame.columns])
    problem = _base_problem(frame)
    if problem is not None:
        field_name, reason = problem
        quarantine = frame.with_row_index("__row", offset=2).select(
            pl.lit(display).alias("source_file"),
            pl.col("__row").cast(pl.Int64).alias("source_row"),
            pl.lit("base").alias("source"),
            pl.lit(field_name).alias("field"),
            pl.lit(reason).alias("reason"),
            _raw_values(frame).alias("raw_values"),
        )
        error = str(IngestError(display, reason, field=field_name))
        return IngestResult(
            accepted=pl.DataFrame(schema=CANONICAL_SCHEMA),
            quarantine=quarantine,
            files=_file_report(display, "base", "parquet", frame.height, 0, frame.height, error),
        )

    def raw_json(positions: list[int]) -> list[str]:
        return _raw_values(frame[positions]).to_list() if positions else []

    text = _as_text(frame)
    text = text.with_columns(
        [
            (pl.col(c).str.replace_all(FORMAT_CHARACTERS, "").str.normalize("NFKC") if c in CODE_COLUMNS else pl.col(c))
            .str.strip_chars()
            .replace("", None)
            .alias(c)
            for c in text.columns
        ]
    ).with_columns(
        pl.lit(display).alias("source_file"),
        (pl.int_range(pl.len()) + 2 if row_numbers is None else pl.lit(row_numbers))
        .cast(pl.String)
        .alias("source_row"),
    )
    notes = []
    absent = missing_optional(frame.columns)
    if absent:
        notes.append(f"{len(absent)} cột không có trong tệp (để trống): " + ", ".join(absent))
    accepted, quarantine = _validate(
        text, raw_json, source="base", label=BASE_LABEL, mapping=None, registry=registry, as_of=as_of
    )
    return IngestResult(
        accepted=_canonical(accepted, "base"),
        quarantine=quarantine,
        files=_file_report(display, "base", "parquet", frame.height, accepted.height, quarantine.height, None, notes),
    )


# ---------------------------------------------------------------- one night


@dataclass(frozen=True)
class NightInput:
    """What ingest made of one night: the base, the extracts, and what a person should know about them."""

    base: IngestResult
    extracts: IngestResult
    warnings: tuple[str, ...]

    @property
    def everything(self) -> IngestResult:
        return IngestResult.combine([self.base, self.extracts])


def ingest_night(
    base_file: Path,
    extracts_dir: Path | None,
    *,
    as_of: dt.date | None = None,
    warnings: Iterable[str] = (),
    base: IngestResult | None = None,
    base_ids: pl.DataFrame | None = None,
) -> NightInput:
    """Ingest the base snapshot and every extract file of a night.

    Record ids are unique within a source only. The nightly graph needs one key per record, so an extract record
    whose id another source also uses tonight gets the source in front (``residence:123``); the base keeps its ids
    (they are the register's), and each file's warnings say how many ids were qualified.

    ``base`` and ``base_ids`` (``record_id``, ``source`` of every base record accepted tonight): the base as the
    nightly state ingested it already (only its changed rows validated), instead of reading ``base_file`` again.
    """
    registry = IdRegistry()
    if base is None:
        base = ingest_base(base_file, taken_ids=registry, as_of=as_of)
    if extracts_dir is None:
        extracts = IngestResult.combine([])
    else:
        extracts = ingest_extracts(extracts_dir, taken_ids=registry, as_of=as_of)
    extracts, qualified = _qualify_shared_ids(base_ids if base_ids is not None else base.accepted, extracts)
    notes = list(warnings)
    if qualified:
        notes.append(
            f"{qualified} bản ghi trích xuất có mã bản ghi trùng với mã của nguồn khác: mã được ghi kèm tên nguồn "
            "(ví dụ residence:123)"
        )
    return NightInput(base=base, extracts=extracts, warnings=tuple(notes))


def _qualify_shared_ids(base: pl.DataFrame, extracts: IngestResult) -> tuple[IngestResult, int]:
    accepted = extracts.accepted
    if accepted.height == 0:
        return extracts, 0
    every = pl.concat([base.select("record_id", "source"), accepted.select("record_id", "source")])
    shared = (
        every.group_by("record_id").agg(pl.col("source").n_unique().alias("_sources")).filter(pl.col("_sources") > 1)
    )
    if shared.height == 0:
        return extracts, 0
    clash = pl.col("record_id").is_in(shared["record_id"].implode())
    qualified = accepted.with_columns(
        pl.when(clash)
        .then(pl.col("source") + ":" + pl.col("record_id"))
        .otherwise(pl.col("record_id"))
        .alias("record_id")
    )
    counts = accepted.filter(clash).group_by("source_file").len()
    files = (
        extracts.files.join(counts, on="source_file", how="left")
        .with_columns(
            pl.when(pl.col("len").is_not_null())
            .then(
                pl.concat_str(
                    pl.col("warnings"),
                    pl.format("{} mã bản ghi trùng mã của nguồn khác, ghi kèm tên nguồn", pl.col("len")),
                    separator="; ",
                    ignore_nulls=True,
                )
            )
            .otherwise(pl.col("warnings"))
            .alias("warnings")
        )
        .drop("len")
    )
    return IngestResult(accepted=qualified, quarantine=extracts.quarantine, files=files), int(counts["len"].sum())


# ---------------------------------------------------------------- reading a person file for a command


def read_person_file(path: Path, *, as_of: dt.date | None = None) -> IngestResult:
    """Read a canonical person file (Parquet, CSV in any of the encodings above, XLSX) the way the nightly reads the
    base: accepted rows and quarantined rows with their reasons.

    A CSV or workbook in one of the extracts' own layouts (a residence, civil-status or card-issuance extract with
    its Vietnamese headers, as the nightly receives it) is read as that extract: the source its name says first,
    then each source in turn; the first that accepts rows is the answer. Otherwise the canonical reading's errors
    stand."""
    result = ingest_base(path, as_of=as_of)
    if result.accepted.height or path.suffix.lower() == ".parquet":
        return result
    named = source_for_file(path)
    for mapping in ([named] if named else []) + [m for m in all_mappings() if m != named]:
        extract = ingest_file(path, mapping, as_of=as_of)
        if extract.accepted.height:
            return extract
    return result


def summarize(result: IngestResult) -> dict[str, Any]:
    """Counts for asset metadata and the CLI."""
    by_source = result.files.group_by("source").agg(
        pl.col("rows_read").sum(), pl.col("rows_accepted").sum(), pl.col("rows_quarantined").sum()
    )
    return {
        "rows_read": result.rows_read,
        "rows_accepted": result.accepted.height,
        "rows_quarantined": result.quarantine.height,
        "files": result.files.height,
        "files_rejected": int(result.files["error"].is_not_null().sum()),
        "by_source": {
            row["source"]: {k: row[k] for k in ("rows_read", "rows_accepted", "rows_quarantined")}
            for row in by_source.iter_rows(named=True)
        },
    }


# ---------------------------------------------------------------- the base, a few rows at a time (nightly state)


def base_problem(frame: pl.DataFrame) -> tuple[str, str] | None:
    """(field, reason) that makes a base snapshot unusable as a whole (judged on its columns), or None."""
    return _base_problem(frame)


def base_file_report(display: str, columns: list[str], read: int, accepted: int, quarantined: int) -> pl.DataFrame:
    """The file report ``ingest_base`` gives a Parquet snapshot with these columns and counts."""
    absent = missing_optional(columns)
    notes = ["không có cột (để trống): " + ", ".join(f"{_LABELS.get(c, c)} ({c})" for c in absent)] if absent else []
    return _file_report(display, "base", "parquet", read, accepted, quarantined, None, notes)
