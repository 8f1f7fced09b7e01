"""The correction_tasks asset through Dagster: the same night twice gives the same tasks; a defect fixed in the next
night's data closes its task."""

from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from sqlalchemy import select

from corrections.db import make_engine, session_scope
from corrections.models import ReviewItem, Task
from pipelines.defs.report.tasks import SUMMARY_SCHEMA, comparison_infos, correction_tasks
from pipelines.io import ParquetIOManager
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths, TaskStoreResource
from register.types import CHANGES_SCHEMA
from tests.console.factories import finding, findings_frame, pairs_frame, record, records_frame, wards
from tests.state_outputs import as_state_output

NIGHT_1, NIGHT_2 = "2025-07-02", "2025-07-03"
WARD_A, WARD_B = wards(2)


def _findings(night: str) -> pl.DataFrame:
    rows = [
        finding("B-1", "duplicate_person", "sạch", WARD_A, "Có thể trùng với B-2", ["B-2"]),
        finding("B-3", "ethnicity_not_recognized", "đúng", WARD_B, "Dân tộc 'Kinhh' không thuộc 54 dân tộc"),
    ]
    if night == NIGHT_1:  # fixed at source before night 2
        rows.append(finding("B-2", "card_expired", "sống", WARD_A, "Thẻ hết hạn", severity="warning"))
    return findings_frame(rows)


@dg.asset(partitions_def=nightly_partitions, group_name="check")
def quality_findings(context: dg.AssetExecutionContext, paths: DancuPaths) -> Any:
    return as_state_output("quality_findings", _findings(context.partition_key), paths.state_dir, context.partition_key)


@dg.asset(partitions_def=nightly_partitions, group_name="match")
def scored_pairs() -> pl.DataFrame:
    pairs = pairs_frame([("B-1", "B-2", 0.999, "match"), ("B-3", "X-4", 0.55, "review")])
    # The population settings' comparison names, so the explanation wording comes from the engine.
    return pairs.rename({"level_birth_date": "level_sex", "weight_birth_date": "weight_sex"})


@dg.asset(partitions_def=nightly_partitions, group_name="normalize")
def normalized_base(context: dg.AssetExecutionContext, paths: DancuPaths) -> Any:
    frame = records_frame(
        [
            record("B-1", WARD_A),
            record("B-2", WARD_A, birth_date="1990-05-18"),
            record("B-3", WARD_B, ethnicity="Kinhh"),
        ]
    )
    return as_state_output("normalized_base", frame, paths.state_dir, context.partition_key)


@dg.asset(partitions_def=nightly_partitions, group_name="normalize")
def normalized_extracts() -> pl.DataFrame:
    return records_frame([record("X-4", WARD_B, source="residence", ethnicity="Kinh")])


# The clean register's view of the same night: B-1 and B-2 are one person, whose golden record still shows the
# expired card (night 1); B-3's unrecognized ethnicity is in the golden record too (no other source has it).
_PERSONS = {"B-1": "P-1", "B-2": "P-1", "B-3": "P-3", "X-4": "P-4"}


@dg.asset(partitions_def=nightly_partitions, group_name="match")
def person_clusters(context: dg.AssetExecutionContext, paths: DancuPaths) -> Any:
    frame = pl.DataFrame(
        {"record_id": list(_PERSONS), "cluster_id": list(_PERSONS.values()), "source": ["base"] * 3 + ["residence"]}
    )
    return as_state_output("person_clusters", frame, paths.state_dir, context.partition_key)


@dg.asset(partitions_def=nightly_partitions, group_name="register")
def register(context: dg.AssetExecutionContext, paths: DancuPaths) -> Any:
    frame = pl.DataFrame(
        {
            "person_key": ["P-1", "P-3", "P-4"],
            "record_ids": [["B-1", "B-2"], ["B-3"], ["X-4"]],
            "status": ["alive"] * 3,
            "full_name": ["Nguyễn Văn An"] * 3,
            "full_name_source": [{"record_id": r, "source": "base"} for r in ("B-1", "B-3", "X-4")],
        }
    )
    return as_state_output("register", frame, paths.state_dir, context.partition_key)


@dg.asset(partitions_def=nightly_partitions, group_name="register")
def register_changes(context: dg.AssetExecutionContext, paths: DancuPaths) -> Any:
    return as_state_output(
        "register_changes", pl.DataFrame(schema=CHANGES_SCHEMA), paths.state_dir, context.partition_key
    )


@dg.asset(partitions_def=nightly_partitions, group_name="register")
def register_findings(context: dg.AssetExecutionContext, paths: DancuPaths) -> Any:
    rows = [finding("P-3", "ethnicity_not_recognized", "đúng", WARD_B, "Dân tộc 'Kinhh' không thuộc 54 dân tộc")]
    if context.partition_key == NIGHT_1:
        rows.append(finding("P-1", "card_expired", "sống", WARD_A, "Thẻ hết hạn", severity="warning"))
    return as_state_output("register_findings", findings_frame(rows), paths.state_dir, context.partition_key)


def _materialize(tmp_path: Path, url: str, night: str) -> pl.DataFrame:
    result = dg.materialize(
        [
            quality_findings,
            scored_pairs,
            normalized_base,
            normalized_extracts,
            person_clusters,
            register,
            register_changes,
            register_findings,
            correction_tasks,
        ],
        partition_key=night,
        resources={
            "io_manager": ParquetIOManager(base_dir=str(tmp_path)),
            "task_store": TaskStoreResource(database_url=url),
            "paths": DancuPaths(input_dir=str(tmp_path / "in"), output_dir=str(tmp_path)),
        },
    )
    assert result.success
    return pl.read_parquet(tmp_path / "nights" / night / "correction_tasks.parquet")


def _tasks(url: str) -> list[tuple[str, str, str | None, tuple[str, ...]]]:
    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = [
            (t.rule, t.state, t.resolution, tuple(t.record_ids))
            for t in session.scalars(select(Task).order_by(Task.rule))
        ]
    engine.dispose()
    return rows


def test_rerun_is_idempotent_and_fixed_defect_closes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dancu.sqlite'}"
    first = _materialize(tmp_path, url, NIGHT_1)
    assert first.schema == SUMMARY_SCHEMA
    assert first.get_column("tasks").sum() == 3
    after_first = _tasks(url)
    assert [t[:3] for t in after_first] == [
        ("card_expired", "open", None),
        ("duplicate_person", "open", None),
        ("ethnicity_not_recognized", "open", None),
    ]
    second = _materialize(tmp_path, url, NIGHT_1)
    assert second.equals(first)
    assert _tasks(url) == after_first

    _materialize(tmp_path, url, NIGHT_2)
    after_night_2 = {t[0]: t[1:3] for t in _tasks(url)}
    assert after_night_2 == {
        "card_expired": ("resolved", "defect_gone"),
        "duplicate_person": ("open", None),
        "ethnicity_not_recognized": ("open", None),
    }
    engine = make_engine(url)
    with session_scope(engine) as session:
        duplicate = session.scalar(select(Task).where(Task.rule == "duplicate_person"))
        assert duplicate is not None
        # Titles come from the rule registry, match wording from the engine's settings.
        assert duplicate.title != "duplicate person"
        fields = {f["comparison"]: f["text"] for f in (duplicate.explanation or [])[0]["fields"]}
        assert fields["name"] == comparison_infos()["name"].describe(1)
        assert not fields["name"].startswith("Mức")
        review = session.scalar(select(ReviewItem))
        assert review is not None and (review.left_id, review.right_id, review.state) == ("B-3", "X-4", "pending")
    engine.dispose()
