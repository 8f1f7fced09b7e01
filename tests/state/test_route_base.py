"""A full night's base routed to its ranges in one pass gives each range what a lookup of its records gives."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from state.register import _partition_of
from state.tables import TableStore, route_rows


def test_routing_equals_a_lookup_per_range_on_a_version_of_many_segments_with_dead_rows(tmp_path: Path) -> None:
    # Not a generated first night: three nights of segments, rows replaced and removed (dead ids), ids in NFD and
    # with spaces, records of no cluster, and a range with no base record at all.
    store = TableStore(tmp_path / "base")
    rows = {"record_id": ["a", "b", "c", "d", "e\u0301", "f g"], "value": [1, 2, 3, 4, 5, 6]}
    version = store.commit("2025-11-01", base=None, added=[pl.DataFrame(rows).slice(0, 3), pl.DataFrame(rows).slice(3)])
    version = store.commit("2025-11-02", base=version, added=pl.DataFrame({"record_id": ["b", "h"], "value": [20, 8]}),
                           removed=["c"])  # fmt: skip
    version = store.commit("2025-11-03", base=version, added=pl.DataFrame({"record_id": ["i", "z"], "value": [9, 26]}))
    clusters = pl.DataFrame(
        {
            "record_id": ["a", "b", "d", "e\u0301", "f g", "h", "i", "x-extract"],
            "cluster_id": ["k1", "k3", "k1", "k5", "k3", "k5", "k1", "k9"],
        }
    )  # "c" was removed; "z" is in no cluster; "x-extract" in no base segment; "k9" has no base record
    bounds = ["k3", "k5", "k9"]
    ranges = clusters.select("record_id", _partition_of(bounds, "cluster_id").alias("_partition"))
    folder = tmp_path / "routed"
    folder.mkdir()
    routed = route_rows(version, ranges, folder, parts=4)
    for part in range(4):
        ids = ranges.filter(pl.col("_partition") == part).get_column("record_id")
        expected = version.lookup(ids)
        got = pl.read_parquet(routed[part]) if routed[part] else version.scan().head(0).collect()
        assert got.equals(expected), part
    assert routed[3] == []
    assert sum(pl.read_parquet(files).height for files in routed if files) == version.rows - 1  # all but "z"
