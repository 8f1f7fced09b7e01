"""The versioned table store: live rows, rollback, retention, compaction, reruns."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from state.tables import TableStore


def frame(ids: list[str], values: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"record_id": ids, "value": values}, schema={"record_id": pl.String, "value": pl.Int64})


def live(version) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return dict(version.read().sort("record_id").iter_rows())


def test_a_night_applies_its_delta_to_the_previous_version(tmp_path: Path) -> None:
    store = TableStore(tmp_path / "t")
    first = store.commit("2025-11-01", base=None, added=frame(["a", "b", "c"], [1, 2, 3]))
    second = store.commit("2025-11-02", base=first, added=frame(["b", "d"], [20, 4]), removed=["c"])
    assert live(first) == {"a": 1, "b": 2, "c": 3}
    assert live(second) == {"a": 1, "b": 20, "d": 4}
    assert second.rows == 3 and not second.full and first.full
    assert second.added().collect().get_column("record_id").to_list() == ["b", "d"]
    assert sorted(second.removed_ids().to_list()) == ["b", "c", "d"]
    assert store.latest().night == "2025-11-02"
    assert store.latest(before="2025-11-02").night == "2025-11-01"
    assert live(store.version("2025-11-01")) == {"a": 1, "b": 2, "c": 3}
    assert second.lookup(["b", "c"]).get_column("value").to_list() == [20]


def test_rollback_and_retention_drop_versions_and_their_files(tmp_path: Path) -> None:
    store = TableStore(tmp_path / "t")
    version = store.commit("2025-11-01", base=None, added=frame(["a"], [1]))
    for day, value in ((2, 2), (3, 3), (4, 4)):
        version = store.commit(f"2025-11-0{day}", base=version, added=frame(["a"], [value]))
    assert store.rollback("2025-11-02") == ["2025-11-03", "2025-11-04"]
    assert live(store.latest()) == {"a": 2}
    assert not any("2025-11-04" in p.name for p in (tmp_path / "t").iterdir())
    assert store.retain(1) == ["2025-11-01"]
    assert live(store.latest()) == {"a": 2}  # the retained version keeps the files it needs
    with pytest.raises(FileNotFoundError):
        store.version("2025-11-01")


def test_a_rerun_writes_the_same_files_and_a_killed_nights_leftovers_are_removed(tmp_path: Path) -> None:
    store = TableStore(tmp_path / "t")
    first = store.commit("2025-11-01", base=None, added=frame(["a", "b"], [1, 2]))
    store.commit("2025-11-02", base=first, added=frame(["a"], [5]))
    files = sorted(p.name for p in (tmp_path / "t").iterdir())
    (tmp_path / "t" / "seg-2025-11-03-deadbeef.parquet").write_bytes(b"half a file")
    store.commit("2025-11-02", base=first, added=frame(["a"], [5]))
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == files


def test_compaction_keeps_the_content(tmp_path: Path) -> None:
    store = TableStore(tmp_path / "t", max_segments=2)
    version = store.commit("2025-11-01", base=None, added=frame(["a", "b"], [1, 2]))
    for day in range(2, 6):
        version = store.commit(f"2025-11-0{day}", base=version, added=frame(["a"], [day]))
    assert len(version.segments) <= 2
    assert live(version) == {"a": 5, "b": 2}


def test_chunks_and_types_are_conformed(tmp_path: Path) -> None:
    store = TableStore(tmp_path / "t")
    first = store.commit("2025-11-01", base=None, added=iter([frame(["a"], [1]), frame(["b"], [2])]))
    assert len(first.delta) == 2 and first.rows == 2
    nulls = pl.DataFrame({"record_id": ["c"], "value": [None]})
    second = store.commit("2025-11-02", base=first, added=nulls)
    assert second.read().schema["value"] == pl.Int64


def test_pairs_die_when_either_id_is_dead(tmp_path: Path) -> None:
    store = TableStore(tmp_path / "p", ("left_id", "right_id"))
    pairs = pl.DataFrame({"left_id": ["a", "a", "b"], "right_id": ["b", "c", "c"], "p": [0.9, 0.2, 0.5]})
    first = store.commit("2025-11-01", base=None, added=pairs)
    second = store.commit(
        "2025-11-02", base=first, added=pl.DataFrame({"left_id": ["a"], "right_id": ["c"], "p": [0.99]}), removed=["a"]
    )
    assert sorted(second.read().rows()) == [("a", "c", 0.99), ("b", "c", 0.5)]
