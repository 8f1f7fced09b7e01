"""Type aliases and column contracts of the clean register (one place, like ``matchers.engine.types``)."""

from __future__ import annotations

from typing import Final, Literal

import polars as pl

from normalize.columns import ADDRESS_COLUMNS

__all__ = [
    "ADDRESS_CODE_SUFFIXES",
    "CHANGES_SCHEMA",
    "CHANGE_COLUMNS",
    "LINEAGE",
    "STATUSES",
    "PersonKey",
    "Status",
    "code_columns",
    "source_column",
]

PersonKey = str
"""The stable person key: the cluster id the match stage assigns (kept across nights)."""

Status = Literal["alive", "deceased", "moved_out"]
STATUSES: Final[tuple[Status, ...]] = ("alive", "deceased", "moved_out")

LINEAGE: Final = pl.Struct(
    {
        "record_id": pl.String,
        "source": pl.String,
        "event_type": pl.String,
        "as_of": pl.Date,
        "night": pl.Date,
    }
)
"""``<field>_source``: the record a golden value came from, its source and event, the day that record vouches for it
(``as_of``: verification, registration or issue date) and the night the register first took it."""

ADDRESS_CODE_SUFFIXES: Final = ("ward_code", "province_code", "status", "candidates")


def source_column(column: str) -> str:
    return f"{column}_source"


def code_columns(column: str) -> tuple[str, ...]:
    """The normalized codes register.parquet keeps beside a golden column (post-2025 ward, ethnic group, ...)."""
    if column in ADDRESS_COLUMNS:
        return tuple(f"{column}_{suffix}" for suffix in ADDRESS_CODE_SUFFIXES)
    if column == "person_id":
        return ("person_id_valid",)
    if column == "birth_date":
        return ("birth_date_precision",)
    if column == "ethnicity":
        return ("ethnicity_code",)
    return ()


CHANGES_SCHEMA: Final = pl.Schema(
    [
        ("night", pl.Date()),
        ("person_key", pl.String()),
        ("record_id", pl.String()),
        ("person_id", pl.String()),
        ("ward_code", pl.String()),
        ("field", pl.String()),
        ("old_value", pl.String()),
        ("new_value", pl.String()),
        ("rule", pl.String()),
        ("evidence_record_ids", pl.List(pl.String())),
    ]
)
"""One row per fix of one field of one population-base record. ``night``: the night the register first applied it
(a fix the base has not taken yet stays in later nights' change sets with its first night)."""
CHANGE_COLUMNS: Final = tuple(CHANGES_SCHEMA)
