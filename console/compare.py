"""Records side by side, one row per field: the task page and the review page both show them so."""

from __future__ import annotations

from dataclasses import dataclass

from corrections.models import RecordSnapshot
from corrections.text import DISPLAY_FIELDS, FIELD_LABELS, SOURCE_NAMES, mask_id

__all__ = ["FieldRow", "side_by_side"]

ID_FIELDS = ("person_id", "card_number", "old_id_number")


@dataclass(frozen=True, slots=True)
class FieldRow:
    name: str
    label: str
    values: list[str]
    problem: bool
    differs: bool


def _cell(name: str, value: object, *, mask: bool, problem: bool, origin: str | None = None) -> str:
    if value is None:
        return "(trống)" if problem else ""
    if mask and name in ID_FIELDS:
        value = mask_id(str(value))
    if name == "source":
        return SOURCE_NAMES.get(str(value), str(value))
    # A golden value of the clean register says which record it was taken from.
    return f"{value} (theo {origin})" if origin else str(value)


def side_by_side(records: list[RecordSnapshot], problems: set[str], *, mask: bool = False) -> list[FieldRow]:
    """The display fields any of ``records`` has (or that are a problem), with whether the records disagree."""
    rows: list[FieldRow] = []
    for name in DISPLAY_FIELDS:
        if name == "record_id":
            continue
        raw = [r.data.get(name) for r in records]
        if name == "source":
            raw = [r.source for r in records]
        if all(v is None for v in raw) and name not in problems:
            continue
        origins = [(r.data.get("sources") or {}).get(name) if r.source == "register" else None for r in records]
        values = [
            _cell(name, v, mask=mask, problem=name in problems, origin=o) for v, o in zip(raw, origins, strict=True)
        ]
        present = {v for v in raw if v is not None}
        rows.append(
            FieldRow(
                name,
                FIELD_LABELS.get(name, name),
                values,
                name in problems,
                len(records) > 1 and len(present) > 1 and name != "source",
            )
        )
    return rows
