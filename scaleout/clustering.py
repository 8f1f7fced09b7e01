"""Person clusters on Spark, with the embedded engine's anti-chaining rules and stable ids.

The embedded engine merges match edges strongest first and refuses a merge that would put two valid IDs or
contradicting birth years in one person, or fuse two established persons through a weak link. Those decisions only
ever involve records of one connected component of the match graph, so Spark finds the components
(``scaleout.components``), groups them coarsely (``hash(component) % N``) and runs the engine's own
``cluster_records`` on each group: every component sees its edges in the same order as in the embedded engine,
hence the same merges. Cluster ids are kept from the previous night as ``stable_cluster_ids`` keeps them: the
uncontested claims (one cluster, one previous id) in place, the contested ones on the driver with the engine's
``claim_previous_ids``.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_schema

from matchers.engine.clustering import (
    ClusterReport,
    claim_previous_ids,
    cluster_input,
    cluster_records,
    fresh_cluster_ids,
    salt_fresh_ids,
)
from matchers.engine.settings import MatchSettings
from scaleout.components import connected_components
from scaleout.frames import (
    ROW,
    collect_polars,
    from_polars,
    input_columns,
    map_frames,
    materialize,
    output_schema,
)

__all__ = ["night_records", "person_clusters", "stable_cluster_ids"]

_PERSIST = StorageLevel.MEMORY_AND_DISK
_REPORT = ("merged", "refused_conflict", "refused_weak_link")
_BROADCAST_ROWS = 1_000_000
"""Narrow frames (the nodes of match edges, their components, the clustered records) up to this many rows are
broadcast to the joins with every record, which then do not shuffle the records."""


def _partitions(df: DataFrame) -> int:
    return int(df.sparkSession.conf.get("spark.sql.shuffle.partitions") or 200)


def _group_clusters(records: DataFrame, edges: DataFrame, settings: MatchSettings) -> DataFrame:
    """``record_id, group, _row`` + refused/merged counts (on one row per group) for the records of components."""
    columns = records.columns
    out = T.StructType(
        [
            T.StructField("record_id", T.StringType()),
            T.StructField("group", T.StringType()),
            T.StructField(ROW, T.LongType()),
            *(T.StructField(name, T.LongType()) for name in _REPORT),
        ]
    )
    target = to_arrow_schema(out)

    def cluster_group(records_table: pa.Table, edges_table: pa.Table) -> pa.Table:
        group_records = pl.from_arrow(records_table)
        group_edges = pl.from_arrow(edges_table)
        assert isinstance(group_records, pl.DataFrame) and isinstance(group_edges, pl.DataFrame)
        ordered = group_records.select(columns).sort(ROW)
        groups, report = cluster_records(cluster_input(ordered, settings), group_edges, settings)
        counts = report.as_dict()
        first = pl.int_range(pl.len()) == 0
        frame = groups.with_columns(
            ordered.get_column(ROW),
            *(pl.when(first).then(counts[name]).otherwise(0).cast(pl.Int64).alias(name) for name in _REPORT),
        )
        return frame.select(target.names).to_arrow().cast(target)

    return records.groupBy("_group_key").cogroup(edges.groupBy("_group_key")).applyInArrow(cluster_group, out)


def person_clusters(
    records: DataFrame,
    pairs: DataFrame,
    settings: MatchSettings,
    *,
    previous: DataFrame | None = None,
) -> tuple[DataFrame, ClusterReport]:
    """``matchers.engine.clustering.person_clusters`` on Spark.

    ``records``: every record (base and extracts) with ``_row``, its position in the embedded engine's record
    frame; ``pairs``: scored pairs (``decision``, ``match_weight``, ``match_probability``, ids). Returns
    ``record_id, cluster_id, source, _row`` and the report of merges.

    Only the records of match edges are shuffled: a record no match edge touches is its own group (the engine's
    ``cluster_records`` leaves it so), and every record's cluster id follows from its group in one pass over the
    records, in their order.
    """
    id_column = settings.id_column
    text_id = F.col(id_column).cast(T.StringType())
    matches = pairs.where(F.col("decision") == "match").select(
        "left_id", "right_id", "match_weight", "match_probability"
    )
    # The embedded engine keeps the last record of a repeated id as its node; only the ids of match edges can be
    # nodes (a vetoed pair matters only inside a component, so its ids are those of match edges too).
    edge_count = matches.count()
    # At most two nodes per edge: the narrow frames of nodes are broadcast when that is small.
    node_rows = 2 * edge_count
    edge_ids = (
        matches.select(F.col("left_id").alias("_id"))
        .unionByName(matches.select(F.col("right_id").alias("_id")))
        .distinct()
    )
    nodes = materialize(
        records.select(text_id.alias("_id"), ROW)
        .join(_small(edge_ids, node_rows), "_id", "left_semi")
        .groupBy("_id")
        .agg(F.max(ROW).alias("_node"))
    )

    def node_of(side: str, name: str) -> DataFrame:
        return _small(nodes.select(F.col("_id").alias(side), F.col("_node").alias(name)), node_rows)

    edges = materialize(matches.join(node_of("left_id", "_a"), "left_id").join(node_of("right_id", "_b"), "right_id"))
    group_key = F.pmod(F.xxhash64("component"), F.lit(_partitions(records))).alias("_group_key")
    components = materialize(connected_components(edges.select(F.col("_a").alias("u"), F.col("_b").alias("v"))))

    def component_of(node: str, *columns: Column) -> DataFrame:
        return _small(components.select(F.col("node").alias(node), *columns), node_rows)

    wanted = [ROW, id_column, "source", *(column for rule in settings.conflicts for column in rule.columns)]
    # Only the node records of components are clustered: another record of a repeated id keeps its own id as its
    # group in the engine, whatever the node's cluster.
    in_components = records.select(*input_columns(settings, wanted, records)).join(component_of(ROW, group_key), ROW)
    component_edges = (
        edges.join(component_of("_a", group_key), "_a")
        .select("left_id", "right_id", "match_weight", "match_probability", "_group_key")
        .withColumn("decision", F.lit("match"))
        .withColumn("level_veto", F.lit(None).cast(T.StringType()))
    )
    if "level_veto" in pairs.columns:
        # Pairs a veto declared two people keep their records apart in the engine's clustering: the ones inside a
        # component go to its group beside the match edges.
        vetoed = (
            pairs.where(F.col("level_veto").isNotNull() & (F.col("level_veto") != "none"))
            .select("left_id", "right_id", "match_weight", "match_probability", "level_veto")
            .join(node_of("left_id", "_a"), "left_id")
            .join(node_of("right_id", "_b"), "right_id")
            .join(component_of("_a", F.col("component").alias("_ca"), group_key), "_a")
            .join(component_of("_b", F.col("component").alias("_cb")), "_b")
            .where(F.col("_ca") == F.col("_cb"))
            .select(
                "left_id", "right_id", "match_weight", "match_probability", "_group_key",
                F.lit("non_match").alias("decision"), "level_veto",
            )
        )  # fmt: skip
        component_edges = component_edges.unionByName(vetoed)
    clustered = materialize(_group_clusters(in_components, component_edges, settings))
    totals = clustered.select(F.count(F.lit(1)).alias("_rows"), *(F.sum(name).alias(name) for name in _REPORT)).first()
    report = ClusterReport(
        edges=edge_count,
        merged=int(totals["merged"] or 0) if totals else 0,
        refused_conflict=int(totals["refused_conflict"] or 0) if totals else 0,
        refused_weak_link=int(totals["refused_weak_link"] or 0) if totals else 0,
    )
    source = F.col("source") if "source" in records.columns else F.lit(None).cast(T.StringType()).alias("source")
    clustered_rows = int(totals["_rows"]) if totals else 0
    groups = records.select(text_id.alias("record_id"), source, ROW).join(
        _small(clustered.select(ROW, F.col("group").alias("_clustered")), clustered_rows), ROW, "left"
    )
    groups = groups.select("record_id", F.coalesce("_clustered", "record_id").alias("group"), "source", ROW)
    clusters = stable_cluster_ids(groups, previous).select("record_id", "cluster_id", "source", ROW)
    return clusters, report


def _small(df: DataFrame, rows: int) -> DataFrame:
    """``df`` marked for a broadcast join when it has at most ``_BROADCAST_ROWS`` (narrow) rows: the other side
    (every record) is then not shuffled at all."""
    return F.broadcast(df) if rows <= _BROADCAST_ROWS else df


def stable_cluster_ids(groups: DataFrame, previous: DataFrame | None = None) -> DataFrame:
    """``matchers.engine.clustering.stable_cluster_ids`` on Spark: ``groups`` (``record_id, group``, + any) with
    ``cluster_id`` added, materialized; ``previous``: last night's ``record_id, cluster_id``.

    A fresh id depends on its group alone (``fresh_cluster_ids``), so it is computed row by row in one pass over
    the records, in their order; only the clashes (a fresh id shared by two groups or taken last night: 64-bit
    ids, so normally none) are found by a shuffle of the narrow ``group, fresh`` pairs and salted on the driver.
    """
    spark = groups.sparkSession

    def fresh_batch(batch: pl.DataFrame) -> pl.DataFrame:
        fresh = fresh_cluster_ids(batch.get_column("group").cast(pl.String).to_list())
        return batch.with_columns(pl.Series("_fresh", fresh, dtype=pl.String))

    with_fresh = map_frames(groups, fresh_batch, output_schema(fresh_batch, groups))
    previous_ids = None
    if previous is None:
        frame = materialize(with_fresh.withColumn("_kept", F.lit(None).cast(T.StringType())))
    else:
        votes = (
            groups.select("record_id", "group")
            .join(previous.select("record_id", F.col("cluster_id").alias("_previous")), "record_id")
            .groupBy("group", "_previous")
            .agg(F.count(F.lit(1)).alias("_votes"))
            .withColumn("_of_group", F.count(F.lit(1)).over(Window.partitionBy("group")))
            .withColumn("_of_previous", F.count(F.lit(1)).over(Window.partitionBy("_previous")))
            .persist(_PERSIST)
        )
        # A claim sharing neither its cluster nor its previous id with another claim wins unopposed; the others are
        # decided together on the driver, in the engine's order (they are the few clusters that split or merged).
        alone = (F.col("_of_group") == 1) & (F.col("_of_previous") == 1)
        claimed = claim_previous_ids(collect_polars(votes.where(~alone).select("group", "_previous", "_votes")))
        decided = pl.DataFrame(
            {"group": list(claimed), "_kept": list(claimed.values())},
            schema={"group": pl.String, "_kept": pl.String},
        )
        assigned = votes.where(alone).select("group", F.col("_previous").alias("_kept"))
        if decided.height:
            assigned = assigned.unionByName(from_polars(spark, decided))
        frame = materialize(with_fresh.join(assigned, "group", "left"))
        votes.unpersist()
        previous_ids = previous.select(F.col("cluster_id").alias("_fresh")).distinct().withColumn("_taken", F.lit(True))
    # Clashes among the groups that take a fresh id: one shared by several groups, or one of last night's ids.
    fresh = frame.where(F.col("_kept").isNull()).select("group", "_fresh")
    flagged = (
        fresh.withColumn("_taken", F.lit(False)) if previous_ids is None else fresh.join(previous_ids, "_fresh", "left")
    )
    clashing = collect_polars(
        flagged.groupBy("_fresh")
        .agg(
            (F.min("group") != F.max("group")).alias("_repeated"),
            F.max(F.coalesce("_taken", F.lit(False))).alias("_taken"),
        )
        .where(F.col("_repeated") | F.col("_taken"))
        .select("_fresh", "_taken")
    )
    cluster_id = F.coalesce("_kept", "_fresh")
    if clashing.height:
        # Rare (64-bit ids): like the engine, salt in group order every fresh id already taken. Only the clashing
        # groups can change; a salted id meeting another group's fresh id (chance 2^-64) is not looked for.
        clashes = collect_polars(
            fresh.join(F.broadcast(from_polars(spark, clashing.select("_fresh"))), "_fresh", "left_semi").distinct()
        ).sort("group")
        taken = set(clashing.filter(pl.col("_taken")).get_column("_fresh").to_list())
        salted = salt_fresh_ids(clashes.get_column("group").to_list(), clashes.get_column("_fresh").to_list(), taken)
        changes = from_polars(spark, pl.DataFrame({"group": clashes.get_column("group"), "_salted": salted}))
        frame = frame.join(F.broadcast(changes), "group", "left")
        cluster_id = F.coalesce("_kept", "_salted", "_fresh")
    return frame.withColumn("cluster_id", cluster_id).drop("_kept", "_fresh", "_salted")


def night_records(base: DataFrame, extracts: DataFrame) -> DataFrame:
    """Base and extract records in one frame (their common columns), ``_row`` = position in the embedded engine's
    concatenation (base rows first)."""
    if not extracts.limit(1).count():
        return base
    columns = sorted((set(base.columns) & set(extracts.columns)) - {ROW})
    base_height = base.count()
    shifted = extracts.select(*columns, (F.col(ROW) + F.lit(base_height)).alias(ROW))
    return base.select(*columns, ROW).unionByName(shifted)
