"""A full night prepares the base index in chunks of rows (one segment each), compares pairs in batches, and scores
and stores them in batches, to bound its memory: the candidates, scored pairs and clusters are those of one piece,
and so is the next, incremental night built on an index of several segments."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import matchers.engine.nightly as nightly
from matchers.engine.population import population_settings
from tests.state.nights import Province, night_inputs, province


def _match(where: Province, output: Path) -> dict[str, pl.DataFrame]:
    """Two nights (a full one, then an incremental one) of matching; what each night gave, sorted."""
    settings = population_settings()
    state = output / "state"
    results: dict[str, pl.DataFrame] = {}
    for night in where.nights[:2]:
        base, extracts = night_inputs(where, night, state)
        candidates, _ = nightly.find_candidates(base, extracts, settings, state)
        scored = nightly.score_candidates(candidates, extracts, settings, state, night)
        clusters = nightly.cluster_night(base, extracts, scored.pairs, settings, state, night)
        results[f"{night} candidates"] = candidates.sort(pl.all())
        results[f"{night} scored"] = scored.pairs.sort("left_id", "right_id", "kind")
        results[f"{night} stored pairs"] = scored.store.read().sort(pl.all())
        results[f"{night} clusters"] = clusters.frame().sort("record_id")
    return results


@pytest.mark.slow
def test_index_chunks_and_compare_batches_change_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where = province(tmp_path / "province", 600, 5, nights=2)
    whole = _match(where, tmp_path / "whole")
    monkeypatch.setattr(nightly, "INDEX_CHUNK_ROWS", 97)
    monkeypatch.setattr(nightly, "COMPARE_BATCH_PAIRS", 13)
    monkeypatch.setattr(nightly, "SCORE_BATCH_PAIRS", 29)
    pieces = _match(where, tmp_path / "pieces")
    segments = nightly._index_store(tmp_path / "pieces" / "state", population_settings()).version(where.nights[0])
    assert len(segments.segments) > 5  # the first night's index really is in pieces
    assert whole.keys() == pieces.keys()
    for name, frame in whole.items():
        assert frame.height, name
        assert frame.equals(pieces[name], null_equal=True), name
