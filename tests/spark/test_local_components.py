"""The driver's finish of connected components (``component_labels``) against a plain union-find."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyspark")

from scaleout.components import component_labels
from tests.spark.conftest import union_find_labels


@pytest.mark.parametrize("seed", range(6))
def test_component_labels_are_the_smallest_node_of_each_component(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Sparse random edges over far-apart node numbers, a long chain in random order and a cycle.
    size = int(rng.integers(1, 3000))
    u = rng.integers(0, 10**12, size=size // 3 + 1)
    v = rng.choice(u, size=u.shape[0])
    chain = rng.permutation(np.arange(5 * 10**12, 5 * 10**12 + size))
    cycle = np.arange(7 * 10**12, 7 * 10**12 + 25)
    left = np.concatenate([u, chain[:-1], cycle]).astype(np.int64)
    right = np.concatenate([v, chain[1:], np.roll(cycle, 1)]).astype(np.int64)
    flip = rng.random(left.shape[0]) < 0.5
    left, right = np.where(flip, right, left), np.where(flip, left, right)
    before = left.copy(), right.copy()
    nodes, components = component_labels(left, right)
    assert dict(zip(nodes.tolist(), components.tolist(), strict=True)) == union_find_labels(left, right)
    assert np.all(np.diff(nodes) > 0)
    assert np.array_equal(left, before[0]) and np.array_equal(right, before[1])  # inputs unchanged


def test_component_labels_of_no_edges() -> None:
    nodes, components = component_labels(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    assert nodes.shape == components.shape == (0,)
