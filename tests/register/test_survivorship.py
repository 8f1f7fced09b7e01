"""The survivorship rules one by one: which record gives each golden value, in which form, with which lineage, and
which change the change set carries for it."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import polars as pl
import pytest

from register.golden import build_golden
from register.rules import load_rules, survivorship_rules
from register.types import LINEAGE
from tests.register.factories import (
    NEW_FORM,
    NIGHT,
    OLD_FORM,
    SPLIT_NEW,
    SPLIT_OLD,
    build,
    change,
    changes_of,
    clusters,
    golden_row,
    person,
    records,
)


def test_card_is_authoritative_for_the_personal_id_and_a_different_valid_id_is_a_conflict() -> None:
    result = build([person("B1", person_id="037090001234"), person("CC1", "card", person_id="037090009999")])
    row = golden_row(result)
    assert row["person_id"] == "037090009999"
    assert row["person_id_source"]["record_id"] == "CC1" and row["person_id_source"]["source"] == "card"
    assert row["conflicts"] == ["person_id"]
    assert row["conflict_record_ids"] == ["B1"]
    # A conflict is not a safe fix: the change set leaves the ID alone (a person decides).
    assert change(changes_of(result), "person_id") is None


def test_a_valid_id_replaces_a_missing_or_broken_one_without_conflict() -> None:
    result = build([person("B1", person_id="0370900"), person("CC1", "card", person_id="037090001234")])
    row = golden_row(result)
    assert row["person_id"] == "037090001234" and row["conflicts"] == []
    fix = change(changes_of(result), "person_id")
    assert fix is not None and (fix["old_value"], fix["new_value"], fix["rule"]) == (
        "0370900",
        "037090001234",
        "filled_from_source",
    )


def test_birth_registration_gives_the_name_and_later_events_do_not_override_the_base() -> None:
    khai_sinh = build([person("B1", full_name="Nguyễn Văn An"), person("HT1", "civil_status", event_type="Khai sinh",
                                                                          full_name="Nguyễn Văn Ân")])  # fmt: skip
    assert golden_row(khai_sinh)["full_name"] == "Nguyễn Văn Ân"
    # A typo on a card (a different name key) does not replace the base's name; it is not a change either.
    typo = build([person("B1", full_name="Nguyễn Văn Hùng"), person("CC1", "card", full_name="NGUYỄN VĂN HÙNH")])
    assert golden_row(typo)["full_name"] == "Nguyễn Văn Hùng"
    assert change(changes_of(typo), "full_name") is None


def test_a_name_with_diacritics_beats_its_ascii_spelling_from_any_record() -> None:
    result = build([person("B1", full_name="Nguyen Van An"), person("CC1", "card", full_name="NGUYỄN VĂN AN")])
    row = golden_row(result)
    assert row["full_name"] == "Nguyễn Văn An"
    assert row["full_name_source"]["record_id"] == "CC1"
    fix = change(changes_of(result), "full_name")
    assert fix is not None and (fix["old_value"], fix["rule"]) == ("Nguyen Van An", "better_form")
    assert fix["evidence_record_ids"] == ["B1", "CC1"]


def test_normalized_form_and_legacy_encoding_are_fixed_in_the_register_only() -> None:
    result = build([person("B1", full_name="NGUYỄN  VĂN  HOÀ", father_name="TrÇn V¨n §øc")])
    row = golden_row(result)
    assert row["full_name"] == "Nguyễn Văn Hòa" and row["father_name"] == "Trần Văn Đức"
    changes = changes_of(result)
    assert change(changes, "full_name")["rule"] == "normalized_form"  # type: ignore[index]
    assert change(changes, "father_name")["rule"] == "legacy_encoding"  # type: ignore[index]
    assert result.records.filter(pl.col("record_id") == "B1")["full_name"][0] == "NGUYỄN  VĂN  HOÀ"


def test_a_full_date_beats_a_partial_one_that_agrees_with_it_but_not_one_that_does_not() -> None:
    agreeing = build([person("B1", birth_date="1950"), person("CC1", "card", birth_date="1950-03-02")])
    row = golden_row(agreeing)
    assert (row["birth_date"], row["birth_date_precision"], row["conflicts"]) == ("1950-03-02", "day", [])
    assert change(changes_of(agreeing), "birth_date")["rule"] == "better_form"  # type: ignore[index]
    other_year = build([person("B1", birth_date="1950"), person("CC1", "card", birth_date="1951-03-02")])
    row = golden_row(other_year)
    assert row["birth_date"] == "1950" and row["conflicts"] == ["birth_date"]
    assert change(changes_of(other_year), "birth_date") is None


def test_addresses_are_written_in_the_post_2025_form_with_their_ward_code() -> None:
    result = build([person("B1", permanent_address=OLD_FORM)])
    row = golden_row(result)
    assert row["permanent_address"] == NEW_FORM
    assert (row["permanent_address_ward_code"], row["permanent_address_status"]) == ("13420", "resolved")
    fix = change(changes_of(result), "permanent_address")
    assert fix is not None and (fix["old_value"], fix["new_value"], fix["rule"]) == (
        OLD_FORM,
        NEW_FORM,
        "post_2025_address",
    )


def test_a_split_old_ward_is_never_guessed() -> None:
    result = build([person("B1", permanent_address=SPLIT_OLD)])
    row = golden_row(result)
    assert row["permanent_address_status"] == "ambiguous"
    assert row["permanent_address_ward_code"] is None
    assert sorted(row["permanent_address_candidates"]) == ["14488", "14533"]
    assert "Gia Tân" in row["permanent_address"]
    assert change(changes_of(result), "permanent_address") is None


def test_another_record_with_the_same_street_in_a_candidate_ward_resolves_a_split_ward() -> None:
    result = build([person("B1", permanent_address=SPLIT_OLD), person("CC1", "card", permanent_address=SPLIT_NEW)])
    row = golden_row(result)
    assert (row["permanent_address"], row["permanent_address_ward_code"]) == (SPLIT_NEW, "14488")
    assert row["permanent_address_source"]["record_id"] == "CC1"
    # Another street does not agree: the split ward stays unresolved.
    other = build([person("B1", permanent_address=SPLIT_OLD),
                   person("CC1", "card", permanent_address="Xóm 9, Xã Gia Vân, Tỉnh Ninh Bình")])  # fmt: skip
    assert golden_row(other)["permanent_address_status"] == "ambiguous"


def test_the_most_recent_permanent_registration_gives_the_address_and_household() -> None:
    moved = "Số 12 Lê Lợi, Phường Hoa Lư, Tỉnh Ninh Bình"
    result = build([
        person("B1", last_verified_date="2025-06-01"),
        person("CT1", "residence", event_type="Đăng ký thường trú", permanent_address=moved,
               household_id="3799999999", relation_to_head="Chủ hộ"),
    ])  # fmt: skip
    row = golden_row(result)
    assert row["permanent_address"] == moved and row["household_id"] == "3799999999"
    assert row["permanent_address_source"]["event_type"] == "Đăng ký thường trú"
    changes = changes_of(result)
    assert change(changes, "permanent_address")["rule"] == "move_registered"  # type: ignore[index]
    assert change(changes, "household_id")["rule"] == "move_registered"  # type: ignore[index]
    # An older registration than the base's last verification does not win.
    older = build([
        person("B1", last_verified_date="2026-01-10"),
        person("CT1", "residence", event_type="Đăng ký thường trú", permanent_address=moved,
               registered=dt.date(2025, 12, 1)),
    ])  # fmt: skip
    assert golden_row(older)["permanent_address"] == NEW_FORM


def test_a_temporary_registration_gives_the_current_address() -> None:
    stay = "Số 3 Trần Phú, Phường Hoa Lư, Tỉnh Ninh Bình"
    result = build([person("B1"), person("CT1", "residence", event_type="Đăng ký tạm trú", current_address=stay)])
    assert golden_row(result)["current_address"] == stay
    assert change(changes_of(result), "current_address")["rule"] == "temporary_residence_registered"  # type: ignore[index]


def test_a_visitor_known_only_from_an_extract_keeps_the_home_address_it_states() -> None:
    result = build([person("CT1", "residence", event_type="Đăng ký tạm trú", permanent_address=OLD_FORM)])
    row = golden_row(result)
    assert row["permanent_address"] == NEW_FORM and row["in_base"] is False
    assert changes_of(result).height == 0  # nothing to load: the person has no base record


def test_the_latest_issued_card_gives_all_card_fields_together() -> None:
    result = build([
        person("B1", card_number="037090001234", card_issue_date="2016-04-01", card_expiry_date="2015-05-17",
               card_issue_place="Cục Cảnh sát ĐKQL cư trú và DLQG về dân cư"),
        person("CC1", "card", event_type="Cấp đổi", card_expiry_date="2030-05-17", card_issue_place="Bộ Công an"),
    ])  # fmt: skip
    row = golden_row(result)
    assert (row["card_issue_date"], row["card_expiry_date"], row["card_issue_place"]) == (
        NIGHT.isoformat(),
        "2030-05-17",
        "Bộ Công an",
    )
    assert {row[f"{c}_source"]["record_id"] for c in ("card_number", "card_issue_date", "card_expiry_date")} == {"CC1"}
    changes = changes_of(result)
    assert change(changes, "card_expiry_date")["rule"] == "card_issued"  # type: ignore[index]


def test_a_recognized_ethnicity_beats_an_unrecognized_one() -> None:
    result = build([person("B1", ethnicity="Việt Nam"), person("CC1", "card", ethnicity="Tày")])
    row = golden_row(result)
    assert (row["ethnicity"], row["ethnicity_code"]) == ("Tày", "02")


def test_a_registered_death_makes_the_person_deceased_with_date_and_place() -> None:
    result = build([
        person("B1"),
        person("HT1", "civil_status", event_type="Khai tử", death_date="2026-02-20",
               death_place="Bệnh viện Đa khoa Tỉnh Ninh Bình"),
    ])  # fmt: skip
    row = golden_row(result)
    assert row["status"] == "deceased"
    assert (row["death_date"], row["death_place"]) == ("2026-02-20", "Bệnh viện Đa khoa Tỉnh Ninh Bình")
    assert row["status_source"]["record_id"] == "HT1"
    changes = changes_of(result)
    assert {(r["field"], r["rule"]) for r in changes.iter_rows(named=True)} >= {
        ("status", "death_registered"),
        ("death_date", "death_registered"),
        ("death_place", "death_registered"),
    }
    assert change(changes, "status")["new_value"] == "deceased"  # type: ignore[index]


def test_an_impossible_death_date_does_not_make_the_person_deceased() -> None:
    row = golden_row(build([person("B1", birth_date="1990-05-17", death_date="1985-01-01")]))
    assert row["status"] == "alive" and row["death_date"] == "1985-01-01"


def test_a_deregistration_at_the_registered_address_moves_the_person_out() -> None:
    result = build([person("B1"), person("CT1", "residence", event_type="Xóa đăng ký thường trú")])
    row = golden_row(result)
    assert row["status"] == "moved_out" and row["status_source"]["record_id"] == "CT1"
    assert change(changes_of(result), "status")["rule"] == "moved_out"  # type: ignore[index]
    elsewhere = build([person("B1"), person("CT1", "residence", event_type="Xóa đăng ký thường trú",
                                            permanent_address=SPLIT_NEW)])  # fmt: skip
    assert golden_row(elsewhere)["status"] == "alive"


def test_the_latest_verification_date_survives() -> None:
    result = build([person("B1", last_verified_date="2019-01-01"), person("B2", last_verified_date="2025-02-02")])
    assert golden_row(result)["last_verified_date"] == "2025-02-02"


def test_every_golden_value_has_lineage_and_every_record_one_person() -> None:
    rows = [
        person("B1"),
        person("B2", full_name="Nguyen Van An", household_id=None, relation_to_head=None),
        person("CC1", "card"),
        person("HT9", "civil_status", event_type="Khai sinh", full_name="Lê Thị Bé", birth_date="2026-02-01",
               sex="Nữ", person_id="037326000001"),
    ]  # fmt: skip
    result = build(rows, [("B1", "B2", "CC1"), ("HT9",)])
    register = result.register
    assert register["person_key"].to_list() == ["P-B1", "P-HT9"]
    assert sorted(register.explode("record_ids")["record_ids"].to_list()) == ["B1", "B2", "CC1", "HT9"]
    for column in survivorship_rules().columns:
        has_value = register.filter(pl.col(column).is_not_null())
        assert has_value[f"{column}_source"].null_count() == 0, column
    assert register.schema["full_name_source"] == LINEAGE


def test_the_register_is_the_same_whatever_the_order_of_the_records() -> None:
    rows = [person("B1", birth_date="1950"), person("CC1", "card", birth_date="1950-03-02"), person("B2")]
    frame = records(*rows)
    groups = clusters(("B1", "CC1", "B2"))
    first = build_golden(frame, groups, NIGHT).register
    shuffled = build_golden(frame.reverse(), groups.reverse(), NIGHT).register
    assert first.equals(shuffled)


def test_persons_built_in_separate_partitions_equal_the_whole_build() -> None:
    """What a Spark partition of person keys does: the register of a subset is that subset of the register."""
    rows = [
        person("B1"), person("CC1", "card", full_name="NGUYỄN VĂN AN"),
        person("B2", person_id="037190002222", full_name="Trần Thị Mai", sex="Nữ", permanent_address=OLD_FORM),
        person("HT2", "civil_status", event_type="Khai tử", person_id="037190002222", full_name="Trần Thị Mai",
               sex="Nữ", death_date="2026-02-01"),
    ]  # fmt: skip
    frame = records(*rows)
    groups = clusters(("B1", "CC1"), ("B2", "HT2"))
    whole = build_golden(frame, groups, NIGHT).register
    parts = [
        build_golden(frame.filter(pl.col("record_id").is_in(ids)), groups, NIGHT).register
        for ids in (["B1", "CC1"], ["B2", "HT2"])
    ]
    assert pl.concat(parts).sort("person_key").equals(whole)


def test_a_record_without_a_cluster_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="B2"):
        build_golden(records(person("B1"), person("B2")), clusters(("B1",)), NIGHT)


def test_rules_are_data_and_mistakes_in_them_are_errors(tmp_path: Path) -> None:
    source = resources.files("register").joinpath("survivorship.toml").read_text(encoding="utf-8")
    copy = tmp_path / "copy.toml"
    copy.write_text(source, encoding="utf-8")
    assert load_rules(copy).columns == survivorship_rules().columns
    assert load_rules(copy).digest == survivorship_rules().digest
    broken = {
        "unknown source": source.replace('priority = ["base"]', 'priority = ["archive"]'),
        "unknown order criterion": source.replace('order = ["latest"]', 'order = ["newest"]'),
        "not a person column": source.replace('name = "last_verified_date"', 'name = "last_seen_date"'),
        "card_issue_place": source.replace(', "card_issue_place"]', "]"),
        "not in \\[change_rules\\]": source.replace('"card" = "card_issued"', '"card" = "card_printed"'),
    }
    for message, text in broken.items():
        path = tmp_path / "broken.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            load_rules(path)


def test_day_and_month_typed_the_other_way_round_is_not_a_conflict() -> None:
    result = build([person("B1", birth_date="1986-07-12"), person("CC1", "card", birth_date="1986-12-07")])
    row = golden_row(result)
    assert row["birth_date"] == "1986-07-12" and row["conflicts"] == []
    assert change(changes_of(result), "birth_date") is None


def test_partitions_with_previous_nights_equal_the_whole_build() -> None:
    """A person split across two partitions tonight: each partition keeps its records, none is inherited twice."""
    first_rows = [person("B1"), person("B2", full_name="Nguyen Van An"), person("CC1", "card")]
    first = build_golden(records(*first_rows), clusters(("B1", "B2", "CC1")), NIGHT).register
    tonight = records(person("B1"), person("B2", full_name="Nguyen Van An"))
    groups = clusters(("B1",), ("B2",))  # tonight the matcher keeps them apart
    whole = build_golden(tonight, groups, NIGHT, previous=first).register
    from register.golden import assign_successors

    assigned = assign_successors(first, groups)
    parts = [
        build_golden(tonight.filter(pl.col("record_id") == rid), groups, NIGHT,
                     previous=assigned.filter(pl.col("successor") == key).drop("successor")).register
        for rid, key in (("B1", "P-B1"), ("B2", "P-B2"))
    ]  # fmt: skip
    assert pl.concat(parts).sort("person_key").equals(whole)
    members = whole.explode("record_ids")["record_ids"]
    assert members.is_unique().all() and sorted(members) == ["B1", "B2", "CC1"]


def test_one_street_typed_two_ways_is_one_place() -> None:
    typed = build([
        person("B1", permanent_address="Số 54 Nguyễn Chí Thanh, Phường Hoa Lư, Tỉnh Ninh Bình"),
        person("CT1", "residence", event_type="Xóa đăng ký thường trú",
               permanent_address="SN 54 Nguyen Chi Thanh, Phường Hoa Lư, Tỉnh Ninh Bình"),
    ])  # fmt: skip
    assert golden_row(typed)["status"] == "moved_out"
