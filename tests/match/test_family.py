"""The family-aware model, one rule at a time: vetoes, the given-name agreement they read, the levels for the hard
variations, and the clustering that keeps vetoed records apart. Records are built by hand, so each test names the
phenomenon it is about (twins = same birth date + same parents + another given name), not a generator's rendering."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matchers.engine import dedupe, population_settings
from matchers.engine.clustering import cluster_records
from matchers.engine.comparisons import compute_levels
from matchers.engine.linker import prepare_records
from matchers.engine.population import telex_keys
from matchers.engine.scoring import _smoothed
from matchers.engine.settings import MatchSettings
from normalize.frame import normalize_records
from tests.match.synthetic import pair_sides

NIGHT = dt.date(2025, 11, 3)


def _record(record_id: str, full_name: str | None, birth: str, sex: str, person_id: str | None, **extra: Any) -> dict:
    return {
        "record_id": record_id,
        "person_id": person_id,
        "full_name": full_name,
        "birth_date": birth,
        "sex": sex,
        "permanent_address": extra.get("address", "Số 12 Lê Lợi, Phường Hoa Lư, Tỉnh Ninh Bình"),
        "current_address": None,
        "hometown": "Xã Gia Hòa, Huyện Gia Viễn, Tỉnh Ninh Bình",
        "father_name": extra.get("father", "Nguyễn Văn Hải"),
        "mother_name": extra.get("mother", "Trần Thị Lan"),
        "source": "base",
    }


def _one_pair(left: dict, right: dict, settings: MatchSettings) -> pl.DataFrame:
    """Two canonical records normalized and prepared as the engine does, as the two sides of one pair."""
    normalized = normalize_records(pl.DataFrame([left, right]), as_of=NIGHT)
    records = prepare_records(normalized, settings, with_tf=True)
    return pair_sides(records, np.array([0]), np.array([1]))


def _levels(left: dict, right: dict) -> dict[str, str]:
    """Every comparison's level and the veto of one pair of canonical records."""
    settings = population_settings()
    sides = _one_pair(left, right, settings)
    codes = compute_levels(sides, settings).row(0, named=True)
    levels = {c.name: c.labels[codes[f"_lv_{c.name}"]] for c in settings.comparisons}
    levels["veto"] = settings.veto_labels[codes["_veto"]]
    return levels


ID_A = "037215000111"
ID_B = "037215482913"  # same province, sex and year digits: the registration of a twin


def test_twins_of_other_sex_sharing_an_id_are_two_people() -> None:
    """Nguyễn Quỳnh Hạnh (Nữ) and Nguyễn Đăng Quang (Nam): same birth date, mother and ID."""
    girl = _record("A", "Nguyễn Quỳnh Hạnh", "2015-03-07", "Nữ", ID_A)
    boy = _record("B", "Nguyễn Đăng Quang", "2015-03-07", "Nam", ID_A)
    levels = _levels(girl, boy)
    assert (levels["person_id"], levels["household"], levels["birth_date"]) == ("exact", "parents_street", "exact")
    assert levels["veto"] == "two_people"


def test_sisters_sharing_an_id_are_two_people_and_their_names_are_not_similar() -> None:
    """Nguyễn Thị Oanh 1960-04-11 and Nguyen Thi Uyen Phuong 1964: same ID and parents."""
    older = _record("A", "Nguyễn Thị Oanh", "1960-04-11", "Nữ", "037160000222")
    younger = _record("B", "Nguyen Thi Uyen Phuong", "1964", "Nữ", "037160000222")
    levels = _levels(older, younger)
    assert levels["name"] == "else"  # the given names share nothing
    assert levels["veto"] in ("two_people", "family_member")


def test_twins_of_one_sex_with_other_given_names() -> None:
    first = _record("A", "Lò Văn Thành", "2006-12-28", "Nam", ID_A)
    second = _record("B", "Lò Văn Pọm", "2006-12-28", "Nam", ID_B)
    assert _levels(first, second)["veto"] == "family_member"
    # … even when one of them carries the other's ID.
    assert _levels(first, {**second, "person_id": ID_A})["veto"] == "family_member"


def test_twins_whose_names_are_a_slip_apart_go_to_a_reviewer() -> None:
    first = _record("A", "Lèo Thị Ly", "2022-03-08", "Nữ", ID_A)
    second = _record("B", "Lèo Thị Lả", "2022-03-08", "Nữ", ID_B)
    levels = _levels(first, second)
    assert levels["person_id"] == "same_registration"
    assert levels["veto"] == "twins_or_typo"
    settings = population_settings()
    assert next(v for v in settings.vetoes if v.name == "twins_or_typo").max_probability == 0.5


def test_twins_with_two_real_names_a_letter_apart_and_one_id_go_to_a_reviewer() -> None:
    """Phạm Văn Vinh and Phạm Văn Linh, one ID: two names of the lists that rhyme, so a twin carrying the other's
    ID is as likely as a typo; "Tùng" and "Thùy Dung" (a dropped word and a slip making another name) are two people."""
    first = _record("A", "Phạm Văn Vinh", "1994-04-04", "Nam", ID_A)
    second = _record("B", "Phạm Văn Linh", "1994-04-04", "Nam", ID_A)
    assert _levels(first, second)["veto"] == "twins_or_typo"
    # A slip that makes no name ("Vinhh") stays one person; so does one that makes another name without keeping
    # the rhyme and a distinct onset (a dropped letter, a dialect spelling): one name mistyped, not a twin's.
    assert _levels(first, {**second, "full_name": "Phạm Văn Vinhh"})["veto"] == "none"
    for written, typed, sex in (
        ("Trần Thanh Anh", "Trần Thanh An", "Nữ"),
        ("Tạ Thị Thu", "Tạ Thị Tu", "Nữ"),
        ("Lê Thị Hương", "Lê Thị Hưng", "Nữ"),
        ("Đỗ Thị Sương", "Đỗ Thị Xương", "Nữ"),
        ("Bùi Thị Thủy", "Bùi Thị Thy", "Nữ"),
        ("Nguyễn Hồng Hòa", "Nguyễn Hồng Hà", "Nữ"),
        ("Nguyễn Mai Hướng", "Nguyễn Mai Hưng", "Nam"),
        ("Lê Thị Nhung", "Nhung Le Tho", "Nữ"),  # another order and a slip: the last words are not given names
    ):
        one = _record("A", written, "1987-07-17", sex, ID_A)
        assert _levels(one, {**one, "record_id": "B", "full_name": typed})["veto"] == "none", typed
    # Twin sisters Thu and Thủy: two slips apart however typed (thu/thủy, thu/thuyr), so two names.
    thu = _record("A", "Nguyễn Thanh Thu", "2001-08-22", "Nữ", ID_A)
    assert _levels(thu, {**thu, "record_id": "B", "full_name": "Nguyễn Thanh Thủy"})["veto"] == "twins_or_typo"
    older = _record("A", "Tăng Thị Tùng", "2011-08-20", "Nữ", ID_A)
    younger = _record("B", "Tăng Thị Thùy Dung", "2011-08-20", "Nữ", ID_A)
    assert _levels(older, younger)["veto"] == "family_member"


def test_a_nameless_record_of_a_twin_goes_to_a_reviewer() -> None:
    """No name, the birth date, parents and address of a twin and another ID of the same registration."""
    named = _record("A", "Phan Phi Cường", "2015-04-21", "Nam", ID_A)
    nameless = _record("B", None, "2015-04-21", "Nam", ID_B)
    levels = _levels(named, nameless)
    assert levels["person_id"] == "same_registration"
    assert levels["veto"] == "twins_or_typo"


def test_a_newborn_is_not_its_brother() -> None:
    """A birth registration: own ID, the parents and address of a brother in the base."""
    brother = _record("A", "Nguyễn Minh Khôi", "2019-06-02", "Nam", "037219000333")
    baby = _record("B", "Nguyễn Minh Khang", "2025-10-20", "Nam", "037225000444")
    assert _levels(brother, baby)["veto"] == "two_people"


@pytest.mark.parametrize(
    ("left_name", "right_name"),
    [
        ("Nguyễn Văn Hùng", "Nguyễn Văn Hùnh"),  # a slip that makes no name
        ("Trần Thị Thu Hà", "Trần Hà"),  # a dropped middle name
        ("Thạch Sa Ri", "Thạch Sari"),  # a Khmer given name glued
        ("H'Hen Niê", "Niê Hhen"),  # Ê Đê: glued prefix, clan first
        ("Nguyễn Văn An", "An Nguyễn Văn"),  # reversed order
        ("Phạm Phương Thủy", "Phạm Phương Tủy"),  # a slip that makes another name, in a shared ID
        ("Danh Sophia", "Danh Phia"),  # a Khmer given name written glued, its first syllable dropped elsewhere
        ("Tăng Thida", "Tăng Da"),
    ],
)
def test_one_person_written_two_ways_is_never_vetoed(left_name: str, right_name: str) -> None:
    left = _record("A", left_name, "1990-05-17", "Nữ", "037190000555")
    right = _record("B", right_name, "1990-05-17", "Nữ", "037190000555")
    levels = _levels(left, right)
    assert levels["veto"] == "none", levels


def test_a_glued_name_ends_another_only_after_whole_syllables() -> None:
    """Sisters "Hoành" and "Anh" (the kept part starts with a vowel), twins "Hữu Khánh" and "Hạnh" (two words, and
    the cut inside "Kh"): not one glued name with a dropped syllable."""
    for first, second in (
        ("Nguyễn Thị Hoành", "Nguyễn Thị Anh"),
        ("Lê Thị Uyên", "Lê Thị Yến"),
        ("Nguyễn Hữu Khánh", "Nguyễn Hạnh"),  # written in two words: not a glued name
        ("Thạch Sockhanh", "Thạch Hanh"),  # the cut inside the initial "Kh"
    ):
        left = _record("A", first, "1990-05-17", "Nữ", "037190000555")
        right = _record("B", second, "1990-05-17", "Nữ", "037190000555")
        assert _levels(left, right)["veto"] != "none", (first, second)


def test_spaces_and_renderings_are_no_evidence() -> None:
    assert _levels(_record("A", "Thạch Sa Ri", "1990-01-02", "Nữ", None),
                   _record("B", "Thach Sari", "1990-01-02", "Nữ", None))["name"] == "exact_ascii"  # fmt: skip
    # One canonical display: "Ê Ban" and "Y-Blông" are written the usual way.
    assert _levels(_record("A", "Y Blông Ê Ban", "1990-01-02", "Nam", None),
                   _record("B", "Y-Blông Êban", "1990-01-02", "Nam", None))["name"] == "exact"  # fmt: skip


def test_birth_year_off_by_one_and_reissued_ids_have_their_levels() -> None:
    left = _record("A", "Lê Văn Hải", "1979-05-13", "Nam", "036079698026")
    right = _record("B", "Lê Văn Hải", "1978-05-13", "Nam", "083079202755")
    levels = _levels(left, right)
    assert levels["birth_date"] == "one_digit_off"
    assert _levels({**left, "birth_date": "1980-05-13"}, right)["birth_date"] == "else"
    assert _levels({**left, "birth_date": "1989-05-13"}, {**right, "birth_date": "1990-05-13"})["birth_date"] == (
        "year_off_by_one"
    )
    assert levels["person_id"] == "else" and levels["veto"] == "none"


def test_brothers_registered_years_apart_go_to_a_reviewer() -> None:
    """Two valid IDs, each agreeing with its own record's birth year, the years different: two birth registrations
    (brothers, two years apart; one short given name a letter from the other), whatever the family agreement."""
    older = _record("A", "Vàng A Nủ", "2016-03-01", "Nam", "014216067701", father="Vàng A Ky", mother="Vũ Thị Mai")
    younger = _record("B", "Vàng Su", "2018-03-01", "Nam", "014218653661", father="Vàng A Ky", mother="Vũ Thị Mai")
    assert _levels(older, younger)["veto"] == "two_registered_births"
    settings = population_settings()
    assert next(v for v in settings.vetoes if v.name == "two_registered_births").max_probability == 0.5


def test_a_year_typed_wrong_or_a_reissued_number_is_not_two_registrations() -> None:
    person = _record("A", "Lê Văn Hải", "1979-05-13", "Nam", "036079698026")
    # The birth year typed one off: the (same) ID now contradicts that record.
    assert _levels(person, {**person, "record_id": "B", "birth_date": "1978-05-13"})["veto"] == "none"
    # A number issued again keeps the year digits.
    assert _levels(person, {**person, "record_id": "B", "person_id": "083079202755"})["veto"] == "none"
    # A year digit of the ID typed wrong: that ID contradicts its own record.
    assert _levels(person, {**person, "record_id": "B", "person_id": "036078698026"})["veto"] == "none"


def _cluster_frame(rows: list[tuple[str, str | None, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": [r[0] for r in rows],
            "valid_person_id": [r[1] for r in rows],
            "birth_year": [2015] * len(rows),
            "sex_norm": [r[2] for r in rows],
            "given_key": [r[3] for r in rows],
            "source": ["base"] * len(rows),
        },
        schema_overrides={"birth_year": pl.Int32},
    )


def _scored(rows: list[tuple[str, str, float, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "left_id": [r[0] for r in rows],
            "right_id": [r[1] for r in rows],
            "match_probability": [r[2] for r in rows],
            "match_weight": [20.0 if r[3] == "match" else -7.0 for r in rows],
            "decision": [r[3] for r in rows],
            "level_veto": [r[4] for r in rows],
        }
    )


def test_no_chain_of_matches_joins_records_a_veto_kept_apart() -> None:
    """Twin A and twin B were vetoed; a record without an ID matches both: it joins one, never both."""
    records = _cluster_frame([("a", ID_A, "Nữ", "lan"), ("x", None, "Nữ", "lan"), ("b", ID_B, "Nữ", "lam")])
    pairs = _scored([("a", "x", 0.9999, "match", "none"), ("x", "b", 0.999, "match", "none"),
                     ("a", "b", 0.01, "non_match", "family_member")])  # fmt: skip
    groups, report = cluster_records(records, pairs, population_settings())
    grouped = groups.group_by("group").agg(pl.col("record_id"))
    assert {frozenset(g) for g in grouped.get_column("record_id").to_list()} == {frozenset("ax"), frozenset("b")}
    assert report.refused_conflict == 1


def test_a_conflict_the_model_weighed_itself_is_allowed() -> None:
    """A re-issued ID: the model matched the record with the new number to both records of the old one."""
    records = _cluster_frame([("a", ID_A, "Nam", "hai"), ("a2", ID_A, "Nam", "hai"), ("n", ID_B, "Nam", "hai")])
    pairs = _scored([("a", "a2", 0.99999, "match", "none"), ("n", "a", 0.9995, "match", "none"),
                     ("n", "a2", 0.9995, "match", "none")])  # fmt: skip
    groups, _ = cluster_records(records, pairs, population_settings())
    assert groups.get_column("group").n_unique() == 1
    # Matched to one of the two only: the other's number is a difference the model never weighed.
    groups, report = cluster_records(records, pairs.head(2), population_settings())
    assert groups.get_column("group").n_unique() == 2 and report.refused_conflict == 1
    chain = _cluster_frame([("a", ID_A, "Nam", "hai"), ("x", None, "Nam", "hai"), ("n", ID_B, "Nam", "hai")])
    groups, report = cluster_records(
        chain,
        _scored([("a", "x", 0.99999, "match", "none"), ("x", "n", 0.9995, "match", "none")]),
        population_settings(),
    )
    assert groups.get_column("group").n_unique() == 2 and report.refused_conflict == 1  # fmt: skip


def test_another_sex_and_another_given_name_never_share_a_cluster() -> None:
    records = _cluster_frame([("a", None, "Nữ", "ha"), ("x", None, "Nữ", "ha"), ("b", None, "Nam", "hai")])
    pairs = _scored([("a", "x", 0.9999, "match", "none"), ("x", "b", 0.999, "match", "none")])
    groups, report = cluster_records(records, pairs, population_settings())
    assert groups.get_column("group").n_unique() == 2 and report.refused_conflict == 1


def test_m_is_smoothed_toward_u() -> None:
    import numpy as np

    m = np.array([1.0, 1.0, 0.0, 0.0])
    u = np.array([1.0, 0.001, 0.1, 0.899])
    smoothed = _smoothed(m, u, 0.005)
    assert smoothed[0] == 1.0 and smoothed[1:].sum() == pytest.approx(1.0)
    weights = np.log2(smoothed[1:] / u[1:])
    assert weights.min() >= np.log2(0.005) - 1e-9  # a level EM never saw keeps a finite weight


def test_vetoed_pairs_are_known_non_matches_for_em_and_show_in_explanations(base: pl.DataFrame) -> None:
    result = dedupe(base, population_settings())
    vetoed = result.pairs.filter(pl.col("level_veto") != "none")
    assert vetoed.height > 0
    assert (vetoed.get_column("decision") != "match").all()
    assert (vetoed.get_column("weight_veto") <= 0).all()
    capped = vetoed.filter(pl.col("level_veto") != "twins_or_typo")
    assert (capped.get_column("match_probability") <= 0.01 + 1e-12).all()


def test_telex_keys_are_the_keys_a_typist_presses() -> None:
    """One dropped key or one dropped letter is a slip; the veto asks for two of both."""
    assert telex_keys("thủy") == "thuyr"
    assert telex_keys("hòa") == "hoaf"
    assert telex_keys("đức") == "dduwcs"
    assert telex_keys("hương") == "huowng"
    assert telex_keys("lâm") == "laam"


def _predicate(expression: pl.Expr, left: dict, right: dict) -> bool:
    """One pair predicate of the population spec on two canonical records (similarities computed for it)."""
    from matchers.engine.comparisons import compute_similarities

    settings = population_settings()
    sides = _one_pair(left, right, settings)
    sides = compute_similarities(sides, settings.similarities)
    return bool(sides.select(expression.fill_null(False)).item())


def test_two_written_names_are_told_apart_without_the_lists() -> None:
    """H'Mông and Thái given names are not in the Vietnamese lists: a consonant and a tone mark both changed
    ("Dính"/"Sinh") are two names; one changed ("Dính"/"Dinh", "Dính"/"Sính"), or one name glued with a slip
    ("Sóc Pha"/"Sócoha"), is one name mistyped."""
    from matchers.engine.population import _two_written_names

    def pair(a: str, b: str) -> bool:
        return _predicate(_two_written_names(), _record("A", a, "2010-10-25", "Nữ", ID_A),
                          _record("B", b, "2010-10-25", "Nữ", ID_A))  # fmt: skip

    assert pair("Vàng Mỷ Dính", "Vàng Mỷ Sinh")
    assert pair("Lò Thị Pọm", "Lò Thị Xiêng")
    assert not pair("Vàng Mỷ Dính", "Vàng Mỷ Dinh")
    assert not pair("Vàng Mỷ Dính", "Vàng Mỷ Sính")
    assert not pair("Néang Sóc Pha", "Néang Sócoha")
    assert not pair("Thạch Thị Sa Ri", "Thạch Thị Sari")
    assert not pair("Vang My Dinh", "Vang My Sinh")  # typed without marks: nothing says two names


def test_a_last_word_slip_needs_the_family_to_start_alike() -> None:
    """One slip: "Như Mai"/"Maii" (a dropped word and a typo) is one slip; "Bô Ra"/"Chau Kim Sa" shares one letter of a
    two-letter word and nothing else; legacy text ("Phµng Thþ Só") damages vowels, not the family's initial."""
    from matchers.engine.population import _any_slip

    def slip(a: str, b: str) -> bool:
        return _predicate(_any_slip(), _record("A", a, "2012-10-20", "Nam", ID_A),
                          _record("B", b, "2012-10-20", "Nam", ID_A))  # fmt: skip

    assert slip("Nguyễn Thị Như Mai", "Nguyễn Thị Maii")
    assert not slip("Bô Ra", "Chau Kim Sa")


def test_the_sex_a_name_says() -> None:
    from matchers.engine.population import _name_sex_marker

    names = ["Giàng A Sử", "Giàng Thị Sử", "Nguyễn Văn An", "Nguyễn Vân Anh", "Nguyen Van An", "Vàng Mỷ Dính",
             "Y Blông Niê", "H'Hen Niê", "Lò Thị Văn", "Trần An"]  # fmt: skip
    said = pl.DataFrame({"full_name_norm": names}).select(_name_sex_marker()).to_series().to_list()
    assert said == ["Nam", "Nữ", "Nam", None, None, "Nữ", "Nam", "Nữ", "Nữ", None]


def _sex_marker_by_words() -> pl.Expr:
    """The reference: the name split into words, a prefix first, markers among the words between first and last."""
    from matchers.engine import population

    words = pl.col("full_name_norm").str.to_lowercase().str.split(" ")
    middle = words.list.slice(1, words.list.len() - 2)
    first = words.list.first()
    male = middle.list.eval(pl.element().is_in(population._MALE_WORDS)).list.any() | first.is_in(
        population._MALE_PREFIXES
    )
    female_prefix = first.is_in(population._FEMALE_PREFIXES) | first.str.starts_with("h'")
    female = middle.list.eval(pl.element().is_in(population._FEMALE_WORDS)).list.any() | female_prefix
    return population.sex_said(words.list.len() < 2, male, female)


_NAME_WORDS = ["Văn", "văn", "Thị", "A", "a", "Seo", "Mí", "Mỷ", "Y", "y", "H'Hen", "h'", "Néang", "Nguyễn", "Vân",
               "Anh", "Sử", "ya", "an", "thịnh", "", "Lò", "Giàng"]  # fmt: skip


@given(st.lists(st.lists(st.sampled_from(_NAME_WORDS), max_size=6).map(" ".join), min_size=1, max_size=40))
def test_the_sex_marker_expression_agrees_with_the_words_of_the_name(names: list[str]) -> None:
    """Differential: the one-regex form gives what splitting the name into words gives (empty words included)."""
    from matchers.engine.population import _name_sex_marker

    frame = pl.DataFrame({"full_name_norm": [*names, None]}, schema={"full_name_norm": pl.String})
    fast = frame.select(_name_sex_marker()).to_series()
    reference = frame.select(_sex_marker_by_words()).to_series()
    assert fast.to_list() == reference.to_list()


def test_hmong_twins_one_consonant_and_one_tone_apart_with_one_id_go_to_a_reviewer() -> None:
    """Vàng Mỷ Dính and Vàng Mỷ Sinh: twin sisters, same parents and address, one carrying the other's ID."""
    first = _record("A", "Vàng Mỷ Dính", "2010-10-25", "Nữ", ID_A, father="Vàng A Nủ", mother="Lý Thị Sú")
    second = {**first, "record_id": "B", "full_name": "Vàng Mỷ Sinh"}
    levels = _levels(first, second)
    assert (levels["person_id"], levels["household"]) == ("exact", "parents_street")
    assert levels["veto"] == "twins_or_typo"
    # … and whatever the household says: a card record carries no parents.
    assert _levels(first, {**second, "father_name": None, "mother_name": None})["veto"] == "twins_or_typo"
    assert _levels(first, {**second, "full_name": "Vàng Mỷ Dinh"})["veto"] == "none"


def test_khmer_twins_whose_names_share_a_letter_are_two_people() -> None:
    """Bô Ra (the Chau prefix left out) and Chau Kim Sa: twins, one ID."""
    first = _record("A", "Bô Ra", "2012-10-20", "Nam", ID_A, father="Chau Kha Ri", mother="Trà Pha Ly")
    second = {**first, "record_id": "B", "full_name": "Chau Kim Sa"}
    assert _levels(first, second)["veto"] == "family_member"
    assert _levels(first, {**second, "full_name": "Chau Bô Ra"})["veto"] == "none"
    assert _levels({**first, "full_name": "Néang Sóc Pha", "sex": "Nữ"},
                   {**second, "full_name": "Néang Sócoha", "sex": "Nữ"})["veto"] == "none"  # fmt: skip


def test_twins_boy_and_girl_with_one_given_name_are_two_people() -> None:
    """Giàng A Sử and Giàng Thị Sử: the names say two sexes, the sex fields agree with them; one ID."""
    boy = _record("A", "Giàng A Sử", "2016-02-11", "Nam", ID_A)
    girl = {**boy, "record_id": "B", "full_name": "Giàng Thị Sử", "sex": "Nữ"}
    assert _levels(boy, girl)["veto"] == "two_people"
    # A sex typed wrong leaves the name as it was: one person.
    assert _levels(boy, {**boy, "record_id": "B", "sex": "Nữ"})["veto"] == "none"


def test_a_trained_model_never_matches_twins_with_one_id(base: pl.DataFrame) -> None:
    """Scored by a model trained on a population: the twins stay apart, the same twin written twice is one."""
    settings = population_settings()
    model = dedupe(base, settings).model
    dinh = _record("A", "Vàng Mỷ Dính", "2010-10-25", "Nữ", ID_A, father="Vàng A Nủ", mother="Lý Thị Sú")
    records = [
        dinh,
        {**dinh, "record_id": "B", "full_name": "Vàng Mỷ Sinh"},
        {**dinh, "record_id": "C", "full_name": "Vàng Mỷ Dinh"},
        _record("D", "Bô Ra", "2012-10-20", "Nam", "037212000999", father="Chau Kha Ri", mother="Trà Pha Ly"),
        _record("E", "Chau Kim Sa", "2012-10-20", "Nam", "037212000999", father="Chau Kha Ri", mother="Trà Pha Ly"),
    ]
    normalized = normalize_records(pl.DataFrame(records), as_of=NIGHT)
    pairs = dedupe(normalized, settings, model=model).pairs
    decision = {frozenset((r["left_id"], r["right_id"])): r["decision"] for r in pairs.iter_rows(named=True)}
    assert decision[frozenset("AC")] == "match"
    assert decision[frozenset("AB")] == "review" and decision[frozenset("BC")] != "match"
    assert decision[frozenset("DE")] == "non_match"
