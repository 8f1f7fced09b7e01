"""Generated addresses are as varied as a real base's: house numbers, lanes written the region's way, thousands of
streets, apartments and hamlets, and different texts for one household; and they still resolve to the truth."""

from __future__ import annotations

import numpy as np
import polars as pl

from datagen.geography import draw_residences, province_geo
from normalize.addresses import address_columns
from tests.datagen.conftest import Province


def test_street_parts_are_varied_and_regional() -> None:
    for code, lane in (("01", "ngõ "), ("48", "iệt "), ("79", "/")):
        streets = draw_residences(np.random.default_rng(3), 20_000, province_geo(code))["street"]
        assert streets.n_unique() > 0.5 * streets.len()
        assert streets.str.contains(lane).sum() > 0.05 * streets.len()
        for kind in ("Căn hộ", "Lô ", "Km ", "Tổ "):
            assert streets.str.contains(kind).any(), (code, kind)


def test_base_addresses_are_mostly_distinct_and_resolve(province: Province) -> None:
    base = province.base
    assert base["permanent_address"].n_unique() > 0.5 * base.height
    truth = province.persons.filter(pl.col("source") == "base") if "source" in province.persons.columns else None
    resolved = address_columns(base["permanent_address"])
    assert (resolved["status"] == "resolved").mean() > 0.9  # type: ignore[operator]
    if truth is not None and "true_ward_code" in truth.columns:
        joined = base.select("record_id").with_columns(resolved["ward_code"]).join(truth, on="record_id")
        joined = joined.filter(pl.col("ward_code").is_not_null())
        assert (joined["ward_code"] == joined["true_ward_code"]).mean() > 0.99  # type: ignore[operator]
