"""``pipelines.nightly.materialize_uncaptured``: the night's run, without ``dg.materialize`` holding every asset's
output in memory until the run ends."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from pipelines.io import ParquetIOManager, output_frame
from pipelines.nightly import materialize_uncaptured
from pipelines.partitions import nightly_partitions

NIGHT = "2026-11-20"


def _graph(seen: dict[str, Any]) -> list[Any]:
    """Two assets and a check; ``seen["alive"]``: whether the upstream's returned frame was still referenced
    anywhere while the downstream asset ran (the IO manager gave it a copy read from disk)."""

    @dg.asset(partitions_def=nightly_partitions)
    def upstream() -> pl.DataFrame:
        frame = pl.DataFrame({"x": [1, 2, 3]})
        seen["upstream"] = weakref.ref(frame)
        return frame

    @dg.asset(partitions_def=nightly_partitions)
    def downstream(upstream: pl.DataFrame) -> pl.DataFrame:
        gc.collect()
        seen["alive"] = seen["upstream"]() is not None
        return upstream.with_columns(y=pl.col("x") * 2)

    @dg.asset_check(asset=downstream)
    def doubled(downstream: pl.DataFrame) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=downstream["y"].to_list() == [2, 4, 6])

    return [upstream, downstream, doubled]


def test_an_output_is_released_once_stored(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    result = materialize_uncaptured(
        _graph(seen),
        partition_key=NIGHT,
        resources={"io_manager": ParquetIOManager(base_dir=str(tmp_path))},
        instance=dg.DagsterInstance.ephemeral(),
        run_config={},
        tags={"dancu/trigger": "test"},
    )
    assert result.success
    assert seen["alive"] is False
    assert output_frame(tmp_path, NIGHT, "downstream")["y"].to_list() == [2, 4, 6]
    materialized = {str(e.asset_key.to_user_string()) for e in result.get_asset_materialization_events() if e.asset_key}
    assert materialized == {"upstream", "downstream"}
    assert [e.passed for e in result.get_asset_check_evaluations()] == [True]
    assert result.dagster_run.tags["dagster/partition"] == NIGHT


def test_dagster_materialize_would_hold_it(tmp_path: Path) -> None:
    """Why the function exists: ``dg.materialize`` keeps the value alive while the later assets run."""
    seen: dict[str, Any] = {}
    result = dg.materialize(
        _graph(seen),
        partition_key=NIGHT,
        resources={"io_manager": ParquetIOManager(base_dir=str(tmp_path))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    assert seen["alive"] is True
