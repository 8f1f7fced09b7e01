"""Accuracy against ground truth: pairwise precision / recall / F1 and blocking recall."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

__all__ = ["PairMetrics", "cluster_pairs", "pair_metrics", "truth_pairs_from_entities"]


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
