"""Wall-clock timing of an asset body, reported as asset metadata beside its row counts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import dagster as dg


@dataclass
class Stopwatch:
    started: float = field(default_factory=time.perf_counter)

    def metadata(self) -> dict[str, dg.MetadataValue]:
        """``{"seconds": …}`` measured up to now."""
        return {"seconds": dg.MetadataValue.float(round(time.perf_counter() - self.started, 3))}
