"""The output layout others depend on: files, schema, record ids, truth coverage, manifest."""

from __future__ import annotations

from datagen.mappings import source_mapping
from records.schema import CANONICAL_SCHEMA, validate_canonical
from tests.datagen.conftest import NIGHT, Province


def test_files_are_where_the_contract_says(province: Province) -> None:
    out = province.result.out_dir
    assert (out / "population_base.parquet").is_file()
    for name in ("persons.parquet", "defects.parquet", "manifest.json"):
        assert (out / "truth" / name).is_file()
    nights = sorted(p.name for p in (out / "extracts").iterdir())
    assert nights == ["2025-11-01", "2025-11-02", NIGHT.isoformat()]
    for night in nights:
        stems = sorted(p.stem for p in (out / "extracts" / night).iterdir())
        assert stems == ["cap_cccd", "cu_tru", "ho_tich"]


def test_base_follows_the_canonical_schema(province: Province) -> None:
    base = province.base
    assert base.schema == CANONICAL_SCHEMA
    assert base["source"].unique().to_list() == ["base"]
    assert base["record_id"].str.contains(r"^B\d{9}$").all()
    assert base["household_id"].null_count() < base.height
    assert base["last_verified_date"].null_count() == 0
    # Values that are malformed on purpose live in the extracts; the base itself passes the schema check.
    validate_canonical(base)


def test_record_ids_are_unique_across_base_and_extracts(province: Province) -> None:
    ids = province.base["record_id"].to_list()
    prefixes = {"residence": "CT", "civil_status": "HT", "card": "CC"}
    for entry in province.manifest["files"]:  # type: ignore[attr-defined]
        frame = province.extracts[entry["path"]]
        assert frame["record_id"].str.starts_with(prefixes[entry["source"]]).all()
        ids += frame["record_id"].to_list()
    assert len(ids) == len(set(ids))


def test_truth_covers_every_record(province: Province) -> None:
    persons = province.persons
    assert persons.columns[:3] == ["record_id", "source", "true_person"]
    expected = {("base", rid) for rid in province.base["record_id"]}
    for entry in province.manifest["files"]:  # type: ignore[attr-defined]
        expected |= {(entry["source"], rid) for rid in province.extracts[entry["path"]]["record_id"]}
    assert set(zip(persons["source"], persons["record_id"], strict=True)) == expected
    assert persons["true_person"].null_count() == 0
    # The people count is the number of true persons of the province (unregistered newborns included).
    base_people = persons.filter(persons["source"] == "base")["true_person"].n_unique()
    assert base_people <= province.result.people


def test_defects_point_at_existing_records(province: Province) -> None:
    known = set(zip(province.persons["source"], province.persons["record_id"], strict=True))
    defects = province.defects
    assert defects.columns == ["record_id", "source", "defect", "field", "detail"]
    assert set(zip(defects["source"], defects["record_id"], strict=True)) <= known


def test_manifest_counts_rows(province: Province) -> None:
    manifest = province.manifest
    assert manifest["parameters"]["people"] == 2000  # type: ignore[index]
    rows = manifest["rows"]
    assert rows["population_base.parquet"] == province.base.height  # type: ignore[index]
    for path, frame in province.extracts.items():
        assert rows[path] == frame.height  # type: ignore[index]
    assert set(manifest["defect_rates"]) >= {"duplicate_person", "expired_card", "malformed_row"}  # type: ignore[arg-type]


def test_headers_come_from_the_mapping_files(province: Province) -> None:
    first_alias_hits = 0
    total = 0
    for entry in province.manifest["files"]:  # type: ignore[attr-defined]
        mapping = source_mapping(entry["source"])
        header_row = province.headers[entry["path"]]
        assert len(header_row) == len(mapping.columns)
        for (canonical, aliases), header in zip(mapping.columns.items(), header_row, strict=True):
            assert header in aliases, (canonical, header)
            first_alias_hits += header == aliases[0]
            total += 1
    assert first_alias_hits / total > 0.7


def test_controlled_values_come_from_the_mapping_files(province: Province) -> None:
    for entry in province.manifest["files"]:  # type: ignore[attr-defined]
        mapping = source_mapping(entry["source"])
        frame = province.extracts[entry["path"]]
        for column, table in mapping.values.items():
            allowed = set(table) | {alias for aliases in table.values() for alias in aliases}
            values = set(frame[column].drop_nulls().to_list())
            # Legacy-font rows never touch controlled values, so every value is a known spelling.
            assert values <= allowed, (entry["path"], column, values - allowed)
