"""Clustering matched pairs into persons, guarded against chaining, with cluster ids stable across nights.

Edges are merged strongest first (union–find). A merge is refused when
- a record of one cluster and a record of the other were declared two people by a veto (twins, siblings sharing
  an ID): no chain of matches may join them; or
- they hold conflicting values (two different valid personal IDs, birth years too far apart, another sex *and*
  another given name) that the model did not weigh itself: a conflict between two records it matched directly (a
  re-issued ID, a one-year typo) is allowed, one that only a chain of other records would join is not; or
- both clusters already hold several records and the edge is weaker than ``strong_link``: one weak link must not
  fuse two established persons.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from matchers.engine.settings import ConflictRule, MatchSettings

__all__ = [
    "ClusterReport",
    "claim_previous_ids",
    "cluster_input",
    "cluster_records",
    "cluster_votes",
    "fresh_cluster_ids",
    "person_clusters",
    "salt_fresh_ids",
    "stable_cluster_ids",
]


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
    """Union–find over positions 0..n-1 (the records that take part in at least one match edge).

    ``direct``: record pairs the model itself matched (a conflict between them is one the model weighed);
    ``apart``: record pairs a veto declared two people, which no chain of matches may join.
    """

    def __init__(
        self,
        size: int,
        values: dict[str, list[object]],
        conflicts: Sequence[ConflictRule],
        direct: set[int],
        apart: dict[int, list[int]],
    ) -> None:
        self.size = size
        self.parent = list(range(size))
        self.members: dict[int, list[int]] = {}
        self.values = values
        self.conflicts = conflicts
        self.direct = direct
        self.apart = apart
        # Per root, its members that a veto keeps apart from someone, and how many such records they name: a merge
        # looks through the side naming fewer (often none: a record joining a cluster).
        self.vetoed: dict[int, list[int]] = {x: [x] for x in apart}
        self.vetoed_load: dict[int, int] = {x: len(others) for x, others in apart.items()}

    def find(self, node: int) -> int:
        parent = self.parent
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    def members_of(self, root: int) -> list[int]:
        return self.members.get(root, [root])

    def kept_apart(self, root_a: int, root_b: int) -> bool:
        """A record of cluster ``root_a`` and one of ``root_b`` were declared two people by a veto (the relation
        is symmetric, so either side may be searched)."""
        load = self.vetoed_load
        if load.get(root_b, 0) < load.get(root_a, 0):
            root_a, root_b = root_b, root_a
        if root_a not in load:
            return False
        return any(self.find(y) == root_b for x in self.vetoed[root_a] for y in self.apart[x])

    def conflicting(self, a: list[int], b: list[int]) -> bool:
        """Some record of ``a`` and some of ``b`` break a conflict rule and were not matched to each other."""
        size = self.size
        for x in a:
            for y in b:
                if (x * size + y if x < y else y * size + x) in self.direct:
                    continue
                if any(self._breaks(rule, x, y) for rule in self.conflicts):
                    return True
        return False

    def _breaks(self, rule: ConflictRule, x: int, y: int) -> bool:
        for column in rule.columns:
            first, second = self.values[column][x], self.values[column][y]
            if first is None or second is None:
                return False
            if rule.tolerance is None or column != rule.column:
                if first == second:
                    return False
            elif abs(float(first) - float(second)) <= rule.tolerance:  # type: ignore[arg-type]
                return False
        return True

    def union(self, a: int, b: int) -> None:
        members = self.members_of(a) + self.members_of(b)
        if len(self.members_of(a)) < len(self.members_of(b)):
            a, b = b, a
        self.parent[b] = a
        self.members[a] = members
        self.members.pop(b, None)
        vetoed_b = self.vetoed.pop(b, None)
        if vetoed_b is not None:
            self.vetoed[a] = self.vetoed.get(a, []) + vetoed_b
            self.vetoed_load[a] = self.vetoed_load.get(a, 0) + self.vetoed_load.pop(b)

    def roots(self) -> np.ndarray:
        """The root of every position (pointer jumping over the parent array: the same roots as ``find``)."""
        parent = np.asarray(self.parent, dtype=np.int64)
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                return parent
            parent = grand


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` by one sort (numpy 2's ``np.unique`` hashes first and was 15x slower on 200,000 positions)."""
    ordered = np.sort(values)
    if ordered.size == 0:
        return ordered
    first = np.empty(ordered.shape, dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def _kept_apart(pairs: pl.DataFrame, node_ids: pl.Series) -> dict[int, list[int]]:
    """Local positions of the record pairs a veto declared two different people (both records among
    ``node_ids``, the ids of the local positions in order)."""
    if "level_veto" not in pairs.columns:
        return {}
    local = pl.DataFrame({"_id": node_ids}).with_row_index("_local")
    vetoed = pairs.filter(
        pl.col("level_veto").is_not_null()
        & (pl.col("level_veto") != "none")
        & pl.col("left_id").is_in(node_ids.implode())
        & pl.col("right_id").is_in(node_ids.implode())
    )
    located = (
        vetoed.select("left_id", "right_id")
        .join(local.rename({"_id": "left_id", "_local": "_a"}), on="left_id", how="inner")
        .join(local.rename({"_id": "right_id", "_local": "_b"}), on="right_id", how="inner")
    )
    both_ways = pl.concat(
        [located.select(pl.col("_a").alias("_x"), pl.col("_b").alias("_y")), located.select(_x="_b", _y="_a")]
    )
    grouped = both_ways.group_by("_x").agg(pl.col("_y").unique())
    return dict(zip(grouped.get_column("_x").to_list(), grouped.get_column("_y").to_list(), strict=True))


def cluster_records(
    records: pl.DataFrame, pairs: pl.DataFrame, settings: MatchSettings
) -> tuple[pl.DataFrame, ClusterReport]:
    """Group records into persons from the ``decision == "match"`` pairs.

    ``records``: ``record_id`` (+ ``source``) and the settings' conflict columns (derived columns are computed
    here when absent). ``pairs``: the scored pairs; vetoed ones (``level_veto``) keep their records apart.
    Returns ``record_id, group`` (the group is the smallest record id of the cluster) and a report of refused
    merges.
    """
    conflict_columns = {column for rule in settings.conflicts for column in rule.columns}
    missing_derived = [
        expr
        for expr in settings.derived
        if expr.meta.output_name() in conflict_columns and expr.meta.output_name() not in records.columns
    ]
    if missing_derived:
        records = records.with_columns(missing_derived)
    ids = records.get_column(settings.id_column).cast(pl.String)
    edges = (
        pairs.filter(pl.col("decision") == "match")
        .sort(["match_weight", "left_id", "right_id"], descending=[True, False, False])
        .select("left_id", "right_id", "match_probability")
    )
    # Only records with a match edge can join a cluster: the union–find runs on those alone, by position, so a
    # night of a million records and a hundred thousand edges costs as much as the edges.
    position = pl.DataFrame({"_id": ids}).with_row_index("_pos").unique(subset="_id", keep="last")
    located = edges.join(
        position.rename({"_id": "left_id", "_pos": "_a"}), on="left_id", how="inner", maintain_order="left"
    ).join(position.rename({"_id": "right_id", "_pos": "_b"}), on="right_id", how="inner", maintain_order="left")
    a_rows = located.get_column("_a").to_numpy().astype(np.int64)
    b_rows = located.get_column("_b").to_numpy().astype(np.int64)
    nodes = _sorted_unique(np.concatenate([a_rows, b_rows]))
    node_index = pl.Series(nodes, dtype=pl.UInt32)
    values = {
        column: records.get_column(column).gather(node_index).to_list()
        for column in sorted({c for rule in settings.conflicts for c in rule.columns})
    }
    local_a_array, local_b_array = np.searchsorted(nodes, a_rows), np.searchsorted(nodes, b_rows)
    local_a, local_b = local_a_array.tolist(), local_b_array.tolist()
    # Each directly matched pair as one number (smaller position * size + larger): a set of ints, built in bulk.
    size = nodes.shape[0]
    direct = set((np.minimum(local_a_array, local_b_array) * size + np.maximum(local_a_array, local_b_array)).tolist())
    apart = _kept_apart(pairs, ids.gather(node_index))
    clusters = _Clusters(size, values, settings.conflicts, direct, apart)
    strong = settings.thresholds.strong_link
    merged = refused_conflict = refused_weak = 0
    probabilities = located.get_column("match_probability").to_list()
    for a, b, probability in zip(local_a, local_b, probabilities, strict=True):
        root_a, root_b = clusters.find(a), clusters.find(b)
        if root_a == root_b:
            continue
        members_a, members_b = clusters.members_of(root_a), clusters.members_of(root_b)
        if len(members_a) > 1 and len(members_b) > 1 and probability < strong:
            refused_weak += 1
            continue
        # Two single records: this very edge matched them directly, so no conflict rule applies to them.
        alone = len(members_a) == 1 and len(members_b) == 1
        if clusters.kept_apart(root_a, root_b) or (not alone and clusters.conflicting(members_a, members_b)):
            refused_conflict += 1
            continue
        clusters.union(root_a, root_b)
        merged += 1
    touched = pl.DataFrame(
        {"_pos": node_index, "_id": ids.gather(node_index), "_root": pl.Series(clusters.roots(), dtype=pl.Int64)}
    ).with_columns(pl.col("_id").min().over("_root").alias("_group"))
    group = ids.clone().scatter(touched.get_column("_pos"), touched.get_column("_group"))
    frame = pl.DataFrame({"record_id": ids, "group": group})
    return frame, ClusterReport(
        edges=edges.height, merged=merged, refused_conflict=refused_conflict, refused_weak_link=refused_weak
    )


def _fresh_id(anchor: str) -> str:
    return "P" + hashlib.blake2b(anchor.encode("utf-8"), digest_size=8).hexdigest()


def cluster_votes(groups: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """``group, _previous, _votes``: how many of a cluster's records had each previous cluster id."""
    return (
        groups.join(previous.select("record_id", pl.col("cluster_id").alias("_previous")), on="record_id")
        .group_by("group", "_previous")
        .agg(pl.len().alias("_votes"))
    )


def claim_previous_ids(votes: pl.DataFrame) -> dict[str, str]:
    """Group → previous id it keeps. Greedy: the strongest claim on a previous id wins it (ties: smallest previous
    id, then smallest group); each cluster keeps at most one previous id.

    A claim only competes with claims sharing its group or its previous id, so the votes may be split into such
    connected sets and each decided on its own (a distributed engine decides the uncontested claims in place).
    """
    assigned: dict[str, str] = {}
    taken: set[str] = set()
    ordered = votes.sort(["_votes", "_previous", "group"], descending=[True, False, False])
    for group, previous_id, _ in ordered.select("group", "_previous", "_votes").iter_rows():
        if group in assigned or previous_id in taken:
            continue
        assigned[group] = previous_id
        taken.add(previous_id)
    return assigned


def fresh_cluster_ids(groups: list[str]) -> list[str]:
    """The fresh id of each group: derived from its smallest record id, so reruns give the same ids."""
    blake2b = hashlib.blake2b
    # _fresh_id inlined: a million new singletons on a first night make the call overhead count.
    return ["P" + blake2b(group.encode("utf-8"), digest_size=8).hexdigest() for group in groups]


def salt_fresh_ids(groups: list[str], fresh: list[str], taken: set[str]) -> list[str]:
    """Fresh ids made unique: in group order, an id already taken (a previous id, an earlier group's) is salted
    until it is free. ``groups`` sorted; ``taken`` is extended with the ids handed out."""
    result = list(fresh)
    for i, group in enumerate(groups):
        candidate, salt = result[i], 0
        while candidate in taken:
            salt += 1
            candidate = _fresh_id(f"{group}#{salt}")
        result[i] = candidate
        taken.add(candidate)
    return result


def stable_cluster_ids(groups: pl.DataFrame, previous: pl.DataFrame | None = None) -> pl.DataFrame:
    """``record_id, cluster_id``: a cluster keeps the id its records had last night.

    A cluster takes the previous id shared by most of its records (ties: smallest id); when a previous cluster
    split, its id stays with the part holding most of its records and the other parts get fresh ids. A fresh id is
    derived from the cluster's smallest record id, so reruns give the same ids; it never reuses a previous id.
    """
    group = groups.get_column("group").cast(pl.String)
    # One sort of the groups gives the distinct groups in order and each row's place among them (no join of a
    # million texts back to the rows).
    order = group.arg_sort()
    ordered = group.gather(order)
    first = ordered.ne_missing(ordered.shift(1)).fill_null(True)
    distinct = ordered.filter(first)
    assigned: dict[str, str] = {}
    taken: set[str] = set()
    if previous is not None and previous.height:
        assigned = claim_previous_ids(cluster_votes(groups, previous))
        taken.update(assigned.values())
        taken.update(previous.get_column("cluster_id").unique().to_list())
    kept = distinct.replace_strict(assigned, default=None, return_dtype=pl.String) if assigned else None
    fresh_groups = distinct.filter(kept.is_null()) if kept is not None else distinct
    fresh = fresh_cluster_ids(fresh_groups.to_list())
    fresh_series = pl.Series(fresh, dtype=pl.String)
    if fresh_series.n_unique() != len(fresh) or (taken and not taken.isdisjoint(fresh)):
        # Rare: a fresh id met a previous id or another fresh one; salt in group order until it is unique.
        fresh_series = pl.Series(salt_fresh_ids(fresh_groups.to_list(), fresh, taken), dtype=pl.String)
    if kept is None:
        ids = fresh_series
    else:
        ids = kept.scatter(kept.is_null().arg_true(), fresh_series) if fresh_series.len() else kept
    per_row = ids.gather(first.cum_sum().cast(pl.UInt32) - 1).gather(order.arg_sort())
    return pl.DataFrame({"record_id": groups.get_column("record_id"), "cluster_id": per_row})


def cluster_input(records: pl.DataFrame, settings: MatchSettings) -> pl.DataFrame:
    """What clustering reads of each record: id (text), ``source`` (null when absent) and the conflict columns
    (derived ones computed when absent). Row by row: any slice of the records will do."""
    conflict_columns = sorted({column for rule in settings.conflicts for column in rule.columns})
    if settings.derived:
        wanted = set(conflict_columns)
        records = records.with_columns(
            [
                expr
                for expr in settings.derived
                if expr.meta.output_name() in wanted and expr.meta.output_name() not in records.columns
            ]
        )
    source = pl.col("source") if "source" in records.columns else pl.lit(None, dtype=pl.String).alias("source")
    return records.select(pl.col(settings.id_column).cast(pl.String), source, *conflict_columns)


def person_clusters(
    records: pl.DataFrame,
    pairs: pl.DataFrame,
    settings: MatchSettings,
    *,
    previous: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, ClusterReport]:
    """``record_id, cluster_id, source`` for every record (base and extracts), ids stable against ``previous``."""
    slim = cluster_input(records, settings)
    groups, report = cluster_records(slim, pairs, settings)
    clusters = stable_cluster_ids(groups, previous)
    # stable_cluster_ids keeps the row order of its input, so the sources line up without a join.
    result = clusters.with_columns(slim.get_column("source"))
    return result.select("record_id", "cluster_id", "source"), report
