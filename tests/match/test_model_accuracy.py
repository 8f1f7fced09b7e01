"""The model choices that carry accuracy on a realistic province: twins, the prior, lazy similarities, EM rules."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from matchers.engine import BaseIndex, MatchResult, dedupe, dedupe_and_link, link, population_settings
from matchers.engine.comparisons import compute_levels, compute_similarities
from matchers.engine.linker import comparable_pairs, prepare_records
from matchers.engine.scoring import _patterns
from matchers.engine.settings import MatchSettings, block_on
from tests.match.synthetic import Person, frame, pair_sides, record_of


def test_lazy_similarities_give_the_same_levels_as_computing_every_pair(base: pl.DataFrame) -> None:
    settings = population_settings()
    records = prepare_records(base, settings, with_tf=True)
    rng = np.random.default_rng(3)
    left_rows = rng.integers(0, records.height, 4000)
    # Half random pairs, half pairs of neighbouring rows (duplicates sit next to their originals in the fixture).
    right_rows = np.where(np.arange(4000) % 2 == 0, rng.integers(0, records.height, 4000), left_rows + 1)
    right_rows = np.minimum(right_rows, records.height - 1)
    sides = pair_sides(records, left_rows, right_rows)
    eager = compute_similarities(sides, settings.similarities, settings.workers).select(
        [comparison.level_expr() for comparison in settings.comparisons]
    )
    lazy = compute_levels(sides, settings)
    assert lazy.drop("_veto").equals(eager)
    assert lazy.get_column("_lv_name").n_unique() >= 3


def test_packed_patterns_match_row_unique() -> None:
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 4, size=(5000, 6)).astype(np.int64)
    codes[:, 2] = rng.integers(0, 9, 5000)
    positives = rng.random(5000) < 0.1
    negatives = ~positives & (rng.random(5000) < 0.1)
    patterns, unlabelled, pos, neg = _patterns(codes, positives, negatives)
    expected, inverse = np.unique(codes, axis=0, return_inverse=True)
    order = np.lexsort(patterns.T[::-1])
    assert np.array_equal(patterns[order], expected)
    totals = np.bincount(inverse.reshape(-1), minlength=expected.shape[0])
    assert np.array_equal((unlabelled + pos + neg)[order], totals)
    assert pos.sum() == positives.sum() and neg.sum() == negatives.sum()
    empty = _patterns(codes[:0], positives[:0], negatives[:0])
    assert empty[0].shape == (0, 6) and empty[1].size == 0


@pytest.fixture(scope="module")
def deduped(base: pl.DataFrame) -> MatchResult:
    return dedupe(base, population_settings())


def test_prior_is_the_match_share_among_all_pairs(base: pl.DataFrame, deduped: MatchResult) -> None:
    result = deduped
    model = result.model
    assert model.candidate_prior is not None
    total = comparable_pairs(base.height, base.height, "dedupe")
    assert total == base.height * (base.height - 1) // 2
    assert math.isclose(model.prior, model.candidate_prior * model.trained_pairs / total, rel_tol=1e-9)
    assert comparable_pairs(10, 20, "link") == 200
    # A pair agreeing only on the blocking evidence (same name, same birthday, nothing else known) stays below
    # "match": namesakes born the same day exist in a province.
    weak = result.pairs.filter(
        (pl.col("level_person_id") == "null")
        & (pl.col("level_household") == "null")
        & (pl.col("level_spouse") == "null")
        & (pl.col("level_name") == "exact_ascii")
    )
    assert (weak.get_column("match_probability") < 0.999).all()


def _twins(people: list[Person], count: int) -> pl.DataFrame:
    """A twin for each of ``count`` people: same parents, household and birthday, another given name and ID."""
    rows = []
    for i, person in enumerate(people[:count]):
        twin = dataclasses.replace(
            person,
            given="Song" if person.given != "Song" else "Sinh",
            entity=f"twin-{i}",
            person_id=person.person_id[:-6] + f"{(int(person.person_id[-6:]) + 500_001) % 1_000_000:06d}",
        )
        rows.append(record_of(twin, f"T{i:05d}", "base", None, 0.0))
    return frame(rows)


def test_twins_sharing_a_household_are_not_merged(people: list[Person], base: pl.DataFrame) -> None:
    twins = _twins(people, 60)
    with_twins = pl.concat([base, twins.select(base.columns)], how="vertical_relaxed")
    result = dedupe(with_twins, population_settings())
    twin_ids = twins.get_column("record_id")
    twin_pairs = result.pairs.filter(pl.col("left_id").is_in(twin_ids.implode()) | pl.col("right_id").is_in(twin_ids))
    assert twin_pairs.height >= 60  # blocking does pair each twin with its sibling
    assert twin_pairs.filter(pl.col("decision") == "match").height == 0
    sibling = twin_pairs.filter(pl.col("level_household") == "parents_street")
    assert sibling.height >= 30


def test_training_rules_must_name_blocking_rules() -> None:
    settings = population_settings()
    assert set(settings.training_rules) <= {rule.name for rule in settings.blocking_rules}
    with pytest.raises(ValueError, match="training rules"):
        MatchSettings(
            name="x", comparisons=settings.comparisons, blocking_rules=(block_on("name_key"),), training_rules=("y",)
        )


def test_em_sessions_use_only_the_training_rules(base: pl.DataFrame, deduped: MatchResult) -> None:
    settings = population_settings()
    sessions = deduped.model.em_sessions
    assert {session["rule"] for session in sessions} == set(settings.training_rules)
    only_names = dataclasses.replace(settings, training_rules=("name+birth_date",))
    assert next(s["rule"] for s in dedupe(base, only_names).model.em_sessions) == "name+birth_date"


def test_em_sessions_are_anchored(deduped: MatchResult) -> None:
    """A comparison's m is estimated by one session only (the first that can), and held by the later ones."""
    estimated = [name for session in deduped.model.em_sessions for name in session["estimated"]]
    assert len(estimated) == len(set(estimated))
    assert "person_id" in deduped.model.em_sessions[-1]["estimated"]


def test_index_reuses_the_u_of_a_dedupe_of_the_same_base(
    base: pl.DataFrame, deduped: MatchResult, tmp_path: Path
) -> None:
    settings = population_settings()
    sampled = BaseIndex.build(base, settings, tmp_path / "sampled")
    u = {name: np.asarray(parameters.u) for name, parameters in deduped.model.comparisons.items()}
    reused = BaseIndex.build(base, settings, tmp_path / "reused", u=u)
    assert reused.manifest["u"] == sampled.manifest["u"]
    with pytest.raises(ValueError, match="u must cover"):
        BaseIndex.build(base, settings, tmp_path / "bad", u={"name": u["name"]})


def test_dedupe_and_link_share_the_base_and_agree_with_the_separate_jobs(
    base: pl.DataFrame, extract: pl.DataFrame, deduped: MatchResult
) -> None:
    settings = population_settings()
    both_deduped, both_linked = dedupe_and_link(base, extract, settings)
    assert both_deduped.pairs.equals(deduped.pairs)
    # A small night (fewer candidates than EM needs) keeps the base's m and u and refits only its prior, which
    # for a link (most extract rows have a match) is far above a base's duplicate rate.
    assert both_linked.pairs.height < 1000
    assert both_linked.model.comparisons == both_deduped.model.comparisons
    assert both_linked.model.prior > 3 * both_deduped.model.prior
    alone = link(extract, base, settings, model=both_linked.model).pairs.sort("left_id", "right_id")
    assert both_linked.pairs.sort("left_id", "right_id").equals(alone)
    assert both_linked.pairs.get_column("kind").unique().to_list() == ["link"]
