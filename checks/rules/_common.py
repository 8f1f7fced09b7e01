"""Expressions and helpers the rule modules share."""

from __future__ import annotations

from datetime import date

import polars as pl

from checks.context import CheckContext

HIT_COLUMNS = ("record_id", "source", "ward_code", "detail")


def hits(frame: pl.DataFrame | pl.LazyFrame, detail: pl.Expr, related: pl.Expr | None = None) -> pl.DataFrame:
    """Select a rule's raw hits from rows of ``frame`` (which must carry record_id, source, ward_code). A lazy
    ``frame`` (a rule's filters on the whole records) reads only the columns the hits and the filters use: filtering
    the eager records would copy every one of their hundred and more columns for the rows kept. Collected by the
    in-memory engine, the engine of the eager frames (the streaming engine panics on some filtered string views in
    polars 2.1)."""
    columns = [pl.col("record_id"), pl.col("source"), pl.col("ward_code"), detail.alias("detail")]
    if related is not None:
        columns.append(related.alias("related_record_ids"))
    return frame.lazy().select(columns).collect(engine="in-memory")


def present(column: str) -> pl.Expr:
    """True when a text column holds something other than blanks."""
    return pl.col(column).is_not_null() & (pl.col(column).str.strip_chars() != "")


def night(context: CheckContext) -> pl.Expr:
    return pl.lit(context.night, dtype=pl.Date)


def period_end(column: str) -> pl.Expr:
    """Last day a partial date can stand for ("1950" → 1950-12-31), so that comparisons never accuse on a guess."""
    value = pl.col(f"{column}_value")
    precision = pl.col(f"{column}_precision")
    return (
        pl.when(precision == "year")
        .then(pl.date(value.dt.year(), 12, 31))
        .when(precision == "month")
        .then(value.dt.month_end())
        .otherwise(value)
    )


def completed_years(born: pl.Expr, on: pl.Expr) -> pl.Expr:
    """Whole years between two dates (age in completed years)."""
    before_birthday = (on.dt.month() < born.dt.month()) | (
        (on.dt.month() == born.dt.month()) & (on.dt.day() < born.dt.day())
    )
    return (on.dt.year() - born.dt.year() - before_birthday.cast(pl.Int32)).cast(pl.Int32)


def surely_aged(at: pl.Expr) -> pl.Expr:
    """The smallest age a person can have on ``at`` given a possibly partial birth date."""
    return completed_years(period_end("birth_date"), at)


def alive() -> pl.Expr:
    """No death date, or only an impossible one (before birth): an impossible date proves no death, and the record
    stays subject to the rules for the living (its date has its own finding)."""
    no_death = pl.col("death_date").is_null() | (pl.col("death_date").str.strip_chars() == "")
    impossible = (period_end("death_date") < pl.col("birth_date_value")).fill_null(False)
    return no_death | impossible


def fmt_date(column: str) -> pl.Expr:
    """A date column shown the Vietnamese way (dd/mm/yyyy, or mm/yyyy / yyyy when partial)."""
    value = pl.col(f"{column}_value")
    precision = pl.col(f"{column}_precision")
    return (
        pl.when(precision == "year")
        .then(value.dt.strftime("%Y"))
        .when(precision == "month")
        .then(value.dt.strftime("%m/%Y"))
        .otherwise(value.dt.strftime("%d/%m/%Y"))
    )


def fmt_night(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def text(column: str) -> pl.Expr:
    """A text column for a detail message, with a visible placeholder when empty."""
    return pl.col(column).fill_null("(trống)")


def cards_issued_tonight(context: CheckContext) -> pl.DataFrame:
    """record_id (base) → cards: ids of tonight's card-extract records linked to that person (never empty lists)."""
    card_ids = (
        context.extract_records.lazy()
        .filter(pl.col("source") == "card")
        .select(pl.col("record_id").alias("extract_id"))
        .collect(engine="in-memory")
    )
    return (
        context.links.join(card_ids, on="extract_id", how="semi")
        .group_by("base_id")
        .agg(pl.col("extract_id").sort().alias("cards"))
        .rename({"base_id": "record_id"})
    )
