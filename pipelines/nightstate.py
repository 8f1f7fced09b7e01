"""How a night uses the long-lived state under ``{output}/state``: the ``night_state`` resource.

By default a night builds on the previous night's state and recomputes only what changed. ``full`` rebuilds every
component from tonight's snapshot (same result; the operator's repair and verification tool), ``retrain`` also
re-estimates the matching model (its scores move, so it is a deliberate step). ``keep_nights`` (default 14,
``$DANCU_KEEP_NIGHTS``) is how many nights of outputs and state versions retention keeps.
"""

from __future__ import annotations

from typing import Final

import dagster as dg

from pipelines.environment import environment_int

__all__ = ["DEFAULT_KEEP_NIGHTS", "KEEP_NIGHTS_ENV", "NightlyState", "keep_nights_from_environment", "nightly_state"]

DEFAULT_KEEP_NIGHTS: Final = 14
KEEP_NIGHTS_ENV: Final = "DANCU_KEEP_NIGHTS"


def keep_nights_from_environment() -> int:
    return environment_int(KEEP_NIGHTS_ENV, DEFAULT_KEEP_NIGHTS, minimum=1)


class NightlyState(dg.ConfigurableResource):
    """Tonight's use of the state: incremental, rebuilt from the snapshot (``full``), retrained; retention."""

    full: bool = False
    retrain: bool = False
    keep_nights: int = DEFAULT_KEEP_NIGHTS

    @property
    def rebuild(self) -> bool:
        """Build every component from nothing tonight (a retraining night is one too)."""
        return self.full or self.retrain


def nightly_state(*, full: bool = False, retrain: bool = False, keep_nights: int | None = None) -> NightlyState:
    keep = keep_nights if keep_nights is not None else keep_nights_from_environment()
    return NightlyState(full=full, retrain=retrain, keep_nights=keep)
