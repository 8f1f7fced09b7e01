"""Blocking on Spark: the keys of the same ``block_on`` rules, gathered into blocks by Spark, with the same guard.

Each record's key per rule is the embedded engine's own 64-bit hash (computed per partition by
``matchers.engine.blocking.block_keys``). A block larger than its rule's ``max_block_size`` is skipped and reported,
exactly as in the embedded engine; a pair found by several rules is kept once, under the first rule that found it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from matchers.engine.blocking import BlockingReport
from matchers.engine.settings import BlockingRule
from scaleout.frames import ROW, materialize

__all__ = ["Blocks", "block_entries", "dedupe_pairs", "guard_blocks", "link_pairs", "report", "reports"]


def key_column(rule_index: int) -> str:
    return f"key_{rule_index}"


def block_entries(records: DataFrame, rules: Sequence[BlockingRule]) -> DataFrame:
    """``_rule, _key, _row``: one row per record and rule whose key is not null."""
    entries = F.array(*(F.struct(F.lit(i).alias("rule"), F.col(key_column(i)).alias("key")) for i in range(len(rules))))
    return (
        records.select(ROW, F.explode(entries).alias("_entry"))
        .select(F.col("_entry.rule").alias("_rule"), F.col("_entry.key").alias("_key"), ROW)
        .where(F.col("_key").isNotNull())
    )


@dataclass(frozen=True, slots=True)
class Blocks:
    """The entries of the guarded blocks, ``_rule, _key, _row, _size`` (the block's record count), hashed on
    ``_rule, _key`` and sorted by them within each partition; and per rule the oversized blocks skipped (blocks,
    records in them)."""

    entries: DataFrame
    oversized: list[tuple[int, int]]


def guard_blocks(entries: DataFrame, rules: Sequence[BlockingRule]) -> Blocks:
    """Drop the blocks larger than their rule's ``max_block_size`` (explosive blocks: "Nguyễn 1990").

    One shuffle of the narrow entries (a window counting each block's records) lays them out by block; the pairs
    of every block (``dedupe_pairs``, a self-join) and the base's blocks an extract looks up (``link_pairs``) read
    that layout without moving the entries again. Gathering each block's rows into a list instead (one
    ``collect_list`` per block) cost ten times the JVM time: almost every block holds one record, and every one
    became an object of its own.
    """
    limits = F.element_at(F.array(*(F.lit(rule.max_block_size) for rule in rules)), F.col("_rule") + 1)
    block = Window.partitionBy("_rule", "_key")
    sized = materialize(entries.withColumn("_size", F.count(F.lit(1)).over(block)), keep_layout=True)
    counted = {
        int(row["_rule"]): (int(row["blocks"]), int(row["records"]))
        for row in sized.where(F.col("_size") > limits)
        .groupBy("_rule")
        .agg(F.countDistinct("_key").alias("blocks"), F.count(F.lit(1)).alias("records"))
        .collect()
    }
    kept = sized.where(F.col("_size") <= limits)
    return Blocks(kept, [counted.get(i, (0, 0)) for i in range(len(rules))])


def _first_rule(pairs: DataFrame) -> DataFrame:
    """One row per pair, under the first rule that found it (the pair union, deduplicated).

    Grouped within partitions hashed on ``_l`` alone, the layout of the prepared records (``by_row``): the join
    that brings the left record beside each pair then moves neither side again.
    """
    partitions = int(pairs.sparkSession.conf.get("spark.sql.shuffle.partitions") or 200)
    return pairs.repartition(partitions, "_l").groupBy("_l", "_r").agg(F.min("_rule").alias("_rule"))


def dedupe_pairs(blocks: Blocks) -> DataFrame:
    """``_l < _r`` (row numbers), ``_rule``: every pair of records sharing a guarded block key (a self-join of the
    entries of blocks of two or more, which are laid out by block already: no shuffle before it)."""
    shared = blocks.entries.where(F.col("_size") > 1)
    left = shared.select("_rule", "_key", F.col(ROW).alias("_l"))
    right = shared.select("_rule", "_key", F.col(ROW).alias("_r"))
    raw = left.join(right, ["_rule", "_key"]).where(F.col("_l") < F.col("_r"))
    return _first_rule(raw.select("_l", "_r", "_rule"))


def link_pairs(extract_entries: DataFrame, base_blocks: Blocks) -> DataFrame:
    """``_l`` (extract row), ``_r`` (base row), ``_rule``: extract keys looked up in the base's guarded blocks."""
    extract = extract_entries.select("_rule", "_key", F.col(ROW).alias("_l"))
    base = base_blocks.entries.select("_rule", "_key", F.col(ROW).alias("_r"))
    return _first_rule(extract.join(base, ["_rule", "_key"]).select("_l", "_r", "_rule"))


def report(
    pairs: DataFrame, rules: Sequence[BlockingRule], oversized: Sequence[tuple[int, int]]
) -> list[BlockingReport]:
    """The embedded engine's blocking report: pairs each rule contributed, oversized blocks it skipped."""
    counts = {int(row["_rule"]): int(row["count"]) for row in pairs.groupBy("_rule").count().collect()}
    return reports(counts, rules, oversized)


def reports(
    pairs_per_rule: dict[int, int], rules: Sequence[BlockingRule], oversized: Sequence[tuple[int, int]]
) -> list[BlockingReport]:
    """The report from pairs counted per rule index elsewhere."""
    return [
        BlockingReport(
            rule=rule.name,
            pairs=pairs_per_rule.get(i, 0),
            oversized_blocks=oversized[i][0],
            records_in_oversized_blocks=oversized[i][1],
        )
        for i, rule in enumerate(rules)
    ]
