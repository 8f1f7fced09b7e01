"""Connected components of a graph given as edge arrays (NumPy, no per-edge Python loop)."""

from __future__ import annotations

import numpy as np

__all__ = ["connected_components"]


def connected_components(left: np.ndarray, right: np.ndarray, nodes: int) -> np.ndarray:
    """The component of each node 0..nodes-1, labelled by its smallest node, by min-label propagation with pointer
    jumping: a few passes over the edges for the shallow components of record data (households, persons)."""
    labels = np.arange(nodes, dtype=np.int64)
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    if left.shape[0] == 0:
        return labels
    while True:
        smaller = np.minimum(labels[left], labels[right])
        np.minimum.at(labels, left, smaller)
        np.minimum.at(labels, right, smaller)
        jumped = labels[labels]
        while not np.array_equal(jumped, labels):
            labels = jumped
            jumped = labels[labels]
        if np.array_equal(labels[left], labels[right]):
            return labels
