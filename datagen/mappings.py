"""The per-source column mappings (``records/mappings/*.toml``) as the generator uses them: headers and
controlled values come from these files, so generator and ingest cannot drift apart."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

__all__ = ["FILE_STEMS", "MAPPINGS_DIR", "SourceMapping", "source_mapping"]

MAPPINGS_DIR: Final = Path(__file__).resolve().parent.parent / "records" / "mappings"
FILE_STEMS: Final = {"residence": "cu_tru", "civil_status": "ho_tich", "card": "cap_cccd"}


@dataclass(frozen=True)
class SourceMapping:
    source: str
    columns: dict[str, list[str]]  # canonical column -> header aliases, first = current exports
    values: dict[str, dict[str, list[str]]]  # canonical column -> canonical value -> aliases
    required: tuple[str, ...]


@cache
def source_mapping(source: str) -> SourceMapping:
    with (MAPPINGS_DIR / f"{source}.toml").open("rb") as handle:
        raw = tomllib.load(handle)
    return SourceMapping(
        source=raw["source"],
        columns={name: list(aliases) for name, aliases in raw["columns"].items()},
        values={name: {k: list(v) for k, v in table.items()} for name, table in raw.get("values", {}).items()},
        required=tuple(raw.get("expected", ())),
    )
