"""Households are families: parents' names agree, spouses reference each other, twins differ by name."""

from __future__ import annotations

import polars as pl

from tests.datagen.conftest import Province


def _clean(province: Province) -> pl.DataFrame:
    flagged = province.defects.filter(pl.col("source") == "base")["record_id"]
    return province.base.filter(~pl.col("record_id").is_in(flagged.implode()) & pl.col("household_id").is_not_null())


def test_children_carry_their_parents_names(province: Province) -> None:
    base = _clean(province)
    checked = 0
    for household in base.partition_by("household_id"):
        relations = dict(zip(household["relation_to_head"], household["full_name"], strict=True))
        head = household.filter(pl.col("relation_to_head") == "Chủ hộ")
        spouse = household.filter(pl.col("relation_to_head").is_in(["Vợ", "Chồng"]))
        if head.is_empty() or spouse.is_empty() or head["sex"][0] != "Nam":
            continue
        for child in household.filter(pl.col("relation_to_head") == "Con").iter_rows(named=True):
            if child["father_name"] != head["full_name"][0]:
                continue  # a married son in a three-generation household is the head's child too
            assert child["mother_name"] == relations.get("Vợ")
            assert child["full_name"].split()[0] == head["full_name"][0].split()[0]
            checked += 1
    assert checked > 100


def test_spouses_reference_each_other(province: Province) -> None:
    base = _clean(province)
    pairs = 0
    for household in base.partition_by("household_id"):
        head = household.filter(pl.col("relation_to_head") == "Chủ hộ")
        spouse = household.filter(pl.col("relation_to_head").is_in(["Vợ", "Chồng"]))
        if head.height == 1 and spouse.height == 1:
            assert head["spouse_name"][0] == spouse["full_name"][0]
            assert spouse["spouse_name"][0] == head["full_name"][0]
            assert head["sex"][0] != spouse["sex"][0]
            pairs += 1
    assert pairs > 100


def test_age_pyramid_and_family_names_are_realistic(province: Province) -> None:
    base = province.base.filter(pl.col("household_id").is_not_null())
    years = base["birth_date"].str.slice(0, 4).cast(pl.Int32)
    children = (years >= 2011).mean()
    elderly = (years <= 1960).mean()
    assert 0.15 < children < 0.35  # type: ignore[operator]
    assert 0.05 < elderly < 0.25  # type: ignore[operator]
    family = base["full_name"].drop_nulls().str.split(" ").list.first()
    assert 0.30 < (family == "Nguyễn").mean() < 0.46  # type: ignore[operator]
    kinh = (base["ethnicity"] == "Kinh").mean()
    assert 0.96 < kinh < 1.0  # type: ignore[operator]  # Ninh Bình: Mường are the only sizeable minority


def test_twins_share_birth_date_not_name(province: Province) -> None:
    base = _clean(province)
    twins = base.filter(pl.col("relation_to_head") == "Con").filter(
        pl.struct("household_id", "birth_date").is_duplicated()
    )
    for group in twins.partition_by("household_id", "birth_date"):
        assert group["full_name"].n_unique() == group.height


def test_children_of_an_absent_father_share_his_family_name(province: Province) -> None:
    """A mother heading a household alone: her children still have one father, one family name between them."""
    base = _clean(province).filter(pl.col("ethnicity") == "Kinh")
    checked = 0
    for household in base.partition_by("household_id"):
        head = household.filter(pl.col("relation_to_head") == "Chủ hộ")
        if head.height != 1 or head["sex"][0] != "Nữ" or household["relation_to_head"].is_in(["Chồng"]).any():
            continue
        children = household.filter(
            (pl.col("relation_to_head") == "Con") & (pl.col("mother_name") == head["full_name"][0])
        )
        if children.height < 2:
            continue
        assert children["father_name"].n_unique() == 1
        assert children["full_name"].str.split(" ").list.first().n_unique() == 1
        checked += 1
    assert checked > 5
