"""Building blocks for comparison levels, and the vectorized evaluation of comparisons over a batch of pairs."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein, Hamming, Indel, Jaro, JaroWinkler, Levenshtein
from rapidfuzz.process import cpdist

from matchers.engine.settings import (
    Comparison,
    ComparisonLevel,
    MatchSettings,
    Scorer,
    Similarity,
    Veto,
    left,
    right,
)

__all__ = [
    "VETO_CODE",
    "any_null",
    "compute_levels",
    "compute_similarities",
    "distance_level",
    "exact_level",
    "exact_or_null_comparison",
    "name_like_comparison",
    "similarity_level",
    "within_one_edit",
]

_SCORERS: dict[Scorer, tuple[Callable[..., Any], float]] = {
    # (rapidfuzz scorer, divisor turning its output into the unit the conditions use)
    "jaro_winkler": (JaroWinkler.normalized_similarity, 1.0),
    "jaro": (Jaro.normalized_similarity, 1.0),
    "levenshtein": (Levenshtein.normalized_similarity, 1.0),
    "damerau_levenshtein": (DamerauLevenshtein.normalized_similarity, 1.0),
    "indel": (Indel.normalized_similarity, 1.0),
    "token_sort": (fuzz.token_sort_ratio, 100.0),
    "levenshtein_distance": (Levenshtein.distance, 1.0),
    "damerau_levenshtein_distance": (DamerauLevenshtein.distance, 1.0),
    "hamming_distance": (Hamming.distance, 1.0),
}


def any_null(*columns: str) -> pl.Expr:
    """Null condition: the comparison says nothing when either side lacks any of ``columns``."""
    return pl.any_horizontal([left(c).is_null() | right(c).is_null() for c in columns])


def exact_level(column: str, *, label: str = "exact", tf: bool = False, description: str = "") -> ComparisonLevel:
    return ComparisonLevel(
        label=label,
        condition=left(column) == right(column),
        tf_column=column if tf else None,
        description=description or f"{column} trùng khớp",
    )


def similarity_level(
    column: str, threshold: float, *, scorer: Scorer = "jaro_winkler", label: str | None = None, description: str = ""
) -> ComparisonLevel:
    similarity = Similarity(scorer, column)
    return ComparisonLevel(
        label=label or f"{scorer}>={threshold:g}",
        condition=similarity.at_least(threshold),
        similarities=(similarity,),
        description=description or f"{column} gần giống ({scorer} ≥ {threshold:g})",
    )


def distance_level(
    column: str,
    distance: int,
    *,
    scorer: Scorer = "damerau_levenshtein_distance",
    label: str | None = None,
    description: str = "",
) -> ComparisonLevel:
    similarity = Similarity(scorer, column)
    return ComparisonLevel(
        label=label or f"{scorer}<={distance}",
        condition=similarity.at_most(distance),
        similarities=(similarity,),
        description=description or f"{column} khác tối đa {distance} ký tự",
    )


def within_one_edit(column: str) -> pl.Expr:
    """A necessary condition, without a similarity, for a Damerau-Levenshtein distance of at most 1 between the
    two sides of ``column``: a level's ``gate`` (the distance is then computed only for the pairs it lets through).

    Holds when the lengths are at most one apart and, ``n`` being the shorter length and ``k = (n - 1) // 2``, the
    first ``k`` or the last ``k`` characters are equal. One edit (an insertion, a deletion, a substitution, two
    neighbours swapped) touches at most two neighbouring characters, at some position ``i`` of the shorter side:
    the ``i`` characters before it are equal, and so are the last ``n - i - 2`` or more; if ``i < k`` that is at
    least ``k`` (``n >= 2k + 1``). Random pairs of IDs or birth dates (what u is estimated on) nearly all fail it.
    """
    left_value, right_value = left(column).cast(pl.String), right(column).cast(pl.String)
    left_length = left_value.str.len_chars().cast(pl.Int64)
    right_length = right_value.str.len_chars().cast(pl.Int64)
    kept = ((pl.min_horizontal(left_length, right_length) - 1) // 2).clip(lower_bound=0)
    return ((left_length - right_length).abs() <= 1) & (
        (left_value.str.head(kept) == right_value.str.head(kept))
        | (left_value.str.tail(kept) == right_value.str.tail(kept))
    )


def exact_or_null_comparison(name: str, column: str, *, tf: bool = False, description: str = "") -> Comparison:
    return Comparison(
        name=name,
        columns=(column,),
        null_condition=any_null(column),
        levels=(exact_level(column, tf=tf),),
        description=description,
    )


def name_like_comparison(
    name: str, column: str, thresholds: Sequence[float] = (0.92, 0.8), *, tf: bool = False, description: str = ""
) -> Comparison:
    """Exact, then Jaro-Winkler bands: the shape of most free-text name comparisons."""
    levels = [exact_level(column, tf=tf)]
    levels.extend(similarity_level(column, threshold) for threshold in thresholds)
    return Comparison(
        name=name, columns=(column,), null_condition=any_null(column), levels=tuple(levels), description=description
    )


def _python_values(values: pl.Series) -> list[str] | list[bytes]:
    """The values for rapidfuzz: ASCII text (keys, IDs, dates) as bytes, which Polars hands over about twice as fast
    as Python strings; rapidfuzz compares a byte and an ASCII character by the same code, so every score is the
    same. Other text as strings."""
    if values.str.len_bytes().sum() == values.str.len_chars().sum():
        ascii_bytes: list[bytes] = values.cast(pl.Binary).to_list()
        return ascii_bytes
    text: list[str] = values.to_list()
    return text


def _scores(left_values: pl.Series, right_values: pl.Series, similarity: Similarity, workers: int) -> np.ndarray:
    """Float32 scores of aligned string pairs; NaN where either side is null."""
    missing = (left_values.is_null() | right_values.is_null()).to_numpy()
    scorer, divisor = _SCORERS[similarity.scorer]
    scores = cpdist(
        _python_values(left_values.fill_null("")),
        _python_values(right_values.fill_null("")),
        scorer=scorer,
        workers=workers,
        dtype=np.float32,
    )
    if divisor != 1.0:
        scores = scores / np.float32(divisor)
    return np.where(missing, np.float32(np.nan), scores)


def _sides(pairs: pl.DataFrame, similarity: Similarity) -> tuple[pl.Series, pl.Series]:
    other = similarity.right_column or similarity.left_column
    return (
        pairs.get_column(f"{similarity.left_column}_l").cast(pl.String),
        pairs.get_column(f"{other}_r").cast(pl.String),
    )


def compute_similarities(pairs: pl.DataFrame, similarities: Sequence[Similarity], workers: int = -1) -> pl.DataFrame:
    """Add one Float32 column per similarity, computed pairwise over the whole batch (null when a side is null)."""
    if pairs.height == 0:
        return pairs.with_columns([pl.lit(None, dtype=pl.Float32).alias(s.name) for s in similarities])
    columns = []
    for similarity in similarities:
        scores = _scores(*_sides(pairs, similarity), similarity, workers)
        columns.append(pl.Series(similarity.name, scores).fill_nan(None))
    return pairs.with_columns(columns)


class _LazySimilarities:
    """Similarity columns computed only for the rows that still need them.

    String similarity is the costliest step of matching and most pairs are settled before it matters (a null
    side, an exact agreement), so a similarity is computed for the rows that reach the first level using it.
    """

    def __init__(self, pairs: pl.DataFrame, workers: int) -> None:
        self.pairs = pairs
        self.workers = workers
        self.values: dict[str, np.ndarray] = {}
        self.done: dict[str, np.ndarray] = {}

    def ensure(self, similarity: Similarity, rows: np.ndarray) -> None:
        height = self.pairs.height
        if similarity.name not in self.values:
            self.values[similarity.name] = np.full(height, np.nan, dtype=np.float32)
            self.done[similarity.name] = np.zeros(height, dtype=bool)
        todo = rows & ~self.done[similarity.name]
        positions = np.flatnonzero(todo)
        if positions.size:
            index = pl.Series(positions, dtype=pl.UInt32)
            left_values, right_values = _sides(self.pairs, similarity)
            self.values[similarity.name][positions] = _scores(
                left_values.gather(index), right_values.gather(index), similarity, self.workers
            )
            self.done[similarity.name] |= todo

    def columns(self, names: Sequence[str] | None = None, positions: np.ndarray | None = None) -> list[pl.Series]:
        """The similarity columns computed so far (``names`` only, when given), at ``positions`` when given."""
        chosen = self.values if names is None else {name: self.values[name] for name in names}
        return [
            pl.Series(name, values if positions is None else values[positions]).fill_nan(None)
            for name, values in chosen.items()
        ]


def _referenced(expr: pl.Expr) -> frozenset[str] | None:
    """The columns ``expr`` reads, or None when that cannot be told from its tree (a selector: ``pl.all()``, a
    regex, several names)."""
    try:
        if '"Selector"' in expr.meta.serialize(format="json"):
            return None
    except Exception:  # an expression polars cannot serialize: read every column
        return None
    return frozenset(expr.meta.root_names())


def _needed(similarities: Sequence[Similarity], *conditions: pl.Expr | None) -> tuple[Similarity, ...]:
    """The declared similarities the conditions read: one a condition does not read cannot change it, so it is not
    computed (a veto or level may declare the similarities of the whole family of conditions it is built from)."""
    read: set[str] = set()
    for condition in conditions:
        if condition is None:
            continue
        names = _referenced(condition)
        if names is None:
            return tuple(similarities)
        read |= names
    return tuple(s for s in similarities if s.name in read)


def _conjuncts(tree: object) -> list[object]:
    """The terms of a serialized expression's top-level ``&`` chain (the expression itself when it is no ``&``)."""
    binary = tree.get("BinaryExpr") if isinstance(tree, dict) else None
    if isinstance(binary, dict) and binary.get("op") == "And":
        return [*_conjuncts(binary["left"]), *_conjuncts(binary["right"])]
    return [tree]


def _similarity_free_part(condition: pl.Expr, similarities: Sequence[Similarity]) -> pl.Expr | None:
    """The ``&`` of the condition's top-level terms that read none of ``similarities``, when some term reads one
    (else None). Where that part is not true, the condition is not true either (Kleene logic: false & x is false,
    null & x is null or false, and a null condition counts as false), so the similarities need not be computed
    there: an automatic gate ("same parents and same street" computes the street's similarity only for the pairs
    with the same parents)."""
    names = {s.name for s in similarities}
    if not names:
        return None
    try:
        terms = _conjuncts(json.loads(condition.meta.serialize(format="json")))
        if len(terms) < 2:
            return None
        exprs = [pl.Expr.deserialize(io.StringIO(json.dumps(term)), format="json") for term in terms]
    except Exception:  # an expression polars cannot round-trip: no automatic gate
        return None
    free: list[pl.Expr] = []
    for expr in exprs:
        read = _referenced(expr)
        if read is None:
            return None
        if not read & names:
            free.append(expr)
    if not free or len(free) == len(exprs):
        return None
    gate = free[0]
    for expr in free[1:]:
        gate = gate & expr
    return gate


def _held(
    pairs: pl.DataFrame, lazy: _LazySimilarities, condition: pl.Expr, rows: np.ndarray | None = None
) -> np.ndarray:
    """Where ``condition`` holds (null: no). With ``rows``, it is evaluated on those rows only (False elsewhere):
    conditions are row by row, so a row's answer does not depend on the others; only the columns the condition
    reads are gathered."""
    names = _referenced(condition)
    if names is None:
        frame = pairs.with_columns(lazy.columns()) if lazy.values else pairs
        held = frame.select(condition.fill_null(False).alias("_held")).get_column("_held").to_numpy()
        return held if rows is None else held & rows
    columns = [c for c in pairs.columns if c in names] or pairs.columns[:1]
    similarities = [name for name in lazy.values if name in names]
    positions = None if rows is None else np.flatnonzero(rows)
    if positions is None or 2 * positions.size > pairs.height:
        # Most rows are open: gathering them would cost more than evaluating every row.
        frame = pairs.select(columns).with_columns(lazy.columns(similarities))
        held = frame.select(condition.fill_null(False).alias("_held")).get_column("_held").to_numpy()
        return held if rows is None else held & rows
    held = np.zeros(pairs.height, dtype=bool)
    if positions.size == 0:
        return held
    index = pl.Series(positions, dtype=pl.UInt32)
    frame = pairs.select(pl.col(columns).gather(index)).with_columns(lazy.columns(similarities, positions))
    held[positions] = frame.select(condition.fill_null(False).alias("_held")).get_column("_held").to_numpy()
    return held


def _comparison_codes(pairs: pl.DataFrame, comparison: Comparison, lazy: _LazySimilarities) -> np.ndarray:
    """Int8 level codes of one comparison: conditions up to the first level needing a similarity are evaluated in
    one pass; then level by level, each similarity is computed only for the rows still open (and, when the level
    has a ``gate``, only for the rows that pass it)."""
    levels = comparison.levels
    first_similar = next((i for i, level in enumerate(levels) if level.similarities), len(levels))
    conditions = [comparison.null_condition.fill_null(True).alias("_null")]
    conditions.extend(
        level.condition.fill_null(False).alias(f"_c{i}") for i, level in enumerate(levels[:first_similar])
    )
    held = pairs.select(conditions)
    codes = np.full(pairs.height, len(levels) + 1, dtype=np.int8)
    # Assigned from the last level to the first, so the first level that holds wins; null overrides every level.
    for i in range(first_similar - 1, -1, -1):
        codes[held.get_column(f"_c{i}").to_numpy()] = i + 1
    null = held.get_column("_null").to_numpy()
    codes[null] = 0
    open_rows = codes == len(levels) + 1
    for i in range(first_similar, len(levels)):
        if not open_rows.any():
            break
        level = levels[i]
        rows = open_rows.copy()
        if level.gate is not None:
            for similarity in _needed(level.gate_similarities, level.gate):
                lazy.ensure(similarity, rows)
            rows = _held(pairs, lazy, level.gate, rows)
        needed = _needed(level.similarities, level.condition)
        gate = _similarity_free_part(level.condition, needed)
        if gate is not None and rows.any():
            rows = _held(pairs, lazy, gate, rows)
        if not rows.any():
            continue
        for similarity in needed:
            lazy.ensure(similarity, rows)
        hit = _held(pairs, lazy, level.condition, rows)
        codes[hit] = i + 1
        open_rows &= ~hit
    return codes


def compute_levels(pairs: pl.DataFrame, settings: MatchSettings, *, vetoes: bool = True) -> pl.DataFrame:
    """Int8 level codes ``_lv_<comparison>`` for every pair (sides suffixed ``_l`` / ``_r``), and ``_veto`` (0 = no
    veto, i = the i-th veto of the settings held) when the settings have vetoes (and ``vetoes`` is left True: the
    random pairs u is estimated on need no vetoes).

    The same codes as ``Comparison.level_expr`` over eagerly computed similarities, at a fraction of the cost.
    """
    if pairs.height == 0:
        levels = compute_similarities(pairs, settings.similarities, settings.workers).select(
            [comparison.level_expr() for comparison in settings.comparisons]
        )
        if settings.vetoes and vetoes:
            levels = levels.with_columns(pl.lit(0, dtype=pl.Int8).alias(VETO_CODE))
        return levels
    lazy = _LazySimilarities(pairs, settings.workers)
    levels = pl.DataFrame(
        [
            pl.Series(f"_lv_{comparison.name}", _comparison_codes(pairs, comparison, lazy), dtype=pl.Int8)
            for comparison in settings.comparisons
        ]
    )
    if settings.vetoes and vetoes:
        levels = levels.with_columns(_veto_codes(pairs, levels, settings.vetoes, lazy))
    return levels


VETO_CODE = "_veto"


def _veto_codes(
    pairs: pl.DataFrame, levels: pl.DataFrame, vetoes: Sequence[Veto], lazy: _LazySimilarities
) -> pl.Series:
    """Code of the first veto that holds for each pair (0: none). A veto's similarities are computed only for the
    pairs no earlier veto has taken."""
    codes = np.zeros(pairs.height, dtype=np.int8)
    with_levels = pl.concat([pairs, levels], how="horizontal")
    for code, veto in enumerate(vetoes, start=1):
        open_rows = codes == 0
        if veto.gate is not None:
            open_rows = _held(with_levels, lazy, veto.gate, open_rows)
        needed = _needed(veto.similarities, veto.condition)
        gate = _similarity_free_part(veto.condition, needed)
        if gate is not None and open_rows.any():
            open_rows = _held(with_levels, lazy, gate, open_rows)
        if not open_rows.any():
            continue
        for similarity in needed:
            lazy.ensure(similarity, open_rows)
        codes[_held(with_levels, lazy, veto.condition, open_rows)] = code
    return pl.Series(VETO_CODE, codes, dtype=pl.Int8)
