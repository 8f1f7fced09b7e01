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
from pyspark.sql import DataFrame, Window
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
    empty_polars,
    from_polars,
    input_columns,
    map_frames,
    materialize,
    spark_schema,
)

__all__ = ["night_records", "person_clusters", "stable_cluster_ids"]

_PERSIST = StorageLevel.MEMORY_AND_DISK
_REPORT = ("merged", "refused_conflict", "refused_weak_link")
_FRESH_SCHEMA = T.StructType([T.StructField("group", T.StringType()), T.StructField("fresh", T.StringType())])


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
        pairs = group_edges
        groups, report = cluster_records(ordered.drop(ROW, "_group_key"), pairs, settings)
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
    """
    id_column = settings.id_column

    def slim_batch(batch: pl.DataFrame) -> pl.DataFrame:
        return pl.concat([cluster_input(batch, settings), batch.select(pl.col(ROW).cast(pl.Int64))], how="horizontal")

    wanted = [ROW, id_column, "source", *(column for rule in settings.conflicts for column in rule.columns)]
    records = records.select(*input_columns(settings, wanted, records))
    slim = materialize(map_frames(records, slim_batch, spark_schema(slim_batch(empty_polars(records)).schema)))
    # The embedded engine keeps the last record of a repeated id as its node.
    nodes = slim.groupBy(id_column).agg(F.max(ROW).alias("_node"))
    matches = pairs.where(F.col("decision") == "match").select(
        "left_id", "right_id", "match_weight", "match_probability"
    )
    edges = materialize(
        matches.join(nodes.select(F.col(id_column).alias("left_id"), F.col("_node").alias("_a")), "left_id").join(
            nodes.select(F.col(id_column).alias("right_id"), F.col("_node").alias("_b")), "right_id"
        )
    )
    edge_count = matches.count()
    components = connected_components(edges.select(F.col("_a").alias("u"), F.col("_b").alias("v")))
    group_key = F.pmod(F.xxhash64("component"), F.lit(_partitions(records))).alias("_group_key")
    in_components = (
        slim.join(nodes, id_column)
        .join(components.select(F.col("node").alias("_node"), group_key), "_node")
        .drop("_node")
    )
    component_edges = (
        edges.join(components.select(F.col("node").alias("_a"), group_key), "_a")
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
            .join(nodes.select(F.col(id_column).alias("left_id"), F.col("_node").alias("_a")), "left_id")
            .join(nodes.select(F.col(id_column).alias("right_id"), F.col("_node").alias("_b")), "right_id")
            .join(components.select(F.col("node").alias("_a"), F.col("component").alias("_ca"), group_key), "_a")
            .join(components.select(F.col("node").alias("_b"), F.col("component").alias("_cb")), "_b")
            .where(F.col("_ca") == F.col("_cb"))
            .select(
                "left_id", "right_id", "match_weight", "match_probability", "_group_key",
                F.lit("non_match").alias("decision"), "level_veto",
            )
        )  # fmt: skip
        component_edges = component_edges.unionByName(vetoed)
    clustered = materialize(_group_clusters(in_components, component_edges, settings))
    totals = clustered.select(*(F.sum(name).alias(name) for name in _REPORT)).first()
    report = ClusterReport(
        edges=edge_count,
        merged=int(totals["merged"] or 0) if totals else 0,
        refused_conflict=int(totals["refused_conflict"] or 0) if totals else 0,
        refused_weak_link=int(totals["refused_weak_link"] or 0) if totals else 0,
    )
    groups = slim.select(F.col(id_column).alias("record_id"), "source", ROW).join(
        clustered.select(ROW, "group"), ROW, "left"
    )
    groups = groups.withColumn("group", F.coalesce("group", "record_id"))
    clusters = materialize(stable_cluster_ids(groups, previous).select("record_id", "cluster_id", "source", ROW))
    return clusters, report


def stable_cluster_ids(groups: DataFrame, previous: DataFrame | None = None) -> DataFrame:
    """``matchers.engine.clustering.stable_cluster_ids`` on Spark: ``groups`` (``record_id, group``, + any) with
    ``cluster_id`` added; ``previous``: last night's ``record_id, cluster_id``."""
    spark = groups.sparkSession
    assigned = spark.createDataFrame([], "group string, cluster_id string")
    previous_ids = None
    if previous is not None:
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
            {"group": list(claimed), "cluster_id": list(claimed.values())},
            schema={"group": pl.String, "cluster_id": pl.String},
        )
        assigned = votes.where(alone).select("group", F.col("_previous").alias("cluster_id"))
        if decided.height:
            assigned = assigned.unionByName(from_polars(spark, decided))
        previous_ids = previous.select(F.col("cluster_id").alias("fresh")).distinct().withColumn("_taken", F.lit(True))

    def fresh_batch(batch: pl.DataFrame) -> pl.DataFrame:
        return batch.with_columns(pl.Series("fresh", fresh_cluster_ids(batch.get_column("group").to_list())))

    unassigned = groups.select("group").distinct().join(assigned.select("group"), "group", "left_anti")
    fresh = map_frames(unassigned, fresh_batch, _FRESH_SCHEMA).persist(_PERSIST)
    repeated = fresh.groupBy("fresh").count().where(F.col("count") > 1).select("fresh", F.lit(True).alias("_repeated"))
    flagged = fresh.join(repeated, "fresh", "left")
    if previous_ids is not None:
        flagged = flagged.join(previous_ids, "fresh", "left")
    else:
        flagged = flagged.withColumn("_taken", F.lit(False))
    clashes = collect_polars(
        flagged.where(F.coalesce("_repeated", F.lit(False)) | F.coalesce("_taken", F.lit(False))).select(
            "group", "fresh", F.coalesce("_taken", F.lit(False)).alias("_taken")
        )
    ).sort("group")
    mapping = fresh.select("group", F.col("fresh").alias("cluster_id"))
    if clashes.height:
        # Rare (64-bit ids): like the engine, salt in group order every fresh id already taken. Only the clashing
        # groups can change; a salted id meeting another group's fresh id (chance 2^-64) is not looked for.
        taken = set(clashes.filter(pl.col("_taken")).get_column("fresh").to_list())
        salted = salt_fresh_ids(clashes.get_column("group").to_list(), clashes.get_column("fresh").to_list(), taken)
        changes = from_polars(spark, pl.DataFrame({"group": clashes.get_column("group"), "_salted": salted}))
        mapping = mapping.join(changes, "group", "left").select(
            "group", F.coalesce("_salted", "cluster_id").alias("cluster_id")
        )
    return groups.join(assigned.unionByName(mapping), "group", "left")


def night_records(base: DataFrame, extracts: DataFrame) -> DataFrame:
    """Base and extract records in one frame (their common columns), ``_row`` = position in the embedded engine's
    concatenation (base rows first)."""
    if not extracts.limit(1).count():
        return base
    columns = sorted((set(base.columns) & set(extracts.columns)) - {ROW})
    base_height = base.count()
    shifted = extracts.select(*columns, (F.col(ROW) + F.lit(base_height)).alias(ROW))
    return base.select(*columns, ROW).unionByName(shifted)
