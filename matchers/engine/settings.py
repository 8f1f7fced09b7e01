"""The declarative model of a matching job: comparisons built from levels, blocking rules, thresholds.

A ``MatchSettings`` is plain frozen data (Polars expressions included), so the same object drives an in-memory run,
an incremental run against a persisted index, or a batch on another machine. Two specs ship with the engine: the
Vietnamese population spec (``matchers.engine.population``) and the FEBRL4 spec (``matchers.engine.febrl``).

Inside conditions, ``left(c)`` / ``right(c)`` refer to column ``c`` of each side of a pair and ``similarity(...)``
to a string similarity computed for the whole batch at once with ``rapidfuzz.process.cpdist``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

import polars as pl

__all__ = [
    "ELSE_LEVEL",
    "NULL_LEVEL",
    "BlockingRule",
    "Comparison",
    "ComparisonLevel",
    "ConflictRule",
    "MatchSettings",
    "Scorer",
    "Similarity",
    "Thresholds",
    "Veto",
    "block_on",
    "left",
    "levels_in",
    "right",
]

NULL_LEVEL: Final = "null"
ELSE_LEVEL: Final = "else"

Scorer = Literal[
    "jaro_winkler",
    "jaro",
    "levenshtein",
    "damerau_levenshtein",
    "indel",
    "token_sort",
    "levenshtein_distance",
    "damerau_levenshtein_distance",
    "hamming_distance",
]
"""Similarity scorers: the plain names are normalized similarities in [0, 1]; ``*_distance`` are edit counts."""


def left(column: str) -> pl.Expr:
    return pl.col(f"{column}_l")


def right(column: str) -> pl.Expr:
    return pl.col(f"{column}_r")


@dataclass(frozen=True, slots=True)
class Similarity:
    """A string similarity between ``left_column`` of one side and ``right_column`` of the other."""

    scorer: Scorer
    left_column: str
    right_column: str | None = None

    @property
    def name(self) -> str:
        other = self.right_column or self.left_column
        suffix = self.left_column if other == self.left_column else f"{self.left_column}__{other}"
        return f"sim_{self.scorer}__{suffix}"

    @property
    def expr(self) -> pl.Expr:
        return pl.col(self.name)

    def at_least(self, threshold: float) -> pl.Expr:
        return pl.col(self.name) >= threshold

    def at_most(self, distance: float) -> pl.Expr:
        return pl.col(self.name) <= distance


@dataclass(frozen=True, slots=True)
class ComparisonLevel:
    """One level of agreement. ``tf_column``: adjust this level's weight by how common the agreeing value is.

    ``gate``: a necessary condition of the level that needs only ``gate_similarities`` (e.g. the name's
    Jaro-Winkler): the level's other similarities are computed only for the pairs that pass it.
    """

    label: str
    condition: pl.Expr
    similarities: tuple[Similarity, ...] = ()
    tf_column: str | None = None
    description: str = ""
    gate: pl.Expr | None = None
    gate_similarities: tuple[Similarity, ...] = ()
    prior_weight: float | None = None
    """The weight (bits, log2 m/u) of this level when training cannot estimate it: fewer than
    ``MatchSettings.min_level_pairs`` of its session's pairs reached it. None: the smoothing floor (the level counts
    as a disagreement EM saw no match on, ``MatchSettings.m_smoothing``)."""
    implies: str | None = None
    """A weaker level of the same comparison that this one implies ("same parents and ward" implies "same
    parents"): when training cannot estimate this level (and it declares no ``prior_weight``), it takes that
    level's weight, never the smoothing floor: agreeing on more cannot be evidence against one person."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """An ordered list of levels; the first whose condition holds wins, ``else`` catches the rest.

    ``columns`` are the record columns the comparison reads (needed to gather them, and to leave this comparison
    out of the EM sessions whose training blocking rule already forces agreement on them).
    """

    name: str
    columns: tuple[str, ...]
    null_condition: pl.Expr
    levels: tuple[ComparisonLevel, ...]
    description: str = ""

    def __post_init__(self) -> None:
        for position, level in enumerate(self.levels):
            later = [other.label for other in self.levels[position + 1 :]]
            if level.implies is not None and level.implies not in later:
                raise ValueError(
                    f"level {level.label!r} of comparison {self.name!r} implies {level.implies!r}, "
                    "which is not a later (weaker) level of the same comparison"
                )

    @property
    def labels(self) -> tuple[str, ...]:
        """Level labels by code: 0 = null, 1..n = the levels in order, n + 1 = else."""
        return (NULL_LEVEL, *(level.label for level in self.levels), ELSE_LEVEL)

    @property
    def similarities(self) -> tuple[Similarity, ...]:
        seen: dict[str, Similarity] = {}
        for level in self.levels:
            for similarity in level.similarities:
                seen.setdefault(similarity.name, similarity)
        return tuple(seen.values())

    @property
    def tf_columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(level.tf_column for level in self.levels if level.tf_column))

    def level_expr(self) -> pl.Expr:
        """Int8 level code per pair."""
        expr: pl.Expr = pl.lit(len(self.levels) + 1, dtype=pl.Int8)
        # Built from the last level backwards so the first matching level wins.
        for code, level in reversed(list(enumerate(self.levels, start=1))):
            expr = pl.when(level.condition.fill_null(False)).then(pl.lit(code, dtype=pl.Int8)).otherwise(expr)
        return (pl.when(self.null_condition.fill_null(True)).then(pl.lit(0, dtype=pl.Int8)).otherwise(expr)).alias(
            f"_lv_{self.name}"
        )


@dataclass(frozen=True, slots=True)
class BlockingRule:
    """Records sharing the values of all ``columns`` (none null) become candidate pairs.

    ``max_block_size`` guards against explosive blocks (Nguyễn + 1990): a block larger than this is skipped and
    reported; other rules must catch its pairs.
    """

    columns: tuple[str, ...]
    max_block_size: int
    name: str

    def agrees(self) -> pl.Expr:
        """True for a pair (columns suffixed ``_l``/``_r``) on which this rule's key agrees."""
        return pl.all_horizontal([(left(c) == right(c)).fill_null(False) for c in self.columns])


def block_on(*columns: str, max_block_size: int = 400, name: str | None = None) -> BlockingRule:
    if not columns:
        raise ValueError("block_on needs at least one column")
    return BlockingRule(columns=tuple(columns), max_block_size=max_block_size, name=name or "+".join(columns))


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Decision bands on the match probability.

    ``strong_link``: below this probability an edge may not merge two clusters that both already hold several
    records (a weak link does not fuse two established persons).
    """

    match: float = 0.99
    review: float = 0.5
    strong_link: float = 0.9999

    def __post_init__(self) -> None:
        if not 0.0 < self.review <= self.match < 1.0:
            raise ValueError("thresholds must satisfy 0 < review <= match < 1")


@dataclass(frozen=True, slots=True)
class ConflictRule:
    """Two records whose ``column`` values are both known and differ by more than ``tolerance`` (numbers) or
    differ at all (``tolerance`` None) may not end up in one cluster through other records.

    ``also``: further columns that must all differ too for a conflict (sex *and* given name: two people).
    """

    column: str
    tolerance: float | None = None
    also: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column, *self.also)


def levels_in(comparison: Comparison, *labels: str) -> pl.Expr:
    """True for pairs whose ``comparison`` landed on one of ``labels`` (usable in a :class:`Veto` condition)."""
    unknown = set(labels) - set(comparison.labels)
    if unknown:
        raise ValueError(f"comparison {comparison.name!r} has no level {', '.join(sorted(unknown))}")
    codes = [code for code, label in enumerate(comparison.labels) if label in labels]
    return pl.col(f"_lv_{comparison.name}").is_in(codes)


@dataclass(frozen=True, slots=True)
class Veto:
    """A rule that forbids a merge whatever the weights say, and caps the pair's probability at ``max_probability``.

    The condition reads the pair's sides (``left(c)``/``right(c)``), similarities and the comparisons' level codes
    (:func:`levels_in`). Fellegi–Sunter adds up independent evidence; a veto states an interaction it cannot learn:
    twins agree on everything that describes their family (parents, address, often the ID they were mixed up with)
    and differ only in what tells people apart, so the agreement must not outweigh that difference.
    Vetoed pairs are non-matches for the clustering and count as known non-matches when EM trains m.
    """

    name: str
    condition: pl.Expr
    columns: tuple[str, ...]
    similarities: tuple[Similarity, ...] = ()
    max_probability: float = 0.01
    description: str = ""
    gate: pl.Expr | None = None
    """A necessary condition without similarities: the veto's similarities are computed only where it holds."""

    def __post_init__(self) -> None:
        if not 0.0 < self.max_probability < 1.0:
            raise ValueError("a veto's max_probability must be in (0, 1)")


VETO_LEVEL: Final = "veto"
"""Pairs carry ``level_veto`` (the first veto that held, or "none") and ``weight_veto`` (how much it took off)."""


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Everything that makes a matching job: the engine itself is the same for every spec."""

    name: str
    comparisons: tuple[Comparison, ...]
    blocking_rules: tuple[BlockingRule, ...]
    thresholds: Thresholds = field(default_factory=Thresholds)
    conflicts: tuple[ConflictRule, ...] = ()
    derived: tuple[pl.Expr, ...] = ()
    """Extra record columns computed before matching (each expression named with ``.alias``)."""
    id_column: str = "record_id"
    u_sample_size: int = 300_000
    em_max_iterations: int = 40
    em_tolerance: float = 1e-5
    tf_minimum: float = 1e-7
    seed: int = 20250701
    workers: int = -1
    """rapidfuzz worker threads (-1 = all cores)."""
    training_rules: tuple[str, ...] = ()
    """Names of the blocking rules whose pairs EM trains m on (empty = every rule). A rule that mostly pairs
    relatives (same parents, same ward) must stay out: EM would learn "same household" instead of "same person"."""
    vetoes: tuple[Veto, ...] = ()
    """Checked in order after the comparisons; the first that holds vetoes the pair."""
    m_smoothing: float = 0.005
    """m of each level is mixed with this share of its u after EM (see ``scoring._smoothed``)."""
    min_level_pairs: int = 10
    """A level fewer training pairs of its session reached is not estimated: it takes its ``prior_weight``."""

    def __post_init__(self) -> None:
        names = [c.name for c in self.comparisons]
        if len(set(names)) != len(names):
            raise ValueError("comparison names must be unique")
        rule_names = [r.name for r in self.blocking_rules]
        if len(set(rule_names)) != len(rule_names):
            raise ValueError("blocking rule names must be unique")
        if not self.blocking_rules:
            raise ValueError("at least one blocking rule is required")
        unknown = set(self.training_rules) - set(rule_names)
        if unknown:
            raise ValueError(f"training rules are not blocking rules: {', '.join(sorted(unknown))}")
        veto_names = [v.name for v in self.vetoes]
        if len(set(veto_names)) != len(veto_names) or "none" in veto_names:
            raise ValueError('veto names must be unique and not "none"')

    @property
    def tf_columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(col for c in self.comparisons for col in c.tf_columns))

    @property
    def record_columns(self) -> tuple[str, ...]:
        """Columns a pair needs from each side (derived columns included)."""
        columns: list[str] = []
        for comparison in self.comparisons:
            columns.extend(comparison.columns)
        for rule in self.blocking_rules:
            columns.extend(rule.columns)
        for conflict in self.conflicts:
            columns.extend(conflict.columns)
        for veto in self.vetoes:
            columns.extend(veto.columns)
        return tuple(dict.fromkeys(columns))

    @property
    def similarities(self) -> tuple[Similarity, ...]:
        seen: dict[str, Similarity] = {}
        for comparison in self.comparisons:
            for similarity in comparison.similarities:
                seen.setdefault(similarity.name, similarity)
        for veto in self.vetoes:
            for similarity in veto.similarities:
                seen.setdefault(similarity.name, similarity)
        return tuple(seen.values())

    @property
    def veto_labels(self) -> tuple[str, ...]:
        """Veto labels by code: 0 = none, i = the i-th veto."""
        return ("none", *(veto.name for veto in self.vetoes))
