"""The night's matching in three steps (candidates → scored pairs → person clusters), as the pipeline runs it.

Base duplicates are found in memory; extracts are linked against the persisted base index, which is rebuilt only
when the base snapshot or the settings change. Cluster ids are kept per night under the state folder so a rerun of
a night gives the same ids, and each night starts from the latest earlier night's ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from matchers.engine.blocking import BlockingReport
from matchers.engine.clustering import ClusterReport, person_clusters
from matchers.engine.index import BaseIndex
from matchers.engine.linker import (
    Candidates,
    FrameSource,
    candidate_ids,
    compare_candidates,
    dedupe_candidates,
    pair_columns,
    prepare_records,
    random_pair_levels,
    rows_of,
    train_and_score,
)
from matchers.engine.scoring import estimate_u
from matchers.engine.settings import MatchSettings

__all__ = ["CandidateSummary", "cluster_night", "find_candidates", "previous_clusters_path", "score_candidates"]

INDEX_FOLDER = "match_index"
CLUSTER_FOLDER = "match_clusters"
_NIGHT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class CandidateSummary:
    dedupe: list[BlockingReport]
    link: list[BlockingReport]
    index_rebuilt: bool

    def per_rule(self) -> dict[str, dict[str, int]]:
        return {
            report.rule: {"dedupe": report.pairs, "link": other.pairs, "oversized_blocks": report.oversized_blocks}
            for report, other in zip(self.dedupe, self.link, strict=True)
        }


_CANDIDATE_COLUMNS = ("left_id", "right_id", "kind", "blocking_rule")


def find_candidates(
    base: pl.DataFrame, extracts: pl.DataFrame, settings: MatchSettings, state_dir: Path
) -> tuple[pl.DataFrame, CandidateSummary]:
    """Candidate pairs ``left_id, right_id, kind, blocking_rule``: dedupe within the base, then extract → base."""
    records = prepare_records(base, settings, with_tf=True)
    source = FrameSource(records)
    dedupe = dedupe_candidates(records, settings)
    frames = [candidate_ids(dedupe, source, source, settings, "dedupe")]
    index, rebuilt = BaseIndex.ensure(base, settings, state_dir / INDEX_FOLDER)
    link_reports = [BlockingReport(rule.name, 0, 0, 0) for rule in settings.blocking_rules]
    if extracts.height:
        pairs, extract_source, link_reports = index.candidates(extracts)
        found = Candidates(pairs=pairs, report=link_reports)
        frames.append(candidate_ids(found, extract_source, index.records, settings, "link"))
    candidates = pl.concat(frames).select(pl.col(c).cast(pl.String) for c in _CANDIDATE_COLUMNS)
    return candidates, CandidateSummary(dedupe=dedupe.report, link=link_reports, index_rebuilt=rebuilt)


def score_candidates(
    candidates: pl.DataFrame,
    base: pl.DataFrame,
    extracts: pl.DataFrame,
    settings: MatchSettings,
    state_dir: Path,
    *,
    labels: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Compare and score the stored candidates; the base's model is saved with the index for small nights."""
    records = prepare_records(base, settings, with_tf=True)
    source = FrameSource(records)
    ids = records.get_column(settings.id_column)
    dedupe_rows = rows_of(candidates.filter(pl.col("kind") == "dedupe"), ids, ids, settings)
    compared = compare_candidates(dedupe_rows, source, source, settings)
    dedupe_pairs, base_model = train_and_score(
        compared,
        source,
        source,
        settings,
        kind="dedupe",
        labels=labels,
        model=None,
        u=lambda: estimate_u(random_pair_levels(source, source, settings, same_source=True), settings),
    )
    frames = [dedupe_pairs]
    link = candidates.filter(pl.col("kind") == "link")
    index, _ = BaseIndex.ensure(base, settings, state_dir / INDEX_FOLDER)
    index.save_model(base_model)
    if extracts.height and link.height:
        extract_records = prepare_records(extracts, settings, with_tf=False)
        extract_source = FrameSource(extract_records)
        link_rows = rows_of(link, extract_records.get_column(settings.id_column), ids, settings)
        compared = compare_candidates(link_rows, extract_source, index.records, settings)
        link_pairs, _ = train_and_score(
            compared,
            extract_source,
            index.records,
            settings,
            kind="link",
            labels=labels,
            model=None,
            u=lambda: index.u,
            fallback_model=base_model,
        )
        frames.append(link_pairs)
    return pl.concat(frames).select(pair_columns(settings))


def previous_clusters_path(folder: Path, night: str) -> Path | None:
    """The clusters saved by the latest night before ``night`` (a Parquet file, or a folder of part files)."""
    earlier = sorted(p for p in folder.glob("*.parquet") if _NIGHT.match(p.stem) and p.stem < night)
    return earlier[-1] if earlier else None


def _previous_clusters(folder: Path, night: str) -> pl.DataFrame | None:
    path = previous_clusters_path(folder, night)
    return pl.read_parquet(path) if path is not None else None


def cluster_night(
    base: pl.DataFrame,
    extracts: pl.DataFrame,
    pairs: pl.DataFrame,
    settings: MatchSettings,
    state_dir: Path,
    night: str,
) -> tuple[pl.DataFrame, ClusterReport]:
    """Person clusters of the night, ids carried over from the latest earlier night; saved for the next night."""
    if not _NIGHT.match(night):
        raise ValueError(f"night must be YYYY-MM-DD, not {night!r}")
    columns = sorted(set(base.columns) & set(extracts.columns)) if extracts.height else base.columns
    records = pl.concat([base.select(columns), extracts.select(columns)], how="vertical_relaxed")
    folder = state_dir / CLUSTER_FOLDER
    clusters, report = person_clusters(records, pairs, settings, previous=_previous_clusters(folder, night))
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{night}.parquet.tmp"
    clusters.select("record_id", "cluster_id").write_parquet(temporary)
    temporary.replace(folder / f"{night}.parquet")
    return clusters, report
