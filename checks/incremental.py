"""Tonight's findings without checking the unchanged base again.

The findings of base records are state (``state_dir/findings``, a version per night). A rule's finding on a base
record depends on the record, on the groups it belongs to (its household, the records sharing its personal ID, its
person cluster), on the extract records linked to it, and, for a few rules, on the night. So a night re-checks only
the *scope*: the base records that changed, were removed, changed cluster, are linked to an extract tonight or were
last night, or for which a night-dependent rule may flip (``Rule.may_change``), together with every member of their
households, ID groups and clusters (old and new). The rules run on the scope and those groups with tonight's
extracts; the scope's findings replace its findings of last night, everything else is kept. Extract findings are
computed every night. A full night checks every base record the same way, in chunks of whole groups.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from checks.context import ROUTING_COLUMNS, CheckContext, CheckSettings, with_routing
from checks.findings import FINDINGS_SCHEMA, empty_findings
from checks.groups import GROUP_COLUMNS, RECORD_GROUPS, group_key, in_a_group_of
from checks.registry import RULES, run_rules
from records.progress import Progress, no_progress
from state.graph import connected_components
from state.hashing import code_fingerprint
from state.tables import TableStore, TableVersion, route_rows

__all__ = [
    "FINDINGS_TABLE",
    "NightFindings",
    "checks_fingerprint",
    "findings_store",
    "night_findings",
    "score_records",
]

FINDINGS_TABLE: Final = "findings"
LINKS_TABLE: Final = "findings_links"
CHUNK_RECORDS: Final = 400_000
ROUTE_MIN_CHUNKS = 6
"""A full night with at least this many chunks routes the base and clusters to them in one pass (``route_rows``)
instead of looking each chunk up: measured at 1M (3 chunks) routing cost 11.9 s against 6.8 s of lookups, at 10M
(26 chunks) the lookups took 452 s."""
_RECORD_GROUPS: Final = tuple(dict.fromkeys(g for r in RULES.values() for g in r.groups if g in RECORD_GROUPS))
"""The groups of a record's own columns the rules judge a record in (``Rule.groups``: households, valid IDs); the
others come with the night's clusters (``CLUSTER``) and extracts (``EXTRACTS``: ``_linked_base_ids``)."""
_GROUP_COLUMNS: Final = tuple(dict.fromkeys(c for group in _RECORD_GROUPS for c in GROUP_COLUMNS[group]))
_TIMINGS_SCHEMA: Final = pl.Schema({"rule": pl.String(), "findings": pl.Int64(), "seconds": pl.Float64()})


def checks_fingerprint() -> str:
    """The code the stored findings were derived by: the rules, their settings and the source mappings they read."""
    return code_fingerprint("checks", "records.mappings", "records.schema")


def findings_store(state_dir: Path) -> TableStore:
    return TableStore(state_dir / FINDINGS_TABLE, ("record_id",))


def _links_store(state_dir: Path) -> TableStore:
    return TableStore(state_dir / LINKS_TABLE, ("record_id",))


@dataclass(frozen=True)
class NightFindings:
    """The night's findings: those of the base (a state version) and those of tonight's extracts."""

    version: TableVersion
    extracts: pl.DataFrame
    scope: pl.Series
    """Base record ids checked tonight (their findings replace last night's)."""
    full: bool
    timings: pl.DataFrame
    subjects: pl.Series = field(default_factory=lambda: pl.Series("record_id", [], dtype=pl.String))
    """Records whose tasks tonight's findings decide (the scope, records removed from the base, the extract records
    of tonight and of last night); on a full night, every record."""

    @property
    def rows(self) -> int:
        return self.version.rows + self.extracts.height

    def all(self, columns: list[str] | None = None) -> pl.DataFrame:
        """Every finding of the night (base and extracts), in the findings schema (or only ``columns``)."""
        wanted = columns or list(FINDINGS_SCHEMA)
        return pl.concat([self.version.read(wanted), self.extracts.select(wanted)])

    def tonight(self) -> pl.DataFrame:
        """The findings of the records checked tonight: the scope's and the extracts'."""
        base = self.version.added(list(FINDINGS_SCHEMA)).collect()
        return pl.concat([base, self.extracts.select(list(FINDINGS_SCHEMA))])

    def frame(self) -> pl.DataFrame:
        return self.all()

    def changed_rows(self, columns: list[str] | None = None) -> pl.DataFrame:
        """The findings of the records checked tonight (or only ``columns`` of them)."""
        found = self.tonight()
        return found if columns is None else found.select([c for c in columns if c in found.columns])

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.version.save(folder)
        self.extracts.write_parquet(folder / "extracts.parquet")
        self.scope.to_frame("record_id").write_parquet(folder / "scope.parquet")
        self.subjects.to_frame("record_id").write_parquet(folder / "subjects.parquet")
        # Seconds differ from run to run: kept beside the outputs, not as one of them.
        self.timings.write_json(folder / "timings.json")
        (folder / "night.json").write_text(json.dumps({"full": self.full}), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> NightFindings:
        return cls(
            version=TableVersion.load(folder),
            extracts=pl.read_parquet(folder / "extracts.parquet"),
            scope=pl.read_parquet(folder / "scope.parquet").get_column("record_id"),
            full=bool(json.loads((folder / "night.json").read_text("utf-8"))["full"]),
            timings=pl.read_json(folder / "timings.json", schema=_TIMINGS_SCHEMA),
            subjects=pl.read_parquet(folder / "subjects.parquet").get_column("record_id"),
        )


def _linked_base_ids(base: TableVersion, extracts: pl.DataFrame, pairs: pl.DataFrame, clusters: TableVersion
                     ) -> pl.Series:  # fmt: skip
    """Base records an extract record of tonight may be linked to (a superset of ``CheckContext.links``)."""
    if extracts.height == 0:
        return pl.Series("record_id", [], dtype=pl.String)
    extract_ids = extracts.get_column("record_id").cast(pl.String)
    wanted = extract_ids.implode()
    matched = pairs.filter(pl.col("decision") == "match")
    by_pair = pl.concat(
        [
            matched.filter(pl.col("left_id").is_in(wanted)).get_column("right_id"),
            matched.filter(pl.col("right_id").is_in(wanted)).get_column("left_id"),
        ]
    )
    extract_clusters = clusters.lookup(extract_ids, ["record_id", "cluster_id"]).get_column("cluster_id")
    by_cluster = (
        clusters.scan(["record_id", "cluster_id", "source"])
        .filter((pl.col("source") == "base") & pl.col("cluster_id").is_in(extract_clusters.implode()))
        .collect()
        .get_column("record_id")
    )
    ids = extracts.filter(pl.col("person_id_valid").fill_null(False)).get_column("person_id_norm").drop_nulls()
    by_id = (
        base.scan(["record_id", "person_id_norm"])
        .filter(pl.col("person_id_norm").is_in(ids.implode()))
        .collect()
        .get_column("record_id")
    )
    return pl.concat([by_pair, by_cluster, by_id]).cast(pl.String).unique().rename("record_id")


def _night_sensitive(base: TableVersion, before: date, night: date, settings: CheckSettings) -> pl.Series:
    expressions = [r.may_change(settings, before, night) for r in RULES.values() if r.may_change is not None]
    if not expressions:
        return pl.Series("record_id", [], dtype=pl.String)
    predicate = pl.any_horizontal(expressions).fill_null(False)
    columns = sorted({"record_id", *predicate.meta.root_names()})
    return base.scan(columns).filter(predicate).select("record_id").collect().get_column("record_id")


def _groups_of(
    ids: pl.Series, bases: list[TableVersion], clusters: list[TableVersion], tonight: TableVersion,
    tonight_clusters: TableVersion,
) -> pl.Series:  # fmt: skip
    """Tonight's base records sharing a group of the rules (``_RECORD_GROUPS``: a household, a valid personal ID) or a
    cluster with ``ids`` in any of the given base and cluster versions (tonight's, and last night's for records that
    changed or left)."""
    rows = [version.lookup(ids, ["record_id", *_GROUP_COLUMNS]) for version in bases]
    cluster_ids = [version.lookup(ids, ["record_id", "cluster_id"]).get_column("cluster_id") for version in clusters]
    members = (
        tonight.scan(["record_id", *_GROUP_COLUMNS])
        .filter(in_a_group_of(rows, _RECORD_GROUPS))
        .select("record_id")
        .collect()
        .get_column("record_id")
    )
    in_clusters = (
        tonight_clusters.scan(["record_id", "cluster_id", "source"])
        .filter((pl.col("source") == "base") & pl.col("cluster_id").is_in(pl.concat(cluster_ids).unique().implode()))
        .collect()
        .get_column("record_id")
    )
    return pl.concat([ids.cast(pl.String), members, in_clusters]).unique()


def _check(
    base_rows: pl.DataFrame,
    extracts: pl.DataFrame,
    pairs: pl.DataFrame,
    clusters: pl.DataFrame,
    night: date,
    settings: CheckSettings,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    context = CheckContext(base=base_rows, extracts=extracts, night=night, pairs=pairs, clusters=clusters,
                           settings=settings)  # fmt: skip
    return run_rules(context)


def _usable_previous(store: TableStore, base: TableVersion, clusters: TableVersion, night: str
                     ) -> TableVersion | None:  # fmt: skip
    previous = store.latest(before=night)
    if previous is None or base.full or clusters.full:
        return None
    meta = previous.meta
    if meta.get("fingerprint") != checks_fingerprint() or meta.get("base") != base.meta.get("previous"):
        return None
    if meta.get("clusters") != clusters.meta.get("previous"):
        return None
    return previous


def _chunks(base: TableVersion, clusters: TableVersion, first: pl.Series) -> Iterator[pl.Series]:
    """Base ids in chunks of whole groups (``_RECORD_GROUPS``: household, valid personal ID; and cluster), ``first``
    (the base records linked to tonight's extracts, which only the first chunk is checked with) in the first chunk."""
    for _, part in _chunk_assignment(base, clusters, first).group_by("_partition", maintain_order=True):
        yield part.get_column("record_id")


def _chunk_assignment(base: TableVersion, clusters: TableVersion, first: pl.Series) -> pl.DataFrame:
    """``record_id, _partition``: the chunk of every base record (``_chunks``), chunk after chunk."""
    slim = base.read(["record_id", *_GROUP_COLUMNS]).join(
        clusters.read(["record_id", "cluster_id"]), on="record_id", how="left"
    )
    nodes = slim.height
    index = slim.with_row_index("_n").select("_n", "record_id", *_GROUP_COLUMNS, "cluster_id")
    edges_left, edges_right = [], []
    keys = [*(group_key(group) for group in _RECORD_GROUPS), pl.col("cluster_id")]
    for key in keys:
        grouped = (
            index.select("_n", key.alias("_key"))
            .filter(pl.col("_key").is_not_null())
            .with_columns(pl.col("_n").min().over("_key").alias("_f"))
        )
        grouped = grouped.filter(pl.col("_n") != pl.col("_f"))
        edges_left.append(grouped.get_column("_n").to_numpy())
        edges_right.append(grouped.get_column("_f").to_numpy())
    labels = connected_components(np.concatenate(edges_left), np.concatenate(edges_right), nodes)
    frame = index.select("record_id").with_columns(pl.Series("_c", labels))
    priority = frame.join(first.to_frame("record_id"), on="record_id", how="semi").get_column("_c").unique()
    frame = frame.with_columns((~pl.col("_c").is_in(priority.implode())).alias("_later")).sort("_later", "_c")
    sizes = frame.group_by("_later", "_c", maintain_order=True).len()
    chunk, total, assignment = 0, 0, []
    for later, _, size in sizes.iter_rows():
        if total and (total + size > CHUNK_RECORDS) and later:
            chunk, total = chunk + 1, 0
        assignment.append(chunk)
        total += size
    frame = frame.join(sizes.with_columns(pl.Series("_chunk", assignment)).select("_c", "_chunk"), on="_c")
    return frame.select("record_id", pl.col("_chunk").cast(pl.Int64).alias("_partition"))


def _routed_chunks(base: TableVersion, clusters: TableVersion, first: pl.Series, extracts: pl.DataFrame,
                   directory: Path) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:  # fmt: skip
    """Each chunk's base rows and clusters (those of tonight's extract records with the first chunk), as
    ``base.lookup`` and ``clusters.lookup`` of its ids give them, from one pass over each table
    (``route_rows``) instead of a scan of both per chunk (at 10,000,000 records, 26 chunks: 452 of the 683 s)."""
    assignment = _chunk_assignment(base, clusters, first)
    chunks = assignment.get_column("_partition").n_unique() if assignment.height else 0  # numbered 0, 1, …
    if chunks < ROUTE_MIN_CHUNKS:
        # Routing costs about three scans of each table: below this many chunks a lookup per chunk is cheaper.
        extract_ids = extracts.get_column("record_id").cast(pl.String)
        for chunk, (_, part) in enumerate(assignment.group_by("_partition", maintain_order=True)):
            ids = part.get_column("record_id")
            cluster_ids = pl.concat([ids, extract_ids]) if chunk == 0 else ids
            yield base.lookup(ids), clusters.lookup(cluster_ids, ["record_id", "cluster_id"])
        return
    with_extracts = pl.concat(
        [
            assignment,
            extracts.select(pl.col("record_id").cast(pl.String), pl.lit(0, dtype=pl.Int64).alias("_partition")),
        ]
    ).unique(subset="record_id", keep="first", maintain_order=True)
    scratch = directory / ".full-build"
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / "base").mkdir(parents=True)
    (scratch / "clusters").mkdir(parents=True)
    try:
        base_files = route_rows(base, assignment, scratch / "base", chunks)
        cluster_files = route_rows(clusters, with_extracts, scratch / "clusters", chunks)
        del assignment, with_extracts
        no_base = base.scan().head(0).collect()
        no_clusters = clusters.scan(["record_id", "cluster_id"]).head(0).collect()
        for chunk in range(chunks):
            rows = pl.read_parquet(base_files[chunk]) if base_files[chunk] else no_base
            chunk_clusters = (
                pl.read_parquet(cluster_files[chunk], columns=["record_id", "cluster_id"])
                if cluster_files[chunk]
                else no_clusters
            )
            yield rows, chunk_clusters
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def score_records(base: TableVersion, extracts: pl.DataFrame) -> pl.DataFrame:
    """``record_id, source, ward_code, province_code`` of every record of the night (what ``compute_scores`` counts),
    read from the base version's routing columns only."""
    columns = ["record_id", "source", *ROUTING_COLUMNS]
    frames = [base.read(columns), extracts.select([c for c in columns if c in extracts.columns])]
    records = pl.concat(frames, how="diagonal_relaxed")
    return with_routing(records).select("record_id", "source", "ward_code", "province_code")


def night_findings(
    base: TableVersion,
    extracts: pl.DataFrame,
    pairs: pl.DataFrame,
    clusters: TableVersion,
    state_dir: Path,
    night: str,
    *,
    full: bool = False,
    also: pl.Series | None = None,
    settings: CheckSettings | None = None,
    progress: Progress = no_progress,
) -> NightFindings:
    """Run the rules on what tonight changed (everything on a full night) and commit the night's base findings.

    ``base``: tonight's normalized base version; ``pairs``: tonight's pairs (links and base pairs at match or
    review); ``clusters``: tonight's cluster version (base and tonight's extract records); ``also``: more base
    records to check again tonight (those whose tasks a person resolved since last night).
    """
    settings = settings or CheckSettings()
    day = date.fromisoformat(night)
    store = findings_store(state_dir)
    previous = None if full else _usable_previous(store, base, clusters, night)
    linked = _linked_base_ids(base, extracts, pairs, clusters)
    parts: list[pl.DataFrame] = []
    extract_parts: list[pl.DataFrame] = []
    timings: list[pl.DataFrame] = []
    if previous is None:
        scope = base.read(["record_id"]).get_column("record_id")
        done = 0
        progress("kiểm tra chất lượng / checking quality", 0, scope.len())
        for i, (rows, chunk_clusters) in enumerate(_routed_chunks(base, clusters, linked, extracts, store.directory)):
            chunk_extracts = extracts if i == 0 else extracts.head(0)
            found, timing = _check(rows, chunk_extracts, pairs, chunk_clusters, day, settings)
            parts.append(found.filter(pl.col("source") == "base"))
            if i == 0:
                extract_parts.append(found.filter(pl.col("source") != "base"))
            timings.append(timing)
            done += rows.height
            progress("kiểm tra chất lượng / checking quality", done, scope.len())
        removed = pl.Series("id", [], dtype=pl.String)
        subjects = pl.concat([scope, extracts.get_column("record_id").cast(pl.String)])
    else:
        before = date.fromisoformat(previous.night)
        last_linked = _links_store(state_dir).latest(before=night)
        previous_base = TableStore.at({**base.to_reference(), "night": base.meta["previous"]})
        previous_clusters = TableStore.at({**clusters.to_reference(), "night": clusters.meta["previous"]})
        removed_or_replaced = base.removed_ids().cast(pl.String)
        changed = base.added(["record_id"]).collect().get_column("record_id")
        changed_clusters = clusters.removed_ids().cast(pl.String)  # records whose cluster was rewritten or left
        seeds = pl.concat(
            [
                changed,
                removed_or_replaced,
                changed_clusters,
                linked,
                last_linked.read(["record_id"]).get_column("record_id") if last_linked else changed.head(0),
                _night_sensitive(base, before, day, settings),
                also.cast(pl.String) if also is not None else changed.head(0),
            ]
        ).unique()
        scope_ids = _groups_of(seeds, [base, previous_base], [clusters, previous_clusters], base, clusters)
        live_ids = base.lookup(scope_ids, ["record_id"]).get_column("record_id")
        context_ids = _groups_of(live_ids, [base], [clusters], base, clusters)
        progress("kiểm tra chất lượng / checking quality", 0, live_ids.len())
        rows = base.lookup(context_ids)
        context_clusters = clusters.lookup(pl.concat([context_ids, extracts.get_column("record_id")]),
                                           ["record_id", "cluster_id"])  # fmt: skip
        found, timing = _check(rows, extracts, pairs, context_clusters, day, settings)
        parts.append(found.filter((pl.col("source") == "base") & pl.col("record_id").is_in(live_ids.implode())))
        extract_parts.append(found.filter(pl.col("source") != "base"))
        timings.append(timing)
        scope = live_ids
        removed = pl.concat([scope_ids, removed_or_replaced]).unique()
        gone = removed_or_replaced.to_frame("record_id").join(changed.to_frame("record_id"), on="record_id", how="anti")
        last_extracts = (
            previous_clusters.scan(["record_id", "source"]).filter(pl.col("source") != "base").collect()
        ).get_column("record_id")
        subjects = pl.concat(
            [live_ids, gone.get_column("record_id"), extracts.get_column("record_id").cast(pl.String), last_extracts]
        ).unique()
        progress("kiểm tra chất lượng / checking quality", live_ids.len(), live_ids.len())
    base_findings = (pl.concat(parts) if parts else empty_findings()).match_to_schema(FINDINGS_SCHEMA)
    base_findings = base_findings.sort("record_id", "rule", "detail", nulls_last=True)
    meta = {"fingerprint": checks_fingerprint(), "base": base.night, "clusters": clusters.night}
    version = store.commit(night, base=previous, added=base_findings, removed=removed, meta=meta,
                           empty_schema=FINDINGS_SCHEMA)  # fmt: skip
    _links_store(state_dir).commit(night, base=None, added=linked.sort().to_frame("record_id"))
    extract_findings = (pl.concat(extract_parts) if extract_parts else empty_findings()).match_to_schema(
        FINDINGS_SCHEMA
    )
    timing = (
        pl.concat(timings).group_by("rule", maintain_order=True).agg(pl.col("findings").sum(), pl.col("seconds").sum())
        if timings
        else pl.DataFrame(schema=_TIMINGS_SCHEMA)
    )
    return NightFindings(
        version=version,
        extracts=extract_findings.sort("record_id", "rule", "detail", nulls_last=True),
        scope=scope.sort(),
        full=previous is None,
        timings=timing,
        subjects=subjects.sort().rename("record_id"),
    )
