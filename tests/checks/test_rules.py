"""Every rule: a record that violates it is found, a record that does not is left alone."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from checks import RULES, CheckContext, CheckSettings, run_rules
from checks.findings import FINDINGS_SCHEMA
from tests.checks.frames import NIGHT, WARD_A, WARD_B, WARD_HCM, frame, person

CLEAN_BASE = person("B1")


def found(
    rule: str, base: list[dict[str, Any]], extracts: list[dict[str, Any]] | None = None, **kwargs: Any
) -> pl.DataFrame:
    context = CheckContext(base=frame(*base), extracts=frame(*(extracts or [])), night=NIGHT, **kwargs)
    result = RULES[rule].run(context)
    assert result.schema == FINDINGS_SCHEMA
    return result


def ids(rule: str, base: list[dict[str, Any]], extracts: list[dict[str, Any]] | None = None, **kwargs: Any) -> set[str]:
    return set(found(rule, base, extracts, **kwargs)["record_id"].to_list())


def pairs(*links: tuple[str, str, str], kind: str = "link") -> pl.DataFrame:
    return pl.DataFrame(
        [(left, right, 0.99 if decision == "match" else 0.5, decision, kind) for left, right, decision in links],
        schema={
            "left_id": pl.String,
            "right_id": pl.String,
            "match_probability": pl.Float64,
            "decision": pl.String,
            "kind": pl.String,
        },
        orient="row",
    )


def test_every_rule_is_quiet_on_a_clean_record() -> None:
    context = CheckContext(base=frame(CLEAN_BASE), extracts=frame(), night=NIGHT)
    findings, timings = run_rules(context)
    assert findings.height == 0, findings.to_dicts()
    assert set(timings["rule"]) == set(RULES)


def test_rules_have_unique_snake_case_ids_and_vietnamese_text() -> None:
    assert len(RULES) >= 20
    for rule_id, rule in RULES.items():
        assert rule_id == rule.id and rule_id.replace("_", "").isalpha() and rule_id.islower()
        assert rule.quality in ("đúng", "đủ", "sạch", "sống")
        assert rule.hits.__doc__, f"{rule_id} has no docstring"
        assert any(ch in rule.title + rule.description for ch in "ăâđêôơưàảãáạ"), rule_id


# ------------------------------------------------------------------ đúng


def test_id_structure_invalid() -> None:
    bad = person("B2", person_id="999190012345", person_id_valid=False, person_id_issue="province")
    result = found("id_structure_invalid", [CLEAN_BASE, bad])
    assert result["record_id"].to_list() == ["B2"]
    assert "mã tỉnh" in result["detail"][0] and result["ward_code"][0] == WARD_A


def test_id_birth_year_and_sex_mismatch() -> None:
    year = person("B2", person_id_contradiction="birth_year", person_id_birth_year=1991)
    sex = person("B3", sex="Nam", person_id_contradiction="sex")
    both = person("B4", person_id_contradiction="birth_year,sex")
    base = [CLEAN_BASE, year, sex, both]
    assert ids("id_birth_year_mismatch", base) == {"B2", "B4"}
    assert ids("id_sex_mismatch", base) == {"B3", "B4"}
    assert "1991" in found("id_birth_year_mismatch", base).filter(pl.col("record_id") == "B2")["detail"][0]


@pytest.mark.parametrize(
    ("rule", "bad_values"),
    [
        ("birth_in_future", {"birth_date": "2026-01-02", "card_issue_date": None, "card_expiry_date": None}),
        ("death_before_birth", {"death_date": "1989-12-31"}),
        ("death_in_future", {"death_date": "2025-09-16"}),
        ("card_issued_before_birth", {"card_issue_date": "1990-05-16"}),
        ("card_issued_in_future", {"card_issue_date": "2025-10-01"}),
        ("card_expiry_before_issue", {"card_expiry_date": "2021-05-31"}),
    ],
)
def test_impossible_dates(rule: str, bad_values: dict[str, Any]) -> None:
    assert ids(rule, [CLEAN_BASE, person("B2", **bad_values)]) == {"B2"}


def test_partial_dates_are_not_accused_on_a_guess() -> None:
    # Died some time in 1990, born 17/05/1990: possible. Card issued "1990" for someone born 1990-05: possible.
    same_year_death = person("B2", death_date="1990")
    same_year_card = person("B3", birth_date="1990-05", card_issue_date="1990")
    assert ids("death_before_birth", [same_year_death]) == set()
    assert ids("card_issued_before_birth", [same_year_card]) == set()


def test_address_unresolved_and_ambiguous() -> None:
    unresolved = person(
        "B2",
        permanent_address="Xóm Mới, Huyện Không Có",
        permanent_address_ward_code=None,
        permanent_address_status="unresolved",
        permanent_address_candidates=[],
    )
    ambiguous = person(
        "B3",
        permanent_address="P. Đông Hà, TX. Đông Hà",
        permanent_address_ward_code=None,
        permanent_address_status="ambiguous",
        permanent_address_candidates=[WARD_A, WARD_B],
    )
    current_only = person("B4", current_address="Chỗ không rõ", current_address_status="unresolved")
    base = [CLEAN_BASE, unresolved, ambiguous, current_only]
    assert ids("address_unresolved", base) == {"B2", "B4"}
    assert ids("address_ambiguous", base) == {"B3"}
    assert "Nơi ở hiện tại" in found("address_unresolved", base).filter(pl.col("record_id") == "B4")["detail"][0]


def test_ethnicity_not_recognized() -> None:
    variants = [person(f"B{i}", ethnicity=e) for i, e in enumerate(["Ê-đê", "H'Mông", "KHMER", "Bru Vân Kiều"], 2)]
    bad = person("B9", ethnicity="Kinhh")
    assert ids("ethnicity_not_recognized", [CLEAN_BASE, *variants, bad]) == {"B9"}


def test_cross_source_mismatch_on_linked_records() -> None:
    base = [
        CLEAN_BASE,
        person("B2", full_name="Lê Văn Nam", sex="Nam", person_id="001090000001", birth_date="1990-01-01"),
    ]
    agreeing = person("CC1", "card", card_number="001190012345")
    disagreeing = person(
        "CT1", "residence", full_name="Lê Văn Nam", sex="Nam", person_id="001090000001", birth_date="1990-02-01"
    )
    result = found("cross_source_mismatch", base, [agreeing, disagreeing])
    assert result["record_id"].to_list() == ["CT1"]
    assert result["related_record_ids"].to_list() == [["B2"]]
    assert "ngày sinh 01/02/1990 / 01/01/1990" in result["detail"][0]


def test_cross_source_mismatch_uses_match_pairs() -> None:
    base = [CLEAN_BASE]
    # The card row carries no ID at all; only the match stage ties it to B1.
    linked = person("CC1", "card", person_id=None, sex="Nam")
    assert ids("cross_source_mismatch", base, [linked]) == set()
    assert ids("cross_source_mismatch", base, [linked], pairs=pairs(("CC1", "B1", "match"))) == {"CC1"}
    assert ids("cross_source_mismatch", base, [linked], pairs=pairs(("CC1", "B1", "review"))) == set()


# ------------------------------------------------------------------ đủ


def test_required_field_missing_per_source() -> None:
    base_missing = person("B2", sex=None, person_id=None)
    card_missing = person("CC1", "card", card_number="001190012345", birth_date="1990-05-17")  # no card_issue_date
    card_ok = person("CC2", "card", card_number="001190012345", card_issue_date="2025-09-01")
    result = found("required_field_missing", [CLEAN_BASE, base_missing], [card_missing, card_ok])
    assert set(result["record_id"]) == {"B2", "CC1"}
    detail = result.filter(pl.col("record_id") == "B2")["detail"][0]
    assert "Giới tính" in detail and "Số định danh" in detail


def test_adult_without_card() -> None:
    adult = person("B2", card_number=None, card_issue_date=None, card_expiry_date=None, birth_date="2011-09-15")
    child = person("B3", card_number=None, card_issue_date=None, card_expiry_date=None, birth_date="2011-09-16")
    year_only = person("B4", card_number=None, card_issue_date=None, card_expiry_date=None, birth_date="2011")
    dead = person("B5", card_number=None, death_date="2020-01-01")
    assert ids("adult_without_card", [CLEAN_BASE, adult, child, year_only, dead]) == {"B2"}
    carded_tonight = person(
        "CC1", "card", person_id=adult["person_id"], birth_date="2011-09-15", card_issue_date="2025-09-14"
    )
    # A card issued tonight does not excuse the base: it still has no card number, and the finding names the card.
    result = found("adult_without_card", [adult], [carded_tonight])
    assert result["related_record_ids"].to_list() == [["CC1"]] and "CC1" in result["detail"][0]


def test_birth_without_person_record() -> None:
    born = {"event_type": "Khai sinh", "registration_date": "2025-09-10", "birth_date": "2025-09-01", "person_id": None}
    orphan = person("HT1", "civil_status", full_name="Phạm Minh Khôi", **born)
    registered = person("HT2", "civil_status", full_name="Đỗ Gia Huy", **born)
    residence = person(
        "CT1",
        "residence",
        full_name="Đỗ Gia Huy",
        birth_date="2025-09-01",
        person_id=None,
        event_type="Đăng ký thường trú",
    )
    in_base = person(
        "HT3",
        "civil_status",
        full_name="Trần Thị Mai",
        event_type="Khai sinh",
        registration_date="1990-05-20",
        person_id="001190012345",
    )
    death = person("HT4", "civil_status", event_type="Khai tử", person_id=None, registration_date="2025-09-10")
    assert ids("birth_without_person_record", [CLEAN_BASE], [orphan, registered, residence, in_base, death]) == {"HT1"}
    late = CheckSettings(reflection_grace_days=10)
    assert ids("birth_without_person_record", [CLEAN_BASE], [orphan], settings=late) == set()


def test_card_without_person_record() -> None:
    linked = person("CC1", "card", card_number="001190012345")  # the base person's ID and birth date
    reissued = person("CC2", "card", full_name="Trần Thị Mại", person_id="001190099876", birth_date="1990-05-18")
    newborn_card = person("CC3", "card", full_name="Lê Gia Bảo", person_id="001225000123", birth_date="2025-09-01")
    birth = person("HT1", "civil_status", full_name="Lê Gia Bảo", person_id="001225000123", birth_date="2025-09-01",
                   event_type="Khai sinh", registration_date="2025-09-05")  # fmt: skip
    clusters = pl.DataFrame(
        {"record_id": ["B1", "CC1", "CC2", "CC3", "HT1"], "cluster_id": ["K1", "K1", "K2", "K3", "K3"]}
    )
    result = found("card_without_person_record", [CLEAN_BASE], [linked, reissued, newborn_card, birth],
                   clusters=clusters)  # fmt: skip
    assert result["record_id"].to_list() == ["CC2"]
    assert "001190099876" in result["detail"][0] and "Trần Thị Mại" in result["detail"][0]


def test_household_without_head() -> None:
    with_head = [
        person("B1", household_id="H1", relation_to_head="Chủ hộ"),
        person("B2", household_id="H1", relation_to_head="Con"),
    ]
    headless = [
        person("B3", household_id="H2", relation_to_head="Vợ"),
        person("B4", household_id="H2", relation_to_head="Con"),
    ]
    dead_head = [
        person("B5", household_id="H3", relation_to_head="Chủ hộ", death_date="2024-01-01"),
        person("B6", household_id="H3", relation_to_head="Con"),
    ]
    result = found("household_without_head", [*with_head, *headless, *dead_head])
    assert sorted(result["record_id"]) == ["B3", "B6"]
    assert result.filter(pl.col("record_id") == "B3")["related_record_ids"][0].to_list() == ["B4"]


# ------------------------------------------------------------------ sạch


def test_duplicate_person_from_clusters_and_pairs() -> None:
    base = [
        CLEAN_BASE,
        person("B2", full_name="Tran Thi Mai"),
        person("B3", full_name="Lê Văn Nam", person_id="001090000001"),
    ]
    clusters = pl.DataFrame({"record_id": ["B1", "B2", "B3"], "cluster_id": ["P1", "P1", "P2"]})
    result = found("duplicate_person", base, clusters=clusters)
    assert result["record_id"].to_list() == ["B2"] and result["related_record_ids"].to_list() == [["B1"]]
    assert ids("duplicate_person", base, pairs=pairs(("B2", "B1", "match"), kind="dedupe")) == {"B2"}
    assert ids("duplicate_person", base, pairs=pairs(("B2", "B1", "review"), kind="dedupe")) == set()


def test_shared_person_id() -> None:
    same_person_twice = [CLEAN_BASE, person("B2", full_name="TRẦN THỊ MAI")]
    other_person = person("B3", full_name="Hoàng Văn Long", sex="Nam")
    assert ids("shared_person_id", same_person_twice) == set()
    result = found("shared_person_id", [*same_person_twice, other_person])
    assert set(result["record_id"]) == {"B1", "B2", "B3"}
    assert result.filter(pl.col("record_id") == "B3")["related_record_ids"][0].to_list() == ["B1", "B2"]


def test_shared_person_id_tells_a_namesake_from_a_swapped_date() -> None:
    # Same family name, sex and birth year, similar name: only the full birth date shows two people.
    namesake = person("B2", full_name="Trần Khánh Vy", birth_date="1990-12-25")
    assert ids("shared_person_id", [CLEAN_BASE, namesake]) == {"B1", "B2"}
    original = person("B1", birth_date="1990-05-07", birth_date_swapped="1990-07-05")
    swapped = person("B2", birth_date="1990-07-05", birth_date_swapped="1990-05-07")
    year_only = person("B3", birth_date="1990")
    assert ids("shared_person_id", [original, swapped, year_only]) == set()


def test_shared_person_id_from_a_pair_the_matcher_vetoed() -> None:
    """An extract row carrying a twin's ID: the matcher vetoed the merge, the register reports one ID, two people."""
    twin = person("X1", source="residence", full_name="Trần Thị Lan")
    scored = pairs(("X1", "B1", "non_match"), ("X2", "B1", "non_match")).with_columns(
        pl.Series("level_veto", ["family_member", "none"]), pl.Series("level_person_id", ["exact", "exact"])
    )
    other = person("X2", source="residence", full_name="Trần Thị Mai")
    result = found("shared_person_id", [CLEAN_BASE], [twin, other], pairs=scored)
    assert set(result["record_id"]) == {"X1", "B1"}
    assert result.filter(pl.col("record_id") == "X1")["related_record_ids"][0].to_list() == ["B1"]
    assert "Trần Thị Mai" in result.filter(pl.col("record_id") == "X1")["detail"][0]


def test_legacy_encoded_text() -> None:
    converted = person("B2", legacy_encoded_columns=["full_name"])
    result = found("legacy_encoded_text", [CLEAN_BASE, converted])
    assert result["record_id"].to_list() == ["B2"] and "họ tên" in result["detail"][0]


def test_name_not_normalized() -> None:
    caps = person("B2", full_name="TRẦN THỊ MAI", full_name_norm="Trần Thị Mai")
    plain = person("B3", full_name="Tran Thi Mai")
    legacy = person("B4", full_name="TrÇn ThÞ Mai", full_name_norm="Trần Thị Mai", legacy_encoded_columns=["full_name"])
    assert ids("name_not_normalized", [CLEAN_BASE, caps, plain, legacy]) == {"B2", "B3"}


def test_address_legacy_form() -> None:
    old = person("B2", permanent_address="P. Trúc Bạch, Q. Ba Đình, HN", permanent_address_legacy_ward_code="00001")
    assert ids("address_legacy_form", [CLEAN_BASE, old]) == {"B2"}


# ------------------------------------------------------------------ sống


def test_death_not_reflected() -> None:
    alive_in_base = person("B2", full_name="Lê Văn Nam", sex="Nam", person_id="001090000001", birth_date="1990-01-01")
    already_dead = person(
        "B3",
        full_name="Ngô Văn Bình",
        sex="Nam",
        person_id="001050000002",
        birth_date="1950-01-01",
        death_date="2025-09-01",
    )
    deaths = [
        person(
            "HT1",
            "civil_status",
            event_type="Khai tử",
            full_name="Lê Văn Nam",
            sex="Nam",
            person_id="001090000001",
            birth_date="1990-01-01",
            death_date="2025-09-02",
            registration_date="2025-09-05",
        ),
        person(
            "HT2",
            "civil_status",
            event_type="Khai tử",
            full_name="Ngô Văn Bình",
            sex="Nam",
            person_id="001050000002",
            birth_date="1950-01-01",
            death_date="2025-09-01",
            registration_date="2025-09-05",
        ),
    ]
    result = found("death_not_reflected", [CLEAN_BASE, alive_in_base, already_dead], deaths)
    assert result["record_id"].to_list() == ["B2"] and result["related_record_ids"].to_list() == [["HT1"]]
    assert result["source"].to_list() == ["base"]


def test_move_not_reflected() -> None:
    moved = person(
        "CT1",
        "residence",
        event_type="Đăng ký thường trú",
        permanent_address="5 Lê Lợi, Phường Thủ Dầu Một",
        permanent_address_ward_code=WARD_HCM,
        permanent_address_candidates=[WARD_HCM],
        permanent_address_status="resolved",
    )
    stayed = person(
        "CT2",
        "residence",
        event_type="Đăng ký thường trú",
        full_name="Lê Văn Nam",
        sex="Nam",
        person_id="001090000001",
        birth_date="1990-01-01",
    )
    base = [
        CLEAN_BASE,
        person("B2", full_name="Lê Văn Nam", sex="Nam", person_id="001090000001", birth_date="1990-01-01"),
    ]
    result = found("move_not_reflected", base, [moved, stayed])
    assert result["record_id"].to_list() == ["B1"] and result["ward_code"].to_list() == [WARD_HCM]


def test_move_out_not_reflected() -> None:
    left = person("CT1", "residence", event_type="Xóa đăng ký thường trú")  # same address as the base still shows
    elsewhere = person(
        "CT2",
        "residence",
        event_type="Xóa đăng ký thường trú",
        full_name="Lê Văn Nam",
        sex="Nam",
        person_id="001090000001",
        birth_date="1990-01-01",
        permanent_address="Thôn Đông, Xã Khác",
        permanent_address_norm="Thôn Đông, Xã Khác",
        permanent_address_candidates=[WARD_B],
        permanent_address_ward_code=WARD_B,
    )
    base = [
        CLEAN_BASE,
        person("B2", full_name="Lê Văn Nam", sex="Nam", person_id="001090000001", birth_date="1990-01-01"),
    ]
    result = found("move_not_reflected", base, [left, elsewhere])
    assert result["record_id"].to_list() == ["B1"] and result["related_record_ids"].to_list() == [["CT1"]]
    assert "xóa đăng ký thường trú" in result["detail"][0]


def test_card_expired_with_and_without_expiry_date() -> None:
    expired = person("B2", card_expiry_date="2025-09-14")
    # Born 1999-03-01, card issued at 16 without expiry: the law ends it at 25 (2024-03-01).
    implied = person("B3", birth_date="1999-03-01", card_issue_date="2015-05-01", card_expiry_date=None)
    # Issued at 23 (within two years of 25): valid until 40.
    grace = person("B4", birth_date="1999-03-01", card_issue_date="2022-05-01", card_expiry_date=None)
    dead = person("B5", card_expiry_date="2020-01-01", death_date="2019-05-01")
    assert ids("card_expired", [CLEAN_BASE, expired, implied, grace, dead]) == {"B2", "B3"}
    renewed = person("CC1", "card", person_id=expired["person_id"], card_issue_date="2025-09-14")
    result = found("card_expired", [expired], [renewed])
    assert result["related_record_ids"].to_list() == [["CC1"]] and "chưa được cập nhật" in result["detail"][0]


def test_impossible_death_date_does_not_make_a_person_dead() -> None:
    stale = person("B2", last_verified_date="2020-01-01", death_date="1980-01-01")
    assert ids("not_verified_recently", [stale]) == {"B2"}
    assert ids("death_before_birth", [stale]) == {"B2"}


def test_not_verified_recently() -> None:
    stale = person("B2", last_verified_date="2022-09-14")
    never = person("B3", last_verified_date=None)
    recent = person("B4", last_verified_date="2022-09-16")
    base = [CLEAN_BASE, stale, never, recent]
    assert ids("not_verified_recently", base) == {"B2", "B3"}
    assert ids("not_verified_recently", base, settings=CheckSettings(verification_max_age_days=5000)) == {"B3"}
