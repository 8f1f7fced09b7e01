"""Frame-level normalization: a canonical person frame in, the same frame plus every normalized column out.

The columns added are exactly those of :mod:`normalize.columns` (the contract with matching and the checks). Work is
vectorized in Polars or done once per distinct value (names per distinct word, addresses per distinct
administrative part, dates per distinct text): a nightly extract repeats the same words, wards and dates many
thousand times.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from functools import partial
from typing import Final

import polars as pl

from normalize.addresses import ADDRESS_PART_COLUMNS, address_columns
from normalize.columns import ADDRESS_COLUMNS, DATE_COLUMNS, FULL_NAME_PARTS, NAME_COLUMNS, RELATIVE_NAME_COLUMNS
from normalize.dates import parse_date
from normalize.ids import id_columns, old_id_kind_expr
from normalize.names import name_columns
from normalize.text import ascii_key, distinct_codes, fix_legacy_encoding, legacy_flags, per_distinct_columns
from records.schema import CANONICAL_SCHEMA, MINIMAL_COLUMNS, SchemaError

__all__ = ["normalize_records", "normalize_sex", "normalized_schema", "summarize"]

# Columns never typed by people, so never legacy-encoded.
_NOT_TEXT: Final = frozenset({"record_id", "source", "source_file", "source_row"})
_SEX: Final = {
    "nam": "Nam",
    "m": "Nam",
    "male": "Nam",
    "trai": "Nam",
    "con trai": "Nam",
    "gioi tinh nam": "Nam",
    "nu": "Nữ",
    "f": "Nữ",
    "female": "Nữ",
    "gai": "Nữ",
    "con gai": "Nữ",
    "gioi tinh nu": "Nữ",
}
# Dates that lie in the future by nature.
_FUTURE_ALLOWED: Final = frozenset({"card_expiry_date"})


def normalize_sex(value: str | None) -> str | None:
    """ "Nam" / "Nữ" from any spelling (NAM, nu, Nữ, F, male, legacy-encoded "N÷"), else None."""
    if value is None:
        return None
    text, _ = fix_legacy_encoding(value)
    return _SEX.get(ascii_key(text))


def _with_canonical_columns(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [name for name in MINIMAL_COLUMNS if name not in frame.columns]
    if missing:
        raise SchemaError(f"thiếu cột bắt buộc / missing required columns: {', '.join(missing)}")
    return frame.with_columns(
        [
            pl.col(name).cast(pl.String) if name in frame.columns else pl.lit(None, dtype=pl.String).alias(name)
            for name in CANONICAL_SCHEMA
        ]
    )


_LOOKUP_SCHEMA: Final = pl.Schema(
    {"_raw": pl.String, "value": pl.Date, "precision": pl.String, "valid": pl.Boolean, "swapped": pl.String}
)


def _date_columns(values: pl.Series, column: str, as_of: date) -> pl.DataFrame:
    """Parse a date column once per distinct value; plain ``YYYY-MM-DD`` (what ingest writes) in bulk."""
    allow_future = column in _FUTURE_ALLOWED
    # Distinct texts by hash codes (a gather back, not a join of a million strings); a null stays null.
    all_distinct, (codes,) = distinct_codes([values])
    distinct = all_distinct.drop_nulls()
    value = pl.col("_raw").str.to_date("%Y-%m-%d", strict=False)
    fast = (
        pl.DataFrame({"_raw": distinct.filter(distinct.str.contains(r"^\d{4}-\d{2}-\d{2}$"))})
        .with_columns(value.alias("value"))
        .filter(pl.col("value").is_not_null() & pl.col("value").dt.year().is_between(1850, 2200))
    )
    day, month = pl.col("value").dt.day(), pl.col("value").dt.month()
    fast = fast.with_columns(
        pl.lit("day").alias("precision"),
        (pl.lit(allow_future) | (pl.col("value") <= as_of)).alias("valid"),
        pl.when((day <= 12) & (day != month))
        .then(pl.date(pl.col("value").dt.year(), day, month).dt.to_string("%Y-%m-%d"))
        .alias("swapped"),
    )
    rest = distinct.filter(~distinct.is_in(fast["_raw"])).to_list()
    parsed = [parse_date(v, as_of=as_of, allow_future=allow_future) for v in rest]
    slow = pl.DataFrame(
        {
            "_raw": rest,
            "value": [p.value for p in parsed],
            "precision": [p.precision for p in parsed],
            "valid": [p.valid for p in parsed],
            "swapped": [p.swapped.isoformat() if p.swapped else None for p in parsed],
        },
        schema=_LOOKUP_SCHEMA,
    )
    lookup = pl.concat([fast.select(list(_LOOKUP_SCHEMA)).cast(_LOOKUP_SCHEMA), slow])
    by_distinct = pl.DataFrame({"_raw": all_distinct}).join(lookup, on="_raw", how="left", maintain_order="left")
    return by_distinct.drop("_raw").gather(codes)


def _legacy_column_lists(flags: pl.DataFrame) -> pl.Series:
    """Per row, the names of the columns whose flag is set (in column order); an empty list for most rows.

    Legacy-font cells are rare: the lists are built for the flagged rows only, and every other row gets the one
    empty list by index.
    """
    flagged = flags.select(pl.any_horizontal(pl.all()).fill_null(False)).to_series()
    rows = flagged.arg_true()
    lists = (
        flags.gather(rows)
        .select(
            pl.concat_list(
                [pl.when(pl.col(c)).then(pl.lit(c)).otherwise(pl.lit(None, dtype=pl.String)) for c in flags.columns]
            ).list.drop_nulls()
        )
        .to_series()
    )
    table = pl.concat([pl.Series([[]], dtype=pl.List(pl.String)), lists])
    position = pl.select(pl.when(flagged).then(flagged.cum_sum()).otherwise(0).cast(pl.UInt32)).to_series()
    return table.gather(position)


def normalized_schema() -> pl.Schema:
    """Names and dtypes of the columns :func:`normalize_records` adds, in order."""
    empty = pl.DataFrame(schema=CANONICAL_SCHEMA)
    normalized = normalize_records(empty, as_of=date(2025, 7, 1))
    return pl.Schema({k: v for k, v in normalized.schema.items() if k not in CANONICAL_SCHEMA})


def normalize_records(frame: pl.DataFrame, *, as_of: date | None = None) -> pl.DataFrame:
    """Return ``frame`` (canonical person records) with every column of :mod:`normalize.columns` added.

    Originals are kept unchanged; missing optional canonical columns are added as nulls. ``as_of`` is the day
    "future" is judged against (default: today); the nightly run passes its night so reruns agree.
    """
    today = as_of or date.today()
    frame = _with_canonical_columns(frame)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dancu-addresses") as pool:
        # Addresses in a second thread: their resolution is Python (holding the GIL) while most of the rest is
        # Polars (releasing it), so on two cores the two overlap. The results do not depend on the timing.
        address_parts = pool.submit(
            per_distinct_columns, [frame[c] for c in ADDRESS_COLUMNS], partial(address_columns, already_distinct=True)
        )
        return _normalized(frame, today, address_parts)


def _normalized(frame: pl.DataFrame, today: date, address_work: Future[list[pl.DataFrame]]) -> pl.DataFrame:
    added: dict[str, pl.Series] = {}
    legacy: dict[str, pl.Series] = {}

    # Relatives' names only need their display form and key: only those are spread back to their rows.
    name_parts = per_distinct_columns(
        [frame[c] for c in NAME_COLUMNS],
        partial(name_columns, already_distinct=True),
        [None if c not in RELATIVE_NAME_COLUMNS else ["norm", "name_key", "legacy"] for c in NAME_COLUMNS],
    )
    for column, parts in zip(NAME_COLUMNS, name_parts, strict=True):
        legacy[column] = parts["legacy"]
        if column in RELATIVE_NAME_COLUMNS:
            added[f"{column}_norm"] = parts["norm"]
            added[f"{column}_key"] = parts["name_key"]
            continue
        added["full_name_norm"] = parts["norm"]
        for part in FULL_NAME_PARTS:
            added[part] = parts[part]

    sex_values = frame["sex"].drop_nulls().unique().to_list()
    added["sex_norm"] = frame["sex"].replace_strict(
        {v: normalize_sex(v) for v in sex_values}, default=None, return_dtype=pl.String
    )

    for column in DATE_COLUMNS:
        parsed = _date_columns(frame[column], column, today)
        added[f"{column}_value"] = parsed["value"]
        added[f"{column}_precision"] = parsed["precision"]
        added[f"{column}_valid"] = parsed["valid"]
        if column == "birth_date":
            value, precision = parsed["value"], parsed["precision"]
            added["birth_year"] = value.dt.year().cast(pl.Int32)
            added["birth_month"] = pl.select(
                pl.when(precision.is_in(["month", "day"])).then(value.dt.month()).cast(pl.Int32)
            ).to_series()
            added["birth_day"] = pl.select(pl.when(precision == "day").then(value.dt.day()).cast(pl.Int32)).to_series()
            added["birth_date_swapped"] = parsed["swapped"]

    ids = id_columns(
        frame.select("person_id").with_columns(birth_year=added["birth_year"], sex_norm=added["sex_norm"]),
        "person_id",
        "birth_year",
        "sex_norm",
        as_of=today,
    )
    for name in ids.columns:
        added[name] = ids[name]
    # An absent ID is not an invalid one: completeness checks count it, structure checks skip it.
    added["person_id_valid"] = ids.select(
        pl.when(pl.col("person_id_issue").is_null() & ~pl.col("person_id_valid"))
        .then(None)
        .otherwise(pl.col("person_id_valid"))
        .alias("v")
    )["v"]
    added["old_id_kind"] = frame.select(old_id_kind_expr("old_id_number").alias("old_id_kind"))["old_id_kind"]

    # The other text columns' legacy flags before waiting for the addresses: the address thread is the longer one.
    for column in CANONICAL_SCHEMA:
        if column in _NOT_TEXT or column in legacy or column in ADDRESS_COLUMNS:
            continue
        legacy[column] = legacy_flags(frame[column])

    address_parts = address_work.result()
    for column, parts in zip(ADDRESS_COLUMNS, address_parts, strict=True):
        legacy[column] = parts["legacy"]
        for part in ADDRESS_PART_COLUMNS:
            added[f"{column}_{part}"] = parts[part]
    added["legacy_encoded_columns"] = _legacy_column_lists(
        pl.DataFrame({c: legacy[c] for c in CANONICAL_SCHEMA if c in legacy})
    )

    return frame.with_columns([series.alias(name) for name, series in added.items()])


def summarize(normalized: pl.DataFrame) -> dict[str, int]:
    """Counts for run metadata and the console: rows, address statuses (over all address columns), legacy cells."""
    counts: dict[str, int] = {"rows": normalized.height}
    for status in ("resolved", "ambiguous", "unresolved"):
        counts[f"address_{status}"] = int(
            sum(int((normalized[f"{c}_status"] == status).sum()) for c in ADDRESS_COLUMNS)
        )
    counts["legacy_encoded_records"] = int((normalized["legacy_encoded_columns"].list.len() > 0).sum())
    counts["legacy_encoded_cells"] = int(normalized["legacy_encoded_columns"].list.len().sum())
    counts["person_id_invalid"] = int((normalized["person_id_valid"] == False).sum())  # noqa: E712
    return counts
