from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from checks import CheckContext, run_rules
from checks.scores import OVERALL, compute_scores, read_history, update_history
from tests.checks.frames import NIGHT, WARD_B, frame, person


def _scores() -> pl.DataFrame:
    base = [
        person("B1"),
        person("B2", sex=None),  # đủ error
        person("B3", full_name="TRẦN THỊ MAI", full_name_norm="Trần Thị Mai"),  # sạch warning only
        person("B4", permanent_address_ward_code=WARD_B, card_expiry_date="2025-01-01"),  # sống error, other ward
    ]
    context = CheckContext(base=frame(*base), extracts=frame(), night=NIGHT)
    findings, _ = run_rules(context)
    return compute_scores(context.records, findings, NIGHT)


def _score(scores: pl.DataFrame, level: str, quality: str, ward: str | None = None) -> pl.DataFrame:
    rows = scores.filter((pl.col("level") == level) & (pl.col("quality") == quality))
    if ward is not None:
        rows = rows.filter(pl.col("ward_code") == ward)
    assert rows.height == 1
    return rows


def test_scores_are_shares_of_records_without_errors() -> None:
    scores = _scores()
    assert _score(scores, "all", "đủ")["score"][0] == pytest.approx(0.75)
    assert _score(scores, "all", "sạch")["score"][0] == 1.0
    assert _score(scores, "all", "sạch")["warnings"][0] == 1
    assert _score(scores, "all", OVERALL)["score"][0] == pytest.approx(0.5)
    assert _score(scores, "ward", "sống", WARD_B)["score"][0] == 0.0
    assert _score(scores, "ward", "sống", "00004")["records"][0] == 3
    assert _score(scores, "province", "đúng")["province_code"][0] == "01"


def test_history_keeps_one_copy_per_night(tmp_path: Path) -> None:
    path = tmp_path / "state" / "quality_history.parquet"
    first = _scores()
    update_history(path, first)
    second = first.with_columns(pl.lit(NIGHT + dt.timedelta(days=1)).alias("night"))
    update_history(path, second)
    history = update_history(path, second)  # the same night again: replaced, not appended
    assert sorted(history["night"].unique().to_list()) == [NIGHT, NIGHT + dt.timedelta(days=1)]
    assert history.height == 2 * first.height
    assert read_history(path).equals(history)
    assert read_history(tmp_path / "none.parquet").height == 0
