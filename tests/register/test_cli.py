"""``dancu register`` as a user runs it: build from canonical files, then show, diff, roll back the nightly versions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook

from datagen import generate_province
from pipelines.cli import main
from records.ingest import ingest_night
from register.changes import build_changes
from register.golden import register_columns
from register.store import RegisterStore
from register.types import CHANGES_SCHEMA
from tests.register.factories import NEXT_NIGHT, NIGHT, OLD_FORM, build, person

PROVINCE_NIGHT = dt.date(2026, 5, 4)


@pytest.fixture(scope="module")
def canonical_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("province")
    generate_province(400, 3, root / "in", night=PROVINCE_NIGHT)
    night = ingest_night(root / "in" / "population_base.parquet", root / "in" / "extracts" / PROVINCE_NIGHT.isoformat())
    extracts = night.extracts.accepted
    extract_file = root / "extracts.parquet"
    extracts.write_parquet(extract_file)
    return root / "in" / "population_base.parquet", extract_file


def test_build_from_canonical_files(canonical_files: tuple[Path, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    base, extract = canonical_files
    out = tmp_path / "out"
    code = main(["register", "--base", str(base), "--extract", str(extract), "--out", str(out),
                 "--night", PROVINCE_NIGHT.isoformat()])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "người / persons" in printed and "post_2025_address" in printed
    register = pl.read_parquet(out / "register.parquet")
    assert tuple(register.columns) == register_columns()
    assert register["person_key"].is_unique().all()
    members = register.explode("record_ids")["record_ids"]
    assert members.is_unique().all()
    inputs = set(pl.read_parquet(base)["record_id"]) | set(pl.read_parquet(extract)["record_id"])
    assert set(members) == inputs
    changes = pl.read_parquet(out / "changes.parquet")
    assert changes.schema == CHANGES_SCHEMA and changes.height > 0
    assert set(changes["record_id"]) <= set(pl.read_parquet(base)["record_id"])
    sheet = load_workbook(out / "changes.xlsx", read_only=True)["Thay đổi"]
    header = next(sheet.iter_rows(values_only=True))
    assert header[:4] == ("Đêm áp dụng", "Mã người (sổ sạch)", "Mã bản ghi CSDL", "Số định danh")


def test_build_needs_its_files(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["register", "--out", str(tmp_path)]) == 2
    assert "--base" in capsys.readouterr().err
    assert main(["register", "--base", str(tmp_path / "none.parquet"), "--out", str(tmp_path)]) == 2
    assert "none.parquet" in capsys.readouterr().err


def _store(tmp_path: Path) -> RegisterStore:
    store = RegisterStore(tmp_path / "register")
    first = build([person("B1", permanent_address=OLD_FORM)])
    store.write(NIGHT.isoformat(), first.register, build_changes(first, NIGHT))
    second = build(
        [person("B1", permanent_address=OLD_FORM), person("HT1", "civil_status", event_type="Khai tử",
                                                          death_date="2026-03-01")],
        night=NEXT_NIGHT, previous=first.register,
    )  # fmt: skip
    store.write(NEXT_NIGHT.isoformat(), second.register, build_changes(second, NEXT_NIGHT))
    return store


def test_show_diff_nights_and_rollback(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    store = _store(tmp_path)
    state = ["--state", str(store.root)]
    assert main(["register", "show", "HT1", *state]) == 0
    shown = capsys.readouterr().out
    assert "P-B1" in shown and "Đã chết" in shown and "HT1, Hộ tịch (Khai tử)" in shown
    assert "Phường Tam Chúc" in shown
    assert main(["register", "show", "037090001234", "--night", NIGHT.isoformat(), *state]) == 0
    assert "Còn sống" in capsys.readouterr().out
    assert main(["register", "diff", NIGHT.isoformat(), NEXT_NIGHT.isoformat(), *state]) == 0
    diffed = capsys.readouterr().out
    assert "Tình trạng" in diffed and "Đã chết" in diffed and "Trường thông tin" in diffed
    assert "person_key" not in diffed and "deceased" not in diffed  # the officers' words, not the column names
    assert main(["register", "nights", *state]) == 0
    assert f"* {NEXT_NIGHT.isoformat()}" in capsys.readouterr().out
    before = (store.version_dir(NIGHT.isoformat()) / "register.parquet").read_bytes()
    assert main(["register", "rollback", NEXT_NIGHT.isoformat(), *state]) == 0
    assert f"phiên bản đêm {NIGHT.isoformat()}" in capsys.readouterr().out
    assert store.register_path().read_bytes() == before
    assert main(["register", "show", "NOBODY", *state]) == 2
    assert "NOBODY" in capsys.readouterr().err
    assert main(["register", "rollback", "2020-01-01", *state]) == 2
    assert "2020-01-01" in capsys.readouterr().err
