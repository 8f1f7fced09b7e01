"""What the night's correction tasks are drafted from, and which tasks and review items the drafts decide.

Tasks are per rule and person (``corrections.selection``), and a task shows the person's golden record: its content
depends on the findings of the person's records, on the register row and on the register's findings of the person.
A full night drafts every task. An incremental night drafts the tasks of the *persons in scope*: those of the base
records checked again tonight, of records removed, of tonight's and last night's extract records, of the persons the
register rebuilt or whose register findings were computed again; extended until no task of a person in scope
involves a person outside it (a finding that names a record of another person). Every other task is unchanged in the
store, and is carried as seen (``corrections.nightly.NightScope``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

import polars as pl

from checks.context import ROUTING_COLUMNS
from checks.findings import FINDINGS_SCHEMA
from checks.incremental import NightFindings
from corrections.selection import Selection, TaskPolicy, select_findings, task_policy
from corrections.text import DISPLAY_FIELDS
from register.quality import persistent_findings, persistent_sources
from state.register import RegisterChanges, RegisterNight
from state.tables import TableStore, TableVersion

__all__ = [
    "OUTCOMES_TABLE",
    "TaskInputs",
    "commit_outcomes",
    "outcome_totals",
    "outcomes_store",
    "person_outcomes",
    "task_inputs",
]

_CLOSURE_ROUNDS: Final = 6


@dataclass(frozen=True)
class TaskInputs:
    """The inputs of ``corrections.build.build_drafts`` for one night, and the scope they decide."""

    findings: pl.DataFrame
    """The quality findings and the register's persistent ones, of the persons in scope."""
    quality: pl.DataFrame
    """The quality findings alone (what the report counts as findings)."""
    pairs: pl.DataFrame
    records: list[pl.DataFrame]
    clusters: pl.DataFrame
    register: pl.DataFrame | pl.LazyFrame
    """The register rows of the persons in scope (a full night: the whole register, lazily; the drafts read the
    golden rows of the persons they are about)."""
    register_findings: pl.DataFrame
    full: bool
    subjects: list[str]
    """Records whose tasks the drafts decide (every record of the persons in scope)."""
    pair_records: list[str]
    """Records whose review pairs the drafts decide."""
    persons: pl.Series
    """The persons in scope (every person on a full night)."""


def _members(clusters: TableVersion, persons: pl.Series) -> pl.DataFrame:
    return (
        clusters.scan(["record_id", "cluster_id", "source"])
        .filter(pl.col("cluster_id").is_in(persons.implode()))
        .collect()
    )


def _display(base: TableVersion, ids: pl.Series) -> pl.DataFrame:
    schema = base.scan().collect_schema()
    return base.lookup(ids, [c for c in (*DISPLAY_FIELDS, *ROUTING_COLUMNS) if c in schema])


def task_inputs(
    found: NightFindings,
    pairs: pl.DataFrame,
    base: TableVersion,
    extracts: pl.DataFrame,
    clusters: TableVersion,
    register: RegisterNight,
    changes: RegisterChanges,
    repaired: pl.Series,
) -> TaskInputs:
    """The night's draft inputs: everything on a full night, the persons in scope on an incremental one."""
    night = date.fromisoformat(register.night)
    if found.full or register.full:
        every = clusters.read(["record_id", "cluster_id", "source"])
        quality = found.all()
        # The register is read for what makes a persistent finding, and the drafts read the golden rows of the
        # persons they are about from its file: a province's register in memory was the night's peak.
        rows, events = persistent_sources(register.scan(), changes.scan())
        persistent = persistent_findings(rows, events, every, night)
        del rows, events
        findings = _ordered(pl.concat([quality, persistent], how="vertical"))
        referenced = _referenced(findings, pairs)
        return TaskInputs(
            findings=findings,
            quality=quality,
            pairs=pairs,
            records=[_display(base, referenced), extracts],
            clusters=every,
            register=register.scan(),
            register_findings=register.findings.read(),
            full=True,
            subjects=[],
            pair_records=[],
            persons=every.get_column("cluster_id").unique().sort(),
        )
    touched = pl.concat(
        [
            clusters.lookup(found.subjects, ["record_id", "cluster_id"]).get_column("cluster_id"),
            register.replaced.cast(pl.String),
            register.rebuilt.get_column("person_key"),
            register.checked.cast(pl.String),
        ]
    ).unique()
    persons, members, quality = _closed(touched, clusters, found, extracts)
    rows = register.scan().filter(pl.col("person_key").is_in(persons.implode())).collect()
    person_changes = (
        register.store.scan_changes(register.night).filter(pl.col("person_key").is_in(persons.implode())).collect()
    )
    findings = _ordered(pl.concat([quality, persistent_findings(rows, person_changes, members, night)], how="vertical"))
    record_ids = members.get_column("record_id")
    pair_records = pl.concat([repaired.cast(pl.String), found.subjects, record_ids]).unique()
    wanted, own = pair_records.implode(), record_ids.implode()
    chosen = pairs.filter(
        (pl.col("left_id").is_in(wanted) | pl.col("right_id").is_in(wanted))
        | (pl.col("left_id").is_in(own) & pl.col("right_id").is_in(own))
    )
    referenced = _referenced(findings, chosen)
    return TaskInputs(
        findings=findings,
        quality=quality,
        pairs=chosen,
        records=[_display(base, referenced), extracts],
        clusters=members,
        register=rows,
        register_findings=register.findings.lookup(persons),
        full=False,
        # Every record of the persons in scope, and the records of the scope that left tonight's data.
        subjects=pl.concat([record_ids, found.subjects]).unique().to_list(),
        pair_records=pair_records.to_list(),
        persons=persons,
    )


def _ordered(findings: pl.DataFrame) -> pl.DataFrame:
    """One order for the findings whatever store they were read from: a task lists its details in this order."""
    return findings.sort("rule", "record_id", "source", "detail", nulls_last=True, maintain_order=True)


def _referenced(findings: pl.DataFrame, pairs: pl.DataFrame) -> pl.Series:
    review = pairs.filter(pl.col("decision") == "review")
    return pl.concat(
        [
            findings.get_column("record_id"),
            findings.get_column("related_record_ids").explode().drop_nulls(),
            review.get_column("left_id"),
            review.get_column("right_id"),
        ]
    ).unique()


def _closed(
    persons: pl.Series, clusters: TableVersion, found: NightFindings, extracts: pl.DataFrame
) -> tuple[pl.Series, pl.DataFrame, pl.DataFrame]:
    """The persons in scope, extended until closed: every finding on a record of one of them, or naming one, has
    all its records' persons in scope too. Returns the persons, their records (with clusters) and those findings."""
    base_findings = found.version
    extract_findings = found.extracts
    # Only a finding that names records can name one of these: read those once (a few percent of the findings)
    # instead of scanning every finding of the base in every round.
    naming_any = base_findings.scan().filter(pl.col("related_record_ids").list.len() > 0).collect()
    for _ in range(_CLOSURE_ROUNDS):
        members = _members(clusters, persons)
        ids = members.get_column("record_id")
        wanted = ids.implode()
        own = pl.concat(
            [
                base_findings.lookup(ids),
                extract_findings.filter(pl.col("record_id").is_in(wanted)),
            ]
        )
        # Findings on other persons' records that name one of these records (a household's head names every member).
        naming = naming_any.filter(pl.col("related_record_ids").list.eval(pl.element().is_in(wanted)).list.any())
        findings = pl.concat([own, naming]).unique(maintain_order=True)
        involved = pl.concat(
            [findings.get_column("record_id"), findings.get_column("related_record_ids").explode().drop_nulls()]
        ).unique()
        more = clusters.lookup(involved, ["record_id", "cluster_id"]).get_column("cluster_id")
        grown = pl.concat([persons, more]).unique()
        if grown.len() == persons.len():
            return persons.sort(), members, findings
        persons = grown
    members = _members(clusters, persons)
    ids = members.get_column("record_id")
    findings = pl.concat([base_findings.lookup(ids), extract_findings.filter(pl.col("record_id").is_in(ids.implode()))])
    return persons.sort(), members, findings


# ---------------------------------------------------------------- findings → tasks, per rule, for the report

OUTCOMES_TABLE: Final = "task_outcomes"
OUTCOME_COLUMNS: Final = ("findings", "tasks", "settled", "superseded")


def outcomes_store(state_dir: Path) -> TableStore:
    return TableStore(state_dir / OUTCOMES_TABLE, ("person_key",))


def _first_person(findings: pl.DataFrame, clusters: pl.DataFrame) -> pl.Series:
    """The person a finding is counted under: the smallest person key among its records' (or the record itself)."""
    keys = clusters.select(pl.col("record_id").cast(pl.String), pl.col("cluster_id").cast(pl.String)).unique(
        "record_id", keep="first"
    )
    numbered = findings.with_row_index("_finding")
    persons = (
        numbered.select(
            "_finding",
            pl.concat_list(
                "record_id", pl.col("related_record_ids").fill_null(pl.lit([], dtype=pl.List(pl.String)))
            ).alias("_id"),
        )
        .explode("_id")
        .join(keys, left_on="_id", right_on="record_id", how="left")
        .group_by("_finding")
        .agg(pl.coalesce("cluster_id", "_id").min().alias("person_key"))
    )
    return numbered.select("_finding").join(persons, on="_finding", how="left", maintain_order="left")["person_key"]


def person_outcomes(
    quality: pl.DataFrame, drafted: pl.DataFrame, clusters: pl.DataFrame, register_findings: pl.DataFrame,
    policy: TaskPolicy | None = None, selection: Selection | None = None,
) -> pl.DataFrame:  # fmt: skip
    """Per person and rule: tonight's quality findings, the tasks they make, and how many findings the register
    settled or another task of the person covers (``corrections.selection``). ``quality``: the quality findings;
    ``drafted``: everything the tasks are drafted from (quality and the register's persistent findings);
    ``selection``: the selection the drafts were made from (``NightDrafts.selection``: ``drafted`` under ``policy``),
    so that the night selects once."""
    if selection is None:
        selection = select_findings(drafted, clusters, register_findings, policy or task_policy())
    selected, unsuperseded = selection.findings, selection.unsuperseded
    columns = list(FINDINGS_SCHEMA)

    def counted(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        frame = frame.select(columns)
        return frame.select(_first_person(frame, clusters).alias("person_key"), "rule").group_by(
            "person_key", "rule"
        ).agg(pl.len().cast(pl.UInt32).alias(name))  # fmt: skip

    def minus(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
        keyed = [pl.col(c).list.join("\x1f") if c == "related_record_ids" else pl.col(c) for c in columns]
        left = a.select(columns).with_columns(pl.struct(keyed).hash().alias("_h"))
        right = b.select(columns).with_columns(pl.struct(keyed).hash().alias("_h")).select("_h")
        return left.join(right, on="_h", how="anti").drop("_h")

    groups = selected.select(pl.struct("rule", "_persons").alias("_task"), "rule", "_persons").unique("_task")
    tasks = groups.select(
        pl.col("_persons").list.first().alias("person_key"), "rule"
    ).group_by("person_key", "rule").agg(pl.len().cast(pl.UInt32).alias("tasks"))  # fmt: skip
    parts = [
        counted(quality, "findings"),
        tasks,
        counted(minus(drafted, unsuperseded), "settled"),
        counted(minus(unsuperseded, selected), "superseded"),
    ]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.join(part, on=["person_key", "rule"], how="full", coalesce=True)
    return merged.with_columns(pl.col(list(OUTCOME_COLUMNS)).fill_null(0).cast(pl.UInt32)).sort("person_key", "rule")


def commit_outcomes(
    state_dir: Path, night: str, rows: pl.DataFrame, *, full: bool, persons: pl.Series | None = None
) -> TableVersion:
    """Store tonight's per-person outcomes: all of them on a full night, else those of the persons in scope."""
    store = outcomes_store(state_dir)
    previous = None if full else store.latest(before=night)
    removed = (
        persons.cast(pl.String) if persons is not None and previous is not None else pl.Series([], dtype=pl.String)
    )
    schema = {"person_key": pl.String, "rule": pl.String, **{c: pl.UInt32 for c in OUTCOME_COLUMNS}}
    return store.commit(night, base=previous, added=rows, removed=removed, empty_schema=schema)


def outcome_totals(version: TableVersion) -> pl.DataFrame:
    """Per rule over every person: findings, tasks, settled, superseded."""
    return (
        version.scan()
        .group_by("rule")
        .agg(pl.col(c).sum().cast(pl.UInt32) for c in OUTCOME_COLUMNS)
        .collect()
        .sort("findings", "rule", descending=[True, False])
    )
