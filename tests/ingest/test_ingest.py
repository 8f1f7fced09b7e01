"""Ingest: every error path quarantines with file, row, field and reason; read = accepted + quarantined."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from openpyxl import Workbook

from records.encodings import encode_cp1258
from records.ingest import IdRegistry, IngestError, decode_bytes, ingest_base, ingest_extracts, ingest_file
from records.mappings import load_mapping
from records.schema import CANONICAL_SCHEMA, REQUIRED_COLUMNS

RESIDENCE = load_mapping("residence")
H = RESIDENCE.headers()
HEADER = [
    H[c]
    for c in (
        "record_id",
        "person_id",
        "full_name",
        "birth_date",
        "sex",
        "permanent_address",
        "event_type",
        "registration_date",
    )
]
GOOD = [
    "CT1",
    "001090012345",
    "Nguyễn Văn An",
    "15/03/1990",
    "Nam",
    "Phường Ba Đình, Thành phố Hà Nội",
    "Đăng ký thường trú",
    "01/11/2026",
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    text = "\n".join(delimiter.join(f'"{c}"' if delimiter in c else c for c in row) for row in rows) + "\n"
    path.write_bytes(encode_cp1258(text) if encoding == "cp1258" else text.encode(encoding))
    return path


def assert_counts(result) -> None:  # type: ignore[no-untyped-def]
    result.check_counts()
    assert result.rows_read == result.accepted.height + result.quarantine.height


def test_good_file_is_canonical(tmp_path: Path) -> None:
    result = ingest_file(write_csv(tmp_path / "cu_tru.csv", [HEADER, GOOD]))
    assert_counts(result)
    assert result.quarantine.height == 0
    row = result.accepted.row(0, named=True)
    assert result.accepted.schema == CANONICAL_SCHEMA
    assert row["birth_date"] == "1990-03-15"
    assert row["source"] == "residence"
    assert row["event_type"] == "Đăng ký thường trú"
    assert (row["source_file"], row["source_row"]) == ("cu_tru.csv", "2")


def test_partial_dates_keep_their_precision(tmp_path: Path) -> None:
    rows = [HEADER]
    for i, date in enumerate(["00/00/1950", "1950", "03/1961", "00/04/1972", "1980-05-06"]):
        rows.append([f"CT{i}", *GOOD[1:3], date, *GOOD[4:]])
    result = ingest_file(write_csv(tmp_path / "cu_tru.csv", rows))
    assert result.accepted["birth_date"].to_list() == ["1950", "1950", "1961-03", "1972-04", "1980-05-06"]


def test_unknown_column_quarantines_the_file_naming_the_header(tmp_path: Path) -> None:
    result = ingest_file(write_csv(tmp_path / "cu_tru.csv", [[*HEADER, "Cột lạ"], [*GOOD, "x"]]))
    assert_counts(result)
    assert result.accepted.height == 0
    row = result.quarantine.row(0, named=True)
    assert row["field"] == "Cột lạ" and row["source_row"] == 2 and "không có trong bảng ánh xạ" in row["reason"]
    assert "Cột lạ" in result.files["error"][0]


def test_missing_required_column(tmp_path: Path) -> None:
    without_name = [[c for i, c in enumerate(r) if i != 2] for r in (HEADER, GOOD)]
    result = ingest_file(write_csv(tmp_path / "cu_tru.csv", without_name))
    assert_counts(result)
    row = result.quarantine.row(0, named=True)
    assert row["field"] == H["full_name"] and "thiếu cột bắt buộc" in row["reason"]
    assert row["source_row"] == 2  # the header row is not a data row


def test_missing_optional_column_is_null_with_a_warning(tmp_path: Path) -> None:
    result = ingest_file(write_csv(tmp_path / "cu_tru.csv", [HEADER[:-1], GOOD[:-1]]))
    assert_counts(result)
    assert result.accepted.height == 1 and result.accepted["registration_date"][0] is None
    assert "registration_date" in result.files["warnings"][0]


def test_undecodable_file(tmp_path: Path) -> None:
    path = tmp_path / "cu_tru.csv"
    path.write_bytes(b"\x00\x01\x02binary\x00")
    result = ingest_file(path)
    assert_counts(result)
    assert result.quarantine.height == 1 and "không phải văn bản" in result.quarantine["reason"][0]
    with pytest.raises(IngestError, match=r"cu_tru\.csv"):
        decode_bytes(b"\x00", "cu_tru.csv")


def test_malformed_row_wrong_field_count(tmp_path: Path) -> None:
    result = ingest_file(write_csv(tmp_path / "cu_tru.csv", [HEADER, GOOD, ["CT2", "x"], [*GOOD[:1], *GOOD[1:]]]))
    assert_counts(result)
    bad = result.quarantine.filter(pl.col("source_row") == 3).row(0, named=True)
    assert "dòng có 2 trường" in bad["reason"]
    # the fourth row repeats record id CT1: the first one wins, the repeat is quarantined
    dup = result.quarantine.filter(pl.col("source_row") == 4).row(0, named=True)
    assert dup["field"] == "record_id" and "trùng" in dup["reason"]


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("birth_date", "31/02/1990", "không tồn tại"),
        ("birth_date", "ngày xưa", "không đọc được ngày"),
        ("sex", "X", "không hợp lệ cho sex"),
        ("person_id", "00109001234", "12 chữ số"),
        ("person_id", "00109001234A", "chỉ được chứa chữ số"),
        ("event_type", "Đăng ký lung tung", "không hợp lệ cho event_type"),
        ("record_id", "", "thiếu mã bản ghi"),
    ],
)
def test_impossible_values_are_quarantined_naming_the_field(
    tmp_path: Path, column: str, value: str, expected: str
) -> None:
    keys = [
        "record_id",
        "person_id",
        "full_name",
        "birth_date",
        "sex",
        "permanent_address",
        "event_type",
        "registration_date",
    ]
    bad = list(GOOD)
    bad[keys.index(column)] = value
    good2 = ["CT9", *GOOD[1:]]
    result = ingest_file(write_csv(tmp_path / "cu_tru.csv", [HEADER, bad, good2]))
    assert_counts(result)
    assert result.accepted.height == 1
    row = result.quarantine.row(0, named=True)
    assert (row["source_file"], row["source_row"], row["field"]) == ("cu_tru.csv", 2, column)
    assert expected in row["reason"]
    assert json.loads(row["raw_values"])[HEADER[keys.index(column)]] == value


def test_cp1258_file_decodes_to_nfc(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cu_tru.csv", [HEADER, GOOD], encoding="cp1258")
    result = ingest_file(path)
    assert result.files["encoding"][0] == "cp1258"
    assert result.accepted["full_name"][0] == "Nguyễn Văn An"


def test_semicolon_and_bom(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cu_tru.csv", [HEADER, GOOD], encoding="utf-8-sig", delimiter=";")
    result = ingest_file(path)
    assert result.accepted.height == 1 and result.files["encoding"][0] == "utf-8-sig"


def test_legacy_encoded_coded_values_are_understood(tmp_path: Path) -> None:
    # "Nữ" typed in TCVN3 (.VnTime) reads as "N÷"; the coded column still maps to the canonical value.
    row = ["CT1", "001190012345", "TrÇn ThÞ Hoa", "1990", "N÷", "Hµ Néi", "Đăng ký thường trú", "01/11/2026"]
    result = ingest_file(write_csv(tmp_path / "cu_tru.csv", [HEADER, row]))
    assert result.quarantine.height == 0, result.quarantine
    assert result.accepted["sex"][0] == "Nữ"
    assert result.accepted["full_name"][0] == "TrÇn ThÞ Hoa"  # repairing text is normalization's job


def test_xlsx_cells_dates_serials_and_numeric_ids(tmp_path: Path) -> None:
    card = load_mapping("card").headers()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        [
            card[c]
            for c in (
                "record_id",
                "card_number",
                "full_name",
                "birth_date",
                "sex",
                "card_issue_date",
                "card_expiry_date",
            )
        ]
    )
    sheet.append(["CC1", 1090012345, "Lê Thị Bình", dt.datetime(1990, 3, 15), "Nữ", 45000, "15/03/2030"])
    sheet.append(["CC2", "001090012346", "Lê Văn Cường", "00/00/1950", "Nam", "2026-11-01", None])
    workbook.save(tmp_path / "cap_cccd.xlsx")
    result = ingest_file(tmp_path / "cap_cccd.xlsx")
    assert_counts(result)
    assert result.quarantine.height == 0, result.quarantine
    first = result.accepted.row(0, named=True)
    assert first["card_number"] == "001090012345" and first["person_id"] == "001090012345"
    assert first["birth_date"] == "1990-03-15" and first["card_issue_date"] == "2023-03-15"
    assert result.accepted["birth_date"][1] == "1950"


def test_unrecognized_file_is_reported_not_ignored(tmp_path: Path) -> None:
    (tmp_path / "thu_gui_so.docx").write_bytes(b"PK")
    (tmp_path / "cu_tru.csv.part").write_bytes(b"half")
    write_csv(tmp_path / "cu_tru.csv", [HEADER, GOOD])
    result = ingest_extracts(tmp_path)
    assert_counts(result)
    assert sorted(result.files["source_file"].to_list()) == ["cu_tru.csv", "thu_gui_so.docx"]
    assert "không nhận ra nguồn" in result.quarantine["reason"][0]


def test_record_ids_are_unique_within_a_source_only(tmp_path: Path) -> None:
    base = pl.DataFrame({c: ["CT1"] if c == "record_id" else ["x"] for c in REQUIRED_COLUMNS}).with_columns(
        pl.lit(None, dtype=pl.String).alias("person_id"),
        pl.lit("1990").alias("birth_date"),
        pl.lit("Nam").alias("sex"),
    )
    base.write_parquet(tmp_path / "population_base.parquet")
    taken = IdRegistry()
    base_result = ingest_base(tmp_path / "population_base.parquet", taken_ids=taken)
    assert base_result.accepted.height == 1 and base_result.accepted["source"][0] == "base"
    extracts = tmp_path / "x"
    extracts.mkdir()
    write_csv(extracts / "cu_tru.csv", [HEADER, GOOD])
    write_csv(extracts / "cu_tru_2.csv", [HEADER, GOOD])
    result = ingest_extracts(extracts, taken_ids=taken)
    # CT1 of the base and CT1 of the residence extract are two records; CT1 twice in residence is a duplicate
    assert result.accepted.height == 1 and result.accepted["source_file"][0] == "cu_tru.csv"
    reason = result.quarantine["reason"][0]
    assert "trùng" in reason and "cu_tru.csv, dòng 2" in reason


def test_base_with_only_required_columns_and_missing_column(tmp_path: Path) -> None:
    frame = pl.DataFrame({c: [f"{c}-1"] for c in REQUIRED_COLUMNS}).with_columns(
        pl.lit("001090012345").alias("person_id"),
        pl.lit("1990-01-02").alias("birth_date"),
        pl.lit("Nữ").alias("sex"),
    )
    frame.write_csv(tmp_path / "base.csv")
    result = ingest_base(tmp_path / "base.csv")
    assert result.accepted.height == 1 and result.accepted.schema == CANONICAL_SCHEMA
    assert "current_address" in result.files["warnings"][0]
    frame.drop("full_name").write_parquet(tmp_path / "base.parquet")
    broken = ingest_base(tmp_path / "base.parquet")
    assert_counts(broken)
    assert broken.accepted.height == 0 and broken.quarantine["field"][0] == "full_name"


def test_card_file_without_card_number_column_is_read(tmp_path: Path) -> None:
    # person_id is derived from card_number in card files; without the column there is nothing to derive.
    card = load_mapping("card").headers()
    path = write_csv(tmp_path / "cap_cccd.csv", [[card["record_id"], card["full_name"]], ["CC1", "Lê Văn Bình"]])
    result = ingest_file(path)
    assert_counts(result)
    assert result.accepted.height == 1 and result.accepted["person_id"][0] is None


def test_generated_ids_written_as_numbers_are_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CSV whose ID columns lost their leading zeros in a spreadsheet ("37304203655") is read with the zeros put
    back: the same 12 digits as the base holds for that person, and no row quarantined for its ID."""
    import datagen.extracts
    from datagen import generate_province
    from records.ingest import ingest_night

    monkeypatch.setattr(datagen.extracts, "_NUMERIC_ID_FILE_SHARE", 1.0)
    night = dt.date(2025, 11, 1)
    result = generate_province(4000, 3, tmp_path, night=night, nights=1)
    defects = pl.read_parquet(result.defects_path)
    stripped = defects.filter(pl.col("defect") == "id_as_number")
    assert stripped.height > 20
    ingested = ingest_night(result.base_path, tmp_path / "extracts" / night.isoformat(), as_of=night)
    accepted = ingested.extracts.accepted
    truth = pl.read_parquet(result.persons_path).select("record_id", "true_person")
    read = (
        accepted.with_columns(pl.col("record_id").str.replace(r"^[a-z_]+:", ""))
        .join(stripped.filter(pl.col("field") == "person_id").select("record_id"), on="record_id", how="semi")
        .join(truth, on="record_id")
    )
    malformed = defects.filter(pl.col("defect") == "malformed_row")
    kept = stripped.filter(pl.col("field") == "person_id").join(malformed, on="record_id", how="anti")
    assert read.height == kept.height  # every row but those quarantined for another field
    base = ingested.base.accepted.join(truth, on="record_id").select("true_person", pl.col("person_id").alias("_id"))
    compared = read.join(base, on="true_person", how="inner")
    assert compared.height > 10
    assert (compared["person_id"].str.len_chars() == 12).all()
    # Every stripped ID is back to the digits its person's base record holds, except the errors the generator put
    # there on purpose (a sibling's or reissued ID), which are logged as defects of their own.
    other = defects.filter(pl.col("defect").is_in(["sibling_id", "reissued_id", "shared_id"]))["record_id"]
    clean = compared.filter(~pl.col("record_id").is_in(other.implode()))
    assert clean.height > 10
    assert (clean["person_id"] == clean["_id"]).all()
    problems = ingested.extracts.quarantine.filter(pl.col("field").is_in(["person_id", "card_number"]))
    assert problems.height == malformed.filter(pl.col("field").is_in(["person_id", "card_number"])).height
