"""The Vietnamese population spec: how two person records (normalized, see ``normalize.columns``) are compared."""

from __future__ import annotations

import polars as pl

from matchers.engine.comparisons import any_null, exact_level, similarity_level
from matchers.engine.settings import (
    Comparison,
    ComparisonLevel,
    ConflictRule,
    MatchSettings,
    Similarity,
    Thresholds,
    block_on,
    left,
    right,
)

__all__ = ["POPULATION_INPUT_COLUMNS", "population_settings"]

POPULATION_INPUT_COLUMNS = (
    "record_id",
    "full_name_norm",
    "name_key",
    "family_key",
    "given_key",
    "name_key_no_middle",
    "birth_date_value",
    "birth_year",
    "birth_month",
    "birth_day",
    "birth_date_swapped",
    "sex_norm",
    "person_id_norm",
    "person_id_valid",
    "old_id_number",
    "permanent_address_ward_code",
    "permanent_address_legacy_ward_code",
    "permanent_address_street",
    "father_name_key",
    "mother_name_key",
    "spouse_name_key",
)
"""Normalized columns the population spec reads (all from ``normalize.columns``)."""

_DERIVED = (
    # Only a structurally valid ID may veto a cluster: a malformed one is a typo, not another citizen.
    pl.when(pl.col("person_id_valid").fill_null(False)).then(pl.col("person_id_norm")).alias("valid_person_id"),
    pl.when(pl.col("birth_day").is_not_null())
    .then(pl.col("birth_date_value").cast(pl.String))
    .alias("birth_date_text"),
    # Day and month in ascending order: a date typed dd/mm on one record and mm/dd on the other gets one key.
    pl.when(pl.col("birth_day").is_not_null() & pl.col("birth_month").is_not_null())
    .then(
        pl.concat_str(
            [
                pl.col("birth_year"),
                pl.min_horizontal("birth_day", "birth_month"),
                pl.max_horizontal("birth_day", "birth_month"),
            ],
            separator="-",
        )
    )
    .alias("birth_date_unordered"),
)


def _name() -> Comparison:
    jw = Similarity("jaro_winkler", "name_key")
    return Comparison(
        name="name",
        columns=("full_name_norm", "name_key", "name_key_no_middle", "family_key", "given_key"),
        null_condition=any_null("name_key"),
        levels=(
            exact_level("full_name_norm", label="exact", tf=True, description="Họ tên trùng khớp (có dấu)"),
            exact_level("name_key", label="exact_ascii", tf=True, description="Họ tên trùng khi bỏ dấu"),
            exact_level(
                "name_key_no_middle",
                label="no_middle",
                tf=True,
                description="Họ và tên gọi trùng, khác/thiếu tên đệm",
            ),
            ComparisonLevel(
                label="close",
                condition=jw.at_least(0.95),
                similarities=(jw,),
                description="Họ tên gần giống (lỗi gõ)",
            ),
            ComparisonLevel(
                label="given_same_family_close",
                condition=(left("given_key") == right("given_key")) & jw.at_least(0.85),
                similarities=(jw,),
                description="Tên gọi trùng, họ/tên đệm gần giống",
            ),
            similarity_level("name_key", 0.85, label="similar", description="Họ tên khá giống"),
        ),
        description="Họ và tên",
    )


def _birth_date() -> Comparison:
    typo = Similarity("damerau_levenshtein_distance", "birth_date_text")
    full = left("birth_day").is_not_null() & right("birth_day").is_not_null()
    same_year = left("birth_year") == right("birth_year")
    return Comparison(
        name="birth_date",
        columns=(
            "birth_date_value",
            "birth_date_text",
            "birth_date_swapped",
            "birth_date_unordered",
            "birth_year",
            "birth_month",
            "birth_day",
        ),
        null_condition=any_null("birth_year"),
        levels=(
            ComparisonLevel(
                "exact",
                full & (left("birth_date_value") == right("birth_date_value")),
                description="Ngày sinh trùng khớp",
            ),
            ComparisonLevel(
                "day_month_swapped",
                (left("birth_date_swapped") == right("birth_date_text"))
                | (left("birth_date_text") == right("birth_date_swapped")),
                description="Ngày và tháng sinh bị đảo",
            ),
            ComparisonLevel(
                "one_digit_off", full & typo.at_most(1), similarities=(typo,), description="Ngày sinh sai một chữ số"
            ),
            ComparisonLevel(
                "same_month",
                same_year & (left("birth_month") == right("birth_month")),
                description="Cùng tháng và năm sinh",
            ),
            ComparisonLevel(
                "year_only",
                same_year & (left("birth_month").is_null() | right("birth_month").is_null()),
                description="Cùng năm sinh, một bên chỉ có năm",
            ),
            ComparisonLevel("same_year", same_year, description="Cùng năm sinh, khác ngày tháng"),
        ),
        description="Ngày sinh",
    )


def _person_id() -> Comparison:
    distance = Similarity("damerau_levenshtein_distance", "person_id_norm")
    pid_l, pid_r = left("person_id_norm"), right("person_id_norm")
    old_l, old_r = left("old_id_number"), right("old_id_number")
    # A CMND on one side and a CCCD on the other are unrelated numbers unless equal (12-digit CMNDs were often
    # kept as the new number): their difference is no evidence, so such pairs are "null" for this comparison.
    comparable = (
        (pid_l.is_not_null() & pid_r.is_not_null())
        | (old_l.is_not_null() & old_r.is_not_null())
        | (old_l == pid_r).fill_null(False)
        | (pid_l == old_r).fill_null(False)
    )
    return Comparison(
        name="person_id",
        columns=("person_id_norm", "old_id_number"),
        null_condition=~comparable,
        levels=(
            ComparisonLevel("exact", pid_l == pid_r, description="Số định danh trùng khớp"),
            ComparisonLevel(
                "one_digit_off",
                distance.at_most(1),
                similarities=(distance,),
                description="Số định danh sai một chữ số",
            ),
            ComparisonLevel(
                "same_serial",
                (pid_l.str.slice(0, 3) == pid_r.str.slice(0, 3)) & (pid_l.str.slice(6) == pid_r.str.slice(6)),
                description="Số định danh chỉ khác mã thế kỷ/giới tính hoặc năm sinh (nhập sai phần cấu trúc)",
            ),
            ComparisonLevel("old_id_exact", old_l == old_r, description="Số CMND cũ trùng khớp"),
            ComparisonLevel(
                "cmnd_vs_cccd",
                (old_l == pid_r) | (pid_l == old_r),
                description="Số CMND một bên trùng số định danh bên kia",
            ),
        ),
        description="Số định danh / CMND",
    )


def _household() -> Comparison:
    """Address and parents as ONE comparison.

    Siblings (twins above all) share the ward, the street and both parents: counted as three independent
    comparisons, that agreement outweighs a different personal ID and a different given name. As one comparison its
    u is measured on the joint agreement, so a household counts once, as it should.
    """
    street = Similarity("jaro_winkler", "permanent_address_street")
    ward_l, ward_r = left("permanent_address_ward_code"), right("permanent_address_ward_code")
    legacy_l, legacy_r = left("permanent_address_legacy_ward_code"), right("permanent_address_legacy_ward_code")
    father_l, father_r = left("father_name_key"), right("father_name_key")
    mother_l, mother_r = left("mother_name_key"), right("mother_name_key")
    same_ward = ((ward_l == ward_r) | (legacy_l == legacy_r)).fill_null(False)
    same_street = (ward_l == ward_r).fill_null(False) & street.at_least(0.9).fill_null(False)
    both_parents = ((father_l == father_r) & (mother_l == mother_r)).fill_null(False)
    one_parent = ((father_l == father_r).fill_null(False) | (mother_l == mother_r).fill_null(False)) & ~(
        (father_l != father_r).fill_null(False) | (mother_l != mother_r).fill_null(False)
    )
    # Only a field known on both sides can disagree: an address on one record and parents on the other say nothing.
    comparable = (
        ((ward_l.is_not_null() | legacy_l.is_not_null()) & (ward_r.is_not_null() | legacy_r.is_not_null()))
        | (father_l.is_not_null() & father_r.is_not_null())
        | (mother_l.is_not_null() & mother_r.is_not_null())
    )
    return Comparison(
        name="household",
        columns=(
            "permanent_address_ward_code",
            "permanent_address_legacy_ward_code",
            "permanent_address_street",
            "father_name_key",
            "mother_name_key",
        ),
        null_condition=~comparable,
        levels=(
            ComparisonLevel(
                "parents_street",
                both_parents & same_street,
                similarities=(street,),
                description="Cùng cha mẹ và cùng số nhà, đường, phường/xã",
            ),
            ComparisonLevel("parents_ward", both_parents & same_ward, description="Cùng cha mẹ và cùng phường/xã"),
            ComparisonLevel("parents", both_parents, description="Cùng cha mẹ, khác nơi thường trú"),
            ComparisonLevel(
                "parent_street",
                one_parent & same_street,
                similarities=(street,),
                description="Trùng tên cha hoặc mẹ (bên kia trống) và cùng số nhà, đường",
            ),
            ComparisonLevel("street", same_street, similarities=(street,), description="Cùng số nhà, đường, phường/xã"),
            ComparisonLevel("parent_ward", one_parent & same_ward, description="Trùng tên cha hoặc mẹ, cùng phường/xã"),
            ComparisonLevel("parent", one_parent, description="Trùng tên cha hoặc mẹ (bên kia trống), khác nơi ở"),
            ComparisonLevel("ward", same_ward, description="Cùng phường/xã"),
        ),
        description="Hộ gia đình: nơi thường trú và cha mẹ",
    )


def _sex() -> Comparison:
    return Comparison(
        name="sex",
        columns=("sex_norm",),
        null_condition=any_null("sex_norm"),
        levels=(exact_level("sex_norm", description="Cùng giới tính"),),
        description="Giới tính",
    )


def _relative(name: str, column: str, description: str) -> Comparison:
    return Comparison(
        name=name,
        columns=(column,),
        null_condition=any_null(column),
        levels=(
            exact_level(column, description=f"{description}: trùng khớp"),
            similarity_level(column, 0.9, label="similar", description=f"{description}: gần giống"),
        ),
        description=description,
    )


def population_settings(*, thresholds: Thresholds | None = None) -> MatchSettings:
    """Comparisons, blocking and cluster guards for Vietnamese person records."""
    return MatchSettings(
        name="population",
        comparisons=(
            _name(),
            _birth_date(),
            _sex(),
            _person_id(),
            _household(),
            _relative("spouse", "spouse_name_key", "Họ tên vợ/chồng"),
        ),
        # Chosen on a generated 1,000,000-person province for full blocking recall at about one candidate pair per
        # record: keys that repeat across a province (family + given + birth year: "Nguyễn Văn Hùng 1980") grow
        # quadratically with it and are only used together with the ward.
        blocking_rules=(
            block_on("person_id_norm", max_block_size=50, name="person_id"),
            block_on("old_id_number", max_block_size=50, name="old_id"),
            block_on("name_key", "birth_date_unordered", max_block_size=200, name="name+birth_date"),
            block_on("given_key", "birth_date_value", max_block_size=200, name="given+birth_date"),
            block_on("permanent_address_ward_code", "birth_date_value", max_block_size=100, name="ward+birth_date"),
            block_on(
                "permanent_address_ward_code",
                "family_key",
                "given_key",
                "birth_year",
                max_block_size=100,
                name="ward+family+given+birth_year",
            ),
            block_on("father_name_key", "mother_name_key", max_block_size=30, name="parents"),
            # Same mother, same birthday: the record itself or a twin; survives a mistyped name and a missing ID.
            block_on("mother_name_key", "birth_date_unordered", max_block_size=30, name="mother+birth_date"),
        ),
        thresholds=thresholds or Thresholds(match=0.99, review=0.5, strong_link=0.9999),
        conflicts=(ConflictRule("valid_person_id"), ConflictRule("birth_year", tolerance=1)),
        derived=_DERIVED,
        # Rules that mostly pair relatives (parents, ward) would teach EM "same household", not "same person".
        training_rules=("person_id", "name+birth_date"),
    )
