"""Dedupe (within the base) and link (extract → base): blocking, comparing, training and scoring, in batches.

Every step after blocking works on one batch of pairs at a time with only the batch and the two record sources as
input: nothing global accumulates except the compact level codes the model is trained on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import polars as pl

from matchers.engine.blocking import (
    BlockingReport,
    SortedKeys,
    block_keys,
    dedupe_pair_batches,
    guarded_block_keys,
    link_pairs,
    sorted_keys,
)
from matchers.engine.comparisons import VETO_CODE, _referenced, compute_levels
from matchers.engine.scoring import (
    AgreementPatterns,
    ModelParameters,
    decide,
    estimate_u,
    normalize_labels,
    refit_prior_on_patterns,
    score_levels,
    train_on_patterns,
)
from matchers.engine.settings import VETO_LEVEL, MatchSettings
from matchers.engine.types import PairKind, level_column, weight_column
from records.progress import Progress, no_progress, tracked

__all__ = [
    "Candidates",
    "FrameSource",
    "MatchResult",
    "RecordSource",
    "compare_candidates",
    "compare_pairs",
    "compare_sides",
    "dedupe",
    "dedupe_and_link",
    "dedupe_candidates",
    "fit_model",
    "link",
    "link_candidates",
    "pair_columns",
    "pair_labels",
    "prepare_records",
    "random_pair_levels",
    "random_pair_rows",
    "record_frame",
    "score_compared",
    "score_pairs",
    "side_columns",
    "term_frequency",
    "train_and_score",
    "training_labels",
]


class RecordSource(Protocol):
    """Records addressable by row number (an in-memory frame, or a memory-mapped index on disk)."""

    @property
    def height(self) -> int: ...

    def take(self, rows: np.ndarray | pl.Series, columns: list[str]) -> pl.DataFrame: ...


@dataclass(frozen=True, slots=True)
class FrameSource:
    frame: pl.DataFrame

    @property
    def height(self) -> int:
        return self.frame.height

    def take(self, rows: np.ndarray | pl.Series, columns: list[str]) -> pl.DataFrame:
        index = rows if isinstance(rows, pl.Series) else pl.Series(rows)
        return self.frame.select(pl.col(columns).gather(index))


@dataclass(slots=True)
class Candidates:
    """Candidate pairs as row numbers (``_l``, ``_r``) with the index of the rule that found them (``_rule``)."""

    pairs: pl.DataFrame
    report: list[BlockingReport]


@dataclass(slots=True)
class MatchResult:
    """Scored pairs (output schema), the model used and the blocking report."""

    pairs: pl.DataFrame
    model: ModelParameters
    blocking: list[BlockingReport]

    def decision_counts(self) -> dict[str, int]:
        return decision_counts(self.pairs)


def decision_counts(pairs: pl.DataFrame) -> dict[str, int]:
    counts = pairs.get_column("decision").value_counts()
    found = dict(zip(counts.get_column("decision").to_list(), counts.get_column("count").to_list(), strict=True))
    return {decision: int(found.get(decision, 0)) for decision in ("match", "review", "non_match")}


def pair_columns(settings: MatchSettings) -> list[str]:
    """The output pair columns, in order."""
    columns = ["left_id", "right_id", "match_probability", "match_weight", "decision", "decision_source", "kind"]
    columns.extend(["review_label", "blocking_rule"])
    for comparison in settings.comparisons:
        columns.extend([level_column(comparison.name), weight_column(comparison.name)])
    if settings.vetoes:
        columns.extend([level_column(VETO_LEVEL), weight_column(VETO_LEVEL)])
    return columns


def _distinct_rows(keys: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series] | None:
    """The distinct rows of ``keys`` and each row's index among them, by a 64-bit hash of the row (checked against
    the rows themselves; None on a hash collision, astronomically rare, or a dtype the hash does not take)."""
    try:
        hashes = keys.select(pl.struct(keys.columns).hash().alias("_h")).get_column("_h")
    except pl.exceptions.PolarsError:
        return None
    first = hashes.arg_unique()
    lookup = pl.DataFrame({"_h": hashes.gather(first), "_code": pl.int_range(first.len(), dtype=pl.UInt32, eager=True)})
    codes = hashes.to_frame().join(lookup, on="_h", how="left", maintain_order="left").get_column("_code")
    distinct = keys.gather(first)
    if not distinct.gather(codes).equals(keys):
        return None
    return distinct, codes


_SAMPLE_ROWS = 8192


def _nearly_unique(keys: pl.DataFrame) -> bool:
    """True when an evenly spread sample of the rows is more than 95 % distinct (an ID): grouping such columns by
    their distinct values costs more than the expressions themselves. Only a shortcut: ``derive`` gives the same
    columns either way."""
    if keys.height < 4 * _SAMPLE_ROWS:
        return False
    sample = keys.gather_every(keys.height // _SAMPLE_ROWS)
    return sample.n_unique() > 0.95 * sample.height


def derive(frame: pl.DataFrame, derived: Sequence[pl.Expr]) -> pl.DataFrame:
    """``frame.with_columns(derived)``, each group of expressions reading the same columns evaluated once per
    distinct combination of them when that is at most half the rows, and spread back (derived columns are row by
    row, and a base holds a tenth as many distinct middle and given names as records)."""
    by_columns: dict[tuple[str, ...], list[pl.Expr]] = {}
    direct: list[pl.Expr] = []
    for expr in derived:
        read = _referenced(expr)
        if not read or not read <= set(frame.columns):
            direct.append(expr)
        else:
            by_columns.setdefault(tuple(sorted(read)), []).append(expr)
    spread: list[pl.Series] = []
    for columns, exprs in by_columns.items():
        keys = frame.select(columns)
        found = _distinct_rows(keys) if frame.height and not _nearly_unique(keys) else None
        if found is None or 2 * found[0].height > frame.height:
            direct.extend(exprs)
            continue
        distinct, codes = found
        spread.extend(series.gather(codes) for series in distinct.select(exprs).get_columns())
    if not spread:
        return frame.with_columns(direct)
    # Every expression reads the frame as given (as one with_columns would), then all are added in its order.
    try:
        names = [expr.meta.output_name() for expr in derived]
    except pl.exceptions.PolarsError:  # an expression without one output name: evaluate them all as given
        return frame.with_columns(derived)
    order = [*frame.columns, *(name for name in dict.fromkeys(names) if name not in frame.columns)]
    return frame.with_columns(direct).with_columns(spread).select(order)


def record_frame(frame: pl.DataFrame, settings: MatchSettings) -> pl.DataFrame:
    """The id (as text), the derived columns and the columns the settings compare, block and guard on.

    Every row is computed from itself alone, so this may run on any slice of the records (a partition).
    """
    if settings.derived:
        frame = derive(frame, settings.derived)
    needed = [settings.id_column, *settings.record_columns]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"records lack the columns the match settings need: {', '.join(missing)}")
    return frame.select(pl.col(settings.id_column).cast(pl.String), *settings.record_columns)


def term_frequency(count: pl.Expr, known: pl.Expr) -> pl.Expr:
    """A value's share among the non-null values of its column: its count over the non-null count, Float64.

    One expression for every engine: Polars divides by a scalar through its reciprocal, so the same share computed
    any other way can differ in the last bit.
    """
    return (count / known).cast(pl.Float64)


def prepare_records(frame: pl.DataFrame, settings: MatchSettings, *, with_tf: bool) -> pl.DataFrame:
    """The columns matching needs: ``record_frame`` and (base only) term frequencies.

    Term frequency of a value = its share among the non-null values of its column in this frame.
    """
    prepared = record_frame(frame, settings)
    tf_columns = []
    for column in settings.tf_columns:
        if with_tf:
            known = pl.col(column).is_not_null().sum()
            tf = pl.when(pl.col(column).is_not_null()).then(term_frequency(pl.len().over(column), known))
            tf_columns.append(tf.alias(f"tf_{column}"))
        else:
            tf_columns.append(pl.lit(None, dtype=pl.Float64).alias(f"tf_{column}"))
    prepared = prepared.with_columns(tf_columns) if tf_columns else prepared
    # Pairs gather rows at random from these columns: on a many-chunk frame (a Parquet file read in row groups)
    # every gather walks the chunks, which made it several times slower.
    return prepared.rechunk()


def side_columns(settings: MatchSettings) -> list[str]:
    """The columns of each side of a pair: record columns and term frequencies (without suffix)."""
    return [*settings.record_columns, *(f"tf_{c}" for c in settings.tf_columns)]


def compare_sides(sides: pl.DataFrame, settings: MatchSettings, *, vetoes: bool = True) -> pl.DataFrame:
    """Level codes ``_lv_*`` (and the ``_veto`` code), rule agreements ``_agree_*`` and pair term frequencies
    ``_tf_*`` of pairs whose two records stand side by side (``side_columns`` suffixed ``_l`` and ``_r``). Row by
    row: any batch will do. ``vetoes=False``: no veto codes (the random pairs u is estimated on need none)."""
    levels = compute_levels(sides, settings, vetoes=vetoes)
    extras = sides.select(
        *(rule.agrees().alias(f"_agree_{i}") for i, rule in enumerate(settings.blocking_rules)),
        *(pl.max_horizontal(f"tf_{c}_l", f"tf_{c}_r").alias(f"_tf_{c}") for c in settings.tf_columns),
    )
    return pl.concat([levels, extras], how="horizontal")


def compare_pairs(
    pairs: pl.DataFrame,
    left_source: RecordSource,
    right_source: RecordSource,
    settings: MatchSettings,
    *,
    vetoes: bool = True,
) -> pl.DataFrame:
    """For pairs ``_l``, ``_r`` (+ anything else, kept): level codes, rule agreements and pair term frequencies."""
    columns = side_columns(settings)
    left_side = left_source.take(pairs.get_column("_l"), columns)
    right_side = right_source.take(pairs.get_column("_r"), columns)
    sides = pl.concat(
        [left_side.rename({c: f"{c}_l" for c in columns}), right_side.rename({c: f"{c}_r" for c in columns})],
        how="horizontal",
    )
    return pl.concat([pairs, compare_sides(sides, settings, vetoes=vetoes)], how="horizontal")


def compare_candidates(
    candidates: pl.DataFrame,
    left_source: RecordSource,
    right_source: RecordSource,
    settings: MatchSettings,
    *,
    batch_pairs: int = 2_000_000,
    progress: Progress = no_progress,
) -> pl.DataFrame:
    starts = list(range(0, candidates.height, batch_pairs))
    sizes = [min(batch_pairs, candidates.height - start) for start in starts]
    batches = [
        compare_pairs(candidates.slice(start, batch_pairs), left_source, right_source, settings)
        for start in tracked(progress, "so sánh cặp / comparing pairs", starts, sizes)
    ]
    return pl.concat(batches) if batches else _empty_compared(settings)


def random_pair_rows(
    left_height: int, right_height: int, settings: MatchSettings, *, same_source: bool
) -> pl.DataFrame:
    """``_l``, ``_r`` row numbers of ``u_sample_size`` uniformly random pairs (seeded: the same rows every run;
    self-pairs excluded when both sides are one source)."""
    rng = np.random.default_rng(settings.seed)
    size = settings.u_sample_size
    left_rows = rng.integers(0, left_height, size=size, dtype=np.int64)
    right_rows = rng.integers(0, right_height, size=size, dtype=np.int64)
    if same_source:
        keep = left_rows != right_rows
        left_rows, right_rows = left_rows[keep], right_rows[keep]
    return pl.DataFrame({"_l": left_rows.astype(np.uint32), "_r": right_rows.astype(np.uint32)})


def random_pair_levels(
    left_source: RecordSource, right_source: RecordSource, settings: MatchSettings, *, same_source: bool
) -> pl.DataFrame:
    """Levels of ``random_pair_rows`` (the pairs u is estimated on)."""
    pairs = random_pair_rows(left_source.height, right_source.height, settings, same_source=same_source)
    return compare_pairs(pairs, left_source, right_source, settings, vetoes=False)


def _ids(source: RecordSource, rows: pl.Series, settings: MatchSettings) -> pl.Series:
    return source.take(rows, [settings.id_column]).get_column(settings.id_column).cast(pl.String)


def score_compared(
    compared: pl.DataFrame,
    model: ModelParameters,
    settings: MatchSettings,
    *,
    left_source: RecordSource,
    right_source: RecordSource,
    kind: PairKind,
    labels: pl.DataFrame | None,
) -> pl.DataFrame:
    """Turn compared pairs into the output pair schema; reviewed pairs take the reviewer's decision."""
    left_ids = _ids(left_source, compared.get_column("_l"), settings)
    right_ids = _ids(right_source, compared.get_column("_r"), settings)
    return score_pairs(compared, left_ids, right_ids, model, settings, kind=kind, labels=labels)


def score_pairs(
    compared: pl.DataFrame,
    left_ids: pl.Series,
    right_ids: pl.Series,
    model: ModelParameters,
    settings: MatchSettings,
    *,
    kind: PairKind,
    labels: pl.DataFrame | None,
) -> pl.DataFrame:
    """``score_compared`` for compared pairs whose record ids are already known. Row by row: any batch will do."""
    tf_values = compared.select(pl.col(f"_tf_{c}").fill_null(float("nan")) for c in settings.tf_columns)
    scores = score_levels(compared, tf_values, model, settings)
    rule_names = [rule.name for rule in settings.blocking_rules]
    frame = pl.concat(
        [
            pl.DataFrame(
                [
                    left_ids.cast(pl.String).alias("left_id"),
                    right_ids.cast(pl.String).alias("right_id"),
                    compared.get_column("_rule")
                    .cast(pl.Int64)
                    .replace_strict(list(range(len(rule_names))), rule_names, return_dtype=pl.String)
                    .alias("blocking_rule"),
                ]
            ),
            scores,
        ],
        how="horizontal",
    )
    model_decision = decide(pl.col("match_probability"), settings)
    normalized = normalize_labels(labels)
    if normalized is not None:
        frame = frame.with_columns(
            pl.min_horizontal("left_id", "right_id").alias("_a"), pl.max_horizontal("left_id", "right_id").alias("_b")
        ).join(normalized, on=["_a", "_b"], how="left", maintain_order="left")
        reviewed = pl.col("_reviewed").fill_null(False)
        frame = frame.with_columns(
            pl.when(reviewed)
            .then(pl.when(pl.col("_label").fill_null(False)).then(pl.lit("match")).otherwise(pl.lit("non_match")))
            .otherwise(model_decision)
            .alias("decision"),
            pl.when(reviewed).then(pl.lit("label")).otherwise(pl.lit("model")).alias("decision_source"),
            # The reviewer's own answer (null when not reviewed or unsure), for calibration against the model.
            pl.when(reviewed).then(pl.col("_label")).otherwise(pl.lit(None, dtype=pl.Boolean)).alias("review_label"),
        )
    else:
        frame = frame.with_columns(
            model_decision.alias("decision"),
            pl.lit("model").alias("decision_source"),
            pl.lit(None, dtype=pl.Boolean).alias("review_label"),
        )
    return frame.with_columns(pl.lit(kind).alias("kind")).select(pair_columns(settings))


def pair_labels(left_ids: pl.Series, right_ids: pl.Series, labels: pl.DataFrame | None) -> pl.Series | None:
    """The reviewer's label of each pair (True / False / null = not reviewed or undecided); None without labels."""
    normalized = normalize_labels(labels)
    if normalized is None:
        return None
    ids = pl.DataFrame([left_ids.cast(pl.String).alias("l"), right_ids.cast(pl.String).alias("r")]).select(
        pl.min_horizontal("l", "r").alias("_a"), pl.max_horizontal("l", "r").alias("_b")
    )
    joined = ids.join(normalized.drop("_reviewed"), on=["_a", "_b"], how="left", maintain_order="left")
    return joined.get_column("_label")


def _label_values(
    compared: pl.DataFrame,
    left_source: RecordSource,
    right_source: RecordSource,
    settings: MatchSettings,
    labels: pl.DataFrame | None,
) -> pl.Series | None:
    if normalize_labels(labels) is None:
        return None
    left_ids = _ids(left_source, compared.get_column("_l"), settings)
    right_ids = _ids(right_source, compared.get_column("_r"), settings)
    return pair_labels(left_ids, right_ids, labels)


def training_labels(compared: pl.DataFrame, reviewed: pl.Series | None) -> pl.Series | None:
    """What EM may take as known: reviewers' decisions, and vetoed pairs as non-matches (unless a reviewer said
    they are one person). Row by row (``compared`` carries the veto code): any batch of pairs will do."""
    if VETO_CODE not in compared.columns:
        return reviewed
    vetoed = compared.get_column(VETO_CODE) > 0
    if not vetoed.any():
        return reviewed
    if reviewed is None:
        return pl.select(pl.when(pl.lit(vetoed)).then(pl.lit(False)).alias("_label")).to_series()
    return pl.select(
        pl.when(pl.lit(reviewed).is_null() & pl.lit(vetoed)).then(pl.lit(False)).otherwise(pl.lit(reviewed))
    ).to_series()


def train_and_score(
    compared: pl.DataFrame,
    left_source: RecordSource,
    right_source: RecordSource,
    settings: MatchSettings,
    *,
    kind: PairKind,
    labels: pl.DataFrame | None,
    model: ModelParameters | None,
    u: Callable[[], dict[str, np.ndarray]],
    fallback_model: ModelParameters | None = None,
    min_training_pairs: int = 1000,
) -> tuple[pl.DataFrame, ModelParameters]:
    """Score compared pairs with ``model``, or with a model trained on them by EM (see ``fit_model``)."""

    def patterns() -> AgreementPatterns:
        agreements = compared.select(pl.col(f"_agree_{i}") for i in range(len(settings.blocking_rules)))
        label_values = training_labels(compared, _label_values(compared, left_source, right_source, settings, labels))
        return AgreementPatterns.of_pairs(compared, agreements, settings, label_values=label_values)

    model = fit_model(
        patterns,
        settings,
        comparable=comparable_pairs(left_source.height, right_source.height, kind),
        model=model,
        u=u,
        fallback_model=fallback_model,
        min_training_pairs=min_training_pairs,
    )
    pairs = score_compared(
        compared, model, settings, left_source=left_source, right_source=right_source, kind=kind, labels=labels
    )
    return pairs, model


def fit_model(
    patterns: Callable[[], AgreementPatterns],
    settings: MatchSettings,
    *,
    comparable: int,
    model: ModelParameters | None,
    u: Callable[[], dict[str, np.ndarray]],
    fallback_model: ModelParameters | None = None,
    min_training_pairs: int = 1000,
) -> ModelParameters:
    """The model a job scores with: ``model`` when given, else one trained by EM on the job's candidate pairs.

    EM needs enough pairs: below ``min_training_pairs`` the ``fallback_model``'s m and u are used when there is
    one, with the prior re-estimated on these pairs. ``patterns`` (the agreement patterns of the candidates) and
    ``u`` are only computed when needed; ``comparable`` is every pair the job could compare.
    """
    if model is not None:
        model.check(settings)
        return model
    found = patterns()
    if fallback_model is not None and found.pairs < min_training_pairs:
        fallback_model.check(settings)
        refitted = refit_prior_on_patterns(fallback_model, found, settings, comparable_pairs=comparable)
        refitted.check(settings)
        return refitted
    return train_on_patterns(found, u(), settings, comparable_pairs=comparable)


def comparable_pairs(left_height: int, right_height: int, kind: PairKind) -> int:
    """Every pair a job could compare: within one set (dedupe) or across two (link)."""
    if kind == "dedupe":
        return left_height * (left_height - 1) // 2
    return left_height * right_height


def _empty_compared(settings: MatchSettings) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {"_l": pl.UInt32(), "_r": pl.UInt32(), "_rule": pl.Int8()}
    for comparison in settings.comparisons:
        schema[f"_lv_{comparison.name}"] = pl.Int8()
    if settings.vetoes:
        schema[VETO_CODE] = pl.Int8()
    for i in range(len(settings.blocking_rules)):
        schema[f"_agree_{i}"] = pl.Boolean()
    for column in settings.tf_columns:
        schema[f"_tf_{column}"] = pl.Float64()
    return pl.DataFrame(schema=schema)


def _report(settings: MatchSettings, pairs: pl.DataFrame, oversized: Sequence[tuple[int, int]]) -> list[BlockingReport]:
    counts = pairs.get_column("_rule").value_counts()
    per_rule = dict(zip(counts.get_column("_rule").to_list(), counts.get_column("count").to_list(), strict=True))
    return [
        BlockingReport(
            rule=rule.name,
            pairs=int(per_rule.get(i, 0)),
            oversized_blocks=oversized[i][0],
            records_in_oversized_blocks=oversized[i][1],
        )
        for i, rule in enumerate(settings.blocking_rules)
    ]


def dedupe_candidates(
    records: pl.DataFrame,
    settings: MatchSettings,
    *,
    batch_pairs: int = 2_000_000,
    keys: tuple[pl.DataFrame, list[tuple[int, int]]] | None = None,
    expected_pairs: Sequence[int] | None = None,
) -> Candidates:
    """Candidate pairs within prepared records (``prepare_records(..., with_tf=True)``).

    ``keys``: the records' guarded block keys and oversized report, when already computed (``block_keys``);
    ``expected_pairs``: with them, each rule's self-join pairs (``guarded_block_keys``), so the blocks are not
    measured again.
    """
    record_keys, oversized = keys if keys is not None else block_keys(records, settings.blocking_rules)
    batches = [
        pairs.with_columns(pl.lit(rule_index, dtype=pl.Int8).alias("_rule"))
        for rule_index, pairs in dedupe_pair_batches(
            record_keys, batch_pairs=batch_pairs, expected_pairs=expected_pairs if keys is not None else None
        )
    ]
    pairs = pl.concat(batches) if batches else pl.DataFrame(schema={"_l": pl.UInt32, "_r": pl.UInt32, "_rule": pl.Int8})
    return Candidates(pairs=pairs, report=_report(settings, pairs, oversized))


def link_candidates(
    records: pl.DataFrame,
    base_keys: Sequence[SortedKeys],
    settings: MatchSettings,
    *,
    oversized: Sequence[tuple[int, int]] | None = None,
) -> Candidates:
    """Candidate (extract row, base row) pairs for prepared extract records against the base's sorted keys."""
    keys, _ = block_keys(records, settings.blocking_rules, guard=False)
    pairs, _ = link_pairs(keys, base_keys)
    return Candidates(
        pairs=pairs, report=_report(settings, pairs, oversized or [(0, 0)] * len(settings.blocking_rules))
    )


def dedupe(
    base: pl.DataFrame,
    settings: MatchSettings,
    *,
    labels: pl.DataFrame | None = None,
    model: ModelParameters | None = None,
    batch_pairs: int = 2_000_000,
    progress: Progress = no_progress,
) -> MatchResult:
    """Find duplicate records within ``base`` (normalized records). ``progress`` hears of each stage."""
    progress("ghép cặp / blocking", 0, base.height)
    records = prepare_records(base, settings, with_tf=True)
    source = FrameSource(records)
    candidates = dedupe_candidates(records, settings, batch_pairs=batch_pairs)
    progress("ghép cặp / blocking", base.height, base.height)
    compared = compare_candidates(
        candidates.pairs, source, source, settings, batch_pairs=batch_pairs, progress=progress
    )
    pairs, trained = train_and_score(
        compared,
        source,
        source,
        settings,
        kind="dedupe",
        labels=labels,
        model=model,
        u=lambda: estimate_u(random_pair_levels(source, source, settings, same_source=True), settings),
    )
    return MatchResult(pairs=pairs, model=trained, blocking=candidates.report)


def link(
    extract: pl.DataFrame,
    base: pl.DataFrame,
    settings: MatchSettings,
    *,
    labels: pl.DataFrame | None = None,
    model: ModelParameters | None = None,
    batch_pairs: int = 2_000_000,
) -> MatchResult:
    """Link extract records to an in-memory base (both normalized). For a persisted base use ``BaseIndex.link``."""
    base_records = prepare_records(base, settings, with_tf=True)
    base_source = FrameSource(base_records)
    keys, oversized = block_keys(base_records, settings.blocking_rules)
    records = prepare_records(extract, settings, with_tf=False)
    source = FrameSource(records)
    candidates = link_candidates(records, sorted_keys(keys), settings, oversized=oversized)
    compared = compare_candidates(candidates.pairs, source, base_source, settings, batch_pairs=batch_pairs)
    pairs, trained = train_and_score(
        compared,
        source,
        base_source,
        settings,
        kind="link",
        labels=labels,
        model=model,
        u=lambda: estimate_u(random_pair_levels(base_source, base_source, settings, same_source=True), settings),
    )
    return MatchResult(pairs=pairs, model=trained, blocking=candidates.report)


def dedupe_and_link(
    base: pl.DataFrame,
    extract: pl.DataFrame,
    settings: MatchSettings,
    *,
    labels: pl.DataFrame | None = None,
    batch_pairs: int = 2_000_000,
    timings: dict[str, float] | None = None,
) -> tuple[MatchResult, MatchResult]:
    """A night's two jobs on an in-memory base: duplicates within ``base``, then ``extract`` → ``base``.

    The base is prepared, keyed and sampled for u once for both jobs (``dedupe`` then ``link`` would do it twice).
    Each job trains its own model: the extract's errors are not the base's. ``timings`` (when given) receives the
    seconds of the shared preparation and of each job.
    """
    clock = time.perf_counter()
    base_records = prepare_records(base, settings, with_tf=True)
    base_source = FrameSource(base_records)
    guarded = guarded_block_keys(base_records, settings.blocking_rules)
    keys, oversized = guarded.keys, guarded.oversized
    u = estimate_u(random_pair_levels(base_source, base_source, settings, same_source=True), settings)
    spent = {"prepare": time.perf_counter() - clock}
    clock = time.perf_counter()
    candidates = dedupe_candidates(
        base_records, settings, batch_pairs=batch_pairs, keys=(keys, oversized), expected_pairs=guarded.pairs
    )
    compared = compare_candidates(candidates.pairs, base_source, base_source, settings, batch_pairs=batch_pairs)
    pairs, model = train_and_score(
        compared, base_source, base_source, settings, kind="dedupe", labels=labels, model=None, u=lambda: u
    )
    deduped = MatchResult(pairs=pairs, model=model, blocking=candidates.report)
    spent["dedupe"] = time.perf_counter() - clock
    clock = time.perf_counter()
    records = prepare_records(extract, settings, with_tf=False)
    source = FrameSource(records)
    found = link_candidates(records, sorted_keys(keys), settings, oversized=oversized)
    compared = compare_candidates(found.pairs, source, base_source, settings, batch_pairs=batch_pairs)
    pairs, model = train_and_score(
        compared,
        source,
        base_source,
        settings,
        kind="link",
        labels=labels,
        model=None,
        u=lambda: u,
        fallback_model=deduped.model,
    )
    spent["link"] = time.perf_counter() - clock
    if timings is not None:
        timings.update(spent)
    return deduped, MatchResult(pairs=pairs, model=model, blocking=found.report)


def candidate_ids(
    candidates: Candidates,
    left_source: RecordSource,
    right_source: RecordSource,
    settings: MatchSettings,
    kind: PairKind,
) -> pl.DataFrame:
    """Candidates as ``left_id, right_id, kind, blocking_rule`` (the shape stored between pipeline steps)."""
    rule_names = [rule.name for rule in settings.blocking_rules]
    pairs = candidates.pairs
    return pl.DataFrame(
        [
            _ids(left_source, pairs.get_column("_l"), settings).alias("left_id"),
            _ids(right_source, pairs.get_column("_r"), settings).alias("right_id"),
            pl.Series("kind", [kind] * pairs.height, dtype=pl.String),
            pairs.get_column("_rule")
            .cast(pl.Int64)
            .replace_strict(list(range(len(rule_names))), rule_names, return_dtype=pl.String)
            .alias("blocking_rule"),
        ]
    )


def rows_of(
    candidates: pl.DataFrame, left_ids: pl.Series, right_ids: pl.Series, settings: MatchSettings
) -> pl.DataFrame:
    """Back from ids to row numbers: ``_l``, ``_r``, ``_rule`` for stored candidates (unknown ids are an error)."""
    rule_index = {rule.name: i for i, rule in enumerate(settings.blocking_rules)}
    left_rows = pl.DataFrame({"left_id": left_ids.cast(pl.String)}).with_row_index("_l")
    right_rows = pl.DataFrame({"right_id": right_ids.cast(pl.String)}).with_row_index("_r")
    joined = (
        candidates.select("left_id", "right_id", "blocking_rule")
        .join(left_rows, on="left_id", how="left", maintain_order="left")
        .join(right_rows, on="right_id", how="left", maintain_order="left")
    )
    if joined.get_column("_l").null_count() or joined.get_column("_r").null_count():
        raise ValueError("candidate pairs refer to records that are not in the given record sets")
    return joined.select(
        pl.col("_l").cast(pl.UInt32),
        pl.col("_r").cast(pl.UInt32),
        pl.col("blocking_rule").replace_strict(rule_index, return_dtype=pl.Int8).alias("_rule"),
    )
