"""Training that does not drift with the size of the base: the prior from the pairs the model itself calls
matches, and the levels training cannot estimate taking their declared prior weight."""

from __future__ import annotations

import numpy as np
import pytest

from matchers.engine import population_settings
from matchers.engine.scoring import _candidate_match_share, _with_level_priors

_M = [np.array([1.0, 0.9, 0.1])]
_U = [np.array([1.0, 0.001, 0.999])]  # levels: null, agree (9.8 bits), else (-3.3 bits)


def _share(strong: int, weak: int, space: float) -> float:
    codes = np.array([[1], [2]], dtype=np.int64)
    unlabelled = np.array([strong, weak], dtype=np.float64)
    nothing = np.zeros(2)
    return _candidate_match_share(codes, unlabelled, nothing, nothing, _M, _U, population_settings(), space=space)


def test_the_prior_counts_the_pairs_the_model_calls_matches() -> None:
    """100 pairs agreeing, 10,000 not: EM's mean responsibility adds a sliver for each weak pair; the count of
    pairs the model calls one person does not, so more weak candidates (a bigger base) leave it alone."""
    assert _share(100, 10_000, space=1.0) * 10_100 == pytest.approx(100)
    assert _share(100, 20_000, space=1.0) * 20_100 == pytest.approx(100)


def test_the_prior_is_the_one_scoring_uses() -> None:
    """Over a pair space far larger than the candidates the prior is lower, so the same evidence may not be
    enough: 9.8 bits against one chance in 10,100 x 100 pairs calls nobody."""
    assert _share(100, 10_000, space=100.0) == pytest.approx(1e-9)


def test_a_level_training_never_reached_takes_its_prior_weight() -> None:
    settings = population_settings()
    name = next(c for c in settings.comparisons if c.name == "name")
    code = name.labels.index("given_same_family_close")
    assert name.levels[code - 1].prior_weight == 0.0
    size = len(name.labels)
    u = np.full(size, 1.0 / (size - 1))
    u[0] = 1.0
    m = np.full(size, 1e-9)
    m[1] = 1.0 - 1e-9 * (size - 2)
    m[0] = 1.0
    pairs = np.full(size, 500.0)
    pairs[code] = settings.min_level_pairs - 1
    fixed = _with_level_priors(m, u, name, pairs, settings)
    assert np.log2(fixed[code] / u[code]) == pytest.approx(0.0)
    assert fixed[1:].sum() == pytest.approx(1.0) and fixed[0] == 1.0
    # Enough pairs: EM's estimate stands.
    pairs[code] = settings.min_level_pairs
    assert _with_level_priors(m, u, name, pairs, settings)[code] == m[code]


def test_a_level_training_never_reached_takes_the_weight_of_the_level_it_implies() -> None:
    """ "Same parents and ward" implies "same parents": too few training pairs on it must not give it the floor of a
    disagreement (a duplicate who moved house inside the ward would weigh against being one person)."""
    settings = population_settings()
    household = next(c for c in settings.comparisons if c.name == "household")
    code = household.labels.index("parents_ward")
    weaker = household.labels.index("parents")
    assert household.levels[code - 1].implies == "parents"
    size = len(household.labels)
    u = np.full(size, 0.01)
    u[0], u[-1] = 1.0, 1.0 - 0.01 * (size - 2)
    m = np.full(size, 1e-6)
    m[0], m[1], m[weaker] = 1.0, 0.8, 0.1
    pairs = np.full(size, 500.0)
    pairs[code] = settings.min_level_pairs - 1
    fixed = _with_level_priors(m, u, household, pairs, settings)
    assert np.log2(fixed[code] / u[code]) == pytest.approx(np.log2(0.1 / 0.01))
    assert fixed[1:].sum() == pytest.approx(1.0) and fixed[0] == 1.0
    pairs[code] = settings.min_level_pairs
    assert _with_level_priors(m, u, household, pairs, settings)[code] == m[code]


def test_a_level_may_only_imply_a_later_level_of_its_comparison() -> None:
    import polars as pl

    from matchers.engine.settings import Comparison, ComparisonLevel

    strong = ComparisonLevel("strong", pl.lit(True), implies="weak")
    weak = ComparisonLevel("weak", pl.lit(True))
    Comparison("c", ("x",), pl.lit(False), (strong, weak))
    with pytest.raises(ValueError, match="implies 'weak'"):
        Comparison("c", ("x",), pl.lit(False), (weak, strong))
