from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from matchers.engine import (
    BaseIndex,
    IndexMismatch,
    MatchResult,
    ModelParameters,
    ReviewLabel,
    dedupe,
    labels_frame,
    link,
    pair_metrics,
    population_settings,
    truth_pairs_from_entities,
)
from matchers.engine.types import level_column, weight_column


@pytest.fixture(scope="module")
def deduped(base: pl.DataFrame) -> MatchResult:
    return dedupe(base, population_settings())


def test_dedupe_finds_duplicates_precisely(base: pl.DataFrame, deduped: MatchResult) -> None:
    truth = truth_pairs_from_entities(base, entity_column="entity")
    metrics = pair_metrics(deduped.pairs.filter(pl.col("decision") == "match"), truth)
    assert metrics.precision >= 0.99
    assert metrics.recall >= 0.95
    assert pair_metrics(deduped.pairs, truth).recall >= 0.95  # blocking recall
    assert {r.rule for r in deduped.blocking} == {r.name for r in population_settings().blocking_rules}


def test_explanations_add_up_to_the_match_weight(deduped: MatchResult) -> None:
    settings = population_settings()
    pairs = deduped.pairs
    prior = math.log2(deduped.model.prior / (1 - deduped.model.prior))
    total = pl.sum_horizontal([*(weight_column(c.name) for c in settings.comparisons), "weight_veto"]) + prior
    assert np.allclose(pairs.select(total).to_series().to_numpy(), pairs.get_column("match_weight").to_numpy())
    for comparison in settings.comparisons:
        assert set(pairs.get_column(level_column(comparison.name)).unique().to_list()) <= set(comparison.labels)
    nulls = pairs.filter(pl.col("level_spouse") == "null").get_column("weight_spouse")
    assert (nulls == 0).all()


def test_rare_name_weighs_more_than_common_name(deduped: MatchResult) -> None:
    exact = deduped.pairs.filter(pl.col("level_name") == "exact").get_column("weight_name")
    assert exact.n_unique() > 5  # term frequencies make exact agreement weigh differently by name
    values = exact.to_numpy()
    assert values.max() - values.min() > 3


def test_labels_decide_their_pairs_and_never_go_to_review(base: pl.DataFrame, deduped: MatchResult) -> None:
    settings = population_settings()
    pairs = deduped.pairs
    review = pairs.filter(pl.col("decision") == "review")
    match = pairs.filter(pl.col("decision") == "match").head(1)
    chosen = [*review.head(3).iter_rows(named=True), *match.iter_rows(named=True)]
    assert chosen
    labels = labels_frame(
        [ReviewLabel(row["right_id"], row["left_id"], same_person=(i % 2 == 0)) for i, row in enumerate(chosen)]
        + [ReviewLabel("nope", "nothing", None)]
    )
    relabelled = dedupe(base, settings, labels=labels).pairs
    for i, row in enumerate(chosen):
        decided = relabelled.filter((pl.col("left_id") == row["left_id"]) & (pl.col("right_id") == row["right_id"]))
        assert decided.get_column("decision").to_list() == ["match" if i % 2 == 0 else "non_match"]
        assert decided.get_column("decision_source").to_list() == ["label"]


def test_model_round_trips_and_rescores_identically(base: pl.DataFrame, deduped: MatchResult) -> None:
    model = ModelParameters.from_json(deduped.model.to_json())
    again = dedupe(base, population_settings(), model=model)
    assert again.pairs.equals(deduped.pairs)


def test_link_and_incremental_index_agree(base: pl.DataFrame, extract: pl.DataFrame, tmp_path: Path) -> None:
    settings = population_settings()
    in_memory = link(extract, base, settings)
    index = BaseIndex.build(base, settings, tmp_path / "index")
    reopened = BaseIndex.open(tmp_path / "index", settings)
    incremental = reopened.link(extract, model=in_memory.model)
    assert incremental.pairs.sort("left_id", "right_id").equals(in_memory.pairs.sort("left_id", "right_id"))
    truth = truth_pairs_from_entities(
        pl.concat([base.select("record_id", "entity"), extract.select("record_id", "entity")]),
        entity_column="entity",
        left_ids=extract.get_column("record_id"),
        right_ids=base.get_column("record_id"),
    )
    metrics = pair_metrics(index.link(extract).pairs.filter(pl.col("decision") == "match"), truth)
    assert metrics.precision >= 0.99
    assert metrics.recall >= 0.9
    strangers = in_memory.pairs.filter(pl.col("left_id").str.starts_with("U") & (pl.col("decision") == "match"))
    assert strangers.height == 0


def test_index_is_rebuilt_when_base_or_settings_change(base: pl.DataFrame, tmp_path: Path) -> None:
    settings = population_settings()
    directory = tmp_path / "index"
    small = base.head(800)
    _, rebuilt = BaseIndex.ensure(small, settings, directory)
    assert rebuilt
    _, rebuilt = BaseIndex.ensure(small, settings, directory)
    assert not rebuilt
    _, rebuilt = BaseIndex.ensure(base.head(801), settings, directory)
    assert rebuilt
    from matchers.engine.settings import MatchSettings, block_on

    other = MatchSettings(name="other", comparisons=settings.comparisons, blocking_rules=(block_on("name_key"),))
    with pytest.raises(IndexMismatch):
        BaseIndex.open(directory, other)
