"""Heavily duplicated input (a base repeating a few people thousands of times) stays bounded in the checks.

200,000 base rows repeating 14 people ran out of 24 GB in the check stage: ``shared_person_id`` joined every
holder of an ID with every other (14 × 14,000² pairs). It now compares distinct profiles; these tests prove the
findings are those of the record-by-record comparison, and run every rule on a repeated base.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from checks import CheckContext, run_rules
from checks.registry import RULES
from normalize.frame import normalize_records
from records.schema import conform

NIGHT = dt.date(2026, 11, 20)
PEOPLE = [
    # (person_id, full name, birth date, sex): three pairs share an ID, one of them a different person
    ("001090012345", "Nguyễn Văn An", "1990-03-15", "Nam"),
    ("001090012345", "NGUYỄN VĂN AN", "1990-03-15", "Nam"),
    ("001190012346", "Trần Thị Bình", "1990-05-03", "Nữ"),
    ("001190012346", "Trần Thị Bình", "1990-03-05", "Nữ"),  # day and month swapped: the same person
    ("001090012347", "Lê Văn Cường", "1990-01-01", "Nam"),
    ("001090012347", "Phạm Thị Dung", "1990-01-01", "Nữ"),  # a different person on the same ID
    ("079305000001", "", "2005", "Nữ"),
    ("079305000001", "", "2005", "Nữ"),
]


def _naive_shared_person_id(context: CheckContext) -> pl.DataFrame:
    """The record-by-record comparison the rule used to make (quadratic in the holders of one ID)."""
    holders = context.base_records.filter(pl.col("person_id_valid").fill_null(False))
    shared = holders.filter(pl.col("person_id_norm").is_duplicated())
    pairs = shared.join(shared, on="person_id_norm", suffix="_other").filter(
        pl.col("record_id") != pl.col("record_id_other")
    )
    if pairs.height == 0:
        return pl.DataFrame(schema={"record_id": pl.String, "related": pl.List(pl.String)})

    def ratio(left: str, right: str) -> pl.Series:
        scores = process.cpdist(
            pairs[left].fill_null("").to_list(), pairs[right].fill_null("").to_list(), scorer=fuzz.ratio, workers=1
        )
        return pl.Series(scores, dtype=pl.Float64)

    pairs = pairs.with_columns(
        _s=ratio("name_key_no_middle", "name_key_no_middle_other"), _g=ratio("given_key", "given_key_other")
    )
    both_full = (pl.col("birth_date_precision") == "day") & (pl.col("birth_date_precision_other") == "day")
    swapped = pl.col("birth_date_swapped") == pl.col("birth_date_value_other").dt.strftime("%Y-%m-%d")
    floor = context.settings.name_similarity_floor
    different = (
        (pl.col("sex_norm") != pl.col("sex_norm_other")).fill_null(False)
        | (pl.col("birth_year") != pl.col("birth_year_other")).fill_null(False)
        | (both_full & (pl.col("birth_date_value") != pl.col("birth_date_value_other")) & ~swapped.fill_null(False))
        | (pl.col("_s") < floor)
        | (pl.col("_g") < floor)
    )
    return pairs.filter(different).group_by("record_id").agg(pl.col("record_id_other").sort().alias("related"))


def _base(rows: list[tuple[str, str, str, str]]) -> pl.DataFrame:
    canonical = conform(
        pl.DataFrame(
            {
                "record_id": [f"DC{i:06d}" for i in range(len(rows))],
                "person_id": [r[0] for r in rows],
                "full_name": [r[1] or None for r in rows],
                "birth_date": [r[2] for r in rows],
                "sex": [r[3] for r in rows],
                "permanent_address": ["Phường Ba Đình, Thành phố Hà Nội"] * len(rows),
            }
        ),
        source="base",
    )
    return normalize_records(canonical, as_of=NIGHT)


def _context(base: pl.DataFrame, extracts: pl.DataFrame | None = None) -> CheckContext:
    return CheckContext(base=base, extracts=base.head(0) if extracts is None else extracts, night=NIGHT)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(PEOPLE), min_size=2, max_size=25))
def test_shared_person_id_equals_the_record_by_record_comparison(rows: list[tuple[str, str, str, str]]) -> None:
    context = _context(_base(rows))
    expected = _naive_shared_person_id(context).sort("record_id")
    found = RULES["shared_person_id"].hits(context)
    if "related_record_ids" not in found.columns:  # no hit: the rule returns the bare hit columns
        found = found.with_columns(related_record_ids=pl.lit([], dtype=pl.List(pl.String)))
    got = found.select("record_id", pl.col("related_record_ids").list.sort().alias("related")).sort("record_id")
    assert got.to_dicts() == expected.to_dicts()
    for row in found.iter_rows(named=True):  # the detail names exactly the related records
        assert all(other in row["detail"] for other in row["related_record_ids"])


def test_every_rule_on_a_base_repeating_14_people() -> None:
    # 20,000 rows of 14 people: the record-by-record comparison made 14 x 1,428² ≈ 29 million pairs here (a nightly
    # on such a base peaked at 18.6 GB).
    people = [*PEOPLE, *((f"0010900{i:05d}", f"Hoàng Văn {name}", "1985", "Nam") for i, name in enumerate("EGHKLM"))]
    assert len(people) == 14
    repeated = _base(people * (20_000 // len(people)))
    extracts = repeated.head(280).with_columns(
        pl.format("CC{}", pl.int_range(pl.len())).alias("record_id"), pl.lit("card").alias("source")
    )
    findings, timings = run_rules(_context(repeated, extracts))
    assert timings.height == len(RULES)
    shared = findings.filter(pl.col("rule") == "shared_person_id")
    # Only the ID held by two different people is reported: each of its records names the other person's records.
    different = repeated.filter(pl.col("person_id_norm") == "001090012347")
    assert set(shared["record_id"].to_list()) == set(different["record_id"].to_list())
    assert shared["related_record_ids"].list.len().max() == different.height // 2
