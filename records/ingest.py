"""Ingest: extract files (CSV / XLSX / Parquet) and the population base into the canonical person record.

Every input row ends in exactly one of two places: the canonical table, or the quarantine table with the file, row,
field and a Vietnamese reason. Nothing is dropped silently, so for every file ``read = accepted + quarantined``.
A file that cannot be read at all (undecodable, unknown or missing columns, unrecognized name) has all its rows
quarantined with that reason, or, when not even its rows can be read, one quarantine entry for the file that counts
as one unit read.

Row numbers are those a person sees in a spreadsheet: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl

from normalize.text import fix_legacy_encoding
from records.mappings import SourceMapping, all_mappings, header_key, source_for_file, value_key
from records.schema import CANONICAL_SCHEMA, MINIMAL_COLUMNS, SEX_VALUES
from records.values import ValueProblem, canonical_date, canonical_digits, excel_serial_to_date

__all__ = [
    "EXTRACT_SUFFIXES",
    "FILE_REPORT_SCHEMA",
    "QUARANTINE_SCHEMA",
    "IngestError",
    "IngestResult",
    "TakenIds",
    "decode_bytes",
    "ingest_base",
    "ingest_base_frame",
    "ingest_extracts",
    "ingest_file",
    "read_canonical_file",
]

EXTRACT_SUFFIXES: Final = (".csv", ".xlsx", ".txt")
DATE_COLUMNS: Final = tuple(c for c in CANONICAL_SCHEMA if c.endswith("_date"))
TWELVE_DIGIT_COLUMNS: Final = ("person_id", "card_number")
LINEAGE: Final = ("source_file", "source_row")

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


class IngestError(Exception):
    """A documented ingest failure, naming the file, row and field."""

    def __init__(self, file: str, reason: str, *, row: int | None = None, field: str | None = None) -> None:
        self.file, self.row, self.field, self.reason = file, row, field, reason
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


class TakenIds:
    """Record ids accepted so far tonight when they are millions (the base's): a Polars column, not a Python set.

    Behaves like the ``set[str]`` the ingest functions also accept: ``update`` adds ids, ``contains`` tests a column.
    """

    def __init__(self, ids: pl.Series | None = None) -> None:
        self._parts: list[pl.Series] = [ids.cast(pl.String)] if ids is not None else []

    def update(self, ids: Iterable[str] | pl.Series) -> None:
        self._parts.append(ids.cast(pl.String) if isinstance(ids, pl.Series) else pl.Series(list(ids), dtype=pl.String))

    def contains(self, ids: pl.Series) -> pl.Series:
        known = [p for p in self._parts if p.len()]
        if not known:
            return pl.Series([False] * ids.len(), dtype=pl.Boolean)
        return ids.is_in(pl.concat(known).implode())

    def __len__(self) -> int:
        return sum(p.len() for p in self._parts)


# ---------------------------------------------------------------- reading


def decode_bytes(data: bytes, file: str) -> tuple[str, str]:
    """Decode an extract's bytes; returns (text, encoding name).

    UTF-8 (with or without BOM) and UTF-16 with BOM are taken as they are. Any other 8-bit text is either Windows-1258
    (Vietnamese with combining tone marks) or a legacy font encoding (TCVN3/VNI) saved as Windows-1252; the two are
    told apart by whether cp1258's combining marks land on vowels. Legacy text stays as decoded here: repairing it
    per column is the normalizer's job, which keeps the original beside the repair.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise IngestError(file, f"tệp UTF-16 hỏng, không giải mã được: {error.reason}") from None
    if b"\x00" in data:
        raise IngestError(file, "tệp nhị phân hoặc mã hóa không nhận ra (có byte NUL), không giải mã được")
    try:
        return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass  # not UTF-8: one of the 8-bit code pages, told apart below
    as_1258 = data.decode("cp1258", errors="replace")
    if _looks_like_cp1258(as_1258):
        return unicodedata.normalize("NFC", as_1258), "cp1258"
    return data.decode("cp1252", errors="strict") if _cp1252_ok(data) else data.decode("latin-1"), "cp1252"


def _cp1252_ok(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


_VOWELS: Final = set("aăâeêioôơuưyAĂÂEÊIOÔƠUƯY")
_TONE_MARKS: Final = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _looks_like_cp1258(text: str) -> bool:
    on_vowel = off_vowel = 0
    for previous, char in itertools.pairwise(text):
        if char in _TONE_MARKS:
            if previous in _VOWELS:
                on_vowel += 1
            else:
                off_vowel += 1
    return on_vowel > 0 and off_vowel <= on_vowel * 0.02


@dataclass
class _RawTable:
    name: str
    header: list[str]
    rows: list[tuple[int, list[Any]]]
    encoding: str
    short_rows: list[tuple[int, list[Any]]]


def _choose_delimiter(text: str, known_headers: dict[str, str]) -> str:
    """The delimiter under which the first line splits into the most known headers (then: the most fields)."""
    first_line = text.split("\n", 1)[0]
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";", "\t", "|"):
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        known = sum(1 for cell in cells if header_key(fix_legacy_encoding(cell)[0]) in known_headers)
        score = (known, len(cells))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_csv(path: Path, display: str, known_headers: dict[str, str]) -> _RawTable:
    text, encoding = decode_bytes(path.read_bytes(), display)
    delimiter = _choose_delimiter(text, known_headers)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise IngestError(display, "tệp rỗng, không có dòng tiêu đề", row=1) from None
    except csv.Error as error:
        raise IngestError(display, f"dòng tiêu đề sai cấu trúc CSV: {error}", row=1) from None
    rows: list[tuple[int, list[Any]]] = []
    bad: list[tuple[int, list[Any]]] = []
    line = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            line += 1
            bad.append((line, [f"<CSV lỗi: {error}>"]))
            continue
        line += 1
        if not record or all(not cell.strip() for cell in record):
            continue  # blank lines are layout, not data
        (rows if len(record) == len(header) else bad).append((line, list(record)))
    return _RawTable(display, header, rows, encoding, bad)


def _read_xlsx(path: Path, display: str) -> list[_RawTable]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:
        raise IngestError(display, f"không mở được tệp Excel: {type(error).__name__}: {error}") from None
    tables = []
    try:
        sheets = [sheet for sheet in workbook.worksheets if sheet.max_row and sheet.max_row > 0]
        for sheet in sheets:
            iterator = sheet.iter_rows(values_only=True)
            header_row = next(iterator, None)
            if header_row is None or all(cell is None for cell in header_row):
                continue
            width = max(i + 1 for i, cell in enumerate(header_row) if cell is not None)
            header = ["" if cell is None else str(cell) for cell in header_row[:width]]
            rows: list[tuple[int, list[Any]]] = []
            short: list[tuple[int, list[Any]]] = []
            for number, values in enumerate(iterator, start=2):
                cells = list(values[:width]) + [None] * max(0, width - len(values))
                if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
                    if any(cell is not None for cell in values[width:]):
                        short.append((number, list(values)))
                    continue
                if any(cell is not None for cell in values[width:]):
                    short.append((number, list(values)))
                    continue
                rows.append((number, cells))
            name = display if len(sheets) == 1 else f"{display}[{sheet.title}]"
            tables.append(_RawTable(name, header, rows, "xlsx", short))
    finally:
        workbook.close()
    if not tables:
        raise IngestError(display, "tệp Excel không có trang tính nào có dữ liệu", row=1)
    return tables


# ---------------------------------------------------------------- cell conversion


def _cell_text(cell: Any, column: str) -> str | None:
    """Text of one cell as the canonical column wants it, undoing Excel's habits (dates as serials, IDs as numbers)."""
    if cell is None:
        return None
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, int | float):
        if column in DATE_COLUMNS:
            return excel_serial_to_date(float(cell)).isoformat()
        if float(cell).is_integer():
            digits = str(int(cell))
            # Excel drops leading zeros of numeric-looking IDs; every personal ID starts with 0 (province 001-096).
            if column in TWELVE_DIGIT_COLUMNS and len(digits) < 12:
                return digits.zfill(12)
            if column == "old_id_number" and len(digits) < 9:
                return digits.zfill(9)
            return digits
        return repr(cell)
    text = str(cell).strip()
    return text or None


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


def _validate(
    frame: pl.DataFrame,
    raw_json: pl.Series,
    *,
    source: str,
    mapping: SourceMapping | None,
    taken_ids: set[str] | TakenIds,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonicalize values column by column; rows with any problem go to quarantine with every reason listed."""
    problems: list[pl.Expr] = []
    replacements: list[pl.Expr] = []
    for column in frame.columns:
        if column in LINEAGE or column == "source":
            continue
        convert: Any = None
        if column in DATE_COLUMNS:
            convert = canonical_date
        elif column in TWELVE_DIGIT_COLUMNS:

            def convert(value: str, _c: str = column) -> str:
                return canonical_digits(value, (12,), f"{_c}")
        elif column == "old_id_number":

            def convert(value: str) -> str:
                return canonical_digits(value, (9, 12), "số CMND")
        elif (lookup := _coded_lookup(column, mapping)) is not None:
            convert = _convert_coded(lookup, column)
        if convert is None:
            continue
        ok, bad = _unique_map(frame[column], convert)
        replacements.append(pl.col(column).replace_strict(ok, default=None, return_dtype=pl.String).alias(column))
        if bad:
            problems.append(
                pl.when(pl.col(column).is_in(list(bad))).then(
                    pl.struct(
                        pl.lit(column).alias("field"), pl.col(column).replace_strict(bad, default=None).alias("reason")
                    )
                )
            )
    problems.append(
        pl.when(pl.col("record_id").is_null()).then(
            pl.struct(pl.lit("record_id").alias("field"), pl.lit("thiếu mã bản ghi").alias("reason"))
        )
    )
    checked = frame.with_columns(_raw=raw_json, _problems=pl.concat_list(problems).list.drop_nulls())
    # A record_id seen before (earlier in this file, another file tonight, or the base) is a duplicate row.
    first_seen = checked["record_id"].is_first_distinct()
    already = (
        taken_ids.contains(checked["record_id"])
        if isinstance(taken_ids, TakenIds)
        else checked["record_id"].is_in(list(taken_ids))
        if taken_ids
        else pl.Series([False] * checked.height, dtype=pl.Boolean)
    )
    duplicate = (~first_seen | already) & checked["record_id"].is_not_null()
    checked = checked.with_columns(_duplicate=duplicate)
    is_bad = (pl.col("_problems").list.len() > 0) | pl.col("_duplicate")
    bad_rows = checked.filter(is_bad)
    good_rows = checked.filter(~is_bad).with_columns(replacements).drop("_raw", "_problems", "_duplicate")
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
            pl.when(pl.col("_duplicate"))
            .then(pl.lit(["record_id: mã bản ghi trùng với bản ghi đã nạp"]))
            .otherwise(pl.lit([], dtype=pl.List(pl.String))),
        )
        .list.join("; ")
        .alias("reason"),
        pl.col("_raw").alias("raw_values"),
    )
    derived = mapping.derived if mapping else {}
    for target, origin in derived.items():
        if target in good_rows.columns:
            good_rows = good_rows.with_columns(pl.coalesce(target, origin).alias(target))
        else:
            good_rows = good_rows.with_columns(pl.col(origin).alias(target))
    if isinstance(taken_ids, TakenIds):
        taken_ids.update(good_rows["record_id"])
    else:
        taken_ids.update(good_rows["record_id"].to_list())
    return good_rows, quarantine


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
    file: str, source: str | None, encoding: str | None, read: int, ok: int, bad: int, error: str | None
) -> pl.DataFrame:
    return pl.DataFrame([(file, source, encoding, read, ok, bad, error)], schema=FILE_REPORT_SCHEMA, orient="row")


def _whole_file_quarantined(table: _RawTable, source: str | None, error: IngestError) -> IngestResult:
    rows = table.rows + table.short_rows
    quarantine = pl.DataFrame(
        [
            (
                table.name,
                number,
                source,
                error.field,
                error.reason,
                json.dumps(dict(zip(table.header, map(_json_cell, cells), strict=False)), ensure_ascii=False),
            )
            for number, cells in rows
        ],
        schema=QUARANTINE_SCHEMA,
        orient="row",
    )
    return IngestResult(
        accepted=pl.DataFrame(schema=CANONICAL_SCHEMA),
        quarantine=quarantine,
        files=_file_report(table.name, source, table.encoding, len(rows), 0, len(rows), str(error)),
    )


def _unreadable(file: str, source: str | None, error: IngestError) -> IngestResult:
    quarantine = pl.DataFrame(
        [(file, error.row, source, error.field, error.reason, None)], schema=QUARANTINE_SCHEMA, orient="row"
    )
    return IngestResult(
        accepted=pl.DataFrame(schema=CANONICAL_SCHEMA),
        quarantine=quarantine,
        files=_file_report(file, source, None, 1, 0, 1, str(error)),
    )


def _json_cell(cell: Any) -> Any:
    if isinstance(cell, dt.date | dt.datetime):
        return cell.isoformat()
    return cell


def _map_header(table: _RawTable, mapping: SourceMapping) -> list[str]:
    lookup = mapping.header_lookup
    columns: list[str] = []
    for position, raw in enumerate(table.header, start=1):
        repaired, _ = fix_legacy_encoding(raw.strip())
        column = lookup.get(header_key(repaired))
        if column is None:
            raise IngestError(
                table.name,
                f"cột '{raw}' (vị trí {position}) không có trong bảng ánh xạ của nguồn {mapping.label}; "
                "cập nhật records/mappings nếu đây là cột mới",
                row=1,
                field=raw,
            )
        if column in columns:
            raise IngestError(table.name, f"hai cột cùng ánh xạ vào '{column}'", row=1, field=raw)
        columns.append(column)
    missing = [c for c in mapping.required if c not in columns]
    if missing:
        headers = ", ".join(f"'{mapping.columns[c][0]}'" for c in missing)
        raise IngestError(table.name, f"thiếu cột bắt buộc: {headers}", row=1, field=mapping.columns[missing[0]][0])
    return columns


def _ingest_table(table: _RawTable, mapping: SourceMapping, taken_ids: set[str] | TakenIds) -> IngestResult:
    try:
        columns = _map_header(table, mapping)
    except IngestError as error:
        return _whole_file_quarantined(table, mapping.source, error)
    data: dict[str, list[str | None]] = {c: [] for c in columns}
    raw: list[str] = []
    numbers: list[int] = []
    for number, cells in table.rows:
        numbers.append(number)
        for column, cell in zip(columns, cells, strict=True):
            try:
                data[column].append(_cell_text(cell, column))
            except ValueProblem as problem:
                data[column].append(f"<{problem}>")
        raw.append(json.dumps(dict(zip(table.header, map(_json_cell, cells), strict=True)), ensure_ascii=False))
    frame = pl.DataFrame(data, schema={c: pl.String for c in columns}).with_columns(
        pl.lit(table.name).alias("source_file"), pl.Series("source_row", numbers, dtype=pl.Int64).cast(pl.String)
    )
    accepted, quarantine = _validate(
        frame, pl.Series("_raw", raw, dtype=pl.String), source=mapping.source, mapping=mapping, taken_ids=taken_ids
    )
    short = pl.DataFrame(
        [
            (
                table.name,
                number,
                mapping.source,
                None,
                f"dòng có {len(cells)} trường, dòng tiêu đề có {len(table.header)}",
                json.dumps([_json_cell(c) for c in cells], ensure_ascii=False),
            )
            for number, cells in table.short_rows
        ],
        schema=QUARANTINE_SCHEMA,
        orient="row",
    )
    quarantine = pl.concat([quarantine, short]).sort("source_row")
    read = len(table.rows) + len(table.short_rows)
    return IngestResult(
        accepted=_canonical(accepted, mapping.source),
        quarantine=quarantine,
        files=_file_report(table.name, mapping.source, table.encoding, read, accepted.height, quarantine.height, None),
    )


def ingest_file(
    path: Path, mapping: SourceMapping | None = None, *, taken_ids: set[str] | TakenIds | None = None
) -> IngestResult:
    """Ingest one extract file; the source comes from ``mapping`` or else from the file name."""
    taken: set[str] | TakenIds = taken_ids if taken_ids is not None else set()
    display = path.name
    mapping = mapping or source_for_file(path)
    if mapping is None:
        known = "; ".join(f"{m.label}: {', '.join(m.file_patterns)}" for m in all_mappings())
        return _unreadable(
            display, None, IngestError(display, f"không nhận ra nguồn của tệp theo tên (mẫu tên: {known})")
        )
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            tables = [_read_csv(path, display, mapping.header_lookup)]
        elif suffix == ".xlsx":
            tables = _read_xlsx(path, display)
        else:
            raise IngestError(display, f"định dạng tệp '{suffix}' không được hỗ trợ (chỉ .csv, .xlsx)")
    except IngestError as error:
        return _unreadable(display, mapping.source, error)
    return IngestResult.combine(_ingest_table(table, mapping, taken) for table in tables)


def ingest_extracts(folder: Path, *, taken_ids: set[str] | TakenIds | None = None) -> IngestResult:
    """Ingest every extract file in ``folder`` (not recursive). Hidden and partial files (.part/.tmp) are skipped,
    since they are still being written; every other file is either ingested or reported as unrecognized."""
    taken = taken_ids if taken_ids is not None else set()
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith((".part", ".tmp", ".parquet"))
    )
    return IngestResult.combine(ingest_file(path, taken_ids=taken) for path in files)


def ingest_base(path: Path, *, taken_ids: set[str] | TakenIds | None = None) -> IngestResult:
    """Ingest the population base snapshot: a canonical person file (Parquet, CSV or XLSX with canonical column
    names; the nine minimal columns suffice)."""
    try:
        frame = read_canonical_file(path)
    except IngestError as error:
        return _unreadable(path.name, "base", error)
    return ingest_base_frame(
        frame, path.name, "parquet" if path.suffix == ".parquet" else "text", taken_ids=taken_ids
    )


def ingest_base_frame(
    frame: pl.DataFrame,
    display: str,
    encoding: str,
    *,
    taken_ids: set[str] | TakenIds | None = None,
    row_numbers: pl.Series | None = None,
) -> IngestResult:
    """Ingest rows of a base snapshot already read (``display``: the file name in messages).

    ``row_numbers``: the rows' numbers in the file (header = row 1) when ``frame`` holds only some of its rows.
    """
    taken = taken_ids if taken_ids is not None else set()
    missing = [c for c in MINIMAL_COLUMNS if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in CANONICAL_SCHEMA]
    if missing or unknown:
        reason = (f"thiếu cột: {', '.join(missing)}. " if missing else "") + (
            f"cột không thuộc lược đồ chuẩn: {', '.join(unknown)}" if unknown else ""
        )
        field = (missing or unknown)[0]
        quarantine = frame.with_row_index("source_row", offset=2).select(
            pl.lit(display).alias("source_file"),
            pl.col("source_row").cast(pl.Int64),
            pl.lit("base").alias("source"),
            pl.lit(field).alias("field"),
            pl.lit(reason.strip()).alias("reason"),
            pl.struct(pl.all().exclude("source_row").cast(pl.String)).struct.json_encode().alias("raw_values"),
        )
        return IngestResult(
            accepted=pl.DataFrame(schema=CANONICAL_SCHEMA),
            quarantine=quarantine,
            files=_file_report(display, "base", None, frame.height, 0, frame.height, reason.strip()),
        )
    frame = frame.with_columns(
        [pl.col(c).cast(pl.String).str.strip_chars().replace("", None) for c in frame.columns if c not in LINEAGE]
    )
    raw_json = frame.select(pl.struct(pl.all()).struct.json_encode()).to_series()
    numbers = (pl.int_range(pl.len()) + 2) if row_numbers is None else pl.lit(row_numbers)
    frame = frame.drop([c for c in LINEAGE if c in frame.columns]).with_columns(
        pl.lit(display).alias("source_file"), numbers.cast(pl.String).alias("source_row")
    )
    if "source" in frame.columns:
        frame = frame.drop("source")
    accepted, quarantine = _validate(frame, raw_json, source="base", mapping=None, taken_ids=taken)
    return IngestResult(
        accepted=_canonical(accepted, "base"),
        quarantine=quarantine,
        files=_file_report(
            display,
            "base",
            encoding,
            frame.height,
            accepted.height,
            quarantine.height,
            None,
        ),
    )


def read_canonical_file(path: Path) -> pl.DataFrame:
    """Read a canonical person file as text columns (Parquet, CSV, XLSX); ``IngestError`` when unreadable."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise IngestError(path.name, "không tìm thấy tệp")
    try:
        if suffix == ".parquet":
            return pl.read_parquet(path)
        if suffix in (".csv", ".txt"):
            text, _ = decode_bytes(path.read_bytes(), path.name)
            return pl.read_csv(io.StringIO(text), infer_schema=False)
        if suffix == ".xlsx":
            return pl.read_excel(path, infer_schema_length=0)
    except IngestError:
        raise
    except Exception as error:
        raise IngestError(path.name, f"không đọc được tệp: {type(error).__name__}: {error}") from None
    raise IngestError(path.name, f"định dạng tệp '{suffix}' không được hỗ trợ (chỉ .parquet, .csv, .xlsx)")


def read_person_file(path: Path) -> pl.DataFrame:
    """Read a canonical person file (for CLI commands); raises ``IngestError`` on anything not canonical."""
    result = ingest_base(path)
    if result.quarantine.height:
        first = result.quarantine.row(0, named=True)
        raise IngestError(
            path.name,
            f"{result.quarantine.height} dòng lỗi; dòng đầu: {first['reason']}",
            row=first["source_row"],
            field=first["field"],
        )
    return result.accepted


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
        "by_source": {
            row["source"]: {k: row[k] for k in ("rows_read", "rows_accepted", "rows_quarantined")}
            for row in by_source.iter_rows(named=True)
        },
    }
