"""Whole-number settings read from the environment (``DANCU_KEEP_NIGHTS``, ``DANCU_BASE_MAX_AGE_NIGHTS``,
``DANCU_SPARK_PARTITIONS``): one reader, so each says the same thing when an operator sets it wrong."""

from __future__ import annotations

import os
from typing import overload

__all__ = ["environment_int"]


@overload
def environment_int(name: str, default: int, *, minimum: int) -> int: ...
@overload
def environment_int(name: str, default: None, *, minimum: int) -> int | None: ...
def environment_int(name: str, default: int | None, *, minimum: int) -> int | None:
    """``$name`` as a whole number of at least ``minimum``; ``default`` when it is unset or blank."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {text!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return value
