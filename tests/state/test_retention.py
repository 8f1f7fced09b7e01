"""Retention keeps the newest N nights of outputs and state versions, never changes what a later night computes, and
leaves every kept night readable (rollback) — the state tables, the register store and the match index alike."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from matchers.engine.nightly import collect_index_garbage
from matchers.engine.population import population_settings
from register.store import RegisterStore
from state.retention import apply_retention, night_disk_bytes, state_tables
from state.tables import TableStore
from tests.state.nights import province, run_night

KEEP = 2


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List | pl.Struct)]
    return frame.with_columns(pl.col(lists).hash()).sort(pl.all())


def _tables(state: Path) -> list[Path]:
    return [folder for folder in state_tables(state) if folder.name != "match_index"]


def _contents(state: Path, night: str) -> dict[str, pl.DataFrame]:
    """Every versioned table and the register as of ``night``."""
    frames = {folder.name: _sorted(TableStore(folder).version(night).read()) for folder in _tables(state)}
    frames["register"] = _sorted(RegisterStore(state / "register").read_register(night))
    return frames


def _disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@pytest.mark.slow
def test_retention_keeps_the_newest_nights_and_changes_nothing_a_night_computes(tmp_path: Path) -> None:
    settings = population_settings()
    where = province(tmp_path / "province", 1000, 21, nights=4)
    assert len(where.nights) == 4
    kept, unbounded = tmp_path / "kept", tmp_path / "unbounded"
    seen: dict[str, dict[str, pl.DataFrame]] = {}
    for i, night in enumerate(where.nights):
        for output in (kept, unbounded):
            run_night(where, night, output, full=False, settings=settings)
            for place in ("nights", "reports"):  # stand-ins for the night's asset outputs and reports
                (output / place / night).mkdir(parents=True)
                (output / place / night / "outputs.json").write_text("{}", "utf-8")
        seen[night] = _contents(kept / "state", night)
        # As the night's last asset does: retention, then the index's unreferenced segments.
        report = apply_retention(kept, night, KEEP)
        collect_index_garbage(kept / "state", settings)
        newest = where.nights[max(0, i + 1 - KEEP) : i + 1]
        assert report.removed_outputs == ([where.nights[i - KEEP]] if i >= KEEP else [])
        assert report.night_bytes["state/base"] > 0 and report.night_bytes["state/register"] > 0
        for place in ("nights", "reports"):
            assert sorted(p.name for p in (kept / place).iterdir()) == newest
        for folder in _tables(kept / "state"):
            assert TableStore(folder).nights() == newest, folder.name
        assert RegisterStore(kept / "state" / "register").nights() == newest
        index_nights = sorted(p.name[2:12] for p in (kept / "state" / "match_index").glob("v-*.json"))
        assert index_nights == newest

    last = where.nights[-1]
    # The later nights built on retained state compute exactly what they compute on the unbounded state.
    retained, reference = _contents(kept / "state", last), _contents(unbounded / "state", last)
    assert retained.keys() == reference.keys()
    assert all(retained[k].equals(reference[k]) for k in reference)
    # Every kept night still reads as it did the night it was written: rollback to it is possible.
    for night in where.nights[-KEEP:]:
        then, now = seen[night], _contents(kept / "state", night)
        assert all(then[k].equals(now[k]) for k in then), night
    # The dropped nights' files are gone, except what a kept version rests on (a register delta's full base).
    store = RegisterStore(kept / "state" / "register")
    needed = {v for n in store.nights() for v in store.version_chain(store.catalog()["nights"][n])}
    assert {p.name for p in (kept / "state" / "register" / "versions").iterdir()} == needed
    first = where.nights[0]
    for folder in _tables(kept / "state"):
        referenced = set().union(*(TableStore(folder).version(n).files() for n in TableStore(folder).nights()))
        assert all(p.name in referenced for p in folder.glob(f"*-{first}-*.parquet")), folder.name
    assert sum(night_disk_bytes(kept, first).values()) < sum(night_disk_bytes(unbounded, first).values())
    assert _disk(kept) < _disk(unbounded)
    with pytest.raises(ValueError, match="at least one"):
        apply_retention(kept, last, 0)
