"""The engine pieces a distributed run calls per partition give what the whole-frame engine gives.

A scale-out engine (``scaleout``) counts agreement patterns per partition, compares pairs in batches, decides
previous cluster ids per connected set of claims: each must agree exactly with the one-machine path.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import polars as pl
import pytest

from matchers.engine import population_settings
from matchers.engine.clustering import claim_previous_ids, cluster_votes, salt_fresh_ids, stable_cluster_ids
from matchers.engine.linker import (
    FrameSource,
    compare_candidates,
    dedupe_candidates,
    pair_labels,
    prepare_records,
    random_pair_rows,
)
from matchers.engine.scoring import AgreementPatterns, estimate_u, train_model, train_on_patterns


@pytest.fixture(scope="module")
def compared(base: pl.DataFrame) -> tuple[pl.DataFrame, FrameSource]:
    settings = population_settings()
    records = prepare_records(base, settings, with_tf=True)
    source = FrameSource(records)
    candidates = dedupe_candidates(records, settings)
    return compare_candidates(candidates.pairs, source, source, settings), source


def _counts(frame: pl.DataFrame, labels: pl.Series | None, rules: int, settings_names: list[str]) -> pl.DataFrame:
    keyed = frame.select(
        *(f"_lv_{name}" for name in settings_names), *(f"_agree_{i}" for i in range(rules))
    ).with_columns((labels if labels is not None else pl.lit(None, dtype=pl.Boolean)).alias("_label"))
    return keyed.group_by(keyed.columns).agg(pl.len().alias("count"))


def test_patterns_counted_per_partition_train_the_same_model(compared: tuple[pl.DataFrame, FrameSource]) -> None:
    settings = population_settings()
    pairs, source = compared
    ids = source.frame.get_column("record_id")
    left_ids, right_ids = ids.gather(pairs.get_column("_l")), ids.gather(pairs.get_column("_r"))
    chosen = pairs.head(40)
    labels = pl.DataFrame(
        {
            "left_id": ids.gather(chosen.get_column("_r")),
            "right_id": ids.gather(chosen.get_column("_l")),
            "same_person": [i % 3 != 0 if i % 5 else None for i in range(chosen.height)],
        }
    )
    label_values = pair_labels(left_ids, right_ids, labels)
    assert label_values is not None and label_values.is_not_null().sum() > 20
    u = estimate_u(
        compare_candidates(random_pair_rows(source.height, source.height, settings, same_source=True), source,
                           source, settings),
        settings,
    )  # fmt: skip
    agreements = pairs.select(pl.col(f"_agree_{i}") for i in range(len(settings.blocking_rules)))
    whole = train_model(pairs, agreements, u, settings, label_values=label_values, comparable_pairs=10**9)
    names = [c.name for c in settings.comparisons]
    rules = len(settings.blocking_rules)
    # Four uneven "partitions" in shuffled order, counted apart, the counts summed as a reduce would.
    order = np.random.default_rng(1).permutation(pairs.height)
    shuffled, shuffled_labels = pairs[order], label_values[order]
    cuts = [0, 7, pairs.height // 3, pairs.height // 2, pairs.height]
    parts = [_counts(shuffled[a:b], shuffled_labels[a:b], rules, names) for a, b in itertools.pairwise(cuts)]
    keys = [c for c in parts[0].columns if c != "count"]
    summed = pl.concat(parts).group_by(keys).agg(pl.col("count").sum())
    patterns = AgreementPatterns.of_counts(summed, settings)
    assert patterns.pairs == pairs.height
    distributed = train_on_patterns(patterns, u, settings, comparable_pairs=10**9)
    assert distributed.to_json() == whole.to_json()


def test_previous_ids_claimed_per_connected_set_equal_the_global_claim() -> None:
    rng = np.random.default_rng(7)
    records = [f"r{i:04d}" for i in range(3000)]
    # Last night's persons of about four records; tonight most stay, some records move (splits, merges, ties).
    previous = pl.DataFrame({"record_id": records, "cluster_id": [f"P{i // 4:04d}" for i in range(3000)]})
    moved = rng.random(3000) < 0.15
    tonight = [f"g{rng.integers(0, 800) if moved[i] else i // 4:04d}" for i in range(3000)]
    groups = pl.DataFrame({"record_id": records, "group": tonight})
    votes = cluster_votes(groups, previous)
    whole = claim_previous_ids(votes)
    # Connected sets of claims (a group and a previous id are linked by a vote), decided one by one.
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for group, previous_id in votes.select("group", "_previous").iter_rows():
        parent[find("g:" + group)] = find("p:" + previous_id)
    component = votes.with_columns(pl.col("group").map_elements(lambda g: find("g:" + g), pl.String).alias("_set"))
    assert component.get_column("_set").n_unique() > 10
    piecewise: dict[str, str] = {}
    for _, part in component.group_by("_set"):
        piecewise.update(claim_previous_ids(part.drop("_set")))
    assert piecewise == whole


def test_salted_fresh_ids_avoid_taken_ids_in_group_order() -> None:
    taken = {"Pa", "Pb"}
    result = salt_fresh_ids(["g1", "g2", "g3"], ["Pa", "Pc", "Pc"], taken)
    assert result[1] == "Pc"
    assert len(set(result)) == 3 and not {"Pa", "Pb"} & {result[0], result[2]}
    groups = pl.DataFrame({"record_id": ["x", "y"], "group": ["x", "x"]})
    assert stable_cluster_ids(groups).get_column("cluster_id").n_unique() == 1


def test_training_without_any_pair_keeps_a_finite_prior() -> None:
    """An empty night or a base with nobody alike: EM has nothing to learn from and the prior is never 0/0 (NaN)."""
    settings = population_settings()
    rules = len(settings.blocking_rules)
    comparisons = settings.comparisons
    nothing = np.zeros(0)
    patterns = AgreementPatterns.of_rows(
        np.zeros((0, len(comparisons)), dtype=np.int64), np.zeros((0, rules), dtype=bool), nothing, nothing, nothing
    )
    u = {c.name: np.full(len(c.labels), 1.0 / len(c.labels)) for c in comparisons}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = train_on_patterns(patterns, u, settings, comparable_pairs=3)
    assert 0.0 < model.prior < 1.0 and math.isfinite(model.prior)
    assert model.prior <= model.candidate_prior / 3
    assert model.em_sessions == []
    for comparison in comparisons:
        assert all(math.isfinite(value) for value in model.comparisons[comparison.name].m)
