"""The normalize assets (direct invocation and materialization) and the ``dancu normalize`` command."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pipelines.cli import main
from pipelines.defs.normalize.assets import normalized_base, normalized_extracts
from pipelines.engine_options import EngineResource
from pipelines.io import ParquetIOManager, output_frame
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths
from records.schema import conform
from state.base import BaseChanges

NIGHT = "2025-07-02"


def _records(source: str) -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {
                "record_id": [f"{source}-1", f"{source}-2"],
                "person_id": ["001090012345", "079305000001"],
                "full_name": ["NguyÔn V¨n An", "LÊ THỊ THUÝ"],
                "birth_date": ["1990-03-05", "2005"],
                "sex": ["Nam", "Nữ"],
                "permanent_address": ["P. Cống Vị, Q. Ba Đình, HN", "12 Nguyễn Huệ, P. Bến Nghé, Q.1, TP.HCM"],
                "current_address": ["Phuong Xyz, Ha Noi", None],
                "hometown": [None, None],
                "father_name": [None, None],
            }
        ),
        source=source,
    )


def test_assets_are_declared_for_the_normalize_stage() -> None:
    for asset in (normalized_base, normalized_extracts):
        spec = next(iter(asset.specs))
        assert spec.group_name == "normalize"
        assert "polars" in spec.kinds
        assert asset.partitions_def == nightly_partitions
        assert spec.description


def test_direct_invocation_with_metadata(tmp_path: Path) -> None:
    context = dg.build_asset_context(partition_key=NIGHT)
    paths = DancuPaths(input_dir=str(tmp_path / "in"), output_dir=str(tmp_path))
    output = normalized_base(
        context, population_base=BaseChanges.whole(_records("base"), NIGHT), paths=paths, engine=EngineResource()
    )
    frame = output.value.read()  # the night's version of the base in the state
    assert frame.height == 2
    assert frame["full_name_norm"].to_list() == ["Nguyễn Văn An", "Lê Thị Thúy"]
    metadata = output.metadata
    assert metadata["rows"].value == 2
    assert metadata["address_ambiguous"].value == 1
    assert metadata["address_resolved"].value == 1
    assert metadata["address_unresolved"].value == 1
    assert metadata["legacy_encoded_records"].value == 1
    extracts = normalized_extracts(
        dg.build_asset_context(partition_key=NIGHT), extract_records=_records("card"), engine=EngineResource()
    )
    assert extracts.value["source"].to_list() == ["card", "card"]


def test_materialize_through_the_io_manager(tmp_path: Path) -> None:
    @dg.asset(partitions_def=nightly_partitions, group_name="ingest")
    def population_base() -> BaseChanges:
        return BaseChanges.whole(_records("base"), NIGHT)

    result = dg.materialize(
        [population_base, normalized_base],
        partition_key=NIGHT,
        resources={
            "io_manager": ParquetIOManager(base_dir=str(tmp_path)),
            "paths": DancuPaths(input_dir=str(tmp_path / "in"), output_dir=str(tmp_path)),
            "engine": EngineResource(),
        },
    )
    assert result.success
    # The output refers to the night's version of the base in the state instead of copying it.
    assert (tmp_path / "nights" / NIGHT / "normalized_base" / "version.json").exists()
    stored = output_frame(tmp_path, NIGHT, "normalized_base")
    assert stored["permanent_address_candidates"].to_list()[0] == ["00008", "00025"]
    materialization = result.asset_materializations_for_node("normalized_base")[0]
    assert materialization.metadata["rows"].value == 2
    assert materialization.metadata["address_ambiguous"].value == 1


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_cli_normalizes_minimal_file(tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]) -> None:
    minimal = _records("base").select(
        "record_id", "person_id", "full_name", "birth_date", "sex", "permanent_address", "current_address"
    )
    source = tmp_path / f"people{suffix}"
    if suffix == ".csv":
        minimal.write_csv(source)
    elif suffix == ".xlsx":
        minimal.write_excel(source)
    else:
        minimal.write_parquet(source)
    target = tmp_path / "out.parquet"
    assert main(["normalize", "--input", str(source), "--output", str(target), "--as-of", NIGHT]) == 0
    out = pl.read_parquet(target)
    assert out["person_id"].to_list() == ["001090012345", "079305000001"]  # leading zeros kept
    assert out["person_id_valid"].to_list() == [True, True]
    assert out["person_id_birth_year"].to_list() == [1990, 2005]
    assert out["permanent_address_status"].to_list() == ["ambiguous", "resolved"]
    assert out["permanent_address_ward_code"].to_list() == [None, "26740"]
    assert "Đã chuẩn hóa 2 bản ghi" in capsys.readouterr().out


def test_cli_errors_are_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing_column = tmp_path / "bad.csv"
    pl.DataFrame({"record_id": ["1"], "birth_date": ["1990"]}).write_csv(missing_column)
    assert main(["normalize", "--input", str(missing_column), "--output", str(tmp_path / "o.parquet")]) == 2
    assert "thiếu cột bắt buộc" in capsys.readouterr().err
    assert main(["normalize", "--input", str(tmp_path / "none.csv"), "--output", str(tmp_path / "o.parquet")]) == 2
    assert "không tìm thấy tệp" in capsys.readouterr().err
    assert main(["normalize", "--input", str(missing_column), "--output", str(tmp_path / "o.csv")]) == 2
    assert ".parquet" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("encoding", "delimiter", "newline"),
    [("cp1258", ",", "\r\n"), ("utf-16", "\t", "\r\n"), ("utf-8-sig", ";", "\r"), ("utf-8", ",", "\n")],
)
def test_cli_reads_encodings_delimiters_and_line_endings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str, delimiter: str, newline: str
) -> None:
    from records.encodings import encode_cp1258

    rows = [
        ["record_id", "full_name", "person_id"],
        ["1", "Nguyễn Thị Hòa", "37304203655.0"],
        ["2", "Trần Văn Đức", "x"],
    ]
    text = newline.join(delimiter.join(row) for row in rows) + newline
    source = tmp_path / "people.csv"
    source.write_bytes(encode_cp1258(text) if encoding == "cp1258" else text.encode(encoding))
    target = tmp_path / "out.parquet"
    assert main(["normalize", "--input", str(source), "--output", str(target), "--as-of", NIGHT]) == 0
    out = pl.read_parquet(target)
    assert out["full_name_norm"].to_list() == ["Nguyễn Thị Hòa"]  # row 2's ID is not digits: quarantined
    assert out["person_id"].to_list() == ["037304203655"]
    quarantine = pl.read_parquet(tmp_path / "out.quarantine.parquet")
    assert quarantine["source_row"].to_list() == [3] and "chữ số" in quarantine["reason"][0]
    assert "Cách ly 1 dòng" in capsys.readouterr().out
