from __future__ import annotations

import numpy as np
import polars as pl

from matchers.engine.blocking import (
    SortedKeys,
    block_keys,
    dedupe_pair_batches,
    guarded_block_keys,
    link_pairs,
    sorted_keys,
)
from matchers.engine.settings import block_on


def _records() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "a": ["x", "x", "x", "y", "y", None, "", "z"],
            "b": ["1", "1", "2", "1", "1", "1", "1", "9"],
        }
    )


def test_keys_skip_null_and_empty_values() -> None:
    keys, _ = block_keys(_records(), [block_on("a")], guard=False)
    column = keys.get_column("key_0")
    assert column[5] is None and column[6] is None
    assert column[0] == column[1] == column[2] != column[3]


def test_oversized_blocks_are_dropped_and_reported() -> None:
    keys, oversized = block_keys(_records(), [block_on("a", max_block_size=2)])
    assert oversized == [(1, 3)]
    assert keys.get_column("key_0")[:3].null_count() == 3
    assert keys.get_column("key_0")[3] is not None


def _all_pairs(keys: pl.DataFrame, batch_pairs: int) -> pl.DataFrame:
    frames = [p.with_columns(pl.lit(i).alias("rule")) for i, p in dedupe_pair_batches(keys, batch_pairs=batch_pairs)]
    return pl.concat(frames).sort("_l", "_r")


def test_each_pair_once_under_its_first_rule_and_batches_do_not_change_the_result() -> None:
    rng = np.random.default_rng(0)
    records = pl.DataFrame({"a": rng.integers(0, 30, 400).astype(str), "b": rng.integers(0, 20, 400).astype(str)})
    rules = [block_on("a"), block_on("b"), block_on("a", "b")]
    keys, _ = block_keys(records, rules)
    whole = _all_pairs(keys, 10_000_000)
    batched = _all_pairs(keys, 50)
    assert whole.equals(batched)
    assert whole.select("_l", "_r").is_duplicated().sum() == 0
    assert whole.filter(pl.col("rule") == 2).height == 0  # a+b pairs already agree on a
    a = records.get_column("a").to_list()
    b = records.get_column("b").to_list()
    expected = {(i, j) for i in range(400) for j in range(i + 1, 400) if a[i] == a[j] or b[i] == b[j]}
    assert set(zip(whole.get_column("_l").to_list(), whole.get_column("_r").to_list(), strict=True)) == expected


def test_guarded_keys_count_each_rules_self_join_pairs_and_give_the_same_batches() -> None:
    """The pairs per rule that ``guarded_block_keys`` reads off the guard's block sizes are what a self-join of the
    guarded keys gives; handed to ``dedupe_pair_batches`` they cut the same batches as counting them there."""
    rng = np.random.default_rng(3)
    records = pl.DataFrame({"a": rng.integers(0, 25, 600).astype(str), "b": rng.integers(0, 20, 600).astype(str)})
    records = records.with_columns(pl.when(pl.int_range(600) % 7 == 0).then(None).otherwise(pl.col("b")).alias("b"))
    rules = [block_on("a", max_block_size=30), block_on("b", max_block_size=28), block_on("a", "b", max_block_size=2)]
    before = records.clone()
    guarded = guarded_block_keys(records, rules)
    keys, oversized = block_keys(records, rules)
    assert records.equals(before)
    assert guarded.keys.equals(keys) and guarded.oversized == oversized
    assert all(0 < big < blocks for (big, _), blocks in zip(oversized, (25, 20, 500), strict=True))
    for i in range(len(rules)):
        column = keys.select(pl.col(f"key_{i}").alias("k"), pl.int_range(600, dtype=pl.UInt32).alias("r")).drop_nulls()
        joined = column.join(column, on="k", suffix="_o").filter(pl.col("r") < pl.col("r_o"))
        assert guarded.pairs[i] == joined.height
    for batch_pairs in (10_000_000, 500, 40):
        counted = list(dedupe_pair_batches(keys, batch_pairs=batch_pairs))
        given = list(dedupe_pair_batches(keys, batch_pairs=batch_pairs, expected_pairs=guarded.pairs))
        assert len(counted) == len(given) > len(rules) - 1
        assert all(a[0] == b[0] and a[1].equals(b[1]) for a, b in zip(counted, given, strict=True))


def test_link_lookup_equals_a_join() -> None:
    rng = np.random.default_rng(1)
    base = pl.DataFrame({"a": rng.integers(0, 50, 1000).astype(str)})
    extract = pl.DataFrame({"a": rng.integers(0, 60, 120).astype(str)})
    rules = [block_on("a", max_block_size=1000)]
    base_keys, _ = block_keys(base, rules)
    extract_keys, _ = block_keys(extract, rules, guard=False)
    pairs, per_rule = link_pairs(extract_keys, sorted_keys(base_keys))
    joined = (
        extract.with_row_index("_l")
        .join(base.with_row_index("_r"), on="a")
        .select(pl.col("_l").cast(pl.UInt32), pl.col("_r").cast(pl.UInt32))
    )
    assert per_rule == [joined.height]
    assert pairs.select("_l", "_r").sort("_l", "_r").equals(joined.sort("_l", "_r"))


def test_sorted_key_lookup_gives_every_equal_pair_in_query_order() -> None:
    """The lookup searches the queries in key order; its answer is the plain one: for each query in the order
    given, every base row with that key, in the base's sorted order."""
    rng = np.random.default_rng(7)
    base = rng.integers(0, 40, size=300).astype(np.uint64)
    order = np.argsort(base, kind="stable")
    index = SortedKeys(base[order], order.astype(np.uint32))
    query = rng.integers(0, 60, size=500).astype(np.uint64)  # keys missing from the base too
    expected_positions = [q for q, key in enumerate(query) for _ in np.flatnonzero(base[order] == key)]
    expected_rows = [int(order[i]) for key in query for i in np.flatnonzero(base[order] == key)]
    positions, rows = index.lookup(query)
    assert positions.tolist() == expected_positions
    assert rows.tolist() == expected_rows
    empty_positions, empty_rows = index.lookup(np.empty(0, dtype=np.uint64))
    assert empty_positions.size == empty_rows.size == 0
