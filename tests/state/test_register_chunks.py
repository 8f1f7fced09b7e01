"""A first night builds the register in ranges of person keys (``state.register.register_night``'s
``chunk_persons``) so that a large base never holds the whole build's intermediates at once: the ranges give the
register, change set, golden records and register findings of one build over every person, row for row."""

from __future__ import annotations

from pathlib import Path

from polars.testing import assert_frame_equal

from state.register import golden_store, register_night
from tests.state.nights import province, run_night, small_block_settings


def test_first_night_in_ranges_of_persons_equals_one_build(tmp_path: Path) -> None:
    where = province(tmp_path / "province", 1500, 21)
    night = where.nights[0]
    first = run_night(where, night, tmp_path / "out", full=True, settings=small_block_settings())
    built = {}
    for label, chunk in (("one", 10**9), ("ranges", 400)):
        state = tmp_path / label
        built[label] = register_night(
            first.base, first.extracts, first.clusters.clusters, state, night, chunk_persons=chunk
        )
    one, ranges = built["one"], built["ranges"]
    assert one.rebuilt.height > 3 * 400  # several ranges, the last one partial
    assert_frame_equal(one.store.read_register(night), ranges.store.read_register(night))
    assert_frame_equal(one.store.read_changes(night), ranges.store.read_changes(night))
    assert_frame_equal(one.rebuilt, ranges.rebuilt)
    assert_frame_equal(
        golden_store(tmp_path / "one").version(night).read(), golden_store(tmp_path / "ranges").version(night).read()
    )
    order = ["record_id", "rule", "detail"]
    assert_frame_equal(
        one.findings.read().sort(order, nulls_last=True), ranges.findings.read().sort(order, nulls_last=True)
    )
    assert one.findings.rows > 0
