"""The base index read back without holding its records: rows taken across segments in any order, the block keys
a full night blocks on read back from the sorted key arrays, and the live rows of a set of ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matchers.engine.nightly as nightly
from matchers.engine.blocking import block_keys
from matchers.engine.index import MappedSource, SegmentedSource
from matchers.engine.population import population_settings
from tests.state.nights import night_inputs, province


def _segments(folder: Path, sizes: list[int]) -> tuple[SegmentedSource, pl.DataFrame]:
    frames = []
    sources = []
    for k, size in enumerate(sizes):
        frame = pl.DataFrame(
            {
                "n": pl.Series(np.arange(size) + 1000 * k, dtype=pl.Int64),
                "s": pl.Series([f"r{k}-{i}" for i in range(size)], dtype=pl.String),
            }
        )
        path = folder / f"segment-{k}.arrow"
        frame.write_ipc(path, compression="uncompressed", compat_level=pl.CompatLevel.oldest())
        sources.append(MappedSource.open(path))
        frames.append(frame)
    whole = pl.concat(frames)
    return SegmentedSource(sources, whole.height), whole


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 9), min_size=1, max_size=6), data=st.data())
def test_rows_taken_across_segments_are_the_rows_asked_in_the_order_asked(
    tmp_path_factory: pytest.TempPathFactory, sizes: list[int], data: st.DataObject
) -> None:
    source, whole = _segments(tmp_path_factory.mktemp("segments"), sizes)
    if whole.height == 0:
        return
    rows = data.draw(st.lists(st.integers(0, whole.height - 1), max_size=40))
    taken = source.take(np.array(rows, dtype=np.int64), ["s", "n"])
    assert taken.equals(whole.select("s", "n")[rows] if rows else whole.select("s", "n").clear())
    source.load()
    assert source.take(np.array(rows, dtype=np.int64), ["s", "n"]).equals(taken)


def test_keys_ids_and_live_rows_read_back_from_the_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    where = province(tmp_path / "province", 300, 3, nights=1)
    night = where.nights[0]
    state = tmp_path / "state"
    base, extracts = night_inputs(where, night, state)
    settings_ = population_settings()
    monkeypatch.setattr(nightly, "INDEX_CHUNK_ROWS", 71)  # several segments
    nightly.find_candidates(base, extracts, settings_, state)
    live = nightly._index_store(state, settings_).version(night).open(settings_)
    assert len(live.records.sources) > 3
    columns = sorted({c for rule in settings_.blocking_rules for c in rule.columns})
    records = live.records.take(np.arange(live.records.stored_rows), [settings_.id_column, *columns])
    expected, _ = block_keys(records, settings_.blocking_rules, guard=False)
    assert live.stored_keys().equals(expected)
    assert live.all_ids().equals(records.get_column(settings_.id_column).cast(pl.String))
    wanted = records.get_column(settings_.id_column).cast(pl.String).sample(50, seed=3)
    found = live.live_rows_of(pl.concat([wanted, wanted, pl.Series(["no such id"])]))
    assert found.get_column("_row").is_sorted()
    assert sorted(found.get_column("record_id").to_list()) == sorted(wanted.to_list())
    assert live.ids(found.get_column("_row").to_numpy()).equals(found.get_column("record_id"))
