"""Shared types of the matching engine: decisions, pair kinds, review labels and the output column names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import polars as pl

__all__ = [
    "CLUSTER_COLUMNS",
    "DECISIONS",
    "LABEL_SCHEMA",
    "PAIR_KINDS",
    "Decision",
    "PairKind",
    "ReviewLabel",
    "labels_frame",
    "level_column",
    "weight_column",
]

Decision = Literal["match", "review", "non_match"]
PairKind = Literal["dedupe", "link"]

DECISIONS: Final[tuple[Decision, ...]] = ("match", "review", "non_match")
PAIR_KINDS: Final[tuple[PairKind, ...]] = ("dedupe", "link")

LABEL_SCHEMA: Final = pl.Schema({"left_id": pl.String, "right_id": pl.String, "same_person": pl.Boolean})
"""Reviewers' decisions as the engine reads them. ``same_person`` null = the reviewer could not tell."""

CLUSTER_COLUMNS: Final = ("record_id", "cluster_id", "source")


@dataclass(frozen=True, slots=True)
class ReviewLabel:
    """One reviewer decision on a pair; the order of the two ids does not matter."""

    left_id: str
    right_id: str
    same_person: bool | None


def labels_frame(labels: list[ReviewLabel] | tuple[ReviewLabel, ...]) -> pl.DataFrame:
    """Build the ``labels`` argument of the engine from ``ReviewLabel`` objects."""
    return pl.DataFrame(
        {
            "left_id": [label.left_id for label in labels],
            "right_id": [label.right_id for label in labels],
            "same_person": [label.same_person for label in labels],
        },
        schema=LABEL_SCHEMA,
    )


def level_column(comparison: str) -> str:
    return f"level_{comparison}"


def weight_column(comparison: str) -> str:
    return f"weight_{comparison}"
