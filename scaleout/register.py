"""The clean register on Spark: the register's own builders (``build_golden``, ``build_changes``) per coarse
partition of person keys, written in the store's format.

A person's golden record depends only on its own records, the previous rows it succeeds and the previous fixes of
its base records, so the persons are split into coarse groups (``hash(person key) % N``) and each group is built by
the embedded builders on exactly those inputs:

- tonight's records, each with its person key, in the embedded engine's record order (ties are broken by it);
- the previous night's register rows, each routed to the group of its successor: the successor is decided first,
  per group of previous rows, by the register's own ``assign_successors`` (a row is carried over unchanged into
  some group when no record of it is seen tonight);
- the previous night's changes of the records of the group's persons.

The three outputs (register rows, change-set rows, golden rows with their normalized values for the checks) come
out of one pass as struct columns and are written sorted as the embedded builders sort them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_schema

from register.changes import build_changes
from register.golden import assign_successors, build_golden
from register.rules import SurvivorshipRules, survivorship_rules
from register.store import RegisterStore
from scaleout.frames import ROW, empty_polars, materialize, read_parquet, spark_type, write_parquet

__all__ = ["SparkRegister", "build_register", "register_records", "write_version"]

_PERSIST = StorageLevel.MEMORY_AND_DISK
_PERSON, _GROUP, _SEQ, _KIND = "_person", "_group", "_seq", "_kind"
_OUTPUTS = ("register", "changes", "golden")


@dataclass(slots=True)
class SparkRegister:
    """One night's build: ``register`` (register.parquet rows), ``changes`` (the change set) and ``golden``
    (register rows with the normalized columns of their golden values), each with ``_seq`` for the embedded order
    (sort by ``person_key, _seq``)."""

    register: DataFrame
    changes: DataFrame
    golden: DataFrame


def _partitions(df: DataFrame) -> int:
    return int(df.sparkSession.conf.get("spark.sql.shuffle.partitions") or 200)


def register_records(base: DataFrame, extracts: DataFrame) -> DataFrame:
    """Base and extract records as the register stage concatenates them (every column of both, base first), with
    ``_row`` = the record's position in that concatenation."""
    base_height = base.count()
    shifted = extracts.withColumn(ROW, F.col(ROW) + F.lit(base_height))
    return base.unionByName(shifted, allowMissingColumns=True)


def _group_of(column: str, partitions: int) -> F.Column:
    return F.pmod(F.xxhash64(F.col(column)), F.lit(partitions)).alias(_GROUP)


def _successors(previous: DataFrame, clusters: DataFrame, partitions: int) -> DataFrame:
    """``person_key, successor`` of every previous row, by the register's ``assign_successors``, computed per group
    of previous rows with what it reads of tonight: the clusters of the rows' records, and whether each row's own
    key is one of tonight's persons."""
    rows = previous.select("person_key", "record_ids")
    votes = rows.select("person_key", F.explode("record_ids").alias("record_id")).join(clusters, "record_id")
    live = rows.select("person_key").join(
        clusters.select(F.col("cluster_id").alias("person_key")).distinct(), "person_key", "left_semi"
    )
    # A live key travels as a cluster row without a record: it joins no vote, it only marks the key as live.
    keys = votes.unionByName(
        live.select(
            "person_key", F.lit(None).cast("string").alias("record_id"), F.col("person_key").alias("cluster_id")
        )
    ).select(F.col("person_key").alias("_owner"), "record_id", "cluster_id")  # a new column: no self-join ambiguity
    schema = T.StructType([T.StructField("person_key", T.StringType()), T.StructField("successor", T.StringType())])
    target = to_arrow_schema(schema)

    def decide(previous_rows: pa.Table, cluster_rows: pa.Table) -> pa.Table:
        frame = pl.from_arrow(previous_rows)
        found = pl.from_arrow(cluster_rows)
        assert isinstance(frame, pl.DataFrame) and isinstance(found, pl.DataFrame)
        decided = assign_successors(frame, found.select("record_id", "cluster_id"))
        return decided.select("person_key", "successor").to_arrow().cast(target)

    return (
        rows.withColumn(_GROUP, _group_of("person_key", partitions))
        .groupBy(_GROUP)
        .cogroup(keys.withColumn(_GROUP, _group_of("_owner", partitions)).groupBy(_GROUP))
        .applyInArrow(decide, schema)
    )


def build_register(
    records: DataFrame,
    clusters: DataFrame,
    night: date,
    *,
    previous: DataFrame | None = None,
    previous_changes: DataFrame | None = None,
    rules: SurvivorshipRules | None = None,
) -> SparkRegister:
    """``build_golden`` + ``build_changes`` on Spark. ``records``: normalized records of every source with
    ``_row`` (``register_records``); ``clusters``: ``record_id, cluster_id``; ``previous`` /
    ``previous_changes``: the previous version's register and change set (Spark DataFrames) or None."""
    rules = rules or survivorship_rules()
    spark = records.sparkSession
    partitions = _partitions(records)
    keys = clusters.select(F.col("record_id").cast("string"), F.col("cluster_id").cast("string"))
    if ROW in clusters.columns:
        # A record id listed twice keeps its first cluster, as ``attach_person_keys`` does.
        first = clusters.groupBy(F.col("record_id").cast("string").alias("record_id")).agg(
            F.min_by(F.col("cluster_id").cast("string"), F.col(ROW)).alias("cluster_id")
        )
    else:
        first = keys.dropDuplicates(["record_id"])
    keyed = records.join(first.withColumnRenamed("cluster_id", _PERSON), "record_id", "left")
    keyed = keyed.withColumn(_GROUP, _group_of(_PERSON, partitions)).persist(_PERSIST)
    lacking = keyed.where(F.col(_PERSON).isNull()).select("record_id").limit(5).collect()
    if lacking:
        count = keyed.where(F.col(_PERSON).isNull()).count()
        sample = ", ".join(row["record_id"] for row in lacking)
        raise ValueError(f"{count} bản ghi không có mã người trong các cụm / records without a cluster: {sample}")

    record_columns = [c for c in keyed.columns if c not in (_GROUP,)]
    sample_records = empty_polars(keyed.select(*record_columns))
    previous_schema: pl.Schema | None = None
    sides: list[DataFrame] = []
    if previous is not None:
        previous_schema = empty_polars(previous).schema
        successors = _successors(previous, keys, partitions)
        routed = previous.join(successors, "person_key", "left").withColumn(
            "_route", F.coalesce("successor", "person_key")
        )
        sides.append(
            routed.select(
                _group_of("_route", partitions),
                F.lit("previous").alias(_KIND),
                F.struct(*previous.columns).alias("previous"),
            )
        )
    changes_schema: pl.Schema | None = None
    if previous_changes is not None:
        changes_schema = empty_polars(previous_changes).schema
        located = previous_changes.join(keys, "record_id")
        sides.append(
            located.select(
                _group_of("cluster_id", partitions),
                F.lit("previous_changes").alias(_KIND),
                F.struct(*previous_changes.columns).alias("previous_changes"),
            )
        )
    side_schema = [T.StructField(_GROUP, T.IntegerType()), T.StructField(_KIND, T.StringType())]
    if previous_schema is not None:
        side_schema.append(T.StructField("previous", spark_type(pl.Struct(dict(previous_schema)))))
    if changes_schema is not None:
        side_schema.append(T.StructField("previous_changes", spark_type(pl.Struct(dict(changes_schema)))))
    side = spark.createDataFrame([], T.StructType(side_schema))
    for part in sides:
        side = side.unionByName(part, allowMissingColumns=True)

    def build(record_rows: pl.DataFrame, side_rows: pl.DataFrame) -> dict[str, pl.DataFrame]:
        ordered = record_rows.sort(ROW)
        group_clusters = ordered.select("record_id", pl.col(_PERSON).alias("cluster_id"))
        group_records = ordered.drop(ROW, _PERSON)
        earlier = None
        if previous_schema is not None:
            chosen = side_rows.filter(pl.col(_KIND) == "previous").select("previous")
            earlier = chosen.unnest("previous") if chosen.height else pl.DataFrame(schema=previous_schema)
        earlier_changes = None
        if changes_schema is not None:
            chosen = side_rows.filter(pl.col(_KIND) == "previous_changes").select("previous_changes")
            earlier_changes = chosen.unnest("previous_changes") if chosen.height else None
        built = build_golden(group_records, group_clusters, night, previous=earlier, rules=rules)
        changes = build_changes(built, night, previous_changes=earlier_changes, rules=rules)
        return {"register": built.register, "changes": changes, "golden": built.golden}

    # Output schemas from a build of no persons (the builders give every column even then).
    empty_side = pl.DataFrame(schema={_KIND: pl.String} | (
        {"previous": pl.Struct(previous_schema)} if previous_schema is not None else {}
    ) | ({"previous_changes": pl.Struct(changes_schema)} if changes_schema is not None else {}))  # fmt: skip
    shapes = build(sample_records, empty_side)
    out_schema = T.StructType(
        [
            T.StructField(_KIND, T.StringType()),
            T.StructField(_SEQ, T.LongType()),
            *(T.StructField(name, spark_type(pl.Struct(dict(shapes[name].schema)))) for name in _OUTPUTS),
        ]
    )
    target = to_arrow_schema(out_schema)

    def build_group(records_table: pa.Table, side_table: pa.Table) -> pa.Table:
        record_rows = pl.from_arrow(records_table)
        side_rows = pl.from_arrow(side_table)
        assert isinstance(record_rows, pl.DataFrame) and isinstance(side_rows, pl.DataFrame)
        built = build(record_rows.drop(_GROUP), side_rows.drop(_GROUP))
        parts = [
            frame.select(
                pl.lit(name).alias(_KIND),
                pl.int_range(pl.len(), dtype=pl.Int64).alias(_SEQ),
                pl.struct(pl.all()).alias(name),
            )
            for name, frame in built.items()
        ]
        combined = pl.concat(parts, how="diagonal")
        return combined.select(target.names).to_arrow().cast(target)

    built = materialize(keyed.groupBy(_GROUP).cogroup(side.groupBy(_GROUP)).applyInArrow(build_group, out_schema))
    keyed.unpersist()
    outputs = {name: built.where(F.col(_KIND) == name).select(F.col(f"{name}.*"), _SEQ) for name in _OUTPUTS}
    return SparkRegister(register=outputs["register"], changes=outputs["changes"], golden=outputs["golden"])


def write_version(
    store: RegisterStore, night: str, built: SparkRegister, *, info: dict[str, object] | None = None
) -> Path:
    """Store the build as ``night``'s version (``RegisterStore.write_with``): register and change set as folders
    of part files, rows in the embedded builders' order."""
    tonight = date.fromisoformat(night)

    def files(register_path: Path, changes_path: Path) -> dict[str, int]:
        order = ["person_key", _SEQ]
        write_parquet(built.register, register_path, order=order, drop=[_SEQ])
        write_parquet(built.changes, changes_path, order=order, drop=[_SEQ])
        spark = built.register.sparkSession
        changes = read_parquet(spark, changes_path)
        return {
            "persons": read_parquet(spark, register_path).count(),
            "changes": changes.count(),
            "changes_tonight": changes.where(F.col("night") == F.lit(tonight)).count(),
        }

    return store.write_with(night, files, info=info)
