"""Storage of asset outputs under ``{output}/nights/{night}/``, written atomically.

A Polars frame is one Parquet file, ``{asset}.parquet``. Outputs that are (or refer to) long-lived state are folders
``{asset}/``: a version of a state table is stored as a reference to that version (a few bytes), not as a copy of
its rows, and a night's change to the base as the changed rows only. Each such folder names its kind in
``kind.json``; only the kinds listed in ``STORED_KINDS`` are read back.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol

import dagster as dg
import polars as pl

from checks.incremental import NightFindings
from matchers.engine.nightly import ClusterNight
from records.files import atomic_write
from state.base import BaseChanges
from state.register import RegisterChanges, RegisterNight
from state.tables import TableVersion


class Stored(Protocol):
    def save(self, folder: Path) -> Any: ...


STORED_KINDS: dict[str, Any] = {
    "base_changes": BaseChanges,
    "table_version": TableVersion,
    "cluster_night": ClusterNight,
    "night_findings": NightFindings,
    "register_night": RegisterNight,
    "register_changes": RegisterChanges,
}
_KIND_OF = {cls: kind for kind, cls in STORED_KINDS.items()}


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write to a temporary file in the same folder, then rename: a crash leaves the previous file intact."""
    atomic_write(path, lambda temporary: frame.write_parquet(temporary, compression="zstd"))


def write_folder_atomic(obj: Stored, kind: str, folder: Path) -> None:
    """``obj.save`` into a hidden staging folder, then swap it in: readers see the old or the new folder, whole."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob(f".{folder.name}.*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a night killed while writing
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        obj.save(staging)
        (staging / "kind.json").write_text(json.dumps({"kind": kind}), "utf-8")
        old = folder.with_name(f".{folder.name}.old")
        if folder.exists():
            os.replace(folder, old)
        os.replace(staging, folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def read_folder(folder: Path) -> Any:
    kind = json.loads((folder / "kind.json").read_text("utf-8"))["kind"]
    if kind not in STORED_KINDS:
        raise ValueError(f"{folder}: unknown stored kind {kind!r}")
    return STORED_KINDS[kind].load(folder)


def rows_of(obj: object) -> int | None:
    if isinstance(obj, pl.DataFrame):
        return obj.height
    if isinstance(obj, TableVersion):
        return obj.rows
    rows = getattr(obj, "rows", None)
    return int(rows) if isinstance(rows, int) else None


class ParquetIOManager(dg.ConfigurableIOManager):
    """Stores each output at ``{base_dir}/nights/{night}/{asset}.parquet`` (frames) or ``…/{asset}/`` (state)."""

    base_dir: str

    def _path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        night = context.partition_key if context.has_partition_key else "unpartitioned"
        return Path(self.base_dir) / "nights" / night / "__".join(context.asset_key.path)

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        path = self._path(context)
        file = path.with_suffix(".parquet")
        if isinstance(obj, pl.DataFrame):
            write_parquet_atomic(obj, file)
            shutil.rmtree(path, ignore_errors=True)
            context.add_output_metadata({"path": dg.MetadataValue.path(str(file)), "rows": obj.height})
            return
        kind = _KIND_OF.get(type(obj))
        if kind is None:
            raise TypeError(
                f"{context.asset_key.to_user_string()}: expected a polars DataFrame or a state output, "
                f"got {type(obj)!r}"
            )
        write_folder_atomic(obj, kind, path)  # type: ignore[arg-type]
        file.unlink(missing_ok=True)
        metadata: dict[str, Any] = {"path": dg.MetadataValue.path(str(path))}
        rows = rows_of(obj)
        if rows is not None:
            metadata["rows"] = rows
        context.add_output_metadata(metadata)

    def load_input(self, context: dg.InputContext) -> Any:
        path = self._path(context)
        if (path / "kind.json").exists():
            return read_folder(path)
        file = path.with_suffix(".parquet")
        if not file.exists():
            raise FileNotFoundError(f"{context.asset_key.to_user_string()}: no output at {file}; materialize it first")
        return pl.read_parquet(file)


def load_output(output_dir: Path, night: str, asset: str) -> Any:
    """A stored asset output of one night as the next asset would receive it."""
    path = Path(output_dir) / "nights" / night / asset
    if (path / "kind.json").exists():
        return read_folder(path)
    return pl.read_parquet(path.with_suffix(".parquet"))


def as_frame(output: Any) -> pl.DataFrame:
    """An output as a whole frame: a frame itself, a state output as the whole table it stands for."""
    if isinstance(output, pl.DataFrame):
        return output
    frame = output.frame()
    assert isinstance(frame, pl.DataFrame)
    return frame


def output_frame(output_dir: Path, night: str, asset: str) -> pl.DataFrame:
    """The whole table an output stands for: a frame as stored; a state output as of that night (every base
    record, every cluster, every finding), not only what the night changed."""
    return as_frame(load_output(output_dir, night, asset))
