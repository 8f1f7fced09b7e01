"""The night's matching in three steps (candidates → scored pairs → person clusters), incremental across nights.

State (``state_dir``): the match index (``match_index``: prepared base records and sorted block keys, versioned by
night), the trained model (``match_model``), every scored base pair (``match_pairs``), the night's match edges
(``match_edges``) and the person clusters (``match_clusters``), each a version per night.

A night with a previous version of everything finds only what the night changed:
- *dirty* records: the base records new or changed tonight (``normalized_base``'s delta), plus every live member of a
  block whose guard flipped (its live size crossed the rule's ``max_block_size`` because records joined or left it);
- base pairs: all pairs touching a dirty record, found by looking its keys up in tonight's index (pairs among dirty
  records included); stored pairs touching a dirty or removed record are dropped, every other stored pair is
  unchanged (same records, same frozen model, same score);
- links: tonight's extracts against tonight's index;
- clusters: only the connected components (of tonight's match edges) that hold a record whose edges changed, a dirty
  or removed record, or an extract record of tonight or last night; every other cluster keeps its members and id.
A full night (first night, ``full=True``, a base rebuilt from scratch, other settings) computes the same from nothing.

Training is frozen between trainings: m, u, the prior and the term frequencies of the base dedupe are estimated on a
training night (the first night, ``retrain=True``, or other settings) and reused by every later night, full or
incremental, so both give the same scores. A night's link model is trained by EM on that night's link candidates, as
before (or the dedupe model with a re-estimated prior on a small night); it is deterministic given the index.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from matchers.engine.blocking import block_keys, dedupe_pair_batches, guard_keys
from matchers.engine.clustering import ClusterReport, person_clusters
from matchers.engine.index import (
    MODEL_FOLDER,
    IndexStore,
    IndexVersion,
    LiveIndex,
    TrainedModel,
    settings_fingerprint,
    term_frequency_tables,
)
from matchers.engine.linker import (
    FrameSource,
    compare_candidates,
    pair_columns,
    prepare_records,
    random_pair_levels,
    score_compared,
    train_and_score,
)
from matchers.engine.scoring import decide, estimate_u, normalize_labels, train_model
from matchers.engine.settings import MatchSettings
from records.progress import Progress, no_progress
from state.graph import connected_components
from state.tables import TableStore, TableVersion

__all__ = [
    "CLUSTER_TABLE",
    "EDGE_TABLE",
    "INDEX_FOLDER",
    "PAIR_TABLE",
    "CandidateSummary",
    "ClusterNight",
    "ScoredNight",
    "cluster_night",
    "collect_index_garbage",
    "find_candidates",
    "night_pairs",
    "repaired_pairs",
    "report_pairs",
    "score_candidates",
]

INDEX_FOLDER = "match_index"
PAIR_TABLE = "match_pairs"
EDGE_TABLE = "match_edges"
CLUSTER_TABLE = "match_clusters"
_CANDIDATE_COLUMNS = ("left_id", "right_id", "kind", "blocking_rule")
_CANDIDATE_SCHEMA = {c: pl.String for c in _CANDIDATE_COLUMNS}
_PAIR_KEY = "pair"


def _index_store(state_dir: Path, settings: MatchSettings) -> IndexStore:
    return IndexStore(state_dir / INDEX_FOLDER, settings)


def pair_store(state_dir: Path) -> TableStore:
    return TableStore(state_dir / PAIR_TABLE, ("left_id", "right_id"))


def edge_store(state_dir: Path) -> TableStore:
    return TableStore(state_dir / EDGE_TABLE, (_PAIR_KEY,))


def cluster_store(state_dir: Path) -> TableStore:
    return TableStore(state_dir / CLUSTER_TABLE, ("record_id",))


@dataclass(frozen=True, slots=True)
class CandidateSummary:
    """What tonight's blocking did: which path, how many dirty records and why, candidate pairs per rule."""

    full: bool
    training: bool
    dirty: int
    flipped_blocks: int
    pairs_per_rule: dict[str, dict[str, int]] = field(default_factory=dict)

    def per_rule(self) -> dict[str, dict[str, int]]:
        return self.pairs_per_rule


INDEX_CHUNK_ROWS = 250_000
"""Base rows a full night prepares and writes to the index at once (one segment each). Preparing is row by row, so
any chunking gives the same records; a whole 1,000,000-row base prepared at once took 3.4 GB of transient memory."""
LOAD_RECORDS_MAX_BYTES = 2_500_000_000
"""A night that compares most of the base reads the index's records into memory first (gathers from one frame are
faster than from many memory-mapped segments), up to this size; a larger base is read from the mapped files, whose
pages the kernel can drop, so a 10,000,000-record first night does not hold its records twice."""
SCORE_BATCH_PAIRS = 1_000_000
"""Base pairs scored and written to the pair store at once (scoring is row by row: any batch gives the same pairs)."""
COMPARE_BATCH_PAIRS = 250_000
"""Pairs compared at once: both sides of every pair of a batch stand side by side in memory (comparing is row by
row, so any batch gives the same levels); 1,320,697 pairs of a 1M first night at once took 1.9 GB."""


def _base_rows(base: TableVersion, chunk_rows: int) -> list[pl.LazyFrame]:
    scan = base.scan()
    return [scan.slice(start, chunk_rows) for start in range(0, max(base.rows, 1), chunk_rows)]


def _query_keys(live: LiveIndex, rows: np.ndarray) -> pl.DataFrame:
    settings = live.settings
    columns = sorted({c for rule in settings.blocking_rules for c in rule.columns})
    records = live.records.take(rows, columns)
    keys, _ = block_keys(records, settings.blocking_rules, guard=False)
    return keys


def _dedupe_candidates(live: LiveIndex, query_rows: np.ndarray, progress: Progress) -> pl.DataFrame:
    """Every base pair with a record of ``query_rows`` (global rows), ids ordered (left_id < right_id), each once."""
    settings = live.settings
    rule_names = [rule.name for rule in settings.blocking_rules]
    parts = []
    step = 400_000
    for start in range(0, query_rows.shape[0], step):
        rows = query_rows[start : start + step]
        pairs, _ = live.lookup(_query_keys(live, rows))
        left_rows = rows[pairs.get_column("_l").to_numpy().astype(np.int64)]
        right_rows = pairs.get_column("_r").to_numpy().astype(np.int64)
        keep = left_rows != right_rows
        left_ids = live.ids(left_rows[keep])
        right_ids = live.ids(right_rows[keep])
        rules = pairs.get_column("_rule").filter(pl.Series(keep))
        parts.append(
            pl.DataFrame(
                [
                    pl.select(pl.min_horizontal(left_ids.alias("a"), right_ids.alias("b")))
                    .to_series()
                    .alias("left_id"),
                    pl.select(pl.max_horizontal(left_ids.alias("a"), right_ids.alias("b")))
                    .to_series()
                    .alias("right_id"),
                    rules.cast(pl.Int64).alias("_rule"),
                ]
            )
        )
        progress("ghép cặp trong cơ sở / blocking the base", min(start + step, query_rows.shape[0]),
                 query_rows.shape[0])  # fmt: skip
    if not parts:
        return pl.DataFrame(schema=_CANDIDATE_SCHEMA)
    found = pl.concat(parts).unique(subset=["left_id", "right_id"], keep="first").sort("left_id", "right_id")
    return found.select(
        "left_id",
        "right_id",
        pl.lit("dedupe").alias("kind"),
        pl.col("_rule")
        .replace_strict(list(range(len(rule_names))), rule_names, return_dtype=pl.String)
        .alias("blocking_rule"),
    )


def _link_candidates(live: LiveIndex, extracts: pl.DataFrame) -> pl.DataFrame:
    settings = live.settings
    if extracts.height == 0:
        return pl.DataFrame(schema=_CANDIDATE_SCHEMA)
    records = prepare_records(extracts, settings, with_tf=False)
    keys, _ = block_keys(records, settings.blocking_rules, guard=False)
    pairs, _ = live.lookup(keys)
    rule_names = [rule.name for rule in settings.blocking_rules]
    left_ids = records.get_column(settings.id_column).cast(pl.String).gather(pairs.get_column("_l"))
    return pl.DataFrame(
        [
            left_ids.alias("left_id"),
            live.ids(pairs.get_column("_r").to_numpy()).alias("right_id"),
            pl.Series("kind", ["link"] * pairs.height, dtype=pl.String),
            pairs.get_column("_rule")
            .cast(pl.Int64)
            .replace_strict(list(range(len(rule_names))), rule_names, return_dtype=pl.String)
            .alias("blocking_rule"),
        ]
    ).sort("left_id", "right_id")


def _flipped_members(previous: LiveIndex, live: LiveIndex, added_rows: np.ndarray, removed_ids: pl.Series
                     ) -> tuple[pl.Series, int]:  # fmt: skip
    """Ids of the live records in blocks whose guard flipped tonight, and how many blocks flipped."""
    settings = live.settings
    touched = [_query_keys(live, added_rows)]
    old_rows = previous.live_rows_of(removed_ids).get_column("_row").to_numpy()
    if old_rows.shape[0]:
        touched.append(_query_keys(previous, old_rows))
    keys = pl.concat(touched)
    members: list[pl.Series] = []
    flipped = 0
    for i, rule in enumerate(settings.blocking_rules):
        candidates = keys.get_column(f"key_{i}").drop_nulls().unique().sort().to_numpy().astype(np.uint64)
        if candidates.shape[0] == 0:
            continue
        before = previous.live_counts(i, candidates) > rule.max_block_size
        after = live.live_counts(i, candidates) > rule.max_block_size
        changed = candidates[before != after]
        if changed.shape[0] == 0:
            continue
        flipped += int(changed.shape[0])
        _, rows = live._rule_lookup(i, changed)
        members.append(live.ids(rows))
    ids = pl.concat(members).unique() if members else pl.Series([], dtype=pl.String)
    return ids, flipped


def _usable_previous(store: IndexStore, base: TableVersion) -> IndexVersion | None:
    """The index version to update tonight: the one built from the base version tonight's base builds on."""
    if base.full:
        return None
    previous = store.latest(before=base.night)
    if previous is None or previous.meta.get("base") != base.meta.get("previous"):
        return None
    return previous


def _training_model(base: TableVersion, settings: MatchSettings, night: str) -> TrainedModel:
    tf, known = term_frequency_tables(base.scan(list(settings.tf_columns)), settings)
    return TrainedModel(night=night, model=None, u={}, tf=tf, known=known)


def find_candidates(
    base: TableVersion,
    extracts: pl.DataFrame,
    settings: MatchSettings,
    state_dir: Path,
    *,
    full: bool = False,
    retrain: bool = False,
    progress: Progress = no_progress,
) -> tuple[pl.DataFrame, CandidateSummary]:
    """Update the index to tonight's base version and return tonight's candidate pairs (``left_id, right_id, kind,
    blocking_rule``): base pairs touching a dirty record (all base pairs on a full night) and extract → base links."""
    night = base.night
    store = _index_store(state_dir, settings)
    previous = None if full or retrain else _usable_previous(store, base)
    model_folder = None
    if previous is not None and not retrain:
        model_folder = previous.model_folder
    elif not retrain:
        model_folder = _latest_model(state_dir, night, settings)
    training = model_folder is None
    if training:
        stub = _training_model(base, settings, night)
        model_folder = store.save_model_parts(stub)
    assert model_folder is not None
    meta: dict[str, Any] = {"base": night, "base_rows": base.rows}
    if previous is None:
        # Written a chunk at a time and read back from the index (memory-mapped): the prepared base is never held
        # whole (at 10,000,000 records it would not fit beside its pairs).
        chunks = (lazy.collect() for lazy in _base_rows(base, INDEX_CHUNK_ROWS))
        version = store.commit(night, base=None, added=chunks, removed=pl.Series([], dtype=pl.String),
                               model_folder=model_folder, meta=meta)  # fmt: skip
        live = version.open(settings)
        if training:
            if live.records.nbytes <= LOAD_RECORDS_MAX_BYTES:
                live.records.load()  # the random pairs touch rows all over the base
            u = estimate_u(random_pair_levels(live.records, live.records, settings, same_source=True), settings)
            store.save_u(model_folder, u)
        store.save_dirty(version, pl.Series([], dtype=pl.String))
        dedupe = _all_base_pairs(live, progress)
        link = _link_candidates(live, extracts)
        return _candidates_result(dedupe, link, settings, full=True, training=training, dirty=live.records.height,
                                  flipped=0)  # fmt: skip
    else:
        added = base.added().collect()
        removed = base.removed_ids()
        version = store.commit(night, base=previous, added=[added], removed=removed, model_folder=model_folder,
                               meta=meta)  # fmt: skip
        live = version.open(settings)
        before = previous.open(settings)
        added_rows = live.live_rows_of(added.get_column(settings.id_column)).get_column("_row").to_numpy()
        members, flipped = _flipped_members(before, live, added_rows, removed)
        dirty_ids = pl.concat([added.get_column(settings.id_column).cast(pl.String), members]).unique()
        query = live.live_rows_of(dirty_ids).get_column("_row").to_numpy()
        dirty = pl.concat([dirty_ids, removed.cast(pl.String)]).unique().sort()
    store.save_dirty(version, dirty)
    dedupe = _dedupe_candidates(live, query, progress)
    link = _link_candidates(live, extracts)
    return _candidates_result(dedupe, link, settings, full=False, training=training, dirty=int(query.shape[0]),
                              flipped=flipped)  # fmt: skip


def _all_base_pairs(live: LiveIndex, progress: Progress) -> pl.DataFrame:
    """Every base pair of a full night, by a self-join per rule (the same pairs as looking every record up), on the
    block keys the index stored: the records themselves are not read, only their keys and ids."""
    settings = live.settings
    total = live.records.stored_rows
    progress("ghép cặp trong cơ sở / blocking the base", 0, total)
    guarded = guard_keys(live.stored_keys(), settings.blocking_rules)
    batches = [
        pairs.with_columns(pl.lit(rule, dtype=pl.Int8).alias("_rule"))
        for rule, pairs in dedupe_pair_batches(guarded.keys, batch_pairs=2_000_000, expected_pairs=guarded.pairs)
    ]
    del guarded
    found = pl.concat(batches) if batches else pl.DataFrame(schema={"_l": pl.UInt32, "_r": pl.UInt32, "_rule": pl.Int8})
    del batches
    ids = live.all_ids()
    left_ids = ids.gather(found.get_column("_l"))
    right_ids = ids.gather(found.get_column("_r"))
    rule_names = [rule.name for rule in settings.blocking_rules]
    progress("ghép cặp trong cơ sở / blocking the base", total, total)
    return (
        pl.DataFrame([left_ids.alias("a"), right_ids.alias("b"), found.get_column("_rule").cast(pl.Int64)])
        .select(
            pl.min_horizontal("a", "b").alias("left_id"),
            pl.max_horizontal("a", "b").alias("right_id"),
            pl.lit("dedupe").alias("kind"),
            pl.col("_rule")
            .replace_strict(list(range(len(rule_names))), rule_names, return_dtype=pl.String)
            .alias("blocking_rule"),
        )
        .sort("left_id", "right_id")
    )


def _candidates_result(dedupe: pl.DataFrame, link: pl.DataFrame, settings: MatchSettings, *, full: bool,
                       training: bool, dirty: int, flipped: int) -> tuple[pl.DataFrame, CandidateSummary]:  # fmt: skip
    candidates = pl.concat([dedupe, link]).select(pl.col(c).cast(pl.String) for c in _CANDIDATE_COLUMNS)
    counts = candidates.group_by("blocking_rule", "kind").len()
    per_rule = {
        rule.name: {
            kind: int(counts.filter((pl.col("blocking_rule") == rule.name) & (pl.col("kind") == kind))["len"].sum())
            for kind in ("dedupe", "link")
        }
        for rule in settings.blocking_rules
    }
    summary = CandidateSummary(
        full=full, training=training, dirty=dirty, flipped_blocks=flipped, pairs_per_rule=per_rule
    )
    return candidates, summary


def _latest_model(state_dir: Path, night: str, settings: MatchSettings) -> str | None:
    """The newest trained model (before ``night``) for these settings."""
    folder = state_dir / MODEL_FOLDER
    fingerprint = settings_fingerprint(settings)
    found = sorted(
        (p for p in folder.glob("model-????-??-??*") if p.name[6:16] < night and (p / "model.json").exists()),
        key=lambda p: p.name,
    ) if folder.is_dir() else []  # fmt: skip
    for path in reversed(found):
        if TrainedModel.fingerprint_of(path) == fingerprint:
            return path.name
    return None


@dataclass(frozen=True)
class ScoredNight:
    """Tonight's pairs for the rest of the night (links, and base pairs at match or review), and the pair store."""

    pairs: pl.DataFrame
    store: TableVersion
    trained: bool


def _apply_labels(pairs: pl.DataFrame, labels: pl.DataFrame | None, settings: MatchSettings) -> pl.DataFrame:
    """Decisions from the probability, or from the reviewer where a pair was reviewed (the latest decision wins)."""
    normalized = normalize_labels(labels) if pairs.height else None
    return _decided(pairs.lazy(), normalized, settings).collect()


def _decided(pairs: pl.LazyFrame, normalized: pl.DataFrame | None, settings: MatchSettings) -> pl.LazyFrame:
    """``_apply_labels`` on a lazy frame, with the labels already normalized (``normalize_labels``)."""
    model = decide(pl.col("match_probability"), settings)
    if normalized is None:
        return pairs.with_columns(model.alias("decision"), pl.lit("model").alias("decision_source"))
    keyed = pairs.with_columns(
        pl.min_horizontal("left_id", "right_id").alias("_a"), pl.max_horizontal("left_id", "right_id").alias("_b")
    ).join(normalized.lazy(), on=["_a", "_b"], how="left", maintain_order="left")
    reviewed = pl.col("_reviewed").fill_null(False)
    return keyed.with_columns(
        pl.when(reviewed)
        .then(pl.when(pl.col("_label").fill_null(False)).then(pl.lit("match")).otherwise(pl.lit("non_match")))
        .otherwise(model)
        .alias("decision"),
        pl.when(reviewed).then(pl.lit("label")).otherwise(pl.lit("model")).alias("decision_source"),
    ).drop("_a", "_b", "_label", "_reviewed")


def night_pairs(
    store: TableVersion, labels: pl.DataFrame | None, settings: MatchSettings, *, everything: bool = False
) -> pl.DataFrame:
    """The stored base pairs with tonight's decisions: those at match or review (all of them with ``everything``)."""
    columns = pair_columns(settings)
    if everything:
        pairs = store.read()
    else:
        above = store.scan().filter(pl.col("match_probability") >= settings.thresholds.review).collect()
        normalized = normalize_labels(labels)
        if normalized is not None:
            reviewed = (
                store.scan()
                .with_columns(
                    pl.min_horizontal("left_id", "right_id").alias("_a"),
                    pl.max_horizontal("left_id", "right_id").alias("_b"),
                )
                .join(normalized.lazy(), on=["_a", "_b"], how="semi")
                .drop("_a", "_b")
                .collect()
            )
            above = pl.concat([above, reviewed]).unique(subset=["left_id", "right_id"], keep="first")
        pairs = above
    decided = _apply_labels(pairs, labels, settings).select(columns)
    if not everything:
        decided = decided.filter(pl.col("decision") != "non_match")
    return decided.sort("left_id", "right_id")


def score_candidates(
    candidates: pl.DataFrame,
    extracts: pl.DataFrame,
    settings: MatchSettings,
    state_dir: Path,
    night: str,
    *,
    labels: pl.DataFrame | None = None,
    progress: Progress = no_progress,
) -> ScoredNight:
    """Compare and score tonight's candidates; store the base pairs; return links + base pairs at match/review.

    On a training night the base model is trained here by EM on all base pairs and saved for the nights after.
    """
    store = _index_store(state_dir, settings)
    version = store.version(night)
    live = version.open(settings)
    dedupe = candidates.filter(pl.col("kind") == "dedupe")
    if not _sorted_pairs(dedupe):
        dedupe = dedupe.sort("left_id", "right_id")
    ids = pl.concat([dedupe.get_column("left_id"), dedupe.get_column("right_id")]).unique()
    rows = live.live_rows_of(ids)
    rule_index = {rule.name: i for i, rule in enumerate(settings.blocking_rules)}
    located = (
        dedupe.join(
            rows.rename({"record_id": "left_id", "_row": "_l"}), on="left_id", how="left", maintain_order="left"
        )
        .join(rows.rename({"record_id": "right_id", "_row": "_r"}), on="right_id", how="left", maintain_order="left")
        .select(
            pl.col("_l").cast(pl.UInt32),
            pl.col("_r").cast(pl.UInt32),
            pl.col("blocking_rule").replace_strict(rule_index, return_dtype=pl.Int8).alias("_rule"),
        )
    )
    if located.height > live.records.stored_rows // 4 and live.records.nbytes <= LOAD_RECORDS_MAX_BYTES:
        live.records.load()
    progress("so sánh cặp trong cơ sở / comparing base pairs", 0, located.height)
    compared = compare_candidates(located, live.records, live.records, settings, batch_pairs=COMPARE_BATCH_PAIRS)
    progress("so sánh cặp trong cơ sở / comparing base pairs", located.height, located.height)
    trained_folder = state_dir / MODEL_FOLDER / version.model_folder
    training = not (trained_folder / "model.json").exists()
    if training:
        parts = TrainedModel.load(trained_folder)
        agreements = compared.select(pl.col(f"_agree_{i}") for i in range(len(settings.blocking_rules)))
        label_values = None
        normalized = normalize_labels(labels)
        if normalized is not None:
            keyed = pl.DataFrame({"l": live.ids(located.get_column("_l").to_numpy()),
                                  "r": live.ids(located.get_column("_r").to_numpy())})  # fmt: skip
            label_values = (
                keyed.select(pl.min_horizontal("l", "r").alias("_a"), pl.max_horizontal("l", "r").alias("_b"))
                .join(normalized.drop("_reviewed"), on=["_a", "_b"], how="left", maintain_order="left")
                .get_column("_label")
            )
        n = live.records.height
        model = train_model(compared, agreements, parts.u, settings, label_values=label_values,
                            comparable_pairs=n * (n - 1) // 2)  # fmt: skip
        store.save_trained(version.model_folder, model)
    del located
    trained = version.model()
    scoring_model = trained.scoring_model()

    def scored_batches() -> Iterator[pl.DataFrame]:
        # Scored and written a batch at a time, in pair order (the candidates are): at 10,000,000 records the ~13M
        # scored pairs with their per-comparison explanations would take several GB held whole.
        for start in range(0, max(compared.height, 1), SCORE_BATCH_PAIRS):
            yield score_compared(
                compared.slice(start, SCORE_BATCH_PAIRS),
                scoring_model,
                settings,
                left_source=live.records,
                right_source=live.records,
                kind="dedupe",
                # Stored with the model's decision: reviewers' labels are applied when the pairs are read
                # (``night_pairs``), so a label given after a pair was scored counts the same as one given before.
                labels=None,
            )

    previous_store = _consistent_previous(pair_store(state_dir), version)
    pairs_version = pair_store(state_dir).commit(
        night,
        base=previous_store,
        added=scored_batches(),
        removed=store.dirty(version) if previous_store is not None else pl.Series([], dtype=pl.String),
        meta={"index": night},
    )
    frames = [night_pairs(pairs_version, labels, settings)]
    link = candidates.filter(pl.col("kind") == "link")
    if extracts.height and link.height:
        extract_records = prepare_records(extracts, settings, with_tf=False)
        extract_source = FrameSource(extract_records)
        extract_rows = pl.DataFrame({"left_id": extract_records.get_column(settings.id_column).cast(pl.String)})
        link_rows = link.join(extract_rows.with_row_index("_l"), on="left_id", how="left", maintain_order="left")
        base_rows = live.live_rows_of(link.get_column("right_id").unique())
        link_rows = link_rows.join(base_rows.rename({"record_id": "right_id", "_row": "_r"}), on="right_id",
                                   how="left", maintain_order="left").select(
            pl.col("_l").cast(pl.UInt32), pl.col("_r").cast(pl.UInt32),
            pl.col("blocking_rule").replace_strict(rule_index, return_dtype=pl.Int8).alias("_rule"),
        )  # fmt: skip
        progress("so sánh cặp trích xuất / comparing extract pairs", 0, link_rows.height)
        compared_link = compare_candidates(
            link_rows, extract_source, live.records, settings, batch_pairs=COMPARE_BATCH_PAIRS
        )
        link_pairs, _ = train_and_score(
            compared_link,
            extract_source,
            live.records,
            settings,
            kind="link",
            labels=labels,
            model=None,
            u=lambda: trained.u,
            fallback_model=trained.scoring_model(),
        )
        progress("so sánh cặp trích xuất / comparing extract pairs", link_rows.height, link_rows.height)
        frames.append(link_pairs.select(pair_columns(settings)).sort("left_id", "right_id"))
    pairs = pl.concat(frames)
    return ScoredNight(pairs=pairs, store=pairs_version, trained=training)


def _sorted_pairs(pairs: pl.DataFrame) -> bool:
    """Whether the pairs are in ``left_id, right_id`` order (what the candidates come in)."""
    if pairs.height < 2:
        return True
    left, right = pl.col("left_id"), pl.col("right_id")
    in_order = (left > left.shift(1)) | ((left == left.shift(1)) & (right >= right.shift(1)))
    return bool(pairs.select(in_order.slice(1).all()).item())


def _consistent_previous(table: TableStore, index: IndexVersion) -> TableVersion | None:
    """The previous version of a table derived from the index, when tonight's index was updated from the index it was
    derived from (else the table is rebuilt from nothing)."""
    previous_index = index.meta.get("previous")
    if not previous_index:
        return None
    found = table.latest(before=index.night)
    if found is None or found.night != previous_index or found.meta.get("index") != previous_index:
        return None
    return found


@dataclass(frozen=True)
class ClusterNight:
    """Tonight's clusters (a table version), the clustering report and the merges and splits of person keys."""

    clusters: TableVersion
    report: ClusterReport
    changes: pl.DataFrame
    touched: pl.DataFrame
    """``record_id, cluster_id, source`` of every record whose cluster was recomputed tonight."""

    @property
    def rows(self) -> int:
        return self.clusters.rows

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.clusters.save(folder)
        self.touched.write_parquet(folder / "touched.parquet")
        self.changes.write_parquet(folder / "changes.parquet")
        (folder / "report.json").write_text(json.dumps(self.report.as_dict()), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> ClusterNight:
        return cls(
            clusters=TableVersion.load(folder),
            report=ClusterReport(**json.loads((folder / "report.json").read_text("utf-8"))),
            changes=pl.read_parquet(folder / "changes.parquet"),
            touched=pl.read_parquet(folder / "touched.parquet"),
        )

    def frame(self) -> pl.DataFrame:
        """``record_id, cluster_id, source`` of every record of the night."""
        return self.clusters.read(["record_id", "cluster_id", "source"])

    def changed_rows(self, columns: list[str] | None = None) -> pl.DataFrame:
        """The records clustered again tonight (``record_id, cluster_id, source``)."""
        return (
            self.touched if columns is None else self.touched.select([c for c in columns if c in self.touched.columns])
        )


CHANGE_SCHEMA = pl.Schema(
    [("kind", pl.String()), ("person_key", pl.String()), ("other_keys", pl.List(pl.String())), ("records", pl.UInt32())]
)


def _cluster_changes(touched: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """Merges (one person key now holding base records of several previous keys) and splits (one previous key's
    base records now under several keys), from the base records of the recomputed clusters."""
    base = touched.filter(pl.col("source") == "base").join(
        previous.select("record_id", pl.col("cluster_id").alias("_before")), on="record_id", how="inner"
    )
    merges = (
        base.group_by("cluster_id")
        .agg(pl.col("_before").unique().sort().alias("other_keys"), pl.len().cast(pl.UInt32).alias("records"))
        .filter(pl.col("other_keys").list.len() > 1)
        .select(pl.lit("merge").alias("kind"), pl.col("cluster_id").alias("person_key"), "other_keys", "records")
    )
    splits = (
        base.group_by("_before")
        .agg(pl.col("cluster_id").unique().sort().alias("other_keys"), pl.len().cast(pl.UInt32).alias("records"))
        .filter(pl.col("other_keys").list.len() > 1)
        .select(pl.lit("split").alias("kind"), pl.col("_before").alias("person_key"), "other_keys", "records")
    )
    return pl.concat([merges, splits]).sort("kind", "person_key").match_to_schema(CHANGE_SCHEMA)


def _conflict_columns(settings: MatchSettings) -> list[str]:
    return list(dict.fromkeys(c for rule in settings.conflicts for c in rule.columns))


def _cluster_columns(settings: MatchSettings) -> list[str]:
    return [settings.id_column, "source", *_conflict_columns(settings)]


def _records_for_clustering(base: TableVersion, extracts: pl.DataFrame, settings: MatchSettings,
                            ids: pl.Series | None) -> pl.DataFrame:  # fmt: skip
    """id, source and the conflict columns (derived when needed) of base records (those ``ids``) and extracts."""
    conflict = set(_conflict_columns(settings))
    derived = [e for e in settings.derived if e.meta.output_name() in conflict]
    schema = base.scan().collect_schema()
    needed = sorted({c for e in derived for c in e.meta.root_names()} | {"record_id", "source"}
                    | {c for c in conflict if c in schema})  # fmt: skip
    base_rows = base.read(needed) if ids is None else base.lookup(ids, needed)
    frames = [base_rows]
    if extracts.height:
        frames.append(extracts.select([c for c in needed if c in extracts.columns]))
    records = pl.concat(frames, how="diagonal_relaxed")
    if derived:
        records = records.with_columns(derived)
    return records.select(_cluster_columns(settings))


def _match_edges(pairs: pl.DataFrame) -> pl.DataFrame:
    return (
        pairs.filter(pl.col("decision") == "match")
        .select("left_id", "right_id", "match_weight", "match_probability", "decision", "kind")
        .with_columns((pl.col("left_id") + "\x1f" + pl.col("right_id")).alias(_PAIR_KEY))
    )


_VETOED = pl.col("level_veto").is_not_null() & (pl.col("level_veto") != "none")


def _vetoes(pairs: pl.DataFrame, state_dir: Path, night: str) -> pl.DataFrame:
    """Pairs a veto declared two different people (``level_veto``): every stored base pair and tonight's links.
    Clustering keeps them apart, whatever their decision."""
    columns = ["left_id", "right_id", "level_veto", "decision"]
    parts = []
    if "level_veto" in pairs.columns:
        parts.append(pairs.filter((pl.col("kind") == "link") & _VETOED).select(columns))
    store = pair_store(state_dir)
    if night in store.nights():
        version = store.version(night)
        if "level_veto" in version.scan().collect_schema():
            parts.append(version.scan(columns).filter(_VETOED).collect())
    if not parts:
        return pl.DataFrame(schema={"left_id": pl.String, "right_id": pl.String, "level_veto": pl.String,
                                    "decision": pl.String})  # fmt: skip
    return pl.concat(parts).unique(["left_id", "right_id"], keep="first").sort("left_id", "right_id")


def _clustering_pairs(edges: pl.DataFrame, vetoes: pl.DataFrame) -> pl.DataFrame:
    """Match edges and vetoed pairs, as ``person_clusters`` reads them."""
    return pl.concat([edges.drop(_PAIR_KEY), vetoes.filter(pl.col("decision") != "match")], how="diagonal_relaxed")


def cluster_night(
    base: TableVersion,
    extracts: pl.DataFrame,
    pairs: pl.DataFrame,
    settings: MatchSettings,
    state_dir: Path,
    night: str,
    *,
    progress: Progress = no_progress,
) -> ClusterNight:
    """Person clusters of tonight (base records and tonight's extract records), ids stable across nights.

    ``pairs``: tonight's pairs as ``score_candidates`` returns them (links, base pairs at match or review).
    """
    index = _index_store(state_dir, settings).version(night)
    edges = _match_edges(pairs)
    base_edges = edges.filter(pl.col("kind") == "dedupe").select(_PAIR_KEY, "left_id", "right_id").sort(_PAIR_KEY)
    edges_previous = _consistent_previous(edge_store(state_dir), index)
    clusters_previous = _consistent_previous(cluster_store(state_dir), index)
    full = edges_previous is None or clusters_previous is None
    extract_ids = extracts.get_column(settings.id_column).cast(pl.String) if extracts.height else pl.Series([],
        dtype=pl.String)  # fmt: skip
    progress("gom cụm người / clustering persons", 0, None)
    if full:
        edge_store(state_dir).commit(night, base=None, added=base_edges, meta={"index": night})
        previous_frame = cluster_store(state_dir).latest(before=night)
        previous = previous_frame.read(["record_id", "cluster_id"]) if previous_frame is not None else None
        records = _records_for_clustering(base, extracts, settings, None)
        clustering = _clustering_pairs(edges, _vetoes(pairs, state_dir, night))
        clusters, report = person_clusters(records, clustering, settings, previous=previous)
        version = cluster_store(state_dir).commit(night, base=None, added=clusters, meta={"index": night})
        changes = _cluster_changes(clusters, previous) if previous is not None else pl.DataFrame(schema=CHANGE_SCHEMA)
        progress("gom cụm người / clustering persons", clusters.height, clusters.height)
        return ClusterNight(clusters=version, report=report, changes=changes, touched=clusters)
    assert edges_previous is not None and clusters_previous is not None
    before = edges_previous.read([_PAIR_KEY, "left_id", "right_id"])
    gone_edges = before.join(base_edges, on=_PAIR_KEY, how="anti")
    new_edges = base_edges.join(before, on=_PAIR_KEY, how="anti")
    edge_store(state_dir).commit(
        night, base=edges_previous, added=new_edges, removed=gone_edges.get_column(_PAIR_KEY), meta={"index": night}
    )
    last_extracts = (
        clusters_previous.scan(["record_id", "source"]).filter(pl.col("source") != "base").select("record_id").collect()
    ).get_column("record_id")
    dirty = _index_store(state_dir, settings).dirty(index)
    seeds = pl.concat(
        [
            dirty,
            extract_ids,
            last_extracts,
            gone_edges.get_column("left_id"),
            gone_edges.get_column("right_id"),
            new_edges.get_column("left_id"),
            new_edges.get_column("right_id"),
        ]
    ).unique()
    # Components of tonight's match graph that hold a seed: only they can cluster differently from last night.
    nodes = pl.concat([edges.get_column("left_id"), edges.get_column("right_id"), seeds]).unique().sort()
    node_index = pl.DataFrame({"record_id": nodes}).with_row_index("_n")
    located = edges.join(node_index.rename({"record_id": "left_id", "_n": "_a"}), on="left_id").join(
        node_index.rename({"record_id": "right_id", "_n": "_b"}), on="right_id"
    )
    labels = connected_components(
        located.get_column("_a").to_numpy().astype(np.int64),
        located.get_column("_b").to_numpy().astype(np.int64),
        nodes.len(),
    )
    seed_nodes = node_index.join(seeds.to_frame("record_id"), on="record_id", how="semi").get_column("_n").to_numpy()
    touched_labels = np.unique(labels[seed_nodes])
    in_touched = np.isin(labels, touched_labels)
    touched_ids = nodes.filter(pl.Series(in_touched))
    # Ids of records gone tonight: removed from the base (not merely replaced by a changed row), last night's extracts.
    replaced = base.added(["record_id"]).collect().get_column("record_id")
    gone_base = (
        base.removed_ids()
        .cast(pl.String)
        .to_frame("record_id")
        .join(replaced.to_frame("record_id"), on="record_id", how="anti")
    )
    removed = pl.concat([gone_base.get_column("record_id"), last_extracts]).unique()
    live_base_ids = touched_ids.to_frame("record_id").join(removed.to_frame("record_id"), on="record_id", how="anti")
    records = _records_for_clustering(base, extracts, settings, live_base_ids.get_column("record_id"))
    records = records.join(extract_ids.to_frame("record_id"), on="record_id", how="anti").pipe(
        lambda b: pl.concat([b, records.join(extract_ids.to_frame("record_id"), on="record_id", how="semi")])
    )
    inside = edges.filter(pl.col("left_id").is_in(touched_ids.implode()) & pl.col("right_id").is_in(
        touched_ids.implode()))  # fmt: skip
    previous = clusters_previous.lookup(records.get_column("record_id"), ["record_id", "cluster_id"])
    vetoes = _vetoes(pairs, state_dir, night).filter(
        pl.col("left_id").is_in(touched_ids.implode()) & pl.col("right_id").is_in(touched_ids.implode())
    )
    clusters, report = person_clusters(records, _clustering_pairs(inside, vetoes), settings, previous=previous)
    fresh = clusters.join(previous, on=["record_id", "cluster_id"], how="anti").get_column("cluster_id").unique()
    clash = (
        clusters_previous.scan(["record_id", "cluster_id"])
        .filter(pl.col("cluster_id").is_in(fresh.implode()))
        .join(records.select("record_id").lazy(), on="record_id", how="anti")
        .select(pl.len())
        .collect()
        .item()
    )
    if clash:
        # A fresh id met the id of a cluster outside tonight's components (a 64-bit hash collision): recompute
        # every cluster, which salts the fresh id against all previous ones.
        return _full_clusters(base, extracts, pairs, edges, settings, state_dir, night, clusters_previous)
    unchanged = clusters.join(previous, on=["record_id", "cluster_id"], how="semi")
    written = clusters.join(unchanged.select("record_id"), on="record_id", how="anti")
    gone = removed.to_frame("record_id").join(clusters.select("record_id"), on="record_id", how="anti")
    version = cluster_store(state_dir).commit(
        night,
        base=clusters_previous,
        added=written.sort("record_id"),
        removed=gone.get_column("record_id"),
        meta={"index": night},
    )
    changes = _cluster_changes(clusters, previous)
    progress("gom cụm người / clustering persons", clusters.height, clusters.height)
    return ClusterNight(clusters=version, report=report, changes=changes, touched=clusters)


def _full_clusters(base: TableVersion, extracts: pl.DataFrame, pairs: pl.DataFrame, edges: pl.DataFrame,
                   settings: MatchSettings, state_dir: Path, night: str, clusters_previous: TableVersion
                   ) -> ClusterNight:  # fmt: skip
    previous = clusters_previous.read(["record_id", "cluster_id"])
    records = _records_for_clustering(base, extracts, settings, None)
    clustering = _clustering_pairs(edges, _vetoes(pairs, state_dir, night))
    clusters, report = person_clusters(records, clustering, settings, previous=previous)
    version = cluster_store(state_dir).commit(night, base=None, added=clusters, meta={"index": night})
    return ClusterNight(clusters=version, report=report, changes=_cluster_changes(clusters, previous),
                        touched=clusters)  # fmt: skip


def report_pairs(
    pairs: pl.DataFrame, state_dir: Path, night: str, labels: pl.DataFrame | None, settings: MatchSettings
) -> pl.DataFrame:
    """What the match report counts: every stored base pair (decision after tonight's labels; kind, probability,
    rule) and tonight's pairs in full (links, and base pairs at review, which the report shows side by side)."""
    store = pair_store(state_dir)
    if night not in store.nights():  # no stored base pairs (a night run without the match stage)
        return pairs
    version = store.version(night)
    summary = ["left_id", "right_id", "match_probability", "kind", "blocking_rule"]
    shown = pairs.filter((pl.col("kind") == "link") | (pl.col("decision") == "review"))
    # One lazy query over the stored pairs (streamed): at 10,000,000 records the ~13M base pairs read whole, given
    # their decisions and joined away from the shown pairs step by step were several copies of every pair's ids.
    rest = _decided(
        version.scan(summary).join(shown.select("left_id", "right_id").lazy(), on=["left_id", "right_id"],
                                   how="anti", maintain_order="left"),
        normalize_labels(labels),
        settings,
    ).collect(engine="streaming")  # fmt: skip
    return pl.concat([shown, rest], how="diagonal_relaxed")


def repaired_pairs(state_dir: Path, night: str, settings: MatchSettings) -> pl.Series:
    """Records whose base pairs were scored again tonight (dirty and removed records); every base record on a
    full night is reported as None by ``CandidateSummary.full`` instead."""
    store = _index_store(state_dir, settings)
    if night not in store.nights():  # a night run without the match stage
        return pl.Series("id", [], dtype=pl.String)
    return store.dirty(store.version(night))


def collect_index_garbage(state_dir: Path, settings: MatchSettings) -> None:
    """Delete index segments and models that no kept index version refers to (after retention dropped some)."""
    _index_store(state_dir, settings).collect_garbage()
