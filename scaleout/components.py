"""Connected components in the DataFrame API: alternating large-star and small-star rounds.

Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014). Every node ends up linked to the
smallest node of its component in O(log² n) rounds, where label propagation needs as many rounds as the longest
chain is long. GraphFrames would need a download from Maven, so this is plain Spark SQL. The edge set is
materialized every round (``scaleout.frames.materialize``: a local checkpoint, or a reliable one in the session's
checkpoint folder with ``spark.dancu.reliableCheckpoints``), which keeps every round's plan small.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from scaleout.frames import collect_polars, from_polars, materialize

__all__ = ["LOCAL_EDGES", "component_labels", "connected_components"]

LOCAL_EDGES = "spark.dancu.localComponentEdges"
"""Session setting: an edge set of at most this many edges (default 2,000,000: 32 MB of node pairs) has its
components finished on the driver (``component_labels``) instead of in more rounds of jobs; 0 = always rounds."""

_DEFAULT_LOCAL_EDGES = 2_000_000


def component_labels(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``nodes, components``: every node of the undirected edges ``u``–``v`` (int64) and the smallest node of its
    component, nodes ascending.

    Union by hooking each edge's larger root under its smaller one, then pointer jumping until every node points
    at its root, repeated until both ends of every edge share a root: the same answer as the rounds, in a few
    vectorized passes.
    """
    nodes = np.unique(np.concatenate([u, v]).astype(np.int64))
    a, b = np.searchsorted(nodes, u), np.searchsorted(nodes, v)
    parent = np.arange(nodes.shape[0], dtype=np.int64)
    while True:
        root_a, root_b = parent[a], parent[b]
        apart = root_a != root_b
        if not apart.any():
            break
        low, high = np.minimum(root_a[apart], root_b[apart]), np.maximum(root_a[apart], root_b[apart])
        # Roots only (every node points at its root here), so hooking keeps each tree's root its smallest node.
        np.minimum.at(parent, high, low)
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    return nodes, nodes[parent]


def _local_components(edges: DataFrame) -> DataFrame:
    found = collect_polars(edges.select("u", "v"))
    nodes, components = component_labels(
        found.get_column("u").to_numpy().astype(np.int64), found.get_column("v").to_numpy().astype(np.int64)
    )
    frame = pl.DataFrame({"node": nodes, "component": components}, schema={"node": pl.Int64, "component": pl.Int64})
    return from_polars(edges.sparkSession, frame)


def _large_star(edges: DataFrame) -> DataFrame:
    """Each node links its larger neighbours to the smallest node of its neighbourhood (itself included)."""
    both = edges.select("u", "v").unionByName(edges.select(F.col("v").alias("u"), F.col("u").alias("v")))
    smallest = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
    return (
        both.where(F.col("v") > F.col("u"))
        .join(smallest, "u")
        .select(F.col("v").alias("u"), F.col("m").alias("v"))
        .distinct()
    )


def _small_star(edges: DataFrame) -> DataFrame:
    """Each node links itself and its smaller neighbours to the smallest of them."""
    oriented = edges.select(F.greatest("u", "v").alias("u"), F.least("u", "v").alias("v"))
    smallest = oriented.groupBy("u").agg(F.min("v").alias("m"))
    neighbours = oriented.join(smallest, "u").select(F.col("v").alias("u"), "m")
    itself = smallest.select("u", "m")
    return (
        neighbours.unionByName(itself)
        .where(F.col("u") != F.col("m"))
        .select(F.greatest("u", "m").alias("u"), F.least("u", "m").alias("v"))
        .distinct()
    )


def connected_components(edges: DataFrame, *, max_rounds: int = 100) -> DataFrame:
    """``node, component`` (the smallest node of its component) for every node of ``edges`` (``u``, ``v``: longs,
    undirected). Nodes without an edge are not listed. Rounds run while the edge set is larger than the session's
    ``spark.dancu.localComponentEdges``; the rest is finished on the driver."""
    current = (
        edges.select(F.greatest("u", "v").alias("u"), F.least("u", "v").alias("v"))
        .where(F.col("u") != F.col("v"))
        .distinct()
    )
    current = materialize(current)
    size = current.count()
    local = int(edges.sparkSession.conf.get(LOCAL_EDGES, str(_DEFAULT_LOCAL_EDGES)) or _DEFAULT_LOCAL_EDGES)
    for _ in range(max_rounds):
        if size <= local:
            # Few enough edges for the driver: one collect instead of rounds of jobs (each round several shuffles,
            # about eight rounds on a province's match graph), the same components.
            return _local_components(current)
        # Checkpointed every round: a round reads its input four times, so without cutting the lineage the plan of
        # round k would hold 16^k copies of the first edge set.
        following = materialize(_small_star(_large_star(current)))
        # Converged when a round changes nothing (every edge already points at its component's smallest node):
        # the new edge set's size and how many of its edges are new, in one pass.
        seen = current.withColumn("_seen", F.lit(True))
        row = (
            following.join(seen, ["u", "v"], "left")
            .agg(F.count(F.lit(1)).alias("size"), F.count_if(F.col("_seen").isNull()).alias("new"))
            .first()
        )
        following_size, new_edges = (int(row["size"]), int(row["new"])) if row is not None else (0, 0)
        changed = new_edges > 0 or following_size != size
        current, size = following, following_size
        if not changed:
            break
    else:
        raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
    stars = current.select(F.col("u").alias("node"), F.col("v").alias("component"))
    roots = current.select(F.col("v").alias("node"), F.col("v").alias("component"))
    return stars.unionByName(roots).distinct()
