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

__all__ = ["BaseIndex", "IndexMismatch", "MappedSource", "base_digest", "settings_fingerprint"]

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
    ) -> BaseIndex:
        """Build the index of ``base`` (normalized records) into ``directory``; replaces an old one atomically.

        ``u``: u already estimated on random pairs of this very base (a dedupe of it just did), to skip sampling.
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
