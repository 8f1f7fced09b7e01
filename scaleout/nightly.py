"""The night's matching in three steps on Spark, as ``matchers.engine.nightly`` does it in process.

candidates → scored pairs → person clusters, with the same inputs and outputs (Spark DataFrames instead of Polars
frames). Extracts are linked by Spark joins against the base's blocks each night instead of the persisted base
index (the index is the embedded engine's way of not re-reading a base that fits one machine); the clusters of
each night are saved under the same state folder, so the two engines can take over from each other's nights.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from matchers.engine.blocking import BlockingReport
from matchers.engine.clustering import ClusterReport
from matchers.engine.nightly import CLUSTER_FOLDER, CandidateSummary, previous_clusters_path
from matchers.engine.settings import MatchSettings
from scaleout import blocking
from scaleout.clustering import person_clusters
from scaleout.frames import ROW, read_parquet, write_parquet
from scaleout.linker import (
    PreparedRecords,
    compare,
    estimate_u_on,
    prepare_records,
    train_and_score,
)

__all__ = ["cluster_night", "find_candidates", "night_records", "score_candidates"]

_NIGHT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CANDIDATE_COLUMNS = ("left_id", "right_id", "kind", "blocking_rule")


def _rule_names(settings: MatchSettings) -> F.Column:
    return F.array(*(F.lit(rule.name) for rule in settings.blocking_rules))


def _candidate_ids(
    pairs: DataFrame, left: PreparedRecords, right: PreparedRecords, settings: MatchSettings, kind: str
) -> DataFrame:
    """Row-number pairs as ``left_id, right_id, kind, blocking_rule`` (the stored shape between the steps)."""
    id_column = settings.id_column
    left_ids = left.frame.select(F.col(ROW).alias("_l"), F.col(id_column).alias("left_id"))
    right_ids = right.frame.select(F.col(ROW).alias("_r"), F.col(id_column).alias("right_id"))
    return (
        pairs.join(left_ids, "_l")
        .join(right_ids, "_r")
        .select(
            "left_id",
            "right_id",
            F.lit(kind).alias("kind"),
            F.element_at(_rule_names(settings), F.col("_rule") + 1).alias("blocking_rule"),
        )
    )


def find_candidates(
    base: DataFrame, extracts: DataFrame, settings: MatchSettings
) -> tuple[DataFrame, CandidateSummary]:
    """Candidate pairs ``left_id, right_id, kind, blocking_rule``: dedupe within the base, then extract → base."""
    records = prepare_records(base, settings, with_tf=False)
    blocks = records.guarded(settings)
    dedupe = blocking.dedupe_pairs(blocks).persist(StorageLevel.MEMORY_AND_DISK)
    frames = [_candidate_ids(dedupe, records, records, settings, "dedupe")]
    dedupe_report = blocking.report(dedupe, settings.blocking_rules, blocks.oversized)
    link_report = [BlockingReport(rule.name, 0, 0, 0) for rule in settings.blocking_rules]
    extract_records = prepare_records(extracts, settings, with_tf=False)
    if extract_records.height:
        linked = blocking.link_pairs(extract_records.entries(settings), blocks).persist(StorageLevel.MEMORY_AND_DISK)
        link_report = blocking.report(linked, settings.blocking_rules, blocks.oversized)
        frames.append(_candidate_ids(linked, extract_records, records, settings, "link"))
    candidates = frames[0] if len(frames) == 1 else frames[0].unionByName(frames[1])
    summary = CandidateSummary(dedupe=dedupe_report, link=link_report, index_rebuilt=False)
    return candidates.select(*(F.col(c).cast("string") for c in _CANDIDATE_COLUMNS)), summary


def _rows_of(
    candidates: DataFrame, left: PreparedRecords, right: PreparedRecords, settings: MatchSettings
) -> DataFrame:
    """Back from ids to row numbers (``_l, _r, _rule``); a candidate naming an unknown record is an error."""
    id_column = settings.id_column
    names = settings.blocking_rules
    index = F.create_map(*(item for i, rule in enumerate(names) for item in (F.lit(rule.name), F.lit(i))))
    joined = (
        candidates.select("left_id", "right_id", "blocking_rule")
        .join(left.frame.select(F.col(id_column).alias("left_id"), F.col(ROW).alias("_l")), "left_id", "left")
        .join(right.frame.select(F.col(id_column).alias("right_id"), F.col(ROW).alias("_r")), "right_id", "left")
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    if joined.where(F.col("_l").isNull() | F.col("_r").isNull()).limit(1).count():
        raise ValueError("candidate pairs refer to records that are not in the given record sets")
    return joined.select("_l", "_r", F.element_at(index, F.col("blocking_rule")).alias("_rule"))


def score_candidates(
    candidates: DataFrame,
    base: DataFrame,
    extracts: DataFrame,
    settings: MatchSettings,
    *,
    labels: pl.DataFrame | None = None,
) -> DataFrame:
    """Compare and score the stored candidates: the base's model trained on its pairs, tonight's link model on
    the link pairs (or the base's model with a refitted prior on a small night)."""
    records = prepare_records(base, settings, with_tf=True)
    dedupe_rows = _rows_of(candidates.where(F.col("kind") == "dedupe"), records, records, settings)
    compared = compare(dedupe_rows, records, records, settings, labels=labels)
    u = estimate_u_on(records, records, settings)
    dedupe_pairs, base_model = train_and_score(
        compared, records.height, records.height, settings, kind="dedupe", labels=labels, model=None, u=lambda: u
    )
    frames = [dedupe_pairs]
    link = candidates.where(F.col("kind") == "link")
    extract_records = prepare_records(extracts, settings, with_tf=False)
    if extract_records.height and link.limit(1).count():
        link_rows = _rows_of(link, extract_records, records, settings)
        link_compared = compare(link_rows, extract_records, records, settings, labels=labels)
        link_pairs, _ = train_and_score(
            link_compared,
            extract_records.height,
            records.height,
            settings,
            kind="link",
            labels=labels,
            model=None,
            u=lambda: u,
            fallback_model=base_model,
        )
        frames.append(link_pairs)
    return frames[0] if len(frames) == 1 else frames[0].unionByName(frames[1])


def night_records(base: DataFrame, extracts: DataFrame) -> DataFrame:
    """Base and extract records in one frame (their common columns), ``_row`` = position in the embedded engine's
    concatenation (base rows first)."""
    if not extracts.limit(1).count():
        return base
    columns = sorted((set(base.columns) & set(extracts.columns)) - {ROW})
    base_height = base.count()
    shifted = extracts.select(*columns, (F.col(ROW) + F.lit(base_height)).alias(ROW))
    return base.select(*columns, ROW).unionByName(shifted)


def cluster_night(
    base: DataFrame,
    extracts: DataFrame,
    pairs: DataFrame,
    settings: MatchSettings,
    state_dir: Path,
    night: str,
) -> tuple[DataFrame, ClusterReport]:
    """Person clusters of the night (``record_id, cluster_id, source, _row``), ids carried over from the latest
    earlier night; saved under the state folder for the next night."""
    if not _NIGHT.match(night):
        raise ValueError(f"night must be YYYY-MM-DD, not {night!r}")
    spark = base.sparkSession
    folder = state_dir / CLUSTER_FOLDER
    earlier = previous_clusters_path(folder, night)
    previous = read_parquet(spark, earlier) if earlier is not None else None
    clusters, report = person_clusters(night_records(base, extracts), pairs, settings, previous=previous)
    clusters = clusters.persist(StorageLevel.MEMORY_AND_DISK)
    write_parquet(clusters.select(ROW, "record_id", "cluster_id"), folder / f"{night}.parquet", order=[ROW], drop=[ROW])
    return clusters, report
