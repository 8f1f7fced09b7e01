"""Blocking: which record pairs are worth comparing.

Each rule hashes its columns into a 64-bit key per record. Dedupe pairs come from a self-join per rule, processed in
hash partitions of the key so a batch never holds more than ``batch_pairs`` pairs; a pair already produced by an
earlier rule is dropped by looking at the earlier rules' keys of the pair itself, which keeps every partition
independent (no global set of seen pairs), so batches can run anywhere. Linking looks each extract key up in the
base's sorted key arrays, at a cost that grows with the extract only.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from matchers.engine.settings import BlockingRule

__all__ = [
    "BlockingReport",
    "GuardedKeys",
    "SortedKeys",
    "block_keys",
    "dedupe_pair_batches",
    "guard_keys",
    "guarded_block_keys",
    "link_pairs",
    "sorted_keys",
]

_SEPARATOR = "\x1f"
_HASH_SEED = 20250701


def _key_expr(rule: BlockingRule) -> pl.Expr:
    text = pl.concat_str([pl.col(c).cast(pl.String) for c in rule.columns], separator=_SEPARATOR)
    # Empty strings would put every record with a blank field into one huge block.
    valid = pl.all_horizontal([pl.col(c).cast(pl.String).str.len_bytes() > 0 for c in rule.columns])
    return pl.when(valid).then(text.hash(seed=_HASH_SEED))


@dataclass(frozen=True, slots=True)
class BlockingReport:
    """Per rule: pairs it contributed (not already found by an earlier rule), blocks skipped as too large."""

    rule: str
    pairs: int
    oversized_blocks: int
    records_in_oversized_blocks: int

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "pairs": self.pairs,
            "oversized_blocks": self.oversized_blocks,
            "records_in_oversized_blocks": self.records_in_oversized_blocks,
        }


def _block_sizes(column: pl.Series) -> pl.DataFrame:
    """``value`` (each non-null key) and ``len`` (its records), by one sort: at a million records a sort and its
    runs cost a third of ``value_counts``' hash table."""
    return column.drop_nulls().sort().rle().struct.unnest()


@dataclass(frozen=True, slots=True)
class GuardedKeys:
    """A base's guarded block keys (``block_keys``), the oversized report, and per rule the pairs its self-join
    gives (each block of ``n`` records kept: ``n (n - 1) / 2``), known from the block sizes the guard measured."""

    keys: pl.DataFrame
    oversized: list[tuple[int, int]]
    pairs: list[int]


def guarded_block_keys(records: pl.DataFrame, rules: Sequence[BlockingRule]) -> GuardedKeys:
    """``block_keys(records, rules)`` and the self-join pairs per rule of the guarded keys, which
    ``dedupe_pair_batches`` needs to cut its batches (given here, it does not measure the blocks a second time)."""
    return guard_keys(records.select([_key_expr(rule).alias(f"key_{i}") for i, rule in enumerate(rules)]), rules)


def guard_keys(keys: pl.DataFrame, rules: Sequence[BlockingRule]) -> GuardedKeys:
    """The guard of ``guarded_block_keys`` on keys already computed (``key_<i>`` per record, unguarded: e.g. read
    back from an index's sorted key arrays), so a base too large to hold whole needs only its keys in memory."""
    oversized: list[tuple[int, int]] = []
    pairs: list[int] = []
    guarded = []
    for i, rule in enumerate(rules):
        name = f"key_{i}"
        sizes = _block_sizes(keys.get_column(name))
        big = sizes.filter(pl.col("len") > rule.max_block_size)
        oversized.append((big.height, int(big.get_column("len").sum()) if big.height else 0))
        # The guard nulls the keys of the big blocks: the blocks left are the others, with their sizes.
        kept = sizes.filter(pl.col("len") <= rule.max_block_size).get_column("len").cast(pl.Int64)
        pairs.append(_self_join_pairs(kept))
        if big.height:
            guarded.append(
                pl.when(pl.col(name).is_in(big.get_column("value").implode()))
                .then(None)
                .otherwise(pl.col(name))
                .alias(name)
            )
    if guarded:
        keys = keys.with_columns(guarded)
    return GuardedKeys(keys, oversized, pairs)


def _self_join_pairs(sizes: pl.Series) -> int:
    """Pairs ``_row < _row_other`` of a self-join over blocks of these sizes (Int64)."""
    return int((sizes * (sizes - 1) // 2).sum()) if sizes.len() else 0


def block_keys(
    records: pl.DataFrame, rules: Sequence[BlockingRule], *, guard: bool = True
) -> tuple[pl.DataFrame, list[tuple[int, int]]]:
    """``key_<i>`` (UInt64, null = not blocked by rule i) per record, in record order.

    With ``guard``, keys of blocks larger than the rule's ``max_block_size`` are nulled. Also returns per rule
    (oversized blocks, records in them).
    """
    if guard:
        found = guarded_block_keys(records, rules)
        return found.keys, found.oversized
    keys = records.select([_key_expr(rule).alias(f"key_{i}") for i, rule in enumerate(rules)])
    return keys, [(0, 0)] * len(rules)


def dedupe_pair_batches(
    keys: pl.DataFrame, *, batch_pairs: int = 3_000_000, expected_pairs: Sequence[int] | None = None
) -> Iterator[tuple[int, pl.DataFrame]]:
    """Yield ``(rule_index, pairs)`` with ``pairs`` = ``_l``, ``_r`` (UInt32 row numbers, ``_l < _r``).

    A pair appears exactly once overall: under the first rule whose (guarded) key it shares. ``expected_pairs``:
    each rule's self-join pairs when already known (``guarded_block_keys``), else they are counted here.
    """
    rows = pl.int_range(0, keys.height, dtype=pl.UInt32, eager=True).alias("_row")
    for i in range(keys.width):
        name = f"key_{i}"
        column = keys.get_column(name)
        blocked = pl.DataFrame([rows, column]).filter(pl.col(name).is_not_null())
        if expected_pairs is not None:
            expected = expected_pairs[i]
        else:
            expected = _self_join_pairs(_block_sizes(blocked.get_column(name)).get_column("len").cast(pl.Int64))
        partitions = max(1, math.ceil(expected / batch_pairs))
        for part in range(partitions):
            chunk = blocked if partitions == 1 else blocked.filter(pl.col(name) % partitions == part)
            pairs = (
                chunk.join(chunk, on=name, suffix="_other")
                .filter(pl.col("_row") < pl.col("_row_other"))
                .select(pl.col("_row").alias("_l"), pl.col("_row_other").alias("_r"))
            )
            if i and pairs.height:
                earlier = pl.lit(False)
                gathered = []
                for j in range(i):
                    earlier_keys = keys.get_column(f"key_{j}")
                    gathered.append(earlier_keys.gather(pairs.get_column("_l")).alias(f"_kl{j}"))
                    gathered.append(earlier_keys.gather(pairs.get_column("_r")).alias(f"_kr{j}"))
                    earlier = earlier | (pl.col(f"_kl{j}") == pl.col(f"_kr{j}")).fill_null(False)
                pairs = pairs.with_columns(gathered).filter(~earlier).select("_l", "_r")
            if pairs.height:
                yield i, pairs


@dataclass(frozen=True, slots=True)
class SortedKeys:
    """One rule's base keys, sorted, with the base row number of each; oversized blocks already removed."""

    keys: np.ndarray
    rows: np.ndarray

    def lookup(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All ``(query position, base row)`` pairs whose keys are equal."""
        # Searched in key order and put back in query order: numpy's binary search starts from the previous
        # key's place when the keys come sorted, which makes it several times faster on a large base.
        order = np.argsort(query, kind="stable")
        ordered = query[order]
        lo = np.empty(query.shape[0], dtype=np.intp)
        hi = np.empty(query.shape[0], dtype=np.intp)
        lo[order] = np.searchsorted(self.keys, ordered, side="left")
        hi[order] = np.searchsorted(self.keys, ordered, side="right")
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            return np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.uint32)
        query_positions = np.repeat(np.arange(query.shape[0], dtype=np.uint32), counts)
        starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
        base_positions = starts + np.arange(total)
        return query_positions, np.asarray(self.rows[base_positions], dtype=np.uint32)


def sorted_keys(keys: pl.DataFrame) -> list[SortedKeys]:
    """Sorted key arrays per rule from (guarded) base keys."""
    result = []
    rows = pl.int_range(0, keys.height, dtype=pl.UInt32, eager=True).alias("_row")
    for i in range(keys.width):
        name = f"key_{i}"
        frame = pl.DataFrame([rows, keys.get_column(name)]).drop_nulls(name).sort(name)
        result.append(
            SortedKeys(frame.get_column(name).to_numpy().astype(np.uint64), frame.get_column("_row").to_numpy())
        )
    return result


def link_pairs(extract_keys: pl.DataFrame, index: Sequence[SortedKeys]) -> tuple[pl.DataFrame, list[int]]:
    """Candidate ``(_l = extract row, _r = base row, _rule)``, each pair once under its first rule; pairs per rule."""
    frames = []
    for i, sorted_rule in enumerate(index):
        column = extract_keys.get_column(f"key_{i}")
        present = column.is_not_null()
        positions = np.flatnonzero(present.to_numpy())
        query = column.filter(present).to_numpy().astype(np.uint64)
        query_positions, base_rows = sorted_rule.lookup(query)
        frames.append(
            pl.DataFrame(
                {
                    "_l": positions[query_positions].astype(np.uint32),
                    "_r": base_rows,
                    "_rule": np.full(base_rows.shape[0], i, dtype=np.int8),
                }
            )
        )
    pairs = pl.concat(frames).unique(subset=["_l", "_r"], keep="first", maintain_order=True)
    counts = pairs.get_column("_rule").value_counts()
    per_rule = dict(zip(counts.get_column("_rule").to_list(), counts.get_column("count").to_list(), strict=True))
    return pairs, [int(per_rule.get(i, 0)) for i in range(len(index))]
