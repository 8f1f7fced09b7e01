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
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from matchers.engine.blocking import BlockingReport, block_keys
from matchers.engine.comparisons import VETO_CODE
from matchers.engine.linker import (
    FrameSource,
    comparable_pairs,
    compare_pairs,
    compare_sides,
    fit_model,
    pair_columns,
    pair_labels,
    random_pair_rows,
    record_frame,
    score_pairs,
    side_columns,
    term_frequency,
    training_labels,
)
from matchers.engine.scoring import AgreementPatterns, ModelParameters, estimate_u
from matchers.engine.settings import MatchSettings
from matchers.engine.types import PairKind
from scaleout import blocking
from scaleout.frames import (
    ROW,
    by_row,
    collect_polars,
    empty_polars,
    from_polars,
    input_columns,
    map_frames,
    materialize,
    spark_schema,
)

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


def _term_frequencies(prepared: DataFrame, columns: list[str]) -> DataFrame:
    """``_row, tf_<column>…`` for every row (null where the column is null): one narrow frame.

    Each value's count comes from a window over the narrow ``_row`` + columns frame (one shuffle per column, no
    join back by value); the share of a count is the embedded engine's ``term_frequency``, computed on the driver
    once per distinct count (a few thousand numbers: a share depends on nothing but its count and the column's
    non-null total) and broadcast.
    """
    spark = prepared.sparkSession
    narrow = prepared.select(ROW, *columns)
    for i, column in enumerate(columns):
        # Null rows get keys of their own (NUL + row number: no normalized value holds a NUL), so a column's nulls
        # do not all land in one task; their counts are not used.
        key = F.coalesce(F.col(column), F.concat(F.lit("\u0000"), F.col(ROW).cast("string")))
        count = F.count(F.lit(1)).over(Window.partitionBy(key))
        narrow = narrow.withColumn(f"_n{i}", F.when(F.col(column).isNotNull(), count))
    narrow = materialize(narrow.drop(*columns))
    histogram = None
    for i in range(len(columns)):
        counted = (
            narrow.where(F.col(f"_n{i}").isNotNull())
            .groupBy(F.col(f"_n{i}").alias("_n"))
            .agg(F.count(F.lit(1)).alias("_rows"))
            .withColumn("_column", F.lit(i))
        )
        histogram = counted if histogram is None else histogram.unionByName(counted)
    assert histogram is not None
    sizes = collect_polars(histogram)
    frame = narrow
    for i, column in enumerate(columns):
        sizes_of = sizes.filter(pl.col("_column") == i)
        # Every value with count n stands on n rows: the rows summed are the column's non-null values.
        known = int(sizes_of.get_column("_rows").sum())
        shares = sizes_of.select(
            pl.col("_n").cast(pl.Int64).alias(f"_n{i}"),
            term_frequency(pl.col("_n"), pl.lit(known, dtype=pl.Int64)).alias(f"tf_{column}"),
        )
        frame = frame.join(F.broadcast(from_polars(spark, shares)), f"_n{i}", "left")
    return frame.select(ROW, *(f"tf_{c}" for c in columns))


def prepare_records(df: DataFrame, settings: MatchSettings, *, with_tf: bool) -> PreparedRecords:
    """``prepare_records`` of the embedded engine, plus the blocking keys; ``df`` carries ``_row``."""
    rules = settings.blocking_rules

    def prepare(batch: pl.DataFrame) -> pl.DataFrame:
        prepared = record_frame(batch, settings)
        keys, _ = block_keys(prepared, rules, guard=False)
        return pl.concat([batch.select(pl.col(ROW).cast(pl.Int64)), prepared, keys], how="horizontal")

    df = df.select(*input_columns(settings, [ROW, settings.id_column, *settings.record_columns], df))
    schema = spark_schema(prepare(empty_polars(df)).schema)
    # Laid out by row number (hashed into the shuffle partitions, sorted within them) once, and kept so
    # (``by_row``): every later join on the row number (the term frequencies, both sides of every pair) then moves
    # only its other, narrower side, never these ~45 columns again. Materialized (not ``persist``ed): Spark's
    # columnar cache of these columns cost four times the Python pass itself (12 s of 17 s for 200,000 records); a
    # local checkpoint keeps the rows as they are.
    prepared = materialize(by_row(map_frames(df, prepare, schema)), keep_layout=True)
    frequencies = list(settings.tf_columns)
    if with_tf and frequencies:
        # Kept apart in the same layout, and joined to the records wherever they are read (a join of two frames
        # hashed and sorted alike moves neither): the ~45 prepared columns are kept once, not a second time with
        # the frequencies beside them.
        kept = materialize(by_row(_term_frequencies(prepared, frequencies)), keep_layout=True)
        frame = prepared.join(kept, ROW, "left")
    else:
        frame = prepared.select("*", *(F.lit(None).cast("double").alias(f"tf_{c}") for c in frequencies))
    return PreparedRecords(frame=frame, height=prepared.count())


def _side(records: PreparedRecords, settings: MatchSettings, suffix: str, id_name: str) -> DataFrame:
    columns = side_columns(settings)
    return records.frame.select(
        F.col(ROW).alias(suffix),
        F.col(settings.id_column).alias(id_name),
        *(F.col(c).alias(f"{c}{suffix}") for c in columns),
    )


@dataclass(slots=True)
class Compared:
    """Compared pairs: ``_l, _r, _rule``, both ids, ``_lv_*``, ``_agree_*``, ``_tf_*``, ``_label`` (kept), and
    their counts per rule and agreement pattern (what training and the blocking report need, a few thousand rows
    counted in one pass)."""

    frame: DataFrame
    counts: pl.DataFrame

    @property
    def pairs(self) -> int:
        return int(self.counts.get_column("count").sum())

    def per_rule(self) -> dict[int, int]:
        summed = self.counts.group_by("_rule").agg(pl.col("count").sum())
        return {int(rule): int(count) for rule, count in summed.iter_rows()}

    def patterns(self, settings: MatchSettings) -> AgreementPatterns:
        return AgreementPatterns.of_counts(self.counts, settings)


def compare(
    pairs: DataFrame,
    left: PreparedRecords,
    right: PreparedRecords,
    settings: MatchSettings,
    *,
    labels: pl.DataFrame | None = None,
) -> Compared:
    """Compare every pair (``_l``, ``_r``, ``_rule``) with ``compare_sides``, batch by batch."""
    sides = pairs.join(_side(left, settings, "_l", _LEFT_ID), "_l").join(_side(right, settings, "_r", _RIGHT_ID), "_r")

    def compare_batch(batch: pl.DataFrame) -> pl.DataFrame:
        compared = compare_sides(batch, settings)
        reviewed = pair_labels(batch.get_column(_LEFT_ID), batch.get_column(_RIGHT_ID), labels)
        label = training_labels(compared, reviewed)
        label_column = label.alias(_LABEL) if label is not None else pl.lit(None, dtype=pl.Boolean).alias(_LABEL)
        ids = batch.select("_l", "_r", pl.col("_rule").cast(pl.Int8), _LEFT_ID, _RIGHT_ID)
        return pl.concat([ids, compared], how="horizontal").with_columns(label_column)

    schema = spark_schema(compare_batch(empty_polars(sides)).schema)
    frame = materialize(map_frames(sides, compare_batch, schema, batch_rows=50_000))
    keys = [
        "_rule",
        *(f"_lv_{c.name}" for c in settings.comparisons),
        *(f"_agree_{i}" for i in range(len(settings.blocking_rules))),
        _LABEL,
    ]
    counts = collect_polars(frame.groupBy(*keys).agg(F.count(F.lit(1)).alias("count")))
    return Compared(frame=frame, counts=counts)


def estimate_u_on(left: PreparedRecords, right: PreparedRecords, settings: MatchSettings) -> dict[str, np.ndarray]:
    """u from the embedded engine's random pairs of ``left`` × ``right``: the same seed draws the same row numbers,
    so the same pairs. Their records (at most two per pair) are collected to the driver and compared there by the
    engine itself, which is cheaper than moving every pair through two joins."""
    rows = random_pair_rows(left.height, right.height, settings, same_source=True)
    columns = side_columns(settings)

    def fetch(records: PreparedRecords, wanted: pl.Series) -> FrameSource:
        numbers = from_polars(records.frame.sparkSession, wanted.unique().cast(pl.Int64).to_frame(ROW))
        found = collect_polars(records.frame.join(F.broadcast(numbers), ROW, "left_semi").select(ROW, *columns))
        return FrameSource(found.sort(ROW))

    left_rows, right_rows = rows.get_column("_l"), rows.get_column("_r")
    if right is left:
        # One fetch serves both sides, so it must hold the rows of both: a small base has every row on each side
        # of 300,000 random pairs, a larger one does not.
        left_source = right_source = fetch(left, pl.concat([left_rows, right_rows]))
    else:
        left_source, right_source = fetch(left, left_rows), fetch(right, right_rows)

    def local(source: FrameSource, wanted: pl.Series) -> pl.Series:
        numbers = source.frame.get_column(ROW).cast(pl.Int64)
        positions = numbers.search_sorted(wanted.cast(pl.Int64))
        return positions.cast(pl.UInt32)

    pairs = pl.DataFrame({"_l": local(left_source, left_rows), "_r": local(right_source, right_rows)})
    return estimate_u(compare_pairs(pairs, left_source, right_source, settings, vetoes=False), settings)


def _scored_columns(settings: MatchSettings) -> list[str]:
    """The compared columns ``score_pairs`` reads: the ids, the rule, the level codes (and the veto code) and the
    pair term frequencies."""
    vetoes = [VETO_CODE] if settings.vetoes else []
    levels = [f"_lv_{c.name}" for c in settings.comparisons]
    return [_LEFT_ID, _RIGHT_ID, "_rule", *levels, *vetoes, *(f"_tf_{c}" for c in settings.tf_columns)]


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
        lambda: compared.patterns(settings),
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

    # Only the columns scoring reads cross to Python (not the rule agreements and row numbers EM and the counts
    # needed): every value crossing costs a conversion each way.
    read = compared.frame.select(*_scored_columns(settings))
    schema = spark_schema(score_batch(empty_polars(read)).schema)
    scored = map_frames(read, score_batch, schema, batch_rows=200_000).select(*pair_columns(settings))
    # Materialized: the pairs are read by the decision counts, the clusters (twice) and the writer; unmaterialized,
    # every one of them scored every pair again.
    return materialize(scored), chosen


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
    """Dedupe prepared records; u is estimated when training needs it and it is not given."""
    blocks = records.guarded(settings)
    compared = compare(blocking.dedupe_pairs(blocks), records, records, settings, labels=labels)
    report = blocking.reports(compared.per_rule(), settings.blocking_rules, blocks.oversized)

    def known_u() -> dict[str, np.ndarray]:
        nonlocal u
        if u is None:
            u = estimate_u_on(records, records, settings)
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
    compared = compare(
        blocking.link_pairs(extract.entries(settings), base_blocks), extract, base, settings, labels=labels
    )
    report = blocking.reports(compared.per_rule(), settings.blocking_rules, base_blocks.oversized)
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
