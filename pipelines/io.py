"""Parquet storage for asset outputs: one file per asset and night, written atomically."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl

from records.files import atomic_write


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write to a temporary file in the same folder, then rename: a crash leaves the previous file intact."""
    atomic_write(path, lambda temporary: frame.write_parquet(temporary, compression="zstd"))


class ParquetIOManager(dg.ConfigurableIOManager):
    """Stores each Polars DataFrame output at ``{base_dir}/{night}/{asset}.parquet``."""

    base_dir: str

    def _path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        night = context.partition_key if context.has_partition_key else "unpartitioned"
        return Path(self.base_dir) / "nights" / night / f"{'__'.join(context.asset_key.path)}.parquet"

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        if not isinstance(obj, pl.DataFrame):
            raise TypeError(f"{context.asset_key.to_user_string()}: expected a polars DataFrame, got {type(obj)!r}")
        path = self._path(context)
        write_parquet_atomic(obj, path)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path)), "rows": obj.height})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        path = self._path(context)
        if not path.exists():
            raise FileNotFoundError(f"{context.asset_key.to_user_string()}: no output at {path}; materialize it first")
        return pl.read_parquet(path)
