"""Blocking on Spark: the keys of the same ``block_on`` rules, joined by Spark, with the same guard.

Each record's key per rule is the embedded engine's own 64-bit hash (computed per partition by
``matchers.engine.blocking.block_keys``). A block larger than its rule's ``max_block_size`` is skipped and reported,
exactly as in the embedded engine; a pair found by several rules is kept once, under the first rule that found it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from matchers.engine.blocking import BlockingReport
from matchers.engine.settings import BlockingRule
from scaleout.frames import ROW

__all__ = ["Blocks", "block_entries", "dedupe_pairs", "guard_blocks", "link_pairs", "report"]


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
    """Guarded block entries and, per rule, the oversized blocks skipped (blocks, records in them)."""

    entries: DataFrame
    oversized: list[tuple[int, int]]


def guard_blocks(entries: DataFrame, rules: Sequence[BlockingRule]) -> Blocks:
    """Drop the entries of blocks larger than their rule's ``max_block_size`` (explosive blocks: "Nguyễn 1990")."""
    limits = F.element_at(F.array(*(F.lit(rule.max_block_size) for rule in rules)), F.col("_rule") + 1)
    sizes = entries.groupBy("_rule", "_key").agg(F.count(F.lit(1)).alias("_size"))
    oversized = sizes.where(F.col("_size") > limits).select("_rule", "_key", "_size").persist()
    counted = {
        int(row["_rule"]): (int(row["blocks"]), int(row["records"]))
        for row in oversized.groupBy("_rule")
        .agg(F.count(F.lit(1)).alias("blocks"), F.sum("_size").alias("records"))
        .collect()
    }
    kept = entries.join(oversized.select("_rule", "_key"), ["_rule", "_key"], "left_anti")
    return Blocks(kept, [counted.get(i, (0, 0)) for i in range(len(rules))])


def _first_rule(pairs: DataFrame) -> DataFrame:
    """One row per pair, under the first rule that found it (the pair union, deduplicated)."""
    return pairs.groupBy("_l", "_r").agg(F.min("_rule").alias("_rule"))


def dedupe_pairs(blocks: Blocks) -> DataFrame:
    """``_l < _r`` (row numbers), ``_rule``: every pair of records sharing a guarded block key."""
    left = blocks.entries.select("_rule", "_key", F.col(ROW).alias("_l"))
    right = blocks.entries.select("_rule", "_key", F.col(ROW).alias("_r"))
    raw = left.join(right, ["_rule", "_key"]).where(F.col("_l") < F.col("_r")).select("_l", "_r", "_rule")
    return _first_rule(raw)


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
    return [
        BlockingReport(
            rule=rule.name,
            pairs=counts.get(i, 0),
            oversized_blocks=oversized[i][0],
            records_in_oversized_blocks=oversized[i][1],
        )
        for i, rule in enumerate(rules)
    ]
