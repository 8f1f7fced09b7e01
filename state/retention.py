"""Retention: how many nights of outputs and of state versions are kept, and what a night costs on disk.

A night leaves ``{output}/nights/{night}/`` (the assets' outputs, mostly small: the large ones refer to state
versions), ``{output}/reports/{night}/`` and, in every state table, the files it wrote (its delta) and its version
manifest (the register store: its version folder). ``apply_retention`` keeps the newest ``keep`` nights of each:
older outputs are deleted, older state versions dropped (a version still needed by a kept one keeps its files: a
table's oldest kept version may rest on a segment written long ago, a register delta on an older full version).
Rollback to any kept night stays possible.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from register.store import CATALOG, RegisterStore
from state.tables import TableStore

__all__ = ["RetentionReport", "apply_retention", "night_disk_bytes", "state_tables"]

_NIGHT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class RetentionReport:
    """What retention removed, and the bytes tonight added."""

    removed_outputs: list[str] = field(default_factory=list)
    removed_versions: dict[str, list[str]] = field(default_factory=dict)
    night_bytes: dict[str, int] = field(default_factory=dict)

    @property
    def night_total_bytes(self) -> int:
        return sum(self.night_bytes.values())


def _bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def state_tables(state_dir: Path) -> list[Path]:
    """Every versioned folder under ``state_dir`` (one holding ``v-YYYY-MM-DD.json`` manifests)."""
    if not state_dir.is_dir():
        return []
    return sorted(p for p in state_dir.iterdir() if p.is_dir() and any(p.glob("v-????-??-??.json")))


def night_disk_bytes(output_dir: Path, night: str) -> dict[str, int]:
    """Bytes on disk that ``night`` wrote: its outputs, its reports, and per state folder the files named after it."""
    sizes = {
        "nights": _bytes(output_dir / "nights" / night),
        "reports": _bytes(output_dir / "reports" / night),
    }
    state_dir = output_dir / "state"
    for folder in state_tables(state_dir):
        sizes[f"state/{folder.name}"] = sum(_bytes(p) for p in folder.iterdir() if f"-{night}" in p.name)
    versions = state_dir / "register" / "versions"
    if versions.is_dir():
        sizes["state/register"] = sum(_bytes(p) for p in versions.iterdir() if p.name.startswith(f"{night}--"))
    model_dir = state_dir / "match_model"
    if model_dir.is_dir():
        sizes["state/match_model"] = sum(_bytes(p) for p in model_dir.iterdir() if night in p.name)
    return sizes


def _expire(folder: Path, keep: int) -> list[str]:
    if not folder.is_dir():
        return []
    nights = sorted(p.name for p in folder.iterdir() if p.is_dir() and _NIGHT.match(p.name))
    expired = nights[: max(0, len(nights) - keep)]
    for night in expired:
        shutil.rmtree(folder / night, ignore_errors=True)
    return expired


def apply_retention(output_dir: Path, night: str, keep: int) -> RetentionReport:
    """Keep the newest ``keep`` nights of outputs, reports and state versions under ``output_dir``."""
    if keep < 1:
        raise ValueError("retention must keep at least one night")
    report = RetentionReport()
    report.removed_outputs = sorted(
        set(_expire(output_dir / "nights", keep)) | set(_expire(output_dir / "reports", keep))
    )
    for folder in state_tables(output_dir / "state"):
        if folder.name == "match_index":
            continue  # the index keeps its own manifests (segments and models): see below
        dropped = TableStore(folder).retain(keep)
        if dropped:
            report.removed_versions[folder.name] = dropped
    register = output_dir / "state" / "register"
    if (register / CATALOG).exists():
        dropped = RegisterStore(register).retain(keep)
        if dropped:
            report.removed_versions["register"] = dropped
    index = output_dir / "state" / "match_index"
    if index.is_dir():
        nights = sorted(p.name[2:12] for p in index.glob("v-????-??-??.json"))
        dropped = nights[: max(0, len(nights) - keep)]
        for old in dropped:
            (index / f"v-{old}.json").unlink(missing_ok=True)
        if dropped:
            report.removed_versions["match_index"] = dropped
    report.night_bytes = night_disk_bytes(output_dir, night)
    return report
