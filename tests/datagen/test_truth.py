"""The ground truth agrees with the data: each injected defect is really visible in the files."""

from __future__ import annotations

from datetime import date

import polars as pl

from datagen.text import decode_legacy, strip_diacritics, to_old_tone
from normalize.units import id_province_codes
from records.ethnicities import canonical_ethnicity
from tests.datagen.conftest import Province

FIRST_NIGHT = date(2025, 11, 1)


def _defect_rows(province: Province, defect: str, source: str = "base") -> pl.DataFrame:
    rows = province.defects.filter((pl.col("defect") == defect) & (pl.col("source") == source))
    assert rows.height > 0, f"no {defect} injected"
    return rows


def _base_with(province: Province, defect: str) -> pl.DataFrame:
    return province.base.join(_defect_rows(province, defect), on="record_id", how="semi")


def _all_extract_rows(province: Province) -> pl.DataFrame:
    frames = []
    for entry in province.manifest["files"]:  # type: ignore[attr-defined]
        frame = province.extracts[entry["path"]]
        frames.append(frame.select(pl.all().cast(pl.String)).with_columns(pl.lit(entry["source"]).alias("source")))
    return pl.concat(frames, how="diagonal")


def test_expired_cards_expire_before_the_first_night(province: Province) -> None:
    rows = _base_with(province, "expired_card")
    assert (rows["card_expiry_date"].str.to_date() < FIRST_NIGHT).all()
    assert rows["card_number"].null_count() == 0


def test_people_without_card_are_14_or_older(province: Province) -> None:
    rows = _base_with(province, "no_card")
    assert rows["card_number"].null_count() == rows.height
    assert rows["card_issue_date"].null_count() == rows.height
    years = rows["birth_date"].str.slice(0, 4).cast(pl.Int32)
    assert (years <= FIRST_NIGHT.year - 14).all()


def test_clean_cards_are_live(province: Province) -> None:
    flagged = province.defects.filter(pl.col("source") == "base")["record_id"]
    clean = province.base.filter(
        ~pl.col("record_id").is_in(flagged.implode()) & pl.col("card_expiry_date").is_not_null()
    )
    assert (clean["card_expiry_date"].str.to_date() > date(2025, 11, 3)).all()
    issued = clean["card_issue_date"].str.to_date()
    assert (issued >= clean["birth_date"].str.to_date()).all()


def test_id_contradicts_sex(province: Province) -> None:
    rows = _base_with(province, "id_contradicts_sex")
    for person_id, sex in zip(rows["person_id"], rows["sex"], strict=True):
        female_digit = int(person_id[3]) % 2 == 1
        assert female_digit != (sex == "Nữ")


def test_id_contradicts_birth_year(province: Province) -> None:
    rows = _base_with(province, "id_contradicts_birth_year")
    for person_id, birth in zip(rows["person_id"], rows["birth_date"], strict=True):
        century = 1900 + 100 * (int(person_id[3]) // 2)
        assert century + int(person_id[4:6]) != int(birth[:4])


def test_clean_ids_follow_the_rule(province: Province) -> None:
    flagged = province.defects.filter(pl.col("source") == "base")["record_id"]
    clean = province.base.filter(~pl.col("record_id").is_in(flagged.implode()) & pl.col("person_id").is_not_null())
    assert clean.height > 1000
    prefixes = id_province_codes()
    for person_id, birth, sex in zip(clean["person_id"], clean["birth_date"], clean["sex"], strict=True):
        assert len(person_id) == 12 and person_id.isdigit()
        assert person_id[:3] in prefixes
        year = int(birth[:4])
        digit = int(person_id[3])
        assert digit == (0 if year < 2000 else 2) + (sex == "Nữ")
        assert person_id[4:6] == birth[2:4]
    ids = province.base.filter(~pl.col("record_id").is_in(flagged.implode()))["person_id"].drop_nulls()
    assert ids.n_unique() == ids.len()


def test_shared_id_is_held_by_two_people(province: Province) -> None:
    assert not province.defects.filter(pl.col("defect") == "shared_id").is_empty(), "test province lacks shared_id"
    rows = _defect_rows(province, "shared_id")
    persons = province.persons.filter(pl.col("source") == "base")
    for record_id, detail in zip(rows["record_id"], rows["detail"], strict=True):
        owner = detail.removeprefix("shares_with=")
        pair = province.base.filter(pl.col("record_id").is_in([record_id, owner]))
        assert pair["person_id"].n_unique() == 1
        truth = persons.filter(pl.col("record_id").is_in([record_id, owner]))
        assert truth["true_person"].n_unique() == 2


def test_duplicates_show_their_variation(province: Province) -> None:
    rows = _defect_rows(province, "duplicate_person")
    base = province.base
    by_id = {r["record_id"]: r for r in base.iter_rows(named=True)}
    truth = dict(zip(province.persons["record_id"], province.persons["true_person"], strict=True))
    seen = set()
    for record_id, detail in zip(rows["record_id"], rows["detail"], strict=True):
        variation, original_id = detail.split("; original=")
        seen.add(variation)
        dup, original = by_id[record_id], by_id[original_id]
        assert truth[record_id] == truth[original_id]
        if variation == "no_diacritics":
            assert dup["full_name"] == strip_diacritics(dup["full_name"]) != original["full_name"]
        elif variation == "old_tone_placement":
            assert dup["full_name"] != original["full_name"]
        elif variation == "dropped_middle_name":
            assert len(dup["full_name"].split()) == 2 < len(original["full_name"].split())
        elif variation == "year_only_birth_date":
            assert dup["birth_date"] == original["birth_date"][:4]
        elif variation == "swapped_day_month":
            assert (
                dup["birth_date"]
                == original["birth_date"][:4] + "-" + original["birth_date"][8:] + "-" + original["birth_date"][5:7]
            )
        elif variation == "cmnd_instead_of_cccd":
            assert dup["person_id"] is None and dup["old_id_number"] is not None
        elif variation == "old_address_form":
            assert dup["permanent_address"] != original["permanent_address"]
        elif variation == "typo":
            assert dup["full_name"] != original["full_name"]
        elif variation == "birth_year_off_by_one":
            assert abs(int(dup["birth_date"][:4]) - int(original["birth_date"][:4])) == 1
            assert dup["birth_date"][4:] == original["birth_date"][4:]
        elif variation == "reissued_id":
            assert dup["person_id"] != original["person_id"]
            assert dup["person_id"][3:6] == original["person_id"][3:6]  # century/sex and year digits kept
        elif variation == "reversed_name_order":
            words = strip_diacritics(original["full_name"]).split()
            assert strip_diacritics(dup["full_name"]) == f"{words[2]} {words[0]} {words[1]}"
    assert len(seen) >= 6


def test_deaths_not_reflected_are_alive_in_the_base(province: Province) -> None:
    rows = _defect_rows(province, "death_not_reflected")
    extracts = _all_extract_rows(province)
    truth = dict(zip(province.persons["record_id"], province.persons["true_person"], strict=True))
    for record_id, detail in zip(rows["record_id"], rows["detail"], strict=True):
        base_row = province.base.filter(pl.col("record_id") == record_id)
        assert base_row["death_date"][0] is None
        extract_id = detail.split("=")[1]
        event = extracts.filter(pl.col("record_id") == extract_id)
        assert event["event_type"][0] in ("Khai tử", "khai tử", "khai tu", "đăng ký khai tử")
        assert truth[extract_id] == truth[record_id]


def test_births_without_record_have_no_base_record(province: Province) -> None:
    rows = _defect_rows(province, "birth_without_record", "civil_status")
    persons = province.persons
    base_people = set(persons.filter(pl.col("source") == "base")["true_person"])
    for record_id in rows["record_id"]:
        person = persons.filter((pl.col("record_id") == record_id) & (pl.col("source") == "civil_status"))
        assert person["true_person"][0] not in base_people


def test_malformed_rows_hold_the_bad_value(province: Province) -> None:
    rows = province.defects.filter(pl.col("defect") == "malformed_row")
    assert not rows.is_empty(), "the test province must carry a malformed row"
    extracts = _all_extract_rows(province)
    for record_id, field, detail in zip(rows["record_id"], rows["field"], rows["detail"], strict=True):
        value = extracts.filter(pl.col("record_id") == record_id)[field][0]
        assert value == detail
        if field in ("person_id", "card_number"):
            assert len(value) == 11


def test_legacy_text_decodes_back(province: Province) -> None:
    rows = province.defects.filter((pl.col("defect") == "legacy_encoding") & (pl.col("source") != "base"))
    assert rows.height > 0
    extracts = _all_extract_rows(province)
    for record_id, field, scheme in zip(rows["record_id"], rows["field"], rows["detail"], strict=True):
        value = extracts.filter(pl.col("record_id") == record_id)[field][0]
        decoded = decode_legacy(value, scheme)
        assert decoded != value
        assert strip_diacritics(decoded) != decoded


def test_invalid_ethnicity_is_not_one_of_the_54(province: Province) -> None:
    rows = _base_with(province, "invalid_ethnicity")
    assert all(canonical_ethnicity(v) is None for v in rows["ethnicity"])
    clean = province.base.filter(~pl.col("record_id").is_in(rows["record_id"].implode()))["ethnicity"].drop_nulls()
    assert all(canonical_ethnicity(v) is not None for v in clean.unique())


def test_name_variants_are_visible(province: Province) -> None:
    rows = province.defects.filter(pl.col("defect") == "name_variant")
    assert rows.height > 0
    extracts = _all_extract_rows(province)
    legacy = set(province.defects.filter(pl.col("defect") == "legacy_encoding")["record_id"].to_list())
    for record_id, kind in zip(rows["record_id"], rows["detail"], strict=True):
        if record_id in legacy:
            continue  # typed in a legacy font afterwards: the variant is under the encoding
        name = extracts.filter(pl.col("record_id") == record_id)["full_name"][0]
        if kind == "all_caps":
            assert name == name.upper()
        elif kind == "no_diacritics":
            assert name == strip_diacritics(name)
        elif kind == "eth_for_d":
            assert "\u00d0" in name
        elif kind == "old_tone_placement":
            assert to_old_tone(name) == name


def test_household_without_head(province: Province) -> None:
    """Exactly the households with no living head are logged (a head who died or left takes the head away)."""
    rows = _defect_rows(province, "household_without_head")
    impossible = province.defects.filter(pl.col("detail") == "death_before_birth")["record_id"].implode()
    living = province.base.filter(
        pl.col("household_id").is_not_null() & (pl.col("death_date").is_null() | pl.col("record_id").is_in(impossible))
    )
    headless = (
        living.group_by("household_id")
        .agg((pl.col("relation_to_head") == "Chủ hộ").any().alias("has_head"))
        .filter(~pl.col("has_head"))
    )
    assert rows.height > 0
    assert sorted(rows["detail"].to_list()) == sorted(headless["household_id"].to_list())
    for row in rows.iter_rows(named=True):
        member = living.filter(pl.col("record_id") == row["record_id"])
        assert member["household_id"].to_list() == [row["detail"]]


def test_stale_records_were_verified_long_ago(province: Province) -> None:
    rows = _base_with(province, "stale_verification")
    assert (rows["last_verified_date"].str.to_date() < date(2022, 1, 1)).all()


def test_impossible_dates_are_impossible(province: Province) -> None:
    rows = province.defects.filter(pl.col("defect") == "impossible_date")
    assert not rows.is_empty(), "the test province must carry a impossible date"
    for record_id, detail in zip(rows["record_id"], rows["detail"], strict=True):
        record = province.base.filter(pl.col("record_id") == record_id).row(0, named=True)
        birth = record["birth_date"]
        if detail == "birth_in_future":
            assert date.fromisoformat(birth) > date(2025, 11, 3)
        elif detail == "death_before_birth":
            assert record["death_date"] < birth
        else:
            assert record["card_issue_date"] < birth


def test_split_wards_name_the_true_ward(province: Province) -> None:
    rows = province.defects.filter(pl.col("defect") == "ambiguous_split_ward")
    assert not rows.is_empty(), "the test province must carry a split-ward address"
    joined = rows.join(province.persons, on=["record_id", "source"])
    assert (joined["detail"] == joined["true_ward_code"]).all()
