"""The versioned register store: plain Parquet, one immutable folder per version, one small catalog that says which
version each night is.

Layout (under ``var/state/register`` by default)::

    register.json                       catalog: current night, the version of each night, history of actions
    versions/<night>--v<k>/             one immutable version: the k-th build of the night (never written again)
        register.parquet                one row per person (register.golden.register_columns); a file, or
                                        a folder of part files when Spark wrote it (every reader reads both)
        changes.parquet                 the night's change set (register.types.CHANGES_SCHEMA)
        manifest.json                   night, previous night, rows, sha256 of both files, rules digest, time

A version is either *full* (``register.parquet`` and ``changes.parquet`` hold every person) or a *delta* of the
previous night's version (written by an incremental night, which rebuilds only the persons it touched)::

    versions/<night>--v<k>/
        register.delta.parquet          the rows of the persons rebuilt tonight
        changes.delta.parquet           the change-set rows of those persons
        replaced.parquet                person keys whose rows (in the register and the change set) tonight
                                        replaces or removes
        manifest.json                   as above, plus "base_version" (the version it applies to) and "chain"

Reading a delta version reads its base version (iteratively, down to a full one) without the replaced persons,
plus the delta. After ``max_chain`` deltas in a row the next write is full again (a compaction), so reading never
walks a long chain. Both kinds are immutable, so rollback and reruns work the same way for both.

Why plain Parquet and not Delta Lake or Iceberg: both need their jars (or a native library) that cannot be fetched
on this network, while Polars, DuckDB and Spark read Parquet natively. What those formats add is done here the
same way they do it: data files are immutable and a version becomes visible by one atomic rename of the catalog.

A version is written to a hidden staging folder and renamed into ``versions/`` (atomic), then the catalog is
replaced atomically under a lock: a crash leaves the previous state readable. A rerun of a night adds a new version
and points that night to it (unless it is byte for byte the night's current one: then nothing is added); the other
nights keep theirs. Rolling a night
back points the catalog at the previous night's version again: its files were never touched, so it is restored
byte for byte; the rolled-back versions stay on disk and in the catalog's history (nothing is lost).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl

from records.files import atomic_write_text, locked

__all__ = [
    "CATALOG",
    "CHANGES_DELTA_FILE",
    "CHANGES_FILE",
    "MANIFEST_FILE",
    "REGISTER_DELTA_FILE",
    "REGISTER_FILE",
    "REPLACED_FILE",
    "RegisterStore",
    "Rollback",
    "StoreError",
    "file_sha256",
]

CATALOG: Final = "register.json"
REGISTER_FILE: Final = "register.parquet"
CHANGES_FILE: Final = "changes.parquet"
MANIFEST_FILE: Final = "manifest.json"
REGISTER_DELTA_FILE: Final = "register.delta.parquet"
CHANGES_DELTA_FILE: Final = "changes.delta.parquet"
REPLACED_FILE: Final = "replaced.parquet"
MAX_CHAIN: Final = 7
_FORMAT: Final = 1


class StoreError(Exception):
    """A request the store cannot serve (unknown night, no version yet); the message is for the operator."""


def file_sha256(path: Path) -> str:
    """sha256 of a file; of a folder of part files, of their contents in name order (not of the names: a
    distributed writer puts its job's id into them, and a rerun with the same rows is the same version)."""
    digest = hashlib.sha256()
    for part in _data_files(path):
        if part != path:
            digest.update(f"{part.stat().st_size}\0".encode())
        with open(part, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _data_files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


@dataclass(frozen=True, slots=True)
class Rollback:
    """What ``RegisterStore.rollback`` did: the nights whose versions left the catalog and the night now current."""

    removed: dict[str, str]
    current: str | None


def _check_night(night: str) -> str:
    try:
        return dt.date.fromisoformat(night).isoformat()
    except ValueError as error:
        raise StoreError(f"đêm không hợp lệ / invalid night {night!r} (YYYY-MM-DD)") from error


class RegisterStore:
    """The register's versions under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # --- catalog ---------------------------------------------------------------------------------------------------
    @property
    def catalog_path(self) -> Path:
        return self.root / CATALOG

    def catalog(self) -> dict[str, Any]:
        if not self.catalog_path.exists():
            return {"format": _FORMAT, "current": None, "nights": {}, "history": []}
        catalog: dict[str, Any] = json.loads(self.catalog_path.read_text(encoding="utf-8"))
        if catalog.get("format") != _FORMAT:
            raise StoreError(f"{self.catalog_path}: định dạng không hỗ trợ / unsupported format")
        return catalog

    def _save(self, catalog: dict[str, Any]) -> None:
        nights = catalog["nights"]
        catalog["current"] = max(nights) if nights else None
        atomic_write_text(self.catalog_path, json.dumps(catalog, ensure_ascii=False, indent=2, sort_keys=True) + "\n")

    def nights(self) -> list[str]:
        """Nights that have a version, oldest first."""
        return sorted(self.catalog()["nights"])

    def current(self) -> str | None:
        """The latest night with a version (what readers of "the register" get)."""
        current: str | None = self.catalog()["current"]
        return current

    def previous_night(self, night: str) -> str | None:
        """The latest night before ``night`` that has a version (what a build of ``night`` starts from)."""
        earlier = [n for n in self.nights() if n < _check_night(night)]
        return earlier[-1] if earlier else None

    def version_dir(self, night: str | None = None) -> Path:
        """The folder of the version of ``night`` (default: the current night)."""
        catalog = self.catalog()
        chosen = night or catalog["current"]
        if chosen is None:
            raise StoreError(f"{self.root}: sổ dân cư sạch chưa có phiên bản nào / the register has no version yet")
        version = catalog["nights"].get(_check_night(chosen))
        if version is None:
            known = ", ".join(sorted(catalog["nights"])) or "(không có)"
            raise StoreError(f"đêm {chosen} không có phiên bản sổ dân cư sạch / no register version (có: {known})")
        return self.root / "versions" / version

    # --- reading ---------------------------------------------------------------------------------------------------
    def register_path(self, night: str | None = None) -> Path:
        """The file holding the version's rows: the whole register, or (a delta version) tonight's rebuilt rows."""
        folder = self.version_dir(night)
        return folder / (REGISTER_DELTA_FILE if (folder / REGISTER_DELTA_FILE).exists() else REGISTER_FILE)

    def changes_path(self, night: str | None = None) -> Path:
        folder = self.version_dir(night)
        return folder / (CHANGES_DELTA_FILE if (folder / CHANGES_DELTA_FILE).exists() else CHANGES_FILE)

    def _scan(self, folder: Path, full_name: str, delta_name: str) -> pl.LazyFrame:
        """The rows of the version in ``folder``: its own file, or its base version's rows less the replaced
        persons plus its delta (iteratively down the chain to a full version)."""
        deltas: list[Path] = []
        while (folder / delta_name).exists():
            deltas.append(folder)
            manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
            folder = self.root / "versions" / manifest["base_version"]
        frame = pl.scan_parquet(folder / full_name)
        for delta in reversed(deltas):
            replaced = pl.read_parquet(delta / REPLACED_FILE).lazy()
            frame = pl.concat(
                [frame.join(replaced, on="person_key", how="anti"), pl.scan_parquet(delta / delta_name)],
                how="vertical",
            )
        return frame

    def scan_register(self, night: str | None = None) -> pl.LazyFrame:
        """The register of ``night`` (default: current), lazily: read only the columns and rows you need."""
        return self._scan(self.version_dir(night), REGISTER_FILE, REGISTER_DELTA_FILE)

    def scan_changes(self, night: str | None = None) -> pl.LazyFrame:
        return self._scan(self.version_dir(night), CHANGES_FILE, CHANGES_DELTA_FILE)

    def read_register(self, night: str | None = None) -> pl.DataFrame:
        folder = self.version_dir(night)
        if not (folder / REGISTER_DELTA_FILE).exists():
            return pl.read_parquet(folder / REGISTER_FILE)
        return self.scan_register(night).collect().sort("person_key")

    def read_changes(self, night: str | None = None) -> pl.DataFrame:
        folder = self.version_dir(night)
        if not (folder / CHANGES_DELTA_FILE).exists():
            return pl.read_parquet(folder / CHANGES_FILE)
        return self.scan_changes(night).collect().sort("person_key", "record_id", "field")

    def chain(self, night: str | None = None) -> int:
        """Delta versions between this version and the full one it rests on (0: a full version)."""
        manifest = self.manifest(night)
        return int(manifest.get("chain", 0))

    def manifest(self, night: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.version_dir(night) / MANIFEST_FILE).read_text(encoding="utf-8"))
        return data

    # --- writing ---------------------------------------------------------------------------------------------------
    def write(
        self, night: str, register: pl.DataFrame, changes: pl.DataFrame, *, info: dict[str, Any] | None = None
    ) -> Path:
        """Store ``night``'s version (replacing that night's version only) and return its folder.

        Versions are named ``<night>--v<k>`` (the k-th build of that night), so the same history gives the same
        names. A build whose files are byte for byte those of the night's current version adds no version (a rerun
        of an unchanged night stores nothing twice). Files are written under ``.tmp`` names in a hidden folder
        first; a crash leaves only those (or a folder the catalog never named, replaced next time).
        """
        night = _check_night(night)
        counts = {
            "persons": register.height,
            "changes": changes.height,
            "changes_tonight": int((changes["night"] == dt.date.fromisoformat(night)).sum()),
        }
        return self._commit_frames(night, {REGISTER_FILE: register, CHANGES_FILE: changes}, counts, info)

    def write_with(
        self, night: str, files: Callable[[Path, Path], dict[str, int]], *, info: dict[str, Any] | None = None
    ) -> Path:
        """``write`` for any writer: ``files(register_path, changes_path)`` writes the register and the change set
        there (each a file, or a folder of part files from a distributed writer such as Spark: every reader of the
        store reads both) and returns ``persons``, ``changes`` and ``changes_tonight``."""
        night = _check_night(night)
        return self._commit(night, (REGISTER_FILE, CHANGES_FILE), lambda staged: files(*staged), info)

    def write_delta(
        self,
        night: str,
        register: pl.DataFrame,
        changes: pl.DataFrame,
        replaced: pl.Series,
        *,
        info: dict[str, Any] | None = None,
        max_chain: int = MAX_CHAIN,
    ) -> Path:
        """Store ``night``'s version as the previous night's version with the persons ``replaced`` taken out and
        the rebuilt rows ``register`` (and their ``changes``) put in. Full instead after ``max_chain`` deltas."""
        night = _check_night(night)
        previous = self.previous_night(night)
        if previous is None:
            raise StoreError(f"đêm {night}: không có phiên bản trước để cập nhật / no previous version to apply to")
        keys = replaced.cast(pl.String).unique().sort().to_frame("person_key")
        chain = self.chain(previous) + 1
        if chain > max_chain:
            merged_register = self.scan_register(previous).join(keys.lazy(), on="person_key", how="anti").collect()
            merged_changes = self.scan_changes(previous).join(keys.lazy(), on="person_key", how="anti").collect()
            return self.write(
                night,
                pl.concat([merged_register, register.cast(merged_register.schema)]).sort("person_key"),
                pl.concat([merged_changes, changes.cast(merged_changes.schema)]).sort("person_key", "record_id"),
                info=info,
            )
        base = self.manifest(previous)
        kept = (
            self.scan_register(previous).select("person_key").join(keys.lazy(), on="person_key", how="anti")
            .select(pl.len()).collect().item()
        )  # fmt: skip
        kept_changes = (
            self.scan_changes(previous).select("person_key").join(keys.lazy(), on="person_key", how="anti")
            .select(pl.len()).collect().item()
        )  # fmt: skip
        today = dt.date.fromisoformat(night)
        tonight_before = (
            self.scan_changes(previous).join(keys.lazy(), on="person_key", how="anti")
            .filter(pl.col("night") == today).select(pl.len()).collect().item()
        )  # fmt: skip
        frames = {REGISTER_DELTA_FILE: register, CHANGES_DELTA_FILE: changes, REPLACED_FILE: keys}
        counts = {
            "persons": int(kept) + register.height,
            "changes": int(kept_changes) + changes.height,
            "changes_tonight": int(tonight_before) + int((changes["night"] == today).sum()),
            "base_version": base["version"],
            "chain": chain,
            "rebuilt_persons": register.height,
            "replaced_persons": keys.height,
        }
        return self._commit_frames(night, frames, counts, info)

    def _commit_frames(
        self, night: str, frames: dict[str, pl.DataFrame], counts: dict[str, Any], info: dict[str, Any] | None
    ) -> Path:
        def write(staged: list[Path]) -> dict[str, Any]:
            for frame, path in zip(frames.values(), staged, strict=True):
                frame.write_parquet(path, compression="zstd", statistics=True)
            return counts

        return self._commit(night, tuple(frames), write, info)

    def _commit(
        self,
        night: str,
        files: tuple[str, ...],
        write: Callable[[list[Path]], dict[str, Any]],
        info: dict[str, Any] | None,
    ) -> Path:
        """Stage ``files`` (``write`` writes each at its staged path, a file or a folder of part files, and returns
        the manifest's counts), then name them ``night``'s next version unless they equal its current one."""
        versions = self.root / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        staging = versions / f".staging-{uuid.uuid4().hex}"
        staging.mkdir()
        staged = {name: staging / f".{name}.tmp" for name in (*files, MANIFEST_FILE)}
        try:
            counts = write([staged[name] for name in files])
            digests = {name: file_sha256(staged[name]) for name in files}
            with locked(self.catalog_path):
                catalog = self.catalog()
                current = catalog["nights"].get(night)
                if current is not None and self._digests(versions / current, list(files)) == digests:
                    shutil.rmtree(staging)
                    return versions / current
                builds = sum(1 for h in catalog["history"] if h.get("action") == "write" and h.get("night") == night)
                name = f"{night}--v{builds + 1}"
                manifest = {
                    "night": night,
                    "version": name,
                    "previous_night": self.previous_night(night),
                    "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    **counts,
                    "sha256": digests,
                    **(info or {}),
                }
                staged[MANIFEST_FILE].write_text(
                    json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n",
                    encoding="utf-8",
                )
                for path in staged.values():
                    for part in _data_files(path):
                        with open(part, "rb") as handle:
                            os.fsync(handle.fileno())
                target = versions / name
                if target.exists():  # a build a crash stopped before the catalog named it: never visible
                    shutil.rmtree(target)
                os.rename(staging, target)
                for final, path in staged.items():
                    os.replace(target / path.name, target / final)
                replaced = catalog["nights"].get(night)
                catalog["nights"][night] = name
                catalog["history"].append(
                    {"at": manifest["created_at"], "action": "write", "night": night, "version": name,
                     "replaced": replaced}
                )  # fmt: skip
                self._save(catalog)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    @staticmethod
    def _digests(folder: Path, names: list[str]) -> dict[str, str] | None:
        try:
            return {name: file_sha256(folder / name) for name in names}
        except FileNotFoundError:
            return None

    def version_chain(self, version: str) -> list[str]:
        """``version`` and the versions it rests on (a delta's base, down to a full version)."""
        chain = [version]
        while True:
            manifest_path = self.root / "versions" / chain[-1] / MANIFEST_FILE
            base = json.loads(manifest_path.read_text(encoding="utf-8")).get("base_version")
            if base is None:
                return chain
            chain.append(str(base))

    def retain(self, keep: int) -> list[str]:
        """Keep the versions of the newest ``keep`` nights (and the versions their deltas rest on); older nights
        leave the catalog and their folders are deleted. Versions of kept nights that a rerun replaced or a rollback
        undid stay (they are the history a data officer may still compare against). Returns the nights dropped."""
        if keep < 1:
            raise ValueError("at least one version must be kept")
        with locked(self.catalog_path):
            catalog = self.catalog()
            nights = sorted(catalog["nights"])
            dropped = nights[: max(0, len(nights) - keep)]
            if not dropped:
                return []
            for night in dropped:
                del catalog["nights"][night]
            oldest_kept = min(catalog["nights"])
            needed = {v for version in catalog["nights"].values() for v in self.version_chain(version)}
            at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            catalog["history"].append({"at": at, "action": "retain", "keep": keep, "removed": dropped})
            self._save(catalog)
            for folder in (self.root / "versions").iterdir():
                expired = folder.name.split("--")[0] < oldest_kept and not folder.name.startswith(".")
                if folder.is_dir() and expired and folder.name not in needed:
                    shutil.rmtree(folder)
        return dropped

    def rollback(self, night: str) -> Rollback:
        """Undo ``night`` and every later night: the catalog points at the version of the night before again."""
        night = _check_night(night)
        with locked(self.catalog_path):
            catalog = self.catalog()
            if night not in catalog["nights"]:
                known = ", ".join(sorted(catalog["nights"])) or "(không có)"
                raise StoreError(f"đêm {night} không có phiên bản để hoàn tác / nothing to roll back (có: {known})")
            removed = {n: v for n, v in catalog["nights"].items() if n >= night}
            for n in removed:
                del catalog["nights"][n]
            at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            catalog["history"].append({"at": at, "action": "rollback", "night": night, "removed": removed})
            self._save(catalog)
            return Rollback(removed=removed, current=catalog["current"])

    # --- questions -------------------------------------------------------------------------------------------------
    def find_person(self, query: str, night: str | None = None) -> pl.DataFrame:
        """Register rows whose person key, personal ID or one of the record ids is ``query``."""
        query = query.strip()
        frame = self.scan_register(night)
        return frame.filter(
            (pl.col("person_key") == query) | (pl.col("person_id") == query) | pl.col("record_ids").list.contains(query)
        ).collect()

    def diff(self, first: str, second: str) -> pl.DataFrame:
        """person_key, field, value in ``first``, value in ``second`` for every golden value (and status) that
        differs; persons only in one of the two have the field ``(người)``."""
        older, newer = self.read_register(first), self.read_register(second)
        fields = [c for c in older.columns if c in newer.columns and _is_value_column(c)]
        as_text = [
            pl.col(c).list.join(", ") if isinstance(older.schema[c], pl.List) else pl.col(c).cast(pl.String)
            for c in fields
        ]
        left = older.select("person_key", *as_text).unpivot(index="person_key", variable_name="field", value_name="a")
        right = newer.select("person_key", *as_text).unpivot(index="person_key", variable_name="field", value_name="b")
        both = left.join(right, on=["person_key", "field"], how="full", coalesce=True)
        changed = both.filter(~pl.col("a").eq_missing(pl.col("b")))
        only_one = (
            older.select("person_key", pl.lit("tồn tại").alias(first))
            .join(newer.select("person_key", pl.lit("tồn tại").alias(second)), on="person_key", how="full",
                  coalesce=True)
            .filter(pl.col(first).is_null() | pl.col(second).is_null())
            .select("person_key", pl.lit("(người)").alias("field"), pl.col(first), pl.col(second))
        )  # fmt: skip
        in_both = changed.join(only_one.select("person_key"), on="person_key", how="anti").select(
            "person_key", "field", pl.col("a").alias(first), pl.col("b").alias(second)
        )
        return pl.concat([only_one, in_both]).sort("person_key", "field")


def _is_value_column(column: str) -> bool:
    return column not in ("person_key", "record_ids", "updated_night", "conflict_record_ids") and not column.endswith(
        "_source"
    )
