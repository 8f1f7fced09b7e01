"""The rule registry: every quality rule is a small function registered here with its id, quality and severity.

A rule also declares what its finding on a record may depend on beyond the record itself: the night
(``may_change``), and the groups of records it judges the record together with (``groups``, the kinds of
``checks.groups``) with the columns it reads of their records (``columns``). A rule that declares no groups judges
each record alone, so it finds the same on any part of the records as on all of them; whoever runs the rules on
part of the records hands a group rule the whole of the groups it declares, and only its ``read_columns``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final

import polars as pl

from checks.context import ROUTING_COLUMNS, CheckContext, CheckSettings
from checks.findings import FINDINGS_SCHEMA, QUALITIES, Quality, Severity, empty_findings, finalize_findings
from checks.groups import GROUP_COLUMNS, GROUPS

__all__ = ["FINDING_COLUMNS", "RULES", "MayChange", "Rule", "RuleHits", "rule", "rules_table", "run_rules"]

RuleHits = Callable[[CheckContext], pl.DataFrame]
"""A rule body: returns raw hits with columns record_id, source, ward_code, detail[, related_record_ids]."""

MayChange = Callable[[CheckSettings, date, date], pl.Expr]
"""For a rule whose result depends on the night: ``(settings, previous night, night) ->`` an expression over a
normalized base record that is true when the rule's finding on that record may differ between the two nights
(a card expiring in between, a 14th birthday, a date that was still in the future). The nightly run re-checks
those records even when nothing about them changed; a rule that reads the night must declare it."""

FINDING_COLUMNS: Final = ("record_id", "source", *ROUTING_COLUMNS)
"""The columns every finding is made of: the record, its source and the columns of its ward (``ward_code``)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A registered rule. ``title`` and ``description`` are the Vietnamese text shown to data officers."""

    id: str
    quality: Quality
    severity: Severity
    title: str
    description: str
    hits: RuleHits
    may_change: MayChange | None = None
    groups: tuple[str, ...] = ()
    """The kinds of groups (``checks.groups``) whose records the rule judges a record with; none: each alone."""
    columns: tuple[str, ...] = ()
    """For a group rule, the columns it reads of the records (besides ``FINDING_COLUMNS`` and the columns that
    place a record in its groups, ``GROUP_COLUMNS``)."""

    @property
    def read_columns(self) -> tuple[str, ...]:
        """Every column a group rule reads of a record: it finds the same on a frame of these alone."""
        group_columns = (c for group in self.groups for c in GROUP_COLUMNS[group])
        return tuple(dict.fromkeys((*FINDING_COLUMNS, *group_columns, *self.columns)))

    def run(self, context: CheckContext) -> pl.DataFrame:
        raw = self.hits(context)
        if raw.height == 0:
            return empty_findings()
        return finalize_findings(raw, rule=self.id, quality=self.quality, severity=self.severity)


RULES: dict[str, Rule] = {}


def rule(
    id: str,
    *,
    quality: Quality,
    severity: Severity,
    title: str,
    description: str,
    may_change: MayChange | None = None,
    groups: tuple[str, ...] = (),
    columns: tuple[str, ...] = (),
) -> Callable[[RuleHits], RuleHits]:
    """Register a rule body under a stable id (the id becomes part of correction-task fingerprints).

    ``groups``: the kinds of groups the rule judges a record with (``checks.groups``); ``columns``: for a group rule,
    the columns it reads of their records besides those of its findings and groups (a caller handing it the groups
    reads only its ``Rule.read_columns``)."""
    if quality not in QUALITIES:
        raise ValueError(f"unknown quality {quality!r}")
    unknown = [group for group in groups if group not in GROUPS]
    if unknown:
        raise ValueError(f"rule {id!r}: unknown groups {unknown}")
    if columns and not groups:
        raise ValueError(f"rule {id!r} declares the columns of groups but no groups")

    def register(hits: RuleHits) -> RuleHits:
        if id in RULES:
            raise ValueError(f"rule {id!r} registered twice")
        RULES[id] = Rule(
            id=id,
            quality=quality,
            severity=severity,
            title=title,
            description=description,
            hits=hits,
            may_change=may_change,
            groups=groups,
            columns=columns,
        )
        return hits

    return register


def run_rules(context: CheckContext, only: Iterable[str] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run the registered rules (or ``only`` those ids) and return ``(findings, timings)``.

    timings: one row per rule with rule, findings (count) and seconds, for run metadata.
    """
    selected = list(RULES.values()) if only is None else [RULES[i] for i in only]
    results: list[pl.DataFrame] = []
    timings: list[tuple[str, int, float]] = []
    for item in selected:
        started = time.perf_counter()
        found = item.run(context)
        timings.append((item.id, found.height, time.perf_counter() - started))
        results.append(found)
    findings = pl.concat(results, how="vertical") if results else empty_findings()
    timing_frame = pl.DataFrame(
        timings, schema={"rule": pl.String, "findings": pl.Int64, "seconds": pl.Float64}, orient="row"
    )
    return findings.match_to_schema(FINDINGS_SCHEMA), timing_frame


def rules_table() -> pl.DataFrame:
    """All registered rules as a frame (rule, quality, severity, title, description), for reports."""
    return pl.DataFrame(
        [(r.id, r.quality, r.severity, r.title, r.description) for r in RULES.values()],
        schema={
            "rule": pl.String,
            "quality": pl.String,
            "severity": pl.String,
            "title": pl.String,
            "description": pl.String,
        },
        orient="row",
    )
