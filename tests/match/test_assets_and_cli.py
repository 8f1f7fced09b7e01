from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from matchers.engine.nightly import pair_store
from matchers.engine.types import LABEL_SCHEMA
from pipelines.cli import main
from pipelines.defs.match.assets import candidate_pairs, person_clusters, review_labels, scored_pairs
from pipelines.io import output_frame, write_folder_atomic, write_parquet_atomic
from pipelines.partitions import nightly_partitions
from pipelines.resources import build_resources
from state.base import base_store

# Records 1 and 2 are one man (day and month swapped on one), record 3 another person.
_THREE_PEOPLE: dict[str, list[str | None]] = {
    "record_id": ["1", "2", "3"],
    "person_id": ["001085000001", None, "079190000123"],
    "full_name": ["Nguyễn Văn An", "NGUYEN VAN AN", "Trần Thị Bích"],
    "birth_date": ["1985-03-07", "1985-07-03", "1990-01-02"],
    "sex": ["Nam", "Nam", "Nữ"],
    "permanent_address": ["12 Lê Lợi, P. Thượng Đình, Q. Thanh Xuân, HN"] * 3,
    "current_address": [None, None, None],
    "hometown": [None, None, None],
    "father_name": ["Nguyễn Văn Bình", "Nguyễn Văn Bình", None],
}


def _stage_inputs(output_dir: Path, night: str, base: pl.DataFrame, extract: pl.DataFrame) -> None:
    """The normalize stage's outputs: the base as a state version (built on the previous night's), the extract."""
    folder = output_dir / "nights" / night
    store = base_store(output_dir / "state")
    previous = store.latest(before=night)
    records = base.drop("entity")
    added = records if previous is None else records.join(previous.read(["record_id"]), on="record_id", how="anti")
    version = store.commit(night, base=previous, added=added)
    write_folder_atomic(version, "table_version", folder / "normalized_base")
    write_parquet_atomic(extract.drop("entity"), folder / "normalized_extracts.parquet")


def _materialize(tmp_path: Path, night: str) -> dg.ExecuteInPlaceResult:
    upstream = [
        dg.AssetSpec(key, partitions_def=nightly_partitions) for key in ("normalized_base", "normalized_extracts")
    ]
    return dg.materialize(
        [*upstream, candidate_pairs, scored_pairs, person_clusters],
        partition_key=night,
        resources=build_resources(str(tmp_path / "in"), str(tmp_path / "out")),
        selection=[candidate_pairs, scored_pairs, person_clusters],
    )


def test_match_assets_over_two_nights(tmp_path: Path, base: pl.DataFrame, extract: pl.DataFrame) -> None:
    small_base, small_extract = base.head(1200), extract.head(200)
    for night in ("2025-07-02", "2025-07-03"):
        _stage_inputs(tmp_path / "out", night, small_base, small_extract)
    first = _materialize(tmp_path, "2025-07-02")
    assert first.success
    metadata = first.asset_materializations_for_node("candidate_pairs")[0].metadata
    assert metadata["full"].value is True and metadata["training"].value is True
    assert metadata["pairs_link"].value > 0
    second = _materialize(tmp_path, "2025-07-03")
    again = second.asset_materializations_for_node("candidate_pairs")[0].metadata
    assert again["full"].value is False and again["training"].value is False
    assert again["dirty_records"].value == 0 and again["pairs_dedupe"].value == 0  # nothing changed in the base
    out = tmp_path / "out"
    pairs = output_frame(out, "2025-07-03", "scored_pairs")
    # Tonight's output: every link, and the base pairs at match or review; every base pair is in the state.
    assert set(pairs.get_column("kind").unique()) <= {"dedupe", "link"} and "link" in set(pairs["kind"])
    stored = pair_store(out / "state").version("2025-07-03")
    assert stored.rows == first.asset_materializations_for_node("candidate_pairs")[0].metadata["pairs_dedupe"].value
    assert stored.rows > 0 and set(stored.read(["kind"])["kind"]) == {"dedupe"}
    assert {"level_name", "weight_name", "match_probability", "decision"} <= set(pairs.columns)
    assert pairs.equals(output_frame(out, "2025-07-02", "scored_pairs"))  # the base pairs are kept from night 1
    clusters_1 = output_frame(out, "2025-07-02", "person_clusters")
    clusters_2 = output_frame(out, "2025-07-03", "person_clusters")
    assert clusters_1.height == small_base.height + small_extract.height
    assert clusters_1.sort("record_id").equals(clusters_2.sort("record_id"))  # same input → same ids next night
    assert sorted(p.name for p in (out / "state" / "match_index").glob("v-*.json")) == [
        "v-2025-07-02.json",
        "v-2025-07-03.json",
    ]


def test_review_labels_read_from_the_task_store(tmp_path: Path) -> None:
    # The store is created on first use; before any decision there are no labels, in the engine's label schema.
    # Decisions becoming labels is covered with the real review flow in tests/console/test_store.py.
    labels = review_labels(f"sqlite:///{tmp_path / 'store.sqlite'}")
    assert labels.schema == LABEL_SCHEMA and labels.height == 0
    assert (tmp_path / "store.sqlite").exists()


def test_cli_dedupe_match_evaluate(
    tmp_path: Path,
    base: pl.DataFrame,
    extract: pl.DataFrame,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base_file, extract_file, truth_file = (
        tmp_path / "base.parquet",
        tmp_path / "extract.parquet",
        tmp_path / "t.parquet",
    )
    base.drop("entity").write_parquet(base_file)
    extract.drop("entity").write_parquet(extract_file)
    pl.concat([base.select("record_id", "entity"), extract.select("record_id", "entity")]).write_parquet(truth_file)

    assert main(["dedupe", "--base", str(base_file), "--out", str(tmp_path / "d")]) == 0
    pairs = pl.read_parquet(tmp_path / "d" / "pairs.parquet")
    assert pairs.columns[:4] == ["left_id", "right_id", "match_probability", "match_weight"]
    clusters = pl.read_parquet(tmp_path / "d" / "clusters.parquet")
    assert clusters.height == base.height
    capsys.readouterr()
    code = main(
        [
            "evaluate",
            "--truth",
            str(truth_file),
            "--pairs",
            str(tmp_path / "d" / "pairs.parquet"),
            "--entity-column",
            "entity",
            "--left-records",
            str(base_file),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    f1 = float(next(line for line in printed.splitlines() if line.startswith("F1")).split()[-1])
    assert f1 >= 0.95

    assert main(["match", "--base", str(base_file), "--extract", str(extract_file), "--out", str(tmp_path / "m")]) == 0
    assert "dựng mới" in capsys.readouterr().out
    first_clusters = pl.read_parquet(tmp_path / "m" / "clusters.parquet")
    import pipelines.commands.match as match_command

    read = match_command.read_command_records
    reads: list[Path] = []

    def spying(path: Path, settings: object, out: Path) -> pl.DataFrame:
        reads.append(path)
        return read(path, settings, out)  # type: ignore[arg-type]

    monkeypatch.setattr(match_command, "read_command_records", spying)
    assert main(["match", "--base", str(base_file), "--extract", str(extract_file), "--out", str(tmp_path / "m")]) == 0
    assert "dùng lại" in capsys.readouterr().out
    assert reads == [extract_file]  # the index of this very base file is reused: the base is not read again
    assert (
        pl.read_parquet(tmp_path / "m" / "clusters.parquet").sort("record_id").equals(first_clusters.sort("record_id"))
    )
    monkeypatch.undo()
    code = main(
        [
            "evaluate",
            "--truth",
            str(truth_file),
            "--pairs",
            str(tmp_path / "m" / "pairs.parquet"),
            "--left-records",
            str(extract_file),
            "--right-records",
            str(base_file),
        ]
    )
    printed = capsys.readouterr().out
    precision = float(next(line for line in printed.splitlines() if "precision" in line).split()[-1])
    assert precision >= 0.99

    assert main(["dedupe", "--base", str(tmp_path / "missing.parquet"), "--out", str(tmp_path / "x")]) == 2
    assert main(["dedupe", "--base", str(base_file), "--out", str(tmp_path / "x"), "--match-threshold", "0.1"]) == 2


def test_cli_normalizes_canonical_files(tmp_path: Path) -> None:
    from records.schema import conform

    rows = _THREE_PEOPLE
    conform(pl.DataFrame(rows), source="base").write_csv(tmp_path / "base.csv")
    assert main(["dedupe", "--base", str(tmp_path / "base.csv"), "--out", str(tmp_path / "out")]) == 0
    pairs = pl.read_parquet(tmp_path / "out" / "pairs.parquet")
    assert pairs.filter((pl.col("left_id") == "1") & (pl.col("right_id") == "2")).height == 1
    involving_third = pairs.filter((pl.col("left_id") == "3") | (pl.col("right_id") == "3"))
    assert "match" not in involving_third.get_column("decision").to_list()


def test_cli_reads_text_files_as_the_nightly_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A CSV in Windows-1258 with semicolons and a broken row gives the pairs its UTF-8 twin gives; the broken row is
    quarantined beside the output with its line number, not dropped and not a crash."""
    from records.encodings import encode_cp1258
    from records.schema import conform

    rows = _THREE_PEOPLE
    frame = conform(pl.DataFrame(rows), source="base")
    frame.write_csv(tmp_path / "utf8.csv")
    lines = frame.write_csv(separator=";").splitlines()
    lines.insert(2, "4;079190000124;Lê Văn Cường")  # too few fields
    (tmp_path / "legacy.csv").write_bytes(encode_cp1258("\r\n".join(lines) + "\r\n"))
    assert main(["dedupe", "--base", str(tmp_path / "utf8.csv"), "--out", str(tmp_path / "a")]) == 0
    assert main(["dedupe", "--base", str(tmp_path / "legacy.csv"), "--out", str(tmp_path / "b")]) == 0
    columns = ["left_id", "right_id", "decision", "match_probability"]
    assert (
        pl.read_parquet(tmp_path / "b" / "pairs.parquet")
        .select(columns)
        .equals(pl.read_parquet(tmp_path / "a" / "pairs.parquet").select(columns))
    )
    quarantined = pl.read_parquet(tmp_path / "b" / "legacy.quarantine.parquet")
    assert quarantined.select("source_file", "source_row").rows() == [("legacy.csv", 3)]
    assert not (tmp_path / "a" / "utf8.quarantine.parquet").exists()
    assert "legacy.csv, dòng 3" in capsys.readouterr().out


def test_cli_reads_an_extract_in_its_own_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A residence extract as the nightly receives it (Vietnamese headers, its own file name or another) links to
    the base without being converted to the canonical schema first."""
    from datagen.generator import generate_province

    generate_province(400, 7, tmp_path / "p", night=dt.date(2026, 11, 20))
    extract = next((tmp_path / "p" / "extracts").rglob("cu_tru*.csv"))
    renamed = tmp_path / "export.csv"
    renamed.write_bytes(extract.read_bytes())
    base = tmp_path / "p" / "population_base.parquet"
    assert main(["match", "--base", str(base), "--extract", str(renamed), "--out", str(tmp_path / "m")]) == 0
    assert "như tệp trích xuất / read as an extract: residence" in capsys.readouterr().out
    clusters = pl.read_parquet(tmp_path / "m" / "clusters.parquet")
    linked = clusters.filter(pl.col("source") != "base")
    assert linked.height > 0 and linked.get_column("source").unique().to_list() == ["residence"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_command_records_are_normalized_as_of_the_night_given(tmp_path: Path, suffix: str) -> None:
    """``dancu register --night N`` judges dates against N, not against the day it runs: a birth date after the
    night is impossible on that night, whether the file is a CSV read by ingest or a canonical Parquet file."""
    from matchers.engine.population import population_settings
    from pipelines.person_files import read_command_records
    from records.schema import conform

    rows = dict(_THREE_PEOPLE)
    rows["birth_date"] = ["1985-03-07", "1985-07-03", "2025-12-01"]
    source = tmp_path / f"base{suffix}"
    frame = conform(pl.DataFrame(rows), source="base")
    frame.write_csv(source) if suffix == ".csv" else frame.write_parquet(source)
    settings = population_settings()
    on_the_night = read_command_records(source, settings, tmp_path / "out", as_of=dt.date(2025, 11, 3))
    later = read_command_records(source, settings, tmp_path / "out", as_of=dt.date(2026, 1, 1))
    assert on_the_night.get_column("birth_date_valid").to_list() == [True, True, False]
    assert later.get_column("birth_date_valid").to_list() == [True, True, True]
