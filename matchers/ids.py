"""Personal identification numbers (số định danh cá nhân / CCCD) and old ID card numbers (CMND).

The 12-digit number is: 3-digit code of the province where the birth was registered (the 63 pre-2025 provinces,
Circular 07/2016/TT-BCA) + 1 digit for century and sex (1900s: 0 male / 1 female, 2000s: 2 / 3, 2100s: 4 / 5,
2200s: 6 / 7, 2300s: 8 / 9) + the last two digits of the birth year + 6 random digits. There is no checksum, so
what can be checked is the structure, and that the encoded birth year and sex agree with the record's.

:func:`decode_personal_id` works on one value; :func:`id_columns` does the same on whole Polars columns with
expressions (every ID is distinct, so per-value Python would be the bottleneck of a nightly run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

import polars as pl

from matchers import units

__all__ = [
    "ID_ISSUES",
    "DecodedId",
    "decode_personal_id",
    "id_columns",
    "id_contradiction",
    "old_id_kind",
    "old_id_kind_expr",
]

ID_ISSUES: Final = ("length", "digits", "province", "century_sex")
_SEPARATORS: Final = re.compile(r"[\s.\-_/]")
_SEPARATORS_PATTERN: Final = r"[\s.\-_/]"


@dataclass(frozen=True, slots=True)
class DecodedId:
    """A personal ID taken apart. ``issue`` is None exactly when ``valid``."""

    original: str | None
    number: str | None  # the 12 digits, or None
    kind: str | None  # "CCCD" (12-digit personal ID), "CMND9" (a 9-digit old ID given instead), None
    valid: bool
    issue: str | None  # "length" / "digits" / "province" / "century_sex"
    province_code: str | None  # 3-digit prefix
    province_name: str | None  # the pre-2025 province of that prefix
    century: int | None  # 1900, 2000, ...
    sex: str | None  # "Nam" / "Nữ"
    birth_year: int | None
    contradiction: str | None  # "birth_year", "sex", "birth_year,sex" against the record


def _province_names() -> dict[str, str]:
    frame = units.legacy_provinces()
    return dict(zip(frame["id_prefix"].to_list(), frame["province_name"].to_list(), strict=True))


def _clean(value: str) -> str:
    return _SEPARATORS.sub("", value.strip())


def id_contradiction(
    id_birth_year: int | None, id_sex: str | None, birth_year: int | None, sex: str | None
) -> str | None:
    """Which of birth year and sex the ID contradicts in the record ("birth_year", "sex", "birth_year,sex")."""
    problems = []
    if id_birth_year is not None and birth_year is not None and id_birth_year != birth_year:
        problems.append("birth_year")
    if id_sex is not None and sex is not None and id_sex != sex:
        problems.append("sex")
    return ",".join(problems) or None


def decode_personal_id(
    s: str | None, *, birth_year: int | None = None, sex: str | None = None, as_of: date | None = None
) -> DecodedId:
    """Validate and decode a 12-digit personal ID; compare with the record's birth year and sex when given.

    Spaces, dots and dashes between digits are ignored. A 9-digit number is recognized as an old CMND given in
    place of the personal ID (kind ``CMND9``) and is not valid as a personal ID.
    """
    if s is None or not s.strip():
        return DecodedId(s, None, None, False, None, None, None, None, None, None, None)
    today = as_of or date.today()
    digits = _clean(s)
    if not digits.isdigit() or not digits.isascii():
        return DecodedId(s, None, None, False, "digits", None, None, None, None, None, None)
    if len(digits) != 12:
        kind = "CMND9" if len(digits) == 9 else None
        return DecodedId(s, None, kind, False, "length", None, None, None, None, None, None)
    prefix = digits[:3]
    names = _province_names()
    if prefix not in names:
        return DecodedId(s, digits, "CCCD", False, "province", prefix, None, None, None, None, None)
    code = int(digits[3])
    century = 1900 + 100 * (code // 2)
    id_sex = "Nam" if code % 2 == 0 else "Nữ"
    id_year = century + int(digits[4:6])
    if id_year > today.year:
        return DecodedId(s, digits, "CCCD", False, "century_sex", prefix, names[prefix], century, id_sex, id_year, None)
    return DecodedId(
        s,
        digits,
        "CCCD",
        True,
        None,
        prefix,
        names[prefix],
        century,
        id_sex,
        id_year,
        id_contradiction(id_year, id_sex, birth_year, sex),
    )


def old_id_kind(s: str | None) -> str | None:
    """ "CMND9" or "CMND12" for an old ID card number (separators ignored), else None."""
    if s is None:
        return None
    digits = _clean(s)
    if not digits.isdigit() or not digits.isascii():
        return None
    return {9: "CMND9", 12: "CMND12"}.get(len(digits))


def old_id_kind_expr(column: str) -> pl.Expr:
    """Expression form of :func:`old_id_kind`."""
    digits = pl.col(column).str.strip_chars().str.replace_all(_SEPARATORS_PATTERN, "")
    ok = digits.str.contains(r"^[0-9]+$")
    return (
        pl.when(ok & (digits.str.len_chars() == 9))
        .then(pl.lit("CMND9"))
        .when(ok & (digits.str.len_chars() == 12))
        .then(pl.lit("CMND12"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def id_columns(column: str, birth_year: pl.Expr, sex: pl.Expr, *, as_of: date | None = None) -> list[pl.Expr]:
    """Expressions for ``{column}_norm``, ``_valid``, ``_issue``, ``_province_code``, ``_sex``, ``_birth_year`` and
    ``_contradiction``, equal to :func:`decode_personal_id` value by value."""
    today = as_of or date.today()
    raw = pl.col(column)
    present = raw.is_not_null() & (raw.str.strip_chars() != "")
    digits = raw.str.strip_chars().str.replace_all(_SEPARATORS_PATTERN, "")
    all_digits = digits.str.contains(r"^[0-9]+$")
    length_ok = digits.str.len_chars() == 12
    prefix = digits.str.slice(0, 3)
    province_ok = prefix.is_in(sorted(units.id_province_codes()))
    code = digits.str.slice(3, 1).cast(pl.Int32, strict=False)
    century = 1900 + 100 * (code // 2)
    id_year = (century + digits.str.slice(4, 2).cast(pl.Int32, strict=False)).cast(pl.Int32)
    year_ok = id_year <= today.year
    structured = present & all_digits & length_ok
    decoded = structured & province_ok
    valid = decoded & year_ok
    issue = (
        pl.when(~present)
        .then(pl.lit(None, dtype=pl.String))
        .when(~all_digits)
        .then(pl.lit("digits"))
        .when(~length_ok)
        .then(pl.lit("length"))
        .when(~province_ok)
        .then(pl.lit("province"))
        .when(~year_ok)
        .then(pl.lit("century_sex"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    id_sex = pl.when(decoded).then(pl.when(code % 2 == 0).then(pl.lit("Nam")).otherwise(pl.lit("Nữ")))
    id_birth_year = pl.when(decoded).then(id_year)
    year_clash = valid & birth_year.is_not_null() & (id_year != birth_year)
    sex_clash = valid & sex.is_not_null() & (id_sex != sex)
    contradiction = (
        pl.when(year_clash & sex_clash)
        .then(pl.lit("birth_year,sex"))
        .when(year_clash)
        .then(pl.lit("birth_year"))
        .when(sex_clash)
        .then(pl.lit("sex"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return [
        pl.when(structured).then(digits).otherwise(pl.lit(None, dtype=pl.String)).alias(f"{column}_norm"),
        pl.when(present).then(valid).otherwise(pl.lit(False)).fill_null(False).alias(f"{column}_valid"),
        issue.alias(f"{column}_issue"),
        pl.when(structured).then(prefix).otherwise(pl.lit(None, dtype=pl.String)).alias(f"{column}_province_code"),
        id_sex.cast(pl.String).alias(f"{column}_sex"),
        id_birth_year.cast(pl.Int32).alias(f"{column}_birth_year"),
        contradiction.alias(f"{column}_contradiction"),
    ]
