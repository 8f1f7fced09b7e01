"""An incremental night gives what a full recompute of the same night gives: over three nights of a small province
whose base changes every night (records edited, added, removed; blocks crossing their size guard), the normalized
base, every base pair and tonight's pairs above the review threshold, the clusters, the findings, and the task store
(tasks and review items) are the same, whether the night built on the previous night's state or on nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest

from matchers.engine.nightly import night_pairs, pair_store
from tests.state.nights import Night, copy_output, province, run_night, small_block_settings

TASK_COLUMNS = (
    "fingerprint, task_type, rule, quality, severity, ward_code, province_code, record_ids, subject_record_id, "
    "subject_name, subject_person_id, title, description, problem_fields, explanation, priority, state, resolution, "
    "first_seen_night, last_seen_night, due_date"
)
REVIEW_COLUMNS = (
    "fingerprint, left_id, right_id, kind, ward_code, province_code, match_probability, match_weight, explanation, "
    "state, first_seen_night, last_seen_night"
)


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    return frame.with_columns(pl.col(lists).list.join("|")).sort(pl.all())


def _store_rows(output: Path, table: str, columns: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(output / "tasks.sqlite") as connection:
        return sorted(connection.execute(f"SELECT {columns} FROM {table}").fetchall(), key=repr)


def assert_same_night(incremental: Night, full: Night, incremental_dir: Path, full_dir: Path) -> None:
    lineage = ["source_row"]  # a base record's row in the snapshot on the night its version was read
    assert _sorted(incremental.base.read().drop(lineage)).equals(_sorted(full.base.read().drop(lineage)))
    assert _sorted(incremental.scored.store.read()).equals(_sorted(full.scored.store.read()))
    assert _sorted(incremental.scored.pairs).equals(_sorted(full.scored.pairs))
    clusters = ["record_id", "cluster_id", "source"]
    assert _sorted(incremental.clusters.clusters.read(clusters)).equals(_sorted(full.clusters.clusters.read(clusters)))
    assert _sorted(incremental.findings.all()).equals(_sorted(full.findings.all()))
    assert _sorted(incremental.register.frame()).equals(_sorted(full.register.frame()))
    changes = incremental.register.store.read_changes(incremental.register.night)
    assert _sorted(changes).equals(_sorted(full.register.store.read_changes(full.register.night)))
    assert _sorted(incremental.register.findings.read()).equals(_sorted(full.register.findings.read()))
    assert _sorted(incremental.outcomes).equals(_sorted(full.outcomes))
    assert _store_rows(incremental_dir, "tasks", TASK_COLUMNS) == _store_rows(full_dir, "tasks", TASK_COLUMNS)
    assert _store_rows(incremental_dir, "review_items", REVIEW_COLUMNS) == _store_rows(
        full_dir, "review_items", REVIEW_COLUMNS
    )


@pytest.mark.slow
def test_three_incremental_nights_equal_full_recomputes(tmp_path: Path) -> None:
    settings = small_block_settings()
    where = province(tmp_path / "province", 1500, 21)
    incremental = tmp_path / "incremental"
    labels: pl.DataFrame | None = None
    flipped = dirty_nights = 0
    for i, night in enumerate(where.nights):
        before = tmp_path / f"before-{night}"
        if i:
            copy_output(incremental, before)
        tonight = run_night(where, night, incremental, full=False, settings=settings, labels=labels)
        # The same night from nothing but the previous night's task store and trained model: a full recompute.
        recomputed = tmp_path / f"full-{night}"
        if i:
            copy_output(before, recomputed)
        else:
            recomputed.mkdir()
        reference = run_night(where, night, recomputed, full=True, settings=settings, labels=labels)
        assert reference.base.full and reference.findings.full and reference.register.full
        if i:
            assert not tonight.base.full and not tonight.findings.full and not tonight.register.full
            assert tonight.register.rebuilt.height < tonight.register.rows // 2  # only the persons tonight touched
            assert tonight.findings.scope.len() < tonight.base.rows // 2  # only what changed was checked again
            dirty_nights += 1
        assert_same_night(tonight, reference, incremental, recomputed)
        # A reviewer decides a pair of the review band: the next night must treat it as a label on both paths.
        review = night_pairs(pair_store(incremental / "state").version(night), labels, settings).filter(
            pl.col("decision") == "review"
        )
        if review.height:
            decided = review.head(1).select("left_id", "right_id", pl.lit(True).alias("same_person"))
            labels = decided if labels is None else pl.concat([labels, decided])
        flipped += tonight.candidates.flipped_blocks
    assert dirty_nights == 2 and labels is not None
    assert flipped > 0, "no block crossed its size guard: the test would not cover the flip"
