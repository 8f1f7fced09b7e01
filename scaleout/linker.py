"""Dedupe and link on Spark with the embedded engine's own functions, giving the embedded engine's results.

The steps are those of ``matchers.engine.linker``; only the movement of data is Spark's:

- records are prepared per partition (``record_frame`` and the blocking keys of ``block_keys``); term frequencies
  are counted by Spark (a value's share among the column's non-null values, as ``prepare_records`` defines it);
- candidate pairs come from Spark joins on the block keys (``scaleout.blocking``);
- the two records of each pair are brought side by side by two joins on the row number, and every batch of pairs
  is compared by ``compare_sides`` (levels, rule agreements, pair term frequencies);
- EM runs on the driver, on the pairs' agreement patterns counted by Spark (``AgreementPatterns``: a few thousand
  rows stand exactly for all pairs), with u from the same random pairs the embedded engine draws;
- every batch is scored by ``score_pairs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from matchers.engine.blocking import BlockingReport, block_keys
from matchers.engine.linker import (
    comparable_pairs,
    compare_sides,
    fit_model,
    pair_columns,
    pair_labels,
    random_pair_rows,
    record_frame,
    score_pairs,
    side_columns,
    term_frequency,
)
from matchers.engine.scoring import AgreementPatterns, ModelParameters, estimate_u
from matchers.engine.settings import MatchSettings
from matchers.engine.types import PairKind
from scaleout import blocking
from scaleout.frames import ROW, collect_polars, empty_polars, from_polars, map_frames, spark_schema

__all__ = [
    "Compared",
    "PreparedRecords",
    "SparkMatchResult",
    "compare",
    "dedupe",
    "dedupe_and_link",
    "estimate_u_on",
    "link",
    "prepare_records",
    "train_and_score",
]

_LEFT_ID, _RIGHT_ID, _LABEL = "_left_id", "_right_id", "_label"
_PERSIST = StorageLevel.MEMORY_AND_DISK


@dataclass(slots=True)
class PreparedRecords:
    """Records ready for matching: ``_row``, id, record columns, ``tf_*`` and raw ``key_*`` (persisted)."""

    frame: DataFrame
    height: int
    blocks: blocking.Blocks | None = None

    def entries(self, settings: MatchSettings) -> DataFrame:
        return blocking.block_entries(self.frame, settings.blocking_rules)

    def guarded(self, settings: MatchSettings) -> blocking.Blocks:
        """The guarded blocks (computed once)."""
        if self.blocks is None:
            self.blocks = blocking.guard_blocks(self.entries(settings), settings.blocking_rules)
        return self.blocks


@dataclass(slots=True)
class SparkMatchResult:
    """Scored pairs (the embedded engine's output schema, as a Spark DataFrame), the model and blocking report."""

    pairs: DataFrame
    model: ModelParameters
    blocking: list[BlockingReport]

    def decision_counts(self) -> dict[str, int]:
        found = {row["decision"]: int(row["count"]) for row in self.pairs.groupBy("decision").count().collect()}
        return {decision: found.get(decision, 0) for decision in ("match", "review", "non_match")}


def _partitions(df: DataFrame) -> int:
    return int(df.sparkSession.conf.get("spark.sql.shuffle.partitions") or 200)


def _shares(counts: DataFrame, column: str, known: int) -> DataFrame:
    """``column, tf_<column>`` from the distinct values' counts, with the embedded engine's ``term_frequency``."""

    def share(batch: pl.DataFrame) -> pl.DataFrame:
        return batch.select(column, term_frequency(pl.col("_n"), pl.lit(known, dtype=pl.Int64)).alias(f"tf_{column}"))

    return map_frames(counts, share, spark_schema(share(empty_polars(counts)).schema))


def prepare_records(df: DataFrame, settings: MatchSettings, *, with_tf: bool) -> PreparedRecords:
    """``prepare_records`` of the embedded engine, plus the blocking keys; ``df`` carries ``_row``."""
    rules = settings.blocking_rules

    def prepare(batch: pl.DataFrame) -> pl.DataFrame:
        prepared = record_frame(batch, settings)
        keys, _ = block_keys(prepared, rules, guard=False)
        return pl.concat([batch.select(pl.col(ROW).cast(pl.Int64)), prepared, keys], how="horizontal")

    schema = spark_schema(prepare(empty_polars(df)).schema)
    # Persisted: the term-frequency counts and the join below read it several times, the Python pass runs once.
    prepared = map_frames(df, prepare, schema).persist(_PERSIST)
    frequencies = list(settings.tf_columns)
    frame = prepared
    if with_tf and frequencies:
        known = prepared.select(*(F.count(c).alias(c) for c in frequencies)).first()
        assert known is not None
        for column in frequencies:
            counts = prepared.where(F.col(column).isNotNull()).groupBy(column).agg(F.count(F.lit(1)).alias("_n"))
            shares = prepared.select(ROW, column).join(_shares(counts, column, int(known[column])), column, "left")
            # Joined on the row number: the records are shuffled once, into the layout the pair joins reuse.
            frame = frame.join(shares.drop(column), ROW)
    else:
        frame = frame.select("*", *(F.lit(None).cast("double").alias(f"tf_{c}") for c in frequencies))
    frame = frame.repartition(_partitions(df), ROW).persist(_PERSIST)
    height = frame.count()
    prepared.unpersist()
    return PreparedRecords(frame=frame, height=height)


def _side(records: PreparedRecords, settings: MatchSettings, suffix: str, id_name: str) -> DataFrame:
    columns = side_columns(settings)
    return records.frame.select(
        F.col(ROW).alias(suffix),
        F.col(settings.id_column).alias(id_name),
        *(F.col(c).alias(f"{c}{suffix}") for c in columns),
    )


@dataclass(slots=True)
class Compared:
    """Compared pairs: ``_l, _r, _rule``, both ids, ``_lv_*``, ``_agree_*``, ``_tf_*``, ``_label`` (persisted),
    and the levels of the random pairs u is estimated on when they were compared along."""

    frame: DataFrame
    pairs: int
    sample_levels: pl.DataFrame | None = None


_SAMPLE_RULE = -1
"""``_rule`` of the random pairs compared along with the candidates (u sample)."""


def _sample_pairs(left: PreparedRecords, right: PreparedRecords, settings: MatchSettings) -> DataFrame:
    """The embedded engine's random pairs (same seed, same row numbers, so the same pairs)."""
    rows = random_pair_rows(left.height, right.height, settings, same_source=True)
    frame = rows.select(
        pl.col("_l").cast(pl.Int64), pl.col("_r").cast(pl.Int64), pl.lit(_SAMPLE_RULE, pl.Int32).alias("_rule")
    )
    return from_polars(left.frame.sparkSession, frame)


def compare(
    pairs: DataFrame,
    left: PreparedRecords,
    right: PreparedRecords,
    settings: MatchSettings,
    *,
    labels: pl.DataFrame | None = None,
    with_u_sample: bool = False,
) -> Compared:
    """Compare every pair (``_l``, ``_r``, ``_rule``) with ``compare_sides``, batch by batch.

    ``with_u_sample``: compare the random pairs of ``left`` × ``right`` in the same pass (one join instead of two)
    and keep their levels for ``estimate_u``.
    """
    if with_u_sample:
        pairs = pairs.select("_l", "_r", F.col("_rule").cast("int")).unionByName(_sample_pairs(left, right, settings))
    sides = pairs.join(_side(left, settings, "_l", _LEFT_ID), "_l").join(_side(right, settings, "_r", _RIGHT_ID), "_r")

    def compare_batch(batch: pl.DataFrame) -> pl.DataFrame:
        compared = compare_sides(batch, settings)
        label = pair_labels(batch.get_column(_LEFT_ID), batch.get_column(_RIGHT_ID), labels)
        label_column = label.alias(_LABEL) if label is not None else pl.lit(None, dtype=pl.Boolean).alias(_LABEL)
        ids = batch.select("_l", "_r", pl.col("_rule").cast(pl.Int8), _LEFT_ID, _RIGHT_ID)
        return pl.concat([ids, compared], how="horizontal").with_columns(label_column)

    schema = spark_schema(compare_batch(empty_polars(sides)).schema)
    frame = map_frames(sides, compare_batch, schema, batch_rows=50_000).persist(_PERSIST)
    if not with_u_sample:
        return Compared(frame=frame, pairs=frame.count())
    levels = collect_polars(
        frame.where(F.col("_rule") == _SAMPLE_RULE).select(*(f"_lv_{c.name}" for c in settings.comparisons))
    )
    candidates = frame.where(F.col("_rule") != _SAMPLE_RULE)
    return Compared(frame=candidates, pairs=candidates.count(), sample_levels=levels)


def estimate_u_on(left: PreparedRecords, right: PreparedRecords, settings: MatchSettings) -> dict[str, np.ndarray]:
    """u from the levels of the embedded engine's random pairs of ``left`` × ``right``."""
    compared = compare(_sample_pairs(left, right, settings), left, right, settings)
    levels = collect_polars(compared.frame.select(*(f"_lv_{c.name}" for c in settings.comparisons)))
    compared.frame.unpersist()
    return estimate_u(levels, settings)


def _patterns(compared: Compared, settings: MatchSettings) -> AgreementPatterns:
    keys = [
        *(f"_lv_{c.name}" for c in settings.comparisons),
        *(f"_agree_{i}" for i in range(len(settings.blocking_rules))),
        _LABEL,
    ]
    counts = collect_polars(compared.frame.groupBy(*keys).agg(F.count(F.lit(1)).alias("count")))
    return AgreementPatterns.of_counts(counts, settings)


def train_and_score(
    compared: Compared,
    left_height: int,
    right_height: int,
    settings: MatchSettings,
    *,
    kind: PairKind,
    labels: pl.DataFrame | None,
    model: ModelParameters | None,
    u: Callable[[], dict[str, np.ndarray]],
    fallback_model: ModelParameters | None = None,
) -> tuple[DataFrame, ModelParameters]:
    """The embedded ``train_and_score``: the same model choice (``fit_model``), every batch scored by
    ``score_pairs``."""
    chosen = fit_model(
        lambda: _patterns(compared, settings),
        settings,
        comparable=comparable_pairs(left_height, right_height, kind),
        model=model,
        u=u,
        fallback_model=fallback_model,
    )

    def score_batch(batch: pl.DataFrame) -> pl.DataFrame:
        return score_pairs(
            batch, batch.get_column(_LEFT_ID), batch.get_column(_RIGHT_ID), chosen, settings, kind=kind, labels=labels
        )

    schema = spark_schema(score_batch(empty_polars(compared.frame)).schema)
    scored = map_frames(compared.frame, score_batch, schema, batch_rows=200_000)
    return scored.select(*pair_columns(settings)), chosen


def dedupe(
    base: DataFrame,
    settings: MatchSettings,
    *,
    labels: pl.DataFrame | None = None,
    model: ModelParameters | None = None,
) -> SparkMatchResult:
    """``matchers.engine.dedupe`` on Spark: duplicates within ``base`` (normalized records with ``_row``)."""
    records = prepare_records(base, settings, with_tf=True)
    deduped, _ = _dedupe_prepared(records, settings, labels=labels, model=model, u=None)
    return deduped


def _dedupe_prepared(
    records: PreparedRecords,
    settings: MatchSettings,
    *,
    labels: pl.DataFrame | None,
    model: ModelParameters | None,
    u: dict[str, np.ndarray] | None,
) -> tuple[SparkMatchResult, dict[str, np.ndarray] | None]:
    """Dedupe prepared records; u is estimated on the random pairs compared along when needed and not given."""
    blocks = records.guarded(settings)
    candidates = blocking.dedupe_pairs(blocks).persist(_PERSIST)
    report = blocking.report(candidates, settings.blocking_rules, blocks.oversized)
    sample = u is None and model is None
    compared = compare(candidates, records, records, settings, labels=labels, with_u_sample=sample)
    candidates.unpersist()
    if compared.sample_levels is not None:
        u = estimate_u(compared.sample_levels, settings)

    def known_u() -> dict[str, np.ndarray]:
        assert u is not None
        return u

    pairs, trained = train_and_score(
        compared, records.height, records.height, settings, kind="dedupe", labels=labels, model=model, u=known_u
    )
    return SparkMatchResult(pairs=pairs, model=trained, blocking=report), u


def _link_prepared(
    extract: PreparedRecords,
    base: PreparedRecords,
    settings: MatchSettings,
    *,
    labels: pl.DataFrame | None,
    model: ModelParameters | None,
    u: Callable[[], dict[str, np.ndarray]],
    fallback_model: ModelParameters | None = None,
) -> SparkMatchResult:
    base_blocks = base.guarded(settings)
    candidates = blocking.link_pairs(extract.entries(settings), base_blocks).persist(_PERSIST)
    report = blocking.report(candidates, settings.blocking_rules, base_blocks.oversized)
    compared = compare(candidates, extract, base, settings, labels=labels)
    candidates.unpersist()
    pairs, trained = train_and_score(
        compared,
        extract.height,
        base.height,
        settings,
        kind="link",
        labels=labels,
        model=model,
        u=u,
        fallback_model=fallback_model,
    )
    return SparkMatchResult(pairs=pairs, model=trained, blocking=report)


def link(
    extract: DataFrame,
    base: DataFrame,
    settings: MatchSettings,
    *,
    labels: pl.DataFrame | None = None,
    model: ModelParameters | None = None,
    fallback_model: ModelParameters | None = None,
) -> SparkMatchResult:
    """``matchers.engine.link`` on Spark: extract records → base (both normalized, with ``_row``)."""
    base_records = prepare_records(base, settings, with_tf=True)
    records = prepare_records(extract, settings, with_tf=False)
    return _link_prepared(
        records,
        base_records,
        settings,
        labels=labels,
        model=model,
        u=lambda: estimate_u_on(base_records, base_records, settings),
        fallback_model=fallback_model,
    )


def dedupe_and_link(
    base: DataFrame,
    extract: DataFrame,
    settings: MatchSettings,
    *,
    labels: pl.DataFrame | None = None,
) -> tuple[SparkMatchResult, SparkMatchResult]:
    """``matchers.engine.dedupe_and_link`` on Spark: the base prepared, keyed and sampled for u once."""
    base_records = prepare_records(base, settings, with_tf=True)
    deduped, u = _dedupe_prepared(base_records, settings, labels=labels, model=None, u=None)
    assert u is not None
    records = prepare_records(extract, settings, with_tf=False)
    linked = _link_prepared(
        records, base_records, settings, labels=labels, model=None, u=lambda: u, fallback_model=deduped.model
    )
    return deduped, linked
