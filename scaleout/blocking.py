"""Blocking on Spark: the keys of the same ``block_on`` rules, gathered into blocks by Spark, with the same guard.

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
    """The guarded blocks, one row each: ``_rule, _key, _rows`` (the row numbers of the block's records), and per
    rule the oversized blocks skipped (blocks, records in them)."""

    blocks: DataFrame
    oversized: list[tuple[int, int]]


def guard_blocks(entries: DataFrame, rules: Sequence[BlockingRule]) -> Blocks:
    """Drop the blocks larger than their rule's ``max_block_size`` (explosive blocks: "Nguyễn 1990").

    One shuffle of the entries gathers each block's row numbers; the pairs of every block (``dedupe_pairs``) and
    the base's blocks an extract looks up (``link_pairs``) come from those lists without moving the entries again.
    """
    limits = F.element_at(F.array(*(F.lit(rule.max_block_size) for rule in rules)), F.col("_rule") + 1)
    gathered = materialize(
        entries.groupBy("_rule", "_key").agg(F.collect_list(ROW).alias("_rows"), F.count(F.lit(1)).alias("_size"))
    )
    counted = {
        int(row["_rule"]): (int(row["blocks"]), int(row["records"]))
        for row in gathered.where(F.col("_size") > limits)
        .groupBy("_rule")
        .agg(F.count(F.lit(1)).alias("blocks"), F.sum("_size").alias("records"))
        .collect()
    }
    kept = gathered.where(F.col("_size") <= limits).select("_rule", "_key", "_rows")
    return Blocks(kept, [counted.get(i, (0, 0)) for i in range(len(rules))])


def _first_rule(pairs: DataFrame) -> DataFrame:
    """One row per pair, under the first rule that found it (the pair union, deduplicated).

    Grouped within partitions hashed on ``_l`` alone, the layout of the prepared records (``by_row``): the join
    that brings the left record beside each pair then moves neither side again.
    """
    partitions = int(pairs.sparkSession.conf.get("spark.sql.shuffle.partitions") or 200)
    return pairs.repartition(partitions, "_l").groupBy("_l", "_r").agg(F.min("_rule").alias("_rule"))


def dedupe_pairs(blocks: Blocks) -> DataFrame:
    """``_l < _r`` (row numbers), ``_rule``: every pair of records sharing a guarded block key."""
    members = blocks.blocks.where(F.size("_rows") > 1).select("_rule", "_rows", F.explode("_rows").alias("_l"))
    raw = members.select("_l", F.explode(F.filter("_rows", lambda row: row > F.col("_l"))).alias("_r"), "_rule")
    return _first_rule(raw)


def link_pairs(extract_entries: DataFrame, base_blocks: Blocks) -> DataFrame:
    """``_l`` (extract row), ``_r`` (base row), ``_rule``: extract keys looked up in the base's guarded blocks."""
    extract = extract_entries.select("_rule", "_key", F.col(ROW).alias("_l"))
    found = extract.join(base_blocks.blocks, ["_rule", "_key"])
    return _first_rule(found.select("_l", F.explode("_rows").alias("_r"), "_rule"))


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
