"""Names, rates and bookkeeping of the injected defects (the ground truth in ``truth/defects.parquet``).

Rates are fractions of the population they apply to (documented in docs/generator.md); every injected defect is
one row: record_id, source, defect, field, detail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import polars as pl

__all__ = ["DEFECT_RATES", "DEFECT_SCHEMA", "DUPLICATE_VARIATIONS", "NAME_VARIANTS", "DefectLog"]

DEFECT_RATES: Final[dict[str, float]] = {
    # Base snapshot (fraction of base persons unless said otherwise).
    "duplicate_person": 0.02,
    "missing_required_field": 0.005,
    "impossible_date": 0.0015,
    "id_contradicts_birth_year": 0.002,
    "id_contradicts_sex": 0.002,
    "shared_id": 0.001,
    "expired_card": 0.03,  # of card holders aged 25+
    "no_card": 0.015,  # of people aged 14+
    "stale_verification": 0.05,
    "household_without_head": 0.01,  # of households with 2+ members
    "invalid_ethnicity": 0.002,
    "legacy_encoding_base": 0.001,
    "partial_birth_date": 0.25,  # of people born before 1950
    # Events of the nightly extracts (fraction of the events of that kind).
    "death_not_reflected": 0.7,
    "move_not_reflected": 0.6,
    "birth_without_record": 0.25,
    # Extract rows (fraction of rows).
    "malformed_row": 0.004,
    "name_variant": 0.12,
    "legacy_encoding_rows": 0.12,  # of the rows of a file chosen to carry legacy-typed text
    "partial_birth_date_extract": 0.3,  # of extract rows of people born before 1950
}

DUPLICATE_VARIATIONS: Final = (
    "no_diacritics",
    "old_tone_placement",
    "typo",
    "dropped_middle_name",
    "swapped_day_month",
    "year_only_birth_date",
    "cmnd_instead_of_cccd",
    "old_address_form",
    "name_rendering",
    "reversed_name_order",
    "birth_year_off_by_one",
    "reissued_id",
)
NAME_VARIANTS: Final = ("all_caps", "no_diacritics", "eth_for_d", "old_tone_placement", "typo")

DEFECT_SCHEMA: Final = pl.Schema(
    {"record_id": pl.String, "source": pl.String, "defect": pl.String, "field": pl.String, "detail": pl.String}
)


class DefectLog:
    """Collects defect rows as frames; ``frame()`` concatenates them in a stable order."""

    def __init__(self) -> None:
        self._parts: list[pl.DataFrame] = []

    def add(
        self,
        record_id: pl.Series | Sequence[str] | np.ndarray,
        source: str,
        defect: str,
        field: str | pl.Series | None,
        detail: str | pl.Series | Sequence[str | None] | None,
    ) -> None:
        ids = (
            record_id.alias("record_id")
            if isinstance(record_id, pl.Series)
            else pl.Series("record_id", list(record_id), dtype=pl.String)
        )
        if ids.len() == 0:
            return
        n = ids.len()

        def column(name: str, value: str | pl.Series | Sequence[str | None] | None) -> pl.Series:
            if isinstance(value, pl.Series):
                return value.cast(pl.String).alias(name)
            if value is None or isinstance(value, str):
                return pl.Series(name, [value] * n, dtype=pl.String)
            return pl.Series(name, list(value), dtype=pl.String)

        self._parts.append(
            pl.DataFrame(
                [ids, column("source", source), column("defect", defect), column("field", field),
                 column("detail", detail)]
            )
        )  # fmt: skip

    def drop(self, defect: str, record_ids: Sequence[str]) -> None:
        """Forget the rows of ``defect`` on ``record_ids`` (a later event made them untrue)."""
        gone = set(record_ids)
        if not gone:
            return
        unwanted = (pl.col("defect") == defect) & pl.col("record_id").is_in(sorted(gone))
        self._parts = [part.filter(~unwanted) for part in self._parts]

    def frame(self) -> pl.DataFrame:
        if not self._parts:
            return DEFECT_SCHEMA.to_frame()
        return pl.concat(self._parts, how="vertical").sort(["source", "record_id", "defect", "field"], nulls_last=True)
