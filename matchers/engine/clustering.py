"""Clustering matched pairs into persons, guarded against chaining, with cluster ids stable across nights.

Edges are merged strongest first (union–find). A merge is refused when
- the two clusters would hold conflicting values (two different valid personal IDs, birth years too far apart) —
  one citizen has one ID; or
- both clusters already hold several records and the edge is weaker than ``strong_link``: one weak link must not
  fuse two established persons.
The pair that the model itself judged is exempt from the conflict test when both sides are still single records
(the model has already weighed that disagreement, e.g. a one-year typo).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from matchers.engine.settings import ConflictRule, MatchSettings

__all__ = ["ClusterReport", "cluster_records", "person_clusters", "stable_cluster_ids"]


@dataclass(frozen=True, slots=True)
class ClusterReport:
    edges: int
    merged: int
    refused_conflict: int
    refused_weak_link: int

    def as_dict(self) -> dict[str, int]:
        return {
            "edges": self.edges,
            "merged": self.merged,
            "refused_conflict": self.refused_conflict,
            "refused_weak_link": self.refused_weak_link,
        }


class _Clusters:
    def __init__(self, values: dict[str, list[object]], conflicts: Sequence[ConflictRule]) -> None:
        self.parent: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}
        self.values = values
        self.conflicts = conflicts

    def find(self, node: str) -> str:
        parent = self.parent
        root = node
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(node, node) != root:
            parent[node], node = root, parent[node]
        return root

    def members_of(self, root: str) -> list[str]:
        return self.members.get(root, [root])

    def conflicting(self, a: list[str], b: list[str]) -> bool:
        for rule in self.conflicts:
            column = self.values[rule.column]
            seen_a = {column[int(x)] for x in a} - {None}
            seen_b = {column[int(y)] for y in b} - {None}
            if not seen_a or not seen_b:
                continue
            for x in seen_a:
                for y in seen_b:
                    if rule.tolerance is None:
                        if x != y:
                            return True
                    elif abs(float(x) - float(y)) > rule.tolerance:  # type: ignore[arg-type]
                        return True
        return False

    def union(self, a: str, b: str) -> None:
        members = self.members_of(a) + self.members_of(b)
        if len(self.members_of(a)) < len(self.members_of(b)):
            a, b = b, a
        self.parent[b] = a
        self.members[a] = members
        self.members.pop(b, None)


def cluster_records(
    records: pl.DataFrame, pairs: pl.DataFrame, settings: MatchSettings
) -> tuple[pl.DataFrame, ClusterReport]:
    """Group records into persons from the ``decision == "match"`` pairs.

    ``records``: ``record_id`` (+ ``source``) and the settings' conflict columns (derived columns are computed
    here when absent). Returns ``record_id, group`` (the group is the smallest record id of the cluster) and a
    report of refused merges.
    """
    conflict_columns = {rule.column for rule in settings.conflicts}
    missing_derived = [
        expr
        for expr in settings.derived
        if expr.meta.output_name() in conflict_columns and expr.meta.output_name() not in records.columns
    ]
    if missing_derived:
        records = records.with_columns(missing_derived)
    ids = records.get_column(settings.id_column).cast(pl.String)
    position = {record_id: str(i) for i, record_id in enumerate(ids.to_list())}
    values = {rule.column: records.get_column(rule.column).to_list() for rule in settings.conflicts}
    clusters = _Clusters(values, settings.conflicts)
    edges = (
        pairs.filter(pl.col("decision") == "match")
        .sort(["match_weight", "left_id", "right_id"], descending=[True, False, False])
        .select("left_id", "right_id", "match_probability")
    )
    strong = settings.thresholds.strong_link
    merged = refused_conflict = refused_weak = 0
    for left_id, right_id, probability in edges.iter_rows():
        a, b = position.get(left_id), position.get(right_id)
        if a is None or b is None:
            continue
        root_a, root_b = clusters.find(a), clusters.find(b)
        if root_a == root_b:
            continue
        members_a, members_b = clusters.members_of(root_a), clusters.members_of(root_b)
        if len(members_a) > 1 and len(members_b) > 1 and probability < strong:
            refused_weak += 1
            continue
        if (len(members_a) > 1 or len(members_b) > 1) and clusters.conflicting(members_a, members_b):
            refused_conflict += 1
            continue
        clusters.union(root_a, root_b)
        merged += 1
    roots = [clusters.find(str(i)) for i in range(ids.len())]
    frame = pl.DataFrame({"record_id": ids, "_root": roots})
    frame = frame.with_columns(pl.col("record_id").min().over("_root").alias("group")).drop("_root")
    return frame, ClusterReport(
        edges=edges.height, merged=merged, refused_conflict=refused_conflict, refused_weak_link=refused_weak
    )


def _fresh_id(anchor: str) -> str:
    return "P" + hashlib.blake2b(anchor.encode("utf-8"), digest_size=8).hexdigest()


def stable_cluster_ids(groups: pl.DataFrame, previous: pl.DataFrame | None = None) -> pl.DataFrame:
    """``record_id, cluster_id``: a cluster keeps the id its records had last night.

    A cluster takes the previous id shared by most of its records (ties: smallest id); when a previous cluster
    split, its id stays with the part holding most of its records and the other parts get fresh ids. A fresh id is
    derived from the cluster's smallest record id, so reruns give the same ids; it never reuses a previous id.
    """
    unique_groups = groups.get_column("group").unique()
    assigned: dict[str, str] = {}
    taken: set[str] = set()
    if previous is not None and previous.height:
        votes = (
            groups.join(previous.select("record_id", pl.col("cluster_id").alias("_previous")), on="record_id")
            .group_by("group", "_previous")
            .agg(pl.len().alias("_votes"))
            .sort(["_votes", "_previous", "group"], descending=[True, False, False])
        )
        # Greedy: the strongest claim on a previous id wins it; each cluster keeps at most one previous id.
        for group, previous_id, _ in votes.iter_rows():
            if group in assigned or previous_id in taken:
                continue
            assigned[group] = previous_id
            taken.add(previous_id)
        taken.update(previous.get_column("cluster_id").unique().to_list())
    for group in unique_groups.to_list():
        if group in assigned:
            continue
        candidate, salt = _fresh_id(group), 0
        while candidate in taken:
            salt += 1
            candidate = _fresh_id(f"{group}#{salt}")
        assigned[group] = candidate
        taken.add(candidate)
    mapping = pl.DataFrame(
        {"group": list(assigned), "cluster_id": list(assigned.values())},
        schema={"group": pl.String, "cluster_id": pl.String},
    )
    return groups.join(mapping, on="group", how="left", maintain_order="left").select("record_id", "cluster_id")


def person_clusters(
    records: pl.DataFrame,
    pairs: pl.DataFrame,
    settings: MatchSettings,
    *,
    previous: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, ClusterReport]:
    """``record_id, cluster_id, source`` for every record (base and extracts), ids stable against ``previous``."""
    if settings.derived:
        conflict_columns_set = {rule.column for rule in settings.conflicts}
        records = records.with_columns(
            [
                expr
                for expr in settings.derived
                if expr.meta.output_name() in conflict_columns_set and expr.meta.output_name() not in records.columns
            ]
        )
    source = pl.col("source") if "source" in records.columns else pl.lit(None, dtype=pl.String).alias("source")
    conflict_columns = [rule.column for rule in settings.conflicts]
    slim = records.select(pl.col(settings.id_column).cast(pl.String), source, *conflict_columns)
    groups, report = cluster_records(slim, pairs, settings)
    clusters = stable_cluster_ids(groups, previous)
    result = clusters.join(
        slim.select(pl.col(settings.id_column).alias("record_id"), "source"),
        on="record_id",
        how="left",
        maintain_order="left",
    )
    return result.select("record_id", "cluster_id", "source"), report
