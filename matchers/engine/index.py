"""The persisted base index for incremental linking.

Built once per base snapshot: the prepared base records (Arrow IPC, memory-mapped), the base's term frequencies
(stored per record, since an exact agreement has the same value on both sides), one sorted key array per blocking
rule (NumPy, memory-mapped) and u estimated on random base pairs. Linking an extract then reads only the pages it
touches: binary search in the key arrays, then the matched base rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from matchers.engine.blocking import SortedKeys, block_keys, sorted_keys
from matchers.engine.linker import (
    FrameSource,
    MatchResult,
    compare_candidates,
    link_candidates,
    prepare_records,
    random_pair_levels,
    train_and_score,
)
from matchers.engine.scoring import ModelParameters, estimate_u
from matchers.engine.settings import MatchSettings
from records.files import atomic_write, atomic_write_text
from state.tables import frame_digest

__all__ = [
    "MODEL_FOLDER",
    "BaseIndex",
    "IndexMismatch",
    "IndexStore",
    "IndexVersion",
    "LiveIndex",
    "MappedSource",
    "SegmentedSource",
    "TrainedModel",
    "base_digest",
    "file_digest",
    "settings_fingerprint",
    "term_frequency_tables",
]

_FORMAT = 1


class IndexMismatch(ValueError):
    """The index on disk was built for other settings, another base or another engine version."""


def settings_fingerprint(settings: MatchSettings) -> str:
    """Changes whenever a setting that shapes the index changes (comparisons, levels, rules, tf columns)."""
    described = {
        "name": settings.name,
        "comparisons": [(c.name, c.labels, c.columns) for c in settings.comparisons],
        "rules": [(r.name, r.columns, r.max_block_size) for r in settings.blocking_rules],
        "tf": settings.tf_columns,
        "derived": [str(expr) for expr in settings.derived],
        "polars": pl.__version__,  # key hashes are Polars' own; another version may hash differently
        "format": _FORMAT,
    }
    return hashlib.sha256(json.dumps(described, default=list, sort_keys=True).encode()).hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (and its size): which base file an index was built from."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return f"{path.stat().st_size}:{digest.hexdigest()}"


def base_digest(base: pl.DataFrame) -> str:
    """A content digest of a base frame (row order independent)."""
    hashes = base.hash_rows(seed=7).to_numpy()
    if hashes.size == 0:
        return "0"
    return f"{base.height}:{int(hashes.sum(dtype=np.uint64))}:{int(hashes.max())}:{int(hashes.min())}"


@dataclass(frozen=True, slots=True)
class MappedSource:
    """Base records in a memory-mapped Arrow IPC file; ``take`` touches only the requested rows' pages."""

    table: pa.Table

    @classmethod
    def open(cls, path: Path) -> MappedSource:
        source = pa.memory_map(str(path), "r")
        return cls(pa.ipc.open_file(source).read_all())

    @property
    def height(self) -> int:
        return int(self.table.num_rows)

    def take(self, rows: np.ndarray | pl.Series, columns: list[str]) -> pl.DataFrame:
        indices = rows.to_numpy() if isinstance(rows, pl.Series) else rows
        taken = self.table.select(columns).take(pa.array(indices, type=pa.uint32()))
        frame = pl.from_arrow(taken)
        assert isinstance(frame, pl.DataFrame)
        return frame


@dataclass(slots=True)
class BaseIndex:
    directory: Path
    settings: MatchSettings
    records: MappedSource
    keys: list[SortedKeys]
    u: dict[str, np.ndarray]
    oversized: list[tuple[int, int]]
    manifest: dict[str, object]
    model: ModelParameters | None

    @classmethod
    def build(
        cls,
        base: pl.DataFrame,
        settings: MatchSettings,
        directory: Path,
        *,
        model: ModelParameters | None = None,
        u: dict[str, np.ndarray] | None = None,
        source_digest: str | None = None,
    ) -> BaseIndex:
        """Build the index of ``base`` (normalized records) into ``directory``; replaces an old one atomically.

        ``u``: u already estimated on random pairs of this very base (a dedupe of it just did), to skip sampling.
        ``source_digest``: a digest of the file ``base`` was read from (``file_digest``), so that a later run on the
        same file can reuse the index without reading and normalizing the base again (``reuse``).
        """
        records = prepare_records(base, settings, with_tf=True)
        keys, oversized = block_keys(records, settings.blocking_rules)
        if u is None:
            source = FrameSource(records)
            u = estimate_u(random_pair_levels(source, source, settings, same_source=True), settings)
        elif set(u) != {c.name for c in settings.comparisons}:
            raise ValueError("u must cover exactly the comparisons of the settings")
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        try:
            # Plain (not view) strings: Arrow can take rows from them while they stay memory-mapped.
            records.write_ipc(
                staging / "records.arrow", compression="uncompressed", compat_level=pl.CompatLevel.oldest()
            )
            for i, rule_keys in enumerate(sorted_keys(keys)):
                np.save(staging / f"keys_{i}.npy", rule_keys.keys)
                np.save(staging / f"rows_{i}.npy", rule_keys.rows)
            if model is not None:
                model.save(staging / "model.json")
            manifest = {
                "settings": settings.name,
                "fingerprint": settings_fingerprint(settings),
                "base_digest": base_digest(base),
                "source_digest": source_digest,
                "records": records.height,
                "rules": [rule.name for rule in settings.blocking_rules],
                "oversized": oversized,
                "u": {name: values.tolist() for name, values in u.items()},
            }
            (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
            previous = directory.with_name(f".{directory.name}.old")
            if directory.exists():
                shutil.rmtree(previous, ignore_errors=True)
                os.replace(directory, previous)
            os.replace(staging, directory)
            shutil.rmtree(previous, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return cls.open(directory, settings)

    @classmethod
    def open(cls, directory: Path, settings: MatchSettings) -> BaseIndex:
        manifest_path = directory / "manifest.json"
        if not manifest_path.exists():
            raise IndexMismatch(f"no match index at {directory}")
        manifest = json.loads(manifest_path.read_text("utf-8"))
        if manifest.get("fingerprint") != settings_fingerprint(settings):
            raise IndexMismatch(f"match index at {directory} was built for other settings or another Polars")
        keys = [
            SortedKeys(
                np.load(directory / f"keys_{i}.npy", mmap_mode="r"), np.load(directory / f"rows_{i}.npy", mmap_mode="r")
            )
            for i in range(len(settings.blocking_rules))
        ]
        model_path = directory / "model.json"
        return cls(
            directory=directory,
            settings=settings,
            records=MappedSource.open(directory / "records.arrow"),
            keys=keys,
            u={name: np.asarray(values, dtype=np.float64) for name, values in manifest["u"].items()},
            oversized=[(int(a), int(b)) for a, b in manifest["oversized"]],
            manifest=manifest,
            model=ModelParameters.load(model_path) if model_path.exists() else None,
        )

    @classmethod
    def reuse(cls, directory: Path, settings: MatchSettings, source_digest: str) -> BaseIndex | None:
        """The index in ``directory`` when it was built from the file with this digest and these settings."""
        try:
            index = cls.open(directory, settings)
        except IndexMismatch:
            return None
        return index if index.manifest.get("source_digest") == source_digest else None

    def record_frame(self, columns: list[str]) -> pl.DataFrame:
        """Some columns of every indexed base record (read from the memory-mapped file)."""
        frame = pl.from_arrow(self.records.table.select(columns))
        assert isinstance(frame, pl.DataFrame)
        return frame

    @classmethod
    def ensure(cls, base: pl.DataFrame, settings: MatchSettings, directory: Path) -> tuple[BaseIndex, bool]:
        """Open the index when it was built from this very base with these settings, else rebuild it.

        Returns the index and whether it was rebuilt.
        """
        try:
            index = cls.open(directory, settings)
        except IndexMismatch:
            return cls.build(base, settings, directory), True
        if index.manifest.get("base_digest") != base_digest(base):
            return cls.build(base, settings, directory), True
        return index, False

    def save_model(self, model: ModelParameters) -> None:
        path = self.directory / "model.json"
        temporary = path.with_suffix(".tmp")
        model.save(temporary)
        os.replace(temporary, path)
        self.model = model

    def candidates(self, extract: pl.DataFrame) -> tuple[pl.DataFrame, FrameSource, list]:
        """Candidate pairs (``_l`` extract row, ``_r`` base row, ``_rule``), the prepared extract and the report."""
        records = prepare_records(extract, self.settings, with_tf=False)
        found = link_candidates(records, self.keys, self.settings, oversized=self.oversized)
        return found.pairs, FrameSource(records), found.report

    def link(
        self,
        extract: pl.DataFrame,
        *,
        labels: pl.DataFrame | None = None,
        model: ModelParameters | None = None,
        batch_pairs: int = 2_000_000,
    ) -> MatchResult:
        """Link a night's extract (normalized records) to the indexed base.

        The model is trained by EM on the night's own candidates (its errors differ from the base's); with too few
        candidates the index's stored model is used.
        """
        pairs, source, report = self.candidates(extract)
        compared = compare_candidates(pairs, source, self.records, self.settings, batch_pairs=batch_pairs)
        scored, trained = train_and_score(
            compared,
            source,
            self.records,
            self.settings,
            kind="link",
            labels=labels,
            model=model,
            u=lambda: self.u,
            fallback_model=self.model,
        )
        return MatchResult(pairs=scored, model=trained, blocking=report)


# ---------------------------------------------------------------- the nightly index, versioned by night

_NIGHT_FORMAT = 1
_SEGMENT_ROWS = 2_000_000
_QUERY_ROWS = 400_000


@dataclass(frozen=True)
class TrainedModel:
    """What the nightly matching scores with until the next training: the base dedupe model (m, u, prior), u on
    random base pairs, and the base's term frequencies (value -> share among known values, per tf column).

    Frozen between trainings so that a night's incremental result equals a full recompute of the same night: a pair
    of unchanged records keeps its score. A value unseen at training counts as seen once (the rarest known value).
    Saved in parts: the term frequencies first (the index needs them), then u, then the model trained by EM.
    """

    night: str
    model: ModelParameters | None
    u: dict[str, np.ndarray]
    tf: dict[str, pl.DataFrame]
    known: dict[str, int]
    fingerprint: str = ""

    def save_tf(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for column, table in self.tf.items():
            atomic_write(directory / f"tf_{column}.parquet", table.write_parquet)
        self._save_meta(directory)

    def _save_meta(self, directory: Path) -> None:
        meta = {
            "night": self.night,
            "fingerprint": self.fingerprint,
            "u": {name: values.tolist() for name, values in self.u.items()},
            "known": self.known,
        }
        atomic_write_text(directory / "trained.json", json.dumps(meta, indent=1))

    @staticmethod
    def fingerprint_of(directory: Path) -> str:
        path = directory / "trained.json"
        return str(json.loads(path.read_text("utf-8")).get("fingerprint", "")) if path.exists() else ""

    @classmethod
    def load(cls, directory: Path) -> TrainedModel:
        meta = json.loads((directory / "trained.json").read_text("utf-8"))
        known = {str(k): int(v) for k, v in meta["known"].items()}
        model_path = directory / "model.json"
        return cls(
            night=str(meta["night"]),
            model=ModelParameters.load(model_path) if model_path.exists() else None,
            u={name: np.asarray(values, dtype=np.float64) for name, values in meta["u"].items()},
            tf={column: pl.read_parquet(directory / f"tf_{column}.parquet") for column in known},
            known=known,
            fingerprint=str(meta.get("fingerprint", "")),
        )

    def scoring_model(self) -> ModelParameters:
        if self.model is None:
            raise ValueError(f"the model of training night {self.night} has not been trained yet")
        return self.model

    def with_term_frequencies(self, prepared: pl.DataFrame) -> pl.DataFrame:
        """``prepared`` records (``prepare_records(..., with_tf=False)``) with their ``tf_<column>`` from the model."""
        for column, table in self.tf.items():
            unseen = 1.0 / max(self.known[column], 1)
            looked_up = prepared.select(column).join(
                table.rename({"value": column}), on=column, how="left", maintain_order="left"
            )
            values = looked_up.select(
                pl.when(pl.col(column).is_not_null()).then(pl.col("tf").fill_null(unseen)).cast(pl.Float64)
            ).to_series()
            prepared = prepared.with_columns(values.alias(f"tf_{column}"))
        return prepared


def term_frequency_tables(
    base: pl.LazyFrame, settings: MatchSettings
) -> tuple[dict[str, pl.DataFrame], dict[str, int]]:
    """Per tf column: each value's share among the known values of the base (what ``prepare_records`` computes)."""
    tables: dict[str, pl.DataFrame] = {}
    known: dict[str, int] = {}
    for column in settings.tf_columns:
        counts = base.select(column).drop_nulls().group_by(column).agg(pl.len().alias("_n")).collect()
        total = int(counts.get_column("_n").sum()) if counts.height else 0
        known[column] = total
        tables[column] = counts.select(
            pl.col(column).alias("value"), (pl.col("_n") / max(total, 1)).cast(pl.Float64).alias("tf")
        ).sort("value")
    return tables, known


@dataclass(frozen=True)
class _Segment:
    folder: str
    night: str
    rows: int


class SegmentedSource:
    """Index records across segments, addressed by global row number (segment after segment).

    Rows are taken from the memory-mapped files (a night touches few of them); ``load()`` reads every segment into
    memory first, which is faster when most rows will be taken (a full night compares every base pair).
    """

    def __init__(self, sources: list[MappedSource], live_rows: int) -> None:
        self.sources = sources
        self.offsets = np.cumsum([0, *(s.height for s in sources)]).astype(np.int64)
        self.live_rows = live_rows
        self.frame: pl.DataFrame | None = None

    @property
    def height(self) -> int:
        """Live records (what a pair count over the base is taken over)."""
        return self.live_rows

    @property
    def stored_rows(self) -> int:
        return int(self.offsets[-1])

    @property
    def nbytes(self) -> int:
        """Bytes the stored records take (what ``load()`` would hold in memory)."""
        return sum(int(source.table.nbytes) for source in self.sources)

    def load(self) -> None:
        """Hold every segment in memory (one contiguous frame): gathers are several times faster than from files."""
        if self.frame is None:
            parts = []
            for source in self.sources:
                frame = pl.from_arrow(source.table)
                assert isinstance(frame, pl.DataFrame)
                parts.append(frame)
            self.frame = pl.concat(parts).rechunk()

    def take(self, rows: np.ndarray | pl.Series, columns: list[str]) -> pl.DataFrame:
        wanted = (rows.to_numpy() if isinstance(rows, pl.Series) else np.asarray(rows)).astype(np.int64)
        if self.frame is not None:
            return self.frame.select(pl.col(columns).gather(pl.Series(wanted)))
        if len(self.sources) == 1:
            return self.sources[0].take(wanted, columns)
        if wanted.shape[0] == 0:
            return self.sources[0].take(np.empty(0, dtype=np.int64), columns)
        segment = np.searchsorted(self.offsets, wanted, side="right") - 1
        # Taken segment by segment, in segment order (``order`` groups the wanted rows by segment), then put back
        # in the order asked by one gather: no sort of the taken records.
        order = np.argsort(segment, kind="stable")
        bounds = np.searchsorted(segment[order], np.arange(len(self.sources) + 1), side="left")
        parts = [
            self.sources[k].take(wanted[order[bounds[k] : bounds[k + 1]]] - self.offsets[k], columns)
            for k in range(len(self.sources))
            if bounds[k + 1] > bounds[k]
        ]
        inverse = np.empty(order.shape[0], dtype=np.int64)
        inverse[order] = np.arange(order.shape[0], dtype=np.int64)
        return pl.concat(parts).select(pl.all().gather(pl.Series(inverse)))


class LiveIndex:
    """One night's index opened for lookups: live records only, blocks guarded by their live size."""

    def __init__(self, version: IndexVersion, settings: MatchSettings) -> None:
        self.version = version
        self.settings = settings
        sources = [MappedSource.open(version.directory / s.folder / "records.arrow") for s in version.segments]
        offsets = np.cumsum([0, *(s.height for s in sources)]).astype(np.int64)
        dead = np.zeros(int(offsets[-1]), dtype=bool)
        for k, (segment, source) in enumerate(zip(version.segments, sources, strict=True)):
            later = version.dead_after(segment.night)
            if later is not None and later.len():
                ids = source.take(np.arange(source.height), [settings.id_column]).get_column(settings.id_column)
                dead[offsets[k] : offsets[k + 1]] = ids.is_in(later.implode()).to_numpy()
        self.dead = dead
        self.records = SegmentedSource(sources, int((~dead).sum()))
        self.keys = [
            [
                SortedKeys(
                    np.load(version.directory / s.folder / f"keys_{i}.npy", mmap_mode="r"),
                    np.load(version.directory / s.folder / f"rows_{i}.npy", mmap_mode="r"),
                )
                for s in version.segments
            ]
            for i in range(len(settings.blocking_rules))
        ]
        self.offsets = offsets

    def ids(self, rows: np.ndarray | pl.Series) -> pl.Series:
        return self.records.take(rows, [self.settings.id_column]).get_column(self.settings.id_column).cast(pl.String)

    def all_ids(self) -> pl.Series:
        """The id of every stored row (dead ones included), in global row order: one column, not the records."""
        column = self.settings.id_column
        parts = [pl.from_arrow(source.table.select([column])) for source in self.records.sources]
        frame = pl.concat([p for p in parts if isinstance(p, pl.DataFrame)])
        return frame.get_column(column).cast(pl.String)

    def stored_keys(self) -> pl.DataFrame:
        """``key_<i>`` of every stored row in global row order, unguarded (null: no key under rule i), read back from
        the segments' sorted key arrays: what ``block_keys(records, guard=False)`` gave when they were written, with
        none of the records' columns in memory."""
        total = int(self.offsets[-1])
        columns = []
        for i, segments in enumerate(self.keys):
            values = np.zeros(total, dtype=np.uint64)
            present = np.zeros(total, dtype=bool)
            for k, sorted_rule in enumerate(segments):
                rows = np.asarray(sorted_rule.rows, dtype=np.int64) + self.offsets[k]
                values[rows] = sorted_rule.keys
                present[rows] = True
            key = pl.Series(f"key_{i}", values)
            columns.append(pl.select(pl.when(pl.Series(present)).then(key)).to_series().alias(f"key_{i}"))
        return pl.DataFrame(columns)

    def live_rows_of(self, ids: pl.Series) -> pl.DataFrame:
        """``record_id``, ``_row`` (global) of the live records with these ids, in row order."""
        # One semi join over every stored id: a membership test per segment would hash all of ``ids`` once per
        # segment (a full night at 10,000,000 records asks for every id, over 40 segments).
        wanted = ids.cast(pl.String).unique().to_frame("record_id")
        stored = pl.DataFrame(
            [self.all_ids().alias("record_id"), pl.Series("_row", np.arange(self.records.stored_rows, dtype=np.int64))]
        )
        rows = stored.join(wanted, on="record_id", how="semi").sort("_row")
        return rows.filter(~pl.Series(self.dead[rows.get_column("_row").to_numpy()]))

    def _rule_lookup(self, rule: int, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (query position, live global row) pairs with equal key under ``rule``."""
        positions, rows = [], []
        # Sorted queries make the binary searches walk the key array in order (cache-friendly, several times faster).
        order = np.argsort(query, kind="stable")
        query = query[order]
        for k, sorted_rule in enumerate(self.keys[rule]):
            q, r = sorted_rule.lookup(query)
            q = order[q]
            rows_global = r.astype(np.int64) + self.offsets[k]
            alive = ~self.dead[rows_global]
            positions.append(q[alive])
            rows.append(rows_global[alive])
        return np.concatenate(positions), np.concatenate(rows)

    def live_counts(self, rule: int, keys: np.ndarray) -> np.ndarray:
        """Live records per key (the block size the guard compares with ``max_block_size``)."""
        keys = np.ascontiguousarray(keys, dtype=np.uint64)
        q, _ = self._rule_lookup(rule, keys)
        return np.bincount(q, minlength=keys.shape[0])

    def lookup(self, query_keys: pl.DataFrame) -> tuple[pl.DataFrame, list[int]]:
        """Candidate ``_l`` (query row), ``_r`` (global index row), ``_rule``: each pair once, under the first rule
        whose key it shares in a block of at most ``max_block_size`` live records. Also oversized blocks per rule."""
        frames = []
        oversized = []
        for i, rule in enumerate(self.settings.blocking_rules):
            column = query_keys.get_column(f"key_{i}")
            present = column.is_not_null().to_numpy()
            positions = np.flatnonzero(present)
            query = column.filter(column.is_not_null()).to_numpy().astype(np.uint64)
            q, r = self._rule_lookup(i, query)
            sizes = np.bincount(q, minlength=query.shape[0])
            allowed = sizes <= rule.max_block_size
            oversized.append(int((~allowed & (sizes > 0)).sum()))
            keep = allowed[q]
            frames.append(
                pl.DataFrame(
                    {
                        "_l": positions[q[keep]].astype(np.uint32),
                        "_r": r[keep].astype(np.uint32),
                        "_rule": np.full(int(keep.sum()), i, dtype=np.int8),
                    }
                )
            )
        pairs = pl.concat(frames).unique(subset=["_l", "_r"], keep="first", maintain_order=True)
        return pairs, oversized


@dataclass(frozen=True)
class IndexVersion:
    """The nightly index after one night: segments of prepared records with their sorted keys, and dead ids."""

    directory: Path
    night: str
    segments: tuple[_Segment, ...]
    dead: tuple[tuple[str, str, int], ...]  # (file, night, rows)
    model_folder: str
    meta: dict[str, object]

    def dead_after(self, night: str) -> pl.Series | None:
        later = [self.directory / f for f, n, rows in self.dead if n > night and rows]
        if not later:
            return None
        return pl.concat([pl.read_parquet(p).get_column("id") for p in later]).unique()

    def open(self, settings: MatchSettings) -> LiveIndex:
        return LiveIndex(self, settings)

    def model(self) -> TrainedModel:
        return TrainedModel.load(self.directory.parent / MODEL_FOLDER / self.model_folder)

    def files(self) -> set[str]:
        dirty = self.meta.get("dirty")
        return {s.folder for s in self.segments} | {f for f, _, _ in self.dead} | ({str(dirty)} if dirty else set())


MODEL_FOLDER = "match_model"


class IndexStore:
    """The nightly index under ``state/match_index`` (models under ``state/match_model``), versioned by night."""

    def __init__(self, directory: Path, settings: MatchSettings) -> None:
        self.directory = Path(directory)
        self.settings = settings
        self.fingerprint = settings_fingerprint(settings)

    def _manifest(self, night: str) -> Path:
        return self.directory / f"v-{night}.json"

    def nights(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name[2:12] for p in self.directory.glob("v-????-??-??.json"))

    def version(self, night: str) -> IndexVersion:
        data = json.loads(self._manifest(night).read_text("utf-8"))
        if data.get("format") != _NIGHT_FORMAT or data.get("fingerprint") != self.fingerprint:
            raise IndexMismatch(f"match index version {night} was built by other settings or another engine")
        return IndexVersion(
            directory=self.directory,
            night=night,
            segments=tuple(_Segment(s["folder"], s["night"], int(s["rows"])) for s in data["segments"]),
            dead=tuple((d["file"], d["night"], int(d["rows"])) for d in data["dead"]),
            model_folder=str(data["model"]),
            meta=dict(data.get("meta", {})),
        )

    def latest(self, before: str | None = None) -> IndexVersion | None:
        """The newest usable version (before night ``before``); one built by other settings does not count."""
        for night in reversed(self.nights()):
            if before is not None and night >= before:
                continue
            try:
                return self.version(night)
            except IndexMismatch:
                return None
        return None

    def _model_dir(self, folder: str) -> Path:
        return self.directory.parent / MODEL_FOLDER / folder

    def save_model_parts(self, trained: TrainedModel) -> str:
        """Start the model of a training night: its term frequencies (u and m follow). Returns its folder name."""
        folder = f"model-{trained.night}"
        target = self._model_dir(folder)
        (target / "model.json").unlink(missing_ok=True)
        TrainedModel(trained.night, None, {}, trained.tf, trained.known, self.fingerprint).save_tf(target)
        return folder

    def save_u(self, folder: str, u: dict[str, np.ndarray]) -> None:
        parts = TrainedModel.load(self._model_dir(folder))
        TrainedModel(parts.night, None, u, parts.tf, parts.known, self.fingerprint)._save_meta(self._model_dir(folder))

    def save_trained(self, folder: str, model: ModelParameters) -> None:
        path = self._model_dir(folder) / "model.json"
        atomic_write_text(path, model.to_json())

    def save_dirty(self, version: IndexVersion, ids: pl.Series) -> None:
        """The ids whose base pairs are recomputed tonight (dirty and removed records), kept with the version."""
        frame = ids.cast(pl.String).unique().sort().to_frame("id")
        name = f"dirty-{version.night}-{frame_digest(frame)}.parquet"
        if not (self.directory / name).exists():
            atomic_write(self.directory / name, frame.write_parquet)
        manifest = json.loads(self._manifest(version.night).read_text("utf-8"))
        manifest["meta"]["dirty"] = name
        atomic_write_text(self._manifest(version.night), json.dumps(manifest, indent=1) + "\n")
        version.meta["dirty"] = name
        self.collect_garbage()

    def dirty(self, version: IndexVersion) -> pl.Series:
        name = version.meta.get("dirty")
        if not name:
            return pl.Series("id", [], dtype=pl.String)
        return pl.read_parquet(self.directory / str(name)).get_column("id")

    def _write_segment(self, night: str, records: pl.DataFrame) -> _Segment:
        """Prepared records (with tf) and their sorted keys, in a folder named after the content."""
        folder = f"seg-{night}-{frame_digest(records.select(self.settings.id_column, *self.settings.record_columns))}"
        target = self.directory / folder
        if not target.exists():
            keys, _ = block_keys(records, self.settings.blocking_rules, guard=False)
            staging = Path(tempfile.mkdtemp(prefix=f".{folder}.", dir=_ensure(self.directory)))
            try:
                records.write_ipc(
                    staging / "records.arrow", compression="uncompressed", compat_level=pl.CompatLevel.oldest()
                )
                for i, rule_keys in enumerate(sorted_keys(keys)):
                    np.save(staging / f"keys_{i}.npy", rule_keys.keys)
                    np.save(staging / f"rows_{i}.npy", rule_keys.rows)
                os.replace(staging, target)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return _Segment(folder=folder, night=night, rows=records.height)

    def _prepare(self, normalized: pl.DataFrame, trained: TrainedModel) -> pl.DataFrame:
        prepared = prepare_records(normalized, self.settings, with_tf=False)
        return trained.with_term_frequencies(prepared).rechunk()

    def commit(
        self,
        night: str,
        *,
        base: IndexVersion | None,
        added: Iterable[pl.DataFrame],
        removed: pl.Series,
        model_folder: str,
        meta: dict[str, object] | None = None,
    ) -> IndexVersion:
        """Write the version of ``night``: ``base`` minus ``removed`` ids plus the ``added`` normalized records
        (chunks, each prepared and written before the next is read), which replace the live records of their
        ids."""
        trained = TrainedModel.load(self.directory.parent / MODEL_FOLDER / model_folder)
        segments: list[_Segment] = []
        dead_ids = [removed.cast(pl.String).alias("id")]
        for chunk in added:
            if chunk.height == 0:
                continue
            records = self._prepare(chunk, trained)
            segments.append(self._write_segment(night, records))
            dead_ids.append(records.get_column(self.settings.id_column).cast(pl.String).alias("id"))
            del records
        if not segments and base is None:
            raise ValueError("an index needs at least one base record")
        dead = list(base.dead) if base is not None else []
        if base is not None:
            killed = pl.concat(dead_ids).unique().sort().to_frame("id")
            if killed.height:
                name = f"dead-{night}-{frame_digest(killed)}.parquet"
                if not (self.directory / name).exists():
                    atomic_write(self.directory / name, lambda t: killed.write_parquet(t))
                dead.append((name, night, killed.height))
        all_segments = [*(base.segments if base is not None else ()), *segments]
        meta = {**(meta or {}), "previous": base.night if base is not None else None}
        version = IndexVersion(self.directory, night, tuple(all_segments), tuple(dead), model_folder, meta)
        manifest = {
            "format": _NIGHT_FORMAT,
            "fingerprint": self.fingerprint,
            "night": night,
            "model": model_folder,
            "segments": [{"folder": s.folder, "night": s.night, "rows": s.rows} for s in all_segments],
            "dead": [{"file": f, "night": n, "rows": r} for f, n, r in dead],
            "meta": meta,
        }
        atomic_write_text(self._manifest(night), json.dumps(manifest, indent=1) + "\n")
        self.collect_garbage()
        return version

    def collect_garbage(self) -> None:
        """Delete segments, dead-id files and models that no version refers to."""
        referenced: set[str] = set()
        models: set[str] = set()
        for night in self.nights():
            try:
                version = self.version(night)
            except IndexMismatch:
                continue
            referenced |= version.files()
            models.add(version.model_folder)
        for path in self.directory.iterdir() if self.directory.is_dir() else []:
            if path.name.startswith(("seg-", "dead-", "dirty-")) and path.name not in referenced:
                shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
            elif path.name.startswith(".seg-"):
                shutil.rmtree(path, ignore_errors=True)
        model_root = self.directory.parent / MODEL_FOLDER
        for path in model_root.iterdir() if model_root.is_dir() else []:
            if path.name.startswith("model-") and path.name not in models and self.nights():
                shutil.rmtree(path, ignore_errors=True)

    def drop(self, nights: Iterable[str]) -> None:
        for night in nights:
            self._manifest(night).unlink(missing_ok=True)
        self.collect_garbage()


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder
