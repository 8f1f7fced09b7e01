"""Progress of long work, reported through a callback so the libraries stay free of terminal code.

A library function that may run for minutes takes ``progress: Progress = no_progress`` and calls
``progress(stage, done, total)`` now and then: ``stage`` names the step in a few words, ``done`` counts the records (or
pairs) finished so far in that stage, ``total`` is how many there will be (None when unknown). The command line
renders it on a terminal (``pipelines.progress``); everywhere else the default does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, TypeVar

__all__ = ["Progress", "no_progress", "tracked"]

T = TypeVar("T")


class Progress(Protocol):
    def __call__(self, stage: str, done: int, total: int | None = None) -> None: ...


def no_progress(stage: str, done: int, total: int | None = None) -> None:
    """The default: report nothing."""


def tracked(progress: Progress, stage: str, items: Sequence[T], sizes: Sequence[int] | None = None) -> Iterator[T]:
    """Yield ``items``, reporting after each one; ``sizes`` (records per item) makes ``done`` count records."""
    weights = list(sizes) if sizes is not None else [1] * len(items)
    total = sum(weights)
    done = 0
    progress(stage, 0, total)
    for item, weight in zip(items, weights, strict=True):
        yield item
        done += weight
        progress(stage, done, total)
