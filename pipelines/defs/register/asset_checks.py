"""Asset checks of the register: one row per person key, every record id in exactly one person, lineage for every
golden value. Blocking: tasks and reports must not be built on a register that breaks them."""

from typing import Any

import dagster as dg
import polars as pl

from matchers.engine.nightly import ClusterNight
from pipelines.partitions import nightly_partitions
from register.rules import survivorship_rules
from register.types import source_column
from state.register import RegisterNight


def _keys(register: Any) -> pl.Series:
    """Every person key of the night's register (a state version, or a frame)."""
    if isinstance(register, RegisterNight):
        return register.scan().select("person_key").collect().get_column("person_key")
    return register.get_column("person_key")


@dg.asset_check(
    asset="register",
    description="Mỗi mã người đúng một dòng trong sổ dân cư sạch (không trống, không trùng).",
    blocking=True,
    partitions_def=nightly_partitions,
)
def one_row_per_person(register: Any) -> dg.AssetCheckResult:
    keys = _keys(register)
    empty = int(keys.is_null().sum())
    repeated = keys.filter(keys.is_duplicated()).unique().sort()
    return dg.AssetCheckResult(
        passed=empty == 0 and repeated.len() == 0,
        metadata={
            "persons": keys.len(),
            "empty_keys": empty,
            "repeated_keys": repeated.len(),
            "sample": dg.MetadataValue.json(repeated.head(10).to_list()),
        },
    )


@dg.asset_check(
    asset="register",
    description="Mỗi mã bản ghi thuộc đúng một người của sổ dân cư sạch, và mọi bản ghi của đêm đều có người.",
    blocking=True,
    partitions_def=nightly_partitions,
    additional_ins={"person_clusters": dg.AssetIn()},
)
def every_record_in_one_person(register: Any, person_clusters: Any) -> dg.AssetCheckResult:
    rows = (
        register.scan().select("person_key", "record_ids").collect()
        if isinstance(register, RegisterNight)
        else register
    )
    members = rows.select("person_key", pl.col("record_ids").alias("record_id")).explode("record_id")
    twice = members.filter(pl.col("record_id").is_duplicated())["record_id"].unique().sort()
    clusters = (
        person_clusters.clusters.read(["record_id"]) if isinstance(person_clusters, ClusterNight) else person_clusters
    )
    orphans = clusters.join(members, on="record_id", how="anti")["record_id"].sort()
    return dg.AssetCheckResult(
        passed=twice.len() == 0 and orphans.len() == 0 and int(members["record_id"].is_null().sum()) == 0,
        metadata={
            "record_ids": members.height,
            "in_several_persons": twice.len(),
            "records_without_person": orphans.len(),
            "sample": dg.MetadataValue.json([*twice.head(5).to_list(), *orphans.head(5).to_list()]),
        },
    )


@dg.asset_check(
    asset="register",
    description="Mỗi giá trị vàng khác trống (và tình trạng) đều có nguồn gốc: mã bản ghi, nguồn, đêm.",
    blocking=True,
    partitions_def=nightly_partitions,
)
def lineage_present(register: Any) -> dg.AssetCheckResult:
    # The persons rebuilt tonight: every other row was checked on the night it was built.
    register = register.changed_rows() if isinstance(register, RegisterNight) else register
    missing: dict[str, int] = {}
    for column in (*survivorship_rules().columns, "status"):
        lineage = pl.col(source_column(column))
        unsourced = pl.col(column).is_not_null() & (
            lineage.is_null() | lineage.struct.field("record_id").is_null() | lineage.struct.field("night").is_null()
        )
        count = int(register.select(unsourced.sum()).item())
        if count:
            missing[column] = count
    return dg.AssetCheckResult(
        passed=not missing,
        metadata={"values_without_lineage": dg.MetadataValue.json(missing), "persons": register.height},
    )
