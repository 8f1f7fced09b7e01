"""The nightly graph on the Spark engine: the same asset graph, the engine resource chooses where normalization runs,
and the normalized base and extracts equal the embedded engine's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from normalize.frame import normalize_records
from pipelines.defs import load_pipeline_definitions
from pipelines.engine_options import EngineResource
from pipelines.resources import build_resources
from state.tables import TableVersion
from tests.spark.conftest import NIGHT, SPARK, Province

pytestmark = SPARK
INGESTED = ["population_base", "extract_records", "ingest_quarantine", "ingest_files"]


def _spark_resources(province: Province, out: Path) -> dict[str, object]:
    engine = EngineResource(kind="spark", spark_master="local[2]")
    return build_resources(str(province.input_dir), str(out), engine=engine)


def test_definitions_load_with_the_spark_engine(province: Province, tmp_path: Path) -> None:
    def keys(resources: dict[str, object]) -> set[str]:
        definitions = dg.Definitions.merge(load_pipeline_definitions(), dg.Definitions(resources=resources))
        dg.Definitions.validate_loadable(definitions)
        return {key.to_user_string() for key in definitions.resolve_all_asset_keys()}

    embedded = keys(build_resources(str(province.input_dir), str(tmp_path), engine=EngineResource()))
    on_spark = keys(_spark_resources(province, tmp_path))
    assert on_spark == embedded and {"normalized_base", "scored_pairs", "register"} <= on_spark


def test_normalize_assets_on_spark_equal_the_embedded_engine(spark: Any, province: Province, tmp_path: Path) -> None:
    assets = list(load_pipeline_definitions().assets or [])
    jobs_before = set(spark.sparkContext.statusTracker().getJobIdsForGroup())
    result = dg.materialize(
        assets,  # type: ignore[arg-type]
        selection=[*INGESTED, "normalized_base", "normalized_extracts"],
        partition_key=NIGHT.isoformat(),
        resources=_spark_resources(province, tmp_path / "out"),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=True,
    )
    assert result.success
    # Spark did the normalizing: jobs ran on the session during the materialization.
    assert set(spark.sparkContext.statusTracker().getJobIdsForGroup()) - jobs_before
    # The session the test run shares was reused and left running (the resource stops only a session it started).
    assert not spark.sparkContext._jsc.sc().isStopped()
    extract_records = result.output_for_node("ingest", "extract_records")
    normalized_extracts = result.output_for_node("normalized_extracts")
    assert normalized_extracts.height == extract_records.height > 0
    assert normalized_extracts.equals(normalize_records(extract_records, as_of=NIGHT))
    version: TableVersion = result.output_for_node("normalized_base")
    stored = version.read().select(province.base.columns).sort("record_id")
    assert stored.equals(province.base.sort("record_id"))
