"""The normalized base as state: each night normalizes only what the snapshot changed.

Ingest reads tonight's snapshot and hashes every row (``state.hashing.row_hashes`` over the canonical columns as
read). A row whose record id and hash are those of a live row of the previous night's base version is *unchanged*:
its accepted and normalized form are already in the state. Every other row (new, changed, a repeated record id, a row
quarantined last night) goes through the ordinary ingest validation; live ids that are not accepted tonight are
*removed*. The normalizer then runs on the new and changed rows only, plus the few unchanged rows whose normalized
form depends on the night (a date still in the future, see ``NIGHT_SENSITIVE``), and the night's base version is
committed. With no previous version (the first night, ``--full``, or other code) everything is ingested and
normalized, in chunks, with the same result.

Lineage: a base record's ``source_row`` is its row in the snapshot on the night this version of it was read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import polars as pl
import pyarrow.parquet as pq

from normalize.columns import DATE_COLUMNS
from normalize.frame import normalize_records
from records.ingest import (
    IdRegistry,
    IngestResult,
    base_file_report,
    base_problem,
    ingest_base,
    ingest_base_rows,
)
from records.progress import Progress, no_progress
from records.schema import CANONICAL_SCHEMA, LINEAGE_COLUMNS
from state.hashing import HASH_COLUMN, code_fingerprint, row_hashes
from state.tables import TableStore, TableVersion

__all__ = [
    "BASE_TABLE",
    "NIGHT_SENSITIVE",
    "BaseChanges",
    "base_fingerprint",
    "base_store",
    "check_base_counts",
    "ingest_base_changes",
    "normalize_base",
    "previous_base",
]

BASE_TABLE: Final = "base"
CHUNK_ROWS: Final = 250_000
BATCH_ROWS: Final = 1_000_000
_HASHED: Final = tuple(c for c in CANONICAL_SCHEMA if c not in LINEAGE_COLUMNS)
_ROW: Final = "_row"

NIGHT_SENSITIVE: Final = pl.any_horizontal(
    *((pl.col(f"{c}_valid") == False) for c in DATE_COLUMNS if c != "card_expiry_date"),  # noqa: E712
    pl.col("person_id_issue") == "century_sex",
).fill_null(False)
"""Unchanged rows whose normalized form may differ tonight: the normalizer judges "future" against the night, so a
date (or an ID's birth year) that was still in the future last night may be valid tonight. A valid value stays valid
as nights advance, so nothing else can change; these rows are normalized again every night (they are rare)."""


def base_fingerprint() -> str:
    """What the stored base was derived by: the ingest and normalization code (and Polars)."""
    return code_fingerprint("records", "normalize", "state.base")


def base_store(state_dir: Path) -> TableStore:
    return TableStore(state_dir / BASE_TABLE, ("record_id",))


def previous_base(store: TableStore, night: str) -> TableVersion | None:
    """The version tonight builds on: the latest before ``night``, when the code installed now derived it."""
    previous = store.latest(before=night)
    if previous is None or previous.meta.get("fingerprint") != base_fingerprint():
        return None
    return previous


def check_base_counts(result: IngestResult) -> None:
    """read = accepted + quarantined for the snapshot (its accepted frame holds only tonight's changed rows)."""
    for row in result.files.iter_rows(named=True):
        if row["rows_read"] != row["rows_accepted"] + row["rows_quarantined"]:
            raise AssertionError(f"{row['source_file']}: read {row['rows_read']} != accepted + quarantined")


@dataclass(frozen=True)
class BaseChanges:
    """Tonight's base snapshot as a change to the previous base version (what ``normalize_base`` applies)."""

    night: str
    previous: TableVersion | None
    changed: pl.DataFrame | pl.LazyFrame
    """Accepted canonical rows that are new or changed tonight, with their content hash (``_row_hash``)."""
    removed: pl.Series
    """Ids live in the previous version and not accepted tonight."""
    kept: int
    """Rows unchanged since the previous version."""
    ingest: IngestResult
    """Quarantine and file report of the snapshot (``accepted`` holds only the rows validated tonight)."""
    accepted_ids: pl.DataFrame | None = None
    """``record_id``, ``source`` of every base record accepted tonight (only while ingest runs: extract ids that
    clash with them are qualified with their source)."""

    @classmethod
    def whole(cls, frame: pl.DataFrame, night: str) -> BaseChanges:
        """A base taken whole (canonical rows already accepted), with no earlier version to compare with."""
        hashed = frame.with_columns(row_hashes(frame, list(_HASHED)))
        files = base_file_report("population_base", list(frame.columns), frame.height, frame.height, 0)
        empty = IngestResult.combine([])
        result = IngestResult(accepted=frame, quarantine=empty.quarantine, files=files)
        ids = frame.select("record_id", pl.lit("base").alias("source"))
        return cls(night, None, hashed, pl.Series("id", [], dtype=pl.String), 0, result, accepted_ids=ids)

    @property
    def accepted(self) -> int:
        return int(self.ingest.files.get_column("rows_accepted").sum())

    def changed_frame(self) -> pl.DataFrame:
        return self.changed.collect() if isinstance(self.changed, pl.LazyFrame) else self.changed

    def changed_count(self) -> int:
        if isinstance(self.changed, pl.LazyFrame):
            return int(self.changed.select(pl.len()).collect().item())
        return self.changed.height

    def frame(self) -> pl.DataFrame:
        """Every base record accepted tonight (canonical columns): the previous version's unchanged rows and the
        rows that are new or changed tonight."""
        changed = self.changed_rows()
        if self.previous is None:
            return changed
        gone = pl.concat([self.removed, changed.get_column("record_id")]).to_frame("record_id").lazy()
        kept = self.previous.scan(list(CANONICAL_SCHEMA)).join(gone, on="record_id", how="anti").collect()
        return pl.concat([kept, changed])

    def changed_rows(self, columns: list[str] | None = None) -> pl.DataFrame:
        """Tonight's new and changed accepted rows, canonical columns (or only ``columns``)."""
        lazy = self.changed if isinstance(self.changed, pl.LazyFrame) else self.changed.lazy()
        wanted = [c for c in (columns or list(CANONICAL_SCHEMA)) if c in CANONICAL_SCHEMA]
        return lazy.select(wanted).collect()

    def save(self, folder: Path) -> dict[str, Any]:
        """Write to ``folder`` (changed rows, removed ids, quarantine, file report); returns the reference."""
        folder.mkdir(parents=True, exist_ok=True)
        self.changed_frame().write_parquet(folder / "changed.parquet", compression="zstd")
        self.removed.to_frame("id").write_parquet(folder / "removed.parquet")
        self.ingest.quarantine.write_parquet(folder / "quarantine.parquet")
        self.ingest.files.write_parquet(folder / "files.parquet")
        reference = {
            "night": self.night,
            "previous": self.previous.to_reference() if self.previous else None,
            "kept": self.kept,
        }
        (folder / "changes.json").write_text(json.dumps(reference, indent=1), "utf-8")
        return reference

    @classmethod
    def load(cls, folder: Path) -> BaseChanges:
        reference = json.loads((folder / "changes.json").read_text("utf-8"))
        previous = TableStore.at(reference["previous"]) if reference["previous"] else None
        empty = pl.DataFrame(schema=CANONICAL_SCHEMA)
        return cls(
            night=reference["night"],
            previous=previous,
            changed=pl.scan_parquet(folder / "changed.parquet"),
            removed=pl.read_parquet(folder / "removed.parquet").get_column("id"),
            kept=int(reference["kept"]),
            ingest=IngestResult(
                accepted=empty,
                quarantine=pl.read_parquet(folder / "quarantine.parquet"),
                files=pl.read_parquet(folder / "files.parquet"),
            ),
        )


def _batches(path: Path) -> Iterator[pl.DataFrame]:
    """The Parquet snapshot in batches of rows (never read whole)."""
    rows = pq.ParquetFile(path).metadata.num_rows
    for start in range(0, rows, BATCH_ROWS):
        yield pl.scan_parquet(path).slice(start, BATCH_ROWS).collect()


def _keys(batch: pl.DataFrame, columns: list[str], first_row: int) -> pl.DataFrame:
    return pl.DataFrame(
        [
            batch.get_column("record_id").cast(pl.String).str.strip_chars().replace("", None),
            row_hashes(batch, [c for c in _HASHED if c in columns]),
            pl.int_range(first_row, first_row + batch.height, dtype=pl.Int64, eager=True).alias(_ROW),
        ]
    )


_TWO_DIGIT_YEAR: Final = r"^\D*(\d{1,2}\D+){0,2}\d{1,2}\D*$"
"""A date text without a four-digit year: ingest reads its century from the night (``canonical_date``)."""


def _night_dependent(batch: pl.DataFrame) -> pl.Series:
    """Rows whose accepted form depends on the night, so they are validated again even when unchanged."""
    dates = [c for c in DATE_COLUMNS if c in batch.columns]
    if not dates:
        return pl.Series([False] * batch.height, dtype=pl.Boolean)
    return batch.select(
        pl.any_horizontal(pl.col(c).cast(pl.String).str.contains(_TWO_DIGIT_YEAR).fill_null(False) for c in dates)
    ).to_series()


def _changes_from_full_ingest(path: Path, previous: TableVersion | None, night: str, as_of: date) -> BaseChanges:
    """A CSV or Excel snapshot (a small province): ingest it whole, then keep only what differs from ``previous``."""
    result = ingest_base(path, as_of=as_of)
    accepted = result.accepted
    hashed = accepted.with_columns(row_hashes(accepted, list(_HASHED)))
    if previous is None:
        changed, kept = hashed, 0
        removed = pl.Series("id", [], dtype=pl.String)
    else:
        live = previous.scan(["record_id", HASH_COLUMN]).collect()
        changed = hashed.join(live, on=["record_id", HASH_COLUMN], how="anti")
        kept = hashed.height - changed.height
        removed = live.select(pl.col("record_id").alias("id")).join(
            accepted.select(pl.col("record_id").alias("id")), on="id", how="anti"
        ).get_column("id").sort()  # fmt: skip
    ids = accepted.select("record_id", "source")
    return BaseChanges(night, previous, changed, removed, kept, IngestResult(changed.drop(HASH_COLUMN),
                       result.quarantine, result.files), accepted_ids=ids)  # fmt: skip


def ingest_base_changes(
    path: Path, previous: TableVersion | None, night: str, *, progress: Progress = no_progress
) -> BaseChanges:
    """Compare tonight's snapshot with ``previous`` (None: take everything) and validate what changed.

    A snapshot that cannot be used whole (unreadable, an unknown or missing required column) is quarantined whole
    and changes nothing: the previous version stays (a damaged export must not empty the base of a province).
    """
    display = path.name
    as_of = date.fromisoformat(night)
    if path.suffix.lower() != ".parquet" and path.exists():
        return _changes_from_full_ingest(path, previous, night, as_of)
    try:
        columns = list(pq.read_schema(path).names)
        problem = base_problem(pl.DataFrame(schema=dict(pl.read_parquet_schema(path))))
    except Exception:  # unreadable: ingest_base says why
        columns, problem = [], ("", "")
    if problem is not None:
        result = ingest_base(path, as_of=as_of)
        empty = pl.DataFrame(schema={**CANONICAL_SCHEMA, HASH_COLUMN: pl.UInt64})
        kept = previous.rows if previous else 0
        ids = previous.scan(["record_id", "source"]).collect() if previous else empty.select("record_id", "source")
        nothing = pl.Series("id", [], dtype=pl.String)
        return BaseChanges(night, previous, empty, nothing, kept, result, accepted_ids=ids)
    registry = IdRegistry()
    parts: list[IngestResult] = []

    def validate(raw: pl.DataFrame, hashes: pl.Series) -> None:
        numbers = raw.get_column(_ROW)
        result = ingest_base_rows(raw.drop(_ROW), display, registry=registry, as_of=as_of, row_numbers=numbers)
        by_row = pl.DataFrame({"_r": numbers, HASH_COLUMN: hashes})
        accepted = (
            result.accepted.with_columns(pl.col("source_row").cast(pl.Int64).alias("_r"))
            .join(by_row, on="_r", how="left", maintain_order="left")
            .drop("_r")
        )
        parts.append(IngestResult(accepted=accepted, quarantine=result.quarantine, files=result.files))

    # One pass over the snapshot: each batch's rows are told unchanged or not as it is read, and the others are
    # validated at once (reading the file a second time for them cost a whole read of the base every night).
    live = previous.scan(["record_id", HASH_COLUMN]).collect() if previous is not None else None
    # Looked up by content hash alone (one integer key instead of the id text and the hash); the id is then compared
    # as it is. A hash held by two live rows (a 64-bit collision) is left out, so both rows are validated again.
    known = (
        live.filter(pl.col(HASH_COLUMN).is_unique()).select(HASH_COLUMN, pl.col("record_id").alias("_known_id"))
        if live is not None
        else None
    )
    seen_ids: list[pl.Series] = []
    unchanged_parts: list[pl.DataFrame] = []
    read = done = 0
    for batch in _batches(path):
        keys = _keys(batch, columns, read + 2).with_columns(_night_dependent(batch).alias("_night"))
        batch_ids = keys.get_column("record_id")
        earlier = pl.concat(seen_ids) if seen_ids else pl.Series("record_id", [], dtype=pl.String)
        first = batch_ids.is_first_distinct() & batch_ids.is_not_null() & ~batch_ids.is_in(earlier.implode())
        seen_ids.append(batch_ids.drop_nulls())
        read += batch.height
        progress("đọc ảnh chụp cơ sở / reading the base snapshot", read, None)
        if known is None:  # everything is validated
            validate(batch.with_columns(keys.get_column(_ROW)), keys.get_column(HASH_COLUMN))
            continue
        keys = (
            keys.with_columns(first.alias("_first"))
            .join(known, on=HASH_COLUMN, how="left", maintain_order="left")
            .with_columns(
                (
                    (pl.col("_known_id") == pl.col("record_id")).fill_null(False) & pl.col("_first") & ~pl.col("_night")
                ).alias("_unchanged")
            )
        )
        unchanged = keys.filter(pl.col("_unchanged"))
        unchanged_parts.append(unchanged.select("record_id"))
        # A repeated record id is a duplicate row even when its first occurrence is unchanged (and not validated):
        # registered before this batch's other rows are validated (a first occurrence is never after its repeat).
        registry.add("base", unchanged.select("record_id", pl.lit(display).alias("source_file"),
                                              pl.col(_ROW).cast(pl.String).alias("source_row")))  # fmt: skip
        todo = ~keys.get_column("_unchanged")
        if todo.any():
            rows = batch.filter(todo).with_columns(keys.get_column(_ROW).filter(todo))
            validate(rows, keys.get_column(HASH_COLUMN).filter(todo))
            done += rows.height
            progress("kiểm tra bản ghi cơ sở mới, đã đổi / validating new and changed base rows", done, None)
    kept = sum(part.height for part in unchanged_parts)
    unchanged_ids = (
        pl.concat(unchanged_parts).get_column("record_id")
        if unchanged_parts
        else pl.Series("record_id", [], dtype=pl.String)
    )
    changed = (
        pl.concat([p.accepted for p in parts])
        if parts
        else pl.DataFrame(schema={**CANONICAL_SCHEMA, HASH_COLUMN: pl.UInt64})
    )
    quarantine = pl.concat([p.quarantine for p in parts]) if parts else IngestResult.combine([]).quarantine
    accepted_ids = pl.concat([unchanged_ids, changed.get_column("record_id")])
    removed = (
        live.select(pl.col("record_id").alias("id"))
        .join(accepted_ids.to_frame("id"), on="id", how="anti")
        .get_column("id")
        .sort()
        if live is not None
        else pl.Series("id", [], dtype=pl.String)
    )
    files = base_file_report(display, columns, read, kept + changed.height, quarantine.height)
    return BaseChanges(
        night=night,
        previous=previous,
        changed=changed,
        removed=removed,
        kept=kept,
        ingest=IngestResult(accepted=changed.drop(HASH_COLUMN), quarantine=quarantine, files=files),
        accepted_ids=accepted_ids.to_frame("record_id").with_columns(pl.lit("base").alias("source")),
    )


Normalizer = Callable[[pl.DataFrame, date], pl.DataFrame]
"""Canonical records and the night → the same records normalized (``normalize_records``, or the same function
distributed by Spark: ``scaleout.normalize.normalize_on_spark``)."""


def normalize_in_process(records: pl.DataFrame, as_of: date) -> pl.DataFrame:
    return normalize_records(records, as_of=as_of)


def _normalized(frame: pl.DataFrame, as_of: date, normalize: Normalizer = normalize_in_process) -> pl.DataFrame:
    hashes = frame.get_column(HASH_COLUMN)
    normalized = normalize(frame.drop(HASH_COLUMN), as_of)
    return normalized.with_columns(hashes)


def _night_sensitive(
    previous: TableVersion, changes: BaseChanges, as_of: date, normalize: Normalizer = normalize_in_process
) -> pl.DataFrame:
    """Unchanged previous rows normalized again tonight, only those whose normalized form actually differs."""
    columns = ["record_id", *(f"{c}_valid" for c in DATE_COLUMNS), "person_id_issue"]
    changed_ids = changes.changed.select("record_id")
    if isinstance(changed_ids, pl.DataFrame):
        changed_ids = changed_ids.lazy()
    candidates = (
        previous.scan(columns)
        .filter(NIGHT_SENSITIVE)
        .select("record_id")
        .join(changed_ids, on="record_id", how="anti")
        .join(changes.removed.to_frame("record_id").lazy(), on="record_id", how="anti")
        .collect()
    )
    if candidates.height == 0:
        return pl.DataFrame()
    stored = previous.lookup(candidates.get_column("record_id"))
    again = _normalized(stored.select([*CANONICAL_SCHEMA, HASH_COLUMN]), as_of, normalize).select(stored.columns)
    differs = again.hash_rows(seed=7) != stored.hash_rows(seed=7)
    return again.filter(differs)


def normalize_base(
    changes: BaseChanges,
    store: TableStore,
    *,
    meta: dict[str, Any] | None = None,
    progress: Progress = no_progress,
    normalize: Normalizer = normalize_in_process,
) -> TableVersion:
    """Normalize tonight's new and changed base rows and commit the night's base version.

    ``changes.previous`` None builds the version from nothing. ``meta`` is recorded in the version (fingerprints).
    ``normalize``: the engine's normalizer (in process by default; Spark's gives the same rows).
    """
    as_of = date.fromisoformat(changes.night)
    total = changes.changed_count()
    changed = changes.changed if isinstance(changes.changed, pl.LazyFrame) else changes.changed.lazy()

    def chunks() -> Iterator[pl.DataFrame]:
        done = 0
        progress("chuẩn hóa cơ sở / normalizing the base", 0, total)
        for start in range(0, total, CHUNK_ROWS):
            chunk = changed.slice(start, CHUNK_ROWS).collect()
            yield _normalized(chunk, as_of, normalize)
            done += chunk.height
            progress("chuẩn hóa cơ sở / normalizing the base", done, total)
        if changes.previous is not None:
            again = _night_sensitive(changes.previous, changes, as_of, normalize)
            if again.height:
                yield again

    return store.commit(
        changes.night,
        base=changes.previous,
        added=chunks(),
        removed=changes.removed,
        meta={"fingerprint": base_fingerprint(), "kept": changes.kept, **(meta or {})},
        empty_schema=_empty_normalized_schema(),
    )


def _empty_normalized_schema() -> dict[str, pl.DataType]:
    frame = normalize_records(pl.DataFrame(schema=CANONICAL_SCHEMA), as_of=date(2025, 7, 1))
    return {**frame.schema, HASH_COLUMN: pl.UInt64()}
