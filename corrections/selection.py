"""Which findings need a person: the task policy (``corrections/task_rules.toml``) applied per person.

A finding names records; through the clusters each record belongs to a person of the clean register. A finding the
register settled (its rule is ``register``, or ``unless_register`` and the person's golden record does not show it)
is counted, not tasked; the rest are grouped per rule and set of persons, so one problem of one person is one task
however many of that person's records show it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final, Literal

import polars as pl

__all__ = [
    "ACTIONS",
    "RulePolicy",
    "Selection",
    "TaskPolicy",
    "is_unclustered",
    "load_task_policy",
    "policy_table",
    "select_findings",
    "task_policy",
]

Action = Literal["task", "unless_register", "register"]
ACTIONS: Final[tuple[Action, ...]] = ("task", "unless_register", "register")
TASK_TYPES: Final = ("duplicate", "record_fix", "missing", "update")
_UNCLUSTERED: Final = "record:"


def is_unclustered(person: str) -> bool:
    """A stand-in person of a record no cluster holds (an event id named in a finding, say)."""
    return person.startswith(_UNCLUSTERED)


@dataclass(frozen=True, slots=True)
class RulePolicy:
    action: Action = "task"
    task_type: str | None = None
    superseded_by: tuple[str, ...] = ()
    why: str = ""


@dataclass(frozen=True)
class TaskPolicy:
    rules: dict[str, RulePolicy] = field(default_factory=dict)

    def of(self, rule: str) -> RulePolicy:
        return self.rules.get(rule, RulePolicy())

    def actions(self) -> dict[str, str]:
        return {rule: policy.action for rule, policy in self.rules.items()}


def load_task_policy(path: Path | None = None) -> TaskPolicy:
    """Read and check a task policy file (default: the one shipped with this package)."""
    data = path.read_bytes() if path else resources.files("corrections").joinpath("task_rules.toml").read_bytes()
    raw = tomllib.loads(data.decode("utf-8"))
    if raw.get("format") != 1:
        raise ValueError("task rules: unsupported format (expected format = 1)")
    rules: dict[str, RulePolicy] = {}
    for rule, entry in raw.get("rules", {}).items():
        unknown = set(entry) - {"action", "task_type", "superseded_by", "why"}
        if unknown:
            raise ValueError(f"task rule {rule!r}: unknown keys {sorted(unknown)}")
        action = entry.get("action", "task")
        if action not in ACTIONS:
            raise ValueError(f"task rule {rule!r}: action must be one of {ACTIONS}, not {action!r}")
        task_type = entry.get("task_type")
        if task_type is not None and task_type not in TASK_TYPES:
            raise ValueError(f"task rule {rule!r}: task_type must be one of {TASK_TYPES}, not {task_type!r}")
        rules[rule] = RulePolicy(
            action=action,
            task_type=task_type,
            superseded_by=tuple(entry.get("superseded_by", ())),
            why=str(entry.get("why", "")),
        )
    for rule, policy in rules.items():
        for other in policy.superseded_by:
            if rules.get(other, RulePolicy()).superseded_by:
                raise ValueError(f"task rule {rule!r}: superseded by {other!r}, which is itself superseded")
    return TaskPolicy(rules)


@cache
def task_policy() -> TaskPolicy:
    """The shipped policy (read once)."""
    return load_task_policy()


@dataclass(frozen=True)
class Selection:
    """findings: the findings that need a person, with ``_persons`` (sorted person keys of their records).
    settled / superseded: per rule, how many findings the register settled / another task of the person covers.
    unsuperseded: the findings kept before another task of the person covered any (what a policy without
    ``superseded_by`` keeps), in the same order and columns: the per-rule outcomes count what supersession took
    without selecting a second time."""

    findings: pl.DataFrame
    settled: dict[str, int]
    superseded: dict[str, int]
    unsuperseded: pl.DataFrame


def _counts(frame: pl.DataFrame) -> dict[str, int]:
    return {str(rule): int(n) for rule, n in frame.group_by("rule").len().sort("rule").iter_rows()}


def select_findings(
    findings: pl.DataFrame,
    clusters: pl.DataFrame,
    register_findings: pl.DataFrame,
    policy: TaskPolicy | None = None,
) -> Selection:
    """Keep the findings that need a person (see the module docstring).

    findings: the night's findings (``checks.findings.FINDINGS_SCHEMA``). clusters: record_id → cluster_id (the
    person key). register_findings: the findings on the golden records (``record_id`` = person key).
    """
    policy = policy or task_policy()
    keys = clusters.select(pl.col("record_id").cast(pl.String), pl.col("cluster_id").cast(pl.String)).unique(
        "record_id", keep="first"
    )
    numbered = findings.with_row_index("_finding")
    members = (
        numbered.select(
            "_finding",
            pl.concat_list(
                pl.col("record_id"), pl.col("related_record_ids").fill_null(pl.lit([], dtype=pl.List(pl.String)))
            ).alias("_id"),
        )
        .explode("_id")
        .join(keys, left_on="_id", right_on="record_id", how="left")
        .with_columns(pl.coalesce("cluster_id", pl.lit(_UNCLUSTERED) + pl.col("_id")).alias("_person"))
    )
    persons = members.group_by("_finding").agg(pl.col("_person").unique().sort().alias("_persons"))
    actions = policy.actions()
    numbered = numbered.join(persons, on="_finding", how="left").with_columns(
        pl.col("rule").replace_strict(actions, default="task", return_dtype=pl.String).alias("_action")
    )
    shown = (
        pl.concat(
            [
                register_findings.select("rule", pl.col("record_id").alias("_person")),
                register_findings.select("rule", pl.col("related_record_ids").alias("_person")).explode("_person"),
            ]
        )
        .drop_nulls()
        .unique()
    )
    still_shown = (
        numbered.filter(pl.col("_action") == "unless_register")
        .select("_finding", "rule", pl.col("_persons").alias("_person"))
        .explode("_person")
        .join(shown, on=["rule", "_person"], how="semi")
        .select("_finding")
        .unique()
    )
    keep = (pl.col("_action") == "task") | pl.col("_finding").is_in(still_shown["_finding"].implode())
    kept, settled = numbered.filter(keep), numbered.filter(~keep)

    superseding = {rule: p.superseded_by for rule, p in policy.rules.items() if p.superseded_by}
    dropped = kept.head(0)
    for rule, by in superseding.items():
        covered = (
            kept.filter(pl.col("rule").is_in(list(by))).select(pl.col("_persons").alias("_person")).explode("_person")
        )
        candidates = kept.filter(pl.col("rule") == rule)
        hit = (
            candidates.select("_finding", pl.col("_persons").alias("_person"))
            .explode("_person")
            .join(covered, on="_person", how="semi")
            .select("_finding")
            .unique()
        )
        dropped = pl.concat([dropped, candidates.join(hit, on="_finding", how="semi")])
    unsuperseded = kept.drop("_finding", "_action")
    kept = kept.join(dropped.select("_finding"), on="_finding", how="anti")
    return Selection(
        findings=kept.drop("_finding", "_action"),
        settled=_counts(settled),
        superseded=_counts(dropped),
        unsuperseded=unsuperseded,
    )


def policy_table(policy: TaskPolicy | None = None, titles: Mapping[str, str] | None = None) -> pl.DataFrame:
    """rule, action, why (for reports)."""
    policy = policy or task_policy()
    titles = titles or {}
    return pl.DataFrame(
        [(rule, p.action, p.why, titles.get(rule, rule)) for rule, p in policy.rules.items()],
        schema={"rule": pl.String, "action": pl.String, "why": pl.String, "title": pl.String},
        orient="row",
    )
