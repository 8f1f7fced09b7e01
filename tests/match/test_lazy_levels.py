"""The lazy evaluation of levels and vetoes (similarities only where read, conditions only on the open rows)
against evaluating every condition on every pair."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rapidfuzz.distance import DamerauLevenshtein

from matchers.engine.comparisons import VETO_CODE, _needed, compute_levels, compute_similarities, within_one_edit
from matchers.engine.linker import prepare_records
from matchers.engine.population import population_settings
from matchers.engine.settings import MatchSettings, Similarity
from tests.match.synthetic import pair_sides


def test_levels_and_vetoes_equal_every_condition_on_every_pair(base: pl.DataFrame) -> None:
    settings = population_settings()
    records = prepare_records(base, settings, with_tf=True)
    rng = np.random.default_rng(11)
    # Random pairs, neighbours (duplicates sit next to their originals) and pairs sharing a mother (siblings,
    # twins: what the vetoes are about).
    mothers = (
        records.with_row_index("_row")
        .filter(pl.col("mother_name_key").is_not_null())
        .group_by("mother_name_key")
        .agg(pl.col("_row"))
        .filter(pl.col("_row").list.len() > 1)
    )
    sibling_pairs = np.array(
        [(rows[0], rows[1]) for rows in mothers.get_column("_row").to_list()], dtype=np.int64
    ).reshape(-1, 2)
    left_rows = np.concatenate([rng.integers(0, records.height, 2000), np.arange(2000), sibling_pairs[:, 0]])
    right_rows = np.concatenate(
        [
            rng.integers(0, records.height, 2000),
            np.minimum(np.arange(2000) + 1, records.height - 1),
            sibling_pairs[:, 1],
        ]
    )
    sides = pair_sides(records, left_rows, right_rows)
    eager_sides = compute_similarities(sides, settings.similarities + _veto_similarities(settings), settings.workers)
    eager = eager_sides.select([comparison.level_expr() for comparison in settings.comparisons])
    codes = pl.lit(0, dtype=pl.Int8)
    for code, veto in reversed(list(enumerate(settings.vetoes, start=1))):
        codes = pl.when(veto.condition.fill_null(False)).then(pl.lit(code, dtype=pl.Int8)).otherwise(codes)
    eager_vetoes = pl.concat([eager_sides, eager], how="horizontal").select(codes.alias(VETO_CODE))
    lazy = compute_levels(sides, settings)
    assert lazy.drop(VETO_CODE).equals(eager)
    assert lazy.get_column(VETO_CODE).equals(eager_vetoes.get_column(VETO_CODE))
    assert lazy.get_column(VETO_CODE).n_unique() >= 2


def _veto_similarities(settings: MatchSettings) -> tuple[Similarity, ...]:
    """The similarities the vetoes declare that no comparison does."""
    seen = {s.name for s in settings.similarities}
    found: dict[str, Similarity] = {}
    for veto in settings.vetoes:
        for similarity in veto.similarities:
            if similarity.name not in seen:
                found.setdefault(similarity.name, similarity)
    return tuple(found.values())


def test_only_the_similarities_a_condition_reads_are_computed() -> None:
    jw, typo = Similarity("jaro_winkler", "name_key"), Similarity("damerau_levenshtein_distance", "given_key")
    assert _needed((jw, typo), jw.at_least(0.9) & (pl.col("a_l") == pl.col("a_r"))) == (jw,)
    assert _needed((jw, typo), pl.col("a_l") == pl.col("a_r")) == ()
    assert _needed((jw, typo), None, typo.at_most(1)) == (typo,)
    # A condition whose columns cannot be told (a selector) gets every declared similarity.
    assert _needed((jw, typo), pl.any_horizontal(pl.col("^sim_.*$") > 0.5)) == (jw, typo)


def test_the_similarity_free_terms_of_a_condition_gate_it() -> None:
    import itertools

    from matchers.engine.comparisons import _similarity_free_part

    jw = Similarity("jaro_winkler", "street")
    condition = (pl.col("a_l") == pl.col("a_r")).fill_null(False) & jw.at_least(0.9) & (pl.col("b_l") > 1)
    gate = _similarity_free_part(condition, (jw,))
    assert gate is not None
    assert set(gate.meta.root_names()) == {"a_l", "a_r", "b_l"}
    # Every combination of values and nulls: where the gate is not true, the condition is not true either.
    values = list(itertools.product([None, "x", "y"], ["x", None], [None, 0, 2], [None, 0.5, 0.95]))
    frame = pl.DataFrame(values, schema=["a_l", "a_r", "b_l", jw.name], orient="row")
    held = frame.select(condition.fill_null(False).alias("c"), gate.fill_null(False).alias("g"))
    assert not (held.get_column("c") & ~held.get_column("g")).any()
    assert held.get_column("c").any()
    # An "or", a condition reading no similarity, or one made of similarity terms alone has no such part.
    assert _similarity_free_part(jw.at_least(0.9) | (pl.col("a_l") == pl.col("a_r")), (jw,)) is None
    assert _similarity_free_part(pl.col("a_l") == pl.col("a_r"), (jw,)) is None
    assert _similarity_free_part(jw.at_least(0.9) & jw.at_most(0.99), (jw,)) is None


def test_derived_columns_per_distinct_value_equal_the_row_by_row_ones(base: pl.DataFrame) -> None:
    from matchers.engine.linker import derive

    settings = population_settings()
    # Many rows, few distinct names: the per-distinct path is taken (and a null row is one distinct value).
    frame = pl.concat([base, base, base]).with_columns(
        pl.when(pl.int_range(pl.len()) % 7 == 0).then(None).otherwise(pl.col("middle_key")).alias("middle_key")
    )
    assert derive(frame, settings.derived).equals(frame.with_columns(settings.derived))
    # An expression that replaces a column another one reads: each reads the frame as given.
    exprs = [pl.col("given_key").str.to_uppercase().alias("given_key"), pl.col("given_key").alias("copy")]
    assert derive(frame, exprs).equals(frame.with_columns(exprs))
    assert derive(frame.head(0), settings.derived).equals(frame.head(0).with_columns(settings.derived))


def test_nearly_unique_columns_are_derived_row_by_row_with_the_same_result() -> None:
    from matchers.engine.linker import _nearly_unique, derive

    rows = 40_000
    frame = pl.DataFrame(
        {
            "person_id": [f"037{i:09d}" for i in range(rows)],
            "valid": [i % 3 != 0 for i in range(rows)],
            "given": [["An", "Bình", "Chi", None][i % 4] for i in range(rows)],
        }
    )
    assert _nearly_unique(frame.select("person_id", "valid"))
    assert not _nearly_unique(frame.select("given"))
    assert not _nearly_unique(frame.head(1000).select("person_id"))  # too few rows to sample: the plain rule
    exprs = [
        pl.when(pl.col("valid")).then(pl.col("person_id")).alias("valid_id"),
        pl.col("given").str.to_lowercase().alias("given_key"),
    ]
    assert derive(frame, exprs).equals(frame.with_columns(exprs))


def _one_edit_apart(draw: st.DrawFn) -> tuple[str, str]:
    """A string and the same string with at most one edit (insert, delete, substitute, swap two neighbours)."""
    alphabet = "0129aăâđĐ-"
    text = draw(st.text(alphabet, max_size=14))
    position = draw(st.integers(0, len(text)))
    edit = draw(st.sampled_from(["none", "insert", "delete", "substitute", "swap"]))
    letter = draw(st.sampled_from(alphabet))
    if edit == "insert":
        other = text[:position] + letter + text[position:]
    elif edit == "delete" and position < len(text):
        other = text[:position] + text[position + 1 :]
    elif edit == "substitute" and position < len(text):
        other = text[:position] + letter + text[position + 1 :]
    elif edit == "swap" and position + 1 < len(text):
        other = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    else:
        other = text
    return (text, other) if draw(st.booleans()) else (other, text)


def _gate_holds(pairs: list[tuple[str, str]]) -> list[bool]:
    sides = pl.DataFrame({"v_l": [a for a, _ in pairs], "v_r": [b for _, b in pairs]})
    return sides.select(within_one_edit("v").fill_null(False)).to_series().to_list()


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(st.composite(_one_edit_apart)(), min_size=1, max_size=30))
def test_one_edit_gate_lets_every_pair_within_one_edit_through(pairs: list[tuple[str, str]]) -> None:
    assert all(DamerauLevenshtein.distance(a, b) <= 1 for a, b in pairs)
    assert all(_gate_holds(pairs))


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text("0129aă-", max_size=12), st.text("0129aă-", max_size=12)), min_size=1, max_size=30))
def test_one_edit_gate_never_stops_a_pair_the_distance_lets_through(pairs: list[tuple[str, str]]) -> None:
    for (a, b), held in zip(pairs, _gate_holds(pairs), strict=True):
        assert held or DamerauLevenshtein.distance(a, b) > 1


def test_one_edit_gate_stops_unrelated_ids_and_dates() -> None:
    pairs = [("037085001234", "037190456789"), ("1985-03-12", "1990-11-27"), ("037085001234", "037085001243")]
    assert _gate_holds(pairs) == [False, False, True]
    sides = pl.DataFrame({"v_l": ["0370", None], "v_r": [None, None]}, schema={"v_l": pl.String, "v_r": pl.String})
    assert sides.select(within_one_edit("v").fill_null(False)).to_series().to_list() == [False, False]


@hypothesis_settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.text("ab1 -'", max_size=10) | st.none(), st.text("abc1 -" + "ăđé", max_size=10) | st.none()),
        min_size=1,
        max_size=20,
    )
)
def test_similarities_of_ascii_text_as_bytes_equal_those_of_strings(pairs: list[tuple[str | None, str | None]]) -> None:
    """ASCII sides go to rapidfuzz as bytes: every scorer gives what it gives on the strings (nulls stay NaN)."""
    from matchers.engine.comparisons import _SCORERS, _scores

    left_values = pl.Series([a for a, _ in pairs], dtype=pl.String)
    right_values = pl.Series([b for _, b in pairs], dtype=pl.String)
    for scorer_name, (scorer, divisor) in _SCORERS.items():
        scores = _scores(left_values, right_values, Similarity(scorer_name, "v"), 1)
        for (a, b), score in zip(pairs, scores, strict=True):
            if a is None or b is None:
                assert np.isnan(score)
            else:
                assert score == np.float32(np.float32(scorer(a, b)) / np.float32(divisor)), (scorer_name, a, b)
