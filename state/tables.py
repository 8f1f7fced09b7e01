"""Keyed tables versioned by night: the long-lived state of the nightly run.

A table lives in one folder. Each night that changes it writes
- ``seg-<night>-<digest>.parquet``: the rows that are new or changed that night (the night's *delta*);
- ``dead-<night>-<digest>.parquet``: the ids (column ``id``) whose older rows stopped being live that night
  (removed, or replaced by a row of the delta);
- ``v-<night>.json``: the night's *version*, the manifest naming the segments whose live rows make up the table.
A row of a segment written on night ``n`` is live in a version when its id columns appear in none of the version's
dead sets of nights after ``n``. Files are immutable and named by their content, so a rerun of a night that reads the
same inputs writes the same files, and a rerun on changed inputs never touches what a later version refers to. The
manifest is written last: a night killed before it leaves the previous version current, and the files it wrote
unreferenced (removed by the next commit's clean-up).

Versions are kept for rollback: ``rollback(night)`` makes an earlier version current again, ``retain(k)`` drops all
but the newest ``k``. When a version would span too many segments, or its dead rows grow large, the commit writes one
compacted segment of the live rows instead (same content, fewer files).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from records.files import atomic_write, atomic_write_text, locked

__all__ = ["Part", "TableStore", "TableVersion", "frame_digest"]

_NIGHT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MANIFEST = re.compile(r"^v-(\d{4}-\d{2}-\d{2})\.json$")
_FORMAT = 1
_ROW_GROUP = 128 * 1024


def frame_digest(frame: pl.DataFrame) -> str:
    """A short digest of a frame's content, row order and schema included (names files by what they hold)."""
    digest = hashlib.sha256(json.dumps([frame.height, [(n, str(t)) for n, t in frame.schema.items()]]).encode())
    if frame.height and frame.width:
        digest.update(frame.hash_rows(seed=11).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def _check_night(night: str) -> str:
    if not _NIGHT.match(night):
        raise ValueError(f"night must be YYYY-MM-DD, not {night!r}")
    return night


@dataclass(frozen=True, slots=True)
class Part:
    """One immutable file of a table: a segment of rows or a set of dead ids, written on ``night``."""

    file: str
    night: str
    rows: int

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "night": self.night, "rows": self.rows}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Part:
        return cls(file=str(data["file"]), night=str(data["night"]), rows=int(data["rows"]))


@dataclass(frozen=True)
class TableVersion:
    """A table as it was after one night: its live rows, read lazily from the segments."""

    directory: Path
    night: str
    id_columns: tuple[str, ...]
    segments: tuple[Part, ...]
    dead: tuple[Part, ...]
    delta: tuple[Part, ...]
    removed: Part | None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Live rows."""
        return int(self.meta.get("rows", 0))

    @property
    def full(self) -> bool:
        """True when this night rebuilt the table instead of applying a delta."""
        return bool(self.meta.get("full", False))

    def path(self, part: Part) -> Path:
        return self.directory / part.file

    def _dead_after(self, night: str) -> pl.Series | None:
        later = [self.path(p) for p in self.dead if p.night > night and p.rows]
        if not later:
            return None
        return pl.concat([pl.read_parquet(p).get_column("id") for p in later]).unique()

    def segment_scans(self, columns: Sequence[str] | None = None) -> list[pl.LazyFrame]:
        """The live rows of each segment (all columns, or ``columns``), in the order the segments were written:
        ``scan`` is their concatenation. For one pass over a large table a segment at a time."""
        parts = []
        for segment in self.segments:
            frame = pl.scan_parquet(self.path(segment))
            dead = self._dead_after(segment.night)
            if dead is not None and dead.len():
                killed = pl.any_horizontal(pl.col(c).is_in(dead.implode()) for c in self.id_columns)
                frame = frame.filter(~killed)
            parts.append(frame.select(columns) if columns is not None else frame)
        return parts

    def scan(self, columns: Sequence[str] | None = None) -> pl.LazyFrame:
        """The live rows (all columns, or ``columns``), segment by segment in the order they were written."""
        parts = self.segment_scans(columns)
        if not parts:
            return pl.LazyFrame(schema={c: pl.String for c in (columns or self.id_columns)})
        return pl.concat(parts, how="vertical")

    def read(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        return self.scan(columns).collect()

    def lookup(self, ids: pl.Series | Sequence[str], columns: Sequence[str] | None = None, *, on: str | None = None
               ) -> pl.DataFrame:  # fmt: skip
        """Live rows whose ``on`` column (default: the first id column) is one of ``ids``."""
        key = on or self.id_columns[0]
        wanted = ids if isinstance(ids, pl.Series) else pl.Series(list(ids), dtype=pl.String)
        if wanted.len() == 0:
            return self.scan(columns).head(0).collect()
        return self.scan(columns).filter(pl.col(key).is_in(wanted.unique().implode())).collect()

    def added(self, columns: Sequence[str] | None = None) -> pl.LazyFrame:
        """The rows this night wrote (its delta): every row on a full night."""
        if not self.delta:
            return self.scan(columns).head(0)
        frame = pl.concat([pl.scan_parquet(self.path(p)) for p in self.delta], how="vertical")
        return frame.select(columns) if columns is not None else frame

    def removed_ids(self) -> pl.Series:
        """Ids whose earlier rows stopped being live this night (removed, or replaced by a row of the delta)."""
        if self.removed is None or not self.removed.rows:
            return pl.Series("id", [], dtype=pl.String)
        return pl.read_parquet(self.path(self.removed)).get_column("id")

    def files(self) -> set[str]:
        named = [*self.segments, *self.dead, *self.delta, *([self.removed] if self.removed else [])]
        return {p.file for p in named}

    def to_reference(self) -> dict[str, Any]:
        """What a night's output needs to find this version again (``TableStore.at``)."""
        return {"table": str(self.directory), "night": self.night, "id_columns": list(self.id_columns)}

    def save(self, folder: Path) -> None:
        """A night's output that refers to this version instead of copying its rows."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "version.json").write_text(json.dumps(self.to_reference(), indent=1), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> TableVersion:
        return TableStore.at(json.loads((folder / "version.json").read_text("utf-8")))

    def frame(self) -> pl.DataFrame:
        """Every live row (the whole table as of this night)."""
        return self.read()

    def changed_rows(self, columns: list[str] | None = None) -> pl.DataFrame:
        """What tonight wrote (the rows an output check validates), all columns or those of ``columns`` it has."""
        if columns is None:
            return self.added().collect()
        schema = self.added().collect_schema()
        return self.added([c for c in columns if c in schema]).collect()


class TableStore:
    """One versioned table in ``directory``; ``id_columns`` are the columns a dead id kills a row by."""

    def __init__(
        self,
        directory: Path,
        id_columns: Sequence[str] = ("record_id",),
        *,
        max_segments: int = 15,
        max_dead_share: float = 0.25,
    ) -> None:
        self.directory = Path(directory)
        self.id_columns = tuple(id_columns)
        self.max_segments = max_segments
        self.max_dead_share = max_dead_share

    @classmethod
    def at(cls, reference: Mapping[str, Any]) -> TableVersion:
        store = cls(Path(reference["table"]), tuple(reference["id_columns"]))
        return store.version(str(reference["night"]))

    def _manifest(self, night: str) -> Path:
        return self.directory / f"v-{_check_night(night)}.json"

    def nights(self) -> list[str]:
        """Nights with a version, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(m[1] for p in self.directory.iterdir() if (m := _MANIFEST.match(p.name)))

    def version(self, night: str) -> TableVersion:
        path = self._manifest(night)
        if not path.exists():
            raise FileNotFoundError(f"{self.directory.name}: no version for night {night} ({path})")
        data = json.loads(path.read_text("utf-8"))
        if data.get("format") != _FORMAT:
            raise ValueError(f"{path}: unknown state format {data.get('format')!r}")
        return TableVersion(
            directory=self.directory,
            night=night,
            id_columns=tuple(data["id_columns"]),
            segments=tuple(Part.from_dict(p) for p in data["segments"]),
            dead=tuple(Part.from_dict(p) for p in data["dead"]),
            delta=tuple(Part.from_dict(p) for p in data.get("delta", [])),
            removed=Part.from_dict(data["removed"]) if data.get("removed") else None,
            meta=data.get("meta", {}),
        )

    def latest(self, before: str | None = None) -> TableVersion | None:
        """The newest version (strictly before night ``before`` when given)."""
        nights = [n for n in self.nights() if before is None or n < before]
        return self.version(nights[-1]) if nights else None

    def _write_part(self, prefix: str, night: str, frame: pl.DataFrame) -> Part:
        name = f"{prefix}-{night}-{frame_digest(frame)}.parquet"
        path = self.directory / name
        if not path.exists():  # same name, same content: a rerun finds its file already written

            def write(temporary: Path) -> None:
                frame.write_parquet(temporary, compression="zstd", statistics=True, row_group_size=_ROW_GROUP)

            atomic_write(path, write)
        return Part(file=name, night=night, rows=frame.height)

    def _compact(self, night: str, version: TableVersion) -> Part:
        """One segment of the live rows, streamed (a large table never sits in memory at once)."""
        sources = "|".join([*(p.file for p in version.segments), *(p.file for p in version.dead)])
        name = f"seg-{night}-c{hashlib.sha256(sources.encode()).hexdigest()[:15]}.parquet"
        path = self.directory / name
        if not path.exists():

            def write(temporary: Path) -> None:
                version.scan().sink_parquet(temporary, compression="zstd", statistics=True, row_group_size=_ROW_GROUP)

            atomic_write(path, write)
        return Part(file=name, night=night, rows=version.rows)

    def _conform(self, schema: Mapping[str, pl.DataType | type[pl.DataType]], added: pl.DataFrame) -> pl.DataFrame:
        """``added`` in the column order and types of the table (a column that is all null tonight stays typed)."""
        missing = [c for c in schema if c not in added.columns]
        extra = [c for c in added.columns if c not in schema]
        if missing or extra:
            raise ValueError(
                f"{self.directory.name}: added rows do not have the table's columns "
                f"(missing {missing}, unexpected {extra})"
            )
        return added.select(pl.col(name).cast(dtype) for name, dtype in schema.items())

    def commit(
        self,
        night: str,
        *,
        base: TableVersion | None,
        added: pl.DataFrame | Iterable[pl.DataFrame],
        removed: pl.Series | Iterable[str] = (),
        meta: Mapping[str, Any] | None = None,
        empty_schema: Mapping[str, pl.DataType | type[pl.DataType]] | None = None,
    ) -> TableVersion:
        """Write the version of ``night``: ``base`` (None: start from nothing) minus ``removed`` ids plus ``added``.

        ``added`` (one frame, or chunks written one by one so a large table never sits in memory) replaces the live
        rows of its ids when the table has a single id column. ``empty_schema``: the columns when nothing is added
        and there is no base. Returns the committed version; files no version refers to any more are deleted.
        """
        _check_night(night)
        if base is not None and base.night >= night:
            raise ValueError(f"{self.directory.name}: version {night} cannot build on the later version {base.night}")
        chunks = [added] if isinstance(added, pl.DataFrame) else added
        removed_ids = removed if isinstance(removed, pl.Series) else pl.Series("id", list(removed), dtype=pl.String)
        dead_parts_ids = [removed_ids.cast(pl.String).alias("id")]
        schema: Mapping[str, pl.DataType | type[pl.DataType]] | None = None
        if base is not None and base.segments:
            schema = pl.read_parquet_schema(base.path(base.segments[-1]))
        with locked(self.directory / "commit"):
            delta: list[Part] = []
            for chunk in chunks:
                if schema is None:
                    schema = chunk.schema
                if chunk.height == 0 and delta:
                    continue
                chunk = self._conform(schema, chunk)
                if base is not None and len(self.id_columns) == 1:
                    dead_parts_ids.append(chunk.get_column(self.id_columns[0]).cast(pl.String).alias("id"))
                delta.append(self._write_part("seg", night, chunk))
                del chunk  # not held while a generator of chunks makes the next one
            if not delta:
                schema = schema or empty_schema
                if schema is None:
                    raise ValueError(f"{self.directory.name}: nothing added and no schema to create the table with")
                delta.append(self._write_part("seg", night, pl.DataFrame(schema=dict(schema))))
            dead_ids = pl.concat(dead_parts_ids).unique().sort().rename("id")
            dead = self._write_part("dead", night, dead_ids.to_frame("id"))
            if base is None:
                segments, dead_parts = delta, []
            else:
                segments = [*base.segments, *delta]
                dead_parts = [*base.dead, dead] if dead.rows else list(base.dead)
            rows = self._count_live(segments, dead_parts)
            version_meta: dict[str, Any] = {
                "full": base is None,
                "previous": base.night if base else None,
                **(meta or {}),
                "rows": rows,
            }
            version = self._version(night, segments, dead_parts, delta, dead, version_meta)
            if base is not None and self._needs_compaction(version):
                compacted = self._compact(night, version)
                version = self._version(night, [compacted], [], delta, dead, version_meta)
            atomic_write_text(self._manifest(night), json.dumps(self._manifest_data(version), indent=1) + "\n")
            self._collect_garbage()
        return version

    def _version(self, night: str, segments: Sequence[Part], dead: Sequence[Part], delta: Sequence[Part],
                 removed: Part, meta: Mapping[str, Any]) -> TableVersion:  # fmt: skip
        return TableVersion(
            directory=self.directory,
            night=night,
            id_columns=self.id_columns,
            segments=tuple(segments),
            dead=tuple(dead),
            delta=tuple(delta),
            removed=removed,
            meta=dict(meta),
        )

    def _count_live(self, segments: Sequence[Part], dead: Sequence[Part]) -> int:
        probe = TableVersion(self.directory, "9999-12-31", self.id_columns, tuple(segments), tuple(dead), (), None)
        # Only the id columns are read: the count costs one pass over them, not over the rows.
        counted = probe.scan(list(dict.fromkeys(self.id_columns))).select(pl.len()).collect()
        return int(counted.item())

    def _needs_compaction(self, version: TableVersion) -> bool:
        if len(version.segments) > self.max_segments:
            return True
        stored = sum(p.rows for p in version.segments)
        return stored > 0 and (stored - version.rows) / stored > self.max_dead_share

    def _manifest_data(self, version: TableVersion) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "night": version.night,
            "id_columns": list(version.id_columns),
            "segments": [p.as_dict() for p in version.segments],
            "dead": [p.as_dict() for p in version.dead],
            "delta": [p.as_dict() for p in version.delta],
            "removed": version.removed.as_dict() if version.removed else None,
            "meta": dict(version.meta),
        }

    def _collect_garbage(self) -> None:
        """Delete data files no version refers to (left by a killed night, or by versions dropped)."""
        referenced: set[str] = set()
        for night in self.nights():
            referenced |= self.version(night).files()
        for path in self.directory.iterdir():
            if path.suffix == ".parquet" and path.name.startswith(("seg-", "dead-")) and path.name not in referenced:
                path.unlink(missing_ok=True)

    def rollback(self, night: str) -> list[str]:
        """Make the version of ``night`` current again: versions after it are dropped. Returns the dropped nights."""
        self.version(night)  # must exist
        with locked(self.directory / "commit"):
            dropped = [n for n in self.nights() if n > night]
            for later in dropped:
                self._manifest(later).unlink()
            self._collect_garbage()
        return dropped

    def discard(self, night: str) -> None:
        """Drop the version of ``night`` itself (a night rebuilt from scratch replaces it)."""
        with locked(self.directory / "commit"):
            self._manifest(night).unlink(missing_ok=True)
            self._collect_garbage()

    def retain(self, keep: int) -> list[str]:
        """Keep the newest ``keep`` versions; returns the nights dropped."""
        if keep < 1:
            raise ValueError("at least one version must be kept")
        with locked(self.directory / "commit"):
            nights = self.nights()
            dropped = nights[: max(0, len(nights) - keep)]
            for night in dropped:
                self._manifest(night).unlink()
            if dropped:
                self._collect_garbage()
        return dropped

    def disk_bytes(self, night: str | None = None) -> int:
        """Bytes on disk of the whole table, or of the files written on ``night``."""
        if not self.directory.is_dir():
            return 0
        files = [p for p in self.directory.iterdir() if p.is_file()]
        if night is not None:
            files = [p for p in files if f"-{night}" in p.name]
        return sum(p.stat().st_size for p in files)


def route_rows(base: TableVersion, ranges: pl.DataFrame, folder: Path, parts: int) -> list[list[Path]]:
    """The rows of each range of a table keyed on ``record_id``, in one pass over it: each segment's live rows joined
    to their range (``ranges``: ``record_id``, ``_partition``; a row of no range is left out) and written to
    ``folder``, a file per range and segment, in the table's order. Reading a range's files gives the rows, in the
    order, that ``base.lookup`` of its record ids gives, without a scan of the whole table per range: at 10,000,000
    people a full night has 25-40 ranges, and as many scans decoding every column of the base were a full night's
    largest cost (the register's ranges of persons, the checks' chunks of groups). Returns each range's files."""
    files: list[list[Path]] = [[] for _ in range(parts)]
    for index, segment in enumerate(base.segment_scans()):
        rows = segment.collect()
        # The range of each row found on the ids alone, then set beside the rows: a join of the rows themselves
        # would gather every column once more.
        part_of = rows.select("record_id").join(ranges, on="record_id", how="left", maintain_order="left")
        rows = rows.with_columns(part_of.get_column("_partition"))
        for (part,), piece in rows.partition_by("_partition", as_dict=True, maintain_order=True).items():
            if part is None:  # not in tonight's clusters: in no range
                continue
            path = folder / f"base-{int(part):05d}-{index:05d}.parquet"
            piece.drop("_partition").write_parquet(path, compression="lz4")
            files[int(part)].append(path)
        del rows
    return files
