"""One local Spark session for the whole test run, and one small generated province both engines work on.

Every Spark test module sets ``pytestmark = SPARK``: with ``pytest -n 2 --dist loadgroup`` they all run on one
worker, so the session (6-11 s to start) starts once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from datagen import generate_province
from normalize.frame import normalize_records
from records.ingest import ingest_base, ingest_extracts

SPARK = [pytest.mark.spark, pytest.mark.xdist_group("spark")]
NIGHT = date(2025, 11, 3)
PEOPLE = 2_500


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    from scaleout.session import SparkOptions, start_session, stop_session

    session = start_session(SparkOptions(master="local[2]", shuffle_partitions=4))
    yield session
    stop_session(session)


@dataclass(frozen=True)
class Province:
    """A generated province: its input folder, canonical and normalized records, and files of both."""

    input_dir: Path
    canonical_base: pl.DataFrame
    base: pl.DataFrame
    extracts: pl.DataFrame
    base_file: Path
    extracts_file: Path


@pytest.fixture(scope="session")
def province(tmp_path_factory: pytest.TempPathFactory) -> Province:
    root = tmp_path_factory.mktemp("spark-province")
    generated = generate_province(PEOPLE, 5, root / "in", night=NIGHT)
    canonical = ingest_base(generated.base_path).accepted
    extracts = pl.concat(
        [ingest_extracts(root / "in" / "extracts" / night).accepted for night in generated.nights],
        how="vertical_relaxed",
    )
    base = normalize_records(canonical, as_of=NIGHT)
    normalized_extracts = normalize_records(extracts, as_of=NIGHT)
    base.write_parquet(root / "base.parquet")
    normalized_extracts.write_parquet(root / "extracts.parquet")
    return Province(
        input_dir=root / "in",
        canonical_base=canonical,
        base=base,
        extracts=normalized_extracts,
        base_file=root / "base.parquet",
        extracts_file=root / "extracts.parquet",
    )


def assert_same_pairs(spark_pairs: pl.DataFrame, embedded_pairs: pl.DataFrame) -> None:
    """Same pairs (same orientation), every column equal; probabilities and weights to 1e-9."""
    key = ["left_id", "right_id"]
    got, want = spark_pairs.sort(key), embedded_pairs.sort(key)
    assert got.columns == want.columns
    assert got.height == want.height > 0
    assert got.select(key).equals(want.select(key))
    for column in want.columns:
        if want.schema[column] == pl.Float64:
            difference = (got.get_column(column) - want.get_column(column)).abs().max()
            assert difference is not None and float(difference) <= 1e-9, column  # type: ignore[arg-type]
        else:
            assert got.get_column(column).equals(want.get_column(column)), column


def union_find_labels(u: np.ndarray, v: np.ndarray) -> dict[int, int]:
    """Reference: each node's smallest component member, by a plain union-find."""
    parent: dict[int, int] = {}

    def find(node: int) -> int:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in zip(u.tolist(), v.tolist(), strict=True):
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    members: dict[int, list[int]] = {}
    for node in parent:
        members.setdefault(find(node), []).append(node)
    return {node: min(group) for group in members.values() for node in group}
