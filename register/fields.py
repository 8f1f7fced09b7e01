"""What a golden value *is* for each kind of canonical column: its display form, when two values are the same value,
which form of it is better, when it is usable, and which normalized columns travel with it.

All expressions work on a frame of normalized records (``normalize.columns``). Agreement expressions compare a
candidate with the person's anchor candidate, whose columns carry the ``_anchor`` suffix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import polars as pl

from normalize.columns import ADDRESS_COLUMNS, DATE_COLUMNS, FULL_NAME_PARTS, RELATIVE_NAME_COLUMNS
from normalize.text import ascii_key, normalize_text
from records.ethnicities import canonical_ethnicity, ethnicity_group_key

__all__ = [
    "ANCHOR",
    "DATE_PRECISION_RANK",
    "Kind",
    "carried_columns",
    "kind_of",
    "map_distinct",
    "possible_death",
    "prepare_kinds",
]

ANCHOR: Final = "_anchor"
DATE_PRECISION_RANK: Final = {"year": 1, "month": 2, "day": 3}
_ADDRESS_STATUS_RANK: Final = {"unresolved": 0, "ambiguous": 1, "resolved": 2}
_CODE_COLUMNS: Final = frozenset({"household_id", "card_number", "old_id_number"})


_HOUSE_PREFIX: Final = re.compile(r"^(?:so nha|nha so|so|sn|nha)\s+(?=\d)")


def street_key(street: str) -> str:
    """The ASCII key of the street part of an address, without the words typed before a house number ("Số 44 Phạm
    Đan", "SN 44 Phạm Đan" and "44 Pham Dan" are one street)."""
    return _HOUSE_PREFIX.sub("", ascii_key(street))


def map_distinct(values: pl.Series, function: Callable[[str], object], dtype: pl.DataType) -> pl.Series:
    """``function`` applied once per distinct non-null value (columns repeat heavily), spread back in order."""
    distinct = values.drop_nulls().unique().to_list()
    table = {value: function(value) for value in distinct}
    return values.replace_strict(table, default=None, return_dtype=dtype)


def _a(column: str) -> pl.Expr:
    return pl.col(f"{column}{ANCHOR}")


def _present(column: str) -> pl.Expr:
    return pl.col(column).is_not_null() & (pl.col(column).str.strip_chars() != "")


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of column. ``value`` is the golden display text; ``key`` the text two agreeing values share
    (None: agreement has its own expression); ``quality`` ranks forms of one value; ``valid`` marks usable ones."""

    name: str
    value: Callable[[str], pl.Expr]
    valid: Callable[[str], pl.Expr]
    quality: Callable[[str], pl.Expr]
    key: Callable[[str], pl.Expr] | None = None
    agree: Callable[[str], pl.Expr] | None = None

    def agrees(self, column: str) -> pl.Expr:
        """True when the candidate's value is the same value as the anchor's (possibly in another form)."""
        if self.agree is not None:
            return self.agree(column)
        assert self.key is not None
        own = self.key(column)
        anchor = pl.col(f"_key_{column}{ANCHOR}")
        return (own == anchor).fill_null(False)


# --- names ---------------------------------------------------------------------------------------------------------
def _name_norm(column: str) -> str:
    return "full_name_norm" if column == "full_name" else f"{column}_norm"


def _name_key(column: str) -> str:
    return "name_key" if column == "full_name" else f"{column}_key"


NAME = Kind(
    name="name",
    value=lambda c: pl.col(_name_norm(c)),
    valid=lambda c: _present(_name_norm(c)),
    # A form with diacritics beats its ASCII spelling.
    quality=lambda c: pl.col(_name_norm(c)).str.contains(r"[^\x00-\x7F]").fill_null(False).cast(pl.Int8),
    key=lambda c: pl.col(_name_key(c)),
)


# --- dates ---------------------------------------------------------------------------------------------------------
def _precision_rank(column: str, suffix: str = "") -> pl.Expr:
    return pl.col(f"{column}_precision{suffix}").replace_strict(DATE_PRECISION_RANK, default=0, return_dtype=pl.Int8)


def _date_display(column: str) -> pl.Expr:
    value, precision = pl.col(f"{column}_value"), pl.col(f"{column}_precision")
    return (
        pl.when(precision == "day")
        .then(value.dt.strftime("%Y-%m-%d"))
        .when(precision == "month")
        .then(value.dt.strftime("%Y-%m"))
        .when(precision == "year")
        .then(value.dt.strftime("%Y"))
        .otherwise(pl.col(column).str.strip_chars())
    )


def _date_agree(column: str) -> pl.Expr:
    """Two dates agree when they are equal down to the coarser precision of the two ("1950" agrees with
    "1950-03-02"); unparsed texts agree only when equal."""
    own, anchor = pl.col(f"{column}_value"), _a(f"{column}_value")
    rank = pl.min_horizontal(_precision_rank(column), _precision_rank(column, ANCHOR))
    parsed = (rank > 0) & own.is_not_null() & anchor.is_not_null()
    same = (
        (own.dt.year() == anchor.dt.year())
        & ((rank < 2) | (own.dt.month() == anchor.dt.month()))
        & ((rank < 3) | (own.dt.day() == anchor.dt.day()))
    )
    text_same = pl.col(column).str.strip_chars() == _a(column).str.strip_chars()
    return pl.when(parsed).then(same).otherwise(text_same).fill_null(False)


DATE = Kind(
    name="date",
    value=_date_display,
    valid=lambda c: pl.col(f"{c}_value").is_not_null() & pl.col(f"{c}_valid").fill_null(False),
    # A full date beats a month, a month beats a year.
    quality=lambda c: _precision_rank(c),
    agree=_date_agree,
)


# --- sex, personal ID, codes, free text ----------------------------------------------------------------------------
SEX = Kind(
    name="sex",
    value=lambda c: pl.col("sex_norm"),
    valid=lambda c: pl.col("sex_norm").is_not_null(),
    quality=lambda c: pl.lit(0, dtype=pl.Int8),
    key=lambda c: pl.col("sex_norm"),
)


def _person_id_value(column: str) -> pl.Expr:
    return pl.coalesce(pl.col("person_id_norm"), pl.col("person_id").str.strip_chars())


PERSON_ID = Kind(
    name="person_id",
    value=_person_id_value,
    valid=lambda c: pl.col("person_id_valid").fill_null(False),
    quality=lambda c: pl.col("person_id_valid").fill_null(False).cast(pl.Int8),
    key=_person_id_value,
)

CODE = Kind(
    name="code",
    value=lambda c: pl.col(c).str.strip_chars(),
    valid=lambda c: _present(c),
    quality=lambda c: pl.lit(0, dtype=pl.Int8),
    key=lambda c: pl.col(c).str.strip_chars(),
)

TEXT = Kind(
    name="text",
    value=lambda c: pl.col(f"_text_{c}"),
    valid=lambda c: _present(f"_text_{c}"),
    quality=lambda c: pl.lit(0, dtype=pl.Int8),
    key=lambda c: pl.col(f"_textkey_{c}"),
)

ETHNICITY = Kind(
    name="ethnicity",
    value=lambda c: pl.col("_ethnicity_value"),
    valid=lambda c: pl.col("_ethnicity_valid").fill_null(False),
    quality=lambda c: pl.col("_ethnicity_valid").fill_null(False).cast(pl.Int8),
    key=lambda c: pl.col("_ethnicity_key"),
)


# --- addresses -----------------------------------------------------------------------------------------------------
def _address_places(column: str, suffix: str = "") -> pl.Expr:
    """The current wards an address may designate: its ward, or the candidate wards of a split old ward."""
    ward = pl.col(f"{column}_ward_code{suffix}")
    candidates = pl.col(f"{column}_candidates{suffix}")
    return (
        pl.when(ward.is_not_null())
        .then(pl.concat_list(ward))
        .otherwise(candidates.fill_null(pl.lit([], dtype=pl.List(pl.String))))
    )


def _address_agree(column: str) -> pl.Expr:
    """Same place: the same text, or the same street (or no street on one side) in a ward both may designate.
    Streets compare on their ASCII key: "Xom 11" and "Xóm 11" are one street typed two ways."""
    street = pl.col(f"_streetkey_{column}")
    anchor_street = _a(f"_streetkey_{column}")
    shared = _address_places(column).list.set_intersection(_address_places(column, ANCHOR)).list.len() > 0
    same_street = (street == anchor_street) | street.is_null() | anchor_street.is_null()
    same_text = pl.col(f"{column}_norm") == _a(f"{column}_norm")
    return (same_text | (shared & same_street)).fill_null(False)


ADDRESS = Kind(
    name="address",
    value=lambda c: pl.col(f"{c}_norm"),
    valid=lambda c: pl.col(f"{c}_status").is_in(["resolved", "ambiguous"]).fill_null(False),
    # A resolved ward beats a split old ward, which beats an unknown place; a street beats none.
    quality=lambda c: (
        pl.col(f"{c}_status").replace_strict(_ADDRESS_STATUS_RANK, default=0, return_dtype=pl.Int8) * 2
        + pl.col(f"{c}_street").is_not_null().cast(pl.Int8)
    ),
    agree=_address_agree,
)


def kind_of(column: str) -> Kind:
    if column in ("full_name", *RELATIVE_NAME_COLUMNS):
        return NAME
    if column in DATE_COLUMNS:
        return DATE
    if column in ADDRESS_COLUMNS:
        return ADDRESS
    if column == "sex":
        return SEX
    if column == "person_id":
        return PERSON_ID
    if column == "ethnicity":
        return ETHNICITY
    if column in _CODE_COLUMNS:
        return CODE
    return TEXT


def carried_columns(column: str) -> tuple[str, ...]:
    """The normalized columns (``normalize.columns``) that describe ``column`` and travel with its golden value."""
    if column == "full_name":
        return ("full_name_norm", *FULL_NAME_PARTS)
    if column in RELATIVE_NAME_COLUMNS:
        return (f"{column}_norm", f"{column}_key")
    if column == "sex":
        return ("sex_norm",)
    if column in DATE_COLUMNS:
        parts: tuple[str, ...] = (f"{column}_value", f"{column}_precision", f"{column}_valid")
        if column == "birth_date":
            parts += ("birth_year", "birth_month", "birth_day", "birth_date_swapped")
        return parts
    if column == "person_id":
        return (
            "person_id_norm",
            "person_id_valid",
            "person_id_issue",
            "person_id_province_code",
            "person_id_sex",
            "person_id_birth_year",
        )
    if column == "old_id_number":
        return ("old_id_kind",)
    if column in ADDRESS_COLUMNS:
        return tuple(
            f"{column}_{part}"
            for part in ("norm", "street", "ward_code", "province_code", "legacy_ward_code", "status", "candidates")
        )
    return ()


def prepare_kinds(records: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    """Add the helper columns the kinds need that the normalizer does not provide (display and key of free text,
    the official name of an ethnic group), computed once per distinct value."""
    added: list[pl.Series] = []
    for column in columns:
        if kind_of(column) is TEXT and column in records.columns:
            display = map_distinct(records[column], normalize_text, pl.String())
            added.append(display.alias(f"_text_{column}"))
            added.append(map_distinct(display, ascii_key, pl.String()).alias(f"_textkey_{column}"))
    for column in columns:
        if kind_of(column) is ADDRESS and f"{column}_street" in records.columns:
            added.append(
                map_distinct(records[f"{column}_street"], street_key, pl.String()).alias(f"_streetkey_{column}")
            )
    if "ethnicity" in columns and "ethnicity" in records.columns:
        values = records["ethnicity"]

        def official(text: str) -> str:
            group = canonical_ethnicity(text)
            return group.name if group else normalize_text(text)

        added.append(map_distinct(values, official, pl.String()).alias("_ethnicity_value"))
        added.append(map_distinct(values, ethnicity_group_key, pl.String()).alias("_ethnicity_key"))
        added.append(
            map_distinct(values, lambda t: canonical_ethnicity(t) is not None, pl.Boolean()).alias("_ethnicity_valid")
        )
        added.append(
            map_distinct(values, lambda t: getattr(canonical_ethnicity(t), "code", None), pl.String()).alias(
                "_ethnicity_code"
            )
        )
    return records.with_columns(added) if added else records


def possible_death(suffix: str = "") -> pl.Expr:
    """A death date that can be true: valid, and not before the earliest day the birth date can stand for (an
    impossible date proves no death, as in the quality checks)."""
    death = pl.col(f"death_date_value{suffix}")
    precision = pl.col(f"death_date_precision{suffix}")
    latest = (
        pl.when(precision == "year")
        .then(pl.date(death.dt.year(), 12, 31))
        .when(precision == "month")
        .then(death.dt.month_end())
        .otherwise(death)
    )
    born = pl.col(f"birth_date_value{suffix}")
    return (
        death.is_not_null()
        & pl.col(f"death_date_valid{suffix}").fill_null(False)
        & (born.is_null() | (latest >= born)).fill_null(True)
    )
