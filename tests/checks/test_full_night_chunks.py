"""A full night checks the base in chunks of whole groups; with many chunks it routes the base and the clusters to
them in one pass (``route_rows``) instead of a lookup per chunk. Both give the findings of one whole check."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import checks.incremental as incremental
from matchers.engine import nightly
from matchers.engine.population import population_settings
from tests.state.nights import night_inputs, province


def test_routed_chunks_find_what_looked_up_chunks_and_one_chunk_find(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = province(tmp_path / "province", 400, 4, nights=1)
    night = where.nights[0]
    state = tmp_path / "state"
    base, extracts = night_inputs(where, night, state)
    settings = population_settings()
    candidates, _ = nightly.find_candidates(base, extracts, settings, state)
    scored = nightly.score_candidates(candidates, extracts, settings, state, night)
    clusters = nightly.cluster_night(base, extracts, scored.pairs, settings, state, night).clusters

    def findings() -> dict[str, pl.DataFrame]:
        found = incremental.night_findings(base, extracts, scored.pairs, clusters, state, night, full=True)
        return {"base": found.version.read(), "extracts": found.extracts, "scope": found.scope.to_frame(),
                "subjects": found.subjects.to_frame()}  # fmt: skip

    whole = findings()
    monkeypatch.setattr(incremental, "CHUNK_RECORDS", 60)
    chunks = incremental._chunk_assignment(base, clusters, pl.Series([], dtype=pl.String))
    assert chunks.get_column("_partition").n_unique() > 4
    monkeypatch.setattr(incremental, "ROUTE_MIN_CHUNKS", 10**9)
    looked_up = findings()
    monkeypatch.setattr(incremental, "ROUTE_MIN_CHUNKS", 0)
    routed = findings()
    assert not (state / incremental.FINDINGS_TABLE / ".full-build").exists()  # the scratch files are gone
    for name, frame in whole.items():
        assert frame.height, name
        assert looked_up[name].equals(frame, null_equal=True), name
        assert routed[name].equals(frame, null_equal=True), name
