"""Hand-built frames as the nightly graph hands them on: the large outputs as state versions built from nothing.

Tests that stub the upstream assets of a stage with small frames wrap them with ``as_state_output``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from checks.findings import FINDINGS_SCHEMA
from checks.incremental import NightFindings, findings_store
from matchers.engine.clustering import ClusterReport
from matchers.engine.nightly import CHANGE_SCHEMA, ClusterNight, cluster_store
from records.ingest import QUARANTINE_SCHEMA, IngestResult, base_file_report
from register.store import RegisterStore
from register.types import CHANGES_SCHEMA
from state.base import BaseChanges, base_store
from state.hashing import HASH_COLUMN
from state.register import REGISTER_FOLDER, RegisterChanges, RegisterNight, register_findings_store

__all__ = ["as_state_output"]


def as_state_output(name: str, frame: pl.DataFrame, state_dir: Path, night: str) -> Any:
    """The output ``name`` of the nightly graph holding ``frame`` (frames the graph keeps as frames pass through)."""
    if name == "normalized_base":
        return base_store(state_dir).commit(night, base=None, added=frame)
    if name == "population_base":
        hashed = frame.with_columns(pl.lit(0, dtype=pl.UInt64).alias(HASH_COLUMN))
        files = base_file_report("population_base.parquet", list(frame.columns), frame.height, frame.height, 0)
        return BaseChanges(night, None, hashed, pl.Series("id", [], dtype=pl.String), 0,
                           IngestResult(frame, pl.DataFrame(schema=QUARANTINE_SCHEMA), files))  # fmt: skip
    if name == "person_clusters":
        if "source" not in frame.columns:
            in_base = pl.col("record_id").str.starts_with("B")
            source = pl.when(in_base).then(pl.lit("base")).otherwise(pl.lit("extract"))
            frame = frame.with_columns(source.alias("source"))
        version = cluster_store(state_dir).commit(night, base=None, added=frame)
        empty = pl.DataFrame(schema=CHANGE_SCHEMA)
        return ClusterNight(clusters=version, report=ClusterReport(0, 0, 0, 0), changes=empty, touched=frame)
    if name == "quality_findings":
        findings = frame.match_to_schema(FINDINGS_SCHEMA)
        base = findings.filter(pl.col("source") == "base")
        version = findings_store(state_dir).commit(night, base=None, added=base, empty_schema=FINDINGS_SCHEMA)
        ids = findings.get_column("record_id").unique()
        return NightFindings(version, findings.filter(pl.col("source") != "base"), ids, True,
                             pl.DataFrame(schema={"rule": pl.String, "findings": pl.Int64, "seconds": pl.Float64}),
                             subjects=ids)  # fmt: skip
    if name == "register":
        store = RegisterStore(state_dir / REGISTER_FOLDER)
        store.write(night, frame, pl.DataFrame(schema=CHANGES_SCHEMA))
        findings_of_register = register_findings_store(state_dir)
        version = findings_of_register.latest() or findings_of_register.commit(
            night, base=None, added=pl.DataFrame(schema=FINDINGS_SCHEMA), empty_schema=FINDINGS_SCHEMA
        )
        keys = frame.get_column("person_key")
        return RegisterNight(store.root, night, frame, pl.DataFrame(schema=CHANGES_SCHEMA), keys.head(0), version,
                             keys, True)  # fmt: skip
    if name == "register_changes":
        return RegisterChanges(state_dir / REGISTER_FOLDER, night, frame)
    if name == "register_findings":
        return register_findings_store(state_dir).commit(
            night, base=None, added=frame.match_to_schema(FINDINGS_SCHEMA), empty_schema=FINDINGS_SCHEMA
        )
    return frame
