"""``state.register._person_records``: tonight's records of the persons to build, as the golden build needs them."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from state.register import _person_records
from state.tables import TableStore


def _base(tmp_path: Path) -> TableStore:
    store = TableStore(tmp_path / "base")
    first = store.commit("2025-11-01", base=None, added=pl.DataFrame({"record_id": ["b1", "b2"], "name": ["An", "Bo"]}))
    # A second night: its version is read from two segments.
    store.commit("2025-11-02", base=first, added=pl.DataFrame({"record_id": ["b3"], "name": ["Chi"]}))
    return store


def test_records_of_everyone_come_contiguous_with_their_clusters(tmp_path: Path) -> None:
    base = _base(tmp_path).version("2025-11-02")
    clusters = TableStore(tmp_path / "clusters").commit(
        "2025-11-02",
        base=None,
        added=pl.DataFrame(
            {"record_id": ["b1", "b2", "b3", "x1"], "cluster_id": ["p1", "p2", "p1", "p2"],
             "source": ["base", "base", "base", "residence"]}
        ),
    )  # fmt: skip
    extracts = pl.DataFrame({"record_id": ["x1", "x9"], "name": ["Bo", "Dung"], "event_type": ["Đăng ký", None]})
    records, members = _person_records(base, extracts, clusters, None)
    assert sorted(records.get_column("record_id").to_list()) == ["b1", "b2", "b3", "x1"]  # x9 has no person tonight
    assert records.n_chunks("all") == [1] * records.width  # the golden build copies nothing to make them so
    assert records.filter(pl.col("record_id") == "x1").get_column("event_type").to_list() == ["Đăng ký"]
    assert dict(members.sort("record_id").iter_rows()) == {"b1": "p1", "b2": "p2", "b3": "p1", "x1": "p2"}

    only_p1, members_p1 = _person_records(base, extracts, clusters, pl.Series(["p1"]))
    assert sorted(only_p1.get_column("record_id").to_list()) == ["b1", "b3"]
    assert only_p1.n_chunks("all") == [1] * only_p1.width
    assert sorted(members_p1.get_column("record_id").to_list()) == ["b1", "b3"]
