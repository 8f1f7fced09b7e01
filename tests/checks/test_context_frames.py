"""The checks' context and rule helpers read the whole records without copying them: the same rows and values as
filtering and joining the wide frame itself (what they did before), on frames of every shape they meet."""

from __future__ import annotations

import polars as pl

from checks import CheckContext, run_rules
from checks.context import with_routing
from checks.rules._common import hits
from normalize import units
from tests.checks.frames import NIGHT, WARD_A, WARD_B, WARD_HCM, frame, person


def _records() -> pl.DataFrame:
    return frame(
        person("b1", permanent_address_ward_code=WARD_A),
        person("b2", permanent_address_ward_code=None, current_address_ward_code=WARD_HCM),
        person("b3", permanent_address_ward_code="99999"),  # a code no current ward has
        person("b4", permanent_address_ward_code=WARD_B, full_name="TRAN THI MAI"),
        person("e1", source="residence", permanent_address_ward_code=WARD_A),
    )


def test_with_routing_equals_joining_the_whole_frame() -> None:
    records = _records()
    provinces = units.current_wards().select(pl.col("ward_code").alias("_ward"), "province_code")
    ward = pl.coalesce("permanent_address_ward_code", "current_address_ward_code")
    expected = records.with_columns(ward.alias("ward_code")).join(
        provinces, left_on="ward_code", right_on="_ward", how="left", maintain_order="left"
    )
    routed = with_routing(records)
    assert routed.equals(expected, null_equal=True)
    assert routed.schema == expected.schema
    assert routed["province_code"].null_count() == 1  # the unknown code: routed nowhere, not dropped
    assert records.columns == _records().columns  # the input is not changed


def test_base_records_is_the_records_when_every_row_is_base_and_filtered_otherwise() -> None:
    only_base = _records().filter(pl.col("source") == "base")
    context = CheckContext(base=only_base, extracts=only_base.head(0), night=NIGHT)
    assert context.base_records is context.records
    mixed = CheckContext(base=only_base, extracts=_records().filter(pl.col("source") != "base"), night=NIGHT)
    assert mixed.base_records.get_column("record_id").to_list() == ["b1", "b2", "b3", "b4"]
    assert mixed.extract_records.get_column("record_id").to_list() == ["e1"]


def test_hits_of_a_lazy_frame_equal_hits_of_the_eager_frame() -> None:
    records = with_routing(_records())
    detail = pl.format("{}: {}", pl.col("record_id"), pl.col("full_name"))
    related = pl.concat_list(pl.col("record_id"))
    kept = pl.col("record_id").is_in(["b2", "b4"])
    eager = hits(records.filter(kept), detail, related=related)
    assert eager.height == 2
    assert hits(records.lazy().filter(kept), detail, related=related).equals(eager, null_equal=True)


def test_rules_on_register_shaped_records_equal_rules_with_an_extracts_row() -> None:
    """The register's checks (base rows only) and the base checks (with extracts) take the two paths of
    ``base_records``; a base row's findings are the same on both."""
    base = _records().filter(pl.col("source") == "base")
    alone, _ = run_rules(CheckContext(base=base, extracts=base.head(0), night=NIGHT))
    extracts = frame(person("x9", source="card", person_id="079300000001", card_number="079300000001"))
    with_extract, _ = run_rules(CheckContext(base=base, extracts=extracts, night=NIGHT))
    ordered = ["record_id", "rule", "detail"]
    of_base = with_extract.filter(pl.col("record_id").str.starts_with("b")).sort(ordered)
    assert alone.height > 0
    assert alone.sort(ordered).equals(of_base, null_equal=True)
