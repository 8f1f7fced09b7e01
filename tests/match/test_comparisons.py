from __future__ import annotations

import datetime as dt
import unicodedata

import polars as pl

from matchers.engine.comparisons import compute_levels
from matchers.engine.linker import prepare_records
from matchers.engine.population import population_settings
from tests.match.synthetic import frame, make_people, record_of


def _levels(left: dict, right: dict) -> dict[str, str]:
    settings = population_settings()
    records = prepare_records(frame([left, right]), settings, with_tf=True)
    columns = [c for c in records.columns if c != "record_id"]
    sides = pl.concat(
        [
            records.slice(0, 1).select(pl.col(c).alias(f"{c}_l") for c in columns),
            records.slice(1, 1).select(pl.col(c).alias(f"{c}_r") for c in columns),
        ],
        how="horizontal",
    )
    codes = compute_levels(sides, settings).row(0, named=True)
    return {c.name: c.labels[codes[f"_lv_{c.name}"]] for c in settings.comparisons}


def _person_pair() -> tuple[dict, dict]:
    person = make_people(1, seed=5)[0]
    person.birth = dt.date(1985, 3, 7)
    return record_of(person, "A", "base", None, 0), record_of(person, "B", "card", None, 0)


def test_identical_records_agree_exactly() -> None:
    left, right = _person_pair()
    levels = _levels(left, right)
    assert levels["name"] == "exact"
    assert levels["birth_date"] == "exact"
    assert levels["person_id"] == "exact"
    assert levels["household"] == "parents_street"


def test_typical_record_errors_get_their_own_levels() -> None:
    left, right = _person_pair()
    right.update(
        full_name_norm="X",
        name_key=right["name_key_no_middle"],
        name_key_glued=right["name_key_no_middle"].replace(" ", ""),
        birth_date_value=dt.date(1985, 7, 3),
        birth_month=7,
        birth_day=3,
        birth_date_swapped="1985-03-07",
        person_id_norm=right["person_id_norm"][:-1] + str((int(right["person_id_norm"][-1]) + 1) % 10),
        permanent_address_street=None,
        father_name_key=None,
    )
    levels = _levels(left, right)
    assert levels["name"] == "no_middle"
    assert levels["birth_date"] == "day_month_swapped"
    assert levels["person_id"] == "one_digit_off"
    assert levels["household"] == "parent_ward"


def test_year_only_birth_date_and_old_id_against_new_id() -> None:
    left, right = _person_pair()
    right.update(birth_date_value=dt.date(1985, 1, 1), birth_month=None, birth_day=None, birth_date_swapped=None)
    right.update(person_id_norm=None, person_id_valid=False, old_id_number="123456789")
    left.update(old_id_number="123456789")
    levels = _levels(left, right)
    assert levels["birth_date"] == "year_only"
    assert levels["person_id"] == "old_id_exact"


def test_a_street_typed_without_marks_or_with_another_house_number_prefix_is_the_same_street() -> None:
    left, right = _person_pair()
    left.update(permanent_address_street="Số nhà 109, Thôn Đại Cường")
    # Typed without marks, another prefix, in capitals, decomposed (NFD, as another machine sends it), with the eth.
    typed_ways = (
        "So nha 109 Thon Dai Cuong",
        "Số 109 Thôn Đại Cường",
        "SN: 109, THÔN ĐẠI CƯỜNG",
        unicodedata.normalize("NFD", "Số nhà 109, Thôn Đại Cường"),
        "Số nhà 109, Thôn Ðại Cường",
    )
    for typed in typed_ways:
        right.update(permanent_address_street=typed)
        assert _levels(left, right)["household"] == "parents_street", typed
    right.update(permanent_address_street="Tổ dân phố 7")
    assert _levels(left, right)["household"] == "parents_ward"


def test_a_split_old_ward_agrees_with_each_of_its_successors() -> None:
    """An old ward split between several current wards has no ward code, only candidates: a record written with one
    of them does not contradict it, a record in another ward does."""
    left, right = _person_pair()
    ward = right["permanent_address_ward_code"]
    left.update(
        permanent_address_ward_code=None,
        permanent_address_legacy_ward_code="09999",
        permanent_address_candidates=["00001", ward],
        father_name_key=None,
        mother_name_key=None,
    )
    right.update(father_name_key=None, mother_name_key=None)
    assert _levels(left, right)["household"] == "street"
    assert _levels(right, left)["household"] == "street"
    left.update(permanent_address_candidates=["00001", "00002"])
    assert _levels(left, right)["household"] == "else"
