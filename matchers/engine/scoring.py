"""Fellegi–Sunter scoring: u from random pairs, m and the prior by EM, term-frequency adjustment, decisions.

All estimation works on the Int8 level codes of the pairs, collapsed to distinct agreement patterns with counts, so
EM costs the same for a thousand pairs as for a hundred million. Parameters are plain data (``ModelParameters``)
that can be saved with the base index and reused for a night's link.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from matchers.engine.comparisons import VETO_CODE
from matchers.engine.settings import VETO_LEVEL, Comparison, MatchSettings
from matchers.engine.types import LABEL_SCHEMA, level_column, weight_column

__all__ = [
    "AgreementPatterns",
    "ComparisonParameters",
    "ModelParameters",
    "decide",
    "estimate_u",
    "level_frequencies",
    "refit_prior",
    "refit_prior_on_patterns",
    "score_levels",
    "train_model",
    "train_on_patterns",
    "veto_caps",
]

_FLOOR = 1e-9


@dataclass(slots=True)
class ComparisonParameters:
    """m and u per level code (index 0 = null, whose weight is always 0)."""

    labels: list[str]
    m: list[float]
    u: list[float]

    def weights(self) -> np.ndarray:
        m = np.clip(np.asarray(self.m, dtype=np.float64), _FLOOR, 1.0)
        u = np.clip(np.asarray(self.u, dtype=np.float64), _FLOOR, 1.0)
        weights = np.log2(m / u)
        weights[0] = 0.0
        return weights


@dataclass(slots=True)
class ModelParameters:
    """A trained model: per-comparison m/u and the prior probability that a candidate pair is a match."""

    settings_name: str
    comparisons: dict[str, ComparisonParameters]
    prior: float
    trained_pairs: int = 0
    em_sessions: list[dict[str, object]] = field(default_factory=list)
    candidate_prior: float | None = None
    """Match share among the candidate pairs the model was trained on (``prior`` is over all pairs)."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "settings_name": self.settings_name,
                "prior": self.prior,
                "candidate_prior": self.candidate_prior,
                "trained_pairs": self.trained_pairs,
                "em_sessions": self.em_sessions,
                "comparisons": {name: {"labels": p.labels, "m": p.m, "u": p.u} for name, p in self.comparisons.items()},
            },
            ensure_ascii=False,
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> ModelParameters:
        data = json.loads(text)
        return cls(
            settings_name=data["settings_name"],
            prior=float(data["prior"]),
            trained_pairs=int(data.get("trained_pairs", 0)),
            candidate_prior=data.get("candidate_prior"),
            em_sessions=list(data.get("em_sessions", [])),
            comparisons={
                name: ComparisonParameters(labels=list(p["labels"]), m=list(p["m"]), u=list(p["u"]))
                for name, p in data["comparisons"].items()
            },
        )

    def save(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ModelParameters:
        return cls.from_json(path.read_text(encoding="utf-8"))

    def check(self, settings: MatchSettings) -> None:
        for comparison in settings.comparisons:
            stored = self.comparisons.get(comparison.name)
            if stored is None or tuple(stored.labels) != comparison.labels:
                raise ValueError(
                    f"model does not fit settings {settings.name!r}: comparison {comparison.name!r} differs"
                )


def level_frequencies(levels: pl.DataFrame, comparison: Comparison) -> np.ndarray:
    """Share of each non-null level among pairs where the comparison is not null (Laplace-smoothed)."""
    codes = levels.get_column(f"_lv_{comparison.name}").to_numpy()
    size = len(comparison.labels)
    counts = np.bincount(codes.astype(np.int64), minlength=size).astype(np.float64)
    counts[0] = 0.0
    smoothed = counts + 1.0
    smoothed[0] = 0.0
    result = smoothed / smoothed.sum()
    result[0] = 1.0
    return result


def estimate_u(levels_of_random_pairs: pl.DataFrame, settings: MatchSettings) -> dict[str, np.ndarray]:
    """u per comparison from the levels of randomly sampled pairs (nearly all of which are non-matches)."""
    return {c.name: level_frequencies(levels_of_random_pairs, c) for c in settings.comparisons}


def _initial_m(size: int) -> np.ndarray:
    # Strong levels first: most true matches agree exactly; a little mass everywhere so EM can move it.
    raw = np.array([0.0] + [0.9 * (0.25**k) for k in range(size - 2)] + [0.05], dtype=np.float64)
    raw[1:] = raw[1:] / raw[1:].sum()
    raw[0] = 1.0
    return raw


def _collapse(
    codes: np.ndarray, unlabelled: np.ndarray, positives: np.ndarray, negatives: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Distinct rows of ``codes`` (in lexicographic order) with the summed pair counts of the rows collapsed.

    The counts are whole numbers held as floats, so they sum exactly in any order: collapsing pairs, or collapsing
    patterns already collapsed elsewhere (a partition, another machine), gives the same arrays.
    """
    if codes.shape[0] == 0:
        empty = np.zeros(0, dtype=np.float64)
        return codes.reshape(0, codes.shape[1]), empty, empty, empty
    # One integer per row (mixed radix over the level codes): a 1-D unique is an order of magnitude faster than
    # ``np.unique(axis=0)``, which sorts rows lexicographically. Both give the rows in lexicographic order.
    radix = codes.max(axis=0).astype(np.int64) + 1
    if float(np.prod(radix.astype(np.float64))) < 2.0**62:
        packed = np.zeros(codes.shape[0], dtype=np.int64)
        for column in range(codes.shape[1]):
            packed = packed * radix[column] + codes[:, column]
        _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
        unique = codes[first]
    else:
        unique, inverse = np.unique(codes, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    size = unique.shape[0]
    return (
        unique,
        np.bincount(inverse, weights=unlabelled.astype(np.float64), minlength=size),
        np.bincount(inverse, weights=positives.astype(np.float64), minlength=size),
        np.bincount(inverse, weights=negatives.astype(np.float64), minlength=size),
    )


def _patterns(codes: np.ndarray, positives: np.ndarray, negatives: np.ndarray) -> tuple[np.ndarray, ...]:
    """Distinct rows of ``codes`` with counts of unlabelled, labelled-match and labelled-non-match pairs."""
    unlabelled = ~(positives.astype(bool) | negatives.astype(bool))
    return _collapse(codes, unlabelled, positives, negatives)


def _code_arrays(
    levels: pl.DataFrame, agreements: pl.DataFrame, settings: MatchSettings
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, comparisons) int64 level codes and (rows, rules) bool agreements, in settings order."""
    height = levels.height
    # Column-major: each code column is written, and later read, contiguously.
    codes = np.empty((height, len(settings.comparisons)), dtype=np.int64, order="F")
    for k, comparison in enumerate(settings.comparisons):
        codes[:, k] = levels.get_column(f"_lv_{comparison.name}").to_numpy()
    agreed = np.empty((height, len(settings.blocking_rules)), dtype=bool)
    for i in range(len(settings.blocking_rules)):
        agreed[:, i] = agreements.get_column(f"_agree_{i}").to_numpy()
    return codes, agreed


@dataclass(frozen=True, slots=True)
class AgreementPatterns:
    """What EM needs of a set of compared pairs: their distinct (level codes, rule agreements) rows, each with the
    number of unlabelled, reviewer-confirmed and reviewer-rejected pairs showing it.

    A few thousand rows stand for any number of pairs, so patterns counted per partition on many machines and
    summed train exactly the model the pairs themselves would (``train_on_patterns``).
    """

    codes: np.ndarray
    """(patterns, comparisons) level codes, int64, comparisons in settings order."""
    agreements: np.ndarray
    """(patterns, blocking rules) bool: the pattern's pairs agree on that rule's key."""
    unlabelled: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray

    @property
    def pairs(self) -> int:
        return round(float(self.unlabelled.sum() + self.positives.sum() + self.negatives.sum()))

    @classmethod
    def of_pairs(
        cls,
        levels: pl.DataFrame,
        agreements: pl.DataFrame,
        settings: MatchSettings,
        *,
        label_values: pl.Series | None = None,
    ) -> AgreementPatterns:
        """Patterns of compared pairs: ``_lv_<comparison>`` and ``_agree_<rule>`` columns, optional labels (True =
        same person, False = not, null = unlabelled)."""
        if label_values is None:
            positives = np.zeros(levels.height, dtype=bool)
            negatives = np.zeros(levels.height, dtype=bool)
        else:
            positives = label_values.fill_null(False).to_numpy().astype(bool)
            negatives = (~label_values).fill_null(False).to_numpy().astype(bool)
        codes, agreed = _code_arrays(levels, agreements, settings)
        return cls.of_rows(codes, agreed, positives, negatives, ~(positives | negatives))

    @classmethod
    def of_counts(cls, counts: pl.DataFrame, settings: MatchSettings) -> AgreementPatterns:
        """From a table of ``_lv_<comparison>``, ``_agree_<rule>``, ``_label`` (Boolean, null = unlabelled) and
        ``count`` columns: compared pairs grouped and counted elsewhere (another engine, several machines)."""
        label = counts.get_column("_label")
        count = counts.get_column("count").cast(pl.Float64)
        positives = (count * label.fill_null(False).cast(pl.Float64)).to_numpy()
        negatives = (count * (~label).fill_null(False).cast(pl.Float64)).to_numpy()
        unlabelled = (count * label.is_null().cast(pl.Float64)).to_numpy()
        codes, agreed = _code_arrays(counts, counts, settings)
        return cls.of_rows(codes, agreed, positives, negatives, unlabelled)

    @classmethod
    def of_rows(
        cls,
        codes: np.ndarray,
        agreements: np.ndarray,
        positives: np.ndarray,
        negatives: np.ndarray,
        unlabelled: np.ndarray,
    ) -> AgreementPatterns:
        """Collapse rows: pairs (the last three arrays 0/1 per pair) or patterns (their counts)."""
        width = codes.shape[1]
        # Column-major like the code arrays: a million pairs' columns copied (and packed by _collapse) contiguously.
        joint = np.empty((codes.shape[0], width + agreements.shape[1]), dtype=np.int64, order="F")
        joint[:, :width] = codes
        joint[:, width:] = agreements
        unique, unl, pos, neg = _collapse(joint, unlabelled, positives, negatives)
        return cls(unique[:, :width], unique[:, width:].astype(bool), unl, pos, neg)

    def on_rule(self, rule_index: int, columns: list[int]) -> tuple[np.ndarray, ...]:
        """Patterns of the pairs agreeing on one rule's key, over some comparisons only (an EM session)."""
        mask = self.agreements[:, rule_index]
        return _collapse(
            self.codes[mask][:, columns], self.unlabelled[mask], self.positives[mask], self.negatives[mask]
        )

    def over_comparisons(self, *, labelled: bool = True) -> tuple[np.ndarray, ...]:
        """Patterns over the level codes alone; ``labelled=False`` counts every pair as unlabelled."""
        if labelled:
            return _collapse(self.codes, self.unlabelled, self.positives, self.negatives)
        nothing = np.zeros(self.unlabelled.shape[0], dtype=np.float64)
        return _collapse(self.codes, self.unlabelled + self.positives + self.negatives, nothing, nothing)


def _em(
    patterns: np.ndarray,
    unlabelled: np.ndarray,
    positives: np.ndarray,
    negatives: np.ndarray,
    m: list[np.ndarray],
    u: list[np.ndarray],
    prior: float,
    *,
    estimate_m: bool | Sequence[bool],
    iterations: int,
    tolerance: float,
) -> tuple[list[np.ndarray], float, int]:
    """EM over collapsed patterns; ``estimate_m`` per comparison (a held m stays as given)."""
    estimated = [estimate_m] * len(m) if isinstance(estimate_m, bool) else list(estimate_m)
    n = unlabelled.sum() + positives.sum() + negatives.sum()
    if not n > 0:
        # No pair to learn from (an empty night, a rule no pair agrees on): the parameters stay as given, never a
        # 0/0 prior, which would make every later probability NaN.
        return m, prior, 0
    log_u = np.zeros(patterns.shape[0])
    for c, u_c in enumerate(u):
        log_u += np.log(np.clip(u_c[patterns[:, c]], _FLOOR, None))
    done = 0
    for done in range(1, iterations + 1):  # noqa: B007 - the count is reported
        log_m = np.zeros(patterns.shape[0])
        for c, m_c in enumerate(m):
            log_m += np.log(np.clip(m_c[patterns[:, c]], _FLOOR, None))
        log_odds = math.log(prior / (1.0 - prior)) + log_m - log_u
        responsibility = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))
        expected = unlabelled * responsibility + positives
        new_prior = float(np.clip(expected.sum() / n, 1e-9, 1 - 1e-9))
        change = abs(new_prior - prior)
        if any(estimated):
            new_m = []
            for c, m_c in enumerate(m):
                if not estimated[c]:
                    new_m.append(m_c)
                    continue
                sums = np.bincount(patterns[:, c], weights=expected, minlength=m_c.shape[0])
                sums[0] = 0.0
                total = sums.sum()
                if total <= 0:
                    new_m.append(m_c)
                    continue
                estimate = np.clip(sums / total, _FLOOR, None)
                estimate = estimate / estimate[1:].sum()
                estimate[0] = 1.0
                change = max(change, float(np.abs(estimate - m_c).max()))
                new_m.append(estimate)
            m = new_m
        prior = new_prior
        if change < tolerance:
            break
    return m, prior, done


def refit_prior(
    model: ModelParameters, levels: pl.DataFrame, settings: MatchSettings, *, comparable_pairs: int | None = None
) -> ModelParameters:
    """``model`` with only its prior re-estimated (by EM, m and u kept) on the given pairs.

    For a night too small to train m on: the base's model knows how records agree, but not how many of tonight's
    pairs are matches (an extract links most of its rows, a base holds few duplicates).
    """
    codes = np.empty((levels.height, len(settings.comparisons)), dtype=np.int64)
    for k, comparison in enumerate(settings.comparisons):
        codes[:, k] = levels.get_column(f"_lv_{comparison.name}").to_numpy()
    nobody = np.zeros(levels.height, dtype=bool)
    patterns = AgreementPatterns.of_rows(codes, np.zeros((levels.height, 0), dtype=bool), nobody, nobody, ~nobody)
    return refit_prior_on_patterns(model, patterns, settings, comparable_pairs=comparable_pairs)


def refit_prior_on_patterns(
    model: ModelParameters,
    patterns: AgreementPatterns,
    settings: MatchSettings,
    *,
    comparable_pairs: int | None = None,
) -> ModelParameters:
    """``refit_prior`` on the agreement patterns of the pairs (labels are not used)."""
    height = patterns.pairs
    if height == 0:
        return model
    comparisons = settings.comparisons
    codes, unlabelled, pos, neg = patterns.over_comparisons(labelled=False)
    prior = _candidate_match_share(
        codes,
        unlabelled,
        pos,
        neg,
        [np.asarray(model.comparisons[c.name].m, dtype=np.float64) for c in comparisons],
        [np.asarray(model.comparisons[c.name].u, dtype=np.float64) for c in comparisons],
        settings,
        space=(comparable_pairs or height) / height,
    )
    candidate_prior = prior
    if comparable_pairs is not None and comparable_pairs > height:
        prior = float(np.clip(prior * height / comparable_pairs, 1e-15, 1 - 1e-9))
    return dataclasses.replace(model, prior=prior, candidate_prior=candidate_prior, trained_pairs=height)


def train_model(
    levels: pl.DataFrame,
    agreements: pl.DataFrame,
    u: dict[str, np.ndarray],
    settings: MatchSettings,
    *,
    label_values: pl.Series | None = None,
    comparable_pairs: int | None = None,
) -> ModelParameters:
    """Estimate m by EM, one session per blocking rule, then the prior over all candidate pairs.

    ``levels``: ``_lv_<comparison>`` per pair; ``agreements``: ``_agree_<rule>``; ``label_values`` (True / False /
    null per pair) pins the responsibility of reviewed pairs, so reviewers' decisions teach the model. See
    ``train_on_patterns``.
    """
    patterns = AgreementPatterns.of_pairs(levels, agreements, settings, label_values=label_values)
    return train_on_patterns(patterns, u, settings, comparable_pairs=comparable_pairs)


def train_on_patterns(
    patterns: AgreementPatterns,
    u: dict[str, np.ndarray],
    settings: MatchSettings,
    *,
    comparable_pairs: int | None = None,
) -> ModelParameters:
    """Estimate m by EM, one session per blocking rule, then the prior over all candidate pairs.

    A session uses the candidate pairs on which its rule's key agrees and leaves out the comparisons that read the
    rule's columns (they agree by construction there, so EM would learn nothing true about them). m of a comparison
    is estimated by the first session that can (see the anchoring below), and held in the later ones. Reviewed
    pairs keep their label's responsibility.
    ``comparable_pairs`` (every pair blocking could have produced: n(n-1)/2 for a dedupe, n_left * n_right for a
    link) turns the prior into the match share among all pairs, the one that agrees with u from random pairs.
    """
    comparisons = settings.comparisons
    height = patterns.pairs
    # Anchored sessions: a comparison's m comes from the first session that can estimate it and is held there in
    # the later ones. The first training rule (shared personal IDs) is nearly all true matches at any scale; the
    # later ones (same name and birth date) fill in the comparisons it cannot see, and grow with a province in
    # namesakes, which an EM free to move every m would partly take for matches (their common registration digits,
    # their unrelated addresses), so that m, and with it precision, would drift with the size of the base.
    anchored: dict[str, np.ndarray] = {}
    level_pairs: dict[str, np.ndarray] = {}
    sessions: list[dict[str, object]] = []
    for i, rule in enumerate(settings.blocking_rules):
        if settings.training_rules and rule.name not in settings.training_rules:
            continue
        mask = patterns.agreements[:, i]
        rule_pairs = round(float((patterns.unlabelled + patterns.positives + patterns.negatives)[mask].sum()))
        if rule_pairs < 50:
            continue
        active = [k for k, c in enumerate(comparisons) if not set(c.columns) & set(rule.columns)]
        if not active or all(comparisons[k].name in anchored for k in active):
            continue
        codes, unlabelled, pos, neg = patterns.on_rule(i, active)
        m_start = [anchored.get(comparisons[k].name, _initial_m(len(comparisons[k].labels))) for k in active]
        estimate = [comparisons[k].name not in anchored for k in active]
        u_active = [u[comparisons[k].name] for k in active]
        m_est, session_prior, iterations = _em(
            codes,
            unlabelled,
            pos,
            neg,
            m_start,
            u_active,
            0.5,
            estimate_m=estimate,
            iterations=settings.em_max_iterations,
            tolerance=settings.em_tolerance,
        )
        session_pairs = unlabelled + pos + neg
        for j, (k, m_c, new) in enumerate(zip(active, m_est, estimate, strict=True)):
            if new:
                anchored[comparisons[k].name] = m_c
                level_pairs[comparisons[k].name] = np.bincount(
                    codes[:, j], weights=session_pairs, minlength=len(comparisons[k].labels)
                )
        sessions.append(
            {
                "rule": rule.name,
                "pairs": rule_pairs,
                "iterations": iterations,
                "match_share": round(session_prior, 6),
                "estimated": [comparisons[k].name for k, new in zip(active, estimate, strict=True) if new],
            }
        )
    m_final = []
    for comparison in comparisons:
        m_c = anchored.get(comparison.name, _initial_m(len(comparison.labels)))
        m_c = _smoothed(m_c, u[comparison.name], settings.m_smoothing)
        m_final.append(
            _with_level_priors(m_c, u[comparison.name], comparison, level_pairs.get(comparison.name), settings)
        )
    codes, unlabelled, pos, neg = patterns.over_comparisons()
    u_all = [u[c.name] for c in comparisons]
    # With no candidate pair at all, EM kept its starting share; spread over all comparable pairs as for one
    # candidate, so a base without duplicates does not get a one-in-ten prior.
    candidates = max(height, 1)
    space = (comparable_pairs or candidates) / candidates
    prior = _candidate_match_share(codes, unlabelled, pos, neg, m_final, u_all, settings, space=space)
    candidate_prior = prior
    if comparable_pairs is not None and comparable_pairs > candidates:
        # u comes from random pairs, so the prior must be the match share among ALL comparable pairs, not among the
        # candidates: blocking already made agreement likely, and counting it again in the prior made every
        # namesake born the same day a near-certain match. Blocking misses (almost) no match, so the expected
        # number of matches is the same over candidates and over all pairs.
        prior = float(np.clip(prior * candidates / comparable_pairs, 1e-15, 1 - 1e-9))
    return ModelParameters(
        settings_name=settings.name,
        comparisons={
            c.name: ComparisonParameters(labels=list(c.labels), m=m_c.tolist(), u=u[c.name].tolist())
            for c, m_c in zip(comparisons, m_final, strict=True)
        },
        prior=prior,
        trained_pairs=height,
        em_sessions=sessions,
        candidate_prior=candidate_prior,
    )


def _candidate_match_share(
    codes: np.ndarray,
    unlabelled: np.ndarray,
    positives: np.ndarray,
    negatives: np.ndarray,
    m: list[np.ndarray],
    u: list[np.ndarray],
    settings: MatchSettings,
    *,
    space: float,
) -> float:
    """The share of candidate pairs that are one person, m and u held: the pairs the model itself calls matches
    (posterior >= 0.5 at the prior they imply over the ``space`` of all comparable pairs: a fixed point) over all
    candidates; reviewers' labels count as they say.

    EM's own estimate (the mean responsibility over the candidates, the starting point here) gave each of the many
    namesakes, brothers and neighbours blocking brings a sliver of probability at a candidate-level prior, and their
    number grows faster than the base: 0.026 duplicates per record at 100,000 people and 0.065 at 1,000,000 in one
    generated province, whose truth is 0.02 at both. Counted at the prior scoring uses, a pair is a match when its
    own evidence says so, whatever the size of the base.
    """
    total = float(unlabelled.sum() + positives.sum() + negatives.sum())
    _, share, _ = _em(
        codes,
        unlabelled,
        positives,
        negatives,
        m,
        u,
        0.1,
        estimate_m=False,
        iterations=settings.em_max_iterations * 3,
        tolerance=settings.em_tolerance / 10,
    )
    if not total > 0:
        return share
    log_bayes = np.zeros(codes.shape[0])
    for c, (m_c, u_c) in enumerate(zip(m, u, strict=True)):
        log_bayes += np.log(np.clip(m_c[codes[:, c]], _FLOOR, None)) - np.log(np.clip(u_c[codes[:, c]], _FLOOR, None))
    known = float(positives.sum())
    pairs = total * max(space, 1.0)
    prior = float(np.clip(share * total / pairs, 1e-15, 1 - 1e-9))
    for _ in range(200):
        called = known + float(unlabelled[log_bayes + math.log(prior / (1.0 - prior)) >= 0.0].sum())
        new_prior = float(np.clip(called / pairs, 1e-15, 1 - 1e-9))
        if new_prior == prior:
            break
        prior = new_prior
    return float(np.clip(prior * pairs / total, 1e-9, 1 - 1e-9))


def _with_level_priors(
    m: np.ndarray, u: np.ndarray, comparison: Comparison, pairs: np.ndarray | None, settings: MatchSettings
) -> np.ndarray:
    """m with the levels training could not estimate (fewer than ``min_level_pairs`` session pairs on them) set to
    their declared ``prior_weight``, or to the weight of the level they declare they imply (m = u * 2**weight), the
    other levels' m scaled to keep the sum."""
    codes = {level.label: code for code, level in enumerate(comparison.levels, start=1)}
    fixed: dict[int, float] = {}
    for code, level in enumerate(comparison.levels, start=1):
        if pairs is not None and pairs[code] >= settings.min_level_pairs:
            continue
        if level.prior_weight is not None:
            fixed[code] = level.prior_weight
        elif level.implies is not None:
            weaker = codes[level.implies]
            fixed[code] = math.log2(max(float(m[weaker]), _FLOOR) / max(float(u[weaker]), _FLOOR))
    if not fixed:
        return m
    result = m.astype(np.float64).copy()
    for code, weight in fixed.items():
        result[code] = u[code] * 2.0**weight
    free = np.array([code for code in range(1, len(result)) if code not in fixed], dtype=np.int64)
    held = float(sum(result[code] for code in fixed))
    if free.size and result[free].sum() > 0 and held < 1.0:
        result[free] *= (1.0 - held) / result[free].sum()
    result[0] = 1.0
    return result


def _smoothed(m: np.ndarray, u: np.ndarray, share: float) -> np.ndarray:
    """m mixed with ``share`` of u: a level EM saw (almost) no match on keeps a finite weight, no lower than
    log2(share), instead of the -20 bits a zero count gives, whatever the size of the base."""
    if share <= 0:
        return m
    mixed = m.astype(np.float64).copy()
    u_levels = np.asarray(u[1:], dtype=np.float64)
    mixed[1:] = (1.0 - share) * mixed[1:] + share * u_levels / u_levels.sum()
    mixed[0] = 1.0
    return mixed


def veto_caps(settings: MatchSettings) -> np.ndarray:
    """Highest match weight a pair may keep, by veto code (code 0: no veto, no cap)."""
    caps = [math.inf]
    caps += [math.log2(v.max_probability / (1.0 - v.max_probability)) for v in settings.vetoes]
    return np.asarray(caps, dtype=np.float64)


def score_levels(
    levels: pl.DataFrame, tf_values: pl.DataFrame, model: ModelParameters, settings: MatchSettings
) -> pl.DataFrame:
    """Per-comparison level labels and weights, total match weight and probability.

    Term-frequency adjustment: on a level with ``tf_column``, the generic u of the level is replaced by the
    frequency of the agreeing value in the base, so agreeing on a rare name weighs more than on a common one.
    """
    columns: list[pl.Series] = []
    total = np.full(levels.height, math.log2(model.prior / (1.0 - model.prior)))
    for comparison in settings.comparisons:
        params = model.comparisons[comparison.name]
        codes = levels.get_column(f"_lv_{comparison.name}").to_numpy().astype(np.int64)
        weights = params.weights()[codes]
        u = np.asarray(params.u)
        for code, level in enumerate(comparison.levels, start=1):
            if not level.tf_column:
                continue
            tf = tf_values.get_column(f"_tf_{level.tf_column}").to_numpy()
            on_level = (codes == code) & ~np.isnan(tf)
            if on_level.any():
                tf_floor = np.maximum(tf[on_level], settings.tf_minimum)
                weights[on_level] += np.log2(u[code] / tf_floor)
        total += weights
        labels = pl.Series(level_column(comparison.name), codes, dtype=pl.Int64).replace_strict(
            list(range(len(comparison.labels))), list(comparison.labels), return_dtype=pl.String
        )
        columns.append(labels)
        columns.append(pl.Series(weight_column(comparison.name), weights, dtype=pl.Float64))
    if settings.vetoes:
        codes = levels.get_column(VETO_CODE).to_numpy().astype(np.int64)
        # The veto is shown as one more line of the explanation: what it took off the sum of the weights.
        veto_weight = np.minimum(0.0, veto_caps(settings)[codes] - total)
        total = total + veto_weight
        columns.append(
            pl.Series(level_column(VETO_LEVEL), codes, dtype=pl.Int64).replace_strict(
                list(range(len(settings.veto_labels))), list(settings.veto_labels), return_dtype=pl.String
            )
        )
        columns.append(pl.Series(weight_column(VETO_LEVEL), veto_weight, dtype=pl.Float64))
    probability = 1.0 / (1.0 + np.exp2(-np.clip(total, -1000, 1000)))
    return pl.DataFrame(
        [
            pl.Series("match_weight", total, dtype=pl.Float64),
            pl.Series("match_probability", probability, dtype=pl.Float64),
            *columns,
        ]
    )


def decide(probability: pl.Expr, settings: MatchSettings) -> pl.Expr:
    """Decision band of a match probability."""
    thresholds = settings.thresholds
    return (
        pl.when(probability >= thresholds.match)
        .then(pl.lit("match"))
        .when(probability >= thresholds.review)
        .then(pl.lit("review"))
        .otherwise(pl.lit("non_match"))
    )


def normalize_labels(labels: pl.DataFrame | None) -> pl.DataFrame | None:
    """Labels keyed on the unordered pair (``_a`` <= ``_b``); the latest row wins when a pair was decided twice."""
    if labels is None or labels.height == 0:
        return None
    missing = [c for c in LABEL_SCHEMA if c not in labels.columns]
    if missing:
        raise ValueError(f"labels lack columns: {', '.join(missing)}")
    frame = labels.select(
        pl.col("left_id").cast(pl.String), pl.col("right_id").cast(pl.String), pl.col("same_person").cast(pl.Boolean)
    )
    return frame.select(
        pl.min_horizontal("left_id", "right_id").alias("_a"),
        pl.max_horizontal("left_id", "right_id").alias("_b"),
        pl.col("same_person").alias("_label"),
        pl.lit(True).alias("_reviewed"),
    ).unique(subset=["_a", "_b"], keep="last", maintain_order=True)
