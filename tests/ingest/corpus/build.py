"""Build the damaged-file corpus: extract files as real exports get them wrong, each with its expected outcome.

Run ``python -m tests.ingest.corpus.build`` to rewrite ``tests/ingest/corpus/files/`` and its ``manifest.json``;
``tests/ingest/test_corpus.py`` checks that the committed manifest is what this script builds, that every file has
its expected outcome (accepted / rows quarantined with this reason / whole file quarantined) and that one night over
the whole folder finishes with every row accounted for.

Expected outcomes name a Vietnamese reason by a fragment of it, so rewording a message keeps the test meaningful.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sys
import unicodedata
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl
import xlsxwriter

from records.encodings import encode_cp1258
from records.mappings import load_mapping
from records.schema import CANONICAL_SCHEMA

HERE: Final = Path(__file__).resolve().parent
FILES: Final = HERE / "files"
MANIFEST: Final = HERE / "manifest.json"
NIGHT: Final = "2026-11-20"
FIXED_TIME: Final = (2026, 11, 20, 0, 0, 0)

RESIDENCE = load_mapping("residence").headers()
CARD = load_mapping("card").headers()
COLUMNS: Final = (
    "record_id",
    "person_id",
    "full_name",
    "birth_date",
    "sex",
    "permanent_address",
    "event_type",
    "registration_date",
)
HEADER: Final = [RESIDENCE[c] for c in COLUMNS]
ADDRESS: Final = "Số 12 ngõ 34 Khâm Thiên, P. Thổ Quan, Q. Đống Đa, TP. Hà Nội"


def person(record_id: str, name: str = "Nguyễn Văn An", **values: str) -> list[str]:
    row = {
        "record_id": record_id,
        "person_id": "001090012345",
        "full_name": name,
        "birth_date": "15/03/1990",
        "sex": "Nam",
        "permanent_address": ADDRESS,
        "event_type": "Đăng ký thường trú",
        "registration_date": "01/11/2026",
        **values,
    }
    return [row[c] for c in COLUMNS]


@dataclass
class Case:
    """One corpus file and what ingest must make of it."""

    file: str
    what: str
    outcome: str  # "accepted" | "rows_quarantined" | "file_quarantined"
    kind: str = "extract"  # "extract" | "base"
    accepted: int = 0
    quarantined: int = 0
    reason: str | None = None  # a fragment of every quarantine reason (or of the file error)
    warning: str | None = None  # a fragment of the file's warnings
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)  # record_id -> canonical column -> value
    normalized: dict[str, dict[str, Any]] = field(default_factory=dict)  # record_id -> normalized column -> value


def _csv_text(rows: list[list[str]], delimiter: str = ",", newline: str = "\n") -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buffer.getvalue()


def _write(name: str, data: bytes | str) -> None:
    (FILES / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _fixed_zip(data: bytes, rewrite: Any = None) -> bytes:
    """Re-pack an xlsx with fixed timestamps (reproducible bytes), optionally rewriting its sheet XML."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if rewrite is not None and item.filename.startswith("xl/worksheets/sheet"):
                content = rewrite(content)
            info = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, content)
    return out.getvalue()


def _xlsx(
    rows: list[list[Any]],
    *,
    start_row: int = 0,
    start_col: int = 0,
    merges: list[tuple[int, int, int, int, Any]] = (),  # type: ignore[assignment]
    formulas: dict[tuple[int, int], str] | None = None,
    rewrite: Any = None,
) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    workbook.set_properties({"created": dt.datetime(*FIXED_TIME)})
    sheet = workbook.add_worksheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, int | float):
                sheet.write_number(start_row + r, start_col + c, value)
            else:
                sheet.write_string(start_row + r, start_col + c, value)
    for (r, c), formula in (formulas or {}).items():
        sheet.write_formula(start_row + r, start_col + c, formula)
    for first_row, first_col, last_row, last_col, value in merges:
        sheet.merge_range(first_row, first_col, last_row, last_col, value)
    workbook.close()
    return _fixed_zip(buffer.getvalue(), rewrite)


def _no_cached_values(xml: bytes) -> bytes:
    return re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1", xml)


def _no_dimension(xml: bytes) -> bytes:
    return re.sub(rb"<dimension[^>]*/>", b"", xml)


def _base_frame(n: int = 3) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": [f"DC{i}" for i in range(1, n + 1)],
            "person_id": ["001090012345", "079305000001", "001190012346"][:n],
            "full_name": ["Nguyễn Văn An", "Lê Thị Thúy", "Trần Thị Bình"][:n],
            "birth_date": ["1990-03-15", "2005", "1990-05-03"][:n],
            "sex": ["Nam", "Nữ", "Nữ"][:n],
            "permanent_address": [ADDRESS, "25 Lê Lợi, Phường Bến Nghé, Quận 1, TP.HCM", "P. Cống Vị, Q. Ba Đình, HN"][
                :n
            ],
            "hometown": [None, None, None][:n],
        }
    )


def build() -> list[Case]:
    """Write every corpus file; return the cases in file order."""
    FILES.mkdir(parents=True, exist_ok=True)
    for old in FILES.iterdir():
        old.unlink()
    cases: list[Case] = []

    def add(case: Case, data: bytes | str) -> None:
        _write(case.file, data)
        cases.append(case)

    nfc = "Nguyễn Thị Hòa"
    nfd = unicodedata.normalize("NFD", nfc)
    add(
        Case("cu_tru_nfc_nfd.csv", "1: one name in NFC and in NFD", "accepted", accepted=4,
             normalized={"NF1": {"full_name_norm": nfc}, "NF2": {"full_name_norm": nfc}}),
        _csv_text([HEADER, person("NF1", nfc), person("NF2", nfd), person("NF3", nfc), person("NF4", nfd)]),
    )  # fmt: skip
    add(
        Case("cu_tru_cr_only.csv", "2: Excel 'CSV Macintosh' (CR line endings)", "accepted", accepted=3),
        _csv_text([HEADER, person("CR1"), person("CR2"), person("CR3")], newline="\r"),
    )
    add(
        Case("cap_cccd_float_ids.csv", "5: IDs written as floats", "rows_quarantined", accepted=2, quarantined=2,
             reason="Văn bản/Text",
             values={"FL1": {"card_number": "037304203655", "person_id": "037304203655"},
                     "FL2": {"card_number": "001090012345"}}),
        _csv_text([
            [CARD[c] for c in ("record_id", "card_number", "full_name", "birth_date", "sex", "card_issue_date")],
            ["FL1", "37304203655.0", "Lê Văn Bình", "05/03/1973", "Nam", "01/11/2026"],
            ["FL2", "1.090012345E+9", "Lê Văn Cường", "05/03/1990", "Nam", "01/11/2026"],
            ["FL3", "373042036.55", "Lê Văn Dũng", "05/03/1973", "Nam", "01/11/2026"],
            ["FL4", "3.73042E+10", "Lê Văn Em", "05/03/1973", "Nam", "01/11/2026"],
        ]),
    )  # fmt: skip
    # FL4: Excel showed 6 significant digits (3.73042E+10); the zeros after them are not the ID's digits.
    add(
        Case("cu_tru_header_row_2.xlsx", "6: blank first row, header on row 2", "accepted", accepted=8),
        _xlsx([HEADER, *(person(f"R2-{i}") for i in range(8))], start_row=1),
    )
    add(
        Case("cu_tru_no_dimension.xlsx", "6: sheet without <dimension>", "accepted", accepted=8),
        _xlsx([HEADER, *(person(f"ND-{i}") for i in range(8))], rewrite=_no_dimension),
    )
    merged_rows = [HEADER, person("MG1"), person("MG2"), person("MG3")]
    address_column = COLUMNS.index("permanent_address")
    add(
        Case("cu_tru_merged.xlsx", "6: merged cells hold their value for every row", "accepted", accepted=3,
             warning="ô gộp", values={"MG3": {"permanent_address": "Phường Ba Đình, Thành phố Hà Nội"}}),
        _xlsx(merged_rows, merges=[(1, address_column, 3, address_column, "Phường Ba Đình, Thành phố Hà Nội")]),
    )  # fmt: skip
    add(
        Case("cu_tru_formula.xlsx", "6: formulas without cached values", "rows_quarantined", accepted=2,
             quarantined=1, reason="công thức chưa được tính"),
        _xlsx([HEADER, person("FX1"), person("FX2"), [None, *person("")[1:]]], formulas={(3, 0): '="FX"&3'},
              rewrite=_no_cached_values),
    )  # fmt: skip
    rows_vn = [HEADER, person("CP1", "Trần Văn Đức"), person("CP2", "Lê Thị Thủy")]
    add(
        Case("cu_tru_cp1258.csv", "7: Windows-1258", "accepted", accepted=2,
             values={"CP1": {"full_name": "Trần Văn Đức"}}),
        encode_cp1258(_csv_text(rows_vn, newline="\r\n")),
    )  # fmt: skip
    rows_utf16 = [HEADER, person("UT1", "Trần Văn Đức"), person("UT2", "Lê Thị Thủy")]
    add(
        Case("cu_tru_utf16.csv", "7: UTF-16 with BOM (Excel 'Unicode Text' saved as .csv, tab-separated)",
             "accepted", accepted=2, values={"UT2": {"full_name": "Lê Thị Thủy"}}),
        _csv_text(rows_utf16, delimiter="\t", newline="\r\n").encode("utf-16"),
    )  # fmt: skip
    add(
        Case("cu_tru_semicolon.csv", "7: semicolon-separated", "accepted", accepted=2, warning="chấm phẩy"),
        _csv_text([HEADER, person("SC1"), person("SC2")], delimiter=";"),
    )
    unterminated = _csv_text([HEADER, person("UQ1")]) + 'UQ2,001090012345,"Nguyễn Văn An,15/03/1990,Nam\n'
    unterminated += _csv_text([person("UQ3"), person("UQ4")])
    add(
        Case("cu_tru_unterminated_quote.csv", "8: a quote left open", "rows_quarantined", accepted=3, quarantined=1,
             reason="ngoặc kép"),
        unterminated,
    )  # fmt: skip
    add(
        Case("cap_cccd_invisible.csv", "9: full-width digits, BOM, zero-width and RTL marks in IDs", "accepted",
             accepted=3, values={"IV1": {"card_number": "001090012345"}, "IV2": {"card_number": "001090012345"},
                                 "IV3": {"card_number": "001090012345"}}),
        _csv_text([
            [CARD[c] for c in ("record_id", "card_number", "full_name", "birth_date", "sex", "card_issue_date")],
            ["IV1", "００１０９００１２３４５", "Lê Văn Bình", "1990", "Nam", "01/11/2026"],
            ["\ufeffIV2", "0010900\u200b12345\u200f", "Lê Văn Bình", "1990", "Nam", "01/11/2026"],
            ["IV3\u200e", "\u202b001090012345\u202c", "Lê Văn Bình", "1990", "Nam", "01/11/2026"],
        ]),
    )  # fmt: skip
    add(
        Case("cu_tru_odd_letter.csv", "10: a mostly correct name with one odd letter is not 'legacy'", "accepted",
             accepted=1, normalized={"OL1": {"full_name_norm": "Lê Khánh Thy Oânh", "legacy_encoded_columns": []}}),
        _csv_text([HEADER, person("OL1", "Lê Khánh Thy Oânh")]),
    )  # fmt: skip
    add(
        Case("cu_tru_titles_remarks.csv", "11: titles, remarks and reversed order in names", "accepted", accepted=3,
             normalized={"TR1": {"given_name": "An"}, "TR3": {"family_name": "Nguyễn", "given_name": "An"}}),
        _csv_text([HEADER, person("TR1", "Nguyễn Văn An (chết)"), person("TR2", "Bà Lê Thị Hoa"),
                   person("TR3", "An Nguyễn Văn")]),
    )  # fmt: skip
    add(
        Case("cu_tru_dates.csv", "13: every date form parse_date documents", "accepted", accepted=4,
             values={"DT1": {"birth_date": "1990-01-01"}, "DT2": {"birth_date": "1990-03-15"},
                     "DT3": {"birth_date": "1990-03-05"}, "DT4": {"birth_date": "1990"}}),
        _csv_text([HEADER, person("DT1", birth_date="1/1/90"), person("DT2", birth_date="19900315"),
                   person("DT3", birth_date="ngày 5 tháng 3 năm 1990"), person("DT4", birth_date="năm 1990")]),
    )  # fmt: skip
    damaged = _csv_text([HEADER, person("BU1", "Trần Văn Đức"), person("BU2", "Lê Thị Hoa")]).encode()
    damaged = damaged.replace("Đức".encode(), b"\xc4\x90\xe1\xbb")  # the last byte of "ứ" lost
    add(
        Case("cu_tru_bad_utf8_byte.csv", "message: one bad UTF-8 byte", "rows_quarantined", accepted=1,
             quarantined=1, reason="UTF-8", values={"BU2": {"full_name": "Lê Thị Hoa"}}),
        damaged,
    )  # fmt: skip
    add(
        Case("cu_tru_title_row.xlsx", "message: a title row above the header", "accepted", accepted=2,
             warning="phía trên dòng tiêu đề"),
        _xlsx([["DANH SÁCH ĐĂNG KÝ CƯ TRÚ THÁNG 11/2026"], [], HEADER, person("TT1"), person("TT2")]),
    )  # fmt: skip
    add(
        Case("cu_tru_column_b.xlsx", "message: a table starting in column B (and an STT column)", "accepted",
             accepted=2, warning="cột B"),
        _xlsx([["STT", *HEADER], [1, *person("CB1")], [2, *person("CB2")]], start_col=1),
    )  # fmt: skip
    add(
        Case("cu_tru_column_b.csv", "message: a CSV table starting in column B", "accepted", accepted=2),
        _csv_text([["", *HEADER], ["", *person("CC1")], ["", *person("CC2")]]),
    )
    add(
        Case("cu_tru_empty_header.csv", "message: an empty header cell over data", "file_quarantined",
             quarantined=2, reason="ô tiêu đề"),
        _csv_text([[*HEADER, ""], [*person("EH1"), "ghi chú"], [*person("EH2"), ""]]),
    )  # fmt: skip
    add(
        Case("cu_tru_new_column.csv", "message: a genuinely new column points at the mappings", "file_quarantined",
             quarantined=1, reason="records/mappings/residence.toml"),
        _csv_text([[*HEADER, "Số điện thoại"], [*person("NC1"), "0912345678"]]),
    )  # fmt: skip
    add(
        Case("cap_cccd_same_id_as_residence.csv", "message: a record id of another source is not a duplicate",
             "accepted", accepted=1),
        _csv_text([
            [CARD[c] for c in ("record_id", "card_number", "full_name", "birth_date", "sex", "card_issue_date")],
            ["NF1", "001090012345", "Nguyễn Văn An", "15/03/1990", "Nam", "01/11/2026"],
        ]),
    )  # fmt: skip
    add(
        Case("cu_tru_repeats_an_id.csv", "message: a real duplicate names the clashing file and row",
             "rows_quarantined", accepted=1, quarantined=1, reason="cu_tru_cr_only.csv, dòng 2"),
        _csv_text([HEADER, person("CR1"), person("RP1")]),
    )  # fmt: skip
    add(
        Case("cu_tru_missing_optional.csv", "required columns: only record id and name are required", "accepted",
             accepted=1, warning="permanent_address",
             values={"MO1": {"permanent_address": None, "birth_date": None}}),
        _csv_text([[RESIDENCE["record_id"], RESIDENCE["full_name"]], ["MO1", "Đỗ Văn Hùng"]]),
    )  # fmt: skip
    add(
        Case("cu_tru_missing_name.csv", "required columns: no name column", "file_quarantined", quarantined=1,
             reason="thiếu cột bắt buộc"),
        _csv_text([[RESIDENCE["record_id"], RESIDENCE["birth_date"]], ["MN1", "1990"]]),
    )  # fmt: skip
    add(
        Case("cu_tru_binary.csv", "a file that cannot be read is quarantined whole", "file_quarantined",
             quarantined=1, reason="không phải văn bản"),
        b"PK\x03\x04\x00\x00binary\x00\x00",
    )  # fmt: skip
    add(
        Case("cu_tru_empty.csv", "an empty file", "file_quarantined", quarantined=1, reason="rỗng"),
        b"",
    )
    add(
        Case("bao_cao_thang.csv", "a file no source recognizes", "file_quarantined", quarantined=1,
             reason="không nhận ra nguồn"),
        _csv_text([["Tháng", "Số hồ sơ"], ["11", "120"]]),
    )  # fmt: skip

    # Population base files (one is tonight's base in the nightly test; the others are read one by one).
    missing = _base_frame().drop("hometown")
    buffer = io.BytesIO()
    missing.write_parquet(buffer)
    add(
        Case("base_missing_columns.parquet", "3: base without current_address and father_name", "accepted",
             kind="base", accepted=3, warning="current_address"),
        buffer.getvalue(),
    )  # fmt: skip
    buffer = io.BytesIO()
    _base_frame().with_columns(pl.lit("x").alias("ghi_chu")).write_parquet(buffer)
    add(
        Case("base_extra_column.parquet", "3: base with a column outside the schema", "file_quarantined",
             kind="base", quarantined=3, reason="ghi_chu"),
        buffer.getvalue(),
    )  # fmt: skip
    buffer = io.BytesIO()
    _base_frame().with_columns(pl.Series("hometown", [["a"], [], None], dtype=pl.List(pl.String))).write_parquet(buffer)
    add(
        Case("base_nested_column.parquet", "4: base with a List column", "file_quarantined", kind="base",
             quarantined=3, reason="lồng nhau"),
        buffer.getvalue(),
    )  # fmt: skip
    buffer = io.BytesIO()
    _base_frame().with_columns(
        pl.Series("person_id", [1090012345.0, 79305000001.0, 1190012346.5]),
        pl.lit(None, dtype=pl.String).alias("source_row"),
    ).write_parquet(buffer)
    add(
        Case("base_float_ids.parquet", "5: float ID column and a lineage column in the base", "rows_quarantined",
             kind="base", accepted=2, quarantined=1, reason="số thập phân",
             values={"DC1": {"person_id": "001090012345"}, "DC2": {"person_id": "079305000001"}}),
        buffer.getvalue(),
    )  # fmt: skip
    assert set(CANONICAL_SCHEMA) >= {c for case in cases for v in case.values.values() for c in v}
    return cases


def main() -> None:
    cases = build()
    MANIFEST.write_text(json.dumps([asdict(c) for c in cases], ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(cases)} tệp trong {FILES}", file=sys.stderr)


if __name__ == "__main__":
    main()
