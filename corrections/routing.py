"""Where a task or a review pair goes: a ward, else a province, else the national administrators.

A finding without a ward (the address did not resolve to one current ward) still usually says which province the
person belongs to. In order, the first that gives one wins:

1. the ward of the finding, or of the record's permanent / current address, and that ward's province;
2. the province the permanent / current address names, when the ward could not be resolved (a split old ward, a
   misspelt commune: ``{address}_province_code`` of the normalized columns);
3. the province of the hometown (quê quán);
4. the province where the birth was registered, from the personal ID's first three digits (one of the 63 pre-2025
   provinces, mapped to the current province it merged into).

What none of them places (no ward, no province, no valid ID) goes to no province: only admins and national data
officers see it (``corrections.access``), never every province's officers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

__all__ = ["ROUTING_COLUMNS", "Destination", "Router"]

WARD_COLUMNS: Final = ("permanent_address_ward_code", "current_address_ward_code")
PROVINCE_COLUMNS: Final = ("permanent_address_province_code", "current_address_province_code", "hometown_province_code")
ID_COLUMNS: Final = ("person_id", "card_number")
ROUTING_COLUMNS: Final = (*WARD_COLUMNS, *PROVINCE_COLUMNS)
"""Normalized columns a record must bring along for routing (beside its display fields, which hold the IDs)."""


@dataclass(frozen=True, slots=True)
class Destination:
    ward_code: str | None = None
    province_code: str | None = None


NATIONAL: Final = Destination()


@cache
def _id_prefix_provinces() -> dict[str, str]:
    from normalize import units

    legacy = units.legacy_provinces().drop_nulls("current_province_code")
    return dict(zip(legacy["id_prefix"].to_list(), legacy["current_province_code"].to_list(), strict=True))


class Router:
    """Routes records with the current ward → province table (``ward_provinces``)."""

    def __init__(self, ward_provinces: Mapping[str, str]) -> None:
        self.ward_provinces = ward_provinces
        self.provinces = frozenset(ward_provinces.values())

    def record(self, row: Mapping[str, Any]) -> Destination:
        """Where the problems of the record ``row`` (normalized columns) go."""
        ward = next((str(row[c]) for c in WARD_COLUMNS if row.get(c)), None)
        province = self.ward_provinces.get(ward) if ward else None
        if province is None:
            province = next(
                (str(row[c]) for c in PROVINCE_COLUMNS if row.get(c) and str(row[c]) in self.provinces), None
            )
        if province is None:
            province = next((p for p in (self._id_province(row.get(c)) for c in ID_COLUMNS) if p), None)
        return Destination(ward, province)

    def finding(self, ward_code: str | None, record: Destination | None) -> Destination:
        """A finding in ``ward_code`` (when the check named one) about a record going to ``record``."""
        if not ward_code:
            return record or NATIONAL
        province = self.ward_provinces.get(ward_code) or (record.province_code if record else None)
        return Destination(ward_code, province)

    def first(self, *destinations: Destination | None) -> Destination:
        """The most precise of several records' destinations (a pair goes where either record goes)."""
        known = [d for d in destinations if d is not None]
        for precise in (lambda d: d.ward_code, lambda d: d.province_code):
            found = next((d for d in known if precise(d)), None)
            if found is not None:
                return found
        return NATIONAL

    def _id_province(self, value: object) -> str | None:
        text = str(value or "")
        if len(text) != 12 or not text.isascii() or not text.isdigit():
            return None
        province = _id_prefix_provinces().get(text[:3])
        return province if province in self.provinces else None
