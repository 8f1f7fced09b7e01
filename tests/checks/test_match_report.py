"""The match report: reliability against reviewers' decisions, the vetoed pairs, explanations that show the veto."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from checks.match_report import MatchReportInput, build_match_html, reliability_rows, veto_rows
from matchers.engine.evaluation import pair_outcomes, reliability_table


def _pairs() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "left_id": ["A1", "A2", "A3", "A4", "A5", "A6"],
            "right_id": ["B1", "B2", "B3", "B4", "B5", "B6"],
            "match_probability": [0.9999, 0.9995, 0.7, 0.6, 0.01, 0.001],
            "match_weight": [14.0, 11.0, 1.2, 0.6, -6.6, -10.0],
            "decision": ["match", "match", "review", "review", "non_match", "non_match"],
            "decision_source": ["model", "label", "label", "model", "model", "model"],
            "kind": ["dedupe", "link", "dedupe", "link", "dedupe", "link"],
            "review_label": [None, True, False, None, None, None],
            "level_person_id": ["exact", "exact", "else", "else", "exact", "else"],
            "weight_person_id": [17.0, 17.0, -2.0, -2.0, 17.0, -2.0],
            "level_veto": ["none", "none", "none", "none", "family_member", "two_people"],
            "weight_veto": [0.0, 0.0, 0.0, 0.0, -31.5, 0.0],
        },
        schema_overrides={"review_label": pl.Boolean},
    )


def _records() -> pl.DataFrame:
    ids = [f"{side}{i}" for side in "AB" for i in range(1, 7)]
    return pl.DataFrame(
        {
            "record_id": ids,
            "source": ["base"] * len(ids),
            "full_name": ["Nguyễn Văn Phúc" if i.startswith("A") else "Nguyễn Văn Lộc" for i in ids],
            "person_id": ["036209777337"] * len(ids),
        }
    )


def test_reliability_table_counts_bands_and_observed_shares() -> None:
    table = reliability_table(pl.Series([0.005, 0.05, 0.95, 0.995, 0.9995, 1.0]), pl.Series([False] * 3 + [True] * 3))
    rows = {r["band"]: r for r in table.iter_rows(named=True)}
    assert rows["0–0.01"]["pairs"] == 1 and rows["0–0.01"]["observed"] == 0.0
    assert rows["0.9999–1"]["pairs"] == 1  # 1.0 falls in the last band
    assert rows["0.99–0.999"]["mean_predicted"] == pytest.approx(0.995)
    assert table.get_column("pairs").sum() == 6
    truth = pl.DataFrame({"left_id": ["B1"], "right_id": ["A1"]})
    assert pair_outcomes(_pairs(), truth).to_list() == [True, False, False, False, False, False]


def test_report_rows_for_reliability_and_vetoes() -> None:
    reliability = {r["band"]: r for r in reliability_rows(_pairs())}
    assert reliability["0,999 – 0,9999"]["reviewed"] == 1 and reliability["0,999 – 0,9999"]["observed"] == 1.0
    assert reliability["0,5 – 0,9"]["reviewed"] == 1 and reliability["0,5 – 0,9"]["observed"] == 0.0
    vetoes = {r["level_veto"]: r for r in veto_rows(_pairs())}
    assert vetoes["family_member"]["same_id"] == 1 and vetoes["two_people"]["same_id"] == 0
    assert vetoes["family_member"]["description"]


def test_the_report_shows_reliability_vetoes_and_the_veto_in_explanations() -> None:
    html = build_match_html(
        MatchReportInput(night=dt.date(2025, 11, 3), pairs=_pairs(), clusters=pl.DataFrame(), records=_records())
    )
    assert "Độ tin cậy của xác suất" in html
    assert "Cặp bị phủ quyết" in html
    assert "Cùng số định danh, hai người: A5 ↔ B5" in html
    assert "<code>veto</code>" in html  # the veto is a line of the explanation, with the weight it took off
    assert "-31,50" in html
