"""The register across nights: events persist, carried persons stay, reruns are idempotent, fixes keep their night."""

from __future__ import annotations

import polars as pl

from register.changes import build_changes
from register.golden import build_golden
from register.quality import persistent_findings, persistent_sources
from tests.register.factories import (
    NEW_FORM,
    NEXT_NIGHT,
    NIGHT,
    OLD_FORM,
    build,
    change,
    clusters,
    golden_row,
    person,
    records,
)


def test_a_death_registered_one_night_still_holds_the_next_night() -> None:
    first = build([person("B1"), person("HT1", "civil_status", event_type="Khai tử", death_date="2026-02-20")])
    assert golden_row(first)["status"] == "deceased"
    # Next night: the base still shows the person alive and no event mentions them.
    second = build([person("B1")], night=NEXT_NIGHT, previous=first.register)
    row = golden_row(second)
    assert row["status"] == "deceased" and row["death_date"] == "2026-02-20"
    assert row["death_date_source"]["record_id"] == "HT1" and row["death_date_source"]["night"] == NIGHT
    assert row["record_ids"] == ["B1", "HT1"]
    assert row["updated_night"] == NIGHT  # nothing changed tonight


def test_a_value_kept_from_the_same_record_keeps_its_first_night() -> None:
    first = build([person("B1")])
    second = build([person("B1")], night=NEXT_NIGHT, previous=first.register)
    assert golden_row(second)["full_name_source"]["night"] == NIGHT
    changed = build([person("B1", full_name="Nguyễn Văn Ánh")], night=NEXT_NIGHT, previous=first.register)
    row = golden_row(changed)
    assert row["full_name_source"]["night"] == NEXT_NIGHT and row["updated_night"] == NEXT_NIGHT


def test_a_person_seen_on_an_earlier_night_only_is_carried_over_unchanged() -> None:
    first = build(
        [person("B1"), person("CT1", "residence", event_type="Đăng ký tạm trú", full_name="Lê Văn Khách")],
        [("B1",), ("CT1",)],
    )
    second = build([person("B1")], night=NEXT_NIGHT, previous=first.register)
    visitor = second.register.filter(pl.col("person_key") == "P-CT1")
    assert visitor.height == 1
    assert visitor.row(0, named=True) == first.register.filter(pl.col("person_key") == "P-CT1").row(0, named=True)
    assert "P-CT1" in second.golden["person_key"].to_list()
    assert second.golden.filter(pl.col("person_key") == "P-CT1")["full_name_norm"][0] == "Lê Văn Khách"


def test_persons_merged_tonight_keep_every_record_once() -> None:
    first = build(
        [person("B1"), person("B2", full_name="Nguyen Van An"), person("CC1", "card", card_expiry_date="2035-05-17")],
        [("B1",), ("B2", "CC1")],
    )
    frame = records(person("B1"), person("B2", full_name="Nguyen Van An"), night=NEXT_NIGHT)
    second = build_golden(frame, clusters(("B1", "B2")), NEXT_NIGHT, previous=first.register)
    assert second.register["person_key"].to_list() == ["P-B1"]
    row = golden_row(second)
    assert row["record_ids"] == ["B1", "B2", "CC1"]
    assert row["card_expiry_date"] == "2035-05-17" and row["card_expiry_date_source"]["record_id"] == "CC1"


def test_a_rerun_of_a_night_gives_the_same_register_and_change_set() -> None:
    first = build([person("B1", permanent_address=OLD_FORM)])
    rows = [person("B1", permanent_address=OLD_FORM), person("CC1", "card", registered=NEXT_NIGHT)]
    runs = []
    for _ in range(2):
        result = build(rows, night=NEXT_NIGHT, previous=first.register)
        runs.append((result.register, build_changes(result, NEXT_NIGHT, previous_changes=None)))
    assert runs[0][0].equals(runs[1][0]) and runs[0][1].equals(runs[1][1])


def test_a_fix_the_base_has_not_taken_keeps_its_first_night_and_one_it_took_leaves_the_change_set() -> None:
    first = build([person("B1", permanent_address=OLD_FORM)])
    first_changes = build_changes(first, NIGHT)
    assert change(first_changes, "permanent_address")["night"] == NIGHT  # type: ignore[index]
    again = build([person("B1", permanent_address=OLD_FORM)], night=NEXT_NIGHT, previous=first.register)
    again_changes = build_changes(again, NEXT_NIGHT, previous_changes=first_changes)
    assert change(again_changes, "permanent_address")["night"] == NIGHT  # type: ignore[index]
    taken = build([person("B1", permanent_address=NEW_FORM)], night=NEXT_NIGHT, previous=first.register)
    assert change(build_changes(taken, NEXT_NIGHT, previous_changes=first_changes), "permanent_address") is None


def test_a_move_out_holds_until_a_newer_permanent_registration() -> None:
    first = build([person("B1"), person("CT1", "residence", event_type="Xóa đăng ký thường trú")])
    assert golden_row(first)["status"] == "moved_out"
    still = build([person("B1")], night=NEXT_NIGHT, previous=first.register)
    assert golden_row(still)["status"] == "moved_out"
    back = build(
        [person("B1"), person("CT2", "residence", event_type="Đăng ký thường trú", registered=NEXT_NIGHT,
                              permanent_address="Số 12 Lê Lợi, Phường Hoa Lư, Tỉnh Ninh Bình")],
        night=NEXT_NIGHT, previous=first.register,
    )  # fmt: skip
    assert golden_row(back)["status"] == "alive"


def test_an_event_the_base_still_does_not_show_stays_a_finding_the_next_nights() -> None:
    first = build([person("B1"), person("HT1", "civil_status", event_type="Khai tử", death_date="2026-02-20")])
    first_changes = build_changes(first, NIGHT)
    # Tonight's own event is tonight's finding already (the checks report it).
    assert persistent_findings(first.register, first_changes, night=NIGHT).height == 0
    second = build([person("B1")], night=NEXT_NIGHT, previous=first.register)
    changes = build_changes(second, NEXT_NIGHT, previous_changes=first_changes)
    found = persistent_findings(second.register, changes, night=NEXT_NIGHT)
    assert found.select("record_id", "rule", "related_record_ids").rows() == [("B1", "death_not_reflected", ["HT1"])]
    assert "02/03/2026" in found["detail"][0]
    # Once the base shows the death, the change set no longer carries it and the finding is gone.
    shown = build([person("B1", death_date="2026-02-20")], night=NEXT_NIGHT, previous=first.register)
    gone = build_changes(shown, NEXT_NIGHT, previous_changes=first_changes)
    assert persistent_findings(shown.register, gone, night=NEXT_NIGHT).height == 0


def test_a_conflict_with_the_base_stays_a_finding_after_the_record_that_disagreed_has_gone() -> None:
    # Night 1: the card gives another valid ID than the base's; the register keeps the card's and lists the conflict.
    first = build([person("B1", person_id="037090001234"), person("CC1", "card", person_id="037090009999")])
    first_changes = build_changes(first, NIGHT)
    # Night 2: only the base record; the card was last night's extract, the base still holds its own ID.
    second = build([person("B1", person_id="037090001234")], night=NEXT_NIGHT, previous=first.register)
    changes = build_changes(second, NEXT_NIGHT, previous_changes=first_changes)
    members = clusters(("B1", "CC1")).with_columns(pl.Series("source", ["base", "card"]))
    found = persistent_findings(second.register, changes, members, night=NEXT_NIGHT)
    assert found.select("record_id", "rule", "related_record_ids").rows() == [("B1", "cross_source_mismatch", ["CC1"])]
    # Once the base holds the card's ID, nothing conflicts and the finding is gone.
    fixed = build([person("B1", person_id="037090009999")], night=NEXT_NIGHT, previous=first.register)
    fixed_changes = build_changes(fixed, NEXT_NIGHT, previous_changes=first_changes)
    assert persistent_findings(fixed.register, fixed_changes, members, night=NEXT_NIGHT).height == 0


def test_the_persistent_findings_of_a_register_are_those_of_its_persistent_sources() -> None:
    # Night 1: a death (B1), a card conflicting with the base (B2, CC2), a newborn with no base record (HT3), an old
    # address form (B4: a change that makes no persistent finding) and a person with nothing to say (B5).
    night_one = [
        person("B1"), person("HT1", "civil_status", event_type="Khai tử", death_date="2026-02-20"),
        person("B2", person_id="037090001234"), person("CC2", "card", person_id="037090009999"),
        person("HT3", "civil_status", event_type="Khai sinh", full_name="Nguyễn Văn Bé", person_id=None),
        person("B4", permanent_address=OLD_FORM), person("B5", full_name="Trần Thị Hoa"),
    ]  # fmt: skip
    groups = [("B1", "HT1"), ("B2", "CC2"), ("HT3",), ("B4",), ("B5",)]
    first = build(night_one, groups)
    first_changes = build_changes(first, NIGHT)
    night_two = [r for r in night_one if r["source"] == "base"]
    second = build(night_two, [g for g in groups if g[0].startswith("B")], night=NEXT_NIGHT, previous=first.register)
    changes = build_changes(second, NEXT_NIGHT, previous_changes=first_changes)
    members = pl.DataFrame(
        [(r, f"P-{g[0]}", "base" if r.startswith("B") else "extract") for g in groups for r in g],
        schema={"record_id": pl.String, "cluster_id": pl.String, "source": pl.String},
        orient="row",
    )
    whole = persistent_findings(second.register, changes, members, night=NEXT_NIGHT)
    rows, events = persistent_sources(second.register.lazy(), changes.lazy())
    assert whole.height >= 3 and rows.height < second.register.height and events.height < changes.height
    assert persistent_findings(rows, events, members, night=NEXT_NIGHT).equals(whole)
