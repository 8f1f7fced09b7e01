"""Per-source column mappings, kept as data in ``records/mappings/*.toml``.

A mapping says which file names belong to a source, which Vietnamese headers each canonical column may arrive under,
which fields a record of the source is expected to fill (a completeness check, not an ingest requirement: the
columns a file must have are ``records.schema.REQUIRED_COLUMNS``), which headers are layout only (a row-number
column), and the controlled vocabularies of coded fields. Ingest and the demo generator both
read these files, so the headers they use can never drift apart.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from unidecode import unidecode

from records.schema import CANONICAL_SCHEMA

__all__ = ["SourceMapping", "all_mappings", "header_key", "load_mapping", "source_for_file", "value_key"]

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def header_key(text: str) -> str:
    """Match key of a header: no diacritics, case, spaces or punctuation ("Ngày sinh" -> "ngaysinh")."""
    return _NON_ALNUM.sub("", unidecode(unicodedata.normalize("NFC", text)).lower())


def value_key(text: str) -> str:
    """Match key of a coded value: like ``header_key`` but keeps word boundaries ("Thường trú" -> "thuong tru")."""
    return " ".join(_NON_ALNUM.split(unidecode(unicodedata.normalize("NFC", text)).lower())).strip()


@dataclass(frozen=True)
class SourceMapping:
    source: str
    label: str
    file_patterns: tuple[str, ...]
    expected: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    derived: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    ignored_headers: tuple[str, ...] = ()

    @property
    def header_lookup(self) -> dict[str, str]:
        """header_key(alias) -> canonical column."""
        return {header_key(alias): column for column, aliases in self.columns.items() for alias in aliases}

    def headers(self) -> dict[str, str]:
        """canonical column -> the header current exports use (the first alias)."""
        return {column: aliases[0] for column, aliases in self.columns.items()}

    def value_lookup(self, column: str) -> dict[str, str]:
        """value_key(alias) -> canonical value, for a coded column (canonical values match themselves)."""
        table = self.values.get(column, {})
        lookup = {value_key(canonical): canonical for canonical in table}
        lookup.update({value_key(alias): canonical for canonical, aliases in table.items() for alias in aliases})
        return lookup

    def matches_file(self, path: Path) -> bool:
        name = path.name.lower()
        return any(fnmatch.fnmatch(name, pattern) for pattern in self.file_patterns)


def _parse(text: str, origin: str) -> SourceMapping:
    raw = tomllib.loads(text)
    columns = {name: tuple(aliases) for name, aliases in raw["columns"].items()}
    unknown = [name for name in [*columns, *raw.get("derived", {})] if name not in CANONICAL_SCHEMA]
    if unknown:
        raise ValueError(f"{origin}: columns not in the canonical schema: {unknown}")
    missing_expected = [name for name in raw["expected"] if name not in columns]
    if missing_expected:
        raise ValueError(f"{origin}: expected columns without headers: {missing_expected}")
    return SourceMapping(
        source=raw["source"],
        label=raw["label"],
        file_patterns=tuple(raw["file_patterns"]),
        expected=tuple(raw["expected"]),
        columns=columns,
        derived=dict(raw.get("derived", {})),
        values={column: {k: tuple(v) for k, v in table.items()} for column, table in raw.get("values", {}).items()},
        ignored_headers=tuple(raw.get("ignored_headers", ())),
    )


@cache
def all_mappings() -> tuple[SourceMapping, ...]:
    folder = resources.files("records").joinpath("mappings")
    found = [
        _parse(entry.read_text(encoding="utf-8"), entry.name)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    ]
    return tuple(found)


def load_mapping(source: str) -> SourceMapping:
    for mapping in all_mappings():
        if mapping.source == source:
            return mapping
    raise KeyError(f"no column mapping for source {source!r}")


def source_for_file(path: Path) -> SourceMapping | None:
    """The mapping whose file patterns match ``path``'s name, if exactly one does."""
    matching = [m for m in all_mappings() if m.matches_file(path)]
    return matching[0] if len(matching) == 1 else None
