"""Turning a night's findings and scored pairs into task and review drafts (pure Polars, no database).

A task's fingerprint is the rule plus the sorted set of records involved, so the same problem found again on a later
night (or found from either side of a duplicate) is the same task. A review item's fingerprint is the unordered pair.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, TypedDict, Unpack

import polars as pl

from checks.findings import sorted_unique
from corrections.routing import ID_COLUMNS, ROUTING_COLUMNS, Destination, Router
from corrections.selection import Selection, TaskPolicy, is_unclustered, select_findings, task_policy
from corrections.text import (
    DEFAULT_COMPARISONS,
    DISPLAY_FIELDS,
    FIELD_LABELS,
    QUALITY_GUIDANCE,
    RULE_FIELDS,
    ComparisonInfo,
    format_probability,
)

__all__ = [
    "DRAFT_SLICE",
    "FINDING_COLUMNS",
    "PAIR_COLUMNS",
    "DraftPlan",
    "NightDrafts",
    "ReviewDraft",
    "TaskDraft",
    "build_drafts",
    "pair_fingerprint",
    "plan_drafts",
    "register_snapshot_id",
    "task_fingerprint",
]

FINDING_COLUMNS: Final = (
    "record_id",
    "source",
    "rule",
    "quality",
    "severity",
    "ward_code",
    "detail",
    "related_record_ids",
)
PAIR_COLUMNS: Final = ("left_id", "right_id", "match_probability", "match_weight", "decision", "kind")
DUE_DAYS: Final = {1: 7, 2: 15, 3: 30}
"""Days a ward has to clear a task, by priority."""
REGISTER_SOURCE: Final = "register"
"""The snapshot source of a person's golden record (what the clean register holds now)."""
_REGISTER_SHOWN: Final = ("person_id", "full_name", "birth_date", "sex", "permanent_address")
_STATUS_NAMES: Final = {"alive": "còn sống", "deceased": "đã chết", "moved_out": "đã chuyển đi nơi khác"}


def register_snapshot_id(person_key: str) -> str:
    """The snapshot id of a person's golden record (never a record id: no source is called "register")."""
    return f"{REGISTER_SOURCE}:{person_key}"


def task_fingerprint(rule: str, record_ids: Iterable[str]) -> str:
    ids = sorted(set(record_ids))
    return hashlib.sha256("\x1f".join([rule, *ids]).encode()).hexdigest()


def pair_fingerprint(left_id: str, right_id: str) -> str:
    first, second = sorted((left_id, right_id))
    return hashlib.sha256(f"review\x1f{first}\x1f{second}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TaskDraft:
    fingerprint: str
    task_type: str
    rule: str
    quality: str
    severity: str
    ward_code: str | None
    province_code: str | None
    record_ids: list[str]
    subject_record_id: str
    subject_name: str | None
    subject_person_id: str | None
    title: str
    description: str
    problem_fields: list[str]
    explanation: list[dict[str, Any]] | None
    priority: int
    person_keys: list[str] = field(default_factory=list)
    """The register persons the task is about (their golden records are snapshotted as ``register:<key>``)."""

    @property
    def due_days(self) -> int:
        return DUE_DAYS[self.priority]


@dataclass(frozen=True, slots=True)
class ReviewDraft:
    fingerprint: str
    left_id: str
    right_id: str
    kind: str
    ward_code: str | None
    province_code: str | None
    match_probability: float
    match_weight: float
    explanation: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class NightDrafts:
    """Everything one night contributes to the store."""

    night: date
    findings: int
    tasks: list[TaskDraft]
    reviews: list[ReviewDraft]
    snapshots: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    """record_id -> (source, canonical values) of every record a task or review item shows; ``register:<key>`` ->
    ("register", golden values) of the persons tasks are about."""
    settled: dict[str, int] = field(default_factory=dict)
    """rule -> findings the clean register settled tonight (counted in the report, not tasks)."""
    superseded: dict[str, int] = field(default_factory=dict)
    """rule -> findings another task of the same person covers."""
    selection: Selection | None = None
    """What the tasks were selected from (with the clean register; ``state.tasks.person_outcomes`` counts it)."""


def _task_type(quality: str, rule: str, record_count: int) -> str:
    if quality == "sạch" and record_count > 1:
        return "duplicate"
    return {"đúng": "record_fix", "đủ": "missing", "sạch": "record_fix", "sống": "update"}.get(quality, "record_fix")


def _priority(severity: str, task_type: str, rule: str) -> int:
    if severity != "error":
        return 3
    # A duplicate identity or a dead person still "alive" in the base harms every service built on the base.
    return 1 if task_type == "duplicate" or rule == "death_not_reflected" else 2


_FOLDED_LABELS: Final = tuple((name, label.casefold()) for name, label in FIELD_LABELS.items())


def _problem_fields(rule: str, details: list[str], records: list[dict[str, Any]]) -> list[str]:
    fields = list(RULE_FIELDS.get(rule, ()))
    text = " ".join(details).casefold()
    for name, label in _FOLDED_LABELS:
        if name not in fields and label in text:
            fields.append(name)
    if len(records) > 1:
        for name in DISPLAY_FIELDS:
            if name in ("record_id", "source", "source_file", "source_row", "event_type") or name in fields:
                continue
            values = {r.get(name) for r in records if r.get(name) is not None}
            if len(values) > 1:
                fields.append(name)
    return fields


def _comparison_names(pairs: pl.DataFrame) -> list[str]:
    return [
        c.removeprefix("level_") for c in pairs.columns if c.startswith("level_") and f"weight_{c[6:]}" in pairs.columns
    ]


def _pair_explanation(
    row: Mapping[str, Any], comparisons: list[str], info: Mapping[str, ComparisonInfo]
) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = []
    for name in comparisons:
        described = info.get(name) or DEFAULT_COMPARISONS.get(name) or ComparisonInfo(name)
        level = row.get(f"level_{name}")
        weight = row.get(f"weight_{name}")
        fields.append(
            {
                "comparison": name,
                "title": described.title,
                "level": level if isinstance(level, int | str) or level is None else str(level),
                "text": described.describe(level),
                "weight": None if weight is None else round(float(weight), 3),
            }
        )
    return fields


def _explanation_sentence(pair: Mapping[str, Any]) -> str:
    parts = []
    for item in pair["fields"]:
        weight = item["weight"]
        signed = "" if weight is None else f" ({weight:+.1f})".replace(".", ",")
        parts.append(f"{item['title']}: {item['text']}{signed}")
    return (
        f"Giải thích ghép nối {pair['left_id']} – {pair['right_id']}: xác suất cùng một người "
        f"{format_probability(pair['match_probability'])}. " + "; ".join(parts) + "."
    )


def _records_frame(records: Iterable[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in records if f.width]
    if not frames:
        return pl.DataFrame(schema={"record_id": pl.String, "source": pl.String})
    wanted = [*DISPLAY_FIELDS, *ROUTING_COLUMNS]
    return pl.concat([f.select([c for c in wanted if c in f.columns]) for f in frames], how="diagonal_relaxed").unique(
        "record_id", keep="first", maintain_order=True
    )


_ROUTED_BY: Final = (*ROUTING_COLUMNS, *ID_COLUMNS)


def _snapshots(shown: pl.DataFrame, router: Router) -> tuple[dict[str, dict[str, Any]], dict[str, Destination]]:
    """record_id -> the record's display values (its non-null ``DISPLAY_FIELDS``, in that order) and record_id ->
    where its problems go. Column by column, as ``_register_values``: a dict of every column per row from
    ``iter_rows`` cost more than the snapshots themselves (316,241 of them on a first night at 1,000,000 people)."""
    ids = shown.get_column("record_id").to_list()
    displayed = [(c, shown.get_column(c).to_list()) for c in DISPLAY_FIELDS if c in shown.columns]
    routed = [(c, shown.get_column(c).to_list()) for c in _ROUTED_BY if c in shown.columns]
    snapshot_rows: dict[str, dict[str, Any]] = {}
    routing: dict[str, Destination] = {}
    for i, record_id in enumerate(ids):
        routing[record_id] = router.record({c: column[i] for c, column in routed})
        snapshot_rows[record_id] = {c: column[i] for c, column in displayed if column[i] is not None}
    return snapshot_rows, routing


def _register_values(register: pl.DataFrame | pl.LazyFrame | None, keys: set[str]) -> dict[str, dict[str, Any]]:
    """person_key -> golden values (display text, status and the record each value came from). ``register``: a
    frame, or a scan of a whole register (only these persons' rows and the columns shown are read)."""
    rows = _golden_rows(register, keys)
    return {} if rows is None else _golden_values(rows)


def _golden_rows(register: pl.DataFrame | pl.LazyFrame | None, keys: Iterable[str]) -> pl.DataFrame | None:
    """The register rows of these persons with what a task shows of them (``_golden_values``), as columns."""
    wanted = pl.Series(sorted(set(keys)), dtype=pl.String)
    if register is None or wanted.len() == 0:
        return None
    columns = register.collect_schema().names()
    shown = [c for c in DISPLAY_FIELDS if c in columns]
    traced = [c for c in [*shown, "status"] if f"{c}_source" in columns]
    # Only the lineage's record ids, as plain columns: turning every lineage struct into a dict per row costs more
    # than everything else a task draft needs.
    return (
        register.lazy()
        .filter(pl.col("person_key").is_in(wanted.implode()))
        .select(
            "person_key",
            *shown,
            (pl.col("status") if "status" in columns else pl.lit(None, pl.String)).alias("_status"),
            (pl.col("record_ids") if "record_ids" in columns else pl.lit(None, pl.List(pl.String))).alias("_ids"),
            (pl.col("conflicts") if "conflicts" in columns else pl.lit(None, pl.List(pl.String))).alias("_conflicts"),
            *(pl.col(f"{c}_source").struct.field("record_id").alias(f"_from_{c}") for c in traced),
        )
        # Streaming: a whole register's file is read batch by batch, keeping these persons' rows only.
        .collect(engine="streaming")
    )


def _golden_values(flat: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """person_key -> golden values of ``_golden_rows``' rows, in their order."""
    shown = [c for c in DISPLAY_FIELDS if c in flat.columns]
    traced = [c.removeprefix("_from_") for c in flat.columns if c.startswith("_from_")]
    # Column by column (one list per column, then zipped): a dict per row of ~45 columns from ``iter_rows`` cost
    # more than the values themselves at a first night's 140,000 persons.
    shown_values = [(c, flat.get_column(c).to_list()) for c in shown]
    traced_values = [(c, flat.get_column(f"_from_{c}").to_list()) for c in traced]
    persons = zip(
        flat.get_column("person_key").to_list(),
        flat.get_column("_status").to_list(),
        flat.get_column("_ids").to_list(),
        flat.get_column("_conflicts").to_list(),
        strict=True,
    )
    values: dict[str, dict[str, Any]] = {}
    for i, (key, status, ids, conflicts) in enumerate(persons):
        data: dict[str, Any] = {c: column[i] for c, column in shown_values if column[i] is not None}
        data["status"] = status
        data["record_ids"] = ids or []
        data["sources"] = {c: column[i] for c, column in traced_values if column[i]}
        if conflicts:
            data["conflicts"] = [FIELD_LABELS.get(c, c) for c in conflicts]
        values[key] = data
    return values


def _register_sentence(key: str, golden: Mapping[str, Any], fields: list[str]) -> str:
    shown = [f for f in (*_REGISTER_SHOWN, *fields) if f in golden and f in FIELD_LABELS]
    parts = [f"{FIELD_LABELS[f]}: {golden[f]}" for f in dict.fromkeys(shown)]
    status = _STATUS_NAMES.get(str(golden.get("status")), str(golden.get("status")))
    return f"Sổ dân cư sạch hiện ghi (mã người {key}, {status}): " + "; ".join(parts) + "."


DRAFT_SLICE: Final = 25_000
"""Tasks drafted (and staged by ``corrections.nightly.apply_night``) at a time from a ``DraftPlan``: a first night
at 1,000,000 people drafts 140,000, whose Python objects (descriptions, snapshots, golden values) held at once were
the ``correction_tasks`` asset's peak."""


@dataclass
class DraftPlan:
    """A night's drafts before they are drafted: the findings grouped into one row per task, the records they show
    and the review pairs, in polars (``plan_drafts``). ``task_slices`` drafts the tasks a slice at a time, in the
    order of one whole ``build_drafts``; ``record_snapshots`` gives the shown records' snapshots in chunks. So a
    night's drafts need not be held at once; ``build_drafts`` is all of it in one ``NightDrafts``."""

    night: date
    findings: int
    grouped: pl.DataFrame
    """One row per task, in draft order: rule, records, persons, subject, quality, severity, ward, details."""
    shown: pl.DataFrame
    """The records a task or review item shows, in snapshot order (display and routing columns)."""
    pairs: pl.DataFrame
    review_pairs: pl.DataFrame
    golden: pl.DataFrame | None
    """The register rows of the persons tasks are about (``_golden_rows``; None: no register)."""
    router: Router
    comparisons: Mapping[str, ComparisonInfo]
    titles: dict[str, str]
    policy_types: dict[str, str | None]
    guidance: dict[str, str]
    settled: dict[str, int]
    superseded: dict[str, int]
    selection: Selection | None
    slice_size: int | None = None
    """Tasks drafted (and records snapshotted) at a time; None: ``DRAFT_SLICE``."""
    unrouted: int = 0
    """Tasks drafted so far with no ward to go to (counted as ``task_slices`` drafts them)."""

    @property
    def task_count(self) -> int:
        """How many tasks the plan drafts (one per group)."""
        return self.grouped.height

    def task_persons(self) -> list[str]:
        """Every person with a golden record a task is about, in person-key order."""
        return [] if self.golden is None else self.golden.get_column("person_key").sort().to_list()

    def record_snapshots(self, size: int | None = None) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
        """(record_id, source, display values) of every shown record, ``size`` (``slice_size``) at a time, in
        snapshot order."""
        size = size or self.slice_size or DRAFT_SLICE
        for start in range(0, self.shown.height, size):
            chunk = self.shown.slice(start, size)
            values, _ = _snapshots(chunk, self.router)
            sources = chunk.get_column("source").to_list()
            yield [(rid, source or "base", data) for (rid, data), source in zip(values.items(), sources, strict=True)]

    def task_slices(self, size: int | None = None) -> Iterator[tuple[list[TaskDraft], dict[str, dict[str, Any]]]]:
        """The task drafts ``size`` (``slice_size``) at a time, in draft order, each with the golden values of the
        persons its tasks are about (person_key -> values, in person-key order)."""
        size = size or self.slice_size or DRAFT_SLICE
        names = _comparison_names(self.pairs)
        for start in range(0, self.grouped.height, size):
            part = self.grouped.slice(start, size)
            ids = part.get_column("_records").explode().unique()
            shown = self.shown.filter(pl.col("record_id").is_in(ids.implode()))
            snapshot_rows, routing = _snapshots(shown, self.router)
            explained = _explained(self.pairs, part, names, self.comparisons)
            golden: dict[str, dict[str, Any]] = {}
            if self.golden is not None:
                persons = part.get_column("_persons").explode().unique().implode()
                golden = _golden_values(self.golden.filter(pl.col("person_key").is_in(persons)))
            tasks = self._drafts(part, snapshot_rows, routing, explained, golden)
            self.unrouted += sum(1 for t in tasks if t.ward_code is None)
            yield tasks, golden

    def _drafts(
        self,
        grouped: pl.DataFrame,
        snapshot_rows: dict[str, dict[str, Any]],
        routing: dict[str, Destination],
        explained: dict[tuple[str, str], dict[str, Any]],
        golden: dict[str, dict[str, Any]],
    ) -> list[TaskDraft]:
        tasks: list[TaskDraft] = []
        # Column by column (one list per column, zipped) rather than a dict per group from ``iter_rows``; what
        # depends on the rule or the quality alone is worked out once per rule or quality (``plan_drafts``).
        for ids, rule, quality, details, subject, group_persons, severity, ward_code in zip(
            *(grouped.get_column(c).to_list() for c in ("_records", "rule", "quality", "detail", "subject",
                                                        "_persons", "severity", "ward_code")),
            strict=True,
        ):  # fmt: skip
            person_keys = [p for p in group_persons if p in golden]
            snapshots = [snapshot_rows[i] for i in ids if i in snapshot_rows]
            task_type = self.policy_types[rule] or _task_type(quality, rule, len(ids))
            explanation = (
                [explained[(a, b)] for i, a in enumerate(ids) for b in ids[i + 1 :] if (a, b) in explained] or None
                if explained
                else None
            )
            problem_fields = _problem_fields(rule, details, snapshots)
            lines = [*details, self.guidance[quality]]
            lines.extend(_register_sentence(key, golden[key], problem_fields) for key in person_keys)
            lines.extend(_explanation_sentence(pair) for pair in explanation or [])
            destination = self.router.finding(ward_code, routing.get(subject))
            subject_values = snapshot_rows.get(subject, {})
            tasks.append(
                TaskDraft(
                    fingerprint=task_fingerprint(rule, ids),
                    task_type=task_type,
                    rule=rule,
                    quality=quality,
                    severity=severity,
                    ward_code=destination.ward_code,
                    province_code=destination.province_code,
                    record_ids=ids,
                    subject_record_id=subject,
                    subject_name=subject_values.get("full_name"),
                    subject_person_id=subject_values.get("person_id"),
                    title=self.titles[rule],
                    description="\n".join(lines),
                    problem_fields=problem_fields,
                    explanation=explanation,
                    priority=_priority(severity, task_type, rule),
                    person_keys=person_keys,
                )
            )
        return tasks

    def review_drafts(self) -> list[ReviewDraft]:
        """The review items of the review-band pairs (one per unordered pair)."""
        names = _comparison_names(self.pairs)
        ids = pl.concat([self.review_pairs.get_column("left_id"), self.review_pairs.get_column("right_id")]).unique()
        _, routing = _snapshots(self.shown.filter(pl.col("record_id").is_in(ids.implode())), self.router)
        reviews: list[ReviewDraft] = []
        seen_pairs: set[str] = set()
        for row in self.review_pairs.iter_rows(named=True):
            fingerprint = pair_fingerprint(row["left_id"], row["right_id"])
            if fingerprint in seen_pairs:
                continue
            seen_pairs.add(fingerprint)
            destination = self.router.first(routing.get(row["left_id"]), routing.get(row["right_id"]))
            reviews.append(
                ReviewDraft(
                    fingerprint=fingerprint,
                    left_id=row["left_id"],
                    right_id=row["right_id"],
                    kind=row["kind"],
                    ward_code=destination.ward_code,
                    province_code=destination.province_code,
                    match_probability=float(row["match_probability"]),
                    match_weight=float(row["match_weight"]),
                    explanation=_pair_explanation(row, names, self.comparisons),
                )
            )
        return reviews


def _explained(
    pairs: pl.DataFrame, grouped: pl.DataFrame, names: list[str], comparisons: Mapping[str, ComparisonInfo]
) -> dict[tuple[str, str], dict[str, Any]]:
    """(smaller id, larger id) -> the explanation of a scored pair between two records of one of these tasks."""
    multi_ids = {i for ids in grouped.get_column("_records").to_list() if len(ids) > 1 for i in ids}
    explained: dict[tuple[str, str], dict[str, Any]] = {}
    if not multi_ids:
        return explained
    wanted = pl.Series(sorted(multi_ids), dtype=pl.String).implode()
    linked = pairs.filter(pl.col("left_id").is_in(wanted) & pl.col("right_id").is_in(wanted))
    for row in linked.iter_rows(named=True):
        key = tuple(sorted((row["left_id"], row["right_id"])))
        explained[(key[0], key[1])] = {
            "left_id": row["left_id"],
            "right_id": row["right_id"],
            "match_probability": float(row["match_probability"]),
            "match_weight": float(row["match_weight"]),
            "decision": row["decision"],
            "fields": _pair_explanation(row, names, comparisons),
        }
    return explained


class DraftOptions(TypedDict, total=False):
    """The keyword arguments of ``plan_drafts`` and ``build_drafts``."""

    rule_titles: Mapping[str, str] | None
    comparisons: Mapping[str, ComparisonInfo] | None
    ward_provinces: Mapping[str, str] | None
    clusters: pl.DataFrame | None
    register: pl.DataFrame | pl.LazyFrame | None
    register_findings: pl.DataFrame | None
    policy: TaskPolicy | None


def plan_drafts(
    night: date,
    findings: pl.DataFrame,
    pairs: pl.DataFrame,
    records: Iterable[pl.DataFrame],
    *,
    rule_titles: Mapping[str, str] | None = None,
    comparisons: Mapping[str, ComparisonInfo] | None = None,
    ward_provinces: Mapping[str, str] | None = None,
    clusters: pl.DataFrame | None = None,
    register: pl.DataFrame | pl.LazyFrame | None = None,
    register_findings: pl.DataFrame | None = None,
    policy: TaskPolicy | None = None,
) -> DraftPlan:
    """Group findings into one row per task and find the records the tasks and review-band pairs show
    (``DraftPlan``; the arguments as ``build_drafts``)."""
    rule_titles = rule_titles or {}
    comparisons = comparisons or {}
    ward_provinces = ward_provinces or {}
    policy = policy or task_policy()
    missing = [c for c in FINDING_COLUMNS if c not in findings.columns]
    if missing:
        raise ValueError(f"findings lack columns: {', '.join(missing)}")
    missing = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        raise ValueError(f"pairs lack columns: {', '.join(missing)}")
    settled: dict[str, int] = {}
    superseded: dict[str, int] = {}
    selection: Selection | None = None
    with_records = findings.select(FINDING_COLUMNS).with_columns(
        sorted_unique(pl.concat_list(pl.col("record_id"), pl.col("related_record_ids").fill_null([]))).alias("_records")
    )
    if clusters is not None and register_findings is not None:
        selection = select_findings(with_records, clusters, register_findings, policy)
        with_records, settled, superseded = selection.findings, selection.settled, selection.superseded
        # A task about a person names every population-base record of that person: each must be fixed at source.
        base_records = clusters.filter(pl.col("source") == "base") if "source" in clusters.columns else clusters
        of_person = base_records.group_by(pl.col("cluster_id").alias("_person")).agg(
            pl.col("record_id").alias("_person_records")
        )
        with_records = (
            with_records.with_row_index("_finding")
            .join(
                with_records.with_row_index("_finding")
                .select("_finding", pl.col("_persons").alias("_person"))
                .explode("_person")
                .join(of_person, on="_person", how="inner")
                .group_by("_finding")
                .agg(pl.col("_person_records").explode().alias("_extra")),
                on="_finding",
                how="left",
            )
            .with_columns(
                sorted_unique(
                    pl.concat_list("_records", pl.col("_extra").fill_null(pl.lit([], dtype=pl.List(pl.String))))
                ).alias("_records")
            )
            .drop("_finding", "_extra")
        )
    else:
        with_records = with_records.with_columns(pl.col("_records").alias("_persons"))
    grouped = (
        with_records.with_columns(pl.struct("rule", "_persons").alias("_key"))
        .sort("rule", "record_id", "source")
        .group_by("_key", maintain_order=True)
        .agg(
            pl.col("rule").first(),
            pl.col("_records").explode().unique().sort().alias("_records"),
            pl.col("_persons").first(),
            pl.col("record_id").first().alias("subject"),
            pl.col("quality").first(),
            # "error" sorts before "warning": the gravest severity wins.
            pl.col("severity").min(),
            pl.col("ward_code").drop_nulls().first(),
            pl.col("detail").drop_nulls().unique(maintain_order=True),
        )
    )

    referenced: set[str] = set()
    for record_set in grouped.get_column("_records").to_list():
        referenced.update(record_set)
    review_pairs = pairs.filter(pl.col("decision") == "review")
    referenced.update(review_pairs.get_column("left_id").to_list())
    referenced.update(review_pairs.get_column("right_id").to_list())
    shown = _records_frame(records).filter(pl.col("record_id").is_in(list(referenced)))
    persons = grouped.get_column("_persons").explode().drop_nulls().unique().to_list()
    golden = None if register is None else _golden_rows(register, [p for p in persons if not is_unclustered(p)])
    titles = {r: rule_titles.get(r, r.replace("_", " "))[:300] for r in grouped.get_column("rule").unique().to_list()}
    return DraftPlan(
        night=night,
        findings=findings.height,
        grouped=grouped,
        shown=shown,
        pairs=pairs,
        review_pairs=review_pairs,
        golden=golden,
        router=Router(ward_provinces),
        comparisons=comparisons,
        titles=titles,
        policy_types={r: policy.of(r).task_type for r in titles},
        guidance={
            q: f"Cách xử lý: {QUALITY_GUIDANCE.get(q, '')}" for q in grouped.get_column("quality").unique().to_list()
        },
        settled=settled,
        superseded=superseded,
        selection=selection,
    )


def build_drafts(
    night: date,
    findings: pl.DataFrame,
    pairs: pl.DataFrame,
    records: Iterable[pl.DataFrame],
    **options: Unpack[DraftOptions],
) -> NightDrafts:
    """Group findings into task drafts and review-band pairs into review drafts.

    records: the normalized base and extracts (canonical columns plus the routing ward columns); only the records
    a task or review item refers to are kept as snapshots. rule_titles: Vietnamese title of each rule id.
    comparisons: wording of the matching engine's comparisons. ward_provinces: current ward code -> province code.

    With the clean register (clusters, register, register_findings) only what needs a person becomes a task
    (``corrections.selection``): findings are grouped per rule and person, the register settles the rest, and each
    task shows the person's golden record. Without it every finding is a task, grouped per rule and records.
    The whole night's drafts at once: ``plan_drafts`` drafts them a slice at a time (``DraftPlan``).
    """
    plan = plan_drafts(night, findings, pairs, records, **options)
    tasks: list[TaskDraft] = []
    golden: dict[str, dict[str, Any]] = {}
    for drafted, values in plan.task_slices(max(plan.task_count, 1)):
        tasks.extend(drafted)
        golden.update(values)
    stored = {rid: (source, data) for chunk in plan.record_snapshots(max(plan.shown.height, 1)) for rid, source, data
              in chunk}  # fmt: skip
    stored.update({register_snapshot_id(key): (REGISTER_SOURCE, golden[key]) for key in sorted(golden)})
    return NightDrafts(
        night=night,
        findings=plan.findings,
        tasks=tasks,
        reviews=plan.review_drafts(),
        snapshots=stored,
        settled=plan.settled,
        superseded=plan.superseded,
        selection=plan.selection,
    )
