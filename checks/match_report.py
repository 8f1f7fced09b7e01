"""The match report for data officers: decision bands, the probability distribution, how well the probabilities
agree with reviewers' decisions (reliability), the pairs vetoed as two people (twins, siblings, one ID for two
people), blocking statistics and a sample of review-band pairs side by side with their explanations.
Self-contained HTML, Vietnamese, offline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import numpy as np
import polars as pl

from checks import charts
from checks.report import MATCH_REPORT_HTML, QUALITY_REPORT_HTML, SOURCE_LABELS, fmt_pct, render_template
from matchers.engine.evaluation import reliability_table
from matchers.engine.population import population_settings
from records.files import atomic_write_text

__all__ = ["MatchReportInput", "build_match_html", "reliability_rows", "veto_rows", "write_match_report"]

DECISION_LABELS: Final = {"match": "Ghép (cùng một người)", "review": "Cần xem xét", "non_match": "Không ghép"}
KIND_LABELS: Final = {"dedupe": "Trùng lặp trong CSDL dân cư", "link": "Trích xuất ↔ CSDL dân cư"}
SIDE_FIELDS: Final = (
    ("full_name", "Họ và tên"),
    ("birth_date", "Ngày sinh"),
    ("sex", "Giới tính"),
    ("person_id", "Số định danh"),
    ("old_id_number", "Số CMND"),
    ("permanent_address", "Nơi thường trú"),
    ("father_name", "Họ tên cha"),
    ("mother_name", "Họ tên mẹ"),
    ("spouse_name", "Họ tên vợ/chồng"),
)
SAMPLE_SIZE: Final = 30
VETO_SAMPLE_SIZE: Final = 10


@dataclass(frozen=True)
class MatchReportInput:
    """pairs: scored pairs; clusters: record_id, cluster_id; records: base and extract rows (canonical columns at
    least), used to show review pairs side by side."""

    night: date
    pairs: pl.DataFrame
    clusters: pl.DataFrame
    records: pl.DataFrame


def _band_rows(pairs: pl.DataFrame) -> list[dict[str, Any]]:
    rows = (
        pairs.group_by("kind", "decision")
        .agg(
            pl.len().alias("pairs"),
            pl.col("match_probability").min().alias("min_p"),
            pl.col("match_probability").max().alias("max_p"),
        )
        .sort("kind", "decision")
    )
    return [
        {
            **r,
            "kind_label": KIND_LABELS.get(r["kind"], r["kind"]),
            "decision_label": DECISION_LABELS.get(r["decision"], r["decision"]),
        }
        for r in rows.iter_rows(named=True)
    ]


def _thresholds(pairs: pl.DataFrame) -> dict[str, float]:
    """The band limits as the model applied them (labelled pairs follow the reviewer, not the thresholds)."""
    model = pairs.filter(pl.col("decision_source") == "model") if "decision_source" in pairs.columns else pairs
    marks: dict[str, float] = {}
    for decision, label in (("match", "ngưỡng ghép"), ("review", "ngưỡng xem xét")):
        values = model.filter(pl.col("decision") == decision)["match_probability"]
        if values.len():
            marks[label] = float(values.min())  # type: ignore[arg-type]
    return marks


def _blocking_rows(pairs: pl.DataFrame) -> list[dict[str, Any]]:
    if "blocking_rule" not in pairs.columns:
        return []
    counts = (
        pairs.group_by("blocking_rule")
        .agg(
            pl.len().alias("pairs"),
            *((pl.col("decision") == d).sum().alias(d) for d in ("match", "review", "non_match")),
        )
        .with_columns((pl.col("match") / pl.col("pairs")).alias("match_share"))
        .sort("pairs", descending=True)
    )
    return counts.to_dicts()


def _explanation(pair: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, weight in pair.items():
        if not key.startswith("weight_") or weight is None:
            continue
        name = key.removeprefix("weight_")
        rows.append({"comparison": name, "level": pair.get(f"level_{name}"), "weight": float(weight)})
    return sorted(rows, key=lambda r: -abs(r["weight"]))


def _samples(pairs: pl.DataFrame, records: pl.DataFrame) -> list[dict[str, Any]]:
    review = pairs.filter(pl.col("decision") == "review")
    if review.height == 0:
        return []
    # The most uncertain first: what a reviewer's decision helps most.
    chosen = review.sort((pl.col("match_probability") - 0.5).abs(), "left_id", "right_id").head(SAMPLE_SIZE)
    return _side_by_side(chosen, records)


def _side_by_side(chosen: pl.DataFrame, records: pl.DataFrame) -> list[dict[str, Any]]:
    if chosen.height == 0:
        return []
    fields = [c for c, _ in SIDE_FIELDS if c in records.columns]
    lookup = {
        r["record_id"]: r
        for r in records.filter(pl.col("record_id").is_in(pl.concat([chosen["left_id"], chosen["right_id"]]).implode()))
        .select("record_id", "source", *fields)
        .iter_rows(named=True)
    }
    samples = []
    for pair in chosen.iter_rows(named=True):
        left, right = lookup.get(pair["left_id"], {}), lookup.get(pair["right_id"], {})
        samples.append(
            {
                "left_id": pair["left_id"],
                "right_id": pair["right_id"],
                "left_source": SOURCE_LABELS.get(left.get("source", ""), "không rõ"),
                "right_source": SOURCE_LABELS.get(right.get("source", ""), "không rõ"),
                "probability": pair["match_probability"],
                "kind_label": KIND_LABELS.get(pair["kind"], pair["kind"]),
                "veto": pair.get("level_veto") if pair.get("level_veto") not in (None, "none") else None,
                "fields": [
                    {
                        "label": label,
                        "left": left.get(column) or "—",
                        "right": right.get(column) or "—",
                        "differs": (left.get(column) or "") != (right.get(column) or ""),
                    }
                    for column, label in SIDE_FIELDS
                    if column in fields
                ],
                "explanation": _explanation(pair),
            }
        )
    return samples


def reliability_rows(pairs: pl.DataFrame) -> list[dict[str, Any]]:
    """Per band of predicted probability: reviewed pairs and the share reviewers called one person.

    Reads ``review_label`` (the reviewer's answer, null when not reviewed or unsure) beside ``match_probability``.
    """
    if "review_label" not in pairs.columns:
        return []
    reviewed = pairs.filter(pl.col("review_label").is_not_null())
    table = reliability_table(reviewed.get_column("match_probability"), reviewed.get_column("review_label"))
    counts = reliability_table(pairs.get_column("match_probability"), pl.repeat(False, pairs.height, eager=True))
    rows = []
    for band, total in zip(table.iter_rows(named=True), counts.get_column("pairs").to_list(), strict=True):
        rows.append(
            {
                "band": band["band"].replace("–", " – ").replace(".", ","),
                "pairs": total,
                "reviewed": band["pairs"],
                "predicted": band["mean_predicted"],
                "observed": band["observed"],
            }
        )
    return [r for r in rows if r["pairs"]]


def _veto_descriptions() -> dict[str, str]:
    return {veto.name: veto.description for veto in population_settings().vetoes}


def veto_rows(pairs: pl.DataFrame) -> list[dict[str, Any]]:
    """Vetoed pairs per veto: how many, how many of them carry one personal ID (one ID, two people)."""
    if "level_veto" not in pairs.columns:
        return []
    vetoed = pairs.filter(pl.col("level_veto").is_not_null() & (pl.col("level_veto") != "none"))
    if vetoed.height == 0:
        return []
    same_id = (pl.col("level_person_id") == "exact") if "level_person_id" in pairs.columns else pl.lit(False)
    counts = vetoed.group_by("level_veto").agg(
        pl.len().alias("pairs"),
        same_id.sum().alias("same_id"),
        (pl.col("kind") == "link").sum().alias("link"),
    )
    descriptions = _veto_descriptions()
    return [
        {**r, "description": descriptions.get(r["level_veto"], "")}
        for r in counts.sort("pairs", descending=True).iter_rows(named=True)
    ]


def _veto_samples(pairs: pl.DataFrame, records: pl.DataFrame) -> list[dict[str, Any]]:
    """A few vetoed pairs that carry one personal ID, side by side: what the ward must untangle at source."""
    if "level_veto" not in pairs.columns or "level_person_id" not in pairs.columns:
        return []
    chosen = (
        pairs.filter((pl.col("level_veto") != "none") & (pl.col("level_person_id") == "exact"))
        .sort("match_weight", "left_id", "right_id", descending=[True, False, False])
        .head(VETO_SAMPLE_SIZE)
    )
    return _side_by_side(chosen, records)


def build_match_html(data: MatchReportInput) -> str:
    pairs = data.pairs
    total = pairs.height
    counts = dict(pairs.group_by("decision").len().iter_rows())
    probabilities = pairs["match_probability"].drop_nulls().to_numpy()
    edges = np.linspace(0.0, 1.0, 21)
    histogram_counts, _ = np.histogram(probabilities, bins=edges)
    marks = _thresholds(pairs)
    cluster_sizes = data.clusters.group_by("cluster_id").len() if data.clusters.height else pl.DataFrame({"len": []})
    return render_template(
        "match_report.html.j2",
        title=f"Báo cáo ghép nối bản ghi — đêm {data.night:%d/%m/%Y}",
        subtitle="Tìm các bản ghi của cùng một công dân trong CSDL dân cư và giữa dữ liệu trích xuất với CSDL",
        links=[{"href": QUALITY_REPORT_HTML, "text": "Báo cáo chất lượng dữ liệu"}],
        night=f"{data.night:%d/%m/%Y}",
        total_pairs=total,
        bands=[
            {
                "label": label,
                "count": counts.get(decision, 0),
                "share": fmt_pct(counts.get(decision, 0) / total if total else None),
            }
            for decision, label in DECISION_LABELS.items()
        ],
        clusters=cluster_sizes.height,
        multi_clusters=cluster_sizes.filter(pl.col("len") > 1).height if cluster_sizes.height else 0,
        band_rows=_band_rows(pairs),
        histogram=charts.histogram(
            edges.tolist(), histogram_counts.tolist(), title="Phân bố xác suất trùng khớp của các cặp", marks=marks
        ),
        threshold_note=(
            "Đường đứt nét: " + "; ".join(f"{k} = {v:.3f}" for k, v in marks.items()) + "."
            if marks
            else "Chưa có cặp nào vượt ngưỡng xem xét."
        ),
        blocking_rows=_blocking_rows(pairs),
        review_total=counts.get("review", 0),
        samples=_samples(pairs, data.records),
        reliability=reliability_rows(pairs),
        vetoes=veto_rows(pairs),
        veto_samples=_veto_samples(pairs, data.records),
    )


def write_match_report(folder: Path, data: MatchReportInput) -> Path:
    path = folder / MATCH_REPORT_HTML
    atomic_write_text(path, build_match_html(data))
    return path
