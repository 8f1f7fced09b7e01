"""Parquet storage for asset outputs: one file per asset and night, written atomically.

With the Spark engine an asset may return a Spark DataFrame: it is written by Spark as a folder of part files at
the same path (Polars, DuckDB and Spark all read either form). An input marked ``ENGINE_INPUT`` is loaded as a Spark
DataFrame (with ``_row`` numbers) when the engine is Spark, as a Polars frame otherwise.
"""

# No "from __future__ import annotations": Dagster reads the resource dependency annotation at class creation.

from pathlib import Path
from typing import Any, Final

import dagster as dg
import polars as pl

from pipelines.resources import EngineResource
from records.files import atomic_write

ENGINE_INPUT: Final = {"dancu/frame": "engine"}
"""Input metadata of an asset that runs on the engine: ``dg.AssetIn(metadata=ENGINE_INPUT)``."""

EngineFrame = Any
"""An engine asset's input and output: a Polars frame (embedded engine) or a Spark DataFrame (Spark engine)."""


def on_spark(frame: object) -> bool:
    """True for a Spark DataFrame: the engine resource chose Spark, so the asset runs its functions on Spark."""
    return type(frame).__module__.startswith("pyspark")


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write to a temporary file in the same folder, then rename: a crash leaves the previous file intact."""
    atomic_write(path, lambda temporary: frame.write_parquet(temporary, compression="zstd"))


def engine_inputs(*names: str) -> dict[str, dg.AssetIn]:
    """``ins`` for the upstream assets an engine asset reads on the engine."""
    return {name: dg.AssetIn(metadata=ENGINE_INPUT) for name in names}


class ParquetIOManager(dg.ConfigurableIOManager):
    """Stores each DataFrame output at ``{base_dir}/nights/{night}/{asset}.parquet``."""

    base_dir: str
    engine: dg.ResourceDependency[EngineResource | None] = None  # type: ignore[assignment]

    def _path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        night = context.partition_key if context.has_partition_key else "unpartitioned"
        return Path(self.base_dir) / "nights" / night / f"{'__'.join(context.asset_key.path)}.parquet"

    def _on_spark(self) -> bool:
        return self.engine is not None and self.engine.is_spark

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        path = self._path(context)
        if isinstance(obj, pl.DataFrame):
            write_parquet_atomic(obj, path)
            rows = obj.height
        elif on_spark(obj):
            from scaleout.frames import ROW, read_parquet, write_parquet

            # Written in row order: Polars, DuckDB and the next Spark step read the part files in name order.
            ordered = [ROW] if ROW in obj.columns else []
            write_parquet(obj, path, order=ordered, drop=ordered)
            rows = read_parquet(obj.sparkSession, path).count()
        else:
            raise TypeError(f"{context.asset_key.to_user_string()}: expected a polars DataFrame, got {type(obj)!r}")
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path)), "rows": rows})

    def load_input(self, context: dg.InputContext) -> Any:
        path = self._path(context)
        if not path.exists():
            raise FileNotFoundError(f"{context.asset_key.to_user_string()}: no output at {path}; materialize it first")
        metadata = context.definition_metadata or {}
        if self._on_spark() and metadata.get("dancu/frame") == ENGINE_INPUT["dancu/frame"]:
            from scaleout.frames import read_table

            assert self.engine is not None
            return read_table(self.engine.spark(), path)
        return pl.read_parquet(path)
