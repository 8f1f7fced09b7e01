"""The survivorship rules, read from ``register/survivorship.toml`` into typed settings and checked on load.

A mistake in the data file (an unknown source, column, criterion or change rule) is an error naming the field, not a
silently different register.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final, Literal

from records.schema import CANONICAL_SCHEMA, SOURCES

__all__ = [
    "CRITERIA",
    "GOLDEN_COLUMNS",
    "FieldRule",
    "SourceSpec",
    "SurvivorshipRules",
    "load_rules",
    "parse_source",
    "survivorship_rules",
]

Criterion = Literal["valid", "priority", "recency", "latest"]
CRITERIA: Final[tuple[Criterion, ...]] = ("valid", "priority", "recency", "latest")
_CONFLICT_POLICIES: Final = ("priority", "task")
_RECORD_COLUMNS: Final = frozenset(
    {"record_id", "source", "event_type", "registration_place", "registration_date", "residence_type"}
    | {"source_file", "source_row"}
)
GOLDEN_COLUMNS: Final = tuple(c for c in CANONICAL_SCHEMA if c not in _RECORD_COLUMNS)
"""The canonical columns a person has (the others describe one record: its id, source, event, file and row)."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """``source`` or ``source:event type``: which records a rule names."""

    source: str
    event_type: str | None = None

    def __str__(self) -> str:
        return self.source if self.event_type is None else f"{self.source}:{self.event_type}"


def parse_source(text: str, where: str) -> SourceSpec:
    source, _, event = text.partition(":")
    if source not in SOURCES:
        raise ValueError(f"{where}: unknown source {source!r} in {text!r} (known: {', '.join(SOURCES)})")
    return SourceSpec(source, event.strip() or None)


@dataclass(frozen=True, slots=True)
class FieldRule:
    """How one golden field (or group of columns taken from one record) is chosen."""

    name: str
    columns: tuple[str, ...]
    priority: tuple[SourceSpec, ...]
    order: tuple[Criterion, ...]
    fallback: tuple[SourceSpec, ...] = ()
    upgrade: bool = False
    on_conflict: Literal["priority", "task"] = "priority"
    updates: dict[SourceSpec, str] = field(default_factory=dict)
    present: tuple[str, ...] = ()
    as_of: tuple[str, ...] | None = None

    @property
    def is_group(self) -> bool:
        return self.columns != (self.name,)


@dataclass(frozen=True)
class SurvivorshipRules:
    fields: tuple[FieldRule, ...]
    as_of: dict[str, tuple[str, ...]]
    deregistration: tuple[SourceSpec, ...]
    change_rules: dict[str, str]
    digest: str
    """sha256 of the rules file: stored in every register version's manifest."""

    def field(self, name: str) -> FieldRule:
        for rule in self.fields:
            if rule.name == name:
                return rule
        raise KeyError(name)

    def rule_of(self, column: str) -> FieldRule:
        """The rule that gives ``column`` (the column itself or the group it belongs to)."""
        for rule in self.fields:
            if column in rule.columns:
                return rule
        raise KeyError(column)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every golden canonical column, in register order."""
        return tuple(c for rule in self.fields for c in rule.columns)


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def _field_rule(raw: dict[str, object], change_rules: dict[str, str]) -> FieldRule:
    name = raw.get("name")
    if not isinstance(name, str):
        raise ValueError(f"[[field]] without a name: {raw!r}")
    where = f"survivorship field {name!r}"
    unknown_keys = set(raw) - {"name", "columns", "priority", "fallback", "order", "upgrade", "on_conflict", "updates",
                               "present", "as_of"}  # fmt: skip
    if unknown_keys:
        raise ValueError(f"{where}: unknown keys {sorted(unknown_keys)}")
    columns = _strings(raw.get("columns", [name]), f"{where}.columns")
    for column in columns:
        if column not in GOLDEN_COLUMNS:
            raise ValueError(f"{where}: {column!r} is not a person column of the canonical schema")
    priority = tuple(parse_source(s, f"{where}.priority") for s in _strings(raw.get("priority"), f"{where}.priority"))
    if not priority:
        raise ValueError(f"{where}: priority must name at least one source")
    fallback = tuple(
        parse_source(s, f"{where}.fallback") for s in _strings(raw.get("fallback", []), f"{where}.fallback")
    )
    order = _strings(raw.get("order", ["priority"]), f"{where}.order")
    for criterion in order:
        if criterion not in CRITERIA:
            raise ValueError(f"{where}: unknown order criterion {criterion!r} (known: {', '.join(CRITERIA)})")
    on_conflict = raw.get("on_conflict", "priority")
    if on_conflict not in _CONFLICT_POLICIES:
        raise ValueError(f"{where}: on_conflict must be one of {_CONFLICT_POLICIES}, not {on_conflict!r}")
    updates_raw = raw.get("updates", {})
    if not isinstance(updates_raw, dict):
        raise ValueError(f"{where}.updates: expected a table")
    updates: dict[SourceSpec, str] = {}
    for spec, change_rule in updates_raw.items():
        if change_rule not in change_rules:
            raise ValueError(f"{where}.updates: change rule {change_rule!r} is not in [change_rules]")
        updates[parse_source(spec, f"{where}.updates")] = str(change_rule)
    present = _strings(raw.get("present", list(columns)), f"{where}.present")
    if not set(present) <= set(columns):
        raise ValueError(f"{where}.present must be among its columns")
    as_of = _strings(raw["as_of"], f"{where}.as_of") if "as_of" in raw else None
    upgrade = raw.get("upgrade", False)
    if not isinstance(upgrade, bool):
        raise ValueError(f"{where}.upgrade must be true or false")
    return FieldRule(
        name=name,
        columns=columns,
        priority=priority,
        fallback=fallback,
        order=order,  # type: ignore[arg-type]
        upgrade=upgrade,
        on_conflict=on_conflict,
        updates=updates,
        present=present,
        as_of=as_of,
    )


def load_rules(path: Path | None = None) -> SurvivorshipRules:
    """Read and check a survivorship rules file (default: the one shipped in this package)."""
    data = path.read_bytes() if path else resources.files("register").joinpath("survivorship.toml").read_bytes()
    raw = tomllib.loads(data.decode("utf-8"))
    if raw.get("format") != 1:
        raise ValueError("survivorship rules: unsupported format (expected format = 1)")
    change_rules = {str(k): str(v) for k, v in raw.get("change_rules", {}).items()}
    fields = tuple(_field_rule(item, change_rules) for item in raw.get("field", []))
    seen: dict[str, str] = {}
    for rule in fields:
        for column in rule.columns:
            if column in seen:
                raise ValueError(f"column {column!r} is given by both {seen[column]!r} and {rule.name!r}")
            seen[column] = rule.name
    as_of = {source: _strings(columns, f"[as_of].{source}") for source, columns in raw.get("as_of", {}).items()}
    for source in as_of:
        if source not in SOURCES:
            raise ValueError(f"[as_of]: unknown source {source!r}")
    status = raw.get("status", {})
    deregistration = tuple(
        parse_source(s, "[status].deregistration") for s in _strings(status.get("deregistration", []), "[status]")
    )
    for required in ("death", "person_id", "permanent_address", "full_name"):
        if required not in {r.name for r in fields}:
            raise ValueError(f"survivorship rules must define the field {required!r}")
    uncovered = [c for c in GOLDEN_COLUMNS if c not in seen]
    if uncovered:
        raise ValueError(f"survivorship rules give no rule for the person columns {uncovered}")
    return SurvivorshipRules(
        fields=fields,
        as_of=as_of,
        deregistration=deregistration,
        change_rules=change_rules,
        digest=hashlib.sha256(data).hexdigest(),
    )


@cache
def survivorship_rules() -> SurvivorshipRules:
    """The shipped rules (read once)."""
    return load_rules()
