"""A two-night run of the check and report assets on hand-built upstream data (stub ingest/normalize/match assets)."""

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from checks.incremental import NightFindings
from pipelines.defs.check import asset_checks, assets
from pipelines.defs.register import assets as register_assets
from pipelines.defs.report import match_report, quality_report
from pipelines.defs.report.tasks import OUTCOME_SCHEMA
from pipelines.io import ParquetIOManager, output_frame
from pipelines.nightstate import NightlyState
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths, TaskStoreResource, embedded_database_url
from records.schema import CANONICAL_SCHEMA
from tests.checks.frames import WARD_B, frame, person
from tests.state_outputs import as_state_output

NIGHTS = ("2025-09-14", "2025-09-15")


def _base(night: str) -> pl.DataFrame:
    # The second night fixes one record (B2 gets its sex) and breaks nothing: the trend must go up.
    fixed = night == NIGHTS[1]
    rows = [
        person("B1", household_id="H1", relation_to_head="Chủ hộ"),
        person("B2", sex="Nữ" if fixed else None, household_id="H1", relation_to_head="Con"),
        person("B3", full_name="TRẦN THỊ MAI", full_name_norm="Trần Thị Mai"),
        person("B4", permanent_address_ward_code=WARD_B, card_expiry_date="2025-01-01", full_name="Lê Văn Nam",
               sex="Nam", person_id="001090000001", birth_date="1990-01-01"),
        person("B5", full_name="Tran Thi Mai"),
        *(person(f"B{i}", full_name=f"Phạm Văn Đức {chr(65 + i)}", sex="Nam", person_id=f"0010900001{i:02d}",
                 birth_date="1990-03-03") for i in range(6, 30)),
    ]  # fmt: skip
    return frame(*rows)


def _extracts(night: str) -> pl.DataFrame:
    return frame(
        person("HT1", "civil_status", event_type="Khai tử", full_name="Lê Văn Nam", sex="Nam", person_id="001090000001",
               birth_date="1990-01-01", death_date="2025-09-02", registration_date="2025-09-05"),
        person("CC1", "card", card_number="001190012345", card_issue_date="2025-09-10", sex="Nam"),
    )  # fmt: skip


def _pairs(night: str) -> pl.DataFrame:
    rows = [
        ("B5", "B1", 0.97, 9.0, "match", "dedupe", "name_dob", "exact", 4.0, "exact", 5.0),
        ("B3", "B1", 0.62, 1.2, "review", "dedupe", "name_dob", "fuzzy", 1.5, "exact", 5.0),
        ("HT1", "B4", 0.99, 12.0, "match", "link", "person_id", "exact", 4.0, "exact", 5.0),
        ("CC1", "B1", 0.55, 0.4, "review", "link", "person_id", "exact", 4.0, "different", -3.5),
        ("B6", "B7", 0.01, -8.0, "non_match", "dedupe", "ward_given", "different", -2.0, "different", -3.5),
    ]
    schema = ["left_id", "right_id", "match_probability", "match_weight", "decision", "kind", "blocking_rule",
              "level_name", "weight_name", "level_birth_date", "weight_birth_date"]  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row").with_columns(pl.lit("model").alias("decision_source"))


def _clusters(night: str) -> pl.DataFrame:
    ids = [*_base(night)["record_id"].to_list(), "HT1", "CC1"]
    cluster = {"B5": "P-B1", "HT1": "P-B4", "CC1": "P-CC1"}
    return pl.DataFrame({"record_id": ids, "cluster_id": [cluster.get(i, f"P-{i}") for i in ids]})


def _stub(name: str, build: Callable[[str], pl.DataFrame]) -> dg.AssetsDefinition:
    @dg.asset(name=name, partitions_def=nightly_partitions, group_name="stub")
    def stub(context: dg.AssetExecutionContext, paths: DancuPaths) -> Any:
        frame = build(context.partition_key)
        return as_state_output(name, frame, paths.state_dir, context.partition_key)

    return stub


def _canonical(build: Callable[[str], pl.DataFrame]) -> Callable[[str], pl.DataFrame]:
    return lambda night: build(night).select(list(CANONICAL_SCHEMA))


def _ingest_files(night: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source_file": ["population_base.parquet", "ho_tich.csv"],
            "source": ["base", "civil_status"],
            "encoding": ["parquet", "utf-8"],
            "rows_read": [_base(night).height, 3],
            "rows_accepted": [_base(night).height, 2],
            "rows_quarantined": [0, 1],
            "error": [None, None],
            "warnings": [None, "không có cột (để trống): Nơi chết (death_place)"],
        }
    )


def _quarantine(night: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source_file": ["ho_tich.csv"],
            "source_row": [4],
            "source": ["civil_status"],
            "field": ["birth_date"],
            "reason": ["birth_date: ngày không tồn tại"],
            "raw_values": ["{}"],
        }
    )


def _outcomes(night: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"rule": ["duplicate_person", "name_not_normalized"], "findings": [1, 2], "tasks": [1, 0], "settled": [0, 2],
         "superseded": [0, 0]},
        schema=OUTCOME_SCHEMA,
    )  # fmt: skip


STUBS = {
    "population_base": _canonical(_base),
    "extract_records": _canonical(_extracts),
    "normalized_base": _base,
    "normalized_extracts": _extracts,
    "scored_pairs": _pairs,
    "person_clusters": _clusters,
    "ingest_files": _ingest_files,
    "ingest_quarantine": _quarantine,
    "task_outcomes": _outcomes,
}


def run_nights(
    output: Path, stubs: dict[str, Callable[[str], pl.DataFrame]] | None = None, nights: tuple[str, ...] = NIGHTS
) -> list[Any]:
    """Materialize stubs + check and report assets (with every asset check) for both nights, in order."""
    definitions = [_stub(name, build) for name, build in (stubs or STUBS).items()]
    mine = [
        assets.quality_findings,
        assets.quality_scores,
        register_assets.clean_register,
        register_assets.register_scores,
        quality_report.quality_report,
        match_report.match_report,
    ]
    checks = [
        *asset_checks.gx_checks,
        asset_checks.ingest_rows_accounted,
        asset_checks.no_file_rejected,
        asset_checks.score_did_not_drop,
    ]
    resources = {
        "paths": DancuPaths(input_dir=str(output / "input"), output_dir=str(output)),
        "io_manager": ParquetIOManager(base_dir=str(output)),
        "night_state": NightlyState(),
        "task_store": TaskStoreResource(database_url=embedded_database_url(str(output))),
    }
    results = []
    for night in nights:
        results.append(
            dg.materialize(
                [*definitions, *mine, *checks], partition_key=night, resources=resources, raise_on_error=False
            )
        )
    return results


@pytest.fixture(scope="session")
def two_nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    output = tmp_path_factory.mktemp("two_nights")
    return output, run_nights(output)


def night_date(night: str) -> dt.date:
    return dt.date.fromisoformat(night)


def findings_of(output: Path, night: str) -> pl.DataFrame:
    """Every finding of the night (base and extracts)."""
    return output_frame(output, night, "quality_findings")


__all__ = ["NightFindings", "findings_of"]
