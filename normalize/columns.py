"""Names of the columns the normalizer adds beside the canonical ones (the canonical originals are kept).

This is the contract between normalization, matching and the quality checks: they refer to these names only.

Names (``full_name``; and ``father_name``, ``mother_name``, ``spouse_name`` with the ``{column}_`` prefix):
    full_name_norm      display form: NFC, one tone-placement style, Đ not Ð, title case          String
    family_name, middle_name, given_name  parts of full_name_norm (middle may be "")              String
    name_key            ASCII key of the whole name, lower case, single spaces ("nguyen van an")     String
    family_key, middle_key, given_key     ASCII keys of the parts                                   String
    name_key_no_middle  family + given ASCII key, survives a dropped/added middle name               String
    name_key_glued      name_key without spaces: "Sa Ri"/"Sari", "H'Hen"/"Hhen", "Ê Ban"/"Êban" key alike  String
    name_prefix         Y / H' / K' (Ê Đê, Gia Rai, M'Nông), Néang / Chau (Khmer), else null           String
    name_convention     "family_first" / "clan_last" (prefix, given, clan) / "prefix_first"           String
    name_reordered      the name was written in another order and put back (An Nguyễn, Niê H'Hen)      Boolean
    name_remark         remarks and titles cut off the name ("chết", "Ông"), "; "-joined, else null     String
    {column}_norm, {column}_key           for father_name / mother_name / spouse_name               String
Sex:
    sex_norm            "Nam" / "Nữ" / null                                                          String
Dates (``birth_date``, ``death_date``, ``card_issue_date``, ``card_expiry_date``, ``registration_date``,
``last_verified_date``):
    {column}_value      the date (first day of month/year when partial)                               Date
    {column}_precision  "day" / "month" / "year" / null                                               String
    {column}_valid      False when present but impossible (Feb 30, future birth, ...)                 Boolean
    birth_year, birth_month, birth_day    parts of the birth date (null when unknown)                Int32
    birth_date_swapped  YYYY-MM-DD with day and month swapped when that is a valid date, else null    String
Personal ID (``person_id``):
    person_id_norm      the 12 digits or null                                                         String
    person_id_valid     structure valid (length, digits, province code, century/sex digit)           Boolean
    person_id_issue     why not valid: "length" / "digits" / "province" / "century_sex" / null        String
    person_id_province_code   3-digit province prefix                                                 String
    person_id_sex       sex encoded by the century/sex digit ("Nam"/"Nữ")                             String
    person_id_birth_year      birth year encoded by the ID (century digit + 2 digits)                 Int32
    person_id_contradiction   "birth_year", "sex", "birth_year,sex" or null (against the record)      String
    old_id_kind         "CMND9" / "CMND12" / null for old_id_number                                   String
Addresses (``permanent_address``, ``current_address``, ``hometown``, ``birth_place``):
    {column}_norm           normalized display text                                                   String
    {column}_street         house number and street part, if any                                      String
    {column}_ward_code      current (post-2025) ward code when resolved to exactly one                String
    {column}_province_code  current (post-2025) province code when known                              String
    {column}_legacy_ward_code   pre-2025 ward code when the text was in the old form                  String
    {column}_status         "resolved" / "ambiguous" / "unresolved" / null when the text is empty     String
    {column}_candidates     all candidate current ward codes (several when an old ward was split)     List(String)
Text quality:
    legacy_encoded_columns  canonical columns converted from TCVN3/VNI legacy encodings               List(String)
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ADDRESS_COLUMNS",
    "ADDRESS_STATUSES",
    "DATE_COLUMNS",
    "FULL_NAME_PARTS",
    "NAME_COLUMNS",
    "RELATIVE_NAME_COLUMNS",
]

NAME_COLUMNS: Final = ("full_name", "father_name", "mother_name", "spouse_name")
RELATIVE_NAME_COLUMNS: Final = ("father_name", "mother_name", "spouse_name")
DATE_COLUMNS: Final = (
    "birth_date",
    "death_date",
    "card_issue_date",
    "card_expiry_date",
    "registration_date",
    "last_verified_date",
)
ADDRESS_COLUMNS: Final = ("permanent_address", "current_address", "hometown", "birth_place")
ADDRESS_STATUSES: Final = ("resolved", "ambiguous", "unresolved")
FULL_NAME_PARTS: Final = (
    "family_name",
    "middle_name",
    "given_name",
    "name_key",
    "family_key",
    "middle_key",
    "given_key",
    "name_key_no_middle",
    "name_key_glued",
    "name_prefix",
    "name_convention",
    "name_reordered",
    "name_remark",
)
"""The columns ``full_name`` is split and keyed into (beside ``full_name_norm``)."""


def _normalized_columns() -> tuple[str, ...]:
    names = ["full_name_norm", *FULL_NAME_PARTS, "sex_norm"]
    for column in RELATIVE_NAME_COLUMNS:
        names += [f"{column}_norm", f"{column}_key"]
    for column in DATE_COLUMNS:
        names += [f"{column}_value", f"{column}_precision", f"{column}_valid"]
    names += ["birth_year", "birth_month", "birth_day", "birth_date_swapped"]
    names += [
        "person_id_norm",
        "person_id_valid",
        "person_id_issue",
        "person_id_province_code",
        "person_id_sex",
        "person_id_birth_year",
        "person_id_contradiction",
        "old_id_kind",
    ]
    for column in ADDRESS_COLUMNS:
        names += [
            f"{column}_{suffix}"
            for suffix in ("norm", "street", "ward_code", "province_code", "legacy_ward_code", "status", "candidates")
        ]
    names.append("legacy_encoded_columns")
    return tuple(names)


NORMALIZED_COLUMNS: Final = _normalized_columns()
"""Every column the normalizer adds, in the order documented above."""
