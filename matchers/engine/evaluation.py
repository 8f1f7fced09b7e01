"""Accuracy against ground truth: pairwise precision / recall / F1, and how well probabilities are calibrated."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Final

import polars as pl

__all__ = [
    "RELIABILITY_BANDS",
    "PairMetrics",
    "cluster_pairs",
    "pair_metrics",
    "pair_outcomes",
    "reliability_table",
    "truth_pairs_from_entities",
]


@dataclass(frozen=True, slots=True)
class PairMetrics:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 6),
            "recall": round(self.recall, 6),
            "f1": round(self.f1, 6),
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
        }


def _unordered(pairs: pl.DataFrame) -> pl.DataFrame:
    return (
        pairs.select(
            pl.min_horizontal(pl.col("left_id").cast(pl.String), pl.col("right_id").cast(pl.String)).alias("a"),
            pl.max_horizontal(pl.col("left_id").cast(pl.String), pl.col("right_id").cast(pl.String)).alias("b"),
        )
        .filter(pl.col("a") != pl.col("b"))
        .unique()
    )


def pair_metrics(predicted: pl.DataFrame, truth: pl.DataFrame) -> PairMetrics:
    """Compare predicted same-person pairs with true ones (both ``left_id, right_id``; order within a pair ignored)."""
    found = _unordered(predicted)
    actual = _unordered(truth)
    true_positives = found.join(actual, on=["a", "b"], how="inner").height
    return PairMetrics(
        true_positives=true_positives,
        false_positives=found.height - true_positives,
        false_negatives=actual.height - true_positives,
    )


def truth_pairs_from_entities(
    entities: pl.DataFrame,
    *,
    entity_column: str,
    left_ids: pl.Series | None = None,
    right_ids: pl.Series | None = None,
) -> pl.DataFrame:
    """True pairs from a ``record_id → entity`` table.

    Without ids: every pair of records of one entity. With ``left_ids`` only: pairs among those records (dedupe).
    With both: pairs of one left and one right record (link).
    """
    frame = entities.select(pl.col("record_id").cast(pl.String), pl.col(entity_column).alias("_entity")).drop_nulls()
    if left_ids is not None and right_ids is not None:
        left_frame = frame.filter(pl.col("record_id").is_in(left_ids.cast(pl.String).implode()))
        right_frame = frame.filter(pl.col("record_id").is_in(right_ids.cast(pl.String).implode()))
        return left_frame.join(right_frame, on="_entity", suffix="_r").select(
            pl.col("record_id").alias("left_id"), pl.col("record_id_r").alias("right_id")
        )
    if left_ids is not None:
        frame = frame.filter(pl.col("record_id").is_in(left_ids.cast(pl.String).implode()))
    return (
        frame.join(frame, on="_entity", suffix="_r")
        .filter(pl.col("record_id") < pl.col("record_id_r"))
        .select(pl.col("record_id").alias("left_id"), pl.col("record_id_r").alias("right_id"))
    )


def cluster_pairs(clusters: pl.DataFrame) -> pl.DataFrame:
    """Every pair of records sharing a cluster (for pairwise evaluation of clusters)."""
    return truth_pairs_from_entities(clusters, entity_column="cluster_id")


RELIABILITY_BANDS: Final = (0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0)
"""Edges of the predicted-probability bands of :func:`reliability_table` (the last band includes 1.0)."""


def pair_outcomes(pairs: pl.DataFrame, truth: pl.DataFrame) -> pl.Series:
    """For each pair (``left_id, right_id``, order ignored): is it a true pair? (Boolean, never null)."""
    actual = _unordered(truth).with_columns(pl.lit(True).alias("_true"))
    keyed = pairs.select(
        pl.min_horizontal(pl.col("left_id").cast(pl.String), pl.col("right_id").cast(pl.String)).alias("a"),
        pl.max_horizontal(pl.col("left_id").cast(pl.String), pl.col("right_id").cast(pl.String)).alias("b"),
    )
    joined = keyed.join(actual, on=["a", "b"], how="left", maintain_order="left")
    return joined.get_column("_true").fill_null(False).alias("same_person")


def reliability_table(
    probabilities: pl.Series, outcomes: pl.Series, bands: tuple[float, ...] = RELIABILITY_BANDS
) -> pl.DataFrame:
    """Predicted against observed: per band of predicted probability, how many pairs, their mean prediction and
    the share that really are one person (from ground truth or reviewers' decisions; null outcomes are left out).

    Columns: band (text), low, high, pairs, mean_predicted, observed, expected_matches, observed_matches. A
    calibrated model has ``observed`` close to ``mean_predicted`` in every band with enough pairs.
    """
    frame = pl.DataFrame({"p": probabilities.cast(pl.Float64), "y": outcomes.cast(pl.Boolean)}).drop_nulls()
    edges = list(bands)
    rows = []
    for i, (low, high) in enumerate(pairwise(edges)):
        last = i == len(edges) - 2
        inside = (pl.col("p") >= low) & ((pl.col("p") <= high) if last else (pl.col("p") < high))
        part = frame.filter(inside)
        count = part.height
        predicted = float(part.get_column("p").mean()) if count else None  # type: ignore[arg-type]
        matches = int(part.get_column("y").sum()) if count else 0
        rows.append(
            {
                "band": f"{low:g}–{high:g}",
                "low": low,
                "high": high,
                "pairs": count,
                "mean_predicted": predicted,
                "observed": matches / count if count else None,
                "expected_matches": float(part.get_column("p").sum()) if count else 0.0,
                "observed_matches": matches,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "band": pl.String,
            "low": pl.Float64,
            "high": pl.Float64,
            "pairs": pl.Int64,
            "mean_predicted": pl.Float64,
            "observed": pl.Float64,
            "expected_matches": pl.Float64,
            "observed_matches": pl.Int64,
        },
    )
