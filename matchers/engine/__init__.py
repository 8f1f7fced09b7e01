"""The matching engine: blocking, Fellegi–Sunter scoring with EM and term-frequency adjustment, explanations,
constrained clustering with stable ids, and incremental linking against a persisted base index.

Pure library (no Dagster). Typical use::

    from matchers.engine import dedupe, population_settings
    result = dedupe(normalized_base, population_settings())
    result.pairs  # left_id, right_id, match_probability, match_weight, decision, ..., level_*/weight_*
"""

from matchers.engine.blocking import BlockingReport
from matchers.engine.clustering import ClusterReport, cluster_records, stable_cluster_ids
from matchers.engine.evaluation import (
    PairMetrics,
    cluster_pairs,
    pair_metrics,
    pair_outcomes,
    reliability_table,
    truth_pairs_from_entities,
)
from matchers.engine.index import BaseIndex, IndexMismatch
from matchers.engine.linker import MatchResult, dedupe, dedupe_and_link, link, pair_columns
from matchers.engine.population import POPULATION_INPUT_COLUMNS, population_settings
from matchers.engine.scoring import ModelParameters
from matchers.engine.settings import (
    BlockingRule,
    Comparison,
    ComparisonLevel,
    ConflictRule,
    MatchSettings,
    Similarity,
    Thresholds,
    Veto,
    block_on,
    left,
    levels_in,
    right,
)
from matchers.engine.types import DECISIONS, LABEL_SCHEMA, Decision, PairKind, ReviewLabel, labels_frame

__all__ = [
    "DECISIONS",
    "LABEL_SCHEMA",
    "POPULATION_INPUT_COLUMNS",
    "BaseIndex",
    "BlockingReport",
    "BlockingRule",
    "ClusterReport",
    "Comparison",
    "ComparisonLevel",
    "ConflictRule",
    "Decision",
    "IndexMismatch",
    "MatchResult",
    "MatchSettings",
    "ModelParameters",
    "PairKind",
    "PairMetrics",
    "ReviewLabel",
    "Similarity",
    "Thresholds",
    "Veto",
    "block_on",
    "cluster_pairs",
    "cluster_records",
    "dedupe",
    "dedupe_and_link",
    "labels_frame",
    "left",
    "levels_in",
    "link",
    "pair_columns",
    "pair_metrics",
    "pair_outcomes",
    "population_settings",
    "reliability_table",
    "right",
    "stable_cluster_ids",
    "truth_pairs_from_entities",
]
