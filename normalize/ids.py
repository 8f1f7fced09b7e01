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
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final

import polars as pl

from normalize import units
from normalize.text import replaced_at

__all__ = [
    "FORMAT_CHARACTERS",
    "ID_ISSUES",
    "DecodedId",
    "clean_id",
    "decode_personal_id",
    "id_columns",
    "id_contradiction",
    "id_digits",
    "old_id_kind",
    "old_id_kind_expr",
]

ID_ISSUES: Final = ("length", "digits", "province", "century_sex")
_SEPARATORS: Final = re.compile(r"[\s.\-_/]")
_SEPARATORS_PATTERN: Final = r"[\s.\-_/]"
FORMAT_CHARACTERS: Final = (
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb]"
)
"""Invisible format characters (Unicode category Cf: BOM, zero-width spaces and joiners, LRM/RLM and the other
direction marks, soft hyphen) as one character class that Python's ``re`` and Polars' regex read alike. Copy and
paste and concatenated exports leave them inside identifiers, where they never belong."""
_FORMAT: Final = re.compile(FORMAT_CHARACTERS)
# One dot is a decimal point (a number that went through a spreadsheet or a float column: "37304203655.0");
# several dots are digit-group separators ("001.090.012.345"). An exponent is a number in scientific notation.
_DECIMAL_PATTERN: Final = r"^[0-9]+\.[0-9]*$|^[0-9]+(?:\.[0-9]+)?[eE]\+?[0-9]+$"
_DECIMAL: Final = re.compile(_DECIMAL_PATTERN)
# A number loses the leading zeros of an identifier. Every personal ID starts with 0 (province codes 001-096, so
# at most two leading zeros): an integer of 10-11 digits is a 12-digit number written as a number; for a CMND
# (9 digits, province codes from 01) an integer of 8 digits.
PAD_FROM: Final = {12: (10, 11), 9: (8,)}
# Digits written as text without their first zeros (a spreadsheet column made numeric, then saved as CSV:
# "37304203655") are a 12-digit personal ID too: every one starts with 0, and a digit dropped anywhere else leaves
# that 0 in place, so a text of 10-11 digits not starting with 0 can only have lost its zeros. Not for a CMND: its
# province codes run from 01 to 9x, so 8 digits may as well be a 9-digit number missing some other digit.
TEXT_PAD_TO: Final = 12


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


def _visible(value: str) -> str:
    """NFKC (full-width digits ０-９ become 0-9) without format characters."""
    return unicodedata.normalize("NFKC", _FORMAT.sub("", value))


def clean_id(raw: str, lengths: tuple[int, ...] = (12,)) -> tuple[str, str | None]:
    """The digits of an identifier as typed or exported, and what is wrong with them (None, "digits", "length").

    Invisible characters and full-width digits are undone and separators (spaces, dots, dashes) removed. A value in
    number form ("37304203655.0", "3.7304203655E+10") is read as a number: it must be a whole number, and its lost
    leading zeros are put back only when its length leaves no doubt (see ``PAD_FROM``); a fraction is never
    rounded or stripped into digits. ``lengths`` are the valid lengths (12 for a personal ID, 9 or 12 for a CMND).
    """
    text = _visible(raw).strip()
    if _DECIMAL.match(text):
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text, "digits"
        if number != number.to_integral_value():
            return text, "digits"
        digits = str(int(number))
        mantissa = re.split(r"[eE]", text)[0].replace(".", "").lstrip("0")
        if len(mantissa) < len(digits.rstrip("0")) or ("e" in text.lower() and len(mantissa) < len(digits)):
            return text, "digits"  # "3.73042E+10": the exponent added zeros that are not the identifier's digits
        return _zeros_restored(digits, lengths, lengths)
    digits = _SEPARATORS.sub("", text)
    if not digits.isdigit() or not digits.isascii():
        return digits, "digits"
    return _zeros_restored(digits, lengths, tuple(n for n in lengths if n == TEXT_PAD_TO))


def _zeros_restored(digits: str, lengths: tuple[int, ...], pad_to: tuple[int, ...]) -> tuple[str, str | None]:
    """The digits, their lost leading zeros put back (to a length of ``pad_to``) when the length leaves no doubt,
    and "length" if the length is still wrong."""
    if len(digits) in lengths:
        return digits, None
    if not digits.startswith("0"):
        for length in pad_to:
            if len(digits) in PAD_FROM.get(length, ()):
                return digits.zfill(length), None
    return digits, "length"


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
    if s is None or not _visible(s).strip():
        return DecodedId(s, None, None, False, None, None, None, None, None, None, None)
    today = as_of or date.today()
    digits, problem = clean_id(s)
    if problem == "digits":
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
    if s is None or not _visible(s).strip():
        return None
    digits, problem = clean_id(s, (9, 12))
    if problem is not None:
        return None
    return {9: "CMND9", 12: "CMND12"}.get(len(digits))


def old_id_kind_expr(column: str) -> pl.Expr:
    """Expression form of :func:`old_id_kind`."""
    return pl.col(column).map_batches(_old_id_kind_series, return_dtype=pl.String)


def _old_id_kind_series(values: pl.Series) -> pl.Series:
    parts = id_digits(values, (9, 12))
    return parts.select(
        pl.when(pl.col("problem").is_null() & (pl.col("digits").str.len_chars() == 9))
        .then(pl.lit("CMND9"))
        .when(pl.col("problem").is_null() & (pl.col("digits").str.len_chars() == 12))
        .then(pl.lit("CMND12"))
        .otherwise(pl.lit(None, dtype=pl.String))
    ).to_series()


def id_digits(values: pl.Series, lengths: tuple[int, ...] = (12,)) -> pl.DataFrame:
    """Vectorized :func:`clean_id`: columns ``digits`` and ``problem``, both null for an absent value (null, blank or
    only invisible characters).

    Values in number form are rare (a float column, an Excel export) and go through :func:`clean_id` once per
    distinct value; every other value is cleaned with expressions.
    """
    text = values.cast(pl.String)
    # Format characters and NFKC only concern non-ASCII text; most IDs are plain digits.
    wide = text.str.contains(r"[^\x00-\x7f]").fill_null(False).arg_true()
    if wide.len():
        text = replaced_at(text, wide, text.gather(wide).str.replace_all(FORMAT_CHARACTERS, "").str.normalize("NFKC"))
    text = text.str.strip_chars()
    text = pl.select(pl.when(text != "").then(text)).to_series().alias("_text")
    decimal = text.str.contains(_DECIMAL_PATTERN).fill_null(False)
    stripped = pl.col("_text").str.replace_all(_SEPARATORS_PATTERN, "")
    only_digits = stripped.str.contains(r"^[0-9]+$")
    length = stripped.str.len_chars()
    # Lost leading zeros put back, as clean_id does (TEXT_PAD_TO).
    digits: pl.Expr = stripped
    for target in reversed([n for n in lengths if n == TEXT_PAD_TO]):
        pad = PAD_FROM.get(target, ())
        if pad:
            lost_zeros = only_digits & ~length.is_in(list(lengths)) & length.is_in(list(pad))
            digits = (
                pl.when(lost_zeros & ~stripped.str.starts_with("0")).then(stripped.str.zfill(target)).otherwise(digits)
            )
    plain = pl.DataFrame({"_text": text}).select(
        pl.when(pl.col("_text").is_not_null()).then(digits).alias("digits"),
        pl.when(pl.col("_text").is_null())
        .then(None)
        .when(~only_digits)
        .then(pl.lit("digits"))
        .when(~digits.str.len_chars().is_in(list(lengths)))
        .then(pl.lit("length"))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("problem"),
    )
    if not decimal.any():
        return plain
    numbers = text.filter(decimal).unique().to_list()
    cleaned = {value: clean_id(value, lengths) for value in numbers}
    as_number = pl.DataFrame(
        {
            "_text": numbers,
            "_digits": [cleaned[v][0] for v in numbers],
            "_problem": [cleaned[v][1] for v in numbers],
        },
        schema={"_text": pl.String, "_digits": pl.String, "_problem": pl.String},
    )
    joined = pl.DataFrame({"_text": text}).join(as_number, on="_text", how="left", maintain_order="left")
    return pl.DataFrame(
        {
            "digits": pl.select(pl.when(decimal).then(joined["_digits"]).otherwise(plain["digits"])).to_series(),
            "problem": pl.select(pl.when(decimal).then(joined["_problem"]).otherwise(plain["problem"])).to_series(),
        }
    )


def id_columns(
    frame: pl.DataFrame, column: str, birth_year: str, sex: str, *, as_of: date | None = None
) -> pl.DataFrame:
    """Columns ``{column}_norm``, ``_valid``, ``_issue``, ``_province_code``, ``_sex``, ``_birth_year`` and
    ``_contradiction`` for ``frame[column]``, against the record's ``birth_year`` (Int32) and ``sex`` ("Nam"/"Nữ")
    columns; equal to :func:`decode_personal_id` value by value, except that ``_valid`` is False for an absent ID.

    Computed in stages so that each string operation runs once per row (every ID is distinct).
    """
    today = as_of or date.today()
    cleaned = id_digits(frame[column])
    stage = frame.select(
        pl.col(birth_year).alias("_by"),
        pl.col(sex).alias("_sx"),
        cleaned["digits"].is_not_null().alias("_present"),
        cleaned["digits"].alias("_digits"),
        (cleaned["digits"].is_not_null() & (cleaned["problem"].fill_null("") != "digits")).alias("_all_digits"),
    ).with_columns(
        (pl.col("_digits").str.len_chars() == 12).fill_null(False).alias("_length_ok"),
        pl.col("_digits").str.slice(0, 3).alias("_prefix"),
        pl.col("_digits").str.slice(3, 1).cast(pl.Int32, strict=False).alias("_code"),
        pl.col("_digits").str.slice(4, 2).cast(pl.Int32, strict=False).alias("_yy"),
    )
    stage = stage.with_columns(
        pl.col("_prefix").is_in(sorted(units.id_province_codes())).fill_null(False).alias("_province_ok"),
        (1900 + 100 * (pl.col("_code") // 2) + pl.col("_yy")).cast(pl.Int32).alias("_year"),
        (pl.col("_present") & pl.col("_all_digits") & pl.col("_length_ok")).alias("_structured"),
    ).with_columns(
        (pl.col("_structured") & pl.col("_province_ok")).alias("_decoded"),
        (pl.col("_year") <= today.year).fill_null(False).alias("_year_ok"),
    )
    stage = stage.with_columns(
        (pl.col("_decoded") & pl.col("_year_ok")).alias("_valid"),
        pl.when(pl.col("_decoded"))
        .then(pl.when(pl.col("_code") % 2 == 0).then(pl.lit("Nam")).otherwise(pl.lit("Nữ")))
        .alias("_id_sex"),
    )
    year_clash = pl.col("_valid") & pl.col("_by").is_not_null() & (pl.col("_year") != pl.col("_by"))
    sex_clash = pl.col("_valid") & pl.col("_sx").is_not_null() & (pl.col("_id_sex") != pl.col("_sx"))
    none = pl.lit(None, dtype=pl.String)
    return stage.select(
        pl.when(pl.col("_structured")).then(pl.col("_digits")).otherwise(none).alias(f"{column}_norm"),
        pl.col("_valid").alias(f"{column}_valid"),
        pl.when(~pl.col("_present"))
        .then(none)
        .when(~pl.col("_all_digits"))
        .then(pl.lit("digits"))
        .when(~pl.col("_length_ok"))
        .then(pl.lit("length"))
        .when(~pl.col("_province_ok"))
        .then(pl.lit("province"))
        .when(~pl.col("_year_ok"))
        .then(pl.lit("century_sex"))
        .otherwise(none)
        .alias(f"{column}_issue"),
        pl.when(pl.col("_structured")).then(pl.col("_prefix")).otherwise(none).alias(f"{column}_province_code"),
        pl.col("_id_sex").cast(pl.String).alias(f"{column}_sex"),
        pl.when(pl.col("_decoded")).then(pl.col("_year")).cast(pl.Int32).alias(f"{column}_birth_year"),
        pl.when(year_clash & sex_clash)
        .then(pl.lit("birth_year,sex"))
        .when(year_clash)
        .then(pl.lit("birth_year"))
        .when(sex_clash)
        .then(pl.lit("sex"))
        .otherwise(none)
        .alias(f"{column}_contradiction"),
    )
