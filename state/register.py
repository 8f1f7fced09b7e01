"""The clean register, night after night, rebuilding only the persons the night touched.

A person's golden record depends on its records (base and tonight's extracts), its previous register row (events of
earlier nights persist through it) and the survivorship rules, never on another person. So a night rebuilds the
persons whose records changed, arrived, left or moved to another cluster, the persons of tonight's and last night's
extract records, and the persons whose rows tonight's clusters replace (a merge or a split), and applies them to the
previous register version as a delta (``RegisterStore.write_delta``). Everyone else keeps last night's row.

The register's own findings (the rules run on the golden records) follow the same pattern as the base's: the rebuilt
persons, the persons a night-dependent rule may flip, and the members of their households and ID groups are checked
again; the rest keep last night's findings. The golden records, with the columns the checks read (``_checked_columns``:
no lineage, no helper columns), are kept beside the register (``state/register_golden``) for that: a person's group
members are read from there, not rebuilt.

A first or ``full`` night builds every person (in ranges of person keys, ``FULL_PARTITION_PERSONS`` at a time) and
writes a full version; its checks run range by range as well, each range with the other ranges' members of its
households and ID groups (``_full_night``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, Final

import polars as pl
import pyarrow.parquet as pq

from checks.context import CheckContext, CheckSettings
from checks.findings import FINDINGS_SCHEMA
from checks.groups import GROUP_COLUMNS, RECORD_GROUPS, in_a_group_of
from checks.registry import RULES, run_rules
from records.progress import Progress, no_progress
from register.changes import build_changes
from register.golden import assign_successors, build_golden
from register.quality import check_records, conflict_findings
from register.rules import survivorship_rules
from register.store import RegisterStore, StoreError
from register.types import source_column
from state.hashing import code_fingerprint
from state.tables import TableStore, TableVersion, route_rows

__all__ = [
    "GOLDEN_TABLE",
    "REGISTER_FINDINGS_TABLE",
    "REGISTER_FOLDER",
    "RegisterChanges",
    "RegisterNight",
    "register_fingerprint",
    "register_night",
]

REGISTER_FOLDER: Final = "register"
GOLDEN_TABLE: Final = "register_golden"
REGISTER_FINDINGS_TABLE: Final = "register_findings"
FULL_PARTITION_PERSONS: Final = 250_000
"""Persons a first or ``full`` night builds and checks at once (``_full_night``): the build's working memory is that
of this many persons, whatever the province's size."""


def register_fingerprint() -> str:
    """The code the register state was derived by (builder, rules, normalizer, checks)."""
    return code_fingerprint("register", "normalize", "checks", "records.schema", "state.register")


def golden_store(state_dir: Path) -> TableStore:
    return TableStore(state_dir / GOLDEN_TABLE, ("record_id",))


def register_findings_store(state_dir: Path) -> TableStore:
    return TableStore(state_dir / REGISTER_FINDINGS_TABLE, ("record_id",))


@dataclass(frozen=True)
class RegisterNight:
    """Tonight's register: the store and night of its version, what tonight rebuilt, and its findings.

    On a full night what tonight rebuilt is the whole register and change set of the night's version: a stored
    output refers to the store for them (``save``), and a loaded one reads them only when asked (``rebuilt``,
    ``changes``), so an asset that reads the store's version itself does not hold the register twice."""

    store_root: Path
    night: str
    _rebuilt: pl.DataFrame | None
    """Register rows of the persons rebuilt tonight (None: the version's whole register, read when asked)."""
    _changes: pl.DataFrame | None
    """Change-set rows of the persons rebuilt tonight (None: the version's whole change set)."""
    replaced: pl.Series
    """Person keys whose rows of last night tonight replaced or removed."""
    findings: TableVersion
    """The register's findings after tonight (``record_id`` = person key)."""
    checked: pl.Series
    """Person keys whose register findings were computed again tonight."""
    full: bool

    @property
    def store(self) -> RegisterStore:
        return RegisterStore(self.store_root)

    @cached_property
    def rebuilt(self) -> pl.DataFrame:
        """Register rows of the persons rebuilt tonight (every person on a full night)."""
        return self._rebuilt if self._rebuilt is not None else self.store.read_register(self.night)

    @cached_property
    def changes(self) -> pl.DataFrame:
        """Change-set rows of the persons rebuilt tonight (the whole change set on a full night)."""
        return self._changes if self._changes is not None else self.store.read_changes(self.night)

    @property
    def rows(self) -> int:
        return int(self.store.manifest(self.night)["persons"])

    @property
    def rebuilt_persons(self) -> int:
        """Persons rebuilt tonight (counted without reading a full night's register)."""
        return self.rows if self._rebuilt is None else self._rebuilt.height

    def conflicted_persons(self) -> int:
        """Persons rebuilt tonight whose sources disagree on a value the rules do not settle."""
        rows = self.scan() if self._rebuilt is None else self._rebuilt.lazy()
        return int(rows.select((pl.col("conflicts").list.len() > 0).sum()).collect().item())

    def changes_output(self) -> RegisterChanges:
        """Tonight's change set as the ``register_changes`` output (a full night's refers to the store's version)."""
        return RegisterChanges(self.store_root, self.night, self._changes, full=self.full)

    def frame(self) -> pl.DataFrame:
        """The whole register of the night."""
        return self.store.read_register(self.night)

    def scan(self) -> pl.LazyFrame:
        return self.store.scan_register(self.night)

    def changed_rows(self, columns: list[str] | None = None) -> pl.DataFrame:
        if columns is None:
            return self.rebuilt
        return self.rebuilt.select([c for c in columns if c in self.rebuilt.columns])

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if not self.full:  # a full night's rows are the store's version itself: not written a second time
            self.rebuilt.write_parquet(folder / "rebuilt.parquet")
            self.changes.write_parquet(folder / "changes.parquet")
        self.replaced.to_frame("person_key").write_parquet(folder / "replaced.parquet")
        self.checked.to_frame("person_key").write_parquet(folder / "checked.parquet")
        self.findings.save(folder)
        reference = {"store": str(self.store_root), "night": self.night, "full": self.full}
        (folder / "register.json").write_text(json.dumps(reference, indent=1), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> RegisterNight:
        reference = json.loads((folder / "register.json").read_text("utf-8"))
        return cls(
            store_root=Path(reference["store"]),
            night=reference["night"],
            _rebuilt=_read_if_there(folder / "rebuilt.parquet"),
            _changes=_read_if_there(folder / "changes.parquet"),
            replaced=pl.read_parquet(folder / "replaced.parquet").get_column("person_key"),
            findings=TableVersion.load(folder),
            checked=pl.read_parquet(folder / "checked.parquet").get_column("person_key"),
            full=bool(reference["full"]),
        )


def _read_if_there(path: Path) -> pl.DataFrame | None:
    return pl.read_parquet(path) if path.exists() else None


def _person_records(
    base: TableVersion, extracts: pl.DataFrame, clusters: TableVersion, persons: pl.Series | None,
    *, base_rows: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:  # fmt: skip
    """The normalized records (base and tonight's extracts) of ``persons`` (None: everyone) and their clusters.
    ``base_rows``: their base records, already read (``state.tables.route_rows``); else looked up in ``base``."""
    membership = clusters.scan(["record_id", "cluster_id", "source"])
    if persons is not None:
        membership = membership.filter(pl.col("cluster_id").is_in(persons.implode()))
    members = membership.collect()
    if base_rows is None:
        base_ids = members.filter(pl.col("source") == "base").get_column("record_id")
        base_rows = base.read() if persons is None else base.lookup(base_ids)
    extract_rows = extracts.join(members.select("record_id"), on="record_id", how="semi")
    # Contiguous here, while the two parts are let go as it is made: the golden build needs one chunk per column, and
    # rechunking there copied every column while the caller still held the chunked frame (two copies of tonight's
    # records through the build).
    records = pl.concat([base_rows, extract_rows], how="diagonal_relaxed", rechunk=True)
    return records, members.select("record_id", "cluster_id")


def _touched_persons(
    base: TableVersion, extracts: pl.DataFrame, clusters: TableVersion, previous_clusters: TableVersion
) -> pl.Series:
    """Person keys to rebuild tonight: of every record that changed, arrived, left, or changed person, tonight's
    person and last night's; and of tonight's and last night's extract records."""
    last_extracts = (
        previous_clusters.scan(["record_id", "source"]).filter(pl.col("source") != "base").collect()
    ).get_column("record_id")
    records = pl.concat(
        [
            base.added(["record_id"]).collect().get_column("record_id"),
            base.removed_ids().cast(pl.String),
            extracts.get_column("record_id").cast(pl.String) if extracts.height else pl.Series([], dtype=pl.String),
            last_extracts,
            clusters.removed_ids().cast(pl.String),
        ]
    ).unique()
    tonight = clusters.lookup(records, ["record_id", "cluster_id"]).get_column("cluster_id")
    before = previous_clusters.lookup(records, ["record_id", "cluster_id"]).get_column("cluster_id")
    return pl.concat([tonight, before]).unique().sort().rename("person_key")


def _night_sensitive(golden: TableVersion, before: date, night: date, settings: CheckSettings) -> pl.Series:
    expressions = [r.may_change(settings, before, night) for r in RULES.values() if r.may_change is not None]
    if not expressions:
        return pl.Series("person_key", [], dtype=pl.String)
    predicate = pl.any_horizontal(expressions).fill_null(False)
    columns = sorted({"record_id", *predicate.meta.root_names()})
    found = golden.scan(columns).filter(predicate).select("record_id").collect()
    return found.get_column("record_id").rename("person_key")


def _groups(golden: list[TableVersion], keys: pl.Series, tonight: TableVersion) -> pl.Series:
    """Persons of tonight's register sharing a group of the register's group rules (a household, a valid personal
    ID: ``_shares_a_group_with``) with ``keys`` in any of the given golden versions (tonight's; last night's for
    persons rebuilt or removed)."""
    columns = ["record_id", *_GROUP_KEY_COLUMNS]
    rows = [version.lookup(keys, columns) for version in golden]
    members = (
        tonight.scan(columns)
        .filter(in_a_group_of(rows, _GROUP_KINDS))
        .select("record_id")
        .collect()
        .get_column("record_id")
    )
    return pl.concat([keys.cast(pl.String), members]).unique()


def _checked_columns(schema: Mapping[str, pl.DataType]) -> list[str]:
    """The columns of golden rows the register's checks read: all but the lineage of each value (a struct per field,
    the largest part of a golden row), the build's helper columns (``_``-prefixed) and the register's own
    bookkeeping (record ids, in_base, updated_night), none of which a quality rule knows of. Read without them, the
    golden rows of a whole province take half the memory."""
    rules = survivorship_rules()
    unread = {source_column(c) for c in (*rules.columns, "status")} | {"record_ids", "in_base", "updated_night"}
    return [c for c in schema if c not in unread and not c.startswith("_")]


def _stored_golden(golden: pl.DataFrame) -> pl.DataFrame:
    """Golden rows (``build_golden``) as the golden table keeps them: as the checks read them (``check_records``), with
    only the columns they read (``_checked_columns``). Every reader of the table (the checks, the night-sensitive
    rules, the household and ID groups) reads no other column; the lineage and helper columns left out were half the
    bytes the first night wrote and compressed."""
    rows = check_records(golden)
    return rows.select(_checked_columns(rows.schema))


def _findings_of(
    golden_rows: pl.DataFrame, night: date, settings: CheckSettings, rules: Sequence[str] | None = None,
    *, conflicts: bool = True,
) -> pl.DataFrame:  # fmt: skip
    """The rules (``rules``; None: every rule) on golden records (as ``register.quality.register_findings``), plus the
    conflicts unless ``conflicts`` is false."""
    context = CheckContext(base=golden_rows, extracts=golden_rows.head(0), night=night, settings=settings)
    findings, _ = run_rules(context, only=rules)
    if not conflicts:
        return findings.match_to_schema(FINDINGS_SCHEMA)
    return pl.concat([findings, conflict_findings(golden_rows)], how="vertical").match_to_schema(FINDINGS_SCHEMA)


_GROUP_RULES: Final = tuple(r.id for r in RULES.values() if set(r.groups) & set(RECORD_GROUPS))
"""The register's checks that judge a golden record with others: the rules that declare a group of a record's own
columns (``Rule.groups``: a household, the holders of a valid ID). The register is checked without extracts, pairs
or clusters, so the rules that declare only the other groups find nothing beyond one record: those that link
extracts to the base (births, cards, deaths and moves not reflected, cross-source mismatches, the cards of
``adult_without_card`` and ``card_expired``) and ``duplicate_person`` (clusters or dedupe pairs); every rule that
declares no group, and the conflicts, read one record alone. Today these are ``household_without_head``, which reads
the living members of a household id that is present (not blank), reported on the first of them, and
``shared_person_id``, which reads the holders of one valid ``person_id_norm``, each reported, naming the others in the
order of the rows."""
_GROUP_RULE_COLUMNS: Final = tuple(dict.fromkeys(c for id in _GROUP_RULES for c in RULES[id].read_columns))
"""The columns ``_GROUP_RULES`` read of a golden row (``Rule.read_columns``: those of the finding and its ward, of
the record's groups and those the rule declares; a rule reading another fails on a frame of these alone)."""
_GROUP_KINDS: Final = tuple(dict.fromkeys(g for id in _GROUP_RULES for g in RULES[id].groups if g in RECORD_GROUPS))
"""The groups ``_GROUP_RULES`` judge a golden record in."""
_GROUP_KEY_COLUMNS: Final = tuple(dict.fromkeys(c for group in _GROUP_KINDS for c in GROUP_COLUMNS[group]))
"""The columns that place a golden row in its ``_GROUP_KINDS``."""


def _shares_a_group_with(rows: pl.DataFrame) -> pl.Expr:
    """True for a golden row in one of the ``_GROUP_KINDS`` of a row of ``rows`` (with ``_GROUP_KEY_COLUMNS``): a
    household that is present (a blank one is no group for the rule, and every person without a household would
    otherwise be every range's context) or a valid personal ID."""
    return in_a_group_of(rows, _GROUP_KINDS)


def _range_findings(
    golden_parts: Sequence[Path], index: int, columns: list[str], night: date, settings: CheckSettings
) -> pl.DataFrame:
    """The register's findings on the persons of one range (``golden_parts[index]``, its ``columns``), exactly those
    a check of the whole province gives them. The rules that read one record alone, and the conflicts, run on the
    range's golden rows. ``_GROUP_RULES`` run on them (their ``_GROUP_RULE_COLUMNS``) with the other ranges' members
    of their households and valid ID groups, read from the other parts with a filter, in the order of the whole
    province (the parts are in key order), and only their findings on the range's persons are kept: a finding on a
    group is on one person, so exactly one range keeps it. The members of other ranges take few columns: with
    hashed person keys most of a range's households reach into every other range."""
    own = pl.read_parquet(golden_parts[index], columns=columns)
    alone = [rule for rule in RULES if rule not in _GROUP_RULES]
    found = [_findings_of(own, night, settings, alone)]
    in_group = _shares_a_group_with(own)
    group_columns = [c for c in _GROUP_RULE_COLUMNS if c in columns]

    def members(paths: Sequence[Path]) -> list[pl.DataFrame]:
        scans = [pl.scan_parquet(path).select(group_columns).filter(in_group) for path in paths]
        return [pl.concat(scans, how="vertical_relaxed").collect()] if scans else []

    groups = pl.concat([*members(golden_parts[:index]), own.select(group_columns), *members(golden_parts[index + 1 :])],
                       how="vertical_relaxed", rechunk=True)  # fmt: skip
    grouped = _findings_of(groups, night, settings, _GROUP_RULES, conflicts=False)
    found.append(grouped.filter(pl.col("record_id").is_in(own.get_column("record_id").implode())))
    return pl.concat(found, how="vertical")


def _sorted_findings(findings: pl.DataFrame) -> pl.DataFrame:
    return findings.match_to_schema(FINDINGS_SCHEMA).sort("record_id", "rule", "detail", nulls_last=True)


def _usable_previous(store: RegisterStore, golden: TableStore, findings: TableStore, night: str,
                     clusters: TableVersion) -> str | None:  # fmt: skip
    """Last night, when its register, golden records and findings exist and were derived by this code from the
    clusters tonight's clusters build on."""
    previous = store.previous_night(night)
    if previous is None or clusters.full:
        return None
    try:
        manifest = store.manifest(previous)
        golden_version = golden.version(previous)
        findings.version(previous)
    except (StoreError, FileNotFoundError):
        return None
    if manifest.get("fingerprint") != register_fingerprint() or golden_version.meta.get("fingerprint") != (
        register_fingerprint()
    ):
        return None
    if clusters.meta.get("previous") != previous:
        return None
    return previous


def _partition_of(bounds: list[str], column: str = "person_key") -> pl.Expr:
    """The index of the range of person keys ``column`` falls in (``bounds``: each range's first key but the first)."""
    index: pl.Expr = pl.lit(0, dtype=pl.UInt32)
    for bound in bounds:
        index = index + (pl.col(column) >= bound).cast(pl.UInt32)
    return index


def _partition_starts(persons: int, partition_persons: int) -> list[int]:
    """Where each range of about ``partition_persons`` of ``persons`` sorted keys starts (the first at 0)."""
    parts = max(1, -(-persons // max(1, partition_persons)))
    return [k * persons // parts for k in range(parts)]


class _ParquetAppender:
    """One Parquet file written a frame at a time, as ``write_parquet`` writes a frame (zstd, statistics, row groups
    of at most ``_ROW_GROUP`` rows): the frames put together, in order, with the first frame's types (a later frame
    is cast to them, e.g. a column that is all null there; a type that cannot be cast fails). The same frames give
    the same bytes, so a rerun of an unchanged night still adds no register version (``RegisterStore``)."""

    _ROW_GROUP: Final = 512**2
    """Polars' default row group."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer: pq.ParquetWriter | None = None

    def append(self, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd", write_statistics=True)
        elif table.schema != self.writer.schema:
            table = table.cast(self.writer.schema)
        self.writer.write_table(table, row_group_size=self._ROW_GROUP)

    def __enter__(self) -> _ParquetAppender:
        return self

    def __exit__(self, *exception: object) -> None:
        if self.writer is not None:
            self.writer.close()


def _full_night(
    base: TableVersion,
    extracts: pl.DataFrame,
    clusters: TableVersion,
    store: RegisterStore,
    goldens: TableStore,
    findings_store: TableStore,
    night: str,
    *,
    settings: CheckSettings,
    version_info: dict[str, Any],
    meta: dict[str, Any],
    progress: Progress,
    partition_persons: int,
) -> RegisterNight:
    """Every person built and checked (a first or ``full`` night), one range of person keys at a time.

    The golden build needs several times its output while it works (tonight's records with their helper columns,
    each rule's candidates), so a whole province built at once was the night's peak. A person's golden record
    depends only on its own records and previous rows (``build_golden``), so each range is built from its own
    records (routed to it in one pass over the base, ``route_rows``); its register and change set are appended to
    the store's staged files (``_ParquetAppender``) and its golden rows written as a segment of the golden table
    before the next range is read. The ranges are in key order, so the files and segments are in the order of one
    whole build (register and golden rows by person, changes by person, record and field). The register's checks
    then run range by range (``_range_findings``): the rules that read one record on the range's golden rows, the
    household and shared-ID rules on them with the other ranges' members of their groups, each range keeping the
    findings on its own persons, so that the findings are those of one check of everyone (in the order
    ``_sorted_findings`` gives them). Neither the golden rows nor their checked columns of the whole province
    are ever in memory at once."""
    day = date.fromisoformat(night)
    rules = survivorship_rules()
    last = store.previous_night(night)
    membership = clusters.read(["record_id", "cluster_id"]).select(
        pl.col("record_id").cast(pl.String), pl.col("cluster_id").cast(pl.String)
    )
    keys = membership.get_column("cluster_id").unique().sort()
    starts = _partition_starts(keys.len(), partition_persons)
    bounds = [str(keys[start]) for start in starts[1:]]
    homes = None
    if last is not None:
        # Each previous row goes to the range of its successor over all of tonight's clusters (a row none of whose
        # records is seen tonight: of its own key), as one whole build would hand it on.
        assigned = assign_successors(store.scan_register(last).select("person_key", "record_ids").collect(), membership)
        homes = assigned.select("person_key", pl.coalesce("successor", "person_key").alias("_home")).with_columns(
            _partition_of(bounds, "_home").alias("_partition")
        )
    ranges = (
        clusters.scan(["record_id", "cluster_id", "source"])
        .filter(pl.col("source") == "base")
        .select(pl.col("record_id").cast(pl.String), _partition_of(bounds, "cluster_id").alias("_partition"))
        .collect()
    )
    no_base_rows = base.scan().head(0).collect()
    golden_version: TableVersion | None = None

    def files(register_path: Path, changes_path: Path) -> dict[str, int]:
        """Every range built, its register and change set appended to the store's staged files and its golden rows
        written as a segment of tonight's golden version, before the next range is read."""
        nonlocal golden_version
        counts = {"persons": 0, "changes": 0, "changes_tonight": 0}

        def golden_ranges() -> Iterator[pl.DataFrame]:
            with _ParquetAppender(register_path) as registers, _ParquetAppender(changes_path) as change_sets:
                for part, (start, end) in enumerate(zip(starts, [*starts[1:], keys.len()], strict=True)):
                    persons = keys.slice(start, end - start)
                    base_rows = pl.read_parquet(routed[part]) if routed[part] else no_base_rows
                    records, members = _person_records(base, extracts, clusters, persons, base_rows=base_rows)
                    del base_rows
                    previous = previous_changes = None
                    if last is not None and homes is not None:
                        mine = homes.filter(pl.col("_partition") == part).get_column("person_key").implode()
                        previous = store.scan_register(last).filter(pl.col("person_key").is_in(mine)).collect()
                        record_ids = records.get_column("record_id").implode()
                        previous_changes = (
                            store.scan_changes(last).filter(pl.col("record_id").is_in(record_ids)).collect()
                        )
                    # With previous rows, every record seen tonight (in this range or another) must be known to the
                    # build: a previous row's records seen elsewhere tonight are not inherited.
                    build = build_golden(records, membership if previous is not None else members, day,
                                         previous=previous, rules=rules)  # fmt: skip
                    del records, members
                    changes = build_changes(build, day, previous_changes=previous_changes, rules=rules)
                    del previous, previous_changes
                    counts["persons"] += build.register.height
                    counts["changes"] += changes.height
                    counts["changes_tonight"] += int((changes["night"] == day).sum())
                    registers.append(build.register)
                    change_sets.append(changes)
                    golden_rows = _stored_golden(build.golden)
                    del build, changes
                    progress("sổ dân cư sạch / building the register", counts["persons"], keys.len())
                    yield golden_rows
                    del golden_rows

        # The golden table's version is committed as the ranges are built, one segment a range (a whole province's
        # golden rows never sit in memory at once, nor go through a scratch file). Committed before the register's
        # version: a night killed between the two has a golden version without its register, which the next night
        # does not use (``_usable_previous`` wants both) and a rerun writes again with the same files.
        golden_version = goldens.commit(night, base=None, added=golden_ranges(), meta=meta)
        return counts

    scratch = store.root / ".full-build"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        routed = route_rows(base, ranges, scratch, len(starts))
        del ranges
        store.write_with(night, files, info=version_info)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert golden_version is not None
    golden_parts = [golden_version.path(segment) for segment in golden_version.segments]
    checked = _checked_columns(pl.read_parquet_schema(golden_parts[0]))
    found = _sorted_findings(
        pl.concat(
            [_range_findings(golden_parts, part, checked, day, settings) for part in range(len(golden_parts))],
            how="vertical",
        )
    )
    findings_version = findings_store.commit(night, base=None, added=found, meta=meta, empty_schema=FINDINGS_SCHEMA)
    everyone = store.scan_register(night).select("person_key").collect().get_column("person_key")
    return RegisterNight(store.root, night, None, None, everyone.head(0), findings_version, everyone, True)


def register_night(
    base: TableVersion,
    extracts: pl.DataFrame,
    clusters: TableVersion,
    state_dir: Path,
    night: str,
    *,
    full: bool = False,
    info: dict[str, Any] | None = None,
    settings: CheckSettings | None = None,
    progress: Progress = no_progress,
    partition_persons: int = FULL_PARTITION_PERSONS,
) -> RegisterNight:
    """Build tonight's register from tonight's base version, extracts and clusters, store it, and check it.
    ``partition_persons``: persons a full night builds at once."""
    settings = settings or CheckSettings()
    day = date.fromisoformat(night)
    rules = survivorship_rules()
    store = RegisterStore(state_dir / REGISTER_FOLDER)
    goldens, findings_store = golden_store(state_dir), register_findings_store(state_dir)
    previous_night = None if full else _usable_previous(store, goldens, findings_store, night, clusters)
    version_info = {"fingerprint": register_fingerprint(), "rules_sha256": rules.digest, **(info or {})}
    meta = {"fingerprint": register_fingerprint()}
    progress("sổ dân cư sạch / building the register", 0, None)
    if previous_night is None:
        return _full_night(base, extracts, clusters, store, goldens, findings_store, night, settings=settings,
                           version_info=version_info, meta=meta, progress=progress,
                           partition_persons=partition_persons)  # fmt: skip

    previous_clusters = TableStore.at({**clusters.to_reference(), "night": clusters.meta["previous"]})
    persons = _touched_persons(base, extracts, clusters, previous_clusters)
    records, members = _person_records(base, extracts, clusters, persons)
    previous_rows = store.scan_register(previous_night).filter(pl.col("person_key").is_in(persons.implode())).collect()
    replaced = previous_rows.get_column("person_key")
    build = build_golden(records, members, day, previous=previous_rows, rules=rules)
    record_ids = records.get_column("record_id").implode()
    previous_changes = (
        store.scan_changes(previous_night)
        .filter(pl.col("person_key").is_in(replaced.implode()) | pl.col("record_id").is_in(record_ids))
        .collect()
    )
    changes = build_changes(build, day, previous_changes=previous_changes, rules=rules)
    rebuilt_keys = build.register.get_column("person_key")
    gone = pl.concat([replaced, rebuilt_keys]).unique().sort()
    store.write_delta(night, build.register, changes, gone, info=version_info)
    previous_golden = goldens.version(previous_night)
    golden_rows = _stored_golden(build.golden)
    golden_version = goldens.commit(night, base=previous_golden, added=golden_rows, removed=gone, meta=meta)
    # The register's findings: the rebuilt and removed persons, those a night-dependent rule may flip, and the
    # members of their households and ID groups; the context adds those members' own groups.
    seeds = pl.concat(
        [gone, _night_sensitive(golden_version, date.fromisoformat(previous_night), day, settings)]
    ).unique()
    checked = _groups([golden_version, previous_golden], seeds, golden_version)
    live = golden_version.lookup(checked, ["record_id"]).get_column("record_id")
    context = _groups([golden_version], live, golden_version)
    found = _findings_of(golden_version.lookup(context, _checked_columns(golden_version.scan().collect_schema())), day,
                         settings)  # fmt: skip
    found = found.filter(pl.col("record_id").is_in(live.implode()))
    findings_version = findings_store.commit(
        night,
        base=findings_store.version(previous_night),
        added=_sorted_findings(found),
        removed=pl.concat([checked, gone]).unique(),
        meta=meta,
    )
    progress("sổ dân cư sạch / building the register", build.register.height, build.register.height)
    return RegisterNight(store.root, night, build.register, changes, gone, findings_version, live.sort(), False)


@dataclass(frozen=True)
class RegisterChanges:
    """The change set of a night's register version: every pending fix (``frame``), and the rows of the persons
    rebuilt tonight (``changed_rows``; on a ``full`` night the whole change set, which a stored output refers to in
    the store and a loaded one reads only when asked)."""

    store_root: Path
    night: str
    _rebuilt: pl.DataFrame | None
    full: bool = False

    @cached_property
    def rebuilt(self) -> pl.DataFrame:
        return self._rebuilt if self._rebuilt is not None else self.frame()

    @property
    def rows(self) -> int:
        return int(RegisterStore(self.store_root).manifest(self.night)["changes"])

    def frame(self) -> pl.DataFrame:
        return RegisterStore(self.store_root).read_changes(self.night)

    def scan(self) -> pl.LazyFrame:
        """The whole change set, lazily (summaries read a few of its columns, never all of it)."""
        return RegisterStore(self.store_root).scan_changes(self.night)

    def changed_rows(self, columns: list[str] | None = None) -> pl.DataFrame:
        if columns is None:
            return self.rebuilt
        return self.rebuilt.select([c for c in columns if c in self.rebuilt.columns])

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if not self.full:
            self.rebuilt.write_parquet(folder / "changes.parquet")
        reference = {"store": str(self.store_root), "night": self.night, "full": self.full}
        (folder / "register.json").write_text(json.dumps(reference), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> RegisterChanges:
        reference = json.loads((folder / "register.json").read_text("utf-8"))
        rows = _read_if_there(folder / "changes.parquet")
        full = bool(reference.get("full")) and rows is None
        return cls(Path(reference["store"]), reference["night"], rows, full=full)
